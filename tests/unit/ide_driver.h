/* ide_driver.h - a tiny ATA driver and temporary images for the IDE unit
 * tests (test_ide.c, test_ide_ctl.c): ports driven like a guest would. */
#ifndef MINI_KVM_TEST_IDE_DRIVER_H
#define MINI_KVM_TEST_IDE_DRIVER_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/image.h"
#include "devices/ide.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECTORS  300            /* > 256: count 0 fits */
#define CMD(r)   (IDE_CMD_BASE + (r))
#define CTL      IDE_CTL_PORT
#define READY    (IDE_DRDY | IDE_DSC)

struct fixture {
    char path[2][64];
    struct ide *c;
    int level;                  /* the IRQ line as the device drives it */
    int edges;                  /* 0 -> 1 transitions seen */
};

static inline uint8_t pattern(int disk, uint64_t i)
{
    return (uint8_t)(i * 7 + i / 512 + disk * 101);
}

static inline void write_image(const char *path, int disk, size_t size)
{
    int fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    uint8_t *b = malloc(size ? size : 1);
    for (size_t i = 0; i < size; i++)
        b[i] = pattern(disk, i);
    assert_int_equal(write(fd, b, size), (ssize_t)size);
    free(b);
    close(fd);
}

/* The whole image still holds the pattern except [from, to) sectors. */
static inline void assert_pattern_except(const char *path, int disk, uint64_t from,
                                         uint64_t to)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    assert_int_equal(st.st_size, SECTORS * 512);
    uint8_t *b = malloc(SECTORS * 512);
    assert_int_equal(pread(fd, b, SECTORS * 512, 0), SECTORS * 512);
    close(fd);
    for (uint64_t i = 0; i < SECTORS * 512; i++)
        if (i / 512 < from || i / 512 >= to)
            assert_int_equal(b[i], pattern(disk, i));
    free(b);
}

static inline void on_irq(void *opaque, int level)
{
    struct fixture *f = opaque;
    assert_int_not_equal(level, f->level);     /* only real changes are reported */
    if (level)
        f->edges++;
    f->level = level;
}

static inline struct ide *make(struct fixture *f, int n, bool ro0)
{
    struct image img[2];
    for (int i = 0; i < n; i++)
        assert_int_equal(image_open(f->path[i], i == 0 && ro0, &img[i]), 0);
    f->c = ide_new(img, n, on_irq, f);
    return f->c;
}

static inline int setup_files(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    for (int i = 0; i < 2; i++) {
        snprintf(f->path[i], sizeof(f->path[i]), "/tmp/mkvm-ide-XXXXXX");
        int fd = mkstemp(f->path[i]);
        assert_true(fd >= 0);
        close(fd);
        write_image(f->path[i], i, SECTORS * 512);
    }
    *state = f;
    return 0;
}

static inline int setup(void **state)
{
    setup_files(state);
    make(*state, 1, false);
    return 0;
}

static inline int setup2(void **state)
{
    setup_files(state);
    make(*state, 2, false);
    return 0;
}

static inline int teardown(void **state)
{
    struct fixture *f = *state;
    if (f->c)
        ide_free(f->c);
    for (int i = 0; i < 2; i++)
        unlink(f->path[i]);
    free(f);
    return 0;
}

/* ---- a tiny ATA driver ---- */

static inline uint32_t in(struct fixture *f, uint16_t port, unsigned len)
{
    return ide_port_io(f->c, port, len, false, 0);
}

static inline void out(struct fixture *f, uint16_t port, unsigned len, uint32_t v)
{
    ide_port_io(f->c, port, len, true, v);
}

static inline uint8_t status(struct fixture *f) { return (uint8_t)in(f, CMD(IDE_STATUS), 1); }
static inline uint8_t altstatus(struct fixture *f) { return (uint8_t)in(f, CTL, 1); }

/* An LBA28 command to drive `dev`, as xv6's idestart issues it. */
static inline void cmd28(struct fixture *f, int dev, uint32_t lba, uint8_t count, uint8_t cmd)
{
    out(f, CMD(IDE_NSECT), 1, count);
    out(f, CMD(IDE_LBAL), 1, lba & 0xFF);
    out(f, CMD(IDE_LBAM), 1, (lba >> 8) & 0xFF);
    out(f, CMD(IDE_LBAH), 1, (lba >> 16) & 0xFF);
    out(f, CMD(IDE_SELECT), 1, 0xE0 | dev << 4 | ((lba >> 24) & 0x0F));
    out(f, CMD(IDE_COMMAND), 1, cmd);
}

/* Move one 512-byte block through the data port with `width`-byte accesses. */
static inline void pio_in(struct fixture *f, uint8_t *buf, unsigned width)
{
    for (unsigned i = 0; i < 512; i += width) {
        uint32_t v = in(f, CMD(IDE_DATA), width);
        memcpy(buf + i, &v, width);
    }
}

static inline void pio_out(struct fixture *f, const uint8_t *buf, unsigned width)
{
    for (unsigned i = 0; i < 512; i += width) {
        uint32_t v = 0;
        memcpy(&v, buf + i, width);
        out(f, CMD(IDE_DATA), width, v);
    }
}

/* Read n sectors that a command made ready: one interrupt per sector, DRQ
 * before each, acknowledged by reading the status. */
static inline void read_sectors(struct fixture *f, int disk, uint64_t lba, unsigned n,
                                unsigned width)
{
    uint8_t buf[512];
    for (unsigned s = 0; s < n; s++) {
        assert_int_equal(f->level, 1);
        assert_int_equal(status(f), READY | IDE_DRQ);
        assert_int_equal(f->level, 0);
        pio_in(f, buf, width);
        for (unsigned i = 0; i < 512; i++)
            assert_int_equal(buf[i], pattern(disk, (lba + s) * 512 + i));
    }
    assert_int_equal(status(f), READY);
}

static inline void assert_error(struct fixture *f, uint8_t err)
{
    assert_int_equal(f->level, 1);              /* an error completes the command too */
    assert_int_equal(status(f), READY | IDE_ERR);
    assert_int_equal(in(f, CMD(IDE_ERROR), 1), err);
}

static inline void write_sectors(struct fixture *f, uint32_t lba, unsigned n, unsigned width,
                                 uint8_t cmd)
{
    uint8_t buf[512];
    cmd28(f, 0, lba, (uint8_t)n, cmd);
    assert_int_equal(f->edges, 0);              /* data-out: no interrupt before sector 1 */
    for (unsigned s = 0; s < n; s++) {
        assert_int_equal(altstatus(f), READY | IDE_DRQ);
        for (unsigned i = 0; i < 512; i++)
            buf[i] = (uint8_t)(0xC3 ^ (s * 31 + i));
        pio_out(f, buf, width);
        assert_int_equal(f->edges, (int)s + 1); /* after each sector is accepted */
    }
}

static inline void assert_written(struct fixture *f, uint32_t lba, unsigned n)
{
    int fd = open(f->path[0], O_RDONLY);
    uint8_t buf[512];
    for (unsigned s = 0; s < n; s++) {
        assert_int_equal(pread(fd, buf, 512, (lba + s) * 512), 512);
        for (unsigned i = 0; i < 512; i++)
            assert_int_equal(buf[i], (uint8_t)(0xC3 ^ (s * 31 + i)));
    }
    close(fd);
    assert_pattern_except(f->path[0], 0, lba, lba + n);
}


#endif
