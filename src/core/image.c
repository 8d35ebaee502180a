/* image.c - open, check, lock and size raw disk images, and move whole
 * buffers to and from them; the one place disk devices touch image files. */
#include "image.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Open with O_NONBLOCK so that a FIFO swapped in after stat() cannot block
 * us; the fstat comparison below then refuses it. */
static int open_checked(struct image *img, const struct stat *st)
{
    int flags = O_CLOEXEC | O_NONBLOCK;
    img->fd = open(img->path, (img->ro ? O_RDONLY : O_RDWR) | flags);
    if (img->fd < 0 && !img->ro && (errno == EACCES || errno == EROFS || errno == EPERM)) {
        img->ro = true;
        img->fd = open(img->path, O_RDONLY | flags);
    }
    if (img->fd < 0) {
        errorf("%s: cannot open disk image: %s", img->path, strerror(errno));
        return -1;
    }
    /* What we opened must still be what we checked (no swap in between). */
    struct stat now;
    if (fstat(img->fd, &now) < 0 || now.st_ino != st->st_ino || now.st_dev != st->st_dev) {
        errorf("%s: disk image changed while being opened", img->path);
        return -1;
    }
    int fl = fcntl(img->fd, F_GETFL);
    if (fl < 0 || fcntl(img->fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        errorf("%s: cannot set up disk image: %s", img->path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Image locking, compatible with QEMU (block/file-posix.c): open file
 * description (OFD) fcntl locks on single bytes. Bit i of QEMU's
 * permissions (0 consistent read, 1 write, 2 write unchanged, 3 resize)
 * has byte 100+i, read-locked by a user holding that permission, and byte
 * 200+i, read-locked by a user that does not let others have it. A user
 * may open the image when nobody holds a byte 200+i of a permission it
 * wants nor a byte 100+i of one it does not share. mini-kvm wants consistent
 * read (and write, read-write) and shares neither write nor resize, as
 * QEMU's own read-write and read-only disks do: two readers coexist, a
 * writer excludes everyone else, whichever of mini-kvm and QEMU it is.
 * OFD locks belong to the open file, so an image given twice in one
 * process conflicts with itself too. */
#define LOCK_PERM_BASE   100
#define LOCK_SHARED_BASE 200
enum { PERM_READ = 1 << 0, PERM_WRITE = 1 << 1, PERM_RESIZE = 1 << 3, PERM_BITS = 4 };

/* F_OFD_SETLK (take) or F_OFD_GETLK (test) one byte; for a test, 1 when
 * another open file holds it. -1 with errno on failure. */
static int lock_byte(int fd, int cmd, short type, off_t off)
{
    struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = off, .l_len = 1 };
    if (fcntl(fd, cmd, &fl) < 0)
        return -1;
    return cmd == F_OFD_GETLK && fl.l_type != F_UNLCK;
}

static int lock_image(struct image *img)
{
    unsigned perm = PERM_READ | (img->ro ? 0 : PERM_WRITE);
    unsigned unshared = PERM_WRITE | PERM_RESIZE;
    int busy = 0;
    for (int i = 0; i < PERM_BITS && busy == 0; i++) {      /* take ours */
        if (perm & 1u << i)
            busy = lock_byte(img->fd, F_OFD_SETLK, F_RDLCK, LOCK_PERM_BASE + i);
        if (busy == 0 && unshared & 1u << i)
            busy = lock_byte(img->fd, F_OFD_SETLK, F_RDLCK, LOCK_SHARED_BASE + i);
    }
    for (int i = 0; i < PERM_BITS && busy == 0; i++) {      /* then look at theirs */
        if (perm & 1u << i)
            busy = lock_byte(img->fd, F_OFD_GETLK, F_WRLCK, LOCK_SHARED_BASE + i);
        if (busy == 0 && unshared & 1u << i)
            busy = lock_byte(img->fd, F_OFD_GETLK, F_WRLCK, LOCK_PERM_BASE + i);
    }
    if (busy == 0)
        return 0;
    if (busy > 0 || errno == EAGAIN || errno == EACCES)
        errorf("%s: disk image is in use (by another process, or given twice)", img->path);
    else
        errorf("%s: cannot lock disk image: %s", img->path, strerror(errno));
    return -1;
}

/* Stat, type check, open with the most access allowed, lock. 0 or -1. */
static int open_image(struct image *img)
{
    struct stat st;
    if (stat(img->path, &st) < 0) {
        errorf("%s: cannot open disk image: %s", img->path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
        errorf("%s: disk image %s", img->path,
               S_ISDIR(st.st_mode) ? "is a directory" : "is not a regular file");
        return -1;
    }
    /* Root may write anything: honour a file without write permission. */
    if (!(st.st_mode & 0222))
        img->ro = true;
    if (open_checked(img, &st))
        return -1;
    return lock_image(img);
}

/* Size: non-zero and whole sectors, or -1 (reported). */
static int image_size(struct image *img)
{
    off_t size = lseek(img->fd, 0, SEEK_END);
    if (size < 0) {
        errorf("%s: cannot size disk image: %s", img->path, strerror(errno));
        return -1;
    }
    if (size == 0) {
        errorf("%s: disk image is empty", img->path);
        return -1;
    }
    if (size % IMAGE_SECTOR) {
        errorf("%s: disk image size %lld is not a multiple of %d", img->path,
               (long long)size, IMAGE_SECTOR);
        return -1;
    }
    img->size = (uint64_t)size;
    return 0;
}

int image_open(const char *path, bool want_ro, struct image *out)
{
    *out = (struct image){ .path = path, .fd = -1, .ro = want_ro };
    if (open_image(out) == 0 && image_size(out) == 0)
        return 0;
    image_close(out);
    return -1;
}

static void report_io(struct image *img, const char *what, uint64_t pos, int err)
{
    if (img->io_reported)
        return;
    img->io_reported = true;
    errorf("%s: %s error at byte %llu: %s", img->path, what, (unsigned long long)pos,
           err ? strerror(err) : "unexpected end of file");
}

int image_rw(struct image *img, void *buf, size_t len, uint64_t pos, bool write)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t r = write ? pwrite(img->fd, p, len, (off_t)pos)
                          : pread(img->fd, p, len, (off_t)pos);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            report_io(img, write ? "write" : "read", pos, r < 0 ? errno : 0);
            return -1;
        }
        p += r, pos += (uint64_t)r, len -= (size_t)r;
    }
    return 0;
}

int image_flush(struct image *img)
{
    if (img->ro || fdatasync(img->fd) == 0)
        return 0;
    report_io(img, "flush", 0, errno);
    return -1;
}

void image_close(struct image *img)
{
    if (img->fd >= 0)
        close(img->fd);
    img->fd = -1;
}
