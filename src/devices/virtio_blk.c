/* virtio_blk.c - virtio-blk on a raw image: read, write, flush and get-id,
 * every request bounds-checked against the image before pread/pwrite. */
#include "virtio_blk.h"
#include "virtio_mmio.h"
#include "core/util.h"
#include "core/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct virtio_blk {
    struct virtio_dev_ops ops;      /* features depend on the image */
    const char *path;
    int fd;
    bool ro;
    bool io_reported;               /* a host I/O error was printed */
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

static void report_io(struct virtio_blk *b, const char *what, uint64_t pos, int err)
{
    if (b->io_reported)
        return;
    b->io_reported = true;
    errorf("%s: %s error at byte %llu: %s", b->path, what, (unsigned long long)pos,
           err ? strerror(err) : "unexpected end of file");
}

/* Move len bytes between the image at pos and the guest buffers iov[0, n),
 * starting skip bytes into them. 0, or -1 on a host error. */
static int image_io(struct virtio_blk *b, const struct iovec *iov, unsigned n,
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
        while (k) {
            ssize_t r = write ? pwrite(b->fd, p, k, (off_t)pos)
                              : pread(b->fd, p, k, (off_t)pos);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0) {
                report_io(b, write ? "write" : "read", pos, r < 0 ? errno : 0);
                return -1;
            }
            p += r, pos += (uint64_t)r, k -= (uint64_t)r, len -= (uint64_t)r;
        }
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
    if (image_io(b, c->iov + c->nr_rd, c->nr_wr, 0, len, sector * VIRTIO_BLK_SECTOR, false))
        return VIRTIO_BLK_S_IOERR;
    *written = len < UINT32_MAX ? (uint32_t)(len + 1) : UINT32_MAX;
    return VIRTIO_BLK_S_OK;
}

static uint8_t blk_write(struct virtio_blk *b, const struct vq_chain *c, uint64_t sector)
{
    uint64_t len = c->rd_len - sizeof(struct blk_req_hdr);
    if (b->ro || !in_range(b, sector, len))
        return VIRTIO_BLK_S_IOERR;
    if (image_io(b, c->iov, c->nr_rd, sizeof(struct blk_req_hdr), len,
                 sector * VIRTIO_BLK_SECTOR, true))
        return VIRTIO_BLK_S_IOERR;
    return VIRTIO_BLK_S_OK;
}

static uint8_t blk_flush(struct virtio_blk *b)
{
    if (b->ro || fdatasync(b->fd) == 0)
        return VIRTIO_BLK_S_OK;
    report_io(b, "flush", 0, errno);
    return VIRTIO_BLK_S_IOERR;
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

/* Open the image with the most access it allows; 0 or -1 (reported). */
static int open_image(struct virtio_blk *b)
{
    struct stat st;
    if (stat(b->path, &st) < 0) {
        errorf("%s: cannot open disk image: %s", b->path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        errorf("%s: disk image %s", b->path,
               S_ISDIR(st.st_mode) ? "is a directory" : "is not a regular file");
        return -1;
    }
    /* Root may write anything: honour a file without write permission. */
    b->ro = !(st.st_mode & 0222);
    b->fd = open(b->path, (b->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
    if (b->fd < 0 && !b->ro && (errno == EACCES || errno == EROFS || errno == EPERM)) {
        b->ro = true;
        b->fd = open(b->path, O_RDONLY | O_CLOEXEC);
    }
    if (b->fd < 0) {
        errorf("%s: cannot open disk image: %s", b->path, strerror(errno));
        return -1;
    }
    /* What we opened must still be what we checked (no swap in between). */
    struct stat now;
    if (fstat(b->fd, &now) < 0 || now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
        errorf("%s: disk image changed while being opened", b->path);
        return -1;
    }
    if (flock(b->fd, (b->ro ? LOCK_SH : LOCK_EX) | LOCK_NB) < 0) {
        errorf("%s: disk image is in use by another process (%s)", b->path,
               strerror(errno));
        return -1;
    }
    return 0;
}

/* Size in sectors: non-zero and whole sectors, or -1 (reported). */
static int image_size(struct virtio_blk *b)
{
    off_t size = lseek(b->fd, 0, SEEK_END);
    if (size < 0) {
        errorf("%s: cannot size disk image: %s", b->path, strerror(errno));
        return -1;
    }
    if (size == 0) {
        errorf("%s: disk image is empty", b->path);
        return -1;
    }
    if (size % VIRTIO_BLK_SECTOR) {
        errorf("%s: disk image size %lld is not a multiple of %d", b->path,
               (long long)size, VIRTIO_BLK_SECTOR);
        return -1;
    }
    b->sectors = (uint64_t)size / VIRTIO_BLK_SECTOR;
    return 0;
}

static void make_id(struct virtio_blk *b)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s", b->path);
    /* VIRTIO_BLK_ID_BYTES, zero-padded, not necessarily NUL-terminated */
    const char *base = basename(tmp);
    memcpy(b->id, base, strnlen(base, VIRTIO_BLK_ID_BYTES));
}

/* vm_destroy: close the image (dropping its lock) before freeing. */
static void blk_release(void *p)
{
    struct virtio_blk *b = p;
    if (b->fd >= 0)
        close(b->fd);
    free(b);
}

int virtio_blk_create(struct vm *vm, const char *path, int index)
{
    if (index < 0 || index >= VIRTIO_MMIO_MAX) {
        errorf("%s: too many virtio devices (at most %d)", path, VIRTIO_MMIO_MAX);
        return -1;
    }
    struct virtio_blk *b = xcalloc(1, sizeof(*b));
    b->path = path;
    b->fd = -1;
    if (open_image(b) || image_size(b))
        goto fail;
    make_id(b);
    b->ops = (struct virtio_dev_ops){
        .name = "virtio-blk",
        .device_id = VIRTIO_ID_BLOCK,
        .features = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_FLUSH) |
                    (b->ro ? 1ULL << VIRTIO_BLK_F_RO : 0),
        .num_queues = 1,
        .queue_max = VIRTIO_BLK_QUEUE,
        .config_read = blk_config_read,
        .notify = blk_notify,
    };
    if (!virtio_mmio_create(vm, VIRTIO_MMIO_SLOT_BASE(index), VIRTIO_MMIO_SLOT_GSI(index),
                            &b->ops, b))
        goto fail;
    vm_own_fn(vm, b, blk_release);
    return 0;
fail:
    if (b->fd >= 0)
        close(b->fd);
    free(b);
    return -1;
}
