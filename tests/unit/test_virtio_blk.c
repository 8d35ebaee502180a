/* test_virtio_blk.c - virtio-mmio + virtio-blk driven through MMIO like a
 * guest driver would, on fake guest RAM and a temporary image, without KVM. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fake_vm.h"

#include "core/bus.h"
#include "core/mem.h"
#include "core/vm.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_mmio.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RAM      (4u << 20)
#define SECTORS  64
#define QSIZE    8
#define DESC     0x10000
#define AVAIL    0x11000
#define USED     0x12000
#define HDR      0x20000
#define DATA     0x21000
#define STATUS   0x40000
#define BASE     VIRTIO_MMIO_SLOT_BASE(0)

struct fixture {
    struct vm vm;
    char path[64];
    uint16_t avail_idx;
};

static uint8_t pattern(uint64_t i)
{
    return (uint8_t)(i * 7 + i / 512);
}

static void write_image(const char *path, size_t size)
{
    int fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    uint8_t *b = malloc(size ? size : 1);
    for (size_t i = 0; i < size; i++)
        b[i] = pattern(i);
    assert_int_equal(write(fd, b, size), (ssize_t)size);
    free(b);
    close(fd);
}


static int setup_image(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->path, sizeof(f->path), "/tmp/mkvm-blk-XXXXXX");
    int fd = mkstemp(f->path);
    assert_true(fd >= 0);
    close(fd);
    write_image(f->path, SECTORS * 512);
    fake_vm_init(&f->vm, RAM);
    *state = f;
    return 0;
}

static int setup(void **state)
{
    setup_image(state);
    struct fixture *f = *state;
    assert_int_equal(virtio_blk_create(&f->vm, f->path), 0);
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    fake_vm_fini(&f->vm);
    unlink(f->path);
    free(f);
    return 0;
}

/* ---- a tiny virtio driver ---- */

static uint32_t rd32(struct fixture *f, uint64_t off)
{
    uint8_t d[4];
    struct io_req r = { .addr = BASE + off, .data = d, .len = 4, .write = false };
    assert_int_equal(bus_access(&f->vm.mmio, &r), IO_OK);
    return (uint32_t)io_get(&r);
}

static void wr32(struct fixture *f, uint64_t off, uint32_t v)
{
    uint8_t d[4];
    struct io_req r = { .addr = BASE + off, .data = d, .len = 4, .write = true };
    io_put(&r, v);
    assert_int_equal(bus_access(&f->vm.mmio, &r), IO_OK);
}

/* virtio_mmio_create hands the transport to the VM first. */
static struct virtio_mmio *transport(struct fixture *f)
{
    assert_true(f->vm.nowned >= 1);
    return f->vm.owned[0].p;
}

static void *gp(struct fixture *f, uint64_t gpa, uint64_t len)
{
    void *p = guest_ptr(&f->vm.mem, gpa, len);
    assert_non_null(p);
    return p;
}

static void set_desc(struct fixture *f, unsigned i, uint64_t addr, uint32_t len,
                     uint16_t flags, uint16_t next)
{
    struct virtq_desc *d = gp(f, DESC + 16 * i, 16);
    *d = (struct virtq_desc){ addr, len, flags, next };
}

