/* ide.c - legacy IDE (ATA PIO), primary channel: the task file, IDENTIFY,
 * READ/WRITE SECTORS and MULTIPLE (LBA28, LBA48, CHS), FLUSH, reset, IRQ 14. */
#include "ide.h"
#include "core/bus.h"
#include "core/image.h"
#include "core/util.h"
#include "core/vm.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SECTOR      IMAGE_SECTOR
#define MAX_MULT    16              /* sectors per block of READ/WRITE MULTIPLE */
#define LBA28_MAX   0x0FFFFFFFu
#define SEL_OBS     0xA0            /* obsolete device-register bits, read as 1 */
#define SEL_LBA     0x40
#define SEL_DEV     0x10
#define DIAG_OK     0x01            /* error register after reset/diagnostics */

enum xfer { XFER_NONE, XFER_IN, XFER_OUT };     /* PIO data-in (to the guest), data-out */

struct ide_drive {
    bool present;
    struct image img;
    uint64_t sectors;
    uint16_t cyls, heads, spt;                  /* default geometry (IDENTIFY 1, 3, 6) */
    uint16_t cur_cyls, cur_heads, cur_spt;      /* CHS translation in use (0x91) */
    uint8_t status, error;
    uint8_t mult;                               /* MULTIPLE block size, 0 = disabled */
    /* The PIO transfer in progress: a DRQ block of `end` bytes in buf. */
    enum xfer xfer;
    uint64_t lba;                               /* first sector of the current block */
    uint32_t left;                              /* sectors to go, current block included */
    unsigned block;                             /* sectors per DRQ block */
    unsigned pos, end;
    uint8_t buf[MAX_MULT * SECTOR];
};

struct ide {
    pthread_mutex_t lock;       /* lock order L2: a device lock (core/vm.h) */
    struct ide_drive drive[IDE_MAX_DRIVES];
    /* The task file. Both drives see every write, as on the cable; the
     * hob_ copies hold the previous write, the high bytes of LBA48. */
    uint8_t feature, nsect, lbal, lbam, lbah, select;
    uint8_t hob_nsect, hob_lbal, hob_lbam, hob_lbah;
    uint8_t ctl;                                /* device control */
    bool pending;                               /* a completion not yet acknowledged */
    bool line;                                  /* level last given to irq() */
    ide_irq_fn irq;
    void *opaque;
};

/* ---- the interrupt line ---- */

static void set_line(struct ide *c, bool level)
{
    if (c->line != level) {
        c->line = level;
        c->irq(c->opaque, level);
    }
}

/* INTRQ is driven while an interrupt is pending and nIEN is clear. */
static void update_line(struct ide *c)
{
    set_line(c, c->pending && !(c->ctl & IDE_CTL_NIEN));
}

/* A completion. The I/O APIC pin is edge-triggered, so each one must be a
 * fresh 0->1 edge even if the guest never acknowledged the previous one.
 * While nIEN masks the line nothing is remembered (QEMU does the same), so
 * unmasking later does not deliver a stale interrupt. */
static void raise_irq(struct ide *c)
{
    if (c->ctl & IDE_CTL_NIEN)
        return;
    set_line(c, false);
    c->pending = true;
    set_line(c, true);
}

static void ack_irq(struct ide *c)
{
    c->pending = false;
    update_line(c);
}

/* ---- command completion ---- */

static struct ide_drive *selected(struct ide *c)
{
    return &c->drive[c->select & SEL_DEV ? 1 : 0];
}

static void finish(struct ide *c, struct ide_drive *d)
{
    d->xfer = XFER_NONE;
    d->status = IDE_DRDY | IDE_DSC;
    raise_irq(c);
}

static void fail(struct ide *c, struct ide_drive *d, uint8_t error)
{
    d->xfer = XFER_NONE;
    d->error = error;
    d->status = IDE_DRDY | IDE_DSC | IDE_ERR;
    raise_irq(c);
}

/* ---- geometry and IDENTIFY ---- */

/* A translation geometry covering as much of the disk as CHS can: 16 heads
 * and 63 sectors per track, smaller for disks under 1008 sectors. */
static void default_geometry(struct ide_drive *d)
{
    uint64_t s = d->sectors;
    uint64_t spt = s < 63 ? s : 63;
    uint64_t heads = s / spt < 16 ? s / spt : 16;
    uint64_t cyls = s / (heads * spt);
    d->spt = d->cur_spt = (uint16_t)spt;
    d->heads = d->cur_heads = (uint16_t)heads;
    d->cyls = d->cur_cyls = (uint16_t)(cyls < 16383 ? cyls : 16383);
}

