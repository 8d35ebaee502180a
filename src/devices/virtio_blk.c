/* virtio_blk.c - virtio-blk on a raw image: read, write, flush and get-id,
 * every request bounds-checked against the image before pread/pwrite. */
#include "virtio_blk.h"
#include "core/devstate.h"
#include "virtio_mmio.h"
#include "core/image.h"
#include "core/util.h"
#include "core/vm.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct virtio_blk {
    struct virtio_dev_ops ops;      /* features depend on the image */
    struct image img;
    uint64_t sectors;
    char id[VIRTIO_BLK_ID_BYTES];
    struct vq_chain chain;          /* scratch, used under the transport lock */
};

struct blk_req_hdr {
    uint32_t type, reserved;
    uint64_t sector;
};

/* ---- config space (struct virtio_blk_config, the fields we offer) ---- */

static void blk_config_read(void *dev, uint64_t off, void *buf, unsigned len)
{
    struct virtio_blk *b = dev;
    uint8_t cfg[24] = { 0 };
    uint32_t seg_max = VIRTIO_BLK_QUEUE - 2;    /* + header and status */
    memcpy(cfg + 0, &b->sectors, 8);            /* capacity */
    memcpy(cfg + 12, &seg_max, 4);              /* seg_max */
    if (off < sizeof(cfg))
        memcpy(buf, cfg + off, off + len <= sizeof(cfg) ? len : sizeof(cfg) - off);
}

/* ---- requests ---- */

/* Move len bytes between the image at pos and the guest buffers iov[0, n),
 * starting skip bytes into them. 0, or -1 on a host error. */
static int chain_io(struct virtio_blk *b, const struct iovec *iov, unsigned n,
                    uint64_t skip, uint64_t len, uint64_t pos, bool write)
{
    for (unsigned i = 0; i < n && len; i++) {
        if (skip >= iov[i].iov_len) {
            skip -= iov[i].iov_len;
            continue;
        }
        uint8_t *p = (uint8_t *)iov[i].iov_base + skip;
        uint64_t k = iov[i].iov_len - skip;
        skip = 0;
        if (k > len)
            k = len;
        if (image_rw(&b->img, p, k, pos, write))
            return -1;
        pos += k, len -= k;
    }
    return len ? -1 : 0;
}

/* Is [sector, sector + len) inside the image, len a whole number of sectors? */
static bool in_range(const struct virtio_blk *b, uint64_t sector, uint64_t len)
{
    return len % VIRTIO_BLK_SECTOR == 0 && sector <= b->sectors &&
           len / VIRTIO_BLK_SECTOR <= b->sectors - sector;
}

static uint8_t blk_read(struct virtio_blk *b, const struct vq_chain *c, uint64_t sector,
                        uint32_t *written)
{
    uint64_t len = c->wr_len - 1;               /* the last byte is status */
    if (!in_range(b, sector, len))
        return VIRTIO_BLK_S_IOERR;
    if (chain_io(b, c->iov + c->nr_rd, c->nr_wr, 0, len, sector * VIRTIO_BLK_SECTOR, false))
        return VIRTIO_BLK_S_IOERR;
    *written = len < UINT32_MAX ? (uint32_t)(len + 1) : UINT32_MAX;
    return VIRTIO_BLK_S_OK;
}

static uint8_t blk_write(struct virtio_blk *b, const struct vq_chain *c, uint64_t sector)
{
    uint64_t len = c->rd_len - sizeof(struct blk_req_hdr);
    if (b->img.ro || !in_range(b, sector, len))
        return VIRTIO_BLK_S_IOERR;
    if (chain_io(b, c->iov, c->nr_rd, sizeof(struct blk_req_hdr), len,
                 sector * VIRTIO_BLK_SECTOR, true))
        return VIRTIO_BLK_S_IOERR;
    return VIRTIO_BLK_S_OK;
}

static uint8_t blk_flush(struct virtio_blk *b)
{
    return image_flush(&b->img) ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK;
}

static uint8_t blk_get_id(struct virtio_blk *b, const struct vq_chain *c, uint32_t *written)
{
    uint64_t n = c->wr_len - 1;
    if (n > VIRTIO_BLK_ID_BYTES)
        n = VIRTIO_BLK_ID_BYTES;
    iov_from_buf(c->iov + c->nr_rd, c->nr_wr, 0, b->id, n);
    *written = (uint32_t)(n + 1);
    return VIRTIO_BLK_S_OK;
}

/* Serve one chain: header (device-readable), data, status (the last
 * device-writable byte). Returns the bytes written for the used ring. */
