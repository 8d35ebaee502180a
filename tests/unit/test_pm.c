/* test_pm.c - unit tests for ACPI PM (S5 poweroff, PM timer, 0xCF9 reset), the
 * i8042 and PCI config mechanism #1 (host bridge, all ones) through the port bus. */
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
#include "devices/pci.h"
#include "devices/pm.h"

static int setup(void **state)
{
    struct vm *vm = fake_vm_new(0);
    assert_int_equal(pm_create(vm), 0);
    assert_non_null(i8042_create(vm));
    assert_int_equal(pci_create(vm), 0);        /* after pm: 0xCF9 stays pm's */
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
    assert_int_equal(out(vm, I8042_DATA_PORT, 0xF4, 1), IO_OK); /* to the keyboard */
    assert_int_equal(in(vm, I8042_DATA_PORT, 1), 0xFA);         /* ACK */
    assert_int_equal(in(vm, I8042_CMD_PORT, 1) & 0x01, 0);
    assert_false(vm->stopping);
}

/* What Linux's atkbd sends to bind: each answered as a PS/2 keyboard would. */
static void test_i8042_keyboard_answers(void **state)
{
    (void)state;
    struct vm *vm = fake_vm_new(0);
    struct i8042 *k = i8042_create(vm);
    assert_non_null(k);
    static const struct { uint8_t send[2]; unsigned nsend; uint8_t want[3]; unsigned n; } t[] = {
        { { 0xF2 }, 1, { 0xFA, 0xAB, 0x83 }, 3 },           /* identify: MF2 keyboard */
        { { 0xED, 0x07 }, 2, { 0xFA, 0xFA }, 2 },           /* LEDs */
        { { 0xF0, 0x00 }, 2, { 0xFA, 0xFA, 0x02 }, 3 },     /* which scancode set: 2 */
        { { 0xF0, 0x02 }, 2, { 0xFA, 0xFA }, 2 },           /* set 2 */
        { { 0xF3, 0x20 }, 2, { 0xFA, 0xFA }, 2 },           /* typematic rate */
        { { 0xFF }, 1, { 0xFA, 0xAA }, 2 },                 /* reset: self test passed */
        { { 0xEE }, 1, { 0xEE }, 1 },                       /* echo */
        { { 0x12 }, 1, { 0xFE }, 1 },                       /* unknown: resend */
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        for (unsigned j = 0; j < t[i].nsend; j++)
            assert_int_equal(out(vm, I8042_DATA_PORT, t[i].send[j], 1), IO_OK);
        for (unsigned j = 0; j < t[i].n; j++) {
            assert_true(i8042_irq_level(k));                /* a byte waits: IRQ 1 */
            assert_int_equal(in(vm, I8042_CMD_PORT, 1) & 0x21, 0x01);  /* OBF, not aux */
            assert_int_equal(in(vm, I8042_DATA_PORT, 1), t[i].want[j]);
        }
        assert_int_equal(in(vm, I8042_CMD_PORT, 1) & 0x01, 0);
        assert_false(i8042_irq_level(k));
    }
    fake_vm_free(vm);
}

/* Read n bytes, then the output buffer is empty (last) or not. */
static void read_keys(struct vm *vm, const uint8_t *want, size_t n, bool last)
{
    for (size_t i = 0; i < n; i++)
        assert_int_equal(in(vm, I8042_DATA_PORT, 1), want[i]);
    assert_int_equal(in(vm, I8042_CMD_PORT, 1) & 0x01, last ? 0 : 1);
}

/* SendCtrlAltDel: pressed and released, in set 1 while the controller
 * translates (its default, and Linux's), in set 2 when it does not. */
