# primes.S - the primes below 1000 with the sieve of Eratosthenes, ten per
# output line, then how many there are. The sieve is a byte array after the
# code (1 = composite), cleared first: RAM is not guaranteed to be zero.
    .include "lib.inc"

    .set LIMIT, 1000

main:
    mov $sieve, %di         # clear the sieve
    mov $LIMIT, %cx
    xor %al, %al
    cld
    rep stosb

    mov $2, %bx             # BX = p; for p*p < LIMIT cross out p*p, p*p+p ...
1:  cmpb $0, sieve(%bx)
    jne 3f
    mov %bx, %ax
    mul %bx
    mov %ax, %si            # SI = multiple of p
2:  cmp $LIMIT, %si
    jae 3f
    movb $1, sieve(%si)
    add %bx, %si
    jmp 2b
3:  inc %bx
    mov %bx, %ax
    mul %bx
    cmp $LIMIT, %ax
    jb 1b

    mov $2, %bx             # print: BX = n, BP = primes so far
    xor %bp, %bp
4:  cmpb $0, sieve(%bx)
    jne 6f
    mov %bp, %ax            # a space between numbers on a line
    xor %dx, %dx
    mov $10, %cx
    div %cx
    test %dx, %dx
    jz 5f
    mov $' ', %al
    call putc
5:  mov %bx, %ax
    call print_u16
    inc %bp
    mov %bp, %ax            # end the line after ten numbers
    xor %dx, %dx
    div %cx
    test %dx, %dx
    jnz 6f
    call newline
6:  inc %bx
    cmp $LIMIT, %bx
    jb 4b

    mov %bp, %ax            # finish a partial line, then the count
    xor %dx, %dx
    mov $10, %cx
    div %cx
    test %dx, %dx
    jz 7f
    call newline
7:  mov %bp, %ax
    call print_u16
    PRINT s_count
    EXIT

s_count: .asciz " primes below 1000\n"
sieve:                      # LIMIT bytes, past the end of the binary
