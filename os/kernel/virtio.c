/* virtio.c - a virtio-blk driver for virtio-mmio version 2 ("modern"): one
 * virtqueue of 3-descriptor requests, one 512-byte sector at a time, and
 * FLUSH requests so that what was written survives the host losing power. */
#include "kernel.h"

enum {
    MAGIC = 0x000, VERSION = 0x004, DEVICE_ID = 0x008, DEV_FEATURES = 0x010,
    DEV_FEATURES_SEL = 0x014, DRV_FEATURES = 0x020, DRV_FEATURES_SEL = 0x024,
    QUEUE_SEL = 0x030, QUEUE_NUM_MAX = 0x034, QUEUE_NUM = 0x038,
    QUEUE_READY = 0x044, QUEUE_NOTIFY = 0x050, INT_STATUS = 0x060,
    INT_ACK = 0x064, STATUS = 0x070, QUEUE_DESC = 0x080, QUEUE_DRIVER = 0x090,
    QUEUE_DEVICE = 0x0A0, CONFIG = 0x100,
};
enum { S_ACKNOWLEDGE = 1, S_DRIVER = 2, S_DRIVER_OK = 4, S_FEATURES_OK = 8 };
#define VIRTIO_MAGIC 0x74726976     /* "virt" */
#define VIRTIO_BLK 2
#define QSIZE 8
#define D_NEXT 1                    /* descriptor flags */
#define D_WRITE 2                   /* the device writes this buffer */
#define F_FLUSH (1u << 9)           /* VIRTIO_BLK_F_FLUSH */
enum { T_IN = 0, T_OUT = 1, T_FLUSH = 4 };  /* request types */

/* The virtqueue: descriptors, the ring we fill (driver/"avail") and the ring
 * the device fills (device/"used"). The device reads these by physical
 * address, which here is the same as the kernel's virtual address. */
struct vdesc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags, next;
};
static struct {
    struct vdesc desc[QSIZE];
    struct { uint16_t flags, idx, ring[QSIZE], event; } avail;
    struct { uint16_t flags, idx; struct { uint32_t id, len; } ring[QSIZE]; } used
        __attribute__((aligned(4)));
} vq __attribute__((aligned(4096)));

static struct blkreq { uint32_t type, reserved; uint64_t sector; } req;
static volatile uint8_t req_status;
static uint64_t base;               /* the device's MMIO registers, or 0 */
static uint16_t used_seen;
static int can_flush;               /* VIRTIO_BLK_F_FLUSH negotiated */
uint64_t disk_sectors;

static uint32_t reg(int r) { return mmio_read(base + r); }
static void set_reg(int r, uint32_t v) { mmio_write(base + r, v); }

/* The setup sequence of the virtio 1.x spec, section 3.1. */
static int setup(void)
{
    set_reg(STATUS, 0);             /* reset */
    set_reg(STATUS, S_ACKNOWLEDGE | S_DRIVER);
    set_reg(DEV_FEATURES_SEL, 1);
    if (!(reg(DEV_FEATURES) & 1))   /* bit 32: VIRTIO_F_VERSION_1 */
        return kprintf("virtio-blk: device is not virtio 1.x\n"), -1;
    set_reg(DEV_FEATURES_SEL, 0);
    can_flush = (reg(DEV_FEATURES) & F_FLUSH) != 0;
    set_reg(DRV_FEATURES_SEL, 1);   /* accept VERSION_1 and FLUSH, nothing else */
    set_reg(DRV_FEATURES, 1);
    set_reg(DRV_FEATURES_SEL, 0);
    set_reg(DRV_FEATURES, can_flush ? F_FLUSH : 0);
    set_reg(STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK);
    if (!(reg(STATUS) & S_FEATURES_OK))
        return kprintf("virtio-blk: features refused\n"), -1;
    set_reg(QUEUE_SEL, 0);
    if (reg(QUEUE_NUM_MAX) < QSIZE)
        return kprintf("virtio-blk: queue too small\n"), -1;
    set_reg(QUEUE_NUM, QSIZE);
    uint64_t d = (uint64_t)&vq.desc, a = (uint64_t)&vq.avail, u = (uint64_t)&vq.used;
    set_reg(QUEUE_DESC, (uint32_t)d), set_reg(QUEUE_DESC + 4, d >> 32);
    set_reg(QUEUE_DRIVER, (uint32_t)a), set_reg(QUEUE_DRIVER + 4, a >> 32);
    set_reg(QUEUE_DEVICE, (uint32_t)u), set_reg(QUEUE_DEVICE + 4, u >> 32);
    set_reg(QUEUE_READY, 1);
    set_reg(STATUS, S_ACKNOWLEDGE | S_DRIVER | S_FEATURES_OK | S_DRIVER_OK);
    disk_sectors = reg(CONFIG) | (uint64_t)reg(CONFIG + 4) << 32;
    return 0;
}

