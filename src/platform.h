/* platform.h - the PC platform every kernel and disk-boot guest gets: irqchip,
 * PIT, vCPUs, UART, RTC, i8042, PM, CGA, port 0x92, BDA, MP tables, disks;
 * the virtio devices are recorded in vm->virtio. */
#ifndef MINI_KVM_PLATFORM_H
#define MINI_KVM_PLATFORM_H

struct vm;
struct vga;
struct i8042;
struct options;

struct platform {
    struct vga *vga;            /* the CRTC, for the screen dump */
    struct i8042 *i8042;        /* the keyboard controller, for SendCtrlAltDel */
};

/* Build the platform on a created VM (RAM present, no vCPUs yet).
 * Returns 0, or -1 after printing a reason. */
int platform_create(struct vm *vm, const struct options *opt, struct platform *p);

#endif
