/* test_virtio_rng.c - the entropy device driven like a guest driver would:
 * buffers filled with fresh bytes, the per-request cap, bad chains. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "devices/virtio_rng.h"
#include "virtio_driver.h"

#include <stdlib.h>

#define RAM  (1u << 20)
#define RQ   0x10000
#define BUF  0x20000

static int setup(void **state)
{
    struct vm *vm = calloc(1, sizeof(*vm));
    vm->name = "t";
    vm->fd = -1;
    bus_init(&vm->pio, "port");
    bus_init(&vm->mmio, "mmio");
    assert_int_equal(mem_init(&vm->mem, RAM), 0);
    assert_int_equal(virtio_rng_create(vm), 0);
    struct vdrv *d = calloc(1, sizeof(*d));
    d->vm = vm;
    d->base = vm->virtio.slot[0].base;
    assert_true(vd_negotiate(d, 1ULL << VIRTIO_F_VERSION_1));
    vd_queue(d, 0, RQ, 8);
    vd_driver_ok(d);
    *state = d;
    return 0;
}

static int teardown(void **state)
{
    struct vdrv *d = *state;
    vm_release_devices(d->vm);
    mem_free(&d->vm->mem);
    free(d->vm);
    free(d);
    return 0;
}

static void test_identity_and_table(void **state)
{
    struct vdrv *d = *state;
    assert_int_equal(vd_rd32(d, VMMIO_DEVICE_ID), VIRTIO_ID_RNG);
    assert_int_equal(d->vm->virtio.n, 1);
    assert_string_equal(d->vm->virtio.slot[0].name, "virtio-rng");
    assert_int_equal(vd_features(d), 1ULL << VIRTIO_F_VERSION_1 |      /* and the ring's */
                     1ULL << VIRTIO_RING_F_INDIRECT_DESC | 1ULL << VIRTIO_RING_F_EVENT_IDX);
}

/* Two 64-byte requests: both filled (used length 64), different bytes, not zeros. */
static void test_fills_buffers(void **state)
{
    struct vdrv *d = *state;
    uint8_t *a = vd_gp(d, BUF, 64), *b = vd_gp(d, BUF + 64, 64), zero[64] = { 0 };
    memset(a, 0, 64);
    memset(b, 0, 64);
    vd_desc(d, 0, 0, BUF, 64, VIRTQ_DESC_F_WRITE, 0);
    vd_desc(d, 0, 1, BUF + 64, 64, VIRTQ_DESC_F_WRITE, 0);
    vd_avail(d, 0, 0);
    vd_avail(d, 0, 1);
    vd_notify(d, 0);
    struct virtq_used_elem e;
    assert_true(vd_next_used(d, 0, &e));
    assert_int_equal(e.id, 0);
    assert_int_equal(e.len, 64);
    assert_true(vd_next_used(d, 0, &e));
    assert_int_equal(e.id, 1);
    assert_int_equal(e.len, 64);
    assert_memory_not_equal(a, zero, 64);
    assert_memory_not_equal(b, zero, 64);
    assert_memory_not_equal(a, b, 64);
    assert_true(vd_rd32(d, VMMIO_INT_STATUS) & VIRTIO_INT_USED);
}

/* A chained 3 x 4 KiB buffer gets at most 4 KiB, spread across the first
 * descriptor; a chain with no writable buffer gets 0 bytes. */
static void test_cap_and_readable_only(void **state)
{
    struct vdrv *d = *state;
    memset(vd_gp(d, BUF, 3 * 4096), 0, 3 * 4096);
    vd_desc(d, 0, 0, BUF, 4096, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
    vd_desc(d, 0, 1, BUF + 4096, 4096, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 2);
    vd_desc(d, 0, 2, BUF + 8192, 4096, VIRTQ_DESC_F_WRITE, 0);
    vd_desc(d, 0, 3, BUF + 12288, 16, 0, 0);
    vd_avail(d, 0, 0);
    vd_avail(d, 0, 3);
    vd_notify(d, 0);
    struct virtq_used_elem e;
    assert_true(vd_next_used(d, 0, &e));
    assert_int_equal(e.len, 4096);
    uint8_t zero[4096] = { 0 };
    assert_memory_equal(vd_gp(d, BUF + 4096, 4096), zero, 4096);   /* untouched */
    assert_true(vd_next_used(d, 0, &e));
    assert_int_equal(e.id, 3);
    assert_int_equal(e.len, 0);
}

/* A buffer past the end of RAM breaks only the device: NEEDS_RESET, nothing used. */
static void test_buffer_outside_ram(void **state)
{
    struct vdrv *d = *state;
    vd_desc(d, 0, 0, RAM - 32, 64, VIRTQ_DESC_F_WRITE, 0);
    vd_avail(d, 0, 0);
    vd_notify(d, 0);
    struct virtq_used_elem e;
    assert_false(vd_next_used(d, 0, &e));
    assert_true(vd_rd32(d, VMMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_identity_and_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fills_buffers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cap_and_readable_only, setup, teardown),
        cmocka_unit_test_setup_teardown(test_buffer_outside_ram, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