/* Use the first virtio-mmio device that is a block device. */
int disk_init(const uint64_t *bases, int n)
{
    for (int i = 0; i < n && !base; i++) {
        if (mmio_read(bases[i] + MAGIC) == VIRTIO_MAGIC &&
            mmio_read(bases[i] + DEVICE_ID) == VIRTIO_BLK) {
            base = bases[i];
            if (mmio_read(base + VERSION) != 2)
                return kprintf("virtio-blk: legacy device, need version 2\n"), base = 0, -1;
        }
    }
    if (!base)
        return kprintf("virtio-blk: no disk\n"), -1;
    if (setup() < 0)
        return base = 0, -1;
    kprintf("virtio-blk: %lu sectors at %p\n", disk_sectors, (void *)base);
    return 0;
}

/* Queue the chain starting at descriptor 0 and wait for it. We poll for
 * completion with interrupts off: mini-kvm completes a request on its I/O
 * thread within microseconds of the notify (an ioeventfd: no exit), and
 * polling keeps each file-system operation atomic with respect to other
 * processes without any locks. */
static int submit(void)
{
    vq.avail.ring[vq.avail.idx % QSIZE] = 0;
    /* x86 keeps stores in order; the barrier keeps the compiler from
     * publishing the index before the descriptors. */
    asm volatile("" : : : "memory");
    vq.avail.idx++;
    asm volatile("" : : : "memory");
    set_reg(QUEUE_NOTIFY, 0);
    while (*(volatile uint16_t *)&vq.used.idx == used_seen)
        asm volatile("pause");
    used_seen++;
    set_reg(INT_ACK, reg(INT_STATUS));  /* lower the (masked) IRQ line */
    return req_status == 0 ? 0 : -1;
}

/* Read or write one sector through the kernel buffer buf (identity-mapped,
 * so its address is physical). The request is header, data, status byte. */
int disk_rw(uint32_t sector, void *buf, int write)
{
    if (!base || sector >= disk_sectors)
        return -1;
    req = (struct blkreq){ write ? T_OUT : T_IN, 0, sector };
    req_status = 0xFF;
    vq.desc[0] = (struct vdesc){ (uint64_t)&req, sizeof req, D_NEXT, 1 };
    vq.desc[1] = (struct vdesc){ (uint64_t)buf, 512, D_NEXT | (write ? 0 : D_WRITE), 2 };
    vq.desc[2] = (struct vdesc){ (uint64_t)&req_status, 1, D_WRITE, 0 };
    return submit();
}

/* Ask the device to put every completed write on stable storage (mini-kvm:
 * fdatasync of the image). A completed write is only in the host's page
 * cache: it survives mini-kvm being killed, not the host losing power.
 * Without VIRTIO_BLK_F_FLUSH the device promises nothing more: 0. */
int disk_flush(void)
{
    if (!base || !can_flush)
        return base ? 0 : -1;
    req = (struct blkreq){ T_FLUSH, 0, 0 };
    req_status = 0xFF;
    vq.desc[0] = (struct vdesc){ (uint64_t)&req, sizeof req, D_NEXT, 1 };
    vq.desc[1] = (struct vdesc){ (uint64_t)&req_status, 1, D_WRITE, 0 };
    return submit();
}
