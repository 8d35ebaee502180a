/* serial.c - 16550A UART: registers, 16-byte RX FIFO fed from the console,
 * loopback, and the IIR priority logic that drives the IRQ line level. */
#include "serial.h"
#include "core/bus.h"
#include "core/devstate.h"
#include "core/console.h"
#include "core/util.h"
#include "core/vm.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct serial {
    struct vm *vm;
    struct console_port *port;  /* output and input; NULL drops output */
    unsigned irq;
    pthread_mutex_t lock;       /* vCPU threads and the stdin reader; L2 (core/vm.h) */

    uint8_t ier, lcr, mcr, msr, scr, fcr;
    uint8_t dll, dlm;           /* divisor latch */
    bool overrun;               /* LSR.OE, cleared by reading LSR */
    bool thre_pending;          /* THR-empty interrupt not yet acknowledged */
    bool line;                  /* level driven on the IRQ line */
    unsigned edges;             /* rising edges so far */

    uint8_t rx[SERIAL_FIFO];
    bool rx_looped[SERIAL_FIFO];    /* byte came from loopback, not the console */
    unsigned rx_head, rx_count;
};

static bool fifo_on(const struct serial *s)
{
    return s->fcr & UART_FCR_ENABLE;
}

/* Without FIFOs the UART is a 16450 with a one-byte receive buffer. */
static unsigned rx_capacity(const struct serial *s)
{
    return fifo_on(s) ? SERIAL_FIFO : 1;
}

static bool rx_push(struct serial *s, uint8_t b, bool looped)
{
    if (s->rx_count >= rx_capacity(s))
        return false;
    unsigned i = (s->rx_head + s->rx_count++) % SERIAL_FIFO;
    s->rx[i] = b;
    s->rx_looped[i] = looped;
    return true;
}

/* FCR's "clear receiver" drops loopback bytes but keeps console input: a
 * guest resetting its UART at boot must not eat what the user typed ahead
 * (for the guest it is as if those bytes arrived just after the reset). */
static void rx_clear(struct serial *s)
{
    uint8_t keep[SERIAL_FIFO];      /* copied out first: the ring is rebuilt */
    unsigned n = 0;
    for (unsigned k = 0; k < s->rx_count; k++) {
        unsigned i = (s->rx_head + k) % SERIAL_FIFO;
        if (!s->rx_looped[i])
            keep[n++] = s->rx[i];
    }
    s->rx_head = s->rx_count = 0;
    for (unsigned k = 0; k < n; k++)
        rx_push(s, keep[k], false);
}

static uint8_t rx_pop(struct serial *s)
{
    if (!s->rx_count)
        return 0;
    uint8_t b = s->rx[s->rx_head];
    s->rx_head = (s->rx_head + 1) % SERIAL_FIFO;
    s->rx_count--;
    return b;
}

/* Move waiting console input into the FIFO. Bytes that do not fit stay in
 * the console's ring, so nothing is lost. In loopback the receiver is
 * disconnected from the outside world. */
static void rx_fill(struct serial *s)
{
    if (!s->port || (s->mcr & UART_MCR_LOOP))
        return;
    while (s->rx_count < rx_capacity(s)) {
        int c = console_poll(s->port);
        if (c < 0)
            break;
        rx_push(s, (uint8_t)c, false);
    }
}

/* The highest-priority pending interrupt, as the IIR identification bits. */
static uint8_t iir_id(const struct serial *s)
{
    if ((s->ier & UART_IER_RLSI) && s->overrun)
        return UART_IIR_RLSI;
    if ((s->ier & UART_IER_RDI) && s->rx_count)
        return UART_IIR_RDI;
    if ((s->ier & UART_IER_THRI) && s->thre_pending)
        return UART_IIR_THRI;
    if ((s->ier & UART_IER_MSI) && (s->msr & UART_MSR_DELTA))
        return UART_IIR_MSI;
    return UART_IIR_NONE;
}

/* The line is high exactly while an interrupt is pending. */
static void update_irq(struct serial *s)
{
    bool level = iir_id(s) != UART_IIR_NONE;
    if (level == s->line)
        return;
    s->line = level;
    s->edges += level;
    if (s->vm->irqchip)
        vm_irq_line(s->vm, s->irq, level);
}

/* Modem status inputs: in loopback they are the MCR outputs, otherwise a
 * cable with the other end always ready (CTS, DSR, DCD). */
static void update_msr(struct serial *s)
{
    uint8_t in = UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD;
    if (s->mcr & UART_MCR_LOOP) {
        in = 0;
        if (s->mcr & UART_MCR_RTS)  in |= UART_MSR_CTS;
        if (s->mcr & UART_MCR_DTR)  in |= UART_MSR_DSR;
        if (s->mcr & UART_MCR_OUT1) in |= UART_MSR_RI;
        if (s->mcr & UART_MCR_OUT2) in |= UART_MSR_DCD;
    }
    uint8_t old = s->msr & 0xF0, changed = old ^ in, delta = 0;
    if (changed & UART_MSR_CTS) delta |= 0x01;
    if (changed & UART_MSR_DSR) delta |= 0x02;
    if ((old & UART_MSR_RI) && !(in & UART_MSR_RI)) delta |= 0x04; /* trailing edge */
    if (changed & UART_MSR_DCD) delta |= 0x08;
    s->msr = in | (s->msr & UART_MSR_DELTA) | delta;
}

