/* probe32.S - a tiny guest that mini-kvm runs to learn whether the host KVM
 * can run 32-bit paging (software KVMs such as kvm_pvm cannot). */
/* Runs in real mode at GPA 0x1000 (CS=0). It enters protected mode, maps
 * virtual 4-8 MiB onto physical 0-4 MiB with a 4 MiB page, and reads the
 * magic at virtual 0x402000. With working paging that is physical 0x2000 and
 * the guest reports it with `out %eax, $0x505`; without paging the read hits
 * unbacked physical 0x402000 (RAM is 2 MiB) and never reaches the `out`. */
    .section .rodata
    .globl probe32_start, probe32_end
#define ADDR(x) ((x) - probe32_start + 0x1000)
probe32_start:
    .code16
    cli
    lgdtl ADDR(gdtr)
    movl %cr0, %eax
    orl $1, %eax                    /* CR0.PE */
    movl %eax, %cr0
    ljmpl $0x08, $ADDR(pm32)
    .code32
pm32:
    movw $0x10, %ax
    movw %ax, %ds
    movw %ax, %ss
    movl $0x83, 0x3000              /* PDE 0: 0-4 MiB -> 0 (P|RW|PS) */
    movl $0x83, 0x3004              /* PDE 1: 4-8 MiB -> 0 */
    movl %cr4, %eax
    orl $0x10, %eax                 /* CR4.PSE: 4 MiB pages, no PAE */
    movl %eax, %cr4
    movl $0x3000, %eax
    movl %eax, %cr3
    movl %cr0, %eax
    orl $0x80000000, %eax           /* CR0.PG */
    movl %eax, %cr0
    movl 0x402000, %eax             /* virtual 4 MiB + 0x2000 */
    movw $0x505, %dx
    outl %eax, %dx
    hlt
    .balign 8
gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF        /* 0x08: 32-bit code */
    .quad 0x00CF92000000FFFF        /* 0x10: data */
gdtr:
    .word 23
    .long ADDR(gdt)
probe32_end:
    .code64
    .section .note.GNU-stack,"",@progbits
