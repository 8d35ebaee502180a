/* virtio_table.c - place virtio-mmio devices in slots in creation order (the
 * layout is in arch/layout.h) and print the table for --stats. */
#include "virtio_table.h"
#include "util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

_Static_assert(VIRTIO_MMIO_SIZE <= VIRTIO_MMIO_STRIDE, "virtio-mmio slots overlap");
_Static_assert(VIRTIO_MMIO_GSI + VIRTIO_MMIO_MAX <= 24, "virtio GSIs past the IOAPIC's 24 pins");

struct virtio_slot *virtio_table_add(struct virtio_table *t, const char *vm_name,
                                     uint32_t device_id, const char *name, const char *what)
{
    if (t->n < 0 || t->n >= VIRTIO_MMIO_MAX) {
        errorf("%s: %s: too many virtio devices (at most %d in all: disks, NICs, rng, vsock)",
               vm_name, what, VIRTIO_MMIO_MAX);
        return NULL;
    }
    struct virtio_slot *s = &t->slot[t->n];
    memset(s, 0, sizeof(*s));
    s->device_id = device_id;
    s->base = VIRTIO_MMIO_SLOT_BASE(t->n);
    s->size = VIRTIO_MMIO_SIZE;
    s->gsi = VIRTIO_MMIO_SLOT_GSI(t->n);
    snprintf(s->name, sizeof(s->name), "%s", name);
    t->n++;
    return s;
}

void virtio_table_print(const struct virtio_table *t, const char *vm_name)
{
    char buf[2048];
    size_t n = 0;
    for (int i = 0; i < t->n && n < sizeof(buf); i++) {
        const struct virtio_slot *s = &t->slot[i];
        n += (size_t)snprintf(buf + n, sizeof(buf) - n,
                              "[%s] virtio-mmio 0x%llx gsi %u: %s%s%s%s%s%s\n", vm_name,
                              (unsigned long long)s->base, s->gsi, s->name,
                              s->detail[0] ? " " : "", s->detail, s->notify[0] ? " (" : "",
                              s->notify, s->notify[0] ? ")" : "");
    }
    if (n > sizeof(buf))
        n = sizeof(buf);
    ssize_t w = write(2, buf, n);
    (void)w;
}
