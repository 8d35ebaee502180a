/* ide.c - the guest's own ATA PIO driver (primary channel, LBA28) and the disk
 * steps: IDENTIFY both drives, an IRQ-driven read, writes to drive 1, errors. */
#include "pc.h"

#define DATA 0x1F0
#define ERROR 0x1F1
#define COUNT 0x1F2
#define LBA0 0x1F3
#define DEV 0x1F6
#define STATUS 0x1F7                /* command when written */
#define CTRL 0x3F6                  /* device control; alternate status when read */
#define BSY 0x80
#define DRDY 0x40
#define DF 0x20
#define DRQ 0x08
#define ERR 0x01
#define NIEN 0x02
#define IDNF 0x10
#define ABRT 0x04
#define CMD_READ 0x20
#define CMD_WRITE 0x30
#define CMD_FLUSH 0xE7
#define CMD_IDENTIFY 0xEC
#define SPIN 100000                 /* bound of a status poll */
#define D1_LBA 8                    /* where the test writes on drive 1 */
#define D1_N 4

static uint32_t nsect[2];
static uint32_t buf[8 * 512 / 4];   /* 8 sectors, dword aligned for insl */

/* What the guest writes to drive 1; tests/integration/test_pc.py checks it. */
static uint8_t wpat(uint32_t lba, uint32_t i)
{
    return (uint8_t)(i * 7 + (i >> 8) * 13 + lba * 29 + 0xA5);
}

/* xv6's idewait: BSY clear and DRDY set. */
static int wait_ready(void)
{
    for (int i = 0; i < SPIN; i++)
        if ((inb(STATUS) & (BSY | DRDY)) == DRDY)
            return 0;
    return -1;
}

/* Poll (the alternate status, which leaves a pending interrupt alone) until
 * the drive is no longer busy; returns the status, or -1 when it stays busy. */
static int wait_idle(void)
{
    for (int i = 0; i < SPIN; i++) {
        uint8_t s = inb(CTRL);
        if (!(s & BSY))
            return s;
    }
    return -1;
}

static int wait_drq(const char *step, const char *what)
{
    int s = wait_idle();
    if (s < 0)
        return fail(step, "%s: drive still busy", what);
    if ((s & (ERR | DF)) || !(s & DRQ))
        return fail(step, "%s: status 0x%x (error 0x%x), expected DRQ", what, s, inb(ERROR));
    return 0;
}

/* Select a drive, wait until it is ready, load count and LBA, send cmd. */
static int ide_cmd(int drive, uint32_t lba, uint8_t count, uint8_t cmd)
{
    outb(DEV, (uint8_t)(0xE0 | drive << 4 | ((lba >> 24) & 0x0F)));
    if (wait_ready())
        return -1;
    outb(COUNT, count);
    outb(LBA0, (uint8_t)lba);
    outb(LBA0 + 1, (uint8_t)(lba >> 8));
    outb(LBA0 + 2, (uint8_t)(lba >> 16));
    outb(STATUS, cmd);
    return 0;
}

static int identify(int d)
{
    uint16_t id[256];
    char model[41];
    if (ide_cmd(d, 0, 0, CMD_IDENTIFY))
        return fail("ide", "drive %d never ready (status 0x%x)", d, inb(STATUS));
    if (wait_drq("ide", "IDENTIFY"))
        return -1;
    insw(DATA, id, 256);
    for (int i = 0; i < 20; i++) {          /* words 27-46: the model, byte-swapped */
        model[2 * i] = (char)(id[27 + i] >> 8);
        model[2 * i + 1] = (char)id[27 + i];
    }
    int n = 40;
    while (n > 0 && (model[n - 1] == ' ' || model[n - 1] == 0))
        n--;
    model[n] = 0;
    nsect[d] = id[60] | (uint32_t)id[61] << 16;
    if (!(id[49] & 0x200) || nsect[d] == 0)
        return fail("ide", "drive %d: no LBA (word 49 0x%x, %u sectors)", d, id[49], nsect[d]);
    kprintf("ide: drive %d: \"%s\", %u sectors\n", d, model, nsect[d]);
    return 0;
}