static void write_thr(struct serial *s, uint8_t b)
{
    if (s->mcr & UART_MCR_LOOP) {
        if (!rx_push(s, b, true))
            s->overrun = true;
    } else if (s->port) {
        console_write(s->port, &b, 1);
    }
    s->thre_pending = true;     /* transmission is instantaneous */
}

static void write_ier(struct serial *s, uint8_t v)
{
    uint8_t old = s->ier;
    s->ier = v & 0x0F;
    /* Enabling ETBEI while THR is empty (it always is) raises THRE again,
     * even if a previous one was acknowledged by reading IIR. */
    if ((s->ier & UART_IER_THRI) && !(old & UART_IER_THRI))
        s->thre_pending = true;
}

static void write_fcr(struct serial *s, uint8_t v)
{
    if ((v ^ s->fcr) & UART_FCR_ENABLE)
        v |= UART_FCR_CLEAR_RX;     /* toggling the FIFOs resets them */
    /* With the FIFOs off (16450 mode) the other bits mean nothing; set the
     * mode first so the clear and refill see the receiver's real depth. */
    s->fcr = (v & UART_FCR_ENABLE) ? (v & 0xC9) : 0;
    if (v & UART_FCR_CLEAR_RX)
        rx_clear(s);
    rx_fill(s);
}

static void reg_write(struct serial *s, unsigned off, uint8_t v)
{
    bool dlab = s->lcr & UART_LCR_DLAB;
    switch (off) {
    case UART_THR: if (dlab) s->dll = v; else write_thr(s, v); break;
    case UART_IER: if (dlab) s->dlm = v; else write_ier(s, v); break;
    case UART_FCR: write_fcr(s, v); break;
    case UART_LCR: s->lcr = v; break;
    case UART_MCR:
        s->mcr = v & 0x1F;
        update_msr(s);
        rx_fill(s);
        break;
    case UART_LSR: break;           /* read-only (factory test on real parts) */
    case UART_MSR: break;
    case UART_SCR: s->scr = v; break;
    }
}

static uint8_t read_iir(struct serial *s)
{
    uint8_t id = iir_id(s);
    if (id == UART_IIR_THRI)
        s->thre_pending = false;    /* reading IIR acknowledges THRE */
    return id | (fifo_on(s) ? UART_IIR_FIFO : 0);
}

static uint8_t read_lsr(struct serial *s)
{
    rx_fill(s);                     /* polled guests see input here */
    uint8_t v = UART_LSR_THRE | UART_LSR_TEMT;
    if (s->rx_count)
        v |= UART_LSR_DR;
    if (s->overrun)
        v |= UART_LSR_OE;
    s->overrun = false;
    return v;
}

static uint8_t reg_read(struct serial *s, unsigned off)
{
    bool dlab = s->lcr & UART_LCR_DLAB;
    uint8_t v = 0;
    switch (off) {
    case UART_RBR:
        if (dlab)
            return s->dll;
        v = rx_pop(s);
        rx_fill(s);
        return v;
    case UART_IER: return dlab ? s->dlm : s->ier;
    case UART_IIR: return read_iir(s);
    case UART_LCR: return s->lcr;
    case UART_MCR: return s->mcr;
    case UART_LSR: return read_lsr(s);
    case UART_MSR:
        v = s->msr;
        s->msr &= ~UART_MSR_DELTA;
        return v;
    case UART_SCR: return s->scr;
    }
    return 0xFF;
}

/* One port access. Only byte accesses are meaningful; wider reads return
 * the register in the low byte and ones above it, wider writes use the low
 * byte. */
static enum io_result serial_io(void *dev, struct io_req *r)
{
    struct serial *s = dev;
    pthread_mutex_lock(&s->lock);
    if (r->write) {
        reg_write(s, (unsigned)r->off, r->data[0]);
    } else {
        memset(r->data, 0xFF, r->len);
        r->data[0] = reg_read(s, (unsigned)r->off);
    }
    update_irq(s);
    pthread_mutex_unlock(&s->lock);
    return IO_OK;
}

/* Runs on the stdin reader thread whenever input arrives. New input while
 * the line is already high re-asserts it (low, then high), whether or not
 * the bytes fit in the FIFO yet: an edge-triggered IOAPIC pin that was
 * masked when the line rose never delivers that edge (KVM's IOAPIC replays
 * only level-triggered pins on unmask), so without a new edge the guest
 * would never hear of its input. xv6 is such a guest when a key is pressed
 * before its uartinit() (docs/legacy-pc.md). */
