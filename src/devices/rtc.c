/* rtc.c - CMOS RTC + NVRAM (ports 0x70/0x71): time registers follow the
 * host clock plus an offset the guest may set; no RTC interrupts. */
#include "rtc.h"
#include "core/bus.h"
#include "core/devstate.h"
#include "core/util.h"
#include "core/vm.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum {
    REG_SEC = 0x00, REG_MIN = 0x02, REG_HOUR = 0x04, REG_WDAY = 0x06,
    REG_MDAY = 0x07, REG_MON = 0x08, REG_YEAR = 0x09,
    REG_A = 0x0A, REG_B = 0x0B, REG_C = 0x0C, REG_D = 0x0D,
};

#define B_SET   0x80    /* guest is setting the clock: freeze updates */
#define B_DM    0x04    /* binary (else BCD) */
#define B_24H   0x02
#define D_VRT   0x80    /* valid RAM and time */
#define HOUR_PM 0x80    /* 12-hour mode */

struct rtc {
    pthread_mutex_t lock;       /* lock order L2: a device lock (core/vm.h) */
    uint8_t index;
    uint8_t ram[128];   /* NVRAM and the control registers */
    time_t delta;       /* guest time = host time + delta */
    struct tm set;      /* the clock being written while B.SET */
};

static uint8_t to_bcd(unsigned v) { return (uint8_t)((v / 10) << 4 | (v % 10)); }
static unsigned from_bcd(uint8_t v) { return (v >> 4) * 10 + (v & 0xF); }

struct rtc *rtc_new(void)
{
    struct rtc *r = xcalloc(1, sizeof(*r));
    pthread_mutex_init(&r->lock, NULL);
    r->ram[REG_A] = 0x26;           /* 32.768 kHz time base, 1024 Hz rate */
    r->ram[REG_B] = B_24H;          /* BCD, 24 h: what a PC BIOS leaves */
    r->ram[REG_D] = D_VRT;
    return r;
}

static void guest_tm(const struct rtc *r, time_t now, struct tm *tm)
{
    if (r->ram[REG_B] & B_SET) {
        *tm = r->set;
        return;
    }
    time_t t = now + r->delta;
    gmtime_r(&t, tm);
}

/* A time field as stored in the guest's format (BCD/binary, 12/24 h). */
static uint8_t encode(const struct rtc *r, unsigned reg, unsigned v)
{
    uint8_t pm = 0;
    if (reg == REG_HOUR && !(r->ram[REG_B] & B_24H)) {
        pm = v >= 12 ? HOUR_PM : 0;
        v = v % 12 ? v % 12 : 12;
    }
    return (uint8_t)((r->ram[REG_B] & B_DM ? v : to_bcd(v)) | pm);
}

static unsigned decode(const struct rtc *r, unsigned reg, uint8_t b)
{
    bool pm = false;
    if (reg == REG_HOUR && !(r->ram[REG_B] & B_24H)) {
        pm = b & HOUR_PM;
        b &= (uint8_t)~HOUR_PM;
    }
    unsigned v = r->ram[REG_B] & B_DM ? b : from_bcd(b);
    if (reg == REG_HOUR && !(r->ram[REG_B] & B_24H))
        v = (v % 12) + (pm ? 12 : 0);
    return v;
}

/* Pointer to the struct tm field behind a time register, and its offset. */
static int *tm_field(struct tm *tm, unsigned reg, int *bias)
{
    *bias = 0;
    switch (reg) {
    case REG_SEC: return &tm->tm_sec;
    case REG_MIN: return &tm->tm_min;
    case REG_HOUR: return &tm->tm_hour;
    case REG_WDAY: *bias = 1; return &tm->tm_wday;
    case REG_MDAY: return &tm->tm_mday;
    case REG_MON: *bias = 1; return &tm->tm_mon;
    default: return NULL;
    }
}

uint8_t rtc_read_reg(struct rtc *r, unsigned idx, time_t now)
{
    idx &= 0x7F;
    struct tm tm;
    int bias;
    guest_tm(r, now, &tm);
    int *f = tm_field(&tm, idx, &bias);
    if (f)
        return encode(r, idx, (unsigned)(*f + bias));
    switch (idx) {
    case REG_YEAR: return encode(r, idx, (unsigned)(tm.tm_year + 1900) % 100);
    case RTC_CENTURY: return encode(r, idx, (unsigned)(tm.tm_year + 1900) / 100);
    case REG_A: return r->ram[REG_A] & 0x7F;    /* UIP never set: no update cycle */
    case REG_C: return 0;                       /* no interrupt flags */
    default: return r->ram[idx];
    }
}

