# pcide.S - a boot sector that uses the IDE disks the way xv6's boot loader
# does (polling, rep insl/outsl, no BIOS): prints the text in sector 1 of the
# master and sector 0 of the slave, writes its own sector 0 to sector 1 of the
# slave, prints that command's status (50 = done, 51 = refused: ERR), exits 0.
    .code16
    .text
    .globl _start
_start:
    cli
    xor %ax, %ax
    mov %ax, %ds
    mov %ax, %es
    mov $0xE0, %al          # master, LBA 1
    mov $1, %bl
    call read
    mov $0xF0, %al          # slave, LBA 0
    mov $0, %bl
    call read
    mov $0xF0, %al          # slave, LBA 1 <- this boot sector
    mov $1, %bl
    mov $0x30, %ah
    call command
    call drq
    jnz 1f                  # refused: nothing to send
    mov $0x7C00, %si
    mov $128, %cx
    mov $0x1F0, %dx
    rep outsl
1:  call ready              # status once the write is over
    in (%dx), %al
    mov %al, %bl            # two hex digits, then a newline
    shr $4, %al
    call hexdig
    mov %bl, %al
    call hexdig
    mov $'\n', %al
    call putc
    mov $0, %al             # EXIT through the hypercall port
    mov $HC_PORT, %dx
    out %al, (%dx)
    hlt

# read: sector BL of drive AL (0xE0 master, 0xF0 slave) to 0x8000, print it
read:
    mov $0x20, %ah
    call command
    call drq
    mov $0x8000, %di
    mov $128, %cx
    mov $0x1F0, %dx
    rep insl
    mov $0x8000, %si
1:  lodsb
    test %al, %al
    jz 2f
    call putc
    jmp 1b
2:  ret

# ready: wait for DRDY and not BSY, like bootmain's waitdisk (DX = status)
ready:
    mov $0x1F7, %dx
1:  in (%dx), %al
    and $0xC0, %al
    cmp $0x40, %al
    jne 1b
    ret

# command AH on drive/LBA-high AL, sector BL, count 1
command:
    push %ax
    call ready
    mov $0x1F2, %dx
    mov $1, %al
    out %al, (%dx)
    inc %dx
    mov %bl, %al            # 0x1F3: LBA 0-7
    out %al, (%dx)
    xor %al, %al
    inc %dx
    out %al, (%dx)          # 0x1F4
    inc %dx
    out %al, (%dx)          # 0x1F5
    pop %ax
    inc %dx
    out %al, (%dx)          # 0x1F6: drive, LBA mode
    mov %ah, %al
    inc %dx
    out %al, (%dx)          # 0x1F7: command
    ret

# drq: wait until not BSY and DRQ or ERR; ZF clear when ERR
drq:
    mov $0x1F7, %dx
1:  in (%dx), %al
    test $0x80, %al
    jnz 1b
    test $0x09, %al
    jz 1b
    test $0x01, %al
    ret

hexdig:
    and $0xF, %al
    add $'0', %al
    cmp $'9', %al
    jbe putc
    add $7, %al
#include "com1.inc"

    .org 510
    .byte 0x55, 0xAA
