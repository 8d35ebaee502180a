# calc.S - a calculator on standard input: each line "A OP B" with signed
# 32-bit decimal numbers and OP one of + - * / % prints the result
# ("12 * 34" -> "408"); / and % round towards zero as in C. Errors print
# one line starting "error:"; blank lines are skipped; the guest exits with
# status 0 at end of input. Reads lines with the READLINE hypercall.
    .include "lib.inc"

    .set LINE_SIZE, 80

main:
    mov $line, %di
    mov $LINE_SIZE, %cx
    HCALL HC_READLINE       # AX = length, 0xFFFF at end of input
    cmp $0xFFFF, %ax
    je 9f
    mov $line, %si
    call skip_spaces
    cmpb $0, (%si)
    je main                 # blank line
    call evaluate
    jc 1f
    call print_i32          # the result
    call newline
    jmp main
1:  PRINT msg_error         # BP = what went wrong
    push %si
    mov %bp, %si
    call puts
    pop %si
    jmp main
9:  EXIT

# evaluate: compute "A OP B" at SI. Returns EAX = result with CF clear, or CF
# set and BP = an error message. Clobbers EBX, ECX, EDX, SI.
evaluate:
    call parse_number
    jc 9f
    mov %eax, %ebx          # EBX = A
    call skip_spaces
    mov (%si), %cl          # CL = OP
    test %cl, %cl
    jz 8f                   # the line ends after A
    inc %si
    call skip_spaces
    call parse_number
    jc 9f
    call skip_spaces
    cmpb $0, (%si)
    jne 8f                  # something after B
    xchg %eax, %ebx         # EAX = A, EBX = B
    cmp $'+', %cl
    je op_add
    cmp $'-', %cl
    je op_sub
    cmp $'*', %cl
    je op_mul
    cmp $'/', %cl
    je op_div
    cmp $'%', %cl
    je op_div
8:  mov $msg_syntax, %bp
    stc
9:  ret

op_add:
    add %ebx, %eax
    jmp 1f
op_sub:
    sub %ebx, %eax
    jmp 1f
op_mul:
    imul %ebx, %eax
1:  jo overflow             # the result does not fit in 32 bits
    clc
    ret
op_div:
    test %ebx, %ebx
    jz 2f
    cdq                     # EDX:EAX = A, sign-extended
    idiv %ebx               # never overflows: |A| < 2^31 (see parse_number)
    cmp $'%', %cl
    jne 3f
    mov %edx, %eax          # the remainder
3:  clc
    ret
2:  mov $msg_divzero, %bp
    stc
    ret
overflow:
    mov $msg_overflow, %bp
    stc
    ret

# skip_spaces: advance SI past spaces and tabs.
skip_spaces:
    cmpb $' ', (%si)
    je 1f
    cmpb $'\t', (%si)
    jne 2f
1:  inc %si
    jmp skip_spaces
2:  ret

# parse_number: read an optionally negative decimal number at SI into EAX
# and advance SI past it. Its magnitude must fit in 31 bits. CF set and
# BP = an error message when there is no number or it is too large.
parse_number:
    push %edx
    push %di
    xor %di, %di            # DI = 1 when negative
    cmpb $'-', (%si)
    jne 1f
    inc %di
    inc %si
1:  movzbl (%si), %edx      # at least one digit
    sub $'0', %dl
    cmp $9, %dl
    ja 7f
    xor %eax, %eax
2:  movzbl (%si), %edx
    sub $'0', %dl
    cmp $9, %dl
    ja 3f
    imul $10, %eax, %eax    # EAX = 10 * EAX + digit, stopping at 2^31
    jo 6f
    add %edx, %eax
    jo 6f
    inc %si
    jmp 2b
3:  test %di, %di
    jz 4f
    neg %eax
4:  clc
    jmp 9f
6:  mov $msg_toolarge, %bp
    stc
    jmp 9f
7:  mov $msg_syntax, %bp
    stc
9:  pop %di
    pop %edx
    ret

msg_error:    .asciz "error: "
msg_syntax:   .asciz "expected NUMBER OP NUMBER (OP is one of + - * / %)\n"
msg_divzero:  .asciz "division by zero\n"
msg_overflow: .asciz "overflow\n"
msg_toolarge: .asciz "number too large\n"
line:                       # LINE_SIZE bytes, past the end of the binary