int step_ide_identify(void)
{
    /* xv6's ideinit: select drive 1 and look for a non-zero status. */
    int present = 0;
    outb(CTRL, NIEN);               /* polled from here to the IRQ read */
    outb(DEV, 0xE0 | 1 << 4);
    for (int i = 0; i < 1000 && !present; i++)
        present = inb(STATUS) != 0;
    outb(DEV, 0xE0);
    if (!present)
        return fail("ide", "drive 1 absent (status 0 after selecting it)");
    if (identify(0) || identify(1))
        return -1;
    uint32_t img = SYMVAL(pattern_lba) + SYMVAL(pattern_sectors);
    if (nsect[0] != img)
        return fail("ide", "drive 0 has %u sectors, the image %u", nsect[0], img);
    return 0;
}

/* The pattern block (pattern.S), read with one multi-sector READ SECTORS:
 * one IRQ 14 per sector, the data by rep insl, nIEN clear. */
int step_irq_read(void)
{
    uint32_t lba = SYMVAL(pattern_lba), n = SYMVAL(pattern_sectors);
    const uint8_t *b = (const uint8_t *)buf;
    /* Interrupts on at the drive; anything pending from earlier polled
     * commands is acknowledged (status read) and let through first. */
    outb(CTRL, 0);
    (void)inb(STATUS);
    WAIT_TICKS(0, 1);
    ide_irqs = 0;
    memset(buf, 0, sizeof(buf));
    if (ide_cmd(0, lba, (uint8_t)n, CMD_READ))
        return fail("irq-read", "drive 0 not ready");
    for (uint32_t s = 0; s < n; s++) {
        if (!WAIT_TICKS(ide_irqs > s, 2 * HZ))
            return fail("irq-read", "sector %u: no IRQ 14 in 2 s (status 0x%x)", s, inb(CTRL));
        if (wait_drq("irq-read", "data"))
            return -1;
        insl(DATA, (uint8_t *)buf + s * 512, 128);
    }
    WAIT_TICKS(0, 2);               /* two ticks for an interrupt too many */
    if (ide_irqs != n)
        return fail("irq-read", "%u interrupts for %u sectors", ide_irqs, n);
    for (uint32_t x = 0; x < n * 512; x++)
        if (b[x] != (uint8_t)(x * 31 + (x >> 9) * 17 + 0x5A))
            return fail("irq-read", "byte %u of the pattern is 0x%x", x, b[x]);
    kprintf("irq-read: %u sectors at LBA %u by IRQ 14 (%u interrupts, rep insl), pattern ok\n", n,
            lba, ide_irqs);
    return 0;
}

/* Polled READ SECTORS with nIEN set, 16-bit rep insw. */
static int read_polled(const char *step, int d, uint32_t lba, uint32_t n)
{
    outb(CTRL, NIEN);
    if (ide_cmd(d, lba, (uint8_t)n, CMD_READ))
        return fail(step, "drive %d not ready", d);
    for (uint32_t s = 0; s < n; s++) {
        if (wait_drq(step, "read"))
            return -1;
        insw(DATA, (uint8_t *)buf + s * 512, 256);
    }
    return 0;
}

static int check_wpat(const char *step, uint32_t lba, uint32_t n)
{
    const uint8_t *b = (const uint8_t *)buf;
    for (uint32_t s = 0; s < n; s++)
        for (uint32_t i = 0; i < 512; i++)
            if (b[s * 512 + i] != wpat(lba + s, i))
                return fail(step, "LBA %u byte %u reads 0x%x, wrote 0x%x", lba + s, i,
                            b[s * 512 + i], wpat(lba + s, i));
    return 0;
}

/* Drive 1 (the slave): WRITE SECTORS with an interrupt per sector, FLUSH
 * CACHE, then read back by polling with interrupts masked at the drive. */
