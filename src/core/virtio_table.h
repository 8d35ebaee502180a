/* virtio_table.h - the one record of where a VM's virtio-mmio devices sit
 * (type, base, size, GSI), filled as they are created, read by ACPI, the ELF
 * boot info and --stats, so no two devices can be placed in the same slot. */
#ifndef MINI_KVM_VIRTIO_TABLE_H
#define MINI_KVM_VIRTIO_TABLE_H

#include "arch/layout.h"

#include <stdint.h>

/* Virtio device IDs (virtio 1.2, 5). */
#define VIRTIO_ID_NET   1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_RNG   4
#define VIRTIO_ID_VSOCK 19

struct virtio_slot {
    uint32_t device_id;         /* VIRTIO_ID_* */
    uint32_t gsi;
    uint64_t base;
    uint32_t size;
    char name[16];              /* "virtio-blk" */
    char detail[80];            /* for --stats: "disk.img", "tap0, userspace" */
    char notify[32];            /* "ioeventfd, irqfd" or "MMIO exits, KVM_IRQ_LINE" */
};

#define VIRTIO_MMIO_SLOT_BASE(i) (VIRTIO_MMIO_BASE + (uint64_t)(i) * VIRTIO_MMIO_STRIDE)
#define VIRTIO_MMIO_SLOT_GSI(i)  (VIRTIO_MMIO_GSI + (unsigned)(i))

struct virtio_table {
    struct virtio_slot slot[VIRTIO_MMIO_MAX];
    int n;
};

/* Take the next free slot for a device of this type. Returns it (base and
 * GSI filled in, detail empty), or NULL after one error line naming `what`
 * (e.g. the disk's path) when all VIRTIO_MMIO_MAX slots are taken. */
struct virtio_slot *virtio_table_add(struct virtio_table *t, const char *vm_name,
                                     uint32_t device_id, const char *name, const char *what);

/* --stats: one line per device on stderr under "[vm_name]". */
void virtio_table_print(const struct virtio_table *t, const char *vm_name);

#endif
