/* test_pm.c - unit tests for ACPI PM (S5 poweroff, PM timer, 0xCF9 reset)
 * and the i8042 (self test, CTR, reset pulse) through the port bus. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_vm.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arch/acpi.h"
#include "core/bus.h"
#include "core/vm.h"
#include "devices/i8042.h"
#include "devices/pm.h"

static int setup(void **state)
{
    struct vm *vm = fake_vm_new(0);
    assert_int_equal(pm_create(vm), 0);
    assert_int_equal(i8042_create(vm), 0);
    *state = vm;
    return 0;
}

static int teardown(void **state)
{
    fake_vm_free(*state);
    return 0;
}

static int out(struct vm *vm, uint16_t port, uint32_t v, unsigned len)
{
    uint8_t d[4];
    struct io_req r = { .addr = port, .data = d, .len = len, .write = true };
    io_put(&r, v);
    return bus_access(&vm->pio, &r);
}

static uint32_t in(struct vm *vm, uint16_t port, unsigned len)
{
    uint8_t d[4];
    struct io_req r = { .addr = port, .data = d, .len = len, .write = false };
    assert_int_equal(bus_access(&vm->pio, &r), IO_OK);
    return (uint32_t)io_get(&r);
}

#define S5 (ACPI_SLP_TYP_S5 << 10)

static void test_poweroff(void **state)
{
    struct vm *vm = *state;
    assert_int_equal(in(vm, PM1A_CNT_BLK, 2) & PM1_SCI_EN, PM1_SCI_EN);
    /* ACPICA writes SLP_TYP first, then SLP_TYP | SLP_EN */
    assert_int_equal(out(vm, PM1A_CNT_BLK, S5 | PM1_SCI_EN, 2), IO_OK);
    assert_false(vm->stopping);
    assert_int_equal(PM1_SLP_TYP(in(vm, PM1A_CNT_BLK, 2)), ACPI_SLP_TYP_S5);
    assert_int_equal(out(vm, PM1A_CNT_BLK, S5 | PM1_SLP_EN | PM1_SCI_EN, 2), IO_STOP);
    assert_true(vm->stopping);
    assert_int_equal(vm->exit_status, 0);
    assert_false(vm->reset_requested);
}

static void test_poweroff_bytewise(void **state)
{
    struct vm *vm = *state;
    assert_int_equal(out(vm, PM1A_CNT_BLK, 0x01, 1), IO_OK);
    assert_int_equal(out(vm, PM1A_CNT_BLK + 1, (S5 | PM1_SLP_EN) >> 8, 1), IO_STOP);
    assert_true(vm->stopping);
}