int step_disk1(void)
{
    uint8_t *b = (uint8_t *)buf;
    if (nsect[1] < D1_LBA + D1_N)
        return fail("disk1", "drive 1 has only %u sectors", nsect[1]);
    for (uint32_t s = 0; s < D1_N; s++)
        for (uint32_t i = 0; i < 512; i++)
            b[s * 512 + i] = wpat(D1_LBA + s, i);
    outb(CTRL, 0);
    ide_irqs = 0;
    if (ide_cmd(1, D1_LBA, D1_N, CMD_WRITE))
        return fail("disk1", "drive 1 not ready");
    for (uint32_t s = 0; s < D1_N; s++) {
        if (wait_drq("disk1", "write"))
            return -1;
        outsl(DATA, b + s * 512, 128);
        if (!WAIT_TICKS(ide_irqs > s, 2 * HZ))
            return fail("disk1", "sector %u written: no IRQ 14 in 2 s", s);
        if (ide_irq_status & (ERR | DF))
            return fail("disk1", "sector %u written: status 0x%x", s, ide_irq_status);
    }
    if (wait_ready())
        return fail("disk1", "drive 1 not ready for FLUSH CACHE");
    outb(STATUS, CMD_FLUSH);
    if (!WAIT_TICKS(ide_irqs > D1_N, 5 * HZ))
        return fail("disk1", "FLUSH CACHE: no IRQ 14 in 5 s");
    if (ide_irq_status & (ERR | DF | BSY))
        return fail("disk1", "FLUSH CACHE: status 0x%x", ide_irq_status);
    kprintf("disk1: wrote %u sectors at LBA %u of drive 1 (rep outsl, an interrupt each), "
            "flushed (0xe7)\n", D1_N, D1_LBA);

    uint32_t before = ide_irqs;
    memset(buf, 0, sizeof(buf));
    if (read_polled("disk1", 1, D1_LBA, D1_N))
        return -1;
    WAIT_TICKS(0, 3);               /* an interrupt despite nIEN would come now */
    if (ide_irqs != before)
        return fail("disk1", "%u IRQ 14 with nIEN set", ide_irqs - before);
    if (check_wpat("disk1", D1_LBA, D1_N))
        return -1;
    kprintf("disk1: read back by polling with nIEN set (rep insw): %u sectors match\n", D1_N);
    return 0;
}

/* A command the drive must refuse: ERR with `want` in the error register.
 * A write may be refused at once or, as on QEMU, after its data (the bytes,
 * 0xEE, must then not reach the image: the host test checks). */
static int expect_error(const char *what, uint32_t lba, uint8_t cmd, uint8_t want)
{
    const char *when = "at once";
    if (ide_cmd(1, lba, 1, cmd))
        return fail("ata-error", "%s: drive 1 not ready", what);
    int s = wait_idle();
    if (s >= 0 && (s & DRQ) && cmd == CMD_WRITE) {
        memset(buf, 0xEE, 512);
        outsl(DATA, buf, 128);
        s = wait_idle();
        when = "after the data";
    }
    if (s < 0)
        return fail("ata-error", "%s: drive still busy", what);
    uint8_t e = inb(ERROR);
    (void)inb(STATUS);              /* as a driver would: acknowledge */
    if (s & DRQ)
        return fail("ata-error", "%s: status 0x%x: the drive asks for data", what, s);
    if (!(s & ERR) || !(e & want))
        return fail("ata-error", "%s: status 0x%x error 0x%x, expected ERR and 0x%x", what, s,
                    e, want);
    kprintf("ata-error: %s (LBA %u) -> status 0x%x error 0x%x %s, reported to the guest\n", what,
            lba, s, e, when);
    return 0;
}

/* Hostile requests on drive 1: past its end, an unknown command. Each must
 * end in an ATA error for the guest, and the drive must work afterwards. */
int step_ata_errors(void)
{
    uint32_t end = nsect[1];
    outb(CTRL, NIEN);
    int r = 0;
    r |= expect_error("READ SECTORS past the end", end, CMD_READ, IDNF | ABRT);
    r |= expect_error("WRITE SECTORS past the end", end, CMD_WRITE, IDNF | ABRT);
    r |= expect_error("unknown command 0xff", D1_LBA, 0xFF, ABRT);
    memset(buf, 0, sizeof(buf));
    if (read_polled("ata-error", 1, D1_LBA, 1) || check_wpat("ata-error", D1_LBA, 1))
        return -1;
    if (r == 0)
        kprintf("ata-error: drive 1 works after the errors (LBA %u reads back)\n", D1_LBA);
    return r ? -1 : 0;
}
