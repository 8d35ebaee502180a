/* i8042.c - keyboard controller at ports 0x60/0x64 without keyboard or mouse:
 * answers the controller commands Linux and BIOSes use; 0xFE reboots. */
#include "i8042.h"
#include "core/bus.h"
#include "core/devstate.h"
#include "core/util.h"
#include "core/vm.h"

#include <pthread.h>
#include <string.h>
#include <stdbool.h>

#define ST_OBF      0x01    /* output buffer full */
#define ST_SYS      0x04    /* system flag: POST passed */
#define ST_CMD      0x08    /* last write went to the command port */
#define ST_AUX      0x20    /* output byte came from the aux port */

#define CTR_KBD_DIS 0x10
#define CTR_AUX_DIS 0x20
#define CTR_DEFAULT 0x45    /* kbd interrupt, system flag, translation */
#define OUT_RESET   0x01    /* output port bit 0: 0 = CPU reset asserted */

#define QLEN 8

struct i8042 {
    struct vm *vm;
    pthread_mutex_t lock;       /* lock order L2: a device lock (core/vm.h) */
    uint8_t ctr, status, pending;   /* pending: command waiting for a data byte */
    uint8_t q[QLEN], qaux[QLEN];
    unsigned qhead, qn;
    uint8_t last;
};

static void push(struct i8042 *k, uint8_t v, bool aux)
{
    if (k->qn == QLEN)
        return;
    unsigned i = (k->qhead + k->qn++) % QLEN;
    k->q[i] = v;
    k->qaux[i] = aux;
}

static uint8_t pop(struct i8042 *k)
{
    if (k->qn) {
        k->last = k->q[k->qhead];
        k->qhead = (k->qhead + 1) % QLEN;
        k->qn--;
    }
    return k->last;
}

static uint8_t status(const struct i8042 *k)
{
    uint8_t s = k->status;
    if (k->qn)
        s |= ST_OBF | (k->qaux[k->qhead] ? ST_AUX : 0);
    return s;
}

/* A write to port 0x64. Returns true when the guest asked for a reset. */
static bool command(struct i8042 *k, uint8_t cmd)
{
    k->status |= ST_CMD;
    k->pending = 0;
    switch (cmd) {
    case 0x20: push(k, k->ctr, false); break;           /* read CTR */
    case 0x60: case 0xD1: case 0xD2: case 0xD3: case 0xD4:
        k->pending = cmd; break;                        /* data byte follows */
    case 0xA7: k->ctr |= CTR_AUX_DIS; break;
    case 0xA8: k->ctr &= (uint8_t)~CTR_AUX_DIS; break;
    case 0xA9: push(k, 0xFF, false); break;             /* aux test: no aux port */
    case 0xAA: push(k, 0x55, false); break;             /* self test passed */
    case 0xAB: push(k, 0x00, false); break;             /* kbd interface OK */
    case 0xAD: k->ctr |= CTR_KBD_DIS; break;
    case 0xAE: k->ctr &= (uint8_t)~CTR_KBD_DIS; break;
    case 0xD0: push(k, 0x03, false); break;             /* output port: A20 on */
    default:
        return cmd >= 0xF0 && !(cmd & OUT_RESET);       /* pulse the reset line */
    }
    return false;
}

/* A write to port 0x60. Returns true when the guest asked for a reset. */
static bool data(struct i8042 *k, uint8_t v)
{
    uint8_t cmd = k->pending;
    k->status &= (uint8_t)~ST_CMD;
    k->pending = 0;
    switch (cmd) {
    case 0x60: k->ctr = v; k->status = (uint8_t)((k->status & ~ST_SYS) | (v & ST_SYS)); break;
    case 0xD1: return !(v & OUT_RESET);
    case 0xD2: push(k, v, false); break;
    case 0xD3: push(k, v, true); break;
    default: break;     /* to a keyboard or mouse that is not there */
    }
    return false;
}

static enum io_result i8042_io(void *dev, struct io_req *r)
{
    struct i8042 *k = dev;
    bool reset = false;
    pthread_mutex_lock(&k->lock);
    if (!r->write)
        io_put(r, r->addr == I8042_CMD_PORT ? status(k) : pop(k));
    else if (r->addr == I8042_CMD_PORT)
        reset = command(k, r->data[0]);
    else
        reset = data(k, r->data[0]);
    pthread_mutex_unlock(&k->lock);
    if (!reset)
        return IO_OK;
    vm_guest_reset(k->vm, "i8042 reset line");
    return IO_STOP;
}

/* Snapshot record: the controller's registers and its output queue. */
struct i8042_rec {
    uint8_t ctr, status, pending, last;
    uint8_t q[QLEN], qaux[QLEN];
    uint32_t qhead, qn;
};

static void i8042_save(void *dev, void *rec)
{
    struct i8042 *k = dev;
    struct i8042_rec *r = rec;
    pthread_mutex_lock(&k->lock);
    *r = (struct i8042_rec){ k->ctr, k->status, k->pending, k->last, { 0 }, { 0 },
                             k->qhead, k->qn };
    memcpy(r->q, k->q, QLEN);
    memcpy(r->qaux, k->qaux, QLEN);
    pthread_mutex_unlock(&k->lock);
}

static int i8042_restore(void *dev, const void *rec)
{
    struct i8042 *k = dev;
    const struct i8042_rec *r = rec;
    if (r->qhead >= QLEN || r->qn > QLEN) {
        errorf("i8042: queue out of range (head %u, count %u)", r->qhead, r->qn);
        return -1;
    }
    pthread_mutex_lock(&k->lock);
    k->ctr = r->ctr, k->status = r->status, k->pending = r->pending, k->last = r->last;
    memcpy(k->q, r->q, QLEN);
    memcpy(k->qaux, r->qaux, QLEN);
    k->qhead = r->qhead, k->qn = r->qn;
    pthread_mutex_unlock(&k->lock);
    return 0;
}

static const struct devstate_ops i8042_state = {
    "i8042", sizeof(struct i8042_rec), i8042_save, i8042_restore,
};

int i8042_create(struct vm *vm)
{
    struct i8042 *k = vm_own(vm, xcalloc(1, sizeof(*k)));
    k->vm = vm;
    pthread_mutex_init(&k->lock, NULL);
    vm_add_state(vm, &i8042_state, k);
    k->ctr = CTR_DEFAULT;
    k->status = ST_SYS;
    if (bus_register(&vm->pio, I8042_DATA_PORT, 1, i8042_io, k, "i8042") ||
        bus_register(&vm->pio, I8042_CMD_PORT, 1, i8042_io, k, "i8042")) {
        errorf("%s: cannot register the i8042 ports", vm->name);
        return -1;
    }
    return 0;
}
