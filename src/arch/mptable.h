/* mptable.h - Intel MultiProcessor Specification 1.4 tables (floating
 * pointer + configuration table) for kernels that read MP, not ACPI (xv6). */
#ifndef MINI_KVM_MPTABLE_H
#define MINI_KVM_MPTABLE_H

#include <stdint.h>

struct vm;

#define MP_FPS_LEN      16      /* floating pointer structure */
#define MP_HDR_LEN      44      /* configuration table header */
#define MP_PROC_LEN     20
#define MP_ENTRY_LEN    8       /* bus, I/O APIC, I/O and local interrupt entries */
#define MP_ISA_IRQS     16
/* I/O interrupt entries: ISA IRQs 0-15 except 2 (IRQ 0 is routed to pin 2,
 * as the MADT's interrupt source override says; nothing is wired to IRQ 2). */
#define MP_NR_IOINT     (MP_ISA_IRQS - 1)
#define MP_NR_LINT      2       /* ExtINT on LINT0, NMI on LINT1 */
#define MP_TABLE_LEN(ncpus) (MP_HDR_LEN + MP_PROC_LEN * (ncpus) + \
                             MP_ENTRY_LEN * (2 + MP_NR_IOINT + MP_NR_LINT))

#define MP_IOAPIC_ID    0       /* what KVM's in-kernel IOAPIC reports */
#define MP_IOAPIC_VER   0x11
#define MP_LAPIC_VER    0x14    /* KVM's in-kernel LAPIC version */

/* Entry types and interrupt types of the MP specification. */
enum { MP_PROC = 0, MP_BUS = 1, MP_IOAPIC = 2, MP_IOINT = 3, MP_LINT = 4 };
enum { MP_INT = 0, MP_NMI = 1, MP_SMI = 2, MP_EXTINT = 3 };

/* Write the floating pointer at MPTABLE_ADDR (arch/layout.h) and the
 * configuration table after it: one processor per vCPU (APIC id = vCPU
 * index, cpu 0 the BSP), the ISA bus, the I/O APIC, ISA interrupts routed
 * as in the MADT. Returns 0, or -1 after printing a reason. */
int mptable_setup(struct vm *vm, int ncpus);

#endif
