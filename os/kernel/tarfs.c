/* tarfs.c - the file system IS a tar archive (ustar) on the virtio disk:
 * files are found by walking the headers and changed in place, so the disk
 * stays a valid archive that the host's `tar` can read and write. */
#include "kernel.h"

/* A tar archive: for each file a 512-byte header (name, size in octal, a
 * checksum) followed by the data padded to 512 bytes; two zero blocks end
 * it. We keep the list of headers in memory, rebuilt by scan(). */
#define MAXFILES 64
static struct {
    struct tfile {
        char name[NAME_MAX + 1];
        uint32_t size, sector;  /* sector = the header's */
    } f[MAXFILES];
    int n;
    uint32_t end;               /* where the end-of-archive blocks start */
    int ok, readonly;           /* a damaged archive is never written */
} fs;
static uint8_t blk[512] __attribute__((aligned(16)));

static uint32_t data_sectors(uint64_t size) { return (uint32_t)((size + 511) / 512); }

static uint64_t octal(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (; n > 0 && *p == ' '; n--)
        p++;
    for (; n > 0 && *p >= '0' && *p <= '7'; n--)
        v = v * 8 + (*p++ - '0');
    return v;
}

static void put_octal(uint8_t *p, int n, uint64_t v)
{
    p[--n] = 0;
    while (n-- > 0)
        p[n] = '0' + (v & 7), v >>= 3;
}

/* The sum of the header's bytes, its own 8-byte checksum field as spaces. */
static uint64_t checksum(const uint8_t *h)
{
    uint64_t sum = 0;
    for (int i = 0; i < 512; i++)
        sum += (i >= 148 && i < 156) ? ' ' : h[i];
    return sum;
}

static void fail(const char *why, uint32_t sector)
{
    kprintf("tarfs: %s at sector %u; the rest of the disk is ignored, "
            "the file system is read-only\n", why, sector);
    fs.readonly = 1;
}

/* Walk the headers from sector 0 to the end-of-archive marker. */
static void scan(void)
{
    uint32_t s = 0;
    fs.n = 0;
    while (s < disk_sectors) {
        const char *why = 0;
        uint64_t size = 0;
        if (disk_rw(s, blk, 0) < 0)
            why = "read error";
        else if (blk[0] == 0)
            break;              /* a zero block: the end of the archive */
        else if (strncmp((char *)blk + 257, "ustar", 5) || octal(blk + 148, 8) != checksum(blk))
            why = "bad tar header";
        else if (1 + data_sectors(size = octal(blk + 124, 12)) > disk_sectors - s)
            why = "file runs past the end of the disk";
        if (why) {
            fail(why, s);
            break;
        }
        if ((blk[156] == '0' || blk[156] == 0) && fs.n < MAXFILES) {
            struct tfile *f = &fs.f[fs.n++];    /* a regular file */
            memcpy(f->name, blk, NAME_MAX);
            f->name[NAME_MAX] = 0;
            f->size = (uint32_t)size, f->sector = s;
        }
        s += 1 + data_sectors(size);
    }
    fs.end = s;
}

void fs_init(void)
{
    fs.ok = disk_sectors > 0;
    if (!fs.ok)
        return;
    scan();
    kprintf("tarfs: %d files, %u of %lu sectors used\n", fs.n, fs.end, disk_sectors);
}

static struct tfile *lookup(const char *name)
{
    for (int i = 0; fs.ok && i < fs.n; i++)
        if (!strcmp(fs.f[i].name, name))
            return &fs.f[i];
    return 0;
}

/* Copy up to size bytes of the file to user address ubuf (checked by the
 * caller); the number of bytes copied, or -1. */
int fs_read(const char *name, uint64_t ubuf, uint64_t size)
{
    struct tfile *f = lookup(name);
    if (!f)
        return -1;
    uint64_t n = f->size < size ? f->size : size;
    for (uint64_t off = 0; off < n; off += 512) {
        if (disk_rw(f->sector + 1 + (uint32_t)(off / 512), blk, 0) < 0)
            return -1;
        memcpy((void *)(ubuf + off), blk, n - off < 512 ? n - off : 512);
    }
    return (int)n;
}

