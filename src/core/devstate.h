/* devstate.h - the one interface through which a device's own state goes
 * into a snapshot and comes back (docs/snapshot.md): a fixed-size record. */
#ifndef MINI_KVM_DEVSTATE_H
#define MINI_KVM_DEVSTATE_H

#include <stddef.h>

struct vm;

/* A device describes its record once (static const) and registers each
 * instance with vm_add_state at creation. save() fills exactly `size`
 * bytes under the device's lock (the VM is paused); restore() checks the
 * record (it comes from a file) and applies it, or returns -1 after errorf. */
struct devstate_ops {
    const char *kind;           /* "serial", "rtc", "virtio-mmio", ... */
    size_t size;
    void (*save)(void *dev, void *rec);
    int (*restore)(void *dev, const void *rec);
};

#define DEVSTATE_MAX 32
#define DEVSTATE_NAME 28     /* "dev." + name fits a snapshot record name (32) */

/* Register one instance; its section in the snapshot is named
 * "kind@index" (index: the order of creation among devices of the kind). */
void vm_add_state(struct vm *vm, const struct devstate_ops *ops, void *dev);

#endif
