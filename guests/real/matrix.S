# matrix.S - multiply two 4 x 4 matrices of signed 16-bit numbers and print
# the product, one row per line, each entry right-aligned in 7 columns:
#   C[i][j] = sum over k of A[i][k] * B[k][j]   (32-bit sums, IMUL)
    .include "lib.inc"

    .set N, 4

main:
    xor %si, %si            # SI = i
1:  xor %di, %di            # DI = j
2:  call entry
    mov $7, %cx
    call print_i32_pad
    inc %di
    cmp $N, %di
    jb 2b
    call newline
    inc %si
    cmp $N, %si
    jb 1b
    EXIT

# entry: EAX = C[SI][DI]. Clobbers EBX, ECX, EDX.
entry:
    push %bp
    xor %ebx, %ebx          # EBX = sum
    xor %cx, %cx            # CX = k
1:  mov %si, %bp            # A[i][k] is at A + 2 * (N * i + k)
    shl $2, %bp
    add %cx, %bp
    shl $1, %bp
    mov A(%bp), %ax
    mov %cx, %bp            # B[k][j] is at B + 2 * (N * k + j)
    shl $2, %bp
    add %di, %bp
    shl $1, %bp
    imulw B(%bp)            # DX:AX = A[i][k] * B[k][j]
    shl $16, %edx           # EAX = DX:AX as one 32-bit number
    movzwl %ax, %eax
    or %edx, %eax
    add %eax, %ebx
    inc %cx
    cmp $N, %cx
    jb 1b
    mov %ebx, %eax
    pop %bp
    ret

A:  .word    3,   -1,    4,    1
    .word    5,    9,   -2,    6
    .word  -53,    5,    8,    9
    .word    7,    9,    3, 1000
B:  .word    2,    7,    1,    8
    .word    2,   -8,    1,    8
    .word   28,   18,   28, -459
    .word   45,    2,   35,   30
