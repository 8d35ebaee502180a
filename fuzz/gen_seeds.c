/* fuzz/gen_seeds.c - writes each fuzz target's seed corpus under DIR/NAME/seeds
 * (run by `make fuzz`): small well-formed inputs, so nothing binary is committed. */
#include "core/bus.h"
#include "devices/hypercall.h"
#include "devices/ide.h"
#include "devices/serial.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_mmio.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* One seed being built. */
struct seed {
    uint8_t b[1 << 16];
    size_t n;
};

static const char *outdir;

static void put(struct seed *s, size_t at, const void *p, size_t n)
{
    memcpy(s->b + at, p, n);
    if (at + n > s->n)
        s->n = at + n;
}

static void put16(struct seed *s, size_t at, uint16_t v) { put(s, at, &v, 2); }
static void put32(struct seed *s, size_t at, uint32_t v) { put(s, at, &v, 4); }
static void put64(struct seed *s, size_t at, uint64_t v) { put(s, at, &v, 8); }

static void mkdirs(const char *target)
{
    char p[512];
    snprintf(p, sizeof(p), "%s/%s", outdir, target);
    mkdir(outdir, 0755);
    mkdir(p, 0755);
    snprintf(p, sizeof(p), "%s/%s/seeds", outdir, target);
    if (mkdir(p, 0755) && errno != EEXIST) {
        perror(p);
        exit(1);
    }
}

static void save(const char *target, const char *name, const struct seed *s)
{
    char p[512];
    mkdirs(target);
    snprintf(p, sizeof(p), "%s/%s/seeds/%s", outdir, target, name);
    FILE *f = fopen(p, "wb");
    if (!f || fwrite(s->b, 1, s->n, f) != s->n || fclose(f)) {
        perror(p);
        exit(1);
    }
}

/* ---- operation streams (fuzz_vm.h's 8-byte format) ---- */

enum { RD = 0, WR = 1 };
enum { K_IO = 0, K_TYPE = 1, K_POKE = 2, K_REG = 3, K_MODE = 4, K_REP = 5 };

static void op(struct seed *s, unsigned kind, unsigned dir, unsigned len, uint8_t arg,
               uint16_t off, uint32_t val)
{
    unsigned lg = len == 8 ? 3 : len == 4 ? 2 : len == 2 ? 1 : 0;
    uint8_t o[8] = { (uint8_t)(dir | lg << 1 | kind << 3), arg, (uint8_t)off,
                     (uint8_t)(off >> 8) };
    memcpy(o + 4, &val, 4);
    put(s, s->n, o, 8);
}

static void out(struct seed *s, unsigned len, uint16_t off, uint32_t v) { op(s, K_IO, WR, len, 0, off, v); }
static void in(struct seed *s, unsigned len, uint16_t off) { op(s, K_IO, RD, len, 0, off, 0); }
static void type(struct seed *s, const char *t)
{
    for (; *t; t += strlen(t) < 4 ? strlen(t) : 4) {
        uint32_t v = 0;
        size_t k = strlen(t) < 4 ? strlen(t) : 4;
        memcpy(&v, t, k);
        op(s, K_TYPE, WR, 1, (uint8_t)k, 0, v);
    }
}

/* ---- loaders ---- */

/* e_ident of a little-endian ELF file of class cls (ELFCLASS32/64). */
static void ident(unsigned char *e, int cls)
{
    memcpy(e, ELFMAG, SELFMAG);
    e[EI_CLASS] = (unsigned char)cls;
    e[EI_DATA] = ELFDATA2LSB;
    e[EI_VERSION] = EV_CURRENT;
}