/* New input: a fresh edge even if the line is already high (see above). */
static void input_locked(struct serial *s)
{
    rx_fill(s);
    if (s->line) {
        s->line = false;
        if (s->vm->irqchip)
            vm_irq_line(s->vm, s->irq, 0);
    }
    update_irq(s);
}

static void serial_input(void *dev)
{
    struct serial *s = dev;
    pthread_mutex_lock(&s->lock);
    input_locked(s);
    pthread_mutex_unlock(&s->lock);
}

unsigned serial_irq_edges(struct serial *s)
{
    pthread_mutex_lock(&s->lock);
    unsigned n = s->edges;
    pthread_mutex_unlock(&s->lock);
    return n;
}

bool serial_irq_level(struct serial *s)
{
    pthread_mutex_lock(&s->lock);
    bool l = s->line;
    pthread_mutex_unlock(&s->lock);
    return l;
}

/* Snapshot record (docs/snapshot.md): the registers and the RX ring. */
struct serial_rec {
    uint8_t ier, lcr, mcr, msr, scr, fcr, dll, dlm;
    uint8_t overrun, thre_pending, line, pad;
    uint32_t rx_head, rx_count;
    uint8_t rx[SERIAL_FIFO], rx_looped[SERIAL_FIFO];
};

static void serial_save(void *dev, void *rec)
{
    struct serial *s = dev;
    struct serial_rec *r = rec;
    pthread_mutex_lock(&s->lock);
    *r = (struct serial_rec){ s->ier, s->lcr, s->mcr, s->msr, s->scr, s->fcr, s->dll, s->dlm,
                              s->overrun, s->thre_pending, s->line, 0, s->rx_head,
                              s->rx_count, { 0 }, { 0 } };
    for (unsigned i = 0; i < SERIAL_FIFO; i++) {
        r->rx[i] = s->rx[i];
        r->rx_looped[i] = s->rx_looped[i];
    }
    pthread_mutex_unlock(&s->lock);
}

static int serial_restore(void *dev, const void *rec)
{
    struct serial *s = dev;
    const struct serial_rec *r = rec;
    if (r->rx_head >= SERIAL_FIFO || r->rx_count > SERIAL_FIFO) {
        errorf("serial: RX ring out of range (head %u, count %u)", r->rx_head, r->rx_count);
        return -1;
    }
    pthread_mutex_lock(&s->lock);
    /* The console reader may have moved typed bytes into the fresh UART
     * between its creation and now: they go after the restored FIFO. */
    uint8_t typed[SERIAL_FIFO];
    unsigned ntyped = 0;
    for (unsigned k = 0; k < s->rx_count; k++) {
        unsigned i = (s->rx_head + k) % SERIAL_FIFO;
        if (!s->rx_looped[i])
            typed[ntyped++] = s->rx[i];
    }
    s->ier = r->ier, s->lcr = r->lcr, s->mcr = r->mcr, s->msr = r->msr, s->scr = r->scr;
    s->fcr = r->fcr, s->dll = r->dll, s->dlm = r->dlm;
    s->overrun = r->overrun, s->thre_pending = r->thre_pending;
    s->line = r->line;          /* the irqchip's pin level comes with its own state */
    s->rx_head = r->rx_head, s->rx_count = r->rx_count;
    for (unsigned i = 0; i < SERIAL_FIFO; i++) {
        s->rx[i] = r->rx[i];
        s->rx_looped[i] = r->rx_looped[i];
    }
    for (unsigned k = 0; k < ntyped; k++)
        rx_push(s, typed[k], false);    /* at most the fresh UART's one byte */
    if (ntyped)
        input_locked(s);
    pthread_mutex_unlock(&s->lock);
    return 0;
}

static const struct devstate_ops serial_state = {
    "serial", sizeof(struct serial_rec), serial_save, serial_restore,
};

static struct serial *create(struct vm *vm, uint16_t base, unsigned irq, bool notified)
{
    struct serial *s = xcalloc(1, sizeof(*s));
    s->vm = vm;
    s->port = vm->con;
    s->irq = irq;
    s->dll = 1;                     /* 115200 baud */
    update_msr(s);
    s->msr &= ~UART_MSR_DELTA;
    pthread_mutex_init(&s->lock, NULL);
    if (bus_register(&vm->pio, base, SERIAL_PORTS, serial_io, s, "serial")) {
        errorf("%s: serial: cannot register ports 0x%x-0x%x", vm->name, base,
               base + SERIAL_PORTS - 1);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
    }
    vm_own(vm, s);
    vm_add_state(vm, &serial_state, s);
    if (s->port && notified)
        console_start_input(s->port, serial_input, s);
    return s;
}

struct serial *serial_create(struct vm *vm, uint16_t base, unsigned irq)
{
    return create(vm, base, irq, true);
}

/* Without the input callback, bytes move from the console into the UART only
 * when the guest reads LSR or RBR, so a hypercall reading the same stdin is
 * not robbed of bytes the guest never asked the UART for. */
struct serial *serial_create_polled(struct vm *vm, uint16_t base)
{
    return create(vm, base, 0, false);
}
