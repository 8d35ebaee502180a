# fib64.S - the Fibonacci numbers fib(0) .. fib(93) with 64-bit registers,
# one "fib(n) = x" line each; fib(93) = 12200160415121876738 is the last one
# that fits in 64 bits. Their sum (more than 64 bits) is then checked against
# the identity sum(fib(0..n)) = fib(n+2) - 1, with 128-bit arithmetic.
    .include "lib.inc"

    .set LAST, 93

main:
    xor %eax, %eax          # RAX = fib(n)
    mov $1, %ebx            # RBX = fib(n+1)
    xor %ecx, %ecx          # RCX = n
    xor %r8, %r8            # R9:R8 = sum of fib(0..n), 128 bits
    xor %r9, %r9
1:  PRINT s_fib
    push %rax
    mov %rcx, %rax
    call print_u64
    pop %rax
    PRINT s_eq
    call print_u64
    call newline
    add %rax, %r8
    adc $0, %r9
    add %rax, %rbx          # (a, b) = (b, a + b); wraps only past fib(93)
    xchg %rax, %rbx
    inc %rcx
    cmp $LAST, %rcx
    jbe 1b
    call check_sum          # the sum exceeds 2^64: R9:R8 holds it all
    EXIT

# check_sum: compare R9:R8 with fib(95) - 1 computed in 128 bits, print the
# verdict.
check_sum:
    xor %eax, %eax          # R11:R10 = fib(n), RDX:RAX = fib(n+1), 128-bit
    xor %r10, %r10
    xor %r11, %r11
    mov $1, %eax
    xor %edx, %edx
    mov $95, %ecx
1:  mov %rax, %rsi          # (a, b) = (b, a + b)
    mov %rdx, %rdi
    add %r10, %rax
    adc %r11, %rdx
    mov %rsi, %r10
    mov %rdi, %r11
    loop 1b                 # now R11:R10 = fib(95)
    sub $1, %r10
    sbb $0, %r11
    cmp %r10, %r8
    jne 2f
    cmp %r11, %r9
    jne 2f
    PRINT s_ok
    ret
2:  PRINT s_bad
    EXIT_CODE 1

s_fib: .asciz "fib("
s_eq:  .asciz ") = "
s_ok:  .asciz "sum of fib(0..93) = fib(95) - 1: ok\n"
s_bad: .asciz "sum of fib(0..93) != fib(95) - 1\n"
