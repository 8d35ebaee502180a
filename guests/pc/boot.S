# boot.S - sector 0 of the conformance guest's disk (pc-test.img): what a legacy
# boot sector does, from real mode at 0000:7C00 to the 32-bit kernel at 0x10000.
#
# No BIOS call anywhere (mini-kvm has no BIOS, and xv6's boot sector uses none):
# COM1 is programmed like xv6's uartinit and polled; A20 is opened through the
# 8042 output port (0xD1, 0xDF) and port 0x92, then checked through the 1 MiB
# wrap-around; the kernel is read from IDE drive 0 by POLLING (LBA 1, one
# multi-sector READ SECTORS, rep insw per sector); then a GDT, CR0.PE and a far
# jump into 32-bit code. Any failure prints "boot: FAIL <what>" and ends the
# guest through the hypercall port (EXIT_CODE 2; 3 when the kernel's last word
# is wrong, found in 32-bit code), so a test never hangs here.

    .set COM1,       0x3F8
    .set IDE_STATUS, 0x1F7
    .set ST_BSY,     0x80
    .set ST_DRQ,     0x08
    .set ST_ERR,     0x01
    .set SPIN,       20000      # bound of every polling loop

    .code16
    .section .boot, "ax"
    .globl boot_start
boot_start:
    cli                         # no IVT, no BIOS: nothing may interrupt us
    cld
    xor %ax, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov $0x7C00, %sp
    mov %dl, boot_drive         # the "BIOS" boot drive: 0x80 = first disk

    # COM1 exactly as xv6 programs it: FIFO off, DLAB, 9600 baud, 8N1,
    # MCR = 0, receive interrupt on. Table of (port low byte, value) pairs.
    mov $uart_regs, %si
    mov $COM1 >> 8, %dh
1:  lodsb
    test %al, %al
    jz 2f
    mov %al, %dl
    lodsb
    out %al, %dx
    jmp 1b
2:  mov $msg_start, %si       # (the kernel prints DL, saved at boot_drive)
    call puts

    # A20 through the keyboard controller: wait until its input buffer is
    # empty (status bit 1), command 0xD1 "write output port", data 0xDF.
    call kbd_wait
    mov $0xD1, %al
    out %al, $0x64
    call kbd_wait
    mov $0xDF, %al
    out %al, $0x60
    call kbd_wait
    # ... and the "fast A20" port: set bit 1, never bit 0 (that resets the CPU).
    in $0x92, %al
    or $2, %al
    and $0xFE, %al
    out %al, $0x92
    # With A20 off, FFFF:0510 (= 0x100500) is 0000:0500 again.
    mov $0xFFFF, %ax
    mov %ax, %fs
    movb $0x00, 0x500
    movb $0xA5, %fs:0x510
    mov $fail_a20, %si
    cmpb $0xA5, 0x500
    je fail
    mov $msg_a20, %si
    call puts

    # The kernel: LBA 1 .. kernel_sectors from drive 0 by polling, into 0x10000.
    mov $IDE_STATUS - 1, %dx
    mov $0xE0, %al              # drive 0, LBA mode, LBA 24-27 = 0
    out %al, %dx
    call ide_ready
    mov $0x1F2, %dx
    mov $kernel_sectors, %bp
    mov $kernel_sectors, %ax
    out %al, %dx                # sector count
    inc %dx
    mov $1, %al
    out %al, %dx                # LBA 0-7
    inc %dx
    xor %al, %al
    out %al, %dx                # LBA 8-15
    inc %dx
    out %al, %dx                # LBA 16-23
    inc %dx
    inc %dx
    mov $0x20, %al              # READ SECTORS
    out %al, %dx
    mov $0x10000 >> 4, %ax     # the kernel is linked at 0x10000 (pc.ld)
    mov %ax, %es