static void test_other_sleep_states_do_not_stop(void **state)
{
    struct vm *vm = *state;
    assert_int_equal(out(vm, PM1A_CNT_BLK, (1 << 10) | PM1_SLP_EN, 2), IO_OK);
    assert_false(vm->stopping);
    assert_int_equal(in(vm, PM1A_CNT_BLK, 2) & PM1_SLP_EN, 0);     /* write-only bit */
    assert_true(in(vm, PM1A_EVT_BLK, 2) & 0x8000);                  /* WAK_STS */
    assert_int_equal(out(vm, PM1A_EVT_BLK, 0x8000, 2), IO_OK);      /* write 1 to clear */
    assert_int_equal(in(vm, PM1A_EVT_BLK, 2) & 0x8000, 0);
    assert_int_equal(out(vm, PM1A_EVT_BLK + 2, 0x0121, 2), IO_OK);  /* PM1_EN */
    assert_int_equal(in(vm, PM1A_EVT_BLK + 2, 2), 0x0121);
    assert_int_equal(in(vm, PM1A_EVT_BLK, 4) >> 16, 0x0121);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static void test_pm_timer_rate(void **state)
{
    struct vm *vm = *state;
    double t0 = now_s();
    uint32_t a = in(vm, PM_TMR_BLK, 4);
    while (now_s() - t0 < 0.05)
        ;                                       /* measure 50 ms of host time */
    uint32_t b = in(vm, PM_TMR_BLK, 4);
    double ticks = (double)(uint32_t)(b - a), want = 0.05 * PM_TMR_HZ;
    assert_true(ticks > want * 0.9 && ticks < want * 3);
    /* byte reads see the same counter */
    uint32_t lo = in(vm, PM_TMR_BLK, 1), hi = in(vm, PM_TMR_BLK + 3, 1);
    assert_true(lo <= 0xFF && hi <= 0xFF);
}

static void test_reset_register(void **state)
{
    struct vm *vm = *state;
    assert_int_equal(out(vm, PM_RESET_PORT, 0x02, 1), IO_OK);
    assert_false(vm->stopping);
    assert_int_equal(in(vm, PM_RESET_PORT, 1), 0x02);
    assert_int_equal(out(vm, PM_RESET_PORT, PM_RESET_VALUE, 1), IO_STOP);
    assert_true(vm->stopping);
    assert_true(vm->reset_requested);
    assert_int_equal(vm->exit_status, 0);
}

static void test_i8042_self_test_and_ctr(void **state)
{
    struct vm *vm = *state;
    uint32_t st = in(vm, I8042_CMD_PORT, 1);
    assert_int_equal(st & 0x01, 0);             /* output buffer empty */
    assert_int_equal(st & 0x02, 0);             /* input buffer never full */
    assert_int_equal(st & 0x04, 0x04);          /* system flag */
    assert_int_equal(out(vm, I8042_CMD_PORT, 0xAA, 1), IO_OK);
    assert_int_equal(in(vm, I8042_CMD_PORT, 1) & 0x01, 0x01);
    assert_int_equal(in(vm, I8042_DATA_PORT, 1), 0x55);
    assert_int_equal(in(vm, I8042_CMD_PORT, 1) & 0x01, 0);
    assert_int_equal(out(vm, I8042_CMD_PORT, 0x60, 1), IO_OK);  /* write CTR */
    assert_int_equal(out(vm, I8042_DATA_PORT, 0x74, 1), IO_OK);
    assert_int_equal(out(vm, I8042_CMD_PORT, 0x20, 1), IO_OK);  /* read CTR */
    assert_int_equal(in(vm, I8042_DATA_PORT, 1), 0x74);
    assert_int_equal(out(vm, I8042_DATA_PORT, 0xF4, 1), IO_OK); /* to no keyboard */
    assert_int_equal(in(vm, I8042_CMD_PORT, 1) & 0x01, 0);
    assert_false(vm->stopping);
}

static void test_i8042_reset_pulse(void **state)
{
    struct vm *vm = *state;
    assert_int_equal(out(vm, I8042_CMD_PORT, 0xFF, 1), IO_OK);  /* pulse nothing */
    assert_false(vm->stopping);
    assert_int_equal(out(vm, I8042_CMD_PORT, 0xFE, 1), IO_STOP);
    assert_true(vm->stopping);
    assert_true(vm->reset_requested);
    assert_int_equal(vm->exit_status, 0);
}

static void test_i8042_output_port_reset(void **state)
{
    struct vm *vm = *state;
    assert_int_equal(out(vm, I8042_CMD_PORT, 0xD1, 1), IO_OK);
    assert_int_equal(out(vm, I8042_DATA_PORT, 0x03, 1), IO_OK);  /* reset line high */
    assert_false(vm->stopping);
    assert_int_equal(out(vm, I8042_CMD_PORT, 0xD1, 1), IO_OK);
    assert_int_equal(out(vm, I8042_DATA_PORT, 0x02, 1), IO_STOP);
    assert_true(vm->reset_requested);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_poweroff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_poweroff_bytewise, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_sleep_states_do_not_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pm_timer_rate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reset_register, setup, teardown),
        cmocka_unit_test_setup_teardown(test_i8042_self_test_and_ctr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_i8042_reset_pulse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_i8042_output_port_reset, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
