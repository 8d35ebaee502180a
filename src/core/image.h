/* image.h - raw disk images shared by the disk devices (virtio-blk, IDE): open
 * with the checks bad input needs, lock, size, and whole-buffer I/O. */
#ifndef MINI_KVM_IMAGE_H
#define MINI_KVM_IMAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IMAGE_SECTOR 512

struct image {
    const char *path;       /* for messages; not copied */
    int fd;                 /* -1 when closed */
    bool ro;                /* opened read-only (asked for, or forced) */
    bool io_reported;       /* a host I/O error was printed: only once */
    uint64_t size;          /* bytes: a non-zero multiple of IMAGE_SECTOR */
};

/* Open `path` as a disk image: a regular file or block device whose size is
 * a non-zero multiple of IMAGE_SECTOR, read-write unless want_ro or the
 * file or its file system is read-only, locked with QEMU's OFD byte locks
 * (image.c) so that a second user - another mini-kvm, QEMU, or the same
 * image given twice - is refused while either of them writes. Never blocks (a FIFO is refused).
 * Returns 0, or -1 after one error line naming the file (out->fd = -1). */
int image_open(const char *path, bool want_ro, struct image *out);

/* Move len bytes between buf and the image at byte pos (pread/pwrite until
 * done). 0, or -1 after reporting the first host error of this image. */
int image_rw(struct image *img, void *buf, size_t len, uint64_t pos, bool write);

/* fdatasync (nothing to do when read-only); 0, or -1 reported once. */
int image_flush(struct image *img);

/* Close the image (dropping its lock); safe on a closed image. */
void image_close(struct image *img);

#endif
