/* acpi.h - the ACPI tables a Linux guest needs: RSDP, XSDT/RSDT, FADT (PM1a
 * ports, reset register), FACS, MADT (CPUs, IOAPIC) and a hand-made DSDT. */
#ifndef MINI_KVM_ACPI_H
#define MINI_KVM_ACPI_H

#include <stdint.h>

struct vm;

#include "arch/layout.h"

/* The tables live in the BIOS area (ACPI_AREA_START..ACPI_AREA_END in
 * layout.h), reserved in the e820 map; the RSDP is at its start (16-byte
 * aligned, found by the 0xE0000-0xFFFFF scan and by
 * boot_params.acpi_rsdp_addr). */
#define ACPI_RSDP_ADDR  ACPI_AREA_START

/* A legacy ISA device in the DSDT: one or two I/O ranges and one edge IRQ. */
struct acpi_legacy {
    const char *name;       /* 4-character ACPI name */
    const char *hid;        /* EISA id, e.g. "PNP0501" */
    unsigned uid;
    uint16_t port;
    uint8_t nports, irq;
    uint16_t port2;         /* a second range, if nports2 > 0 */
    uint8_t nports2;
};

#define ACPI_NLEGACY 3
extern const struct acpi_legacy acpi_legacy_devices[ACPI_NLEGACY];  /* COM1, RTC, KBD */

/* Write every table into guest RAM at ACPI_AREA_START. ncpus LAPIC entries
 * (APIC id = vCPU index); the DSDT has one device per entry of the VM's
 * virtio table (vm->virtio): _HID "LNRO0005" with Memory32Fixed (base, size)
 * and one level-triggered, active-high interrupt (gsi). Returns 0, or -1
 * after printing a reason (RAM smaller than 1 MiB, too many CPUs). */
int acpi_setup(struct vm *vm, int ncpus);

/* Sum of len bytes (a valid table sums to 0). For tests. */
uint8_t acpi_checksum(const uint8_t *p, uint64_t len);

#endif