/* ATA strings: space padded, two characters per word, first one high. */
static void id_string(uint16_t *w, const char *s, unsigned chars)
{
    size_t n = strlen(s);
    for (unsigned i = 0; i < chars; i += 2) {
        uint8_t hi = i < n ? (uint8_t)s[i] : ' ';
        uint8_t lo = i + 1 < n ? (uint8_t)s[i + 1] : ' ';
        w[i / 2] = (uint16_t)(hi << 8 | lo);
    }
}

static void identify_words(const struct ide_drive *d, int index, uint16_t *w)
{
    char serial[21];
    uint64_t lba28 = d->sectors < LBA28_MAX ? d->sectors : LBA28_MAX;
    uint32_t cur = (uint32_t)d->cur_cyls * d->cur_heads * d->cur_spt;
    snprintf(serial, sizeof(serial), "MKVM-IDE-%d", index);
    memset(w, 0, 256 * sizeof(*w));
    w[0] = 0x0040;                              /* fixed (non-removable) ATA device */
    w[1] = d->cyls, w[3] = d->heads, w[6] = d->spt;
    id_string(w + 10, serial, 20);
    id_string(w + 23, "1.0", 8);                /* firmware revision */
    id_string(w + 27, "MINI-KVM HARDDISK", 40);
    w[47] = 0x8000 | MAX_MULT;
    w[49] = 1 << 9;                             /* LBA; no DMA */
    w[50] = 0x4000;
    w[51] = 0x0200;                             /* PIO timing (obsolete) */
    w[53] = 0x0003;                             /* words 54-58 and 64-70 valid */
    w[54] = d->cur_cyls, w[55] = d->cur_heads, w[56] = d->cur_spt;
    w[57] = (uint16_t)cur, w[58] = (uint16_t)(cur >> 16);
    w[59] = d->mult ? (uint16_t)(0x0100 | d->mult) : 0;
    w[60] = (uint16_t)lba28, w[61] = (uint16_t)(lba28 >> 16);
    w[64] = 0x0003;                             /* PIO modes 3 and 4 */
    w[65] = w[66] = w[67] = w[68] = 120;        /* cycle times, ns */
    w[80] = 0x00F0;                             /* ATA/ATAPI-4 to -7 */
    w[82] = 1 << 5;                             /* write cache (the page cache) */
    w[83] = 0x4000 | 1 << 13 | 1 << 12 | 1 << 10;  /* FLUSH EXT, FLUSH, LBA48 */
    w[84] = 0x4000;
    w[85] = w[82];
    w[86] = w[83] & ~0x4000;
    w[87] = 0x4000;
    for (int i = 0; i < 4; i++)
        w[100 + i] = (uint16_t)(d->sectors >> (16 * i));
    /* Integrity word: signature A5h, and all 512 bytes sum to 0. */
    uint8_t sum = 0xA5;
    for (int i = 0; i < 255; i++)
        sum = (uint8_t)(sum + (w[i] & 0xFF) + (w[i] >> 8));
    w[255] = (uint16_t)((uint8_t)-sum << 8 | 0xA5);
}

/* ---- data transfers ---- */

/* Make the next DRQ block ready: read it from the image (data-in) or wait
 * for the guest's data (data-out). Data-in interrupts for every block;
 * data-out only for blocks after the first (ATA's PIO protocols). */
static void next_block(struct ide *c, struct ide_drive *d, bool irq)
{
    unsigned n = d->left < d->block ? d->left : d->block;
    d->pos = 0;
    d->end = n * SECTOR;
    if (d->xfer == XFER_IN && image_rw(&d->img, d->buf, d->end, d->lba * SECTOR, false)) {
        fail(c, d, IDE_ABRT);
        return;
    }
    d->status = IDE_DRDY | IDE_DSC | IDE_DRQ;
    if (irq)
        raise_irq(c);
}

/* The guest moved the whole block. A write reaches the image before the
 * command can report completion. */
static void block_done(struct ide *c, struct ide_drive *d)
{
    unsigned n = d->end / SECTOR;
    if (d->xfer == XFER_OUT &&
        image_rw(&d->img, d->buf, d->end, d->lba * SECTOR, true)) {
        fail(c, d, IDE_ABRT);
        return;
    }
    d->lba += n;
    d->left -= n;
    if (d->left) {
        next_block(c, d, true);
    } else if (d->xfer == XFER_OUT) {
        finish(c, d);
    } else {                                    /* data-in ends without an interrupt */
        d->xfer = XFER_NONE;
        d->status = IDE_DRDY | IDE_DSC;
    }
}

