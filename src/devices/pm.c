/* pm.c - ACPI PM1a event/control registers and PM timer at port 0x600, and
 * the reset register at 0xCF9: `poweroff` stops the VM with status 0. */
#include "pm.h"
#include "core/bus.h"
#include "core/devstate.h"
#include "core/util.h"
#include "core/vm.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PM1_STS_WAK   0x8000
#define PM1_STS_MASK  0x8D31    /* TMR, BM, GBL, PWRBTN, SLPBTN, RTC, WAK */
#define PM1_EN_MASK   0x0721
#define PM1_CNT_MASK  0x1C07    /* SCI_EN, BM_RLD, GBL_RLS, SLP_TYP; SLP_EN reads 0 */

struct pm {
    struct vm *vm;
    pthread_mutex_t lock;       /* SMP vCPUs share the registers; L2 (core/vm.h) */
    uint16_t sts, en, cnt;
    uint8_t reset_reg;
    struct timespec t0;
};

/* 3.579545 MHz since the device was created, low 32 bits (TMR_VAL_EXT). */
static uint32_t pm_timer(const struct pm *pm)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    uint64_t sec = (uint64_t)(now.tv_sec - pm->t0.tv_sec);
    int64_t ns = now.tv_nsec - pm->t0.tv_nsec;
    if (ns < 0) {
        sec--;
        ns += 1000000000;
    }
    return (uint32_t)(sec * PM_TMR_HZ + (uint64_t)ns * PM_TMR_HZ / 1000000000u);
}

/* The 16 register bytes as the guest sees them on a read. */
static uint8_t pm_read_byte(const struct pm *pm, unsigned off, uint32_t tmr)
{
    uint16_t cnt = pm->cnt | PM1_SCI_EN;    /* always in ACPI mode */
    switch (off) {
    case 0: case 1: return (uint8_t)(pm->sts >> (8 * off));
    case 2: case 3: return (uint8_t)(pm->en >> (8 * (off - 2)));
    case 4: case 5: return (uint8_t)(cnt >> (8 * (off - 4)));
    case 8: case 9: case 10: case 11: return (uint8_t)(tmr >> (8 * (off - 8)));
    default: return 0xFF;
    }
}

/* PM1_CNT written: SLP_EN with SLP_TYP = S5 is soft-off. */
static enum io_result pm_write_cnt(struct pm *pm, uint16_t v)
{
    pm->cnt = v & PM1_CNT_MASK;
    if ((v & PM1_SLP_EN) && PM1_SLP_TYP(v) == ACPI_SLP_TYP_S5) {
        vm_stop(pm->vm, 0);
        return IO_STOP;
    }
    if (v & PM1_SLP_EN)         /* S1-S4 are not offered (no \_Sx): wake at once */
        pm->sts |= PM1_STS_WAK;
    return IO_OK;
}

static uint16_t set_byte(uint16_t v, unsigned i, uint8_t b)
{
    return i ? (uint16_t)((v & 0x00FF) | b << 8) : (uint16_t)((v & 0xFF00) | b);
}

static enum io_result pm_io_locked(struct pm *pm, struct io_req *r)
{
    if (!r->write) {
        uint32_t tmr = pm_timer(pm);
        for (unsigned i = 0; i < r->len; i++)
            r->data[i] = pm_read_byte(pm, (unsigned)r->off + i, tmr);
        return IO_OK;
    }
    /* Byte-wise: a write may cover any part of the registers. */
    uint16_t sts_clear = 0, en = pm->en, cnt = pm->cnt;
    bool cnt_written = false;
    for (unsigned i = 0; i < r->len; i++) {
        unsigned off = (unsigned)r->off + i;
        uint8_t b = r->data[i];
        if (off < 2) {
            sts_clear |= (uint16_t)(b << (8 * off));
        } else if (off < 4) {
            en = set_byte(en, off - 2, b);
        } else if (off < 6) {
            cnt = set_byte(cnt, off - 4, b);
            cnt_written = true;
        }
    }
    pm->sts &= (uint16_t)~(sts_clear & PM1_STS_MASK);  /* write 1 to clear */
    pm->en = en & PM1_EN_MASK;
    return cnt_written ? pm_write_cnt(pm, cnt) : IO_OK;
}

static enum io_result pm_io(void *dev, struct io_req *r)
{
    struct pm *pm = dev;
    pthread_mutex_lock(&pm->lock);
    enum io_result res = pm_io_locked(pm, r);
    pthread_mutex_unlock(&pm->lock);
    return res;
}

/* Reset control register (0xCF9): RST_CPU (bit 2) resets the machine. */
static enum io_result pm_reset_io(void *dev, struct io_req *r)
{
    struct pm *pm = dev;
    pthread_mutex_lock(&pm->lock);
    bool reset = r->write && (r->data[0] & 0x04);
    if (!r->write)
        io_put(r, pm->reset_reg);
    else
        pm->reset_reg = r->data[0] & 0x0A;
    pthread_mutex_unlock(&pm->lock);
    if (!reset)
        return IO_OK;
    vm_guest_reset(pm->vm, "ACPI reset register");
    return IO_STOP;
}

/* Snapshot record: the registers and the PM timer's count, which goes on
 * from there after a restore (the guest saw no time pass while paused). */
struct pm_rec {
    uint16_t sts, en, cnt;
    uint8_t reset_reg, pad;
    uint32_t timer;
    uint32_t pad2;
};

static void pm_save(void *dev, void *rec)
{
    struct pm *pm = dev;
    pthread_mutex_lock(&pm->lock);
    *(struct pm_rec *)rec = (struct pm_rec){ pm->sts, pm->en, pm->cnt, pm->reset_reg, 0,
                                             pm_timer(pm), 0 };
    pthread_mutex_unlock(&pm->lock);
}

static int pm_restore(void *dev, const void *rec)
{
    struct pm *pm = dev;
    const struct pm_rec *r = rec;
    pthread_mutex_lock(&pm->lock);
    pm->sts = r->sts & PM1_STS_MASK;
    pm->en = r->en & PM1_EN_MASK;
    pm->cnt = r->cnt & PM1_CNT_MASK;
    pm->reset_reg = r->reset_reg;
    /* t0 = now - timer / PM_TMR_HZ */
    uint64_t ns = (uint64_t)r->timer * 1000000000u / PM_TMR_HZ;
    clock_gettime(CLOCK_MONOTONIC, &pm->t0);
    int64_t t = (int64_t)pm->t0.tv_sec * 1000000000 + pm->t0.tv_nsec - (int64_t)ns;
    pm->t0.tv_sec = t / 1000000000;
    pm->t0.tv_nsec = t % 1000000000;
    pthread_mutex_unlock(&pm->lock);
    return 0;
}

static const struct devstate_ops pm_state = {
    "pm", sizeof(struct pm_rec), pm_save, pm_restore,
};

int pm_create(struct vm *vm)
{
    struct pm *pm = vm_own(vm, xcalloc(1, sizeof(*pm)));
    pm->vm = vm;
    pthread_mutex_init(&pm->lock, NULL);
    vm_add_state(vm, &pm_state, pm);
    if (clock_gettime(CLOCK_MONOTONIC, &pm->t0) < 0) {
        errorf("%s: clock_gettime: %s", vm->name, strerror(errno));
        return -1;
    }
    if (bus_register(&vm->pio, PM_BASE, PM_LEN, pm_io, pm, "acpi-pm") ||
        bus_register(&vm->pio, PM_RESET_PORT, 1, pm_reset_io, pm, "reset")) {
        errorf("%s: cannot register the ACPI PM ports", vm->name);
        return -1;
    }
    return 0;
}
