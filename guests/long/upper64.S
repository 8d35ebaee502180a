# upper64.S - long-mode input: read lines with READLINE and print each in
# upper case with WRITE, until end of input (RAX = -1). The line buffer sits
# across a 4 KiB page boundary, so mini-kvm must translate both pages.
    .include "lib.inc"

    .set BUF, 0x17FFE0      # 64 bytes, 32 on each side of 0x180000
    .set BUF_SIZE, 64

main:
    HCALL HC_VERSION        # the ABI this guest was written for
    cmp $1, %rax
    jne 9f
1:  mov $BUF, %edi
    mov $BUF_SIZE, %ecx
    HCALL HC_READLINE       # RAX = length, or -1 at end of input
    cmp $-1, %rax
    je 8f
    mov %rax, %r8           # R8 = length
    mov $BUF, %esi          # upper-case the R8 bytes at BUF
    mov %r8, %rcx
2:  jrcxz 4f
    mov (%rsi), %al
    cmp $'a', %al
    jb 3f
    cmp $'z', %al
    ja 3f
    sub $'a' - 'A', %al
    mov %al, (%rsi)
3:  inc %rsi
    dec %rcx
    jmp 2b
4:  mov $BUF, %esi          # print them
    mov %r8, %rcx
    HCALL HC_WRITE
    call newline
    jmp 1b
8:  EXIT
9:  PRINT msg_version
    EXIT_CODE 1

msg_version: .asciz "upper64: unexpected ABI version\n"
