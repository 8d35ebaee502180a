# entry.S - the 32-bit kernel's entry, its interrupt stubs and the AP
# trampoline (real mode -> protected mode), which main copies to 0x7000.
#
# The boot sector jumps to kernel_entry in 32-bit protected mode with flat
# segments and interrupts off. Each AP starts at 0x0700:0000 in real mode
# (SIPI vector 7), loads the kernel's GDT, enters protected mode and calls
# ap_main(apic id) on a stack chosen by its LAPIC ID.

    .set LAPIC_ID,   0xFEE00020
    .set MAXCPU,     8
    .set AP_STACK,   4096

    .section .text.entry, "ax"
    .globl kernel_entry
kernel_entry:
    cld
    mov $bss_start, %edi        # zero .bss (pc.ld keeps both ends 4-aligned)
    mov $bss_end, %ecx
    sub %edi, %ecx
    shr $2, %ecx
    xor %eax, %eax
    rep stosl
    mov $bsp_stack + AP_STACK, %esp
    call kmain                  # never returns: it exits through the hypercall
1:  cli
    hlt
    jmp 1b

# ---- interrupt stubs: push (error code, vector), save registers, call trap() ----
    .text
    .p2align 4
    .globl isr_stubs
isr_stubs:                      # 64 stubs, 16 bytes apart; vectors with a CPU
    .set v, 0                   # error code do not push a dummy one
    .rept 64
    .if (v == 8) || (v >= 10 && v <= 14) || (v == 17) || (v == 21)
    .else
    push $0
    .endif
    push $v
    jmp isr_common
    .p2align 4
    .set v, v + 1
    .endr

isr_common:
    pushal
    push %esp                   # struct trapframe *
    call trap
    add $4, %esp
    popal
    add $8, %esp                # vector, error code
    testb $2, boot_flags        # flag bit 1 (pc-test-paging.img): a real iret
    jz 1f
    iret
    # pc-test.img runs on kvm_pvm too, which emulates all ring-0 code, and
    # KVM's instruction emulator does IRET in real mode only. At the same
    # privilege level IRET is pop EIP, CS, EFLAGS: do it as popfl + ret
    # (an interrupt between the two finds a consistent stack).
1:  push %eax                   # stack: eax, eip, cs, eflags
    mov 4(%esp), %eax
    xchg %eax, 12(%esp)         # eflags slot <- eip
    mov %eax, 8(%esp)           # cs slot <- eflags
    pop %eax
    add $4, %esp                # stack: eflags, eip
    popfl
    ret

# ---- the AP trampoline: copied to 0x7000, runs with CS = 0x0700, IP = 0 ----
    .code16
    .globl tramp_start, tramp_end
tramp_start:
    cli
    mov %cs, %ax
    mov %ax, %ds                # DS = CS: the descriptor below is CS-relative
    lgdtl tramp_gdt_desc - tramp_start
    mov %cr0, %eax
    or $1, %eax                 # CR0.PE
    mov %eax, %cr0
    ljmpl $0x08, $ap_start32    # absolute: the kernel did not move
    .p2align 2
tramp_gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt
tramp_end:

    .code32
ap_start32:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov %ax, %fs
    mov %ax, %gs
    mov LAPIC_ID, %eax          # our LAPIC ID picks our stack
    shr $24, %eax
    cmp $MAXCPU, %eax
    jae 1f
    mov %eax, %esp
    inc %esp
    shl $12, %esp               # (id + 1) * AP_STACK
    add $ap_stacks, %esp
    push %eax
    call ap_main                # never returns
1:  cli
    hlt
    jmp 1b

# ---- the kernel's own GDT (the boot sector's one is in the boot sector) ----
    .data
    .p2align 3
    .globl gdt, gdt_desc
gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF    # 0x08: code, flat, 32-bit
    .quad 0x00CF92000000FFFF    # 0x10: data, flat
gdt_end:
gdt_desc:
    .word gdt_end - gdt - 1
    .long gdt

    .bss
    .p2align 12
    .globl bsp_stack, ap_stacks
bsp_stack:
    .skip AP_STACK
ap_stacks:
    .skip AP_STACK * MAXCPU
