/* virtio_mmio.h - the virtio-mmio transport (virtio 1.x, MMIO version 2),
 * shared by every virtio device (blk, net, rng, vsock); queues: virtqueue.h. */
#ifndef MINI_KVM_VIRTIO_MMIO_H
#define MINI_KVM_VIRTIO_MMIO_H

#include "arch/layout.h"    /* ports, addresses, IRQs */

#include <stdbool.h>
#include <stdint.h>

#include "core/virtio_table.h"
#include "devices/virtqueue.h"

struct vm;
struct virtio_mmio;

/* Placement: the VM's virtio table (core/virtio_table.h) gives each device
 * its slot; the addresses and GSIs are in arch/layout.h. */
#define VIRTIO_MMIO_MAGIC   0x74726976      /* "virt" */
#define VIRTIO_MMIO_VERSION 2
#define VIRTIO_MMIO_VENDOR  0x4D4B564D      /* "MKVM" */

/* Register offsets (virtio 1.2, 4.2.2). */
enum virtio_mmio_reg {
    VMMIO_MAGIC = 0x000, VMMIO_VERSION = 0x004, VMMIO_DEVICE_ID = 0x008,
    VMMIO_VENDOR_ID = 0x00c, VMMIO_DEV_FEATURES = 0x010, VMMIO_DEV_FEATURES_SEL = 0x014,
    VMMIO_DRV_FEATURES = 0x020, VMMIO_DRV_FEATURES_SEL = 0x024,
    VMMIO_QUEUE_SEL = 0x030, VMMIO_QUEUE_NUM_MAX = 0x034, VMMIO_QUEUE_NUM = 0x038,
    VMMIO_QUEUE_READY = 0x044, VMMIO_QUEUE_NOTIFY = 0x050,
    VMMIO_INT_STATUS = 0x060, VMMIO_INT_ACK = 0x064, VMMIO_STATUS = 0x070,
    VMMIO_QUEUE_DESC_LO = 0x080, VMMIO_QUEUE_DESC_HI = 0x084,
    VMMIO_QUEUE_DRIVER_LO = 0x090, VMMIO_QUEUE_DRIVER_HI = 0x094,
    VMMIO_QUEUE_DEVICE_LO = 0x0a0, VMMIO_QUEUE_DEVICE_HI = 0x0a4,
    VMMIO_SHM_SEL = 0x0ac, VMMIO_SHM_LEN_LO = 0x0b0, VMMIO_SHM_LEN_HI = 0x0b4,
    VMMIO_SHM_BASE_LO = 0x0b8, VMMIO_SHM_BASE_HI = 0x0bc,
    VMMIO_CONFIG_GEN = 0x0fc, VMMIO_CONFIG = 0x100,
};

/* Device status bits. */
#define VIRTIO_STATUS_ACK          1
#define VIRTIO_STATUS_DRIVER       2
#define VIRTIO_STATUS_DRIVER_OK    4
#define VIRTIO_STATUS_FEATURES_OK  8
#define VIRTIO_STATUS_NEEDS_RESET  0x40
#define VIRTIO_STATUS_FAILED       0x80

/* InterruptStatus bits. */
#define VIRTIO_INT_USED    1
#define VIRTIO_INT_CONFIG  2

#define VIRTIO_F_VERSION_1 32   /* feature bit number */

struct virtio_dev_ops {
    const char *name;                   /* "virtio-blk", for messages */
    uint32_t device_id;                 /* 2 = block, 1 = network */
    uint64_t features;                  /* VIRTIO_F_VERSION_1 is always added */
    unsigned num_queues;                /* <= VQ_MAX_QUEUES */
    unsigned queue_max;                 /* QueueNumMax, power of 2 <= VQ_MAX_SIZE */
    /* Read len (1..8) bytes of device config space at off into buf. */
    void (*config_read)(void *dev, uint64_t off, void *buf, unsigned len);
    /* The driver notified queue q (a vCPU thread, transport lock held). */
    void (*notify)(void *dev, struct virtio_mmio *t, unsigned q);
    /* Status was written 0: drop all device state. May be NULL. */
    void (*reset)(void *dev);
    /* The driver set DRIVER_OK with these features (transport lock held):
     * set up what depends on them (offloads), start I/O. May be NULL. */
    void (*activate)(void *dev, struct virtio_mmio *t, uint64_t features);
};

/* Place the device in the VM's next virtio slot (`what` names it in an
 * error: a path, a TAP name) and register its registers on vm->mmio, owned by
 * the VM. Returns NULL after printing an error. */
struct virtio_mmio *virtio_mmio_create(struct vm *vm, const struct virtio_dev_ops *ops,
                                       void *dev, const char *what);

/* The device's slot, for its --stats detail (slot->detail). */
struct virtio_slot *virtio_mmio_slot(struct virtio_mmio *t);

/* ---- for device code, with the transport lock held (it is, inside
 * ops->notify; other threads take it with virtio_mmio_lock) ---- */
void virtio_mmio_lock(struct virtio_mmio *t);
void virtio_mmio_unlock(struct virtio_mmio *t);

struct virtqueue *virtio_mmio_queue(struct virtio_mmio *t, unsigned q);

/* Pop the next available chain: 1 = popped, 0 = none (or the queue is not
 * usable), -1 = malformed (the device is marked NEEDS_RESET, reported once). */
int vq_pop(struct virtio_mmio *t, struct virtqueue *q, struct vq_chain *c);
/* vq_unpop, vq_push and the iov_* copies: devices/virtqueue.h. */

/* Raise the used-buffer interrupt if anything was pushed (done for you
 * after ops->notify returns). */
void virtio_mmio_signal(struct virtio_mmio *t, struct virtqueue *q);

/* A driver error: set DEVICE_NEEDS_RESET, tell the driver (config interrupt)
 * and print the reason once per device. */
void virtio_mmio_fail(struct virtio_mmio *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The eventfd of queue q that the I/O thread watches (KVM's ioeventfd on
 * QueueNotify); tests write it to notify as KVM would. -1 if none. */
int virtio_mmio_kick_fd(struct virtio_mmio *t, unsigned q);

/* vhost: true when KVM delivers QueueNotify to the kick fds (ioeventfd);
 * then virtio_mmio_detach_kicks stops the I/O thread from reading them, so
 * that the kernel's vhost worker alone serves the queues, and the device's
 * call handler raises the used-buffer interrupt (sets InterruptStatus, which
 * the guest's handler reads: a bare irqfd would not) with
 * virtio_mmio_interrupt (takes the lock). */
bool virtio_mmio_has_ioeventfd(struct virtio_mmio *t);
void virtio_mmio_detach_kicks(struct virtio_mmio *t);
void virtio_mmio_interrupt(struct virtio_mmio *t);

/* The features the driver accepted (valid once FEATURES_OK is set). */
uint64_t virtio_mmio_features(struct virtio_mmio *t);

/* For tests: the level driven on the interrupt line. */
bool virtio_mmio_irq_level(struct virtio_mmio *t);

#endif