static void negotiate(struct fixture *f, uint32_t feat_lo, uint32_t feat_hi)
{
    wr32(f, VMMIO_STATUS, 0);
    wr32(f, VMMIO_STATUS, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
    wr32(f, VMMIO_DRV_FEATURES_SEL, 0);
    wr32(f, VMMIO_DRV_FEATURES, feat_lo);
    wr32(f, VMMIO_DRV_FEATURES_SEL, 1);
    wr32(f, VMMIO_DRV_FEATURES, feat_hi);
    wr32(f, VMMIO_STATUS, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER |
                          VIRTIO_STATUS_FEATURES_OK);
}

static void setup_queue(struct fixture *f, uint64_t desc)
{
    memset(gp(f, AVAIL, 0x1000), 0, 0x1000);
    memset(gp(f, USED, 0x1000), 0, 0x1000);
    f->avail_idx = 0;
    wr32(f, VMMIO_QUEUE_SEL, 0);
    assert_int_equal(rd32(f, VMMIO_QUEUE_READY), 0);
    wr32(f, VMMIO_QUEUE_NUM, QSIZE);
    wr32(f, VMMIO_QUEUE_DESC_LO, (uint32_t)desc);
    wr32(f, VMMIO_QUEUE_DESC_HI, (uint32_t)(desc >> 32));
    wr32(f, VMMIO_QUEUE_DRIVER_LO, AVAIL);
    wr32(f, VMMIO_QUEUE_DRIVER_HI, 0);
    wr32(f, VMMIO_QUEUE_DEVICE_LO, USED);
    wr32(f, VMMIO_QUEUE_DEVICE_HI, 0);
    wr32(f, VMMIO_QUEUE_READY, 1);
}

static void driver_init(struct fixture *f)
{
    negotiate(f, 1u << VIRTIO_BLK_F_FLUSH, 1);
    assert_true(rd32(f, VMMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
    setup_queue(f, DESC);
    assert_int_equal(rd32(f, VMMIO_QUEUE_READY), 1);
    wr32(f, VMMIO_STATUS, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER |
                          VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

static uint16_t used_idx(struct fixture *f)
{
    return ((struct virtq_used *)gp(f, USED, 4))->idx;
}

/* Make chain `head` available and notify; true when the device used it. */
static bool submit(struct fixture *f, uint16_t head)
{
    struct virtq_avail *a = gp(f, AVAIL, 4 + 2 * QSIZE);
    uint16_t before = used_idx(f);
    a->ring[f->avail_idx % QSIZE] = head;
    a->idx = ++f->avail_idx;
    wr32(f, VMMIO_QUEUE_NOTIFY, 0);
    return used_idx(f) != before;
}

static struct virtq_used_elem last_used(struct fixture *f)
{
    struct virtq_used *u = gp(f, USED, 4 + 8 * QSIZE);
    return u->ring[(uint16_t)(u->idx - 1) % QSIZE];
}

/* header, one data buffer of len bytes, status: returns the status byte. */
static uint8_t request(struct fixture *f, uint32_t type, uint64_t sector, uint32_t len)
{
    uint32_t hdr[4] = { type, 0, (uint32_t)sector, (uint32_t)(sector >> 32) };
    memcpy(gp(f, HDR, 16), hdr, 16);
    *(uint8_t *)gp(f, STATUS, 1) = 0xEE;
    bool dev_writes = type != VIRTIO_BLK_T_OUT;
    set_desc(f, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
    if (len) {
        set_desc(f, 1, DATA, len, VIRTQ_DESC_F_NEXT | (dev_writes ? VIRTQ_DESC_F_WRITE : 0), 2);
        set_desc(f, 2, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    } else {
        set_desc(f, 1, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    }
    assert_true(submit(f, 0));
    assert_int_equal(last_used(f).id, 0);
    return *(uint8_t *)gp(f, STATUS, 1);
}

static void ack_interrupt(struct fixture *f)
{
    wr32(f, VMMIO_INT_ACK, rd32(f, VMMIO_INT_STATUS));
    assert_int_equal(rd32(f, VMMIO_INT_STATUS), 0);
}

static void assert_file_pattern(struct fixture *f)
{
    uint8_t b[SECTORS * 512 + 1];
    int fd = open(f->path, O_RDONLY);
    assert_int_equal(pread(fd, b, sizeof(b), 0), SECTORS * 512);   /* size unchanged */
    close(fd);
    for (size_t i = 0; i < SECTORS * 512; i++)
        assert_int_equal(b[i], pattern(i));
}

/* ---- tests ---- */

static void test_identification(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(rd32(f, VMMIO_MAGIC), VIRTIO_MMIO_MAGIC);
    assert_int_equal(rd32(f, VMMIO_VERSION), 2);
    assert_int_equal(rd32(f, VMMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
    assert_int_equal(rd32(f, VMMIO_VENDOR_ID), VIRTIO_MMIO_VENDOR);
    wr32(f, VMMIO_DEV_FEATURES_SEL, 0);
    uint32_t lo = rd32(f, VMMIO_DEV_FEATURES);
    assert_true(lo & (1u << VIRTIO_BLK_F_FLUSH));
    assert_false(lo & (1u << VIRTIO_BLK_F_RO));
    assert_true(lo & (1u << VIRTIO_RING_F_INDIRECT_DESC));   /* the transport's */
    assert_true(lo & (1u << VIRTIO_RING_F_EVENT_IDX));
    wr32(f, VMMIO_DEV_FEATURES_SEL, 1);
    assert_int_equal(rd32(f, VMMIO_DEV_FEATURES), 1);   /* VERSION_1 */
    wr32(f, VMMIO_QUEUE_SEL, 0);
    assert_int_equal(rd32(f, VMMIO_QUEUE_NUM_MAX), VIRTIO_BLK_QUEUE);
    wr32(f, VMMIO_QUEUE_SEL, 1);
    assert_int_equal(rd32(f, VMMIO_QUEUE_NUM_MAX), 0);
    /* config: capacity as a 64-bit and as two 32-bit reads */
    uint8_t d[8];
    struct io_req r = { .addr = BASE + VMMIO_CONFIG, .data = d, .len = 8 };
    assert_int_equal(bus_access(&f->vm.mmio, &r), IO_OK);
    assert_int_equal(io_get(&r), SECTORS);
    assert_int_equal(rd32(f, VMMIO_CONFIG), SECTORS);
    assert_int_equal(rd32(f, VMMIO_CONFIG + 4), 0);
    assert_int_equal(rd32(f, VMMIO_CONFIG + 12), VIRTIO_BLK_QUEUE - 2);
    assert_int_equal(rd32(f, VMMIO_CONFIG + 0x80), 0);
}

static void test_features_need_version_1(void **state)
{
    struct fixture *f = *state;
    negotiate(f, 1u << VIRTIO_BLK_F_FLUSH, 0);
    assert_false(rd32(f, VMMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
    negotiate(f, 1u << 4, 1);      /* a feature we never offered (GEOMETRY) */
    assert_false(rd32(f, VMMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
    negotiate(f, 0, 1);
    assert_true(rd32(f, VMMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
}

static void test_read(void **state)
{
    struct fixture *f = *state;
    driver_init(f);
    assert_int_equal(request(f, VIRTIO_BLK_T_IN, 5, 1024), VIRTIO_BLK_S_OK);
    assert_int_equal(last_used(f).len, 1025);
    uint8_t *d = gp(f, DATA, 1024);
    for (unsigned i = 0; i < 1024; i++)
        assert_int_equal(d[i], pattern(5 * 512 + i));
    assert_int_equal(rd32(f, VMMIO_INT_STATUS), VIRTIO_INT_USED);
    assert_true(virtio_mmio_irq_level(transport(f)));
    ack_interrupt(f);
    assert_false(virtio_mmio_irq_level(transport(f)));
}

static void test_write_then_read(void **state)
{
    struct fixture *f = *state;
    driver_init(f);
    uint8_t *d = gp(f, DATA, 512);
    memset(d, 0x5A, 512);
    assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 10, 512), VIRTIO_BLK_S_OK);
    assert_int_equal(request(f, VIRTIO_BLK_T_FLUSH, 0, 0), VIRTIO_BLK_S_OK);
    uint8_t b[512];
    int fd = open(f->path, O_RDONLY);
    assert_int_equal(pread(fd, b, 512, 10 * 512), 512);
    for (int i = 0; i < 512; i++)
        assert_int_equal(b[i], 0x5A);
    assert_int_equal(pread(fd, b, 512, 11 * 512), 512);   /* neighbour untouched */
    for (int i = 0; i < 512; i++)
        assert_int_equal(b[i], pattern(11 * 512 + i));
    close(fd);
    memset(d, 0, 1024);
    assert_int_equal(request(f, VIRTIO_BLK_T_IN, 10, 1024), VIRTIO_BLK_S_OK);
    for (int i = 0; i < 512; i++)
        assert_int_equal(d[i], 0x5A);
    assert_int_equal(d[512], pattern(11 * 512));
}

static void test_out_of_range(void **state)
{
    struct fixture *f = *state;
    driver_init(f);
    memset(gp(f, DATA, 1024), 0x77, 1024);
    assert_int_equal(request(f, VIRTIO_BLK_T_IN, SECTORS - 1, 1024), VIRTIO_BLK_S_IOERR);
    assert_int_equal(request(f, VIRTIO_BLK_T_OUT, SECTORS - 1, 1024), VIRTIO_BLK_S_IOERR);
    assert_int_equal(request(f, VIRTIO_BLK_T_OUT, SECTORS, 512), VIRTIO_BLK_S_IOERR);
    assert_int_equal(request(f, VIRTIO_BLK_T_OUT, UINT64_MAX / 256, 512), VIRTIO_BLK_S_IOERR);
    assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 0, 100), VIRTIO_BLK_S_IOERR);
    assert_int_equal(request(f, VIRTIO_BLK_T_IN, SECTORS, 0), VIRTIO_BLK_S_OK);
    struct stat st;
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_size, SECTORS * 512);
    assert_file_pattern(f);
    /* the device still works */
    assert_int_equal(request(f, VIRTIO_BLK_T_IN, SECTORS - 1, 512), VIRTIO_BLK_S_OK);
}

static void test_flush_id_unsupported(void **state)
{
    struct fixture *f = *state;
    driver_init(f);
    memset(gp(f, DATA, 20), 0, 20);
    assert_int_equal(request(f, VIRTIO_BLK_T_GET_ID, 0, 20), VIRTIO_BLK_S_OK);
    assert_memory_equal(gp(f, DATA, 14), f->path + 5, 14);   /* "mkvm-blk-XXXXXX" */
    assert_int_equal(request(f, 99, 0, 512), VIRTIO_BLK_S_UNSUPP);
    assert_int_equal(request(f, VIRTIO_BLK_T_FLUSH, 0, 0), VIRTIO_BLK_S_OK);
}

/* Header split over two descriptors, data and status sharing one buffer. */
static void test_odd_framing(void **state)
{
    struct fixture *f = *state;
    driver_init(f);
    uint32_t hdr[4] = { VIRTIO_BLK_T_IN, 0, 3, 0 };
    memcpy(gp(f, HDR, 16), hdr, 16);
    set_desc(f, 4, HDR, 8, VIRTQ_DESC_F_NEXT, 6);
    set_desc(f, 6, HDR + 8, 8, VIRTQ_DESC_F_NEXT, 1);
    set_desc(f, 1, DATA, 300, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 7);
    set_desc(f, 7, DATA + 300, 213, VIRTQ_DESC_F_WRITE, 0);
    memset(gp(f, DATA, 513), 0xEE, 513);
    assert_true(submit(f, 4));
    uint8_t *d = gp(f, DATA, 513);
    for (int i = 0; i < 512; i++)
        assert_int_equal(d[i], pattern(3 * 512 + i));
    assert_int_equal(d[512], VIRTIO_BLK_S_OK);
    assert_int_equal(last_used(f).id, 4);
    assert_int_equal(last_used(f).len, 513);
}

static void assert_needs_reset(struct fixture *f)
{
    assert_true(rd32(f, VMMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
    assert_true(rd32(f, VMMIO_INT_STATUS) & VIRTIO_INT_CONFIG);
}

static void test_buffer_outside_ram(void **state)
{
    struct fixture *f = *state;
    driver_init(f);
    uint32_t hdr[4] = { VIRTIO_BLK_T_IN, 0, 0, 0 };
    memcpy(gp(f, HDR, 16), hdr, 16);
    set_desc(f, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
    set_desc(f, 1, RAM - 256, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    set_desc(f, 2, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    assert_false(submit(f, 0));
    assert_needs_reset(f);
    /* nothing more is processed until the driver resets the device */
    assert_false(submit(f, 0));
    driver_init(f);
    assert_false(rd32(f, VMMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
    assert_int_equal(request(f, VIRTIO_BLK_T_IN, 0, 512), VIRTIO_BLK_S_OK);
    /* a wrapping address is outside RAM too */
    set_desc(f, 1, UINT64_MAX - 100, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    assert_false(submit(f, 0));
    assert_needs_reset(f);
}

static void test_descriptor_loop(void **state)
{
    struct fixture *f = *state;
    driver_init(f);
    set_desc(f, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
    set_desc(f, 1, DATA, 16, VIRTQ_DESC_F_NEXT, 0);
    assert_false(submit(f, 0));
    assert_needs_reset(f);
}

static void test_bad_chains(void **state)
{
    struct fixture *f = *state;
    /* next index beyond the queue */
    driver_init(f);
    set_desc(f, 0, HDR, 16, VIRTQ_DESC_F_NEXT, QSIZE);
    assert_false(submit(f, 0));
    assert_needs_reset(f);
    /* head beyond the queue */
    driver_init(f);
    assert_false(submit(f, QSIZE + 3));
    assert_needs_reset(f);
    /* avail index far ahead of what the queue can hold */
    driver_init(f);
    ((struct virtq_avail *)gp(f, AVAIL, 4))->idx = QSIZE + 1;
    wr32(f, VMMIO_QUEUE_NOTIFY, 0);
    assert_needs_reset(f);
    /* indirect descriptor (not negotiated) */
    driver_init(f);
    set_desc(f, 0, HDR, 16, VIRTQ_DESC_F_INDIRECT, 0);
    assert_false(submit(f, 0));
    assert_needs_reset(f);
    /* no status byte */
    driver_init(f);
    set_desc(f, 0, HDR, 16, 0, 0);
    assert_false(submit(f, 0));
    assert_needs_reset(f);
    /* readable after writable */
    driver_init(f);
    set_desc(f, 0, STATUS, 1, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    set_desc(f, 1, HDR, 16, 0, 0);
    assert_false(submit(f, 0));
    assert_needs_reset(f);
}

static void test_bad_rings(void **state)
{
    struct fixture *f = *state;
    negotiate(f, 0, 1);
    setup_queue(f, RAM - 16);              /* table runs past the end of RAM */
    assert_int_equal(rd32(f, VMMIO_QUEUE_READY), 0);
    assert_true(rd32(f, VMMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
    negotiate(f, 0, 1);
    setup_queue(f, DESC + 8);              /* misaligned */
    assert_int_equal(rd32(f, VMMIO_QUEUE_READY), 0);
    negotiate(f, 0, 1);
    wr32(f, VMMIO_QUEUE_NUM, 6);           /* not a power of 2 */
    wr32(f, VMMIO_QUEUE_READY, 1);
    assert_int_equal(rd32(f, VMMIO_QUEUE_READY), 0);
    assert_true(rd32(f, VMMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
    wr32(f, VMMIO_STATUS, 0);
    assert_int_equal(rd32(f, VMMIO_STATUS), 0);
}

/* With KVM the notification is an ioeventfd: the VM's I/O thread serves the
 * request and the vCPU never waits for the disk. Written here as KVM would. */
static void test_request_on_the_io_thread(void **state)
{
    struct fixture *f = *state;
    driver_init(f);
    uint32_t hdr[4] = { VIRTIO_BLK_T_IN, 0, 3, 0 };
    memcpy(gp(f, HDR, 16), hdr, 16);
    *(uint8_t *)gp(f, STATUS, 1) = 0xEE;
    set_desc(f, 0, HDR, 16, VIRTQ_DESC_F_NEXT, 1);
    set_desc(f, 1, DATA, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    set_desc(f, 2, STATUS, 1, VIRTQ_DESC_F_WRITE, 0);
    struct virtq_avail *a = gp(f, AVAIL, 4 + 2 * QSIZE);
    a->ring[f->avail_idx % QSIZE] = 0;
    __atomic_store_n(&a->idx, ++f->avail_idx, __ATOMIC_RELEASE);
    int fd = virtio_mmio_kick_fd(transport(f), 0);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, &(uint64_t){ 1 }, 8), 8);
    for (int i = 0; i < 5000 && __atomic_load_n(&((struct virtq_used *)gp(f, USED, 4))->idx,
                                                 __ATOMIC_ACQUIRE) == 0; i++)
        usleep(1000);                           /* bounded: 5 s */
    assert_int_equal(used_idx(f), 1);
    assert_int_equal(*(uint8_t *)gp(f, STATUS, 1), VIRTIO_BLK_S_OK);
    const uint8_t *d = gp(f, DATA, 512);
    for (int i = 0; i < 512; i++)
        assert_int_equal(d[i], pattern(3 * 512 + (uint64_t)i));
    assert_true(rd32(f, VMMIO_INT_STATUS) & VIRTIO_INT_USED);
}

static void test_read_only_image(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(chmod(f->path, 0444), 0);
    assert_int_equal(virtio_blk_create(&f->vm, f->path), 0);
    wr32(f, VMMIO_DEV_FEATURES_SEL, 0);
    assert_true(rd32(f, VMMIO_DEV_FEATURES) & (1u << VIRTIO_BLK_F_RO));
    driver_init(f);
    memset(gp(f, DATA, 512), 0, 512);
    assert_int_equal(request(f, VIRTIO_BLK_T_OUT, 0, 512), VIRTIO_BLK_S_IOERR);
    assert_int_equal(request(f, VIRTIO_BLK_T_IN, 0, 512), VIRTIO_BLK_S_OK);
    assert_file_pattern(f);
}

/* Run virtio_blk_create on a bad image and return its stderr line. */
static char *create_error(struct fixture *f, const char *path, char *buf, size_t n)
{
    struct capture c;
    capture_begin(&c);
    int r = virtio_blk_create(&f->vm, path);
    capture_end(&c, buf, n);
    assert_int_equal(r, -1);
    return buf;
}

static void test_bad_images(void **state)
{
    struct fixture *f = *state;
    char msg[512], want[512];
    write_image(f->path, 1000);
    snprintf(want, sizeof(want),
             "mini-kvm: %s: disk image size 1000 is not a multiple of 512\n", f->path);
    assert_string_equal(create_error(f, f->path, msg, sizeof(msg)), want);
    write_image(f->path, 0);
    snprintf(want, sizeof(want), "mini-kvm: %s: disk image is empty\n", f->path);
    assert_string_equal(create_error(f, f->path, msg, sizeof(msg)), want);
    write_image(f->path, 512);
    f->vm.virtio.n = VIRTIO_MMIO_MAX;          /* every slot taken */
    snprintf(want, sizeof(want), "mini-kvm: test: %s: too many virtio devices (at most %d "
             "in all: disks, NICs, rng, vsock)\n", f->path, VIRTIO_MMIO_MAX);
    assert_string_equal(create_error(f, f->path, msg, sizeof(msg)), want);
    f->vm.virtio.n = 0;
    assert_non_null(strstr(create_error(f, "/tmp", msg, sizeof(msg)), "is a directory"));
    assert_non_null(strstr(create_error(f, "/nonexistent/disk.img", msg, sizeof(msg)),
                           "No such file"));
    assert_int_equal(f->vm.mmio.nr, 0);        /* nothing registered */
    assert_int_equal(f->vm.nowned, 0);
    assert_int_equal(f->vm.virtio.n, 0);       /* no slot taken */
}

static void test_image_locked(void **state)
{
    struct fixture *f = *state;
    char msg[512];
    assert_non_null(strstr(create_error(f, f->path, msg, sizeof(msg)), "in use"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_identification, setup, teardown),
        cmocka_unit_test_setup_teardown(test_features_need_version_1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_then_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_id_unsupported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_odd_framing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffer_outside_ram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_descriptor_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_chains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_rings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_request_on_the_io_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_image, setup_image, teardown),
        cmocka_unit_test_setup_teardown(test_bad_images, setup_image, teardown),
        cmocka_unit_test_setup_teardown(test_image_locked, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
