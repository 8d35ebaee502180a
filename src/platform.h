/* platform.h - the PC platform every kernel and disk-boot guest gets: irqchip,
 * PIT, vCPUs, UART, RTC, i8042, PM, CGA, port 0x92, BDA, MP tables, disks. */
#ifndef MINI_KVM_PLATFORM_H
#define MINI_KVM_PLATFORM_H

#include "arch/acpi.h"

struct vm;
struct vga;
struct options;

struct platform {
    int nvirtio;
    struct acpi_virtio virtio[4];
    struct vga *vga;            /* the CRTC, for the screen dump */
};

/* Build the platform on a created VM (RAM present, no vCPUs yet).
 * Returns 0, or -1 after printing a reason. */
int platform_create(struct vm *vm, const struct options *opt, struct platform *p);

#endif
