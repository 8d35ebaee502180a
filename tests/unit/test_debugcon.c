/* test_debugcon.c - the 0xE9 debug console through the port bus, without KVM:
 * bytes reach the guest's console (the same stream as COM1), reads say 0xE9. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fake_vm.h"

#include "core/bus.h"
#include "core/console.h"
#include "core/vm.h"
#include "devices/debugcon.h"
#include "devices/serial.h"

#include <stdlib.h>
#include <string.h>

struct fixture {
    struct vm vm;
    struct console con;
    struct console_port port;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    fake_vm_init(&f->vm, 0);
    fake_vm_console(&f->vm, &f->con, &f->port);     /* output collects in port.line */
    assert_int_equal(debugcon_create(&f->vm), 0);
    assert_non_null(serial_create(&f->vm, SERIAL_COM1_BASE, SERIAL_COM1_IRQ));
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    fake_vm_fini(&f->vm);
    free(f);
    return 0;
}

static int io(struct fixture *f, uint16_t port, void *data, unsigned len, bool write)
{
    struct io_req r = { .addr = port, .data = data, .len = len, .write = write };
    return bus_access(&f->vm.pio, &r);
}

static void out8(struct fixture *f, uint16_t port, char c)
{
    uint8_t v = (uint8_t)c;
    assert_int_equal(io(f, port, &v, 1, true), IO_OK);
}

static void test_bytes_reach_the_console(void **state)
{
    struct fixture *f = *state;
    for (const char *s = "mb ok"; *s; s++)
        out8(f, DEBUGCON_PORT, *s);
    assert_int_equal(f->port.n, 5);
    assert_memory_equal(f->port.line, "mb ok", 5);
}

/* COM1 and 0xE9 share one stream: their bytes interleave in write order. */
static void test_same_stream_as_com1(void **state)
{
    struct fixture *f = *state;
    out8(f, SERIAL_COM1_BASE, 'a');
    out8(f, DEBUGCON_PORT, 'b');
    out8(f, SERIAL_COM1_BASE, 'c');
    assert_int_equal(f->port.n, 3);
    assert_memory_equal(f->port.line, "abc", 3);
}

static void test_read_says_present(void **state)
{
    struct fixture *f = *state;
    uint8_t v = 0;
    assert_int_equal(io(f, DEBUGCON_PORT, &v, 1, false), IO_OK);
    assert_int_equal(v, 0xE9);
    assert_int_equal(f->port.n, 0);     /* a read prints nothing */
}

/* The port is one byte wide: a word access at 0xE9 is not the device's. */
static void test_wide_access_unclaimed(void **state)
{
    struct fixture *f = *state;
    uint8_t w[2] = { 'x', 'y' };
    assert_int_equal(io(f, DEBUGCON_PORT, w, 2, true), -1);
    assert_int_equal(f->port.n, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_bytes_reach_the_console, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_stream_as_com1, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_says_present, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wide_access_unclaimed, setup, teardown),
    };
    return cmocka_run_group_tests_name("debugcon", tests, NULL, NULL);
}
