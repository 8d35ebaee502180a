# pcecho.S - a boot sector that never ends by itself: it says "ready" on
# COM1, then copies every byte typed on COM1 back to COM1 and to row 1 of
# the CGA screen (by polling the LSR), until it reads 'q' (then it exits
# through the hypercall port with status 0). Run: ./mini-kvm --ide pcecho.img
    .code16
    .text
    .globl _start
_start:
    cli
    xor %ax, %ax
    mov %ax, %ds
    mov $0xB800, %ax
    mov %ax, %es
    xor %di, %di            # row 0: a line only the screen shows
    mov $screen, %si
    mov $0x07, %ah
1:  lodsb
    test %al, %al
    jz 2f
    stosw
    jmp 1b
2:  mov $ready, %si
3:  lodsb
    test %al, %al
    jz 4f
    call putc
    jmp 3b
4:  mov $160, %di           # typed bytes go to row 1
5:  mov $0x3FD, %dx         # wait for a received byte
    in (%dx), %al
    test $0x01, %al
    jz 5b
    mov $0x3F8, %dx
    in (%dx), %al
    cmp $'q', %al
    je 6f
    call putc
    mov $0x07, %ah
    stosw
    cmp $320, %di
    jb 5b
    mov $160, %di
    jmp 5b
6:  mov $0, %al             # EXIT through the hypercall port
    mov $HC_PORT, %dx
    out %al, (%dx)
    hlt

#include "com1.inc"

screen: .asciz "pcecho on the CGA screen"
ready:  .asciz "pcecho: ready\r\n"

    .org 510
    .byte 0x55, 0xAA
