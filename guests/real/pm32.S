# pm32.S - a real-mode guest that switches to 32-bit protected mode WITH paging
# (a 4 KiB page table and a 4 MiB PSE page), computes 1+2+...+1000 and prints it.
#
# Loaded at linear 0x10000 with CS=DS=ES=SS=0x1000, IP=0 and linked at 0, so a
# label's linear address is BASE + label. Memory used beyond the binary:
#   BASE+0xD000 page directory, BASE+0xE000 page table, BASE+0xF000.. stack.
# Paging maps virtual 0-4 MiB to physical 0-4 MiB through the page table and
# virtual 4-8 MiB to physical 0-4 MiB again through one PSE page (an alias):
# the sum is stored through the alias and read back through the identity map,
# so a wrong translation shows as "paging broken" and exit status 1.
# Output: "pm32: 32-bit paging on, sum(1..1000) = 500500", exit status 0.

    .set BASE,     0x10000      # where the binary is loaded (linear)
    .set PD,       BASE + 0xD000
    .set PT,       BASE + 0xE000
    .set STACK,    BASE + 0xFFF0
    .set ALIAS,    0x400000     # virtual 4 MiB = physical 0 (PSE page)

    .code16
    .text
    .globl _start
_start:
    cli
    lgdtl gdt_ptr               # DS = 0x1000: gdt_ptr is an offset in it
    mov %cr0, %eax
    or $1, %eax                 # CR0.PE
    mov %eax, %cr0
    ljmpl $0x08, $BASE + pm_entry

    .code32
pm_entry:
    mov $0x10, %ax              # flat 4 GiB data segment, base 0
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs
    mov $STACK, %esp

    # Page table: 1024 entries, identity map 0-4 MiB (present, writable).
    mov $PT, %edi
    mov $0x003, %eax
    mov $1024, %ecx
1:  mov %eax, (%edi)
    add $0x1000, %eax
    add $4, %edi
    loop 1b

    # Page directory: entry 0 -> the page table; entry 1 -> a 4 MiB page at 0.
    mov $PD, %edi
    xor %eax, %eax
    mov $1024, %ecx
    rep stosl
    movl $PT + 0x003, PD
    movl $0x00000083, PD + 4    # present, writable, PS (4 MiB)

    mov %cr4, %eax
    or $0x10, %eax              # CR4.PSE
    mov %eax, %cr4
    mov $PD, %eax
    mov %eax, %cr3
    mov %cr0, %eax
    or $0x80000000, %eax        # CR0.PG: 32-bit paging from here on
    mov %eax, %cr0
    jmp 2f                      # (the next fetch is translated)
2:
    # sum = 1 + 2 + ... + 1000, stored through the alias mapping.
    xor %eax, %eax
    mov $1000, %ecx
3:  add %ecx, %eax
    loop 3b
    mov %eax, ALIAS + BASE + result
    mov BASE + result, %edx     # read back through the identity mapping
    cmp %eax, %edx
    jne broken

    mov %edx, %ebp
    mov $BASE + msg, %esi
    call puts32
    mov %ebp, %eax
    call print_dec32
    mov $'\n', %bl
    call putc32
    xor %bl, %bl
    jmp exit32

broken:
    mov $BASE + msg_broken, %esi
    call puts32
    mov $1, %bl
exit32:
    mov $HC_EXIT_CODE, %al
    mov $HC_PORT, %dx
    out %al, (%dx)
    hlt
    jmp exit32

# putc32: print the byte in BL. Clobbers AL, DX.
putc32:
    mov $HC_PUTCHAR, %al
    mov $HC_PORT, %dx
    out %al, (%dx)
    ret

# puts32: print the NUL-terminated string at ESI (linear). Clobbers AL, BL, DX, ESI.
puts32:
    mov (%esi), %bl
    test %bl, %bl
    jz 1f
    call putc32
    inc %esi
    jmp puts32
1:  ret

# print_dec32: print EAX in decimal. Clobbers EAX, EBX, ECX, EDX.
print_dec32:
    mov $10, %ecx
    xor %ebx, %ebx              # digit count
1:  xor %edx, %edx
    div %ecx
    push %edx
    inc %ebx
    test %eax, %eax
    jnz 1b
2:  pop %eax
    push %ebx
    lea '0'(%eax), %ebx
    call putc32
    pop %ebx
    dec %ebx
    jnz 2b
    ret

    .balign 8
gdt:
    .quad 0                     # null
    .quad 0x00CF9A000000FFFF    # 0x08: 32-bit code, base 0, limit 4 GiB
    .quad 0x00CF92000000FFFF    # 0x10: data, base 0, limit 4 GiB
gdt_end:
gdt_ptr:
    .word gdt_end - gdt - 1
    .long BASE + gdt

    .balign 4
result: .long 0
msg:        .asciz "pm32: 32-bit paging on, sum(1..1000) = "
msg_broken: .asciz "pm32: paging broken: the alias mapping read back wrong\n"
