/* trap.c - the CPU tables (GDT, TSS, IDT), the interrupt controllers (LAPIC
 * timer, IOAPIC, 8259 off) and trap(), where every interrupt arrives. */
#include "kernel.h"

#define LAPIC  0xFEE00000ULL
#define IOAPIC 0xFEC00000ULL
enum { LAPIC_ID = 0x20, LAPIC_TPR = 0x80, LAPIC_EOI = 0xB0, LAPIC_SVR = 0xF0,
       LAPIC_TIMER = 0x320, LAPIC_LINT0 = 0x350, LAPIC_TICR = 0x380,
       LAPIC_TDCR = 0x3E0 };
#define MASKED   0x10000
#define PERIODIC 0x20000

/* Flat 64-bit segments: in long mode only DPL and the L bit matter. The TSS
 * descriptor takes two slots and is filled in by cpu_init. */
static uint64_t gdt[7] = {
    0,
    0x00AF9A000000FFFFULL,      /* KCODE: ring 0, 64-bit */
    0x00CF92000000FFFFULL,      /* KDATA */
    0x00AFFA000000FFFFULL,      /* UCODE: ring 3, 64-bit */
    0x00CFF2000000FFFFULL,      /* UDATA */
};

/* The CPU loads rsp0 from here when an interrupt takes it from ring 3 to
 * ring 0: each process's own kernel stack (set_kernel_stack). */
static struct {
    uint32_t reserved0;
    uint64_t rsp0, rsp1, rsp2, reserved1, ist[7], reserved2;
    uint16_t reserved3, iomap;
} __attribute__((packed)) tss;

static struct gate {
    uint16_t off0, sel;
    uint8_t ist, type;
    uint16_t off1;
    uint32_t off2, zero;
} idt[256];

volatile uint64_t ticks;
uint64_t sys_gate, sys_ud;

struct dtr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

void cpu_init(void)
{
    uint64_t base = (uint64_t)&tss, lim = sizeof tss - 1;
    gdt[5] = (lim & 0xFFFF) | (base & 0xFFFFFF) << 16 | 0x89ULL << 40 |
             (lim >> 16 & 0xF) << 48 | (base >> 24 & 0xFF) << 56;
    gdt[6] = base >> 32;
    tss.iomap = sizeof tss;     /* no I/O bitmap: user `in`/`out` -> #GP */
    struct dtr gdtr = { sizeof gdt - 1, (uint64_t)gdt };
    asm volatile("lgdt %0" : : "m"(gdtr));
    /* Reload every segment register; CS needs a far return. */
    asm volatile("mov %w0, %%ds; mov %w0, %%es; mov %w0, %%ss\n"
                 "pushq %1; lea 1f(%%rip), %%rax; pushq %%rax; lretq; 1:"
                 : : "r"((uint16_t)KDATA), "i"(KCODE) : "rax", "memory");
    asm volatile("ltr %w0" : : "r"((uint16_t)TSSSEL));

    /* Interrupt gates (0x8E) clear IF, so the kernel always runs with
     * interrupts off. Only the system-call gate (0xEE) allows `int` from
     * ring 3; any other `int n` from user mode is a #GP. */
    for (int i = 0; i < 256; i++) {
        uint64_t h = (uint64_t)vectors + 16 * i;
        idt[i] = (struct gate){ (uint16_t)h, KCODE, 0, i == T_SYSCALL ? 0xEE : 0x8E,
                                (uint16_t)(h >> 16), (uint32_t)(h >> 32), 0 };
    }
    struct dtr idtr = { sizeof idt - 1, (uint64_t)idt };
    asm volatile("lidt %0" : : "m"(idtr));
}

void set_kernel_stack(uint64_t top)
{
    tss.rsp0 = top;
}

static void lapic_write(int reg, uint32_t v) { mmio_write(LAPIC + reg, v); }

static void ioapic_write(int reg, uint32_t v)
{
    mmio_write(IOAPIC, reg);        /* IOREGSEL */
    mmio_write(IOAPIC + 0x10, v);   /* IOWIN */
}

/* Route the interrupts we use to this CPU's LAPIC; everything else stays
 * masked (the IOAPIC starts with every pin masked). */
