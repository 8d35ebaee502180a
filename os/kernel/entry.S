/* entry.S - the first instruction, the 256 interrupt entry stubs, the path
 * back to user mode (trapret) and the kernel context switch (swtch). */

/* mini-kvm enters here in 64-bit mode with interrupts off, its own page
 * tables and GDT, RSP=0x80000 and RDI = the boot info (docs/teaching-os.md). */
    .section .text.entry, "ax"
    .globl _start
_start:
    cli
    mov %rdi, %r12                  /* keep the boot info pointer */
    lea __bss_start(%rip), %rdi     /* C expects .bss to be zero */
    lea __bss_end(%rip), %rcx
    sub %rdi, %rcx
    shr $3, %rcx                    /* kernel.ld aligns both ends to 8 */
    xor %eax, %eax
    rep stosq
    lea boot_stack_top(%rip), %rsp  /* our stack: becomes the scheduler's */
    mov %r12, %rdi
    call kmain
1:  hlt
    jmp 1b

/* One 16-byte stub per vector, so stub i is at vectors + 16*i. The CPU pushes
 * an error code for some exceptions only; the others push a 0 to give every
 * trap frame the same shape, then the vector number. */
    .text
    .balign 16
    .globl vectors
vectors:
    .set vec, 0
    .rept 256
    .balign 16
    .if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
    pushq $0
    .endif
    pushq $vec
    jmp alltraps
    .set vec, vec + 1
    .endr

/* Save every register into a struct trapframe (kernel.h) and call trap(). */
alltraps:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    cld
    call trap
/* A new process starts here too: swtch "returns" into trapret with RSP at
 * the trap frame that spawn() built, and iretq drops to ring 3. */
    .globl trapret
trapret:
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp                   /* vector and error code */
    iretq

/* swtch(&old_rsp, new_rsp): save the callee-saved registers on this stack,
 * switch stacks, restore the other side's. The caller-saved ones are already
 * saved by the C compiler at the call, so that is a whole kernel context. */
    .globl swtch
swtch:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, (%rdi)
    mov %rsi, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret

    .section .bss
    .balign 16
    .skip 16384
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
