/* virtio_driver.h - a tiny virtio-mmio driver for unit tests: registers
 * through the VM's MMIO bus, rings in fake guest RAM, several queues. */
#ifndef MINI_KVM_TEST_VIRTIO_DRIVER_H
#define MINI_KVM_TEST_VIRTIO_DRIVER_H

#include "core/bus.h"
#include "core/mem.h"
#include "core/vm.h"
#include "devices/virtio_mmio.h"

#include <string.h>

struct vdrv_queue {
    uint64_t desc, avail, used;
    uint16_t size, avail_idx, used_seen;
};

struct vdrv {
    struct vm *vm;
    uint64_t base;                      /* the device's slot */
    struct vdrv_queue q[VQ_MAX_QUEUES];
};

static inline uint32_t vd_rd32(struct vdrv *d, uint64_t off)
{
    uint8_t b[4];
    struct io_req r = { .addr = d->base + off, .data = b, .len = 4, .write = false };
    assert_int_equal(bus_access(&d->vm->mmio, &r), IO_OK);
    return (uint32_t)io_get(&r);
}

static inline void vd_wr32(struct vdrv *d, uint64_t off, uint32_t v)
{
    uint8_t b[4];
    struct io_req r = { .addr = d->base + off, .data = b, .len = 4, .write = true };
    io_put(&r, v);
    assert_int_equal(bus_access(&d->vm->mmio, &r), IO_OK);
}

/* Config space: len bytes at off. */
static inline void vd_config(struct vdrv *d, unsigned off, void *buf, unsigned len)
{
    struct io_req r = { .addr = d->base + VMMIO_CONFIG + off, .data = buf, .len = len };
    assert_int_equal(bus_access(&d->vm->mmio, &r), IO_OK);
}

static inline void *vd_gp(struct vdrv *d, uint64_t gpa, uint64_t len)
{
    void *p = guest_ptr(&d->vm->mem, gpa, len);
    assert_non_null(p);
    return p;
}

static inline uint64_t vd_features(struct vdrv *d)
{
    vd_wr32(d, VMMIO_DEV_FEATURES_SEL, 0);
    uint64_t lo = vd_rd32(d, VMMIO_DEV_FEATURES);
    vd_wr32(d, VMMIO_DEV_FEATURES_SEL, 1);
    return lo | (uint64_t)vd_rd32(d, VMMIO_DEV_FEATURES) << 32;
}

/* Reset, ACK|DRIVER, write the features, FEATURES_OK; true if it stuck. */
static inline bool vd_negotiate(struct vdrv *d, uint64_t features)
{
    vd_wr32(d, VMMIO_STATUS, 0);
    vd_wr32(d, VMMIO_STATUS, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
    vd_wr32(d, VMMIO_DRV_FEATURES_SEL, 0);
    vd_wr32(d, VMMIO_DRV_FEATURES, (uint32_t)features);
    vd_wr32(d, VMMIO_DRV_FEATURES_SEL, 1);
    vd_wr32(d, VMMIO_DRV_FEATURES, (uint32_t)(features >> 32));
    vd_wr32(d, VMMIO_STATUS, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER |
                             VIRTIO_STATUS_FEATURES_OK);
    return vd_rd32(d, VMMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK;
}

/* Queue qi of `size` entries with its rings at desc, desc+0x1000, +0x2000. */
static inline void vd_queue(struct vdrv *d, unsigned qi, uint64_t desc, uint16_t size)
{
    struct vdrv_queue *q = &d->q[qi];
    *q = (struct vdrv_queue){ desc, desc + 0x1000, desc + 0x2000, size, 0, 0 };
    memset(vd_gp(d, desc, 0x3000), 0, 0x3000);
    vd_wr32(d, VMMIO_QUEUE_SEL, qi);
    vd_wr32(d, VMMIO_QUEUE_NUM, size);
    vd_wr32(d, VMMIO_QUEUE_DESC_LO, (uint32_t)q->desc);
    vd_wr32(d, VMMIO_QUEUE_DESC_HI, (uint32_t)(q->desc >> 32));
    vd_wr32(d, VMMIO_QUEUE_DRIVER_LO, (uint32_t)q->avail);
    vd_wr32(d, VMMIO_QUEUE_DRIVER_HI, 0);
    vd_wr32(d, VMMIO_QUEUE_DEVICE_LO, (uint32_t)q->used);
    vd_wr32(d, VMMIO_QUEUE_DEVICE_HI, 0);
    vd_wr32(d, VMMIO_QUEUE_READY, 1);
}

static inline void vd_driver_ok(struct vdrv *d)
{
    vd_wr32(d, VMMIO_STATUS, vd_rd32(d, VMMIO_STATUS) | VIRTIO_STATUS_DRIVER_OK);
}

static inline void vd_desc(struct vdrv *d, unsigned qi, unsigned i, uint64_t addr,
                           uint32_t len, uint16_t flags, uint16_t next)
{
    struct virtq_desc *p = vd_gp(d, d->q[qi].desc + 16 * i, 16);
    *p = (struct virtq_desc){ addr, len, flags, next };
}

/* Make chain `head` available on queue qi (no notification). */
static inline void vd_avail(struct vdrv *d, unsigned qi, uint16_t head)
{
    struct vdrv_queue *q = &d->q[qi];
    struct virtq_avail *a = vd_gp(d, q->avail, 4 + 2 * q->size);
    a->ring[q->avail_idx % q->size] = head;
    __atomic_store_n(&a->idx, ++q->avail_idx, __ATOMIC_RELEASE);
}

static inline void vd_notify(struct vdrv *d, unsigned qi)
{
    vd_wr32(d, VMMIO_QUEUE_NOTIFY, qi);
}

static inline uint16_t vd_used_idx(struct vdrv *d, unsigned qi)
{
    struct virtq_used *u = vd_gp(d, d->q[qi].used, 4);
    return __atomic_load_n(&u->idx, __ATOMIC_ACQUIRE);
}

/* The next used element not yet seen on queue qi; false if there is none. */
static inline bool vd_next_used(struct vdrv *d, unsigned qi, struct virtq_used_elem *e)
{
    struct vdrv_queue *q = &d->q[qi];
    if (vd_used_idx(d, qi) == q->used_seen)
        return false;
    struct virtq_used *u = vd_gp(d, q->used, 4 + 8 * q->size);
    *e = u->ring[q->used_seen++ % q->size];
    return true;
}

#endif