static void seed_elf(void)
{
    struct seed s = { .n = 0 };
    Elf64_Ehdr h = { .e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
                     .e_entry = 0x100000, .e_phoff = sizeof(Elf64_Ehdr),
                     .e_ehsize = sizeof(Elf64_Ehdr), .e_phentsize = sizeof(Elf64_Phdr),
                     .e_phnum = 2 };
    ident(h.e_ident, ELFCLASS64);
    Elf64_Phdr p[2] = {
        { .p_type = PT_LOAD, .p_offset = 0x100, .p_vaddr = 0x100000, .p_paddr = 0x100000,
          .p_filesz = 0x40, .p_memsz = 0x40, .p_flags = PF_R | PF_X },
        { .p_type = PT_LOAD, .p_offset = 0x140, .p_vaddr = 0x101000, .p_paddr = 0x101000,
          .p_filesz = 0x20, .p_memsz = 0x2000, .p_flags = PF_R | PF_W },
    };
    put(&s, 0, &h, sizeof(h));
    put(&s, sizeof(h), p, sizeof(p));
    for (unsigned i = 0x100; i < 0x160; i++)
        s.b[i] = (uint8_t)(0xF4 ^ i);
    s.n = 0x160;
    save("elf", "two-segments", &s);
    h.e_phnum = 1;
    put(&s, 0, &h, sizeof(h));
    save("elf", "one-segment", &s);
}

static void mb_header(struct seed *s, size_t at, uint32_t flags)
{
    put32(s, at, 0x1BADB002);
    put32(s, at + 4, flags);
    put32(s, at + 8, (uint32_t)-(0x1BADB002u + flags));
}

static void seed_multiboot(void)
{
    struct seed s = { .n = 0 };
    Elf32_Ehdr h = { .e_type = ET_EXEC, .e_machine = EM_386, .e_version = EV_CURRENT,
                     .e_entry = 0x100000, .e_phoff = sizeof(Elf32_Ehdr),
                     .e_ehsize = sizeof(Elf32_Ehdr), .e_phentsize = sizeof(Elf32_Phdr),
                     .e_phnum = 1 };
    ident(h.e_ident, ELFCLASS32);
    Elf32_Phdr p = { .p_type = PT_LOAD, .p_offset = 0x1000, .p_vaddr = 0x100000,
                     .p_paddr = 0x100000, .p_filesz = 0x100, .p_memsz = 0x3000,
                     .p_flags = PF_R | PF_X };
    put(&s, 0, &h, sizeof(h));
    put(&s, sizeof(h), &p, sizeof(p));
    mb_header(&s, 0x1000, 3);
    memset(s.b + 0x100C, 0xF4, 0xF4);
    s.n = 0x1100;
    save("multiboot", "elf32", &s);

    struct seed a = { .n = 0 };        /* a.out kludge: the file is loaded at 1 MiB */
    mb_header(&a, 0, 0x10003);
    put32(&a, 12, 0x100000);           /* header_addr */
    put32(&a, 16, 0x100000);           /* load_addr */
    put32(&a, 20, 0x100400);           /* load_end_addr */
    put32(&a, 24, 0x102000);           /* bss_end_addr */
    put32(&a, 28, 0x100020);           /* entry_addr */
    memset(a.b + 32, 0x90, 0x400 - 32);
    a.n = 0x400;
    save("multiboot", "aout", &a);
}

static void seed_bzimage(void)
{
    struct seed s = { .n = 0 };
    s.b[0x1F1] = 1;                                  /* setup_sects: 2 * 512 bytes of setup */
    put16(&s, 0x1FE, 0xAA55);
    s.b[0x200] = 0xEB;
    s.b[0x201] = 0x66;                               /* jump over the header to 0x268 */
    put(&s, 0x202, "HdrS", 4);
    put16(&s, 0x206, 0x020F);
    s.b[0x211] = 0x81;                               /* LOADED_HIGH | CAN_USE_HEAP */
    put32(&s, 0x1F4, 0x20);                          /* syssize: 512 bytes */
    put32(&s, 0x22C, 0x7FFFFFFF);                    /* initrd_addr_max */
    put32(&s, 0x230, 0x200000);                      /* kernel_alignment */
    s.b[0x234] = 1;                                  /* relocatable */
    put16(&s, 0x236, 1);                             /* XLF_KERNEL_64 */
    put32(&s, 0x238, 2047);                          /* cmdline_size */
    put64(&s, 0x258, 0x100000);                      /* pref_address */
    put32(&s, 0x260, 0x100000);                      /* init_size */
    memset(s.b + 0x400, 0x90, 0x200);
    s.n = 0x600;
    save("bzimage", "minimal", &s);
    put32(&s, 0x230, 0);
    s.b[0x234] = 0;
    put16(&s, 0x206, 0x020C);
    save("bzimage", "fixed-2.12", &s);
}