3:  call ide_drq                # one DRQ per sector
    xor %di, %di
    mov $256, %cx
    mov $0x1F0, %dx
    rep insw
    mov %es, %ax
    add $512 >> 4, %ax          # next sector: next 512 bytes
    mov %ax, %es
    dec %bp
    jnz 3b
    mov $msg_read, %si
    call puts

    mov $msg_pm, %si
    call puts
    lgdt gdt_desc
    mov %cr0, %eax
    or $1, %eax                 # CR0.PE
    mov %eax, %cr0
    ljmp $0x08, $pm32

# Wait until the drive has a sector for us: BSY, DRQ, ERR = 0, 1, 0.
ide_drq:
    mov $ST_DRQ, %bl
    mov $ST_BSY | ST_DRQ | ST_ERR, %ah
    jmp 1f
# Wait until the drive is ready: BSY clear and DRDY set (xv6's waitdisk).
ide_ready:
    mov $0x40, %bl
    mov $0xC0, %ah
1:  mov $IDE_STATUS, %dx
    mov $fail_ide, %si
    jmp poll

# Wait for the 8042's input buffer to be empty (status bit 1 clear).
kbd_wait:
    mov $0x64, %dx
    mov $2, %ah
    xor %bl, %bl
    mov $fail_8042, %si
# Poll port DX until (value & AH) == BL, at most SPIN times; else fail(SI).
poll:
    mov $SPIN, %cx
1:  in %dx, %al
    and %ah, %al
    cmp %bl, %al
    loopne 1b
    jne fail
    ret

fail:
    push %si
    mov $msg_fail, %si
    call puts
    pop %si
    call puts
    call newline
    mov $HC_EXIT_CODE, %al
    mov $2, %bl
    mov $HC_PORT, %dx
    out %al, %dx
1:  hlt
    jmp 1b

newline:
    mov $'\n', %al
# Print AL on COM1: wait (bounded, like xv6) for THR empty, LSR bit 5.
putc:
    push %dx
    push %cx
    mov %al, %ah
    mov $COM1 + 5, %dx
    mov $128, %cx
1:  in %dx, %al
    test $0x20, %al
    loopz 1b
    mov $COM1, %dx
    mov %ah, %al
    out %al, %dx
    pop %cx
    pop %dx
    ret

puts:
    lodsb
    test %al, %al
    jz 1f
    call putc
    jmp puts
1:  ret

    .code32
pm32:
    mov $0x10, %ax              # flat data segment
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs
    mov $0x7C00, %esp
    cmpl $0x4B435031, kernel_magic  # the kernel's last word (pc.ld): all read?
    je kernel_entry
    mov $HC_EXIT_CODE, %al      # no: end with status 3 (COM1 is 16-bit code)
    mov $3, %bl
    mov $HC_PORT, %dx
    out %al, %dx
    hlt

    .p2align 3
gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF    # 0x08: code, base 0, limit 4 GiB, 32-bit
    .quad 0x00CF92000000FFFF    # 0x10: data, base 0, limit 4 GiB
gdt_desc:
    .word gdt_desc - gdt - 1
    .long gdt

uart_regs:
    .byte 0xFA, 0x00, 0xFB, 0x80, 0xF8, 12, 0xF9, 0, 0xFB, 0x03, 0xFC, 0, 0xF9, 0x01, 0
msg_start:  .asciz "boot: real mode at 0x7c00\n"
msg_a20:    .asciz "boot: A20 on\n"
msg_read:   .asciz "boot: kernel read by polling\n"
msg_pm:     .asciz "boot: protected mode\n"
msg_fail:   .asciz "boot: FAIL "
fail_8042:  .asciz "8042"
fail_a20:   .asciz "A20"
fail_ide:   .asciz "IDE"

    .org 508
    .globl boot_flags
boot_flags:                     # bit 0: the paging step; bit 1: IRET (both in
                                # pc-test-paging.img, for hardware KVM only)
    .byte 0
    .globl boot_drive
boot_drive:                     # DL as the boot sector found it
    .byte 0
    .word 0xAA55
