/* debug_exit.c - the exit port of QEMU's `-device isa-debug-exit,iobase=0xf4`,
 * which test kernels use to end a run with a status the host can check. */
#include "debug_exit.h"
#include "core/bus.h"
#include "core/util.h"
#include "core/vm.h"

#include <string.h>

/* QEMU calls exit((v << 1) | 1): the status can never be 0, so a guest that
 * merely stops is not mistaken for success. exit(2) keeps only the low 8
 * bits; we do the same here so mini-kvm's own status logic (first failing
 * guest) sees what the shell will see. */
int debug_exit_status(uint64_t v)
{
    return (int)(((v << 1) | 1) & 0xFF);
}

/* Any write at 0xF4 (1, 2 or 4 bytes) exits. 0xF5-0xF7 are claimed only so
 * that wide accesses at 0xF4 are whole inside the range: writes there are
 * ignored and reads, like every read here, return all ones. */
static enum io_result debug_exit_io(void *dev, struct io_req *r)
{
    struct vm *vm = dev;
    if (!r->write) {
        memset(r->data, 0xFF, r->len);
        return IO_OK;
    }
    if (r->off != 0)
        return IO_OK;
    vm_stop(vm, debug_exit_status(io_get(r)));
    return IO_STOP;
}

int debug_exit_create(struct vm *vm)
{
    if (bus_register(&vm->pio, DEBUG_EXIT_PORT, DEBUG_EXIT_LEN, debug_exit_io, vm,
                     "debug-exit")) {
        errorf("%s: cannot register the debug exit port 0x%x", vm->name, DEBUG_EXIT_PORT);
        return -1;
    }
    return 0;
}
