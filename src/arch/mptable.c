/* mptable.c - MP tables in the BIOS area, describing the same machine as
 * the MADT (acpi.c): vCPUs, the ISA bus, KVM's I/O APIC and its wiring. */
#include "mptable.h"
#include "acpi.h"
#include "layout.h"
#include "core/mem.h"
#include "core/util.h"
#include "core/vm.h"

#include <string.h>

#define PROC_EN         0x01
#define PROC_BSP        0x02
/* What the PROC entries report as CPU signature and feature flags (CPUID 1
 * EAX, EDX): a family 6 CPU with FPU and APIC. Only informative: kernels
 * take the real values from CPUID. */
#define PROC_SIGNATURE  0x00000600
#define PROC_FEATURES   ((1u << 0) | (1u << 9))
/* Interrupt flags: polarity in bits 0-1, trigger mode in bits 2-3 (the MADT
 * uses the same encoding); 0 = "conforms to the bus" (ISA: edge, high). */
#define IRQ_LEVEL_HIGH  0x000D

_Static_assert(MPTABLE_ADDR + MP_FPS_LEN + MP_TABLE_LEN(255) <= MPTABLE_END,
               "MP tables do not fit in their area");

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }

/* The destination pin of an ISA IRQ and its flags, exactly as the MADT's
 * interrupt source overrides say: IRQ 0 -> pin 2, the SCI level-triggered. */
static void isa_route(unsigned irq, uint8_t *pin, uint16_t *flags)
{
    *pin = irq == 0 ? 2 : (uint8_t)irq;
    *flags = irq == ACPI_SCI_IRQ ? IRQ_LEVEL_HIGH : 0;
}

static uint8_t *put_proc(uint8_t *e, int id)
{
    memset(e, 0, MP_PROC_LEN);
    e[0] = MP_PROC;
    e[1] = (uint8_t)id;                 /* APIC id = KVM vcpu id */
    e[2] = MP_LAPIC_VER;
    e[3] = PROC_EN | (id == 0 ? PROC_BSP : 0);
    put32(e + 4, PROC_SIGNATURE);
    put32(e + 8, PROC_FEATURES);
    return e + MP_PROC_LEN;
}

static uint8_t *put_int(uint8_t *e, uint8_t type, uint8_t itype, uint16_t flags,
                        uint8_t src_irq, uint8_t dst_id, uint8_t dst_pin)
{
    e[0] = type;
    e[1] = itype;
    put16(e + 2, flags);
    e[4] = 0;                           /* source bus: ISA, bus id 0 */
    e[5] = src_irq;
    e[6] = dst_id;
    e[7] = dst_pin;
    return e + MP_ENTRY_LEN;
}

/* The configuration table at t; returns its entry count. */
static uint16_t build_config(uint8_t *t, int ncpus)
{
    uint8_t *e = t + MP_HDR_LEN;
    for (int i = 0; i < ncpus; i++)
        e = put_proc(e, i);
    memcpy(e, "\x01\x00" "ISA   ", MP_ENTRY_LEN);      /* bus 0, type string */
    e += MP_ENTRY_LEN;
    e[0] = MP_IOAPIC;
    e[1] = MP_IOAPIC_ID;
    e[2] = MP_IOAPIC_VER;
    e[3] = 1;                           /* enabled */
    put32(e + 4, IOAPIC_ADDR);
    e += MP_ENTRY_LEN;
    for (unsigned irq = 0; irq < MP_ISA_IRQS; irq++) {
        uint8_t pin;
        uint16_t flags;
        if (irq == 2)
            continue;                   /* pin 2 is IRQ 0's; IRQ 2 is the cascade */
        isa_route(irq, &pin, &flags);
        e = put_int(e, MP_IOINT, MP_INT, flags, (uint8_t)irq, MP_IOAPIC_ID, pin);
    }
    /* The 8259 behind LINT0, NMI on LINT1 of every LAPIC (0xFF = all), as
     * x86_setup_lapic programs them and the MADT's LAPIC NMI entry says. */
    e = put_int(e, MP_LINT, MP_EXTINT, 0, 0, 0xFF, 0);
    e = put_int(e, MP_LINT, MP_NMI, 0, 0, 0xFF, 1);
    return (uint16_t)(ncpus + 2 + MP_NR_IOINT + MP_NR_LINT);
}

int mptable_setup(struct vm *vm, int ncpus)
{
    if (ncpus < 1 || ncpus > 255) {
        errorf("%s: MP table: unsupported number of CPUs (%d)", vm->name, ncpus);
        return -1;
    }
    uint32_t len = MP_TABLE_LEN((uint32_t)ncpus);
    uint32_t cfg = MPTABLE_ADDR + MP_FPS_LEN;
    uint8_t *fps = guest_ptr(&vm->mem, MPTABLE_ADDR, MP_FPS_LEN + len);
    if (!fps) {
        errorf("%s: MP tables need at least 1 MiB of guest RAM", vm->name);
        return -1;
    }
    memset(fps, 0, MP_FPS_LEN + len);
    uint8_t *t = fps + MP_FPS_LEN;
    uint16_t n = build_config(t, ncpus);
    memcpy(t, "PCMP", 4);
    put16(t + 4, (uint16_t)len);
    t[6] = 4;                           /* spec revision 1.4 */
    memcpy(t + 8, "MINIKVM ", 8);       /* OEM id */
    memcpy(t + 16, "MINI-KVM PC ", 12); /* product id */
    put16(t + 34, n);
    put32(t + 36, LAPIC_ADDR);
    t[7] = (uint8_t)(0x100 - acpi_checksum(t, len));

    memcpy(fps, "_MP_", 4);
    put32(fps + 4, cfg);
    fps[8] = 1;                         /* length in 16-byte units */
    fps[9] = 4;                         /* spec revision 1.4 */
    fps[11] = 0;                        /* type 0: the table above, no default config */
    fps[12] = 0;                        /* IMCRP clear: virtual wire mode, no IMCR */
    fps[10] = (uint8_t)(0x100 - acpi_checksum(fps, MP_FPS_LEN));
    return 0;
}
