/* test_debug_exit.c - the isa-debug-exit port (0xF4) without KVM: the status
 * (v << 1) | 1 in 8 bits, 1/2/4-byte writes, and what does not stop the VM. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fake_vm.h"

#include "core/bus.h"
#include "core/vm.h"
#include "devices/debug_exit.h"

#include <stdlib.h>
#include <string.h>

static int setup(void **state)
{
    struct vm *vm = fake_vm_new(0);
    assert_int_equal(debug_exit_create(vm), 0);
    *state = vm;
    return 0;
}

static int teardown(void **state)
{
    fake_vm_free(*state);
    return 0;
}

static int io(struct vm *vm, uint16_t port, uint32_t v, unsigned len, bool write)
{
    uint8_t d[4];
    memcpy(d, &v, sizeof(d));
    struct io_req r = { .addr = port, .data = d, .len = len, .write = write };
    int res = bus_access(&vm->pio, &r);
    if (!write)
        assert_memory_equal(d, "\xFF\xFF\xFF\xFF", len);
    return res;
}

static void test_status(void **state)
{
    (void)state;
    assert_int_equal(debug_exit_status(0), 1);
    assert_int_equal(debug_exit_status(5), 11);
    assert_int_equal(debug_exit_status(0x31), 99);     /* 0x63 */
    assert_int_equal(debug_exit_status(0x7F), 255);
    assert_int_equal(debug_exit_status(0x80), 1);      /* 0x101: the OS keeps 8 bits */
    assert_int_equal(debug_exit_status(0xFFFFFFFF), 255);
    for (uint64_t v = 0; v < 1024; v++)                 /* never 0 = "success" */
        assert_true(debug_exit_status(v) & 1);
}

static void write_stops(void **state, unsigned len, uint32_t v, int status)
{
    struct vm *vm = *state;
    assert_int_equal(io(vm, DEBUG_EXIT_PORT, v, len, true), IO_STOP);
    assert_true(atomic_load(&vm->stopping));
    assert_int_equal(vm->exit_status, status);
}

static void test_byte_write(void **state) { write_stops(state, 1, 5, 11); }
static void test_word_write(void **state) { write_stops(state, 2, 0x31, 99); }
static void test_dword_write(void **state) { write_stops(state, 4, 0x12345603, 7); }

static void test_reads_and_other_ports_do_not_stop(void **state)
{
    struct vm *vm = *state;
    assert_int_equal(io(vm, DEBUG_EXIT_PORT, 0, 1, false), IO_OK);
    assert_int_equal(io(vm, DEBUG_EXIT_PORT, 0, 4, false), IO_OK);
    assert_int_equal(io(vm, DEBUG_EXIT_PORT + 1, 3, 1, true), IO_OK);
    assert_int_equal(io(vm, DEBUG_EXIT_PORT + 2, 3, 2, true), IO_OK);
    assert_int_equal(io(vm, DEBUG_EXIT_PORT - 1, 3, 1, true), -1);     /* not ours */
    assert_false(atomic_load(&vm->stopping));
    /* the first write wins, as for every vm_stop */
    write_stops(state, 1, 2, 5);
    assert_int_equal(io(vm, DEBUG_EXIT_PORT, 9, 1, true), IO_STOP);
    assert_int_equal(vm->exit_status, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_status),
        cmocka_unit_test_setup_teardown(test_byte_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_word_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dword_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reads_and_other_ports_do_not_stop, setup, teardown),
    };
    return cmocka_run_group_tests_name("debug_exit", tests, NULL, NULL);
}
