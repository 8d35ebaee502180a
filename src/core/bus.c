/* bus.c - a small table of address ranges to device callbacks, one for ports
 * and one for MMIO per VM. Lookup is a linear scan: there are few devices. */
#include "bus.h"

#include <string.h>

void bus_init(struct bus *b, const char *kind)
{
    memset(b, 0, sizeof(*b));
    b->kind = kind;
}

static bool overlaps(const struct bus_range *r, uint64_t base, uint64_t len)
{
    return base < r->base + r->len && r->base < base + len;
}

static int add(struct bus *b, uint64_t base, uint64_t len, io_fn fn, void *dev,
               const char *name, bool around)
{
    if (len == 0 || base + len < base || !fn || b->nr == BUS_MAX_RANGES)
        return -1;
    for (int i = 0; i < b->nr; i++) {
        const struct bus_range *r = &b->r[i];
        bool inside = r->base >= base && r->base + r->len <= base + len;
        if (overlaps(r, base, len) && !(around && inside))
            return -1;
    }
    b->r[b->nr++] = (struct bus_range){ base, len, fn, dev, name };
    return 0;
}

int bus_register(struct bus *b, uint64_t base, uint64_t len, io_fn fn,
                 void *dev, const char *name)
{
    return add(b, base, len, fn, dev, name, false);
}

int bus_register_around(struct bus *b, uint64_t base, uint64_t len, io_fn fn,
                        void *dev, const char *name)
{
    return add(b, base, len, fn, dev, name, true);
}

const struct bus_range *bus_find(const struct bus *b, uint64_t addr, unsigned len)
{
    for (int i = 0; i < b->nr; i++) {
        const struct bus_range *r = &b->r[i];
        if (addr >= r->base && len <= r->len && addr - r->base <= r->len - len)
            return r;
    }
    return NULL;
}

int bus_access(const struct bus *b, struct io_req *req)
{
    const struct bus_range *r = bus_find(b, req->addr, req->len);
    req->range = r;
    if (!r) {
        if (!req->write)
            memset(req->data, 0xff, req->len);
        return -1;
    }
    req->off = req->addr - r->base;
    return r->fn(r->dev, req);
}
