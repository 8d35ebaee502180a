# abuse64.S - a hostile flat guest for tests/integration/test_hostile.py: it
# floods ports and MMIO or abuses the hypercalls, as the first byte of stdin says.
#
#   echo p | ./mini-kvm --mode long abuse64.bin
#
# Floods end with "abuse: X done" and exit 0: mini-kvm must survive them with
# bounded memory and no message. Hypercall abuse must stop the guest with a
# single error from mini-kvm; "abuse: X done" after one means it did not.
    .include "lib.inc"

main:
    mov %rdi, %rbx                  # RAM size
    HCALL HC_GETCHAR
    in (%dx), %al
    movzbl %al, %eax
    mov %al, which
    lea table(%rip), %rsi
1:  movzbl (%rsi), %ecx
    test %ecx, %ecx
    jz unknown
    cmp %eax, %ecx
    je 2f
    add $16, %rsi
    jmp 1b
2:  call *8(%rsi)
    PRINT msg_head
    mov which, %al
    call putc
    PRINT msg_done
    EXIT

unknown:
    PRINT msg_unknown
    EXIT_CODE 2

    .balign 16
table:
    .quad 'p', f_ports              # every port but the hypercall's, byte out and dword in
    .quad 's', f_string             # rep outsb/insb of 64 KiB, unclaimed and claimed ports
    .quad 'm', f_mmio               # 100000 MMIO accesses where nothing is mapped
    .quad 'c', f_claimed            # 100000 hypercall NOPs and reserved-port reads
    .quad 'w', h_past_ram           # WRITE of 100 bytes starting 4 bytes before the end of RAM
    .quad 'h', h_huge               # WRITE of 2^64 - 1 bytes
    .quad 'n', h_noncanon           # WRITE from a non-canonical address
    .quad 'x', h_wrap               # WRITE whose buffer wraps around 2^64
    .quad 'r', h_readline_end       # READLINE of 4096 bytes ending past RAM
    .quad 'k', h_too_long           # WRITE of 65536 bytes (one more than allowed)
    .quad 'u', h_unknown            # hypercall 0xFF
    .quad 0, 0

f_ports:
    xor %edx, %edx
1:  mov %edx, %eax
    and $0xFFFC, %eax
    cmp $HC_PORT, %eax              # the hypercall port would run functions
    je 2f
    out %al, (%dx)
    test $3, %dl
    jnz 2f
    in (%dx), %eax
2:  inc %edx
    cmp $0x10000, %edx
    jne 1b
    ret

f_string:
    mov $0x20000, %rsi              # 64 KiB of whatever lies there
    mov $0x10000, %rcx
    mov $0x80, %dx
    rep outsb
    mov $0x20000, %rdi
    mov $0x10000, %rcx
    mov $0x81, %dx
    rep insb
    mov $0x20000, %rdi              # claimed: 0x501 reads as ones
    mov $0x10000, %rcx
    mov $(HC_PORT + 1), %dx
    rep insb
    mov $0x20000, %rsi
    mov $0x10000, %rcx
    mov $(HC_PORT + 2), %dx
    rep outsw
    ret

f_mmio:
    mov $100000, %ecx
    mov $0xD0000000, %rsi
1:  mov %ecx, %eax
    and $0x3FF8, %eax
    mov %rcx, (%rsi,%rax)
    mov (%rsi,%rax), %rdx
    mov %rcx, 0x2E000000(%rsi,%rax)     # 0xFE000000: LAPIC/IOAPIC land, nothing here
    dec %ecx
    jnz 1b
    ret

f_claimed:
    mov $100000, %ecx
1:  HCALL HC_NOP
    mov $(HC_PORT + 3), %dx
    in (%dx), %al
    dec %ecx
    jnz 1b
    ret

h_past_ram:
    lea -4(%rbx), %rsi
    mov $100, %ecx
    HCALL HC_WRITE
    ret

h_huge:
    xor %esi, %esi
    mov $-1, %rcx
    HCALL HC_WRITE
    ret

h_noncanon:
    mov $0x8000000000000000, %rsi
    mov $16, %ecx
    HCALL HC_WRITE
    ret

h_wrap:
    mov $-16, %rsi
    mov $32, %ecx
    HCALL HC_WRITE
    ret

h_readline_end:
    lea -100(%rbx), %rdi
    mov $4096, %ecx
    HCALL HC_READLINE
    ret

h_too_long:
    mov $0x100000, %rsi
    mov $65536, %ecx
    HCALL HC_WRITE
    ret

h_unknown:
    HCALL 0xFF
    ret

which:       .byte 0
msg_head:    .asciz "abuse: "
msg_done:    .asciz " done\n"
msg_unknown: .asciz "abuse: unknown scenario\n"
