/* virtio_rng.c - virtio entropy device (virtio 1.2, 5.4): one request queue
 * whose device-writable buffers are filled with bytes from getrandom(2). */
#include "virtio_rng.h"
#include "virtio_mmio.h"
#include "core/util.h"
#include "core/vm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* A request asks for at most this much: Linux asks for 64 bytes at a time,
 * and a guest posting a huge buffer should not keep the vCPU in getrandom
 * for long. The used length tells the driver how much it got. */
#define RNG_MAX_PER_REQUEST 4096

struct virtio_rng {
    struct virtio_dev_ops ops;
    struct vq_chain chain;
};

/* Fill len bytes at p from the host's pool; returns the bytes filled. */
static uint64_t fill(uint8_t *p, uint64_t len)
{
    uint64_t done = 0;
    while (done < len) {
        ssize_t n = getrandom(p + done, len - done, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (uint64_t)n;
    }
    return done;
}

static uint32_t rng_request(const struct vq_chain *c)
{
    uint64_t want = c->wr_len < RNG_MAX_PER_REQUEST ? c->wr_len : RNG_MAX_PER_REQUEST;
    uint64_t done = 0;
    for (unsigned i = c->nr_rd; i < c->nr_rd + c->nr_wr && done < want; i++) {
        uint64_t k = c->iov[i].iov_len < want - done ? c->iov[i].iov_len : want - done;
        uint64_t got = fill(c->iov[i].iov_base, k);
        done += got;
        if (got < k)
            break;
    }
    return (uint32_t)done;
}

static void rng_notify(void *dev, struct virtio_mmio *t, unsigned qi)
{
    struct virtio_rng *r = dev;
    struct virtqueue *q = virtio_mmio_queue(t, qi);
    while (vq_pop(t, q, &r->chain) > 0)
        vq_push(q, r->chain.head, rng_request(&r->chain));
}

int virtio_rng_create(struct vm *vm)
{
    struct virtio_rng *r = xcalloc(1, sizeof(*r));
    r->ops = (struct virtio_dev_ops){
        .name = "virtio-rng",
        .device_id = VIRTIO_ID_RNG,
        .num_queues = 1,
        .queue_max = VIRTIO_RNG_QUEUE,
        .notify = rng_notify,
    };
    struct virtio_mmio *t = virtio_mmio_create(vm, &r->ops, r, "virtio-rng (--no-rng turns it off)");
    if (!t) {
        free(r);
        return -1;
    }
    snprintf(virtio_mmio_slot(t)->detail, sizeof(virtio_mmio_slot(t)->detail), "getrandom");
    vm_own(vm, r);
    return 0;
}
