/* test_ide.c - the IDE controller driven through its ports like a guest
 * driver would, on temporary images, without KVM; and image opening. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/bus.h"
#include "core/image.h"
#include "core/vm.h"
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

static uint8_t pattern(int disk, uint64_t i)
{
    return (uint8_t)(i * 7 + i / 512 + disk * 101);
}

static void write_image(const char *path, int disk, size_t size)
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
static void assert_pattern_except(const char *path, int disk, uint64_t from, uint64_t to)
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

static void on_irq(void *opaque, int level)
{
    struct fixture *f = opaque;
    assert_int_not_equal(level, f->level);     /* only real changes are reported */
    if (level)
        f->edges++;
    f->level = level;
}

static struct ide *make(struct fixture *f, int n, bool ro0)
{
    struct image img[2];
    for (int i = 0; i < n; i++)
        assert_int_equal(image_open(f->path[i], i == 0 && ro0, &img[i]), 0);
    f->c = ide_new(img, n, on_irq, f);
    return f->c;
}

static int setup_files(void **state)
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

static int setup(void **state)
{
    setup_files(state);
    make(*state, 1, false);
    return 0;
}

static int setup2(void **state)
{
    setup_files(state);
    make(*state, 2, false);
    return 0;
}

static int teardown(void **state)
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

static uint32_t in(struct fixture *f, uint16_t port, unsigned len)
{
    return ide_port_io(f->c, port, len, false, 0);
}

static void out(struct fixture *f, uint16_t port, unsigned len, uint32_t v)
{
    ide_port_io(f->c, port, len, true, v);
}

static uint8_t status(struct fixture *f) { return (uint8_t)in(f, CMD(IDE_STATUS), 1); }
static uint8_t altstatus(struct fixture *f) { return (uint8_t)in(f, CTL, 1); }

/* An LBA28 command to drive `dev`, as xv6's idestart issues it. */
static void cmd28(struct fixture *f, int dev, uint32_t lba, uint8_t count, uint8_t cmd)
{
    out(f, CMD(IDE_NSECT), 1, count);
    out(f, CMD(IDE_LBAL), 1, lba & 0xFF);
    out(f, CMD(IDE_LBAM), 1, (lba >> 8) & 0xFF);
    out(f, CMD(IDE_LBAH), 1, (lba >> 16) & 0xFF);
    out(f, CMD(IDE_SELECT), 1, 0xE0 | dev << 4 | ((lba >> 24) & 0x0F));
    out(f, CMD(IDE_COMMAND), 1, cmd);
}

/* Move one 512-byte block through the data port with `width`-byte accesses. */
static void pio_in(struct fixture *f, uint8_t *buf, unsigned width)
{
    for (unsigned i = 0; i < 512; i += width) {
        uint32_t v = in(f, CMD(IDE_DATA), width);
        memcpy(buf + i, &v, width);
    }
}

static void pio_out(struct fixture *f, const uint8_t *buf, unsigned width)
{
    for (unsigned i = 0; i < 512; i += width) {
        uint32_t v = 0;
        memcpy(&v, buf + i, width);
        out(f, CMD(IDE_DATA), width, v);
    }
}

/* Read n sectors that a command made ready: one interrupt per sector, DRQ
 * before each, acknowledged by reading the status. */
static void read_sectors(struct fixture *f, int disk, uint64_t lba, unsigned n, unsigned width)
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

static void assert_error(struct fixture *f, uint8_t err)
{
    assert_int_equal(f->level, 1);              /* an error completes the command too */
    assert_int_equal(status(f), READY | IDE_ERR);
    assert_int_equal(in(f, CMD(IDE_ERROR), 1), err);
}

/* ---- tests ---- */

