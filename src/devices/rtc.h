/* rtc.h - the MC146818 CMOS real-time clock at ports 0x70/0x71: the host's
 * date and time (UTC), BCD or binary and 12/24 h as register B says. */
#ifndef MINI_KVM_RTC_H
#define MINI_KVM_RTC_H

#include "arch/layout.h"    /* ports, addresses, IRQs */

#include <stdint.h>
#include <time.h>

struct vm;

int rtc_create(struct vm *vm);

/* The device without a VM, for tests (rtc_create owns one through the
 * VM): register idx (0-127) as the guest reads or writes it through port
 * 0x71 at host time `now`, so a test can pin the clock. Register B starts
 * as 24 h, BCD. */
struct rtc;
struct rtc *rtc_new(void);
uint8_t rtc_read_reg(struct rtc *r, unsigned idx, time_t now);
void rtc_write_reg(struct rtc *r, unsigned idx, uint8_t v, time_t now);

#endif
