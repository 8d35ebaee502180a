/* test_virtio_table.c - the VM's virtio device table: slots in creation
 * order, no two devices (of any types) in one slot, the limit, --stats. */
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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int setup(void **state)
{
    *state = fake_vm_new(1 << 20);
    return 0;
}

static int teardown(void **state)
{
    fake_vm_free(*state);
    return 0;
}

/* Run fn(arg) with stderr captured into buf. */
static void capture(void (*fn)(void *), void *arg, char *buf, size_t n)
{
    struct capture c;
    capture_begin(&c);
    fn(arg);
    capture_end(&c, buf, n);
}

static void add_one(void *p)
{
    struct vm *vm = p;
    assert_null(virtio_table_add(&vm->virtio, vm->name, VIRTIO_ID_NET, "virtio-net", "tap9"));
}

static void test_slots_in_order_and_limit(void **state)
{
    struct vm *vm = *state;
    for (int i = 0; i < VIRTIO_MMIO_MAX; i++) {
        struct virtio_slot *s = virtio_table_add(&vm->virtio, "t", VIRTIO_ID_RNG + (uint32_t)i,
                                                 "x", "x");
        assert_non_null(s);
        assert_int_equal(s->base, VIRTIO_MMIO_BASE + (uint64_t)i * VIRTIO_MMIO_STRIDE);
        assert_int_equal(s->gsi, VIRTIO_MMIO_GSI + (unsigned)i);
        assert_int_equal(s->size, VIRTIO_MMIO_SIZE);
        assert_int_equal(s->device_id, VIRTIO_ID_RNG + (uint32_t)i);
    }
    assert_int_equal(vm->virtio.n, VIRTIO_MMIO_MAX);
    assert_true(VIRTIO_MMIO_GSI + VIRTIO_MMIO_MAX <= 24);      /* IOAPIC pins */
    char msg[512], want[512];
    capture(add_one, vm, msg, sizeof(msg));
    snprintf(want, sizeof(want), "mini-kvm: test: tap9: too many virtio devices (at most %d in "
             "all: disks, NICs, rng, vsock)\n", VIRTIO_MMIO_MAX);
    assert_string_equal(msg, want);
    assert_int_equal(vm->virtio.n, VIRTIO_MMIO_MAX);
}

/* A second device type next to a disk: its own slot, its own registers. */
static void notify_nothing(void *dev, struct virtio_mmio *t, unsigned q)
{
    (void)dev, (void)t, (void)q;
}

static uint32_t rd32(struct vm *vm, uint64_t addr)
{
    uint8_t d[4];
    struct io_req r = { .addr = addr, .data = d, .len = 4, .write = false };
    assert_int_equal(bus_access(&vm->mmio, &r), IO_OK);
    return (uint32_t)io_get(&r);
}

static void test_second_type_does_not_collide(void **state)
{
    struct vm *vm = *state;
    char path[] = "/tmp/mkvm-vt-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 4096), 0);
    close(fd);
    static const struct virtio_dev_ops net = {
        .name = "virtio-net", .device_id = VIRTIO_ID_NET, .num_queues = 2,
        .queue_max = 256, .notify = notify_nothing,
    };
    assert_non_null(virtio_mmio_create(vm, &net, NULL, "tap0"));
    assert_int_equal(virtio_blk_create(vm, path), 0);
    assert_non_null(virtio_mmio_create(vm, &net, NULL, "tap1"));
    assert_int_equal(vm->virtio.n, 3);
    static const uint32_t ids[] = { VIRTIO_ID_NET, VIRTIO_ID_BLOCK, VIRTIO_ID_NET };
    for (int i = 0; i < 3; i++) {
        const struct virtio_slot *s = &vm->virtio.slot[i];
        assert_int_equal(s->device_id, ids[i]);
        assert_int_equal(rd32(vm, s->base + VMMIO_MAGIC), VIRTIO_MMIO_MAGIC);
        assert_int_equal(rd32(vm, s->base + VMMIO_DEVICE_ID), ids[i]);
        for (int j = 0; j < i; j++) {
            assert_true(s->base != vm->virtio.slot[j].base);
            assert_true(s->gsi != vm->virtio.slot[j].gsi);
        }
    }
    assert_string_equal(vm->virtio.slot[1].detail, path);
    unlink(path);
}

static void print_table(void *p)
{
    struct vm *vm = p;
    virtio_table_print(&vm->virtio, "linux");
}

static void test_stats_lines(void **state)
{
    struct vm *vm = *state;
    struct virtio_slot *s = virtio_table_add(&vm->virtio, "t", VIRTIO_ID_BLOCK, "virtio-blk", "d");
    snprintf(s->detail, sizeof(s->detail), "disk.img");
    virtio_table_add(&vm->virtio, "t", VIRTIO_ID_RNG, "virtio-rng", "rng");
    char out[512];
    capture(print_table, vm, out, sizeof(out));
    assert_string_equal(out, "[linux] virtio-mmio 0xd0000000 gsi 16: virtio-blk disk.img\n"
                             "[linux] virtio-mmio 0xd0001000 gsi 17: virtio-rng\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_slots_in_order_and_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_type_does_not_collide, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stats_lines, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
