/* vhost.c - the vhost ioctls common to vhost-net and vhost-vsock: the kernel
 * then moves the device's data between the rings and the host itself. */
#include "vhost.h"
#include "virtio_mmio.h"
#include "core/util.h"
#include "core/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/vhost.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* The feature bits a vhost device can take from the driver: ring and
 * transport features, not the device's own (net's MAC, CSUM, ...). */
#define VHOST_TRANSPORT_BITS (0xFFFFFFFF00000000ULL | 1ULL << 28 | 1ULL << 29)

int vhost_open(struct vhost *v, const char *dev, struct vm *vm, const char *name)
{
    v->name = name;
    v->fd = open(dev, O_RDWR | O_CLOEXEC);
    if (v->fd < 0) {
        if (errno == ENOENT)
            return 1;
        errorf("%s: cannot open %s: %s", name, dev, strerror(errno));
        return -1;
    }
    size_t sz = sizeof(struct vhost_memory) + MEM_MAX_REGIONS * sizeof(struct vhost_memory_region);
    struct vhost_memory *m = xcalloc(1, sz);
    m->nregions = (uint32_t)vm->mem.nr;
    for (int i = 0; i < vm->mem.nr; i++)
        m->regions[i] = (struct vhost_memory_region){
            .guest_phys_addr = vm->mem.r[i].gpa, .memory_size = vm->mem.r[i].size,
            .userspace_addr = (uint64_t)(uintptr_t)vm->mem.r[i].host,
        };
    const char *what = NULL;
    if (ioctl(v->fd, VHOST_SET_OWNER) < 0)
        what = "VHOST_SET_OWNER";
    else if (ioctl(v->fd, VHOST_GET_FEATURES, &v->features) < 0)
        what = "VHOST_GET_FEATURES";
    else if (ioctl(v->fd, VHOST_SET_MEM_TABLE, m) < 0)
        what = "VHOST_SET_MEM_TABLE";
    free(m);
    if (what) {
        errorf("%s: %s %s: %s", name, dev, what, strerror(errno));
        vhost_close(v);
        return -1;
    }
    return 0;
}

int vhost_set_features(struct vhost *v, uint64_t driver_features, uint64_t device_bits)
{
    uint64_t f = driver_features & v->features & (VHOST_TRANSPORT_BITS | device_bits);
    if (ioctl(v->fd, VHOST_SET_FEATURES, &f) < 0) {
        errorf("%s: VHOST_SET_FEATURES 0x%llx: %s", v->name, (unsigned long long)f,
               strerror(errno));
        return -1;
    }
    return 0;
}

int vhost_start_queue(struct vhost *v, unsigned qi, const struct virtqueue *q,
                      int kick, int call)
{
    /* Only a ready queue's size and rings were checked against guest RAM
     * (vq_map). A queue the guest disabled again keeps the old ring
     * pointers while QueueNum takes any value: the kernel would then walk
     * and write rings past the end of guest RAM, in our own memory (found
     * by fuzz/virtio_vsock.c). A queue never made ready has no rings. */
    if (!q->ready) {
        errorf("%s: queue %u is not ready at DRIVER_OK", v->name, qi);
        return -1;
    }
    struct vhost_vring_state num = { .index = qi, .num = q->num };
    struct vhost_vring_state base = { .index = qi, .num = q->last_avail };
    struct vhost_vring_addr addr = {
        .index = qi,
        .desc_user_addr = (uint64_t)(uintptr_t)q->desc,
        .avail_user_addr = (uint64_t)(uintptr_t)q->avail,
        .used_user_addr = (uint64_t)(uintptr_t)q->used,
    };
    struct vhost_vring_file k = { .index = qi, .fd = kick }, c = { .index = qi, .fd = call };
    const char *what = ioctl(v->fd, VHOST_SET_VRING_NUM, &num) < 0 ? "VHOST_SET_VRING_NUM"
                     : ioctl(v->fd, VHOST_SET_VRING_BASE, &base) < 0 ? "VHOST_SET_VRING_BASE"
                     : ioctl(v->fd, VHOST_SET_VRING_ADDR, &addr) < 0 ? "VHOST_SET_VRING_ADDR"
                     : ioctl(v->fd, VHOST_SET_VRING_KICK, &k) < 0 ? "VHOST_SET_VRING_KICK"
                     : ioctl(v->fd, VHOST_SET_VRING_CALL, &c) < 0 ? "VHOST_SET_VRING_CALL" : NULL;
    if (what) {
        errorf("%s: queue %u: %s: %s", v->name, qi, what, strerror(errno));
        return -1;
    }
    return 0;
}

void vhost_close(struct vhost *v)
{
    if (v->fd >= 0)
        close(v->fd);
    v->fd = -1;
}
