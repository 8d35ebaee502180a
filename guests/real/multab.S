# multab.S - the 10 x 10 multiplication table: row i holds i*1 .. i*10, each
# right-aligned in 4 columns. Two nested loops and the MUL instruction.
    .include "lib.inc"

    .set N, 10

main:
    mov $4, %cx             # column width for print_u32_pad
    mov $1, %si             # SI = row
1:  mov $1, %di             # DI = column
2:  mov %si, %ax
    mul %di                 # DX:AX = row * column (DX is 0 here)
    movzwl %ax, %eax
    call print_u32_pad
    inc %di
    cmp $N, %di
    jbe 2b
    call newline
    inc %si
    cmp $N, %si
    jbe 1b
    EXIT