static void set_time_field(struct rtc *r, unsigned idx, uint8_t v, time_t now)
{
    struct tm tm;
    int bias;
    guest_tm(r, now, &tm);
    unsigned val = decode(r, idx, v);
    int *f = tm_field(&tm, idx, &bias);
    if (f)
        *f = (int)val - bias;
    else if (idx == REG_YEAR)
        tm.tm_year = (tm.tm_year + 1900) / 100 * 100 + (int)val - 1900;
    else
        tm.tm_year = (int)val * 100 + (tm.tm_year + 1900) % 100 - 1900;
    if (r->ram[REG_B] & B_SET) {
        r->set = tm;
        return;
    }
    time_t t = timegm(&tm);
    if (t != (time_t)-1)
        r->delta = t - now;
}

void rtc_write_reg(struct rtc *r, unsigned idx, uint8_t v, time_t now)
{
    idx &= 0x7F;
    int bias;
    struct tm dummy;
    if (tm_field(&dummy, idx, &bias) || idx == REG_YEAR || idx == RTC_CENTURY) {
        set_time_field(r, idx, v, now);
        return;
    }
    if (idx == REG_B) {
        bool was_set = r->ram[REG_B] & B_SET;
        if (!was_set && (v & B_SET))
            guest_tm(r, now, &r->set);          /* freeze what the guest sees */
        r->ram[REG_B] = v;
        if (was_set && !(v & B_SET)) {
            time_t t = timegm(&r->set);
            if (t != (time_t)-1)
                r->delta = t - now;
        }
        return;
    }
    if (idx == REG_A)
        v &= 0x7F;
    if (idx != REG_C && idx != REG_D)           /* C and D are read-only */
        r->ram[idx] = v;
}

static enum io_result rtc_io(void *dev, struct io_req *req)
{
    struct rtc *r = dev;
    time_t now = time(NULL);
    pthread_mutex_lock(&r->lock);
    for (unsigned i = 0; i < req->len; i++) {
        bool data = (req->off + i) & 1;
        if (req->write && !data)
            r->index = req->data[i] & 0x7F;     /* bit 7 masks NMI: ignored */
        else if (req->write)
            rtc_write_reg(r, r->index, req->data[i], now);
        else
            req->data[i] = data ? rtc_read_reg(r, r->index, now) : r->index;
    }
    pthread_mutex_unlock(&r->lock);
    return IO_OK;
}

/* Snapshot record: CMOS RAM, the index, and the guest's offset from host
 * time, so the guest clock stays what the guest set (it moves on with the
 * host's while the snapshot is on disk, like a battery-backed RTC). */
struct rtc_rec {
    uint8_t ram[128];
    uint8_t index, pad[7];
    int64_t delta;
    int32_t set[7];             /* the clock being written while B.SET */
    int32_t pad2;
};

static void rtc_save(void *dev, void *rec)
{
    struct rtc *r = dev;
    struct rtc_rec *o = rec;
    memset(o, 0, sizeof(*o));
    pthread_mutex_lock(&r->lock);
    memcpy(o->ram, r->ram, sizeof(o->ram));
    o->index = r->index;
    o->delta = (int64_t)r->delta;
    int32_t set[7] = { r->set.tm_sec, r->set.tm_min, r->set.tm_hour, r->set.tm_mday,
                       r->set.tm_mon, r->set.tm_year, r->set.tm_wday };
    memcpy(o->set, set, sizeof(set));
    pthread_mutex_unlock(&r->lock);
}

static int rtc_restore(void *dev, const void *rec)
{
    struct rtc *r = dev;
    const struct rtc_rec *o = rec;
    pthread_mutex_lock(&r->lock);
    memcpy(r->ram, o->ram, sizeof(r->ram));
    r->index = o->index & 0x7F;
    r->delta = (time_t)o->delta;
    r->set = (struct tm){ .tm_sec = o->set[0], .tm_min = o->set[1], .tm_hour = o->set[2],
                          .tm_mday = o->set[3], .tm_mon = o->set[4], .tm_year = o->set[5],
                          .tm_wday = o->set[6] };
    pthread_mutex_unlock(&r->lock);
    return 0;
}

static const struct devstate_ops rtc_state = {
    "rtc", sizeof(struct rtc_rec), rtc_save, rtc_restore,
};

int rtc_create(struct vm *vm)
{
    struct rtc *r = vm_own(vm, rtc_new());
    vm_add_state(vm, &rtc_state, r);
    if (bus_register(&vm->pio, RTC_PORT, 2, rtc_io, r, "rtc")) {
        errorf("%s: cannot register the RTC ports", vm->name);
        return -1;
    }
    return 0;
}
