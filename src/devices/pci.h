/* pci.h - PCI configuration mechanism #1 (ports 0xCF8/0xCFC) with one host
 * bridge at 00:00.0 and nothing else: absent functions read all ones. */
#ifndef MINI_KVM_PCI_H
#define MINI_KVM_PCI_H

#include <stdint.h>

struct vm;

#define PCI_IO_LEN          8       /* PCI_CONFIG_ADDR (layout.h) to 0xCFF; 0xCF9
                                     * (reset) stays with pm.c */

/* The host bridge's identity: Red Hat's "QEMU PCIe host bridge" id, which no
 * guest binds a chipset driver to (memtest86+ reads no memory controller). */
#define PCI_HOST_VENDOR     0x1B36
#define PCI_HOST_DEVICE     0x0008
#define PCI_CLASS_HOST      0x060000    /* bridge, host bridge */

/* Register the config ports (after pm_create: 0xCF9 keeps its byte). */
int pci_create(struct vm *vm);

/* A config-space dword as the guest reads it: the host bridge's, or all ones
 * for any other bus/device/function. */
uint32_t pci_config_read(unsigned bus, unsigned dev, unsigned fn, unsigned reg);

#endif