static void test_identify(void **state)
{
    struct fixture *f = *state;
    uint16_t w[256];
    cmd28(f, 0, 0, 0, 0xEC);
    assert_int_equal(f->edges, 1);
    assert_int_equal(status(f), READY | IDE_DRQ);
    pio_in(f, (uint8_t *)w, 2);
    assert_int_equal(status(f), READY);         /* one block, no more data */
    assert_int_equal(f->edges, 1);
    char model[41];
    for (int i = 0; i < 20; i++) {
        model[2 * i] = (char)(w[27 + i] >> 8);
        model[2 * i + 1] = (char)w[27 + i];
    }
    model[40] = 0;
    assert_string_equal(model, "MINI-KVM HARDDISK                       ");
    assert_int_not_equal(w[10], 0x2020);        /* a serial number */
    assert_int_equal(w[0], 0x0040);
    assert_true(w[49] & (1 << 9));              /* LBA */
    assert_int_equal(w[60] | (uint32_t)w[61] << 16, SECTORS);
    assert_true(w[83] & (1 << 10));             /* LBA48 */
    assert_int_equal(w[100], SECTORS);
    assert_int_equal(w[101] | w[102] | w[103], 0);
    assert_true(w[1] >= 1 && w[3] >= 1 && w[3] <= 16 && w[6] >= 1 && w[6] <= 63);
    assert_true((uint32_t)w[1] * w[3] * w[6] <= SECTORS);
    assert_int_equal((uint32_t)w[57] | (uint32_t)w[58] << 16, (uint32_t)w[1] * w[3] * w[6]);
    assert_int_equal(w[47] & 0xFF, 16);
    uint8_t sum = 0;
    for (int i = 0; i < 512; i++)
        sum = (uint8_t)(sum + ((uint8_t *)w)[i]);
    assert_int_equal(w[255] & 0xFF, 0xA5);
    assert_int_equal(sum, 0);                   /* the integrity word checks */
    assert_int_equal(status(f), READY);
}

static void test_read_one_16bit(void **state)
{
    struct fixture *f = *state;
    cmd28(f, 0, 5, 1, 0x20);
    read_sectors(f, 0, 5, 1, 2);
    assert_int_equal(f->edges, 1);
    assert_int_equal(in(f, CMD(IDE_ERROR), 1), 0);
}

static void test_read_several_32bit(void **state)
{
    struct fixture *f = *state;
    cmd28(f, 0, 17, 3, 0x20);
    read_sectors(f, 0, 17, 3, 4);
    assert_int_equal(f->edges, 3);
    cmd28(f, 0, SECTORS - 1, 1, 0x21);          /* the last sector */
    read_sectors(f, 0, SECTORS - 1, 1, 2);
}

static void test_read_8bit(void **state)
{
    struct fixture *f = *state;
    cmd28(f, 0, 2, 1, 0x20);
    read_sectors(f, 0, 2, 1, 1);
}

static void test_count_zero_is_256(void **state)
{
    struct fixture *f = *state;
    cmd28(f, 0, 40, 0, 0x20);
    read_sectors(f, 0, 40, 256, 4);
    assert_int_equal(f->edges, 256);
}