/* Data port: len bytes of the block, any access size (an 8-bit access moves
 * one byte). Outside a transfer, reads give 0 and writes are dropped. */
static uint32_t data_io(struct ide *c, unsigned len, bool write, uint32_t val)
{
    struct ide_drive *d = selected(c);
    uint32_t v = 0;
    if (!d->present || d->xfer != (write ? XFER_OUT : XFER_IN))
        return 0;
    for (unsigned i = 0; i < len && d->pos < d->end; i++) {
        if (write)
            d->buf[d->pos++] = (uint8_t)(val >> (8 * i));
        else
            v |= (uint32_t)d->buf[d->pos++] << (8 * i);
    }
    if (d->pos == d->end)
        block_done(c, d);
    return v;
}

/* CHS in the task file to an LBA, with the translation geometry in use. */
static bool chs_lba(const struct ide *c, const struct ide_drive *d, uint64_t *lba)
{
    unsigned cyl = (unsigned)c->lbah << 8 | c->lbam, head = c->select & 0xF;
    unsigned sec = c->lbal;
    if (sec == 0 || sec > d->cur_spt || head >= d->cur_heads)
        return false;
    *lba = ((uint64_t)cyl * d->cur_heads + head) * d->cur_spt + sec - 1;
    return true;
}

/* The sectors a command addresses; false when any lies outside the disk. */
static bool target(const struct ide *c, const struct ide_drive *d, bool lba48,
                   uint64_t *lba, uint32_t *count)
{
    if (lba48) {
        *count = (uint32_t)c->hob_nsect << 8 | c->nsect;
        *count = *count ? *count : 65536;
        *lba = (uint64_t)c->hob_lbah << 40 | (uint64_t)c->hob_lbam << 32 |
               (uint64_t)c->hob_lbal << 24 | (uint64_t)c->lbah << 16 |
               (uint64_t)c->lbam << 8 | c->lbal;
    } else {
        *count = c->nsect ? c->nsect : 256;
        if (c->select & SEL_LBA)
            *lba = (uint64_t)(c->select & 0xF) << 24 | (uint64_t)c->lbah << 16 |
                   (uint64_t)c->lbam << 8 | c->lbal;
        else if (!chs_lba(c, d, lba))
            return false;
    }
    return *lba <= d->sectors && *count <= d->sectors - *lba;
}

/* READ/WRITE SECTORS (block 1) and MULTIPLE (block = the multiple setting).
 * The whole request is checked first: nothing moves if any of it is bad. */
static void start_rw(struct ide *c, struct ide_drive *d, bool write, bool lba48,
                     unsigned block)
{
    uint64_t lba;
    uint32_t count;
    if (block == 0 || (write && d->img.ro)) {
        fail(c, d, IDE_ABRT);
        return;
    }
    if (!target(c, d, lba48, &lba, &count)) {
        fail(c, d, IDE_IDNF);
        return;
    }
    d->xfer = write ? XFER_OUT : XFER_IN;
    d->lba = lba;
    d->left = count;
    d->block = block;
    next_block(c, d, !write);
}

static void verify(struct ide *c, struct ide_drive *d, bool lba48)
{
    uint64_t lba;
    uint32_t count;
    if (target(c, d, lba48, &lba, &count))
        finish(c, d);
    else
        fail(c, d, IDE_IDNF);
}

static void identify(struct ide *c, struct ide_drive *d)
{
    uint16_t w[256];
    identify_words(d, (int)(d - c->drive), w);
    for (int i = 0; i < 256; i++) {
        d->buf[2 * i] = (uint8_t)w[i];
        d->buf[2 * i + 1] = (uint8_t)(w[i] >> 8);
    }
    d->xfer = XFER_IN;
    d->left = d->block = 1;
    d->pos = 0;
    d->end = SECTOR;
    d->status = IDE_DRDY | IDE_DSC | IDE_DRQ;
    raise_irq(c);
}

/* ---- reset, diagnostics and device parameters ---- */

/* What a drive shows after reset or diagnostics: the ATA disk signature. */
static void signature(struct ide *c)
{
    c->nsect = c->lbal = 1;
    c->lbam = c->lbah = 0;
    c->select &= ~0x0F;
    for (int i = 0; i < IDE_MAX_DRIVES; i++) {
        struct ide_drive *d = &c->drive[i];
        d->xfer = XFER_NONE;
        d->error = DIAG_OK;
        d->status = d->present ? IDE_DRDY | IDE_DSC : 0;
    }
}

