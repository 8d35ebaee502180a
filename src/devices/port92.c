/* port92.c - port 0x92: bit 1 is the A20 gate, bit 0 resets the machine.
 * KVM cannot mask address line 20, so A20 is always on whatever is stored. */
#include "port92.h"
#include "core/bus.h"
#include "core/devstate.h"
#include "core/util.h"
#include "core/vm.h"

#include <pthread.h>
#include <stdatomic.h>

/* The guest's value of bit 1 is remembered and read back, so a boot loader
 * that checks its write succeeds, but memory is never wrapped at 1 MiB: KVM
 * has no A20 masking, and no OS of this century wants it off. A guest that
 * tests for wrap-around by comparing 0:0500 with FFFF:0510 sees A20 on. */
struct port92 {
    struct vm *vm;
    atomic_uchar a20;           /* vCPUs share it */
};

static enum io_result port92_io(void *dev, struct io_req *r)
{
    struct port92 *p = dev;
    if (!r->write) {
        r->data[0] = atomic_load(&p->a20);
        return IO_OK;
    }
    uint8_t v = r->data[0];
    atomic_store(&p->a20, v & PORT92_A20);
    if (!(v & PORT92_RESET))
        return IO_OK;
    vm_guest_reset(p->vm, "port 0x92 reset bit");
    return IO_STOP;
}

/* Snapshot record: the A20 bit. */
struct port92_rec { uint8_t a20, pad[7]; };

static void port92_save(void *dev, void *rec)
{
    *(struct port92_rec *)rec = (struct port92_rec){ atomic_load(&((struct port92 *)dev)->a20), { 0 } };
}

static int port92_restore(void *dev, const void *rec)
{
    atomic_store(&((struct port92 *)dev)->a20, ((const struct port92_rec *)rec)->a20 & PORT92_A20);
    return 0;
}

static const struct devstate_ops port92_state = {
    "port92", sizeof(struct port92_rec), port92_save, port92_restore,
};

int port92_create(struct vm *vm)
{
    struct port92 *p = vm_own(vm, xcalloc(1, sizeof(*p)));
    p->vm = vm;
    vm_add_state(vm, &port92_state, p);
    atomic_store(&p->a20, PORT92_A20);  /* firmware leaves A20 enabled */
    if (bus_register(&vm->pio, PORT92, 1, port92_io, p, "port92")) {
        errorf("%s: cannot register port 0x92", vm->name);
        return -1;
    }
    return 0;
}
