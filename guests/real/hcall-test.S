# hcall-test.S - self-test of every hypercall of the ABI (docs/hypercalls.md).
# Prints one "PASS name" or "FAIL name" line per check, then a summary, and
# ends with EXIT (status 0) when all passed, else EXIT_CODE = failures.
# The input checks expect exactly this on standard input:
#     printf 'hello\n0123456789\nxy\n' | mini-kvm hcall-test.bin
    .include "lib.inc"

# CHECK name: count and print the result of the flags: ZF set = PASS.
    .macro CHECK name
    push %si
    mov $\name, %si         # MOV leaves the flags alone
    call result
    pop %si
    .endm

main:
    HCALL HC_VERSION        # VERSION: AX = 1
    cmp $1, %ax
    CHECK t_version

    mov $t_putchar_line, %si  # PUTCHAR: print a line one byte at a time
1:  lodsb
    test %al, %al
    jz 2f
    call putc
    jmp 1b
2:  incw npass

    PRINT t_write_line      # WRITE: this line (puts uses WRITE) ...
    mov $t_write_line, %si  # ... and a WRITE of 0 bytes prints nothing
    xor %cx, %cx
    HCALL HC_WRITE
    incw npass

    call test_nop
    CHECK t_nop

    mov $0x1200 + HC_VERSION, %ax   # a 16-bit OUT: its low byte is AL
    mov $HC_PORT, %dx
    out %ax, (%dx)
    cmp $1, %ax
    CHECK t_out16
    mov $0x12345600 + HC_VERSION, %eax  # a 32-bit OUT
    out %eax, (%dx)
    cmp $1, %ax
    CHECK t_out32

    call test_input
    call test_eof

    PRINT s_summary         # "hcall-test: N passed, M failed"
    mov npass, %ax
    call print_u16
    PRINT s_passed
    mov nfail, %ax
    call print_u16
    PRINT s_failed
    mov nfail, %bx
    test %bx, %bx
    jnz 3f
    EXIT
3:  HCALL HC_EXIT_CODE      # BL = failures

# test_nop: NOP does nothing, and a hypercall keeps every register except AL
# and DX (which HCALL uses). ZF set when all are intact.
test_nop:
    pushal
    mov $0x11223344, %ebx
    mov $0x55667788, %ecx
    mov $0x99AABBCC, %esi
    mov $0xDDEEFF00, %edi
    mov $0x13579BDF, %ebp
    HCALL HC_NOP
    cmp $0x11223344, %ebx
    jne 1f
    cmp $0x55667788, %ecx
    jne 1f
    cmp $0x99AABBCC, %esi
    jne 1f
    cmp $0xDDEEFF00, %edi
    jne 1f
    cmp $0x13579BDF, %ebp
1:  popal                   # POPA leaves the flags alone
    ret

# test_input: READLINE, truncation, GETCHAR and a bare IN on the input
# "hello\n0123456789\nxy\n".
test_input:
    mov $buf, %di           # READLINE into 16 bytes: "hello", AX = 5
    mov $16, %cx
    HCALL HC_READLINE
    cmp $5, %ax
    jne 1f
    mov $s_hello, %si
    call streq
1:  CHECK t_readline

    movb $'!', buf + 8      # READLINE into 8 bytes: "0123456", AX = 7
    mov $buf, %di
    mov $8, %cx
    HCALL HC_READLINE
    cmp $7, %ax
    jne 2f
    cmpb $'!', buf + 8      # nothing written past the 8 bytes
    jne 2f
    mov $s_digits, %si
    call streq
2:  CHECK t_truncate

    HCALL HC_GETCHAR        # GETCHAR: 'x' (so "89" was dropped)
    in (%dx), %al
    cmp $'x', %al
    CHECK t_getchar
    in (%dx), %al           # IN alone reads the next byte, 'y'
    cmp $'y', %al
    CHECK t_in
    HCALL HC_GETCHAR        # then the newline
    in (%dx), %al
    cmp $'\n', %al
    CHECK t_getchar_nl
    ret

# test_eof: at end of input READLINE returns 0xFFFF and GETCHAR 0xFF.
test_eof:
    mov $buf, %di
    mov $16, %cx
    HCALL HC_READLINE
    cmp $0xFFFF, %ax
    CHECK t_readline_eof
    HCALL HC_GETCHAR
    in (%dx), %al
    cmp $0xFF, %al
    CHECK t_getchar_eof
    ret

# streq: ZF set when the NUL-terminated strings at DS:SI and DS:DI are equal.
streq:
    push %si
    push %di
    push %ax
1:  mov (%si), %al
    cmp (%di), %al
    jne 2f
    inc %si
    inc %di
    test %al, %al
    jnz 1b                  # equal so far; at the NUL ZF is set
2:  pop %ax
    pop %di
    pop %si
    ret

# result: ZF set = PASS. Print "PASS name" or "FAIL name" (name at SI).
result:
    push %si
    jne 1f
    incw npass
    mov $s_pass, %si
    jmp 2f
1:  incw nfail
    mov $s_fail, %si
2:  call puts
    pop %si
    call puts
    call newline
    ret

npass: .word 0
nfail: .word 0
s_pass:   .asciz "PASS "
s_fail:   .asciz "FAIL "
s_hello:  .asciz "hello"
s_digits: .asciz "0123456"
s_summary: .asciz "hcall-test: "
s_passed:  .asciz " passed, "
s_failed:  .asciz " failed\n"
t_version:      .asciz "version is 1"
t_putchar_line: .asciz "PASS putchar\n"
t_write_line:   .asciz "PASS write\n"
t_nop:          .asciz "nop keeps registers"
t_out16:        .asciz "16-bit out uses AL"
t_out32:        .asciz "32-bit out uses AL"
t_readline:     .asciz "readline"
t_truncate:     .asciz "readline truncates a long line"
t_getchar:      .asciz "getchar after a truncated line"
t_in:           .asciz "in without getchar"
t_getchar_nl:   .asciz "getchar newline"
t_readline_eof: .asciz "readline at end of input"
t_getchar_eof:  .asciz "getchar at end of input"
buf:                        # 16 bytes, past the end of the binary
