/* test_bus.c - unit tests for the I/O bus and the vCPU's port dispatch,
 * including string I/O (rep ins/outs: io.count > 1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "core/bus.h"
#include "core/kvm.h"
#include "core/vcpu.h"
#include "core/vm.h"

struct recorder {
    int calls;
    uint64_t last_off, values[16];
    unsigned last_len;
    uint8_t next_read;
};

static enum io_result record(void *dev, struct io_req *r)
{
    struct recorder *d = dev;
    d->last_off = r->off;
    d->last_len = r->len;
    if (r->write)
        d->values[d->calls % 16] = io_get(r);
    else
        io_put(r, d->next_read++);
    d->calls++;
    return IO_OK;
}

static void test_register(void **state)
{
    (void)state;
    struct bus b;
    struct recorder d = { 0 };
    bus_init(&b, "port");
    assert_int_equal(bus_register(&b, 0x3f8, 8, record, &d, "uart"), 0);
    assert_int_equal(bus_register(&b, 0x3ff, 1, record, &d, "overlap"), -1);
    assert_int_equal(bus_register(&b, 0x3f0, 9, record, &d, "overlap"), -1);
    assert_int_equal(bus_register(&b, 0x400, 0, record, &d, "empty"), -1);
    assert_int_equal(bus_register(&b, UINT64_MAX, 2, record, &d, "wraps"), -1);
    assert_int_equal(bus_register(&b, 0x3f0, 8, record, &d, "adjacent"), 0);
    /* around: may contain earlier ranges wholly, never cut one */
    assert_int_equal(bus_register_around(&b, 0x3f4, 8, record, &d, "cuts"), -1);
    assert_int_equal(bus_register_around(&b, 0x3f0, 0x10, record, &d, "around"), 0);
    assert_string_equal(bus_find(&b, 0x3f8, 1)->name, "uart");     /* the earlier wins */
    assert_non_null(bus_find(&b, 0x3f8, 1));
    assert_non_null(bus_find(&b, 0x3fc, 4));
    assert_null(bus_find(&b, 0x3fe, 4));    /* runs past the end */
    assert_null(bus_find(&b, 0x500, 1));
}

static void test_dispatch(void **state)
{
    (void)state;
    struct bus b;
    struct recorder d = { 0 };
    bus_init(&b, "port");
    bus_register(&b, 0x70, 2, record, &d, "rtc");
    uint8_t data[4] = { 0x34, 0x12 };
    struct io_req w = { .addr = 0x71, .data = data, .len = 1, .write = true };
    assert_int_equal(bus_access(&b, &w), IO_OK);
    assert_int_equal(d.last_off, 1);
    assert_int_equal(d.values[0], 0x34);
    struct io_req w2 = { .addr = 0x70, .data = data, .len = 2, .write = true };
    bus_access(&b, &w2);
    assert_int_equal(d.values[1], 0x1234);
    struct io_req miss = { .addr = 0x80, .data = data, .len = 4, .write = false };
    assert_int_equal(bus_access(&b, &miss), -1);
    assert_memory_equal(data, "\xff\xff\xff\xff", 4);
}

/* A fake vCPU whose kvm_run page we fill by hand, as KVM would. */
static struct kvm_run *fake_exit(struct vcpu *c, struct vm *vm, struct kvm_host *h,
                                 int dir, unsigned size, unsigned count, uint16_t port)
{
    memset(vm, 0, sizeof(*vm));
    memset(h, 0, sizeof(*h));
    h->run_size = 4096;
    vm->kvm = h;
    vm->name = "fake";
    vm->fd = -1;
    bus_init(&vm->pio, "port");
    memset(c, 0, sizeof(*c));
    c->vm = vm;
    c->run = calloc(1, 4096);
    c->run->exit_reason = KVM_EXIT_IO;
    c->run->io.direction = (uint8_t)dir;
    c->run->io.size = (uint8_t)size;
    c->run->io.count = count;
    c->run->io.port = port;
    c->run->io.data_offset = 1024;
    return c->run;
}

static void test_string_out(void **state)
{
    (void)state;
    struct vcpu c;
    struct vm vm;
    struct kvm_host h;
    struct recorder d = { 0 };
    struct kvm_run *run = fake_exit(&c, &vm, &h, KVM_EXIT_IO_OUT, 2, 3, 0x60);
    bus_register(&vm.pio, 0x60, 2, record, &d, "dev");
    uint16_t words[3] = { 0x1111, 0x2222, 0x3333 };   /* rep outsw, 3 words */
    memcpy((uint8_t *)run + run->io.data_offset, words, sizeof(words));
    assert_int_equal(vcpu_dispatch_io(&c), IO_OK);
    assert_int_equal(d.calls, 3);
    assert_int_equal(d.last_len, 2);
    assert_int_equal(d.values[0], 0x1111);
    assert_int_equal(d.values[2], 0x3333);
    free(run);
}

static void test_string_in(void **state)
{
    (void)state;
    struct vcpu c;
    struct vm vm;
    struct kvm_host h;
    struct recorder d = { .next_read = 7 };
    struct kvm_run *run = fake_exit(&c, &vm, &h, KVM_EXIT_IO_IN, 1, 4, 0x60);
    bus_register(&vm.pio, 0x60, 1, record, &d, "dev");
    assert_int_equal(vcpu_dispatch_io(&c), IO_OK);    /* rep insb, 4 bytes */
    assert_memory_equal((uint8_t *)run + run->io.data_offset, "\x07\x08\x09\x0a", 4);
    free(run);
}

static void test_malformed_exit(void **state)
{
    (void)state;
    struct vcpu c;
    struct vm vm;
    struct kvm_host h;
    struct kvm_run *run = fake_exit(&c, &vm, &h, KVM_EXIT_IO_IN, 4, 1000, 0x60);
    /* 4000 bytes at offset 1024 would run past the 4 KiB run page */
    assert_int_equal(vcpu_dispatch_io(&c), IO_STOP);
    assert_int_equal(vm.exit_status, VM_EXIT_FAULT);
    free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register),
        cmocka_unit_test(test_dispatch),
        cmocka_unit_test(test_string_out),
        cmocka_unit_test(test_string_in),
        cmocka_unit_test(test_malformed_exit),
    };
    return cmocka_run_group_tests_name("bus", tests, NULL, NULL);
}