static void write_sectors(struct fixture *f, uint32_t lba, unsigned n, unsigned width,
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

static void assert_written(struct fixture *f, uint32_t lba, unsigned n)
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

static void test_write_several(void **state)
{
    struct fixture *f = *state;
    write_sectors(f, 100, 3, 2, 0x30);
    assert_written(f, 100, 3);                  /* in the file before the status read */
    assert_int_equal(status(f), READY);
    assert_int_equal(f->level, 0);
}

static void test_write_32bit_then_read_back(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[512];
    write_sectors(f, 7, 2, 4, 0x31);
    assert_int_equal(status(f), READY);
    assert_written(f, 7, 2);
    cmd28(f, 0, 8, 1, 0x20);
    assert_int_equal(status(f), READY | IDE_DRQ);
    pio_in(f, buf, 4);
    for (unsigned i = 0; i < 512; i++)
        assert_int_equal(buf[i], (uint8_t)(0xC3 ^ (31 + i)));
}

static void test_past_the_end(void **state)
{
    struct fixture *f = *state;
    cmd28(f, 0, SECTORS - 1, 2, 0x30);          /* one sector in, one out */
    assert_error(f, IDE_IDNF);
    assert_int_equal(altstatus(f) & IDE_DRQ, 0);
    pio_out(f, (const uint8_t[512]){ 0 }, 2);   /* the guest writes anyway */
    cmd28(f, 0, SECTORS, 1, 0x20);
    assert_error(f, IDE_IDNF);
    cmd28(f, 0, 0x0FFFFFFF, 0, 0x30);
    assert_error(f, IDE_IDNF);
    cmd28(f, 0, SECTORS - 200, 0, 0xC5);        /* 256 sectors, MULTIPLE */
    assert_error(f, IDE_IDNF);
    cmd28(f, 0, SECTORS, 1, 0x40);              /* READ VERIFY */
    assert_error(f, IDE_IDNF);
    assert_pattern_except(f->path[0], 0, 0, 0);
}

static void test_read_only_drive(void **state)
{
    struct fixture *f = *state;
    ide_free(f->c);
    make(f, 1, true);
    cmd28(f, 0, 3, 2, 0x30);
    assert_error(f, IDE_ABRT);
    pio_out(f, (const uint8_t[512]){ 0 }, 4);
    cmd28(f, 0, 3, 2, 0xC5);
    assert_error(f, IDE_ABRT);
    assert_pattern_except(f->path[0], 0, 0, 0);
    cmd28(f, 0, 3, 2, 0x20);                    /* reading still works */
    read_sectors(f, 0, 3, 2, 2);
    cmd28(f, 0, 0, 0, 0xE7);                    /* flush: nothing to do */
    assert_int_equal(status(f), READY);
}

static void test_unknown_commands_abort(void **state)
{
    struct fixture *f = *state;
    const uint8_t cmds[] = { 0xA1, 0x00, 0xFF, 0xA0, 0xC8, 0x25 };
    for (size_t i = 0; i < sizeof(cmds); i++) {
        cmd28(f, 0, 0, 1, cmds[i]);
        assert_error(f, IDE_ABRT);
    }
    cmd28(f, 0, 0, 1, 0xEF);                    /* SET FEATURES: accepted */
    assert_int_equal(status(f), READY);
    assert_int_equal(in(f, CMD(IDE_ERROR), 1), 0);
}

static void test_absent_slave(void **state)
{
    struct fixture *f = *state;
    out(f, CMD(IDE_SELECT), 1, 0xF0);           /* xv6's ideinit probe */
    assert_int_equal(status(f), 0);
    assert_int_equal(altstatus(f), 0);
    cmd28(f, 1, 0, 1, 0xEC);                    /* ignored */
    assert_int_equal(f->edges, 0);
    assert_int_equal(status(f), 0);
    assert_int_equal(in(f, CMD(IDE_DATA), 2), 0);
    out(f, CMD(IDE_SELECT), 1, 0xE0);
    assert_int_equal(status(f), READY);
}

static void test_two_drives(void **state)
{
    struct fixture *f = *state;
    cmd28(f, 1, 9, 2, 0x20);
    read_sectors(f, 1, 9, 2, 4);
    cmd28(f, 0, 9, 2, 0x20);
    read_sectors(f, 0, 9, 2, 4);
    out(f, CMD(IDE_SELECT), 1, 0xF0);
    assert_int_equal(status(f), READY);
}

static void test_nien_and_ack(void **state)
{
    struct fixture *f = *state;
    out(f, CTL, 1, IDE_CTL_NIEN);
    cmd28(f, 0, 1, 2, 0x20);
    assert_int_equal(f->edges, 0);              /* masked: no edge */
    assert_int_equal(altstatus(f), READY | IDE_DRQ);
    out(f, CTL, 1, 0);                          /* unmasking delivers nothing stale */
    assert_int_equal(f->edges, 0);
    uint8_t buf[512];
    pio_in(f, buf, 4);
    assert_int_equal(f->edges, 1);              /* sector 2 ready, now unmasked */
    assert_int_equal(altstatus(f), READY | IDE_DRQ);
    assert_int_equal(f->level, 1);              /* alternate status does not ack */
    out(f, CTL, 1, IDE_CTL_NIEN);               /* masking drops the line */
    assert_int_equal(f->level, 0);
    out(f, CTL, 1, 0);                          /* unmasking a pending one raises it */
    assert_int_equal(f->level, 1);
    assert_int_equal(f->edges, 2);
    assert_int_equal(status(f), READY | IDE_DRQ);
    assert_int_equal(f->level, 0);              /* the status read acks */
}

static void test_fresh_edge_without_ack(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[512];
    cmd28(f, 0, 1, 3, 0x20);
    for (int s = 0; s < 3; s++) {
        assert_int_equal(f->edges, s + 1);      /* one edge per sector ... */
        assert_int_equal(altstatus(f), READY | IDE_DRQ);
        pio_in(f, buf, 2);                      /* ... though never acknowledged */
    }
    cmd28(f, 0, 1, 1, 0x20);                    /* a new command lowers, then raises */
    assert_int_equal(f->edges, 4);
}

static void test_soft_reset(void **state)
{
    struct fixture *f = *state;
    cmd28(f, 0, 50, 4, 0x20);                   /* leave a transfer half done */
    out(f, CTL, 1, IDE_CTL_SRST);
    assert_int_equal(f->level, 0);
    assert_int_equal(status(f), IDE_BSY | IDE_DSC);
    cmd28(f, 0, 0, 1, 0xEC);                    /* ignored while in reset */
    assert_int_equal(f->edges, 1);
    out(f, CTL, 1, 0);
    assert_int_equal(status(f), READY);
    assert_int_equal(in(f, CMD(IDE_ERROR), 1), 1);
    assert_int_equal(in(f, CMD(IDE_NSECT), 1), 1);
    assert_int_equal(in(f, CMD(IDE_LBAL), 1), 1);
    assert_int_equal(in(f, CMD(IDE_LBAM), 1), 0);
    assert_int_equal(in(f, CMD(IDE_LBAH), 1), 0);
    assert_int_equal(in(f, CMD(IDE_SELECT), 1), 0xA0);
    assert_int_equal(in(f, CMD(IDE_DATA), 4), 0);   /* the transfer is gone */
    cmd28(f, 0, 50, 1, 0x20);                   /* and the drive works */
    read_sectors(f, 0, 50, 1, 4);
}

static void test_data_port_without_drq(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(in(f, CMD(IDE_DATA), 2), 0);
    assert_int_equal(in(f, CMD(IDE_DATA), 4), 0);
    for (int i = 0; i < 300; i++)
        out(f, CMD(IDE_DATA), 4, 0xDEADBEEF);
    assert_int_equal(status(f), READY);
    assert_int_equal(f->edges, 0);
    cmd28(f, 0, 4, 1, 0x20);                    /* writes during a read are dropped */
    out(f, CMD(IDE_DATA), 2, 0xFFFF);
    read_sectors(f, 0, 4, 1, 2);
    assert_pattern_except(f->path[0], 0, 0, 0);
}

static void test_chs(void **state)
{
    struct fixture *f = *state;
    uint16_t w[256];
    cmd28(f, 0, 0, 0, 0xEC);
    pio_in(f, (uint8_t *)w, 2);
    unsigned heads = w[3], spt = w[6];
    /* cylinder 0, head 1, sector 3 */
    out(f, CMD(IDE_NSECT), 1, 2);
    out(f, CMD(IDE_LBAL), 1, 3);
    out(f, CMD(IDE_LBAM), 1, 0);
    out(f, CMD(IDE_LBAH), 1, 0);
    out(f, CMD(IDE_SELECT), 1, 0xA1);
    out(f, CMD(IDE_COMMAND), 1, 0x20);
    read_sectors(f, 0, spt + 2, 2, 2);
    out(f, CMD(IDE_LBAL), 1, 0);                /* sector 0 does not exist */
    out(f, CMD(IDE_COMMAND), 1, 0x20);
    assert_error(f, IDE_IDNF);
    out(f, CMD(IDE_LBAL), 1, 1);
    out(f, CMD(IDE_SELECT), 1, 0xA0 | heads);   /* nor does that head */
    out(f, CMD(IDE_COMMAND), 1, 0x20);
    assert_error(f, IDE_IDNF);
    /* INITIALIZE DEVICE PARAMETERS: 4 heads, 17 sectors; then C/H/S 1/2/5 */
    out(f, CMD(IDE_NSECT), 1, 17);
    out(f, CMD(IDE_SELECT), 1, 0xA3);
    out(f, CMD(IDE_COMMAND), 1, 0x91);
    assert_int_equal(status(f), READY);
    out(f, CMD(IDE_NSECT), 1, 1);
    out(f, CMD(IDE_LBAL), 1, 5);
    out(f, CMD(IDE_LBAM), 1, 1);
    out(f, CMD(IDE_SELECT), 1, 0xA2);
    out(f, CMD(IDE_COMMAND), 1, 0x20);
    read_sectors(f, 0, (1 * 4 + 2) * 17 + 4, 1, 2);
    cmd28(f, 0, 0, 0, 0xEC);
    pio_in(f, (uint8_t *)w, 2);
    assert_int_equal(w[55], 4);
    assert_int_equal(w[56], 17);
    assert_int_equal(w[54], SECTORS / (4 * 17));
    assert_int_equal(w[3], heads);              /* the default stays */
}

static void test_multiple(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[512];
    cmd28(f, 0, 0, 4, 0xC6);                    /* SET MULTIPLE 4 */
    assert_int_equal(status(f), READY);
    cmd28(f, 0, 20, 10, 0xC4);                  /* READ MULTIPLE: blocks 4, 4, 2 */
    for (int b = 0; b < 3; b++) {
        assert_int_equal(f->edges, 2 + b);
        assert_int_equal(status(f), READY | IDE_DRQ);
        for (int s = 0; s < (b < 2 ? 4 : 2); s++) {
            pio_in(f, buf, 4);
            for (unsigned i = 0; i < 512; i++)
                assert_int_equal(buf[i], pattern(0, (20 + b * 4 + s) * 512 + i));
        }
    }
    assert_int_equal(status(f), READY);
    cmd28(f, 0, 0, 3, 0xC6);                    /* not a power of two */
    assert_error(f, IDE_ABRT);
    cmd28(f, 0, 0, 0, 0xC6);                    /* off */
    cmd28(f, 0, 20, 1, 0xC4);
    assert_error(f, IDE_ABRT);
}

static void test_lba48(void **state)
{
    struct fixture *f = *state;
    const uint8_t regs[] = { IDE_NSECT, IDE_LBAL, IDE_LBAM, IDE_LBAH };
    const uint8_t hi[] = { 0, 0, 0, 0 }, lo[] = { 2, 7, 0, 0 };
    for (int i = 0; i < 4; i++) {
        out(f, CMD(regs[i]), 1, hi[i]);
        out(f, CMD(regs[i]), 1, lo[i]);
    }
    out(f, CMD(IDE_SELECT), 1, 0x40);
    out(f, CMD(IDE_COMMAND), 1, 0x24);          /* READ SECTORS EXT */
    read_sectors(f, 0, 7, 2, 4);
    out(f, CMD(IDE_LBAL), 1, 1);                /* high byte: LBA 1<<24 | 7 */
    out(f, CMD(IDE_LBAL), 1, 7);
    out(f, CTL, 1, IDE_CTL_HOB);
    assert_int_equal(in(f, CMD(IDE_LBAL), 1), 1);
    out(f, CTL, 1, 0);
    assert_int_equal(in(f, CMD(IDE_LBAL), 1), 7);
    out(f, CMD(IDE_COMMAND), 1, 0x34);          /* WRITE SECTORS EXT, past the end */
    assert_error(f, IDE_IDNF);
    cmd28(f, 0, 0, 0, 0xEA);                    /* FLUSH CACHE EXT */
    assert_int_equal(status(f), READY);
}

static void test_flush_and_diagnostic(void **state)
{
    struct fixture *f = *state;
    cmd28(f, 0, 0, 0, 0xE7);
    assert_int_equal(f->edges, 1);
    assert_int_equal(status(f), READY);
    cmd28(f, 0, 0x123456, 9, 0x90);             /* EXECUTE DEVICE DIAGNOSTIC */
    assert_int_equal(f->edges, 2);
    assert_int_equal(status(f), READY);
    assert_int_equal(in(f, CMD(IDE_ERROR), 1), 1);
    assert_int_equal(in(f, CMD(IDE_NSECT), 1), 1);
    assert_int_equal(in(f, CMD(IDE_LBAL), 1), 1);
    assert_int_equal(in(f, CMD(IDE_LBAH), 1), 0);
}

/* A guest writing nonsense: nothing crashes, nothing lands outside the
 * image, the read-only drive is untouched, and the controller recovers. */
static void test_garbage(void **state)
{
    struct fixture *f = *state;
    ide_free(f->c);
    make(f, 2, true);
    unsigned seed = 12345;
    static const unsigned lens[] = { 1, 2, 4 };
    for (int i = 0; i < 200000; i++) {
        seed = seed * 1103515245 + 12345;
        unsigned r = seed >> 8;
        uint16_t port = (r & 15) < 9 ? (uint16_t)(IDE_CMD_BASE + (r & 15) % 8) : CTL;
        unsigned len = port == CTL ? 1 : lens[(r >> 4) % 3];
        bool write = (r >> 6) & 3;
        uint32_t v = seed * 2654435761u;
        if ((r >> 8 & 15) == 0 && port == CMD(IDE_COMMAND))
            v = 0x30;                           /* a real write now and then */
        if (port == CTL)
            v &= ~IDE_CTL_SRST | (r >> 9 & IDE_CTL_SRST);
        ide_port_io(f->c, port, len, write, v);
    }
    assert_pattern_except(f->path[0], 0, 0, 0);
    struct stat st;
    assert_int_equal(stat(f->path[1], &st), 0);
    assert_int_equal(st.st_size, SECTORS * 512);
    out(f, CTL, 1, IDE_CTL_SRST);
    out(f, CTL, 1, 0);
    status(f);
    assert_int_equal(f->level, 0);
    cmd28(f, 0, 33, 1, 0x20);
    read_sectors(f, 0, 33, 1, 2);
    assert_int_equal(ide_port_io(f->c, 0x1F8, 1, false, 0), 0);     /* not ours */
}

/* ---- the VM face: ports on the bus ---- */

static void vm_init(struct vm *vm)
{
    memset(vm, 0, sizeof(*vm));
    vm->name = "test";
    vm->fd = -1;
    bus_init(&vm->pio, "port");
    bus_init(&vm->mmio, "mmio");
}

static void test_create_on_bus(void **state)
{
    struct fixture *f = *state;
    struct vm vm;
    vm_init(&vm);
    struct ide_drive_cfg cfg[2] = { { f->path[0], false }, { f->path[1], true } };
    assert_int_equal(ide_create(&vm, cfg, 2), 0);
    const struct bus_range *r = bus_find(&vm.pio, 0x1F7, 1);
    assert_non_null(r);
    assert_string_equal(r->name, "ide");
    assert_string_equal(bus_find(&vm.pio, 0x3F6, 1)->name, "ide-ctl");
    uint8_t d[4] = { 0 };
    struct io_req req = { .addr = 0x1F7, .data = d, .len = 1 };
    assert_int_equal(bus_access(&vm.pio, &req), IO_OK);
    assert_int_equal(d[0], READY);
    req = (struct io_req){ .addr = 0x3F6, .data = d, .len = 1 };
    assert_int_equal(bus_access(&vm.pio, &req), IO_OK);
    assert_int_equal(d[0], READY);
    vm_release_devices(&vm);                   /* closes the images: locks gone */
    struct image img;
    assert_int_equal(image_open(f->path[0], false, &img), 0);
    image_close(&img);
}

/* Run ide_create on bad input and return its stderr. */
static char *create_error(const struct ide_drive_cfg *cfg, int n, char *buf, size_t size)
{
    struct vm vm;
    vm_init(&vm);
    FILE *tmp = tmpfile();
    int saved = dup(2);
    dup2(fileno(tmp), 2);
    int r = ide_create(&vm, cfg, n);
    dup2(saved, 2);
    close(saved);
    assert_int_equal(r, -1);
    assert_int_equal(vm.pio.nr, 0);             /* nothing registered */
    assert_int_equal(vm.nowned, 0);
    rewind(tmp);
    size_t got = fread(buf, 1, size - 1, tmp);
    buf[got] = 0;
    fclose(tmp);
    return buf;
}

static void expect_error(const char *path, const char *want_tail)
{
    char msg[512], want[512];
    struct ide_drive_cfg cfg[1] = { { path, false } };
    snprintf(want, sizeof(want), "mini-kvm: %s: %s\n", path, want_tail);
    assert_string_equal(create_error(cfg, 1, msg, sizeof(msg)), want);
}

static void test_bad_images(void **state)
{
    struct fixture *f = *state;
    char msg[512], fifo[160];
    write_image(f->path[0], 0, 1000);
    expect_error(f->path[0], "disk image size 1000 is not a multiple of 512");
    write_image(f->path[0], 0, 0);
    expect_error(f->path[0], "disk image is empty");
    expect_error("/tmp", "disk image is a directory");
    expect_error("/nonexistent/disk.img", "cannot open disk image: No such file or directory");
    snprintf(fifo, sizeof(fifo), "%s.fifo", f->path[1]);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    expect_error(fifo, "disk image is not a regular file");     /* and did not block */
    unlink(fifo);
    /* the same image twice (master and slave): the second is refused */
    struct ide_drive_cfg twice[2] = { { f->path[1], false }, { f->path[1], false } };
    snprintf(fifo, sizeof(fifo), "mini-kvm: %s: disk image is in use", f->path[1]);
    assert_non_null(strstr(create_error(twice, 2, msg, sizeof(msg)), fifo));
    assert_ptr_equal(strchr(msg, '\n'), msg + strlen(msg) - 1);     /* one line */
    struct ide_drive_cfg none[1] = { { f->path[1], false } };
    assert_non_null(strstr(create_error(none, 0, msg, sizeof(msg)), "1 or 2 disks"));
    assert_non_null(strstr(create_error(none, 3, msg, sizeof(msg)), "1 or 2 disks"));
}

static void test_image_read_only_file(void **state)
{
    struct fixture *f = *state;
    struct image a, b;
    assert_int_equal(chmod(f->path[1], 0444), 0);
    assert_int_equal(image_open(f->path[1], false, &a), 0);
    assert_true(a.ro);                          /* forced by the mode bits */
    assert_int_equal(a.size, SECTORS * 512);
    assert_int_equal(image_open(f->path[1], true, &b), 0);     /* readers share */
    image_close(&a);
    image_close(&b);
    assert_int_equal(b.fd, -1);
    assert_int_equal(image_open(f->path[0], true, &a), 0);
    assert_true(a.ro);                          /* asked for */
    image_close(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_identify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_one_16bit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_several_32bit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_8bit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_count_zero_is_256, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_several, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_32bit_then_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_past_the_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_drive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_commands_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_absent_slave, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_drives, setup2, teardown),
        cmocka_unit_test_setup_teardown(test_nien_and_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fresh_edge_without_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_soft_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_data_port_without_drq, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multiple, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lba48, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_and_diagnostic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_on_bus, setup_files, teardown),
        cmocka_unit_test_setup_teardown(test_bad_images, setup_files, teardown),
        cmocka_unit_test_setup_teardown(test_image_read_only_file, setup_files, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
