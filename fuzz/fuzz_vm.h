/* fuzz_vm.h - what every libFuzzer target shares: a fake VM without KVM (RAM,
 * buses, console, one vCPU whose registers are plain fields) and an input reader. */
#ifndef MINI_KVM_FUZZ_VM_H
#define MINI_KVM_FUZZ_VM_H

#include "core/bus.h"
#include "core/console.h"
#include "core/kvm.h"
#include "core/vcpu.h"
#include "core/vm.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The input, consumed from the front; reads past the end give zeros. */
struct fuzz_in {
    const uint8_t *p;
    size_t n;
};

uint8_t fuzz_u8(struct fuzz_in *in);
uint16_t fuzz_u16(struct fuzz_in *in);
uint32_t fuzz_u32(struct fuzz_in *in);
uint64_t fuzz_u64(struct fuzz_in *in);

/* A VM as devices see it: vm->fd is -1 (no ioctl can reach KVM), no
 * irqchip, the vCPU's registers are marked valid so devices read the
 * fields set here instead of asking KVM. Console input, when given, is
 * typed ahead and then at end of file, so no read ever blocks. */
struct fuzz_vm {
    struct kvm_host kvm;
    struct vm vm;
    struct vcpu cpu;
    struct kvm_run run;
    struct console con;
    struct console_port port;
    struct guest_mem ram;           /* kept across inputs (static fuzz_vm) */
};

/* ram 0 = no guest RAM. Returns 0, or -1 when the RAM cannot be mapped.
 * f must be static (or zeroed once): its RAM stays mapped from one input
 * to the next and comes back all zero. */
int fuzz_vm_init(struct fuzz_vm *f, uint64_t ram, bool owns_stdin);
void fuzz_vm_fini(struct fuzz_vm *f);

/* The fake I/O thread (fuzz/fake_iothread.c, linked instead of the real
 * one): run fd's callback now, on this thread, if a device watches fd.
 * Returns whether it ran. */
bool fuzz_iothread_fire(struct vm *vm, int fd);

/* Queue bytes as if typed on stdin (owns_stdin VMs only); then end of file. */
void fuzz_vm_type(struct fuzz_vm *f, const uint8_t *s, size_t n);

/* One guest access of len (1, 2, 4 or 8) bytes on a bus, as the vCPU loop
 * makes it (the vCPU is f->cpu). Returns bus_access()'s result; a read's
 * value is stored in *out when out is not NULL. */
int fuzz_vm_access(struct fuzz_vm *f, struct bus *b, uint64_t addr, unsigned len,
                   bool write, uint64_t val, uint64_t *out);

/* The port/MMIO device targets read their input as 8-byte operations:
 *   ctl  bit 0 write, bits 1-2 log2 of the size, bits 3-5 kind;
 *   arg  kind-specific; off (16 bits) offset into the device's span;
 *   val  (32 bits) value written / what kind-specific ops use.
 * Kind FUZZ_OP_IO is an access of the device's ports or MMIO, FUZZ_OP_REP
 * the same access 1 + arg % 16 times (a FIFO's worth; the IDE target, whose
 * sectors are 256 words, repeats 1 + arg times); the other
 * kinds are the target's business (fuzz_ops_run calls its `other` hook). */
enum { FUZZ_OP_IO = 0, FUZZ_OP_TYPE = 1, FUZZ_OP_POKE = 2, FUZZ_OP_REG = 3,
       FUZZ_OP_MODE = 4, FUZZ_OP_REP = 5 };
struct fuzz_op {
    uint8_t ctl, arg;
    uint16_t off;
    uint32_t val;
};
#define FUZZ_OP_BYTES 8

bool fuzz_op_next(struct fuzz_in *in, struct fuzz_op *op);
static inline bool fuzz_op_write(const struct fuzz_op *op) { return op->ctl & 1; }
static inline unsigned fuzz_op_len(const struct fuzz_op *op) { return 1u << ((op->ctl >> 1) & 3); }
static inline unsigned fuzz_op_kind(const struct fuzz_op *op) { return (op->ctl >> 3) & 7; }
/* How many accesses an I/O operation makes: 0 for other kinds. */
static inline unsigned fuzz_op_count(const struct fuzz_op *op)
{
    unsigned k = fuzz_op_kind(op);
    return k == FUZZ_OP_IO ? 1 : k == FUZZ_OP_REP ? 1u + op->arg % 16 : 0;
}

/* The ranges a target's FUZZ_OP_IO operations reach: off is taken modulo
 * the ranges' total length and mapped into them in order. */
struct fuzz_range {
    uint64_t base, len;
};

/* Run every operation: FUZZ_OP_IO accesses ranges r[0, nr) on bus b (sizes
 * above max_len are clamped to it), FUZZ_OP_TYPE types the low `arg % 5`
 * bytes of val, other kinds go to other(f, op, ctx) (NULL: ignored). Stops
 * early once the VM is stopping, as a vCPU would. */
void fuzz_ops_run(struct fuzz_vm *f, struct fuzz_in *in, struct bus *b,
                  const struct fuzz_range *r, unsigned nr, unsigned max_len,
                  void (*other)(struct fuzz_vm *f, const struct fuzz_op *op, void *ctx),
                  void *ctx);

/* Where off lands in r[0, nr) (off modulo their total length). */
uint64_t fuzz_range_addr(const struct fuzz_range *r, unsigned nr, uint64_t off);

/* The virtio targets' input: byte 0 = how many operations follow, then
 * the guest's RAM from GPA 0 (ram bytes at most). Runs the operations on
 * the virtio-mmio device in slot 0; FUZZ_OP_POKE writes the low `len` bytes
 * of val at (off * 4) % ram: the guest changing rings it handed over;
 * kinds other than IO, REP, TYPE and POKE go to other (NULL: ignored). */
#define FUZZ_VIRTIO_RAM (64u << 10)     /* small: rings and buffers cross its end */
void fuzz_virtio_run(struct fuzz_vm *f, const uint8_t *data, size_t size,
                     void (*other)(struct fuzz_vm *f, const struct fuzz_op *op, void *ctx),
                     void *ctx);

/* A scratch file of `size` bytes (a memfd, so nothing touches the disk),
 * named by its /proc/self/fd path in *path (64 bytes), filled with data
 * (repeated), or with a pattern that differs in every sector when data is
 * NULL. Returns the fd, or -1. */
int fuzz_scratch_file(char path[64], uint64_t size, const uint8_t *data, size_t n);

/* Give the first size bytes of a scratch file (view: a read-only shared
 * mapping of it) the pattern back, writing only when they differ. 0 or -1. */
int fuzz_scratch_restore(int fd, const void *view, uint64_t size);

#endif
