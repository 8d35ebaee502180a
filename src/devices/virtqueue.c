/* virtqueue.c - the device side of split virtqueues: every ring and buffer
 * address checked by guest_ptr(), every guest index read once and bounded. */
#include "virtqueue.h"
#include "core/mem.h"

#include <stdio.h>
#include <string.h>

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "virtio rings are little-endian; this code assumes a little-endian host"
#endif

void vq_reset(struct virtqueue *q, unsigned num_max)
{
    memset(q, 0, sizeof(*q));
    q->num_max = num_max;
    q->num = num_max;
}

int vq_map(struct virtqueue *q, const struct guest_mem *mem, char *why, size_t n)
{
    uint64_t num = q->num;
    if (num == 0 || num > q->num_max || (num & (num - 1))) {
        snprintf(why, n, "invalid size %u (max %u, power of 2)", q->num, q->num_max);
        return -1;
    }
    if (q->desc_gpa % 16 || q->avail_gpa % 2 || q->used_gpa % 4) {
        snprintf(why, n, "misaligned ring address");
        return -1;
    }
    q->desc = guest_ptr(mem, q->desc_gpa, 16 * num);
    q->avail = guest_ptr(mem, q->avail_gpa, 6 + 2 * num);
    q->used = guest_ptr(mem, q->used_gpa, 6 + 8 * num);
    if (!q->desc || !q->avail || !q->used) {
        snprintf(why, n, "ring outside guest RAM (desc 0x%llx avail 0x%llx used 0x%llx, "
                 "size %u)", (unsigned long long)q->desc_gpa,
                 (unsigned long long)q->avail_gpa, (unsigned long long)q->used_gpa, q->num);
        return -1;
    }
    return 0;
}

void vq_set_features(struct virtqueue *q, uint64_t features)
{
    q->indirect = (features >> VIRTIO_RING_F_INDIRECT_DESC) & 1;
    q->event_idx = (features >> VIRTIO_RING_F_EVENT_IDX) & 1;
    q->signalled_valid = false;
}

/* Read one descriptor exactly once: the guest may change it under us. */
static struct virtq_desc read_desc(const struct virtqueue *q, uint16_t i)
{
    const struct virtq_desc *d = &q->desc[i];
    return (struct virtq_desc){
        .addr = __atomic_load_n(&d->addr, __ATOMIC_RELAXED),
        .len = __atomic_load_n(&d->len, __ATOMIC_RELAXED),
        .flags = __atomic_load_n(&d->flags, __ATOMIC_RELAXED),
        .next = __atomic_load_n(&d->next, __ATOMIC_RELAXED),
    };
}

/* Add one buffer to the chain; -1 (reason in why) when it is bad. */
static int chain_add(const struct virtqueue *q, const struct guest_mem *mem,
                     struct vq_chain *c, uint16_t i, const struct virtq_desc *d,
                     char *why, size_t n)
{
    void *p = guest_ptr(mem, d->addr, d->len);
    if (!p) {
        snprintf(why, n, "descriptor %u: buffer 0x%llx+%u outside guest RAM", i,
                 (unsigned long long)d->addr, d->len);
        return -1;
    }
    unsigned k = c->nr_rd + c->nr_wr;
    if (k >= q->num) {              /* indirect tables count too (2.7.5.3.1) */
        snprintf(why, n, "chain at descriptor %u longer than the queue", c->head);
        return -1;
    }
    c->iov[k] = (struct iovec){ p, d->len };
    if (d->flags & VIRTQ_DESC_F_WRITE) {
        c->nr_wr++;
        c->wr_len += d->len;
    } else if (c->nr_wr) {
        snprintf(why, n, "descriptor %u: device-readable after device-writable", i);
        return -1;
    } else {
        c->nr_rd++;
        c->rd_len += d->len;
    }
    return 0;
}

/* Walk the table of an indirect descriptor d (2.7.5.3): its entries are
 * copied once each, unaligned allowed, and may not be indirect themselves;
 * at most its own size of them (no loops). */
static int walk_indirect(const struct virtqueue *q, const struct guest_mem *mem,
                         struct vq_chain *c, uint16_t i, const struct virtq_desc *d,
                         char *why, size_t n)
{
    uint32_t count = d->len / sizeof(struct virtq_desc);
    const uint8_t *table = guest_ptr(mem, d->addr, d->len);
    const char *bad = !q->indirect ? "indirect descriptors not negotiated"
                    : d->flags & VIRTQ_DESC_F_NEXT ? "indirect descriptor with NEXT"
                    : d->len % sizeof(struct virtq_desc) || !count ? "indirect table length"
                    : !table ? "indirect table outside guest RAM" : NULL;
    if (bad) {
        snprintf(why, n, "descriptor %u: %s (0x%llx+%u)", i, bad,
                 (unsigned long long)d->addr, d->len);
        return -1;
    }
    uint32_t j = 0;
    for (uint32_t seen = 0;; seen++) {
        struct virtq_desc e;
        if (seen == count) {
            snprintf(why, n, "descriptor %u: indirect chain loops", i);
            return -1;
        }
        memcpy(&e, table + (size_t)j * sizeof(e), sizeof(e));
        if (e.flags & VIRTQ_DESC_F_INDIRECT) {
            snprintf(why, n, "descriptor %u: indirect inside indirect", i);
            return -1;
        }
        if (chain_add(q, mem, c, i, &e, why, n))
            return -1;
        if (!(e.flags & VIRTQ_DESC_F_NEXT))
            return 0;
        if (e.next >= count) {
            snprintf(why, n, "descriptor %u: indirect next %u out of range (%u)", i,
                     e.next, count);
            return -1;
        }
        j = e.next;
    }
}

