# fib.S - the Fibonacci numbers fib(0) .. fib(47), the last that fits in 32
# bits (2971215073), one "fib(n) = x" line each. Real mode code may use the
# 32-bit registers (EAX...) on any CPU from the 386 on.
    .include "lib.inc"

    .set LAST, 47

main:
    xor %eax, %eax          # EAX = fib(n)
    mov $1, %ebx            # EBX = fib(n+1)
    xor %cx, %cx            # CX = n
1:  PRINT s_fib
    push %eax
    mov %cx, %ax
    call print_u16
    pop %eax
    PRINT s_eq
    call print_u32
    call newline
    add %eax, %ebx          # (a, b) = (b, a + b)
    xchg %eax, %ebx
    inc %cx
    cmp $LAST, %cx
    jbe 1b
    EXIT

s_fib: .asciz "fib("
s_eq:  .asciz ") = "
