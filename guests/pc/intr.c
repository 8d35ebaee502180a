/* intr.c - interrupts: the IDT (64 interrupt gates), the trap dispatcher, the
 * BSP's LAPIC (timer, EOI, ICR) and the IOAPIC route of IRQ 14 to the BSP. */
#include "pc.h"

#define NVEC 64
#define IDE_STATUS 0x1F7

/* LAPIC registers (byte offsets), as in xv6's lapic.c */
#define VER 0x030
#define TPR 0x080
#define EOI 0x0B0
#define SVR 0x0F0
#define ESR 0x280
#define TIMER 0x320
#define LINT0 0x350
#define LINT1 0x360
#define ERROR 0x370
#define TICR 0x380
#define TCCR 0x390
#define TDCR 0x3E0
#define MASKED 0x10000
#define PERIODIC 0x20000
#define DELIVS 0x1000               /* ICR delivery status: still sending */

volatile uint32_t ticks;
volatile uint32_t ide_irqs;
volatile uint8_t ide_irq_status;

static uint64_t idt[NVEC];

void idt_init(void)
{
    for (int v = 0; v < NVEC; v++) {
        uint32_t off = SYMVAL(isr_stubs) + 16u * (uint32_t)v;
        /* interrupt gate (type 0xE, DPL 0, present): IF is cleared on entry */
        idt[v] = (uint64_t)(off & 0xFFFF) | (uint64_t)0x08 << 16 | (uint64_t)0x8E00 << 32 |
                 (uint64_t)(off >> 16) << 48;
    }
    struct { uint16_t limit; uint32_t base; } __attribute__((packed)) d = {
        sizeof(idt) - 1, (uint32_t)idt };
    __asm__ volatile("lidt %0" : : "m"(d));
}

uint32_t lapic_read(uint32_t reg) { return mmio_read(LAPIC + reg); }

void lapic_write(uint32_t reg, uint32_t v)
{
    mmio_write(LAPIC + reg, v);
    (void)lapic_read(LAPIC_ID);     /* wait for the write to finish (xv6) */
}

int lapic_id(void) { return (int)(lapic_read(LAPIC_ID) >> 24); }

void trap(struct trapframe *tf)
{
    switch (tf->vector) {
    case T_TIMER:
        ticks++;
        lapic_write(EOI, 0);
        return;
    case T_IDE:
        /* Reading the status acknowledges the drive's interrupt (as xv6's
         * ideintr does through idewait). */
        ide_irq_status = inb(IDE_STATUS);
        ide_irqs++;
        lapic_write(EOI, 0);
        return;
    case T_SPURIOUS:
        return;                     /* no EOI for a spurious interrupt */
    }
    kprintf("FAIL trap: vector %u error 0x%x at eip 0x%x (eflags 0x%x)\n", tf->vector, tf->err,
            tf->eip, tf->eflags);
    kprintf("PC-TEST FAIL: unexpected trap %u\n", tf->vector);
    exit_guest(1);
}

/* Send an IPI and wait (bounded) for the LAPIC to have sent it. */
int lapic_icr(uint32_t hi, uint32_t lo)
{
    lapic_write(LAPIC_ICRHI, hi);
    lapic_write(LAPIC_ICRLO, lo);
    for (int i = 0; i < 10000; i++)
        if (!(lapic_read(LAPIC_ICRLO) & DELIVS))
            return 0;
    return -1;
}

/* The BSP's LAPIC as xv6 sets it up, with a 10 ms periodic timer that bounds
 * every wait of the test. The timer must count and interrupt. */
int lapic_init(void)
{
    uint32_t ver = lapic_read(VER);
    lapic_write(SVR, 0x100 | T_SPURIOUS);       /* enable, spurious vector */
    lapic_write(TDCR, 0xB);                     /* divide by 1 */
    lapic_write(TIMER, PERIODIC | T_TIMER);
    lapic_write(TICR, 10000000);                /* KVM's LAPIC bus clock is 1 GHz */
    lapic_write(LINT0, MASKED);
    lapic_write(LINT1, MASKED);
    lapic_write(ERROR, T_ERROR);
    lapic_write(ESR, 0);
    lapic_write(ESR, 0);
    lapic_write(EOI, 0);
    lapic_write(TPR, 0);
    /* Count down, then interrupt: spin (interrupts on) until two ticks, five
     * reloads of the counter without them, or a counter that stands still,
     * so a broken timer is reported instead of hanging every later wait. */
    uint32_t last = lapic_read(TCCR), reloads = 0, still = 0;
    __asm__ volatile("sti");
    while (ticks < 2 && reloads < 5 && still < 100000) {
        uint32_t now = lapic_read(TCCR);
        reloads += now > last;
        still = now == last ? still + 1 : 0;
        last = now;
    }
    cli();
    if (ticks < 2)
        return fail("lapic", "timer: %u reloads, %u interrupts on vector %d (TCCR 0x%x)", reloads,
                    ticks, T_TIMER, last);
    kprintf("lapic: id %d, version 0x%x (max LVT %u), timer %d Hz on vector %d ok\n", lapic_id(),
            ver & 0xFF, (ver >> 16) & 0xFF, HZ, T_TIMER);
    return 0;
}

static uint32_t ioapic_read(uint32_t reg)
{
    mmio_write(IOAPIC, reg);
    return mmio_read(IOAPIC + 0x10);
}

static void ioapic_write(uint32_t reg, uint32_t v)
{
    mmio_write(IOAPIC, reg);
    mmio_write(IOAPIC + 0x10, v);
}

/* Mask every pin, then IRQ 14 -> vector 46, edge, active high, to the BSP. */
int ioapic_init(int bsp_apicid, int mp_ioapicid)
{
    uint32_t id = ioapic_read(0) >> 24, ver = ioapic_read(1);
    uint32_t maxintr = (ver >> 16) & 0xFF;
    if (maxintr < 15)
        return fail("ioapic", "version register 0x%x: only %u pins", ver, maxintr + 1);
    for (uint32_t i = 0; i <= maxintr; i++) {
        ioapic_write(0x10 + 2 * i, MASKED | (T_TIMER + i));
        ioapic_write(0x11 + 2 * i, 0);
    }
    ioapic_write(0x10 + 2 * 14, T_IDE);
    ioapic_write(0x11 + 2 * 14, (uint32_t)bsp_apicid << 24);
    uint32_t lo = ioapic_read(0x10 + 2 * 14), hi = ioapic_read(0x11 + 2 * 14);
    if ((lo & 0x1FFFF) != T_IDE || hi >> 24 != (uint32_t)bsp_apicid)
        return fail("ioapic", "redirection entry 14 reads back 0x%x 0x%x", hi, lo);
    if (mp_ioapicid >= 0 && id != (uint32_t)mp_ioapicid)
        return fail("ioapic", "ID register says %u, the MP table %d", id, mp_ioapicid);
    kprintf("ioapic: id %u, version 0x%x, %u pins; IRQ 14 -> vector %d -> apic id %d\n", id,
            ver & 0xFF, maxintr + 1, T_IDE, bsp_apicid);
    return 0;
}