static void seed_bootsector(void)
{
    struct seed s = { .n = 512 };
    memset(s.b, 0x90, 510);
    s.b[0] = 0xFA;                                   /* cli; ...; hlt */
    s.b[509] = 0xF4;
    put16(&s, 510, 0xAA55);
    save("bootsector", "sector", &s);
    s.n = 4096;
    save("bootsector", "disk", &s);
}

/* ---- virtio-blk: byte 0 = operations, then guest RAM from GPA 0 ---- */

#define VQ_DESC   0x000
#define VQ_AVAIL  0x100
#define VQ_USED   0x200
#define VQ_HDR    0x300
#define VQ_DATA   0x400
#define VQ_STATUS 0x800
#define BLK_FEATURES (1u << VIRTIO_BLK_F_FLUSH | 1u << VIRTIO_BLK_F_SEG_MAX)

static void desc(uint8_t *ram, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                 uint16_t next)
{
    struct virtq_desc d = { addr, len, flags, next };
    memcpy(ram + VQ_DESC + 16 * i, &d, 16);
}

static void hdr(uint8_t *ram, unsigned i, uint32_t type, uint64_t sector)
{
    memcpy(ram + VQ_HDR + 16 * i, &type, 4);
    memcpy(ram + VQ_HDR + 16 * i + 8, &sector, 8);
}

/* The driver's start-up, then `notifies` notifications of queue 0. */
/* The driver's start-up with features feat_lo (and VERSION_1), queue q of
 * qnum entries at VQ_DESC/VQ_AVAIL/VQ_USED, DRIVER_OK, `notifies` kicks of q. */
