/* vga.c - CGA text mode as a legacy OS programs it: a CRTC that remembers
 * its registers (the cursor), a toggling retrace bit, and a text renderer. */
#include "vga.h"
#include "arch/layout.h"
#include "core/bus.h"
#include "core/devstate.h"
#include "core/mem.h"
#include "core/util.h"
#include "core/vm.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Status register (0x3DA/0x3BA): display enable/horizontal retrace and
 * vertical retrace. There is no beam, so both flip on every read: a guest
 * waiting for "retrace starts" and then "retrace ends" finishes in two. */
#define ST_HRETRACE 0x01
#define ST_VRETRACE 0x08

/* Port offsets in each 7-port range; on a 6845 the index and data
 * registers repeat at every even/odd port below the mode register. */
enum { P_INDEX = 0, P_DATA = 1, P_MODE = 4, P_COLOUR = 5, P_STATUS = 6 };

struct vga {
    pthread_mutex_t lock;       /* vCPUs and the Ctrl-A reader; L2 (core/vm.h) */
    uint8_t index;
    uint8_t regs[256];          /* the VGA has 25, but any index stores */
    uint8_t mode, colour;       /* 0x3D8, 0x3D9: stored, no effect */
    uint8_t status;
};

struct vga *vga_new(void)
{
    struct vga *v = xcalloc(1, sizeof(*v));
    pthread_mutex_init(&v->lock, NULL);
    return v;
}

static uint8_t port_read(struct vga *v, unsigned off)
{
    switch (off) {
    case P_INDEX: case P_INDEX + 2: return v->index;
    case P_DATA: case P_DATA + 2: return v->regs[v->index];
    case P_MODE: return v->mode;
    case P_COLOUR: return v->colour;
    default:
        v->status ^= ST_HRETRACE | ST_VRETRACE;
        return v->status;
    }
}

static void port_write(struct vga *v, unsigned off, uint8_t b)
{
    switch (off) {
    case P_INDEX: case P_INDEX + 2: v->index = b; break;
    case P_DATA: case P_DATA + 2: v->regs[v->index] = b; break;
    case P_MODE: v->mode = b; break;
    case P_COLOUR: v->colour = b; break;
    default: break;             /* status: read-only (feature control on a VGA) */
    }
}

/* Byte by byte, so `outw 0x3D4` (index in AL, data in AH) works as on a PC. */
static enum io_result vga_io(void *dev, struct io_req *r)
{
    struct vga *v = dev;
    pthread_mutex_lock(&v->lock);
    for (unsigned i = 0; i < r->len; i++) {
        unsigned off = (unsigned)r->off + i;
        if (off >= VGA_PORTS) {
            if (!r->write)
                r->data[i] = 0xFF;
        } else if (r->write) {
            port_write(v, off, r->data[i]);
        } else {
            r->data[i] = port_read(v, off);
        }
    }
    pthread_mutex_unlock(&v->lock);
    return IO_OK;
}

/* Snapshot record: the CRTC registers (the text itself is guest RAM). */
struct vga_rec { uint8_t regs[256]; uint8_t index, mode, colour, status, pad[4]; };

static void vga_save(void *dev, void *rec)
{
    struct vga *v = dev;
    struct vga_rec *r = rec;
    pthread_mutex_lock(&v->lock);
    memcpy(r->regs, v->regs, sizeof(r->regs));
    r->index = v->index, r->mode = v->mode, r->colour = v->colour, r->status = v->status;
    memset(r->pad, 0, sizeof(r->pad));
    pthread_mutex_unlock(&v->lock);
}

static int vga_restore(void *dev, const void *rec)
{
    struct vga *v = dev;
    const struct vga_rec *r = rec;
    pthread_mutex_lock(&v->lock);
    memcpy(v->regs, r->regs, sizeof(v->regs));
    v->index = r->index, v->mode = r->mode, v->colour = r->colour, v->status = r->status;
    pthread_mutex_unlock(&v->lock);
    return 0;
}

static const struct devstate_ops vga_state = {
    "vga", sizeof(struct vga_rec), vga_save, vga_restore,
};

struct vga *vga_create(struct vm *vm)
{
    struct vga *v = vm_own(vm, vga_new());
    vm_add_state(vm, &vga_state, v);
    if (bus_register(&vm->pio, VGA_CRTC_PORT, VGA_PORTS, vga_io, v, "cga") ||
        bus_register(&vm->pio, VGA_MONO_PORT, VGA_PORTS, vga_io, v, "cga-mono")) {
        errorf("%s: cannot register the CGA CRTC ports", vm->name);
        return NULL;
    }
    return v;
}

unsigned vga_cursor(struct vga *v)
{
    pthread_mutex_lock(&v->lock);
    unsigned pos = (unsigned)v->regs[CRTC_CURSOR_HI] << 8 | v->regs[CRTC_CURSOR_LO];
    pthread_mutex_unlock(&v->lock);
    return pos;
}

int vga_render_text(const struct guest_mem *m, char rows[VGA_ROWS][VGA_COLS + 1])
{
    /* The guest may write while we read: a torn screen is fine, bytes are bytes. */
    const uint8_t *cell = guest_ptr(m, CGA_TEXT_ADDR, VGA_ROWS * VGA_COLS * 2);
    if (!cell)
        return -1;
    for (int y = 0; y < VGA_ROWS; y++) {
        int end = 0;
        for (int x = 0; x < VGA_COLS; x++) {
            uint8_t ch = cell[(y * VGA_COLS + x) * 2];
            char c = ch == 0 || ch == 0xFF ? ' ' : ch >= 0x20 && ch < 0x7F ? (char)ch : '.';
            rows[y][x] = c;
            if (c != ' ')
                end = x + 1;
        }
        rows[y][end] = '\0';
    }
    return 0;
}

static void put(int fd, const char *s, size_t n)
{
    while (n) {
        ssize_t w = write(fd, s, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;
        s += w;
        n -= (size_t)w;
    }
}

void vga_print_screen(struct vga *v, const struct guest_mem *m, const char *name,
                      int fd, const char *eol)
{
    char rows[VGA_ROWS][VGA_COLS + 1];
    char out[VGA_ROWS * (VGA_COLS + 4) + 512];
    size_t n = 0;
    int k;
    if (vga_render_text(m, rows)) {
        k = snprintf(out, sizeof(out), "mini-kvm: %s: no CGA screen (0x%x is not guest RAM)%s",
                     name, CGA_TEXT_ADDR, eol);
        put(fd, out, (size_t)k);
        return;
    }
    char title[96];
    if (v) {
        unsigned pos = vga_cursor(v);
        snprintf(title, sizeof(title), " %.40s: CGA text screen, cursor %u,%u ", name,
                 pos / VGA_COLS, pos % VGA_COLS);
    } else {
        snprintf(title, sizeof(title), " %.40s: CGA text screen ", name);
    }
    /* +--- title ----...+ as wide as the screen plus the two borders */
    k = snprintf(out, sizeof(out), "+---%s", title);
    n = (size_t)k;
    while (n < VGA_COLS + 1)
        out[n++] = '-';
    n += (size_t)snprintf(out + n, sizeof(out) - n, "+%s", eol);
    for (int y = 0; y < VGA_ROWS; y++)
        n += (size_t)snprintf(out + n, sizeof(out) - n, "|%s%s", rows[y], eol);
    out[n++] = '+';
    for (int x = 0; x < VGA_COLS; x++)
        out[n++] = '-';
    n += (size_t)snprintf(out + n, sizeof(out) - n, "+%s", eol);
    put(fd, out, n);
}
