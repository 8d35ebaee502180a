/* platform.h - the PC platform every kernel guest gets: irqchip and PIT,
 * vCPUs with CPUID/MSRs, UART, RTC, i8042, ACPI PM and virtio disks. */
#ifndef MINI_KVM_PLATFORM_H
#define MINI_KVM_PLATFORM_H

#include "arch/acpi.h"

struct vm;
struct options;

struct platform {
    int nvirtio;
    struct acpi_virtio virtio[4];
};

/* Build the platform on a created VM (RAM present, no vCPUs yet).
 * Returns 0, or -1 after printing a reason. */
int platform_create(struct vm *vm, const struct options *opt, struct platform *p);

#endif