static int write_zero_blocks(uint32_t s, int count)
{
    memset(blk, 0, sizeof blk);
    for (int i = 0; i < count; i++)
        if (s + i < disk_sectors && disk_rw(s + i, blk, 1) < 0)
            return -1;
    return 0;
}

static int remove_file(struct tfile *f)
{
    /* Slide every later sector down over the file, then end the archive. */
    uint32_t span = 1 + data_sectors(f->size);
    for (uint32_t s = f->sector + span; s < fs.end; s++)
        if (disk_rw(s, blk, 0) < 0 || disk_rw(s - span, blk, 1) < 0)
            return -1;
    int r = write_zero_blocks(fs.end - span, 2);
    scan();
    return r < 0 ? r : disk_flush();      /* the archive changed: make it durable */
}

static int read_only(void)
{
    if (fs.readonly)
        kprintf("tarfs: read-only: the archive on the disk is damaged\n");
    return fs.readonly;
}

int fs_remove(const char *name)
{
    struct tfile *f = lookup(name);
    return f && !read_only() ? remove_file(f) : -1;
}

static void make_header(const char *name, uint64_t size)
{
    memset(blk, 0, sizeof blk);
    strlcopy((char *)blk, name, NAME_MAX + 1);
    memcpy(blk + 100, "0000644", 8);    /* mode, then uid and gid 0 */
    memcpy(blk + 108, "0000000", 8);
    memcpy(blk + 116, "0000000", 8);
    put_octal(blk + 124, 12, size);
    put_octal(blk + 136, 12, 0);        /* mtime: we have no clock */
    blk[156] = '0';                     /* a regular file */
    memcpy(blk + 257, "ustar\0" "00", 8);
    put_octal(blk + 148, 7, checksum(blk));
    blk[155] = ' ';
}

/* Create or replace a file with len bytes from user address ubuf. */
int fs_write(const char *name, uint64_t ubuf, uint64_t len)
{
    for (const char *c = name; *c; c++)
        if (*c <= ' ' || *c > '~')
            return -1;          /* printable names only */
    struct tfile *f = lookup(name);
    uint32_t n = data_sectors(len), freed = f ? 1 + data_sectors(f->size) : 0;
    if (!fs.ok || read_only() || (fs.n == MAXFILES && !f) ||
        fs.end - freed + 1 + n + 2 > disk_sectors || (f && remove_file(f) < 0))
        return -1;              /* checked first: never lose the old file */
    uint32_t s = fs.end;
    /* Data and the new end marker first, the header last: until the header
     * lands, the old end marker at s still ends a valid archive. */
    for (uint32_t i = 0; i < n; i++) {
        uint64_t off = (uint64_t)i * 512, k = len - off < 512 ? len - off : 512;
        memset(blk, 0, sizeof blk);
        memcpy(blk, (const void *)(ubuf + off), k);
        if (disk_rw(s + 1 + i, blk, 1) < 0)
            return -1;
    }
    /* The flushes order the writes on stable storage too: the data before
     * the header that makes it part of the archive, the header before we
     * report success. */
    if (write_zero_blocks(s + 1 + n, 2) < 0 || disk_flush() < 0)
        return -1;
    make_header(name, len);
    if (disk_rw(s, blk, 1) < 0 || disk_flush() < 0)
        return -1;
    fs.f[fs.n++] = (struct tfile){ {0}, (uint32_t)len, s };
    strlcopy(fs.f[fs.n - 1].name, name, NAME_MAX + 1);
    fs.end = s + 1 + n;
    return 0;
}

int fs_readdir(int i, struct dirent *d)
{
    if (!fs.ok || i < 0 || i >= fs.n)
        return -1;
    d->size = fs.f[i].size;
    strlcopy(d->name, fs.f[i].name, sizeof d->name);
    return 0;
}
