/* bus.h - the I/O bus: devices register port or MMIO ranges with a callback,
 * and the vCPU loop dispatches every access through bus_access(). */
#ifndef MINI_KVM_BUS_H
#define MINI_KVM_BUS_H

#include <stdbool.h>
#include <stdint.h>

struct vcpu;
struct bus_range;

/* One access as a device sees it. data holds len (1, 2, 4 or 8) bytes in
 * guest (little-endian) order: read it on a write, fill it on a read. */
struct io_req {
    uint64_t addr;      /* absolute port number or guest-physical address */
    uint64_t off;       /* addr - base of the device's range */
    uint8_t *data;
    unsigned len;
    bool write;
    struct vcpu *cpu;   /* the vCPU that made the access (registers, VM) */
    const struct bus_range *range;  /* set by bus_access: the claiming range, or
                                     * NULL (unclaimed), for --trace and --top */
};

enum io_result {
    IO_OK = 0,          /* handled; the guest continues */
    IO_STOP = 1,        /* handled; the device asked the VM to stop */
};

typedef enum io_result (*io_fn)(void *dev, struct io_req *req);

struct bus_range {
    uint64_t base, len;
    io_fn fn;
    void *dev;
    const char *name;   /* the device, as --trace, --trace-file and --top show it */
};

#define BUS_MAX_RANGES 32

struct bus {
    const char *kind;   /* "port" or "mmio", for messages */
    struct bus_range r[BUS_MAX_RANGES];
    int nr;
};

void bus_init(struct bus *b, const char *kind);

/* Register [base, base+len). Returns 0, or -1 when the range is empty,
 * overflows, overlaps a registered one, or the bus is full. */
int bus_register(struct bus *b, uint64_t base, uint64_t len, io_fn fn,
                 void *dev, const char *name);

/* Like bus_register, but [base, base+len) may wholly contain ranges already
 * registered: an access that fits one of those still goes to it (bus_find
 * scans in registration order). For 0xCF8-0xCFF around the reset register
 * at 0xCF9: a byte there resets, a dword at 0xCF8 is a PCI address. */
int bus_register_around(struct bus *b, uint64_t base, uint64_t len, io_fn fn,
                        void *dev, const char *name);

/* The range holding every byte of [addr, addr+len), or NULL. */
const struct bus_range *bus_find(const struct bus *b, uint64_t addr, unsigned len);

/* Dispatch one access. Returns IO_OK / IO_STOP from the device, or -1 when
 * no device claims the range (then a read returns all ones). */
int bus_access(const struct bus *b, struct io_req *req);

/* Little-endian helpers for device code. */
static inline uint64_t io_get(const struct io_req *r)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < r->len && i < 8; i++)
        v |= (uint64_t)r->data[i] << (8 * i);
    return v;
}

static inline void io_put(struct io_req *r, uint64_t v)
{
    for (unsigned i = 0; i < r->len && i < 8; i++)
        r->data[i] = (uint8_t)(v >> (8 * i));
}

#endif