static void test_i8042_ctrl_alt_del(void **state)
{
    (void)state;
    struct vm *vm = fake_vm_new(0);
    struct i8042 *k = i8042_create(vm);
    assert_non_null(k);
    static const uint8_t set1[] = { 0x1D, 0x38, 0xE0, 0x53, 0xE0, 0xD3, 0xB8, 0x9D };
    static const uint8_t set2[] = { 0x14, 0x11, 0xE0, 0x71, 0xE0, 0xF0, 0x71, 0xF0, 0x11,
                                    0xF0, 0x14 };
    assert_false(i8042_irq_level(k));
    assert_int_equal(i8042_ctrl_alt_del(k), 0);
    assert_true(i8042_irq_level(k));
    read_keys(vm, set1, sizeof(set1), true);
    assert_false(i8042_irq_level(k));
    /* twice fills the 16-byte queue; a third is refused and changes nothing */
    assert_int_equal(i8042_ctrl_alt_del(k), 0);
    assert_int_equal(i8042_ctrl_alt_del(k), 0);
    assert_int_equal(i8042_ctrl_alt_del(k), -1);
    read_keys(vm, set1, sizeof(set1), false);
    assert_true(i8042_irq_level(k));
    read_keys(vm, set1, sizeof(set1), true);
    /* CTR 0x04: no translation, keyboard interrupt off: set 2, IRQ 1 stays low */
    assert_int_equal(out(vm, I8042_CMD_PORT, 0x60, 1), IO_OK);
    assert_int_equal(out(vm, I8042_DATA_PORT, 0x04, 1), IO_OK);
    assert_int_equal(i8042_ctrl_alt_del(k), 0);
    assert_false(i8042_irq_level(k));
    read_keys(vm, set2, sizeof(set2), true);
    fake_vm_free(vm);
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

static uint32_t cfg(struct vm *vm, unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
    out(vm, PCI_CONFIG_ADDR, 0x80000000u | bus << 16 | dev << 11 | fn << 8 | reg, 4);
    return in(vm, PCI_CONFIG_DATA, 4);
}

/* What Linux's and memtest86+'s probes do: write 0x80000000, read it back. */
static void test_pci_latch_reads_back(void **state)
{
    struct vm *vm = *state;
    assert_int_equal(out(vm, PCI_CONFIG_ADDR, 0x80000000, 4), IO_OK);
    assert_int_equal(in(vm, PCI_CONFIG_ADDR, 4), 0x80000000);
    out(vm, PCI_CONFIG_ADDR, 0xFFFFFFFF, 4);        /* reserved and low bits dropped */
    assert_int_equal(in(vm, PCI_CONFIG_ADDR, 4), 0x80FFFFFC);
    assert_int_equal(in(vm, PCI_CONFIG_ADDR + 2, 2), 0xFFFF);   /* no mechanism #2 */
}

static void test_pci_host_bridge(void **state)
{
    struct vm *vm = *state;
    assert_int_equal(cfg(vm, 0, 0, 0, 0x00), PCI_HOST_DEVICE << 16 | PCI_HOST_VENDOR);
    assert_int_equal(cfg(vm, 0, 0, 0, 0x08), 0x06000000);     /* class: host bridge */
    assert_int_equal(cfg(vm, 0, 0, 0, 0x0C), 0);              /* header type 0 */
    assert_int_equal(cfg(vm, 0, 0, 0, 0x10), 0);              /* no BARs */
    assert_int_equal(cfg(vm, 0, 0, 0, 0x64), 0);              /* AMD SMN data: 0 */
    /* byte and word reads inside the dword */
    out(vm, PCI_CONFIG_ADDR, 0x80000008, 4);
    assert_int_equal(in(vm, PCI_CONFIG_DATA + 3, 1), 0x06);
    assert_int_equal(in(vm, PCI_CONFIG_DATA + 2, 2), 0x0600);
    out(vm, PCI_CONFIG_ADDR, 0x80000000, 4);
    assert_int_equal(in(vm, PCI_CONFIG_DATA + 2, 2), PCI_HOST_DEVICE);
    /* read-only: a BAR sizing write reads back 0 */
    out(vm, PCI_CONFIG_ADDR, 0x80000010, 4);
    out(vm, PCI_CONFIG_DATA, 0xFFFFFFFF, 4);
    assert_int_equal(in(vm, PCI_CONFIG_DATA, 4), 0);
}

static void test_pci_absent_functions_read_all_ones(void **state)
{
    struct vm *vm = *state;
    assert_int_equal(cfg(vm, 0, 1, 0, 0), 0xFFFFFFFF);
    assert_int_equal(cfg(vm, 0, 0, 1, 0), 0xFFFFFFFF);
    assert_int_equal(cfg(vm, 1, 0, 0, 0), 0xFFFFFFFF);
    assert_int_equal(cfg(vm, 0, 31, 7, 0xFC), 0xFFFFFFFF);
    out(vm, PCI_CONFIG_ADDR, 0x00000000, 4);        /* enable bit clear */
    assert_int_equal(in(vm, PCI_CONFIG_DATA, 4), 0xFFFFFFFF);
    assert_int_equal(in(vm, PCI_CONFIG_DATA + 1, 1), 0xFF);
}

/* The reset register inside the window keeps working; a dword at 0xCF8 is PCI's. */
static void test_pci_reset_register_still_resets(void **state)
{
    struct vm *vm = *state;
    out(vm, PCI_CONFIG_ADDR, 0x80000000, 4);
    assert_false(vm->stopping);
    assert_int_equal(out(vm, PM_RESET_PORT, PM_RESET_VALUE, 1), IO_STOP);
    assert_true(vm->reset_requested);
}

static void test_pci_window_needs_pm_first_or_nothing(void **state)
{
    (void)state;
    struct vm vm = { .name = "t" };
    bus_init(&vm.pio, "port");
    assert_int_equal(pci_create(&vm), 0);           /* alone: fine */
    assert_int_equal(pm_create(&vm), -1);           /* 0xCF9 is taken now */
    vm_release_devices(&vm);
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
        cmocka_unit_test(test_i8042_keyboard_answers),
        cmocka_unit_test(test_i8042_ctrl_alt_del),
        cmocka_unit_test_setup_teardown(test_i8042_reset_pulse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_i8042_output_port_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pci_latch_reads_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pci_host_bridge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pci_absent_functions_read_all_ones, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pci_reset_register_still_resets, setup, teardown),
        cmocka_unit_test(test_pci_window_needs_pm_first_or_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