/* Device control: nIEN, SRST (reset while set, signature when released). */
static void control(struct ide *c, uint8_t v)
{
    bool was = c->ctl & IDE_CTL_SRST, now = v & IDE_CTL_SRST;
    c->ctl = v;
    if (!was && now) {
        c->pending = false;
        for (int i = 0; i < IDE_MAX_DRIVES; i++) {
            c->drive[i].xfer = XFER_NONE;
            c->drive[i].status = c->drive[i].present ? IDE_BSY | IDE_DSC : 0;
        }
    } else if (was && !now) {
        c->select = SEL_OBS;                    /* device 0 after a reset */
        signature(c);
    }
    update_line(c);
}

static void init_params(struct ide *c, struct ide_drive *d)
{
    unsigned heads = (c->select & 0xF) + 1u, spt = c->nsect;
    if (spt == 0) {
        fail(c, d, IDE_ABRT);
        return;
    }
    uint64_t cyls = d->sectors / (heads * spt);
    d->cur_heads = (uint16_t)heads;
    d->cur_spt = (uint16_t)spt;
    d->cur_cyls = (uint16_t)(cyls < 65535 ? cyls : 65535);
    finish(c, d);
}

static void set_multiple(struct ide *c, struct ide_drive *d)
{
    unsigned n = c->nsect;                      /* 0 turns MULTIPLE off */
    if (n > MAX_MULT || (n & (n - 1))) {
        fail(c, d, IDE_ABRT);
        return;
    }
    d->mult = (uint8_t)n;
    finish(c, d);
}

static void flush(struct ide *c, struct ide_drive *d)
{
    if (image_flush(&d->img))
        fail(c, d, IDE_ABRT);
    else
        finish(c, d);
}

/* ---- commands ---- */

static void command(struct ide *c, uint8_t cmd)
{
    struct ide_drive *d = selected(c);
    if (!d->present || (c->ctl & IDE_CTL_SRST))
        return;                                 /* nobody answers */
    ack_irq(c);
    d->xfer = XFER_NONE;
    d->error = 0;
    switch (cmd) {
    case 0xEC: identify(c, d); break;
    case 0x20: case 0x21: start_rw(c, d, false, false, 1); break;   /* READ SECTORS */
    case 0x24: start_rw(c, d, false, true, 1); break;              /* ... EXT */
    case 0x30: case 0x31: start_rw(c, d, true, false, 1); break;    /* WRITE SECTORS */
    case 0x34: start_rw(c, d, true, true, 1); break;               /* ... EXT */
    case 0xC4: start_rw(c, d, false, false, d->mult); break;        /* READ MULTIPLE */
    case 0x29: start_rw(c, d, false, true, d->mult); break;
    case 0xC5: start_rw(c, d, true, false, d->mult); break;         /* WRITE MULTIPLE */
    case 0x39: start_rw(c, d, true, true, d->mult); break;
    case 0x40: case 0x41: verify(c, d, false); break;               /* READ VERIFY */
    case 0x42: verify(c, d, true); break;
    case 0xC6: set_multiple(c, d); break;
    case 0xE7: case 0xEA: flush(c, d); break;                       /* FLUSH CACHE (EXT) */
    case 0x91: init_params(c, d); break;
    case 0x90:                                                      /* DIAGNOSTIC */
        signature(c);
        raise_irq(c);
        break;
    case 0x10: case 0x70:                       /* RECALIBRATE, SEEK: nothing moves */
    case 0xE0: case 0xE1: case 0xE2: case 0xE3: /* standby/idle: accepted */
    case 0xEF:                                  /* SET FEATURES: accepted */
        finish(c, d);
        break;
    default:                                    /* 0xA1 IDENTIFY PACKET too: not ATAPI */
        fail(c, d, IDE_ABRT);
        break;
    }
}

/* ---- register access ---- */

static uint8_t reg_read(struct ide *c, unsigned off)
{
    struct ide_drive *d = selected(c);
    bool hob = c->ctl & IDE_CTL_HOB;
    switch (off) {
    case IDE_ERROR: return d->present ? d->error : 0;
    case IDE_NSECT: return hob ? c->hob_nsect : c->nsect;
    case IDE_LBAL: return hob ? c->hob_lbal : c->lbal;
    case IDE_LBAM: return hob ? c->hob_lbam : c->lbam;
    case IDE_LBAH: return hob ? c->hob_lbah : c->lbah;
    case IDE_SELECT: return c->select;
    default:                                    /* status: acknowledges the interrupt */
        ack_irq(c);
        return d->present ? d->status : 0;      /* an absent slave reads 0 (xv6 probes it) */
    }
}