static uint32_t blk_request(struct virtio_blk *b, const struct vq_chain *c)
{
    struct blk_req_hdr h;
    uint32_t written = 1;
    uint8_t st;
    if (iov_to_buf(c->iov, c->nr_rd, 0, &h, sizeof(h)) < sizeof(h)) {
        st = VIRTIO_BLK_S_IOERR;
    } else {
        switch (h.type) {
        case VIRTIO_BLK_T_IN:     st = blk_read(b, c, h.sector, &written); break;
        case VIRTIO_BLK_T_OUT:    st = blk_write(b, c, h.sector); break;
        case VIRTIO_BLK_T_FLUSH:  st = blk_flush(b); break;
        case VIRTIO_BLK_T_GET_ID: st = blk_get_id(b, c, &written); break;
        default:                  st = VIRTIO_BLK_S_UNSUPP; break;
        }
    }
    iov_from_buf(c->iov + c->nr_rd, c->nr_wr, c->wr_len - 1, &st, 1);
    return written;
}

static void blk_notify(void *dev, struct virtio_mmio *t, unsigned qi)
{
    struct virtio_blk *b = dev;
    struct virtqueue *q = virtio_mmio_queue(t, qi);
    struct vq_chain *c = &b->chain;
    while (vq_pop(t, q, c) > 0) {
        if (c->wr_len == 0) {
            virtio_mmio_fail(t, "request %u has no status byte", c->head);
            return;
        }
        vq_push(q, c->head, blk_request(b, c));
    }
}

/* ---- creation ---- */

static void make_id(struct virtio_blk *b)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s", b->img.path);
    /* VIRTIO_BLK_ID_BYTES, zero-padded, not necessarily NUL-terminated */
    const char *base = basename(tmp);
    memcpy(b->id, base, strnlen(base, VIRTIO_BLK_ID_BYTES));
}

/* vm_destroy: close the image (dropping its lock) before freeing. */
static void blk_release(void *p)
{
    struct virtio_blk *b = p;
    image_close(&b->img);
    free(b);
}

/* Snapshot record: the disk is not in the snapshot (the user copies it);
 * its size is, so a restore refuses an image that changed size. */
struct blk_rec { uint64_t sectors; uint8_t ro, pad[7]; };

static void blk_save(void *dev, void *rec)
{
    struct virtio_blk *b = dev;
    *(struct blk_rec *)rec = (struct blk_rec){ b->sectors, b->img.ro, { 0 } };
}

static int blk_restore(void *dev, const void *rec)
{
    struct virtio_blk *b = dev;
    const struct blk_rec *r = rec;
    if (r->sectors != b->sectors || r->ro != b->img.ro) {
        errorf("%s: disk image changed since the snapshot (%llu sectors%s then, %llu%s now)",
               b->img.path, (unsigned long long)r->sectors, r->ro ? " read-only" : "",
               (unsigned long long)b->sectors, b->img.ro ? " read-only" : "");
        return -1;
    }
    return 0;
}

static const struct devstate_ops blk_state = {
    "virtio-blk", sizeof(struct blk_rec), blk_save, blk_restore,
};

int virtio_blk_create(struct vm *vm, const char *path)
{
    struct image img;
    return image_open(path, false, &img) ? -1 : virtio_blk_attach(vm, &img);
}

int virtio_blk_attach(struct vm *vm, const struct image *img)
{
    struct virtio_blk *b = xcalloc(1, sizeof(*b));
    const char *path = img->path;
    b->img = *img;
    b->sectors = b->img.size / VIRTIO_BLK_SECTOR;
    make_id(b);
    b->ops = (struct virtio_dev_ops){
        .name = "virtio-blk",
        .device_id = VIRTIO_ID_BLOCK,
        .features = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_FLUSH) |
                    (b->img.ro ? 1ULL << VIRTIO_BLK_F_RO : 0),
        .num_queues = 1,
        .queue_max = VIRTIO_BLK_QUEUE,
        .config_read = blk_config_read,
        .notify = blk_notify,
    };
    struct virtio_mmio *t = virtio_mmio_create(vm, &b->ops, b, path);
    if (!t)
        goto fail;
    snprintf(virtio_mmio_slot(t)->detail, sizeof(virtio_mmio_slot(t)->detail), "%s%s",
             path, b->img.ro ? " (read-only)" : "");
    vm_own_fn(vm, b, blk_release);
    vm_add_state(vm, &blk_state, b);
    return 0;
fail:
    image_close(&b->img);
    free(b);
    return -1;
}