static void virtio_driver(struct seed *ops, uint32_t qnum, unsigned notifies, uint32_t feat_lo,
                          uint32_t q)
{
    out(ops, 4, VMMIO_STATUS, 0);
    out(ops, 4, VMMIO_STATUS, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
    in(ops, 4, VMMIO_MAGIC);
    in(ops, 4, VMMIO_DEV_FEATURES);
    out(ops, 4, VMMIO_DRV_FEATURES_SEL, 1);
    out(ops, 4, VMMIO_DRV_FEATURES, 1);              /* VIRTIO_F_VERSION_1 */
    out(ops, 4, VMMIO_DRV_FEATURES_SEL, 0);
    out(ops, 4, VMMIO_DRV_FEATURES, feat_lo);
    out(ops, 4, VMMIO_STATUS, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    in(ops, 8, VMMIO_CONFIG);                        /* capacity, MAC */
    out(ops, 4, VMMIO_QUEUE_SEL, q);
    in(ops, 4, VMMIO_QUEUE_NUM_MAX);
    out(ops, 4, VMMIO_QUEUE_NUM, qnum);
    out(ops, 4, VMMIO_QUEUE_DESC_LO, VQ_DESC);
    out(ops, 4, VMMIO_QUEUE_DRIVER_LO, VQ_AVAIL);
    out(ops, 4, VMMIO_QUEUE_DEVICE_LO, VQ_USED);
    out(ops, 4, VMMIO_QUEUE_READY, 1);
    out(ops, 4, VMMIO_STATUS, 0xF);                  /* DRIVER_OK */
    for (unsigned i = 0; i < notifies; i++) {
        out(ops, 4, VMMIO_QUEUE_NOTIFY, q);
        in(ops, 4, VMMIO_INT_STATUS);
        out(ops, 4, VMMIO_INT_ACK, 3);
    }
}

static void save_virtio(const char *target, const char *name, const struct seed *ops,
                        const uint8_t *ram, size_t ram_len)
{
    struct seed s = { .n = 0 };
    s.b[0] = (uint8_t)(ops->n / 8);
    s.n = 1;
    put(&s, 1, ops->b, ops->n);
    put(&s, s.n, ram, ram_len);
    save(target, name, &s);
}

static void seed_virtio_blk(void)
{
    static uint8_t ram[VQ_STATUS + 16];
    memset(ram, 0, sizeof(ram));
    /* read sector 3, write sectors 5-6, flush, get-id: heads 0, 3, 6, 8 */
    hdr(ram, 0, VIRTIO_BLK_T_IN, 3);
    desc(ram, 0, VQ_HDR, 16, VIRTQ_DESC_F_NEXT, 1);
    desc(ram, 1, VQ_DATA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    desc(ram, 2, VQ_STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    hdr(ram, 1, VIRTIO_BLK_T_OUT, 5);
    desc(ram, 3, VQ_HDR + 16, 16, VIRTQ_DESC_F_NEXT, 4);
    desc(ram, 4, VQ_DATA + 0x200, 1024, VIRTQ_DESC_F_NEXT, 5);
    desc(ram, 5, VQ_STATUS + 1, 1, VIRTQ_DESC_F_WRITE, 0);
    hdr(ram, 2, VIRTIO_BLK_T_FLUSH, 0);
    desc(ram, 6, VQ_HDR + 32, 16, VIRTQ_DESC_F_NEXT, 7);
    desc(ram, 7, VQ_STATUS + 2, 1, VIRTQ_DESC_F_WRITE, 0);
    hdr(ram, 3, VIRTIO_BLK_T_GET_ID, 0);
    desc(ram, 8, VQ_HDR + 48, 16, VIRTQ_DESC_F_NEXT, 9);
    desc(ram, 9, VQ_DATA + 0x300, 20, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 10);
    desc(ram, 10, VQ_STATUS + 3, 1, VIRTQ_DESC_F_WRITE, 0);
    uint16_t avail[2 + 4] = { 0, 4, 0, 3, 6, 8 };
    memcpy(ram + VQ_AVAIL, avail, sizeof(avail));
    struct seed ops = { .n = 0 };
    virtio_driver(&ops, 16, 2, BLK_FEATURES, 0);
    save_virtio("virtio_blk", "four-requests", &ops, ram, sizeof(ram));

    /* a chain that loops back on itself */
    desc(ram, 2, VQ_STATUS, 1, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 0);
    save_virtio("virtio_blk", "loop", &ops, ram, sizeof(ram));

    /* a length of 0xFFFFFFFF, then a queue size that is no power of two */
    desc(ram, 2, VQ_STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    desc(ram, 1, VQ_DATA, 0xFFFFFFFF, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    save_virtio("virtio_blk", "huge-length", &ops, ram, sizeof(ram));
    ops.n = 0;
    virtio_driver(&ops, 12, 1, BLK_FEATURES, 0);
    save_virtio("virtio_blk", "size-12", &ops, ram, sizeof(ram));

    /* notifications before DRIVER_OK, and the guest rewriting the ring
     * between two notifications */
    ops.n = 0;
    out(&ops, 4, VMMIO_QUEUE_NOTIFY, 0);
    virtio_driver(&ops, 16, 1, BLK_FEATURES, 0);
    op(&ops, K_POKE, WR, 2, 0, (VQ_AVAIL + 2) / 4, 9);
    out(&ops, 4, VMMIO_QUEUE_NOTIFY, 0);
    save_virtio("virtio_blk", "early-notify-and-poke", &ops, ram, sizeof(ram));
}

/* virtio-rng: two device-writable buffers; virtio-net: a frame on the
 * transmit queue (12-byte vnet header, then 60 bytes) and one receive buffer. */
static void seed_virtio_rng_net(void)
{
    static uint8_t ram[VQ_STATUS + 16];
    memset(ram, 0, sizeof(ram));
    desc(ram, 0, VQ_DATA, 64, VIRTQ_DESC_F_WRITE, 0);
    desc(ram, 1, VQ_DATA + 64, 4096, VIRTQ_DESC_F_WRITE, 0);
    uint16_t avail[2 + 2] = { 0, 2, 0, 1 };
    memcpy(ram + VQ_AVAIL, avail, sizeof(avail));
    struct seed ops = { .n = 0 };
    virtio_driver(&ops, 16, 2, 0, 0);
    save_virtio("virtio_rng", "two-buffers", &ops, ram, sizeof(ram));

    memset(ram, 0, sizeof(ram));
    desc(ram, 0, VQ_DATA, 12 + 60, 0, 0);
    memset(ram + VQ_DATA + 12, 0xFF, 6);             /* broadcast destination */
    desc(ram, 1, VQ_DATA + 0x100, 12, VIRTQ_DESC_F_NEXT, 2);    /* header, then frame */
    desc(ram, 2, VQ_DATA + 0x200, 60, 0, 0);
    uint16_t tx[2 + 2] = { 0, 2, 0, 1 };
    memcpy(ram + VQ_AVAIL, tx, sizeof(tx));
    ops.n = 0;
    virtio_driver(&ops, 16, 2, 1u << 5, 1);          /* VIRTIO_NET_F_MAC, the TX queue */
    save_virtio("virtio_net", "transmit", &ops, ram, sizeof(ram));
}

/* virtio-vsock: byte 0 = the fake vhost kernel (fuzz/virtio_vsock.c), then
 * the virtio input. A driver's start-up with all three queues (RX, TX, event)
 * and the config read (guest CID), then a reset; the same with a vhost
 * ioctl that fails; and queues placed at the very end of RAM. */
static void vsock_queue(struct seed *ops, uint32_t q, uint32_t qnum, uint32_t base)
{
    out(ops, 4, VMMIO_QUEUE_SEL, q);
    in(ops, 4, VMMIO_QUEUE_NUM_MAX);
    out(ops, 4, VMMIO_QUEUE_NUM, qnum);
    out(ops, 4, VMMIO_QUEUE_DESC_LO, base);
    out(ops, 4, VMMIO_QUEUE_DRIVER_LO, base + 16 * qnum);
    out(ops, 4, VMMIO_QUEUE_DEVICE_LO, base + 16 * qnum + 0x100);
    out(ops, 4, VMMIO_QUEUE_READY, 1);
}

static void save_vsock(const char *name, uint8_t fake, const struct seed *ops)
{
    static uint8_t ram[0x1000];
    struct seed s = { .n = 0 };
    s.b[0] = fake;
    s.b[1] = (uint8_t)(ops->n / 8);
    s.n = 2;
    put(&s, 2, ops->b, ops->n);
    put(&s, s.n, ram, sizeof(ram));
    save("virtio_vsock", name, &s);
}

static void seed_virtio_vsock(void)
{
    struct seed ops = { .n = 0 };
    out(&ops, 4, VMMIO_STATUS, 0);
    out(&ops, 4, VMMIO_STATUS, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
    in(&ops, 4, VMMIO_DEVICE_ID);
    in(&ops, 4, VMMIO_DEV_FEATURES);
    out(&ops, 4, VMMIO_DRV_FEATURES_SEL, 1);
    out(&ops, 4, VMMIO_DRV_FEATURES, 1);             /* VIRTIO_F_VERSION_1 */
    out(&ops, 4, VMMIO_STATUS, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    in(&ops, 4, VMMIO_CONFIG);                       /* guest_cid, le64 */
    in(&ops, 4, VMMIO_CONFIG + 4);
    for (uint32_t q = 0; q < 3; q++)
        vsock_queue(&ops, q, 8, 0x400 * q);
    out(&ops, 4, VMMIO_STATUS, 0xF);                 /* DRIVER_OK: vhost takes RX, TX */
    out(&ops, 4, VMMIO_QUEUE_NOTIFY, 2);             /* the event queue: ours */
    struct seed run = ops;
    out(&run, 4, VMMIO_STATUS, 0);                   /* reset: vhost stops */
    save_vsock("start-reset", 0x00, &run);
    save_vsock("vhost-refuses", 0x05, &ops);          /* the 5th vhost ioctl fails */
    ops.n = 0;
    out(&ops, 4, VMMIO_STATUS, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    for (uint32_t q = 0; q < 2; q++)                 /* 64 KiB RAM: rings end at its end */
        vsock_queue(&ops, q, 1, 0x10000 - 0x120);
    struct seed end = ops;
    out(&end, 4, VMMIO_STATUS, 0xF);
    save_vsock("rings-at-ram-end", 0x10, &end);
    /* the same queues disabled again and resized to 128 before DRIVER_OK:
     * vhost got 128 entries from rings checked for one (fixed in vhost.c) */
    for (uint32_t q = 0; q < 2; q++) {
        out(&ops, 4, VMMIO_QUEUE_SEL, q);
        out(&ops, 4, VMMIO_QUEUE_READY, 0);
        out(&ops, 4, VMMIO_QUEUE_NUM, 128);
    }
    out(&ops, 4, VMMIO_STATUS, 0xF);
    save_vsock("disabled-and-resized", 0x00, &ops);
}

/* ---- IDE: byte 0 = drives, then operations on 0x1F0-0x1F7 (0-7), 0x3F6 (8) ---- */

static void ide_cmd(struct seed *s, uint8_t sel, uint32_t lba, uint8_t n, uint8_t cmd)
{
    out(s, 1, IDE_SELECT, (uint32_t)(sel | (lba >> 24 & 0xF)));
    out(s, 1, IDE_NSECT, n);
    out(s, 1, IDE_LBAL, lba & 0xFF);
    out(s, 1, IDE_LBAM, lba >> 8 & 0xFF);
    out(s, 1, IDE_LBAH, lba >> 16 & 0xFF);
    out(s, 1, IDE_COMMAND, cmd);
    in(s, 1, IDE_STATUS);
}

static void seed_ide(void)
{
    struct seed s = { .n = 1 };
    s.b[0] = 3;                                      /* two drives, the slave read-only */
    ide_cmd(&s, 0xE0, 0, 0, 0xEC);                   /* IDENTIFY */
    op(&s, K_REP, RD, 2, 255, IDE_DATA, 0);
    ide_cmd(&s, 0xE0, 5, 2, 0x20);                   /* READ SECTORS */
    op(&s, K_REP, RD, 2, 255, IDE_DATA, 0);
    op(&s, K_REP, RD, 4, 127, IDE_DATA, 0);
    ide_cmd(&s, 0xE0, 7, 1, 0x30);                   /* WRITE SECTORS */
    op(&s, K_REP, WR, 2, 255, IDE_DATA, 0x1234);
    ide_cmd(&s, 0xE0, 0, 0, 0xE7);                   /* FLUSH CACHE */
    out(&s, 1, 8, IDE_CTL_HOB);
    ide_cmd(&s, 0xF0, 3, 1, 0x24);                   /* slave: READ SECTORS EXT */
    op(&s, K_REP, RD, 2, 255, IDE_DATA, 0);
    ide_cmd(&s, 0xF0, 3, 1, 0x30);                   /* slave is read-only */
    out(&s, 1, 8, IDE_CTL_SRST);
    out(&s, 1, 8, 0);
    in(&s, 1, 8);
    save("ide", "identify-read-write", &s);
}

/* ---- port devices ---- */

static void seed_serial(void)
{
    struct seed s = { .n = 0 };
    out(&s, 1, UART_LCR, UART_LCR_DLAB);             /* Linux's 8250 set-up */
    out(&s, 1, UART_DLL, 1);
    out(&s, 1, UART_DLM, 0);
    out(&s, 1, UART_LCR, 3);
    out(&s, 1, UART_FCR, 0xC7);
    out(&s, 1, UART_MCR, UART_MCR_DTR | UART_MCR_RTS | UART_MCR_OUT2);
    out(&s, 1, UART_IER, UART_IER_RDI | UART_IER_THRI);
    in(&s, 1, UART_IIR);
    for (const char *p = "hello\n"; *p; p++)
        out(&s, 1, UART_THR, (uint8_t)*p);
    type(&s, "typed input\n");
    for (int i = 0; i < 4; i++) {
        in(&s, 1, UART_LSR);
        in(&s, 1, UART_RBR);
    }
    out(&s, 1, UART_MCR, UART_MCR_LOOP);
    out(&s, 1, UART_THR, 'L');
    in(&s, 1, UART_RBR);
    in(&s, 1, UART_MSR);
    out(&s, 1, UART_SCR, 0x5A);
    in(&s, 4, UART_SCR);
    save("serial", "linux-init", &s);
}

static void seed_i8042(void)
{
    struct seed s = { .n = 0 };
    const uint8_t cmds[] = { 0xAA, 0x20, 0xA8, 0xA7, 0xAB, 0xAD, 0xAE, 0xD0, 0xD4 };
    for (size_t i = 0; i < sizeof(cmds); i++) {
        out(&s, 1, 4, cmds[i]);
        in(&s, 1, 4);
        in(&s, 1, 0);
    }
    out(&s, 1, 4, 0x60);                             /* write the command byte */
    out(&s, 1, 0, 0x47);
    out(&s, 1, 4, 0xD1);                             /* write the output port */
    out(&s, 1, 0, 0xDF);
    out(&s, 1, 4, 0xFE);                             /* pulse reset */
    save("i8042", "commands", &s);
}

static void seed_acpi_pm(void)
{
    struct seed s = { .n = 0 };                      /* 0-15: PM_BASE.., 16: 0xCF9 */
    in(&s, 4, 8);                                    /* PM timer */
    in(&s, 4, 8);
    out(&s, 2, 2, 0x0121);                           /* PM1_EN */
    in(&s, 2, 0);
    out(&s, 2, 0, 0xFFFF);                           /* PM1_STS: write 1 to clear */
    out(&s, 2, 4, 1);                                /* SCI_EN */
    in(&s, 2, 4);
    out(&s, 2, 4, 5 << 10 | 0x2000);                 /* S5 */
    save("acpi_pm", "poweroff", &s);
    s.n = 0;
    in(&s, 1, 16);
    out(&s, 1, 16, 2);
    out(&s, 1, 16, 6);                               /* reset */
    save("acpi_pm", "reset", &s);
}

static void seed_legacy_ports(void)
{
    /* offsets: 0-1 RTC, 2 port 0x92, 3-9 CGA, 10-16 mono, 17 0xE9, 18-21 0xF4 */
    struct seed s = { .n = 0 };
    for (uint32_t r = 0; r < 0x34; r++) {
        out(&s, 1, 0, r);
        in(&s, 1, 1);
    }
    out(&s, 1, 0, 0x0B);
    out(&s, 1, 1, 0x06);                             /* binary, 24 h */
    out(&s, 1, 0, 0x80);                             /* NMI off, seconds */
    in(&s, 1, 1);
    in(&s, 1, 2);
    out(&s, 1, 2, 2);
    out(&s, 1, 3, 14);
    out(&s, 1, 4, 1);
    out(&s, 2, 3, 0x500F);
    in(&s, 1, 9);
    in(&s, 1, 16);
    out(&s, 1, 17, 'A');
    in(&s, 1, 17);
    out(&s, 2, 18, 0x31);
    save("legacy_ports", "rtc-cga-debug", &s);
}

static void hc_call(struct seed *s, uint8_t func) { out(s, 1, 0, func); }
static void hc_reg(struct seed *s, unsigned r, uint64_t v)
{
    op(s, K_REG, WR, 1, (uint8_t)r, (uint16_t)(v >> 32), (uint32_t)v);
}

static void seed_hypercall(void)
{
    enum { RAX, RBX, RCX, RDX, RSI, RDI };
    struct seed s = { .n = 0 };
    type(&s, "a line\nmore");
    static const uint8_t modes[] = { 0, 1, 3 };      /* real, protected, long */
    for (unsigned m = 0; m < 3; m++) {
        op(&s, K_MODE, WR, 1, modes[m], 0, m == 0 ? 0x1000 : 0);
        hc_call(&s, MKVM_HC_VERSION);
        hc_reg(&s, RBX, 'x');
        hc_call(&s, MKVM_HC_PUTCHAR);
        hc_reg(&s, RSI, 0x100);
        hc_reg(&s, RCX, 16);
        hc_call(&s, MKVM_HC_WRITE);
        hc_reg(&s, RDI, 0x200);
        hc_reg(&s, RCX, 64);
        hc_call(&s, MKVM_HC_READLINE);
        hc_call(&s, MKVM_HC_NOP);
        in(&s, 1, 0);
        in(&s, 4, 1);
    }
    hc_reg(&s, RBX, 3);
    hc_call(&s, MKVM_HC_EXIT_CODE);
    save("hypercall", "every-mode", &s);
    s.n = 0;
    hc_reg(&s, RSI, 0xFFF0);
    hc_reg(&s, RCX, 0x20);
    hc_call(&s, MKVM_HC_WRITE);                           /* runs past the end of RAM */
    save("hypercall", "write-past-ram", &s);
}

/* ---- GDB remote protocol packets (checksummed) ---- */

static void packet(struct seed *s, const char *body)
{
    unsigned sum = 0;
    for (const char *p = body; *p; p++)
        sum += (uint8_t)*p;
    char buf[600];
    int n = snprintf(buf, sizeof(buf), "$%s#%02x", body, sum & 0xFF);
    put(s, s->n, buf, (size_t)n);
}

static void seed_gdb(void)
{
    struct seed s = { .n = 0 };
    const char *pk[] = { "qSupported:multiprocess+;swbreak+;hwbreak+", "?", "qAttached",
                         "Hg0", "g", "p10", "P0=0100000000000000", "m1000,10",
                         "M1000,4:deadbeef", "X1000,2:ab", "Z0,1000,1", "z0,1000,1",
                         "Z1,2000,1", "qfThreadInfo", "qsThreadInfo", "vCont?",
                         "vCont;s:1", "qXfer:features:read:target.xml:0,fff", "D", "k" };
    for (size_t i = 0; i < sizeof(pk) / sizeof(pk[0]); i++) {
        packet(&s, pk[i]);
        put(&s, s.n, "+", 1);
    }
    save("gdb_packet", "session", &s);
}

/* ---- the control API: byte 0 = chunking, then what a client sends ---- */

static void http(struct seed *s, const char *method, const char *path, const char *body)
{
    char buf[1024];
    int n = snprintf(buf, sizeof(buf), "%s %s HTTP/1.1\r\nHost: localhost\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                     method, path, strlen(body), body);
    put(s, s->n, buf, (size_t)n);
}

static void seed_api(void)
{
    struct seed s = { .n = 1 };
    s.b[0] = 63;                                     /* 64-byte chunks, the VMM obliges */
    http(&s, "GET", "/", "");
    http(&s, "PUT", "/boot-source",
         "{\"kernel_image_path\":\"os.elf\",\"boot_args\":\"console=ttyS0\"}");
    http(&s, "PUT", "/machine-config", "{\"vcpu_count\":2,\"mem_size_mib\":256}");
    http(&s, "PUT", "/drives/rootfs", "{\"drive_id\":\"rootfs\",\"path_on_host\":"
         "\"disk.img\",\"is_root_device\":true,\"is_read_only\":false}");
    http(&s, "GET", "/machine-config", "");
    http(&s, "PUT", "/actions", "{\"action_type\":\"InstanceStart\"}");
    http(&s, "PATCH", "/vm", "{\"state\":\"Paused\"}");
    http(&s, "PUT", "/snapshot/create", "{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\"}");
    http(&s, "PATCH", "/vm", "{\"state\":\"Resumed\"}");
    save("api_http", "session", &s);
    s.n = 1;
    s.b[0] = 64 | 0;                                 /* byte by byte, the VMM refuses */
    http(&s, "PUT", "/actions", "{\"action_type\":\"InstanceStart\"}");
    http(&s, "PUT", "/snapshot/load", "{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\","
         "\"resume_vm\":true}");
    save("api_http", "refused", &s);
}

/* A snapshot state file (docs/snapshot.md): byte 0 = 3 makes the target fix
 * the CRC and the version, so the seed reaches the section walk. */
static void seed_snapshot(void)
{
    struct seed s = { .n = 1 };
    s.b[0] = 3;
    size_t h = 1, sec = h + 64;
    put(&s, h, "MKVMSNAP", 8);
    put32(&s, h + 8, 1);                            /* format */
    put32(&s, h + 12, 64);                          /* header size */
    put(&s, h + 16, "0.1.0", 5);
    put64(&s, h + 40, 1 << 20);                     /* mem_size */
    put32(&s, h + 48, 1);                           /* ncpus */
    put32(&s, h + 52, 2);                           /* nsections */
    put64(&s, h + 56, 2 * 40 + 16 + 8);             /* body_len */
    put(&s, sec, "config", 6);
    put64(&s, sec + 32, 16);
    put64(&s, sec + 40, 1 << 20);
    put(&s, sec + 56, "dev.serial@0", 12);
    put64(&s, sec + 88, 8);
    put64(&s, sec + 96, 0);
    put64(&s, sec + 104, 0);                        /* the trailer: CRC, 0 */
    save("snapshot_file", "two-sections", &s);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    outdir = argv[1];
    seed_elf();
    seed_multiboot();
    seed_bzimage();
    seed_bootsector();
    seed_virtio_blk();
    seed_virtio_rng_net();
    seed_virtio_vsock();
    seed_ide();
    seed_serial();
    seed_i8042();
    seed_acpi_pm();
    seed_legacy_ports();
    seed_hypercall();
    seed_gdb();
    seed_api();
    seed_snapshot();
    return 0;
}
