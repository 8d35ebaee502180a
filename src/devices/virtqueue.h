/* virtqueue.h - split virtqueues (virtio 1.2, 2.7) as the device sees them:
 * ring mapping, the descriptor chain walk, the used ring and iovec copies. */
#ifndef MINI_KVM_VIRTQUEUE_H
#define MINI_KVM_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct guest_mem;

/* Descriptor flags. */
#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4

/* Ring feature bits (virtio 1.2, 6), offered by the transport for every
 * device: the walk follows indirect tables, and EVENT_IDX suppresses
 * notifications both ways (used_event / avail_event, 2.7.7-2.7.10). */
#define VIRTIO_RING_F_INDIRECT_DESC 28
#define VIRTIO_RING_F_EVENT_IDX     29
#define VIRTQ_AVAIL_F_NO_INTERRUPT  1

struct virtq_desc { uint64_t addr; uint32_t len; uint16_t flags, next; };
struct virtq_avail { uint16_t flags, idx, ring[]; /* then used_event */ };
struct virtq_used_elem { uint32_t id, len; };
struct virtq_used { uint16_t flags, idx; struct virtq_used_elem ring[]; };

#define VQ_MAX_SIZE   256   /* largest QueueNumMax a device may ask for */
#define VQ_MAX_QUEUES 4

struct virtqueue {
    uint32_t num, num_max;              /* QueueNum, QueueNumMax */
    bool ready;
    uint64_t desc_gpa, avail_gpa, used_gpa;
    /* Host views of the rings, bounds-checked when the queue became ready. */
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    struct virtq_used *used;
    uint16_t last_avail, used_idx;
    bool pushed;                        /* used entries since last signal */
    bool indirect, event_idx;           /* the ring features the driver took */
    bool signalled_valid;               /* signalled holds a used index */
    uint16_t signalled;                 /* used_idx at the last interrupt */
};

/* One available descriptor chain, as host buffers: iov[0, nr_rd) are
 * device-readable, iov[nr_rd, nr_rd + nr_wr) device-writable. */
struct vq_chain {
    uint16_t head;
    unsigned nr_rd, nr_wr;
    uint64_t rd_len, wr_len;            /* total bytes of each part */
    struct iovec iov[VQ_MAX_SIZE];
};

/* Forget everything; the queue offers num_max entries (0: no such queue). */
void vq_reset(struct virtqueue *q, unsigned num_max);

/* Validate the queue's size, alignment and that all three rings lie in guest
 * RAM; keep the checked host pointers. 0, or -1 with the reason in why. */
int vq_map(struct virtqueue *q, const struct guest_mem *mem, char *why, size_t n);

/* DRIVER_OK with these features: which ring features the queue follows. */
void vq_set_features(struct virtqueue *q, uint64_t features);

/* Take the next available chain of a mapped queue: 1 = taken, 0 = none,
 * -1 = malformed (loop, range, a buffer outside RAM) with the reason in why;
 * the queue is then unusable until the driver resets it. Finding none with
 * EVENT_IDX, it first asks the driver to notify at the next entry
 * (avail_event) and looks once more, so no notification is lost. */
int vq_next(struct virtqueue *q, const struct guest_mem *mem, struct vq_chain *c,
            char *why, size_t n);

/* Give back the chain just taken (the device could not use it yet: no
 * packet to receive after all); the next vq_next returns it again. */
void vq_unpop(struct virtqueue *q);
/* Return a chain to the driver with `written` bytes stored in it. */
void vq_push(struct virtqueue *q, uint16_t head, uint32_t written);
/* Does the driver want an interrupt for what was pushed since the last
 * call? (EVENT_IDX: used_event crossed; otherwise no NO_INTERRUPT flag.)
 * Whatever the guest wrote there only decides its own interrupts. */
bool vq_need_signal(struct virtqueue *q);

/* Scatter/gather copies over iov[0, n), starting `off` bytes in. Return the
 * bytes copied (less than len when the buffers end first). */
uint64_t iov_to_buf(const struct iovec *iov, unsigned n, uint64_t off,
                    void *buf, uint64_t len);
uint64_t iov_from_buf(const struct iovec *iov, unsigned n, uint64_t off,
                      const void *buf, uint64_t len);

#endif
