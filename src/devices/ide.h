/* ide.h - a legacy IDE (ATA PIO) controller, primary channel: two drives on
 * raw images at ports 0x1F0-0x1F7 and 0x3F6, interrupting on ISA IRQ 14. */
#ifndef MINI_KVM_IDE_H
#define MINI_KVM_IDE_H

#include "arch/layout.h"    /* ports, addresses, IRQs */

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct image;

#define IDE_MAX_DRIVES   2

struct ide_drive_cfg { const char *path; bool ro; };

/* Open the n (1..2) images (drive 0 = master, 1 = slave), register the ports on
 * vm->pio, raise IRQ 14 with vm_irq_line(). Returns 0, or -1 after one error line. */
int ide_create(struct vm *vm, const struct ide_drive_cfg *drives, int n);

/* ---- for tests: the controller without a VM ---- */

/* Registers (offsets from IDE_CMD_BASE). */
enum {
    IDE_DATA = 0, IDE_ERROR = 1, IDE_FEATURE = 1, IDE_NSECT = 2, IDE_LBAL = 3,
    IDE_LBAM = 4, IDE_LBAH = 5, IDE_SELECT = 6, IDE_STATUS = 7, IDE_COMMAND = 7,
};

/* Status register bits. */
#define IDE_BSY   0x80
#define IDE_DRDY  0x40
#define IDE_DF    0x20
#define IDE_DSC   0x10
#define IDE_DRQ   0x08
#define IDE_ERR   0x01

/* Error register bits. */
#define IDE_ABRT  0x04
#define IDE_IDNF  0x10

/* Device control register bits. */
#define IDE_CTL_NIEN 0x02
#define IDE_CTL_SRST 0x04
#define IDE_CTL_HOB  0x80

/* The interrupt line changed level (1 = raised, 0 = lowered). */
typedef void (*ide_irq_fn)(void *opaque, int level);

/* A controller on n (1..2) opened images; it takes them over (closes them in
 * ide_free). Never fails. */
struct ide;
struct ide *ide_new(const struct image *drives, int n, ide_irq_fn irq, void *opaque);
void ide_free(struct ide *c);

/* One guest access of len (1, 2 or 4) bytes at `port` (IDE_CMD_BASE..+7 or
 * IDE_CTL_PORT), as the port bus would deliver it. Returns what a read
 * yields (0 for writes). */
uint32_t ide_port_io(struct ide *c, uint16_t port, unsigned len, bool write, uint32_t val);

#endif