/* Task-file writes shift the old value to the LBA48 high byte and clear HOB. */
static void reg_write(struct ide *c, unsigned off, uint8_t v)
{
    if (off >= IDE_NSECT && off <= IDE_LBAH)
        c->ctl &= (uint8_t)~IDE_CTL_HOB;
    switch (off) {
    case IDE_FEATURE: c->feature = v; break;
    case IDE_NSECT: c->hob_nsect = c->nsect, c->nsect = v; break;
    case IDE_LBAL: c->hob_lbal = c->lbal, c->lbal = v; break;
    case IDE_LBAM: c->hob_lbam = c->lbam, c->lbam = v; break;
    case IDE_LBAH: c->hob_lbah = c->lbah, c->lbah = v; break;
    case IDE_SELECT: c->select = v | SEL_OBS; break;
    default: command(c, v); break;
    }
}

/* One access, lock held. Data-port accesses move len bytes of the block;
 * a wider access elsewhere is taken as consecutive byte registers. */
static uint32_t ide_access(struct ide *c, uint16_t port, unsigned len, bool write, uint32_t val)
{
    uint32_t v = 0;
    if (port == IDE_CTL_PORT) {
        if (write)
            control(c, (uint8_t)val);
        else                                    /* alternate status: no acknowledge */
            v = selected(c)->present ? selected(c)->status : 0;
        return write ? 0 : v;
    }
    unsigned off = port - IDE_CMD_BASE;
    if (off == IDE_DATA)
        return data_io(c, len, write, val);
    for (unsigned i = 0; i < len && off + i < 8; i++) {
        if (write)
            reg_write(c, off + i, (uint8_t)(val >> (8 * i)));
        else
            v |= (uint32_t)reg_read(c, off + i) << (8 * i);
    }
    return v;
}

uint32_t ide_port_io(struct ide *c, uint16_t port, unsigned len, bool write, uint32_t val)
{
    if (len == 0 || len > 4 || (port != IDE_CTL_PORT &&
                                (port < IDE_CMD_BASE || port >= IDE_CMD_BASE + 8)))
        return 0;
    pthread_mutex_lock(&c->lock);
    uint32_t v = ide_access(c, port, len, write, val);
    pthread_mutex_unlock(&c->lock);
    return v;
}

/* ---- creation ---- */

struct ide *ide_new(const struct image *drives, int n, ide_irq_fn irq, void *opaque)
{
    struct ide *c = xcalloc(1, sizeof(*c));
    pthread_mutex_init(&c->lock, NULL);
    c->irq = irq;
    c->opaque = opaque;
    for (int i = 0; i < IDE_MAX_DRIVES; i++) {
        struct ide_drive *d = &c->drive[i];
        d->img.fd = -1;
        if (i >= n)
            continue;
        d->present = true;
        d->img = drives[i];
        d->sectors = d->img.size / SECTOR;
        d->mult = MAX_MULT;                     /* QEMU's default too */
        default_geometry(d);
    }
    c->select = SEL_OBS;
    signature(c);
    return c;
}

void ide_free(struct ide *c)
{
    for (int i = 0; i < IDE_MAX_DRIVES; i++)
        image_close(&c->drive[i].img);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

static void ide_release(void *p)
{
    ide_free(p);
}

static void vm_irq(void *opaque, int level)
{
    vm_irq_line(opaque, IDE_IRQ, level);
}

static enum io_result ide_bus_io(void *dev, struct io_req *req)
{
    if (req->len > 4) {                         /* not on a port bus; be safe */
        if (!req->write)
            memset(req->data, 0xFF, req->len);
        return IO_OK;
    }
    uint32_t v = ide_port_io(dev, (uint16_t)req->addr, req->len, req->write,
                             req->write ? (uint32_t)io_get(req) : 0);
    if (!req->write)
        io_put(req, v);
    return IO_OK;
}

int ide_create(struct vm *vm, const struct ide_drive_cfg *drives, int n)
{
    struct image img[IDE_MAX_DRIVES];
    if (n < 1 || n > IDE_MAX_DRIVES) {
        errorf("%s: the IDE controller takes 1 or 2 disks, not %d", vm->name, n);
        return -1;
    }
    for (int i = 0; i < n; i++) {
        if (image_open(drives[i].path, drives[i].ro, &img[i])) {
            while (i--)
                image_close(&img[i]);
            return -1;
        }
    }
    struct ide *c = vm_own_fn(vm, ide_new(img, n, vm_irq, vm), ide_release);
    if (bus_register(&vm->pio, IDE_CMD_BASE, 8, ide_bus_io, c, "ide") ||
        bus_register(&vm->pio, IDE_CTL_PORT, 1, ide_bus_io, c, "ide-ctl")) {
        errorf("%s: cannot register the IDE ports", vm->name);
        return -1;
    }
    return 0;
}
