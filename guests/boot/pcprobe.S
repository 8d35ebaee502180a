# pcprobe.S - a boot sector that reports what a legacy PC left it: its
# entry registers, the MP floating pointer, BDA words, CRTC, port 0x92 and
# the retrace bit, on COM1 by polling the LSR; writes the CGA buffer; exits
# through the hypercall port with status 7. Run: ./mini-kvm --ide pcprobe.img
    .code16
    .text
    .globl _start
_start:
    cli
    mov %sp, %bp            # SP as we got it
    call 1f                 # IP: where we run
1:  pop %bx
    sub $(1b - _start), %bx
    push %ss
    push %es
    push %ds
    push %bp
    push %dx
    push %bx
    push %cs
    mov $names, %si         # "cs=" ... "ss=", one value popped each
    mov $7, %di
2:  call puts
    pop %ax
    call hex16sp
    dec %di
    jnz 2b
    call nl

# the MP floating pointer: "_MP_" on a 16-byte boundary in F000:0000-FFFF
    mov $mp, %si
    call puts
    mov $0xF000, %ax
    mov %ax, %ds
    xor %bx, %bx
3:  cmpl $0x5F504D5F, (%bx)
    je 4f
    add $16, %bx
    jnz 3b
4:  mov %bx, %ax            # offset in F000 (0 with no match: the sums say so)
    call hex16sp
    mov %bx, %si
    mov $16, %cx
    call sum                # the floating pointer's checksum
    mov 4(%bx), %eax        # the configuration table, as seg:off in ES:DI
    mov %eax, %edx
    shr $4, %edx
    mov %dx, %es
    and $15, %ax
    mov %ax, %di
    push %es
    pop %ds
    mov %di, %si
    mov 4(%di), %cx         # base table length
    call sum
    mov 34(%di), %cx        # entry count: count PROC entries, note the IOAPIC id
    lea 44(%di), %si
    xor %dx, %dx
5:  cmpb $0, (%si)
    jne 6f
    inc %dx
    add $12, %si            # PROC is 20 bytes, the others 8
6:  add $8, %si
    loop 5b
    mov %dx, %ax
    call hex16sp
    call nl

# BDA: COM1 base, EBDA segment, base memory KiB
    xor %ax, %ax
    mov %ax, %ds
    mov $bda, %si
    call puts
    mov 0x400, %ax
    call hex16sp
    mov 0x40E, %ax
    call hex16sp
    mov 0x413, %ax
    call hex16sp
    call nl

# CRTC cursor (reg 14/15): the reset value, then what we wrote; status
# twice (the retrace bits toggle); port 0x92
    mov $crtc, %si
    call puts
    call cursor
    mov $0x0E, %al
    mov $0x01, %ah
    mov $0x3D4, %dx
    out %ax, (%dx)          # index 14, data 0x01 in one word write
    mov $0x0F, %al
    out %al, (%dx)
    inc %dx
    mov $0x23, %al
    out %al, (%dx)
    call cursor
    mov $0x3DA, %dx
    in (%dx), %al
    mov %al, %ah
    in (%dx), %al
    call hex16sp
    in $0x92, %al
    xor %ah, %ah
    call hex16sp
    call nl

# the CGA buffer: a line at row 0, a 0x01 byte and a line at row 2
    mov $0xB800, %ax
    mov %ax, %es
    xor %di, %di
    mov $cga, %si
    mov $0x07, %ah
7:  lodsb
    test %al, %al
    jz 8f
    stosw
    cmp $160, %di           # after "pcprobe: CGA" jump to row 2, column 2
    jae 7b
    cmp $24, %di
    jne 7b
    mov $324, %di
    jmp 7b
8:  mov $7, %bl             # EXIT_CODE 7 through the hypercall port
    mov $3, %al
    mov $HC_PORT, %dx
    out %al, (%dx)
    hlt

# cursor: print registers 14 and 15 as one word
cursor:
    mov $0x3D4, %dx
    mov $0x0E, %al
    out %al, (%dx)
    inc %dx
    in (%dx), %al
    mov %al, %ah
    dec %dx
    mov $0x0F, %al
    out %al, (%dx)
    inc %dx
    in (%dx), %al
    # fall through
# hex16sp: AX as 4 hex digits and a space
hex16sp:
    mov $4, %cx
1:  rol $4, %ax
    push %ax
    and $0xF, %al
    add $'0', %al
    cmp $'9', %al
    jbe 2f
    add $7, %al
2:  call putc
    pop %ax
    loop 1b
    mov $' ', %al
    jmp putc

# sum: print the byte sum of CX bytes at DS:SI (0000 = valid checksum)
sum:
    xor %ax, %ax
1:  add (%si), %al
    inc %si
    loop 1b
    jmp hex16sp

nl: mov $'\n', %al
#include "com1.inc"

# puts: the NUL-terminated string at CS:SI; SI ends after the NUL
puts:
    mov %cs:(%si), %al
    inc %si
    test %al, %al
    jz 1f
    call putc
    jmp puts
1:  ret

names: .asciz "cs="
       .asciz "ip="
       .asciz "dx="
       .asciz "sp="
       .asciz "ds="
       .asciz "es="
       .asciz "ss="
mp:    .asciz "mp="
bda:   .asciz "bda="
crtc:  .asciz "crtc="
cga:   .asciz "pcprobe: CGA\001ok"

    .org 510
    .byte 0x55, 0xAA
