/* test_legacy.c - unit tests for what a legacy boot expects of a PC: the
 * boot-sector loader, port 0x92, the 8042's A20 path and the CMOS bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_vm.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/layout.h"
#include "core/bus.h"
#include "core/mem.h"
#include "core/vm.h"
#include "devices/i8042.h"
#include "devices/port92.h"
#include "devices/rtc.h"
#include "loaders/loader.h"

static int setup(void **state)
{
    struct vm *vm = fake_vm_new(1 << 20);
    assert_int_equal(port92_create(vm), 0);
    assert_non_null(i8042_create(vm));
    assert_int_equal(rtc_create(vm), 0);
    *state = vm;
    return 0;
}

static int teardown(void **state)
{
    fake_vm_free(*state);
    return 0;
}

static int out(struct vm *vm, uint16_t port, uint8_t v)
{
    struct io_req r = { .addr = port, .data = &v, .len = 1, .write = true };
    return bus_access(&vm->pio, &r);
}

static uint8_t in(struct vm *vm, uint16_t port)
{
    uint8_t d;
    struct io_req r = { .addr = port, .data = &d, .len = 1, .write = false };
    assert_int_equal(bus_access(&vm->pio, &r), IO_OK);
    return d;
}

/* ---- the boot sector ---- */

static char *image(const void *data, size_t len)
{
    char *path = strdup("/tmp/mkvm-bootsect-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, len), (ssize_t)len);
    close(fd);
    return path;
}

static void test_boot_sector(void **state)
{
    struct vm *vm = *state;
    uint8_t disk[1536];
    for (size_t i = 0; i < sizeof(disk); i++)
        disk[i] = (uint8_t)(i * 7);
    disk[510] = 0x55;
    disk[511] = 0xAA;
    char *path = image(disk, sizeof(disk));
    struct boot_entry e;
    memset(&e, 0xEE, sizeof(e));
    assert_int_equal(bootsector_load(vm, path, &e), 0);
    assert_false(e.long_mode);
    assert_int_equal(e.seg, 0);
    assert_int_equal(e.ip, 0x7C00);
    assert_int_equal(e.sp, 0x7C00);
    assert_int_equal(e.dx & 0xFF, 0x80);
    assert_memory_equal(guest_ptr(&vm->mem, 0x7C00, 512), disk, 512);
    const uint8_t *after = guest_ptr(&vm->mem, 0x7E00, 512);
    for (int i = 0; i < 512; i++)                       /* only sector 0 is loaded */
        assert_int_equal(after[i], 0);
    unlink(path);
    free(path);
}

static void expect_refused(struct vm *vm, const void *data, size_t len)
{
    char *path = image(data, len);
    struct boot_entry e;
    assert_int_equal(bootsector_load(vm, path, &e), -1);
    const uint8_t *p = guest_ptr(&vm->mem, 0x7C00, 512);
    for (int i = 0; i < 512; i++)                       /* nothing was placed */
        assert_int_equal(p[i], 0);
    unlink(path);
    free(path);
}

static void test_boot_sector_refused(void **state)
{
    struct vm *vm = *state;
    uint8_t disk[512] = { 0xEB, 0xFE };
    expect_refused(vm, disk, sizeof(disk));             /* no signature */
    disk[510] = 0xAA;
    disk[511] = 0x55;
    expect_refused(vm, disk, sizeof(disk));             /* byte-swapped */
    disk[510] = 0x55;
    disk[511] = 0xAA;
    expect_refused(vm, disk, 511);                      /* short */
    expect_refused(vm, disk, 0);                        /* empty */
    struct boot_entry e;
    assert_int_equal(bootsector_load(vm, "/nonexistent/disk.img", &e), -1);
    assert_int_equal(bootsector_load(vm, "/tmp", &e), -1);
    /* RAM too small for 0x7C00 and the stack under it */
    struct vm small = { .name = "small" };
    assert_int_equal(mem_init(&small.mem, 16 << 10), 0);
    char *path = image(disk, sizeof(disk));
    assert_int_equal(bootsector_load(&small, path, &e), -1);
    unlink(path);
    free(path);
    mem_free(&small.mem);
}

/* ---- A20 and reset ---- */

static void test_port92(void **state)
{
    struct vm *vm = *state;
    assert_int_equal(in(vm, PORT92), PORT92_A20);       /* on at boot */
    assert_int_equal(out(vm, PORT92, 0), IO_OK);
    assert_int_equal(in(vm, PORT92), 0);                /* remembered (not enforced) */
    assert_int_equal(out(vm, PORT92, PORT92_A20), IO_OK);
    assert_int_equal(in(vm, PORT92), PORT92_A20);
    assert_false(vm->stopping);
    assert_int_equal(out(vm, PORT92, PORT92_A20 | PORT92_RESET), IO_STOP);
    assert_true(vm->stopping);
    assert_true(vm->reset_requested);
    assert_int_equal(vm->exit_status, 0);
}

/* bootasm.S: wait for !IBF, 0xD1 to 0x64, wait, 0xDF to 0x60. */
static void test_i8042_a20_sequence(void **state)
{
    struct vm *vm = *state;
    assert_int_equal(in(vm, I8042_CMD_PORT) & 0x02, 0);
    assert_int_equal(out(vm, I8042_CMD_PORT, 0xD1), IO_OK);
    assert_int_equal(in(vm, I8042_CMD_PORT) & 0x02, 0);
    assert_int_equal(out(vm, I8042_DATA_PORT, 0xDF), IO_OK);
    assert_int_equal(in(vm, I8042_CMD_PORT) & 0x02, 0);
    assert_false(vm->stopping);
    assert_int_equal(out(vm, I8042_CMD_PORT, 0xD0), IO_OK);     /* read the output port */
    assert_int_equal(in(vm, I8042_CMD_PORT) & 0x01, 0x01);
    assert_int_equal(in(vm, I8042_DATA_PORT) & 0x02, 0x02);     /* A20 on */
}

/* lapicstartap: CMOS[0x0F] = 0x0A (warm reset); other NVRAM bytes keep values. */
static void test_cmos_shutdown_byte(void **state)
{
    struct vm *vm = *state;
    assert_int_equal(out(vm, 0x70, 0x0F), IO_OK);
    assert_int_equal(out(vm, 0x71, 0x0A), IO_OK);
    assert_int_equal(out(vm, 0x70, 0x40), IO_OK);
    assert_int_equal(out(vm, 0x71, 0x5A), IO_OK);
    assert_int_equal(out(vm, 0x70, 0x8F), IO_OK);       /* NMI-disable bit ignored */
    assert_int_equal(in(vm, 0x71), 0x0A);
    assert_int_equal(out(vm, 0x70, 0x40), IO_OK);
    assert_int_equal(in(vm, 0x71), 0x5A);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_boot_sector, setup, teardown),
        cmocka_unit_test_setup_teardown(test_boot_sector_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_port92, setup, teardown),
        cmocka_unit_test_setup_teardown(test_i8042_a20_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cmos_shutdown_byte, setup, teardown),
    };
    return cmocka_run_group_tests_name("legacy", tests, NULL, NULL);
}