void irq_init(void)
{
    outb(0x21, 0xFF);           /* mask the legacy 8259 PICs: we use */
    outb(0xA1, 0xFF);           /* the IOAPIC and the LAPIC instead  */
    lapic_write(LAPIC_SVR, 0x100 | T_SPURIOUS); /* software-enable */
    lapic_write(LAPIC_LINT0, MASKED);           /* the 8259's path */
    lapic_write(LAPIC_TPR, 0);
    /* KVM's LAPIC timer counts at 1 GHz; divided by 16 that is 62.5 MHz,
     * so 625000 counts = 10 ms: a 100 Hz scheduling tick. */
    lapic_write(LAPIC_TDCR, 0x3);
    lapic_write(LAPIC_TIMER, PERIODIC | T_TIMER);
    lapic_write(LAPIC_TICR, 625000);
    /* COM1: edge-triggered, active high, fixed delivery to our APIC ID. */
    uint32_t apic_id = mmio_read(LAPIC + LAPIC_ID) >> 24;
    ioapic_write(0x10 + 2 * IRQ_COM1, T_IRQ0 + IRQ_COM1);
    ioapic_write(0x11 + 2 * IRQ_COM1, apic_id << 24);
}

static const char *const exceptions[] = {
    "divide error", "debug", "NMI", "breakpoint", "overflow", "bound range",
    "invalid opcode", "no FPU", "double fault", "coprocessor overrun",
    "invalid TSS", "segment not present", "stack fault", "general protection",
    "page fault", "reserved", "x87 error", "alignment check", "machine check",
    "SIMD error", "virtualization", "control protection",
};

static const char *exc_name(uint64_t vec)
{
    return vec < sizeof exceptions / sizeof exceptions[0] ? exceptions[vec] : "exception";
}

/* A system call is `int $0x80`. On hardware KVM it arrives through the IDT
 * gate above. Under some software KVMs (this project's development host) an
 * `int n` from ring 3 is delivered as #UD with RIP still at the instruction,
 * so a #UD from user mode whose bytes are CD 80 is also a system call, and
 * RIP is moved past it by hand. (`syscall` fails there too: see the docs.) */
static int is_int80(struct trapframe *tf)
{
    if (!user_ok(cur->pml4, tf->rip, 2, 0))
        return 0;
    const uint8_t *p = (const uint8_t *)tf->rip; /* valid: same CR3 */
    if (p[0] != 0xCD || p[1] != 0x80)
        return 0;
    tf->rip += 2;
    sys_ud++;
    return 1;
}

static void kernel_fault(struct trapframe *tf)
{
    kprintf("\nkernel %s (#%lu), error %lx, rip %p, cr2 %p\n"
            "rax %p rbx %p rcx %p rdx %p\nrsi %p rdi %p rbp %p rsp %p\n",
            exc_name(tf->vec), tf->vec, tf->err, (void *)tf->rip, (void *)rcr2(),
            (void *)tf->rax, (void *)tf->rbx, (void *)tf->rcx, (void *)tf->rdx,
            (void *)tf->rsi, (void *)tf->rdi, (void *)tf->rbp, (void *)tf->rsp);
    panic("unexpected exception in the kernel");
}

/* Called by alltraps (entry.S) with the saved registers. */
void trap(struct trapframe *tf)
{
    int user = (tf->cs & 3) == 3;
    if (tf->vec == T_SYSCALL || (user && tf->vec == T_UD && is_int80(tf))) {
        sys_gate += tf->vec == T_SYSCALL;
        syscall(tf);
    } else if (tf->vec == T_TIMER) {
        ticks++;
        wakeup((void *)&ticks);
        lapic_write(LAPIC_EOI, 0);
        if (user) {             /* preemption: round robin every tick */
            cur->ticks++;
            yield();
        }
    } else if (tf->vec == T_IRQ0 + IRQ_COM1) {
        uart_intr();
        lapic_write(LAPIC_EOI, 0);
    } else if (tf->vec == T_SPURIOUS) {
        /* a spurious LAPIC interrupt must not be acknowledged */
    } else if (tf->vec < 32 && user) {
        /* The process did something wrong: report and kill it only. */
        kprintf("%s[%d]: %s (#%lu) at rip %p, address %p, error %lx: killed\n",
                cur->name, cur->pid, exc_name(tf->vec), tf->vec, (void *)tf->rip,
                (void *)(tf->vec == T_PF ? rcr2() : 0), tf->err);
        cur->killed = 1;
    } else if (tf->vec < 32) {
        kernel_fault(tf);
    } else {
        kprintf("trap: unexpected interrupt %lu\n", tf->vec);
        lapic_write(LAPIC_EOI, 0);
    }
    if (user && cur->killed)
        exit_proc(-1);
}
