/* vga.h - CGA text mode: the CRTC register file at 0x3D4/0x3D5 (and the
 * mono aliases at 0x3B4), the status port, and the 80x25 screen as text. */
#ifndef MINI_KVM_VGA_H
#define MINI_KVM_VGA_H

#include "arch/layout.h"    /* ports, addresses, IRQs */

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct guest_mem;

#define VGA_PORTS       7       /* index, data, 2 aliases, mode, colour, status */
#define VGA_COLS        80
#define VGA_ROWS        25
#define CRTC_CURSOR_HI  14
#define CRTC_CURSOR_LO  15

struct vga;

/* A CRTC register file with every register 0 (cursor at row 0, column 0). */
struct vga *vga_new(void);

/* Register both port ranges on vm->pio; the VM owns the device. Returns it,
 * or NULL after printing a reason. */
struct vga *vga_create(struct vm *vm);

/* The cursor position the guest programmed (registers 14/15): row*80+col. */
unsigned vga_cursor(struct vga *v);

/* The text screen at CGA_TEXT_ADDR as VGA_ROWS lines of printable ASCII:
 * bytes 0x00, 0x20 and 0xFF (blank glyphs) are spaces, other bytes outside
 * 0x21-0x7E are '.', trailing spaces trimmed. Returns -1 when the buffer is
 * not in guest RAM. */
int vga_render_text(const struct guest_mem *m, char rows[VGA_ROWS][VGA_COLS + 1]);

/* The screen framed, on fd, lines ending in eol ("\n", or "\r\n" on a raw
 * terminal); the cursor is shown when v is not NULL. */
void vga_print_screen(struct vga *v, const struct guest_mem *m, const char *name,
                      int fd, const char *eol);

#endif
