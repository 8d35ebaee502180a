/* test_rtc.c - unit tests for the CMOS RTC: host time in BCD and binary,
 * 12/24 hour, the guest setting the clock, NVRAM, and the 0x70/0x71 ports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <time.h>

#include "core/bus.h"
#include "core/vm.h"
#include "devices/rtc.h"

/* 2023-11-14 22:13:20 UTC, a Tuesday */
#define T0 ((time_t)1700000000)

static void test_bcd_24h_default(void **state)
{
    (void)state;
    struct rtc *r = rtc_new();
    assert_int_equal(rtc_read_reg(r, 0x00, T0), 0x20);
    assert_int_equal(rtc_read_reg(r, 0x02, T0), 0x13);
    assert_int_equal(rtc_read_reg(r, 0x04, T0), 0x22);
    assert_int_equal(rtc_read_reg(r, 0x06, T0), 3);      /* Sunday = 1 */
    assert_int_equal(rtc_read_reg(r, 0x07, T0), 0x14);
    assert_int_equal(rtc_read_reg(r, 0x08, T0), 0x11);
    assert_int_equal(rtc_read_reg(r, 0x09, T0), 0x23);
    assert_int_equal(rtc_read_reg(r, RTC_CENTURY, T0), 0x20);
    assert_int_equal(rtc_read_reg(r, 0x0A, T0) & 0x80, 0);  /* no update in progress */
    assert_int_equal(rtc_read_reg(r, 0x0B, T0), 0x02);      /* 24 h, BCD */
    assert_int_equal(rtc_read_reg(r, 0x0C, T0), 0);
    assert_int_equal(rtc_read_reg(r, 0x0D, T0), 0x80);      /* valid RAM and time */
    assert_int_equal(rtc_read_reg(r, 0x00, T0 + 75), 0x35);
    assert_int_equal(rtc_read_reg(r, 0x02, T0 + 75), 0x14);
    free(r);
}

static void test_binary_and_12h(void **state)
{
    (void)state;
    struct rtc *r = rtc_new();
    rtc_write_reg(r, 0x0B, 0x06, T0);                        /* binary, 24 h */
    assert_int_equal(rtc_read_reg(r, 0x04, T0), 22);
    assert_int_equal(rtc_read_reg(r, 0x09, T0), 23);
    assert_int_equal(rtc_read_reg(r, RTC_CENTURY, T0), 20);
    rtc_write_reg(r, 0x0B, 0x00, T0);                        /* BCD, 12 h */
    assert_int_equal(rtc_read_reg(r, 0x04, T0), 0x80 | 0x10);  /* 10 PM */
    assert_int_equal(rtc_read_reg(r, 0x04, T0 - 22 * 3600), 0x12); /* midnight = 12 AM */
    free(r);
}

static void test_guest_sets_the_clock(void **state)
{
    (void)state;
    struct rtc *r = rtc_new();
    rtc_write_reg(r, 0x0B, 0x82, T0);                        /* SET: freeze */
    rtc_write_reg(r, 0x09, 0x24, T0);                        /* 2024 */
    rtc_write_reg(r, 0x08, 0x02, T0);                        /* February */
    rtc_write_reg(r, 0x07, 0x29, T0);                        /* 29th */
    rtc_write_reg(r, 0x04, 0x08, T0);
    rtc_write_reg(r, 0x02, 0x30, T0);
    rtc_write_reg(r, 0x00, 0x00, T0);
    assert_int_equal(rtc_read_reg(r, 0x00, T0 + 9), 0x00);   /* frozen while SET */
    rtc_write_reg(r, 0x0B, 0x02, T0 + 10);                   /* run from here */
    assert_int_equal(rtc_read_reg(r, 0x00, T0 + 15), 0x05);
    assert_int_equal(rtc_read_reg(r, 0x02, T0 + 15), 0x30);
    assert_int_equal(rtc_read_reg(r, 0x04, T0 + 15), 0x08);
    assert_int_equal(rtc_read_reg(r, 0x07, T0 + 15), 0x29);
    assert_int_equal(rtc_read_reg(r, 0x08, T0 + 15), 0x02);
    assert_int_equal(rtc_read_reg(r, 0x09, T0 + 15), 0x24);
    /* a single field without SET moves the clock by that much */
    rtc_write_reg(r, 0x04, 0x09, T0 + 15);
    assert_int_equal(rtc_read_reg(r, 0x04, T0 + 16), 0x09);
    free(r);
}

static void test_nvram_and_readonly(void **state)
{
    (void)state;
    struct rtc *r = rtc_new();
    rtc_write_reg(r, 0x40, 0xA5, T0);
    assert_int_equal(rtc_read_reg(r, 0x40, T0), 0xA5);
    assert_int_equal(rtc_read_reg(r, 0xC0, T0), 0xA5);      /* index bit 7 is NMI mask */
    rtc_write_reg(r, 0x0D, 0x00, T0);
    assert_int_equal(rtc_read_reg(r, 0x0D, T0), 0x80);
    rtc_write_reg(r, 0x0A, 0xA6, T0);
    assert_int_equal(rtc_read_reg(r, 0x0A, T0), 0x26);      /* UIP is read-only */
    free(r);
}

static void test_ports_follow_host_time(void **state)
{
    (void)state;
    struct vm vm = { .name = "t" };
    bus_init(&vm.pio, "port");
    assert_int_equal(rtc_create(&vm), 0);
    uint8_t d[1];
    struct io_req r = { .addr = 0x70, .data = d, .len = 1, .write = true };
    d[0] = 0x80 | 0x09;                                      /* NMI off, year */
    assert_int_equal(bus_access(&vm.pio, &r), IO_OK);
    r = (struct io_req){ .addr = 0x71, .data = d, .len = 1, .write = false };
    time_t now = time(NULL);
    assert_int_equal(bus_access(&vm.pio, &r), IO_OK);
    struct tm tm;
    gmtime_r(&now, &tm);
    unsigned yy = (unsigned)(tm.tm_year % 100);
    assert_int_equal(d[0], (yy / 10) << 4 | (yy % 10));
    vm_release_devices(&vm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bcd_24h_default),
        cmocka_unit_test(test_binary_and_12h),
        cmocka_unit_test(test_guest_sets_the_clock),
        cmocka_unit_test(test_nvram_and_readonly),
        cmocka_unit_test(test_ports_follow_host_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
