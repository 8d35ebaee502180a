/* i8042.c - keyboard controller at ports 0x60/0x64 with a keyboard that only
 * answers commands and types Ctrl+Alt+Del when asked (IRQ 1); 0xFE reboots. */
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

#define CTR_KBD_INT 0x01    /* raise IRQ 1 while a keyboard byte waits */
#define CTR_KBD_DIS 0x10
#define CTR_AUX_DIS 0x20
#define CTR_XLATE   0x40    /* translate the keyboard's set 2 codes to set 1 */
#define CTR_DEFAULT 0x45    /* kbd interrupt, system flag, translation */
#define OUT_RESET   0x01    /* output port bit 0: 0 = CPU reset asserted */

#define KBD_ACK     0xFA
#define QLEN 16             /* room for Ctrl+Alt+Del pressed and released */

struct i8042 {
    struct vm *vm;
    pthread_mutex_t lock;       /* lock order L2: a device lock (core/vm.h) */
    uint8_t ctr, status, pending;   /* pending: command waiting for a data byte */
    uint8_t q[QLEN], qaux[QLEN];
    unsigned qhead, qn;
    uint8_t last;
    uint8_t kbd_pending;        /* keyboard command waiting for its parameter */
    bool line;                  /* level driven on IRQ 1 */
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

/* A byte for the keyboard. It answers like a PS/2 keyboard, so that Linux's
 * atkbd binds to it (the keyboard SendCtrlAltDel types on): ACK (0xFA),
 * identify as an MF2 keyboard, take the parameters of LEDs, typematic rate
 * and scancode set (always set 2), reset with "self test passed". */
static void keyboard(struct i8042 *k, uint8_t v)
{
    uint8_t cmd = k->kbd_pending;
    k->kbd_pending = 0;
    if (cmd) {                          /* the parameter of cmd */
        push(k, KBD_ACK, false);
        if (cmd == 0xF0 && v == 0)
            push(k, 0x02, false);       /* which set: 2 */
        return;
    }
    switch (v) {
    case 0xED: case 0xF0: case 0xF3:    /* LEDs, scancode set, typematic */
        k->kbd_pending = v;
        push(k, KBD_ACK, false);
        break;
    case 0xEE: push(k, 0xEE, false); break;             /* echo */
    case 0xF2: push(k, KBD_ACK, false); push(k, 0xAB, false); push(k, 0x83, false); break;
    case 0xFF: push(k, KBD_ACK, false); push(k, 0xAA, false); break;
    case 0xF4: case 0xF5: case 0xF6: case 0xF7: case 0xF8: case 0xF9: case 0xFA:
        push(k, KBD_ACK, false);        /* enable, disable, defaults, key types */
        break;
    default: push(k, 0xFE, false); break;               /* resend: unknown */
    }
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
    case 0xD4: break;   /* to a mouse that is not there */
    default: keyboard(k, v); break;
    }
    return false;
}

/* IRQ 1 is high while a keyboard byte waits and the CTR enables it; each
 * byte read lowers it, so the next one waiting makes a fresh edge (the pin
 * is edge-triggered). */
static void update_irq(struct i8042 *k, bool pulse)
{
    bool level = k->qn && !k->qaux[k->qhead] && (k->ctr & CTR_KBD_INT);
    if (pulse && k->line) {
        k->line = false;
        vm_irq_line(k->vm, I8042_KBD_IRQ, 0);
    }
    if (level != k->line) {
        k->line = level;
        vm_irq_line(k->vm, I8042_KBD_IRQ, level);
    }
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
    update_irq(k, !r->write && r->addr == I8042_DATA_PORT);
    pthread_mutex_unlock(&k->lock);
    if (!reset)
        return IO_OK;
    vm_guest_reset(k->vm, "i8042 reset line");
    return IO_STOP;
}

/* Ctrl+Alt+Del pressed and released, as the keyboard sends it (set 2) or as
 * the controller passes it on when it translates (set 1, Linux's default). */
int i8042_ctrl_alt_del(struct i8042 *k)
{
    static const uint8_t set2[] = { 0x14, 0x11, 0xE0, 0x71, 0xE0, 0xF0, 0x71,
                                    0xF0, 0x11, 0xF0, 0x14 };
    static const uint8_t set1[] = { 0x1D, 0x38, 0xE0, 0x53, 0xE0, 0xD3, 0xB8, 0x9D };
    pthread_mutex_lock(&k->lock);
    bool xlate = k->ctr & CTR_XLATE;
    const uint8_t *seq = xlate ? set1 : set2;
    unsigned n = xlate ? sizeof(set1) : sizeof(set2);
    int r = QLEN - k->qn >= n ? 0 : -1;
    for (unsigned i = 0; r == 0 && i < n; i++)
        push(k, seq[i], false);
    if (r == 0)
        update_irq(k, false);
    pthread_mutex_unlock(&k->lock);
    return r;
}

bool i8042_irq_level(struct i8042 *k)
{
    pthread_mutex_lock(&k->lock);
    bool l = k->line;
    pthread_mutex_unlock(&k->lock);
    return l;
}

/* Snapshot record: the controller's registers and its output queue. */
struct i8042_rec {
    uint8_t ctr, status, pending, last;
    uint8_t q[QLEN], qaux[QLEN];
    uint32_t qhead, qn;
    uint8_t kbd_pending, line, pad[6];
};

static void i8042_save(void *dev, void *rec)
{
    struct i8042 *k = dev;
    struct i8042_rec *r = rec;
    pthread_mutex_lock(&k->lock);
    *r = (struct i8042_rec){ k->ctr, k->status, k->pending, k->last, { 0 }, { 0 },
                             k->qhead, k->qn, k->kbd_pending, k->line, { 0 } };
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
    k->kbd_pending = r->kbd_pending;
    k->line = r->line;          /* the irqchip's pin level comes with its own state */
    pthread_mutex_unlock(&k->lock);
    return 0;
}

static const struct devstate_ops i8042_state = {
    "i8042", sizeof(struct i8042_rec), i8042_save, i8042_restore,
};

struct i8042 *i8042_create(struct vm *vm)
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
        return NULL;
    }
    return k;
}
