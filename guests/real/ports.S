# ports.S - what a port read returns when a device answers and when none does:
# port 0xE9 read as a byte (the debug console answers 0xE9 = 233), the same
# port read as a word (wider than the device's one-port range, so no device
# claims it: all ones, 65535), and port 0x80 (nothing there for a flat
# guest: 255). Run it with --trace to see `dev=debugcon` and `unclaimed`.
    .include "lib.inc"

main:
    PRINT msg_byte
    in $0xE9, %al
    movzbl %al, %eax
    call print_u32
    PRINT msg_word
    in $0xE9, %ax
    movzwl %ax, %eax
    call print_u32
    PRINT msg_80
    in $0x80, %al
    movzbl %al, %eax
    call print_u32
    call newline
    EXIT

msg_byte: .asciz "inb 0xE9: "
msg_word: .asciz "\ninw 0xE9: "
msg_80:   .asciz "\ninb 0x80: "
