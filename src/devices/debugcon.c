/* debugcon.c - port 0xE9 as in QEMU (-debugcon) and Bochs (port_e9_hack):
 * the simplest output a hobby kernel has, one `outb` per character. */
#include "debugcon.h"
#include "core/bus.h"
#include "core/console.h"
#include "core/util.h"
#include "core/vm.h"

/* The range is one byte wide, so only byte accesses reach us: a wider
 * access at 0xE9 is unclaimed (dropped, reads all ones), as the bus does
 * for any access that is not wholly inside one device. Bytes go to the
 * same console stream as COM1's, so lines from both stay whole. */
static enum io_result debugcon_io(void *dev, struct io_req *r)
{
    struct vm *vm = dev;
    if (r->write)
        console_write(vm->con, r->data, r->len);
    else
        r->data[0] = DEBUGCON_PORT;     /* Bochs' and QEMU's detection value */
    return IO_OK;
}

int debugcon_create(struct vm *vm)
{
    if (bus_register(&vm->pio, DEBUGCON_PORT, 1, debugcon_io, vm, "debugcon")) {
        errorf("%s: cannot register the debug console port 0x%x", vm->name, DEBUGCON_PORT);
        return -1;
    }
    return 0;
}
