# badwrite.S - hostile guest: WRITE a buffer that runs past the end of RAM
# (DS:SI = 0xFFFF:0xFFFF, 64 KiB long, up to linear 0x10FFEE). mini-kvm must
# refuse it with an error and stop the guest, never read outside RAM.
    .include "lib.inc"

main:
    PRINT msg
    mov $0xFFFF, %ax
    mov %ax, %ds
    mov $0xFFFF, %si
    mov $0xFFFF, %cx
    HCALL HC_WRITE
    mov %cs, %ax            # never reached
    mov %ax, %ds
    PRINT msg_after
    EXIT

msg:       .asciz "writing a buffer outside RAM\n"
msg_after: .asciz "the bad WRITE returned\n"