/* Walk the chain from head; at most q->num descriptors (no loops). */
static int chain_walk(const struct virtqueue *q, const struct guest_mem *mem,
                      struct vq_chain *c, uint16_t head, char *why, size_t n)
{
    memset(c, 0, offsetof(struct vq_chain, iov));
    c->head = head;
    uint16_t i = head;
    for (unsigned count = 0;; count++) {
        if (count == q->num) {
            snprintf(why, n, "chain at descriptor %u longer than the queue (loop?)", head);
            return -1;
        }
        struct virtq_desc d = read_desc(q, i);
        if (d.flags & VIRTQ_DESC_F_INDIRECT)
            return walk_indirect(q, mem, c, i, &d, why, n);
        if (chain_add(q, mem, c, i, &d, why, n))
            return -1;
        if (!(d.flags & VIRTQ_DESC_F_NEXT))
            return 0;
        if (d.next >= q->num) {
            snprintf(why, n, "descriptor %u: next %u out of range (size %u)", i,
                     d.next, q->num);
            return -1;
        }
        i = d.next;
    }
}

/* EVENT_IDX: the driver's used_event and the device's avail_event live in
 * the spare slot after each ring (both inside the mapped rings). */
static uint16_t *used_event(const struct virtqueue *q) { return &q->avail->ring[q->num]; }
static uint16_t *avail_event(const struct virtqueue *q)
{
    return (uint16_t *)&q->used->ring[q->num];
}

/* The driver's avail index; with EVENT_IDX and nothing new, ask for a
 * notification at the next entry and read the index once more: the driver
 * stores its index and then reads avail_event, we store avail_event and
 * then read the index (a full fence each side), so one of us sees the other. */
static uint16_t avail_idx(const struct virtqueue *q)
{
    uint16_t idx = __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE);
    if (idx != q->last_avail || !q->event_idx)
        return idx;
    __atomic_store_n(avail_event(q), q->last_avail, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE);
}

int vq_next(struct virtqueue *q, const struct guest_mem *mem, struct vq_chain *c,
            char *why, size_t n)
{
    uint16_t idx = avail_idx(q);
    uint16_t waiting = (uint16_t)(idx - q->last_avail);
    if (waiting == 0)
        return 0;
    if (waiting > q->num) {
        snprintf(why, n, "avail index %u is %u entries ahead (queue size %u)",
                 idx, waiting, q->num);
        return -1;
    }
    uint16_t head = __atomic_load_n(&q->avail->ring[q->last_avail % q->num],
                                    __ATOMIC_RELAXED);
    if (head >= q->num) {
        snprintf(why, n, "avail ring entry %u out of range (size %u)", head, q->num);
        return -1;
    }
    if (chain_walk(q, mem, c, head, why, n))
        return -1;
    q->last_avail++;
    return 1;
}

void vq_unpop(struct virtqueue *q)
{
    q->last_avail--;
}

void vq_push(struct virtqueue *q, uint16_t head, uint32_t written)
{
    struct virtq_used_elem *e = &q->used->ring[q->used_idx % q->num];
    __atomic_store_n(&e->id, head, __ATOMIC_RELAXED);
    __atomic_store_n(&e->len, written, __ATOMIC_RELAXED);
    q->used_idx++;
    __atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
    q->pushed = true;
}

bool vq_need_signal(struct virtqueue *q)
{
    if (!q->pushed)
        return false;
    q->pushed = false;
    /* used.idx is stored; the driver stores used_event (or the flag) and
     * then re-reads used.idx: a full fence each side (see avail_idx). */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!q->event_idx)
        return !(__atomic_load_n(&q->avail->flags, __ATOMIC_RELAXED) &
                 VIRTQ_AVAIL_F_NO_INTERRUPT);
    uint16_t ev = __atomic_load_n(used_event(q), __ATOMIC_RELAXED);
    uint16_t old = q->signalled, now = q->used_idx;
    bool first = !q->signalled_valid;
    q->signalled = now;
    q->signalled_valid = true;
    /* vring_need_event: did used.idx pass used_event since the last one? */
    return first || (uint16_t)(now - ev - 1) < (uint16_t)(now - old);
}

/* Copy between a flat buffer and the iovec's bytes [off, off+len); the
 * direction says which way. Returns the bytes copied. */
static uint64_t iov_copy(const struct iovec *iov, unsigned n, uint64_t off,
                         uint8_t *buf, uint64_t len, bool to_iov)
{
    uint64_t done = 0;
    for (unsigned i = 0; i < n && done < len; i++) {
        if (off >= iov[i].iov_len) {
            off -= iov[i].iov_len;
            continue;
        }
        uint64_t k = iov[i].iov_len - off;
        if (k > len - done)
            k = len - done;
        uint8_t *guest = (uint8_t *)iov[i].iov_base + off;
        if (to_iov)
            memcpy(guest, buf + done, k);
        else
            memcpy(buf + done, guest, k);
        done += k;
        off = 0;
    }
    return done;
}

uint64_t iov_to_buf(const struct iovec *iov, unsigned n, uint64_t off,
                    void *buf, uint64_t len)
{
    return iov_copy(iov, n, off, buf, len, false);
}

uint64_t iov_from_buf(const struct iovec *iov, unsigned n, uint64_t off,
                      const void *buf, uint64_t len)
{
    return iov_copy(iov, n, off, (uint8_t *)(uintptr_t)buf, len, true);
}
