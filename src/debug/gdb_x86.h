/* gdb_x86.h - x86 registers as gdb sees them: three layouts (16-bit real mode,
 * 32-bit, 64-bit), their target description XML, and g/p/P encoding. */
#ifndef MINI_KVM_GDB_X86_H
#define MINI_KVM_GDB_X86_H

#include <linux/kvm.h>
#include <stddef.h>
#include <stdint.h>

enum gdb_x86_layout { GDB_X86_I8086, GDB_X86_I386, GDB_X86_AMD64 };

/* The CPU state the registers come from. */
struct gdb_x86_state {
    struct kvm_regs regs;
    struct kvm_sregs sregs;
};

/* What a write changed: write back regs and/or sregs. */
#define GDB_X86_DIRTY_REGS  1
#define GDB_X86_DIRTY_SREGS 2

/* The layout for the CPU's current mode (EFER.LMA + CS.L: 64-bit; CR0.PE: 32-bit). */
enum gdb_x86_layout gdb_x86_layout_of(const struct kvm_sregs *s);

/* Write the target description document into buf; returns its length (0 if
 * it does not fit). */
size_t gdb_x86_xml(enum gdb_x86_layout l, char *buf, size_t cap);

/* Number of registers in the layout. */
int gdb_x86_nregs(enum gdb_x86_layout l);

/* One register into buf (target byte order): its size, or -1 for a bad number. */
int gdb_x86_read_reg(enum gdb_x86_layout l, const struct gdb_x86_state *st, int regno,
                     uint8_t *buf, size_t cap);
/* Set one register from len bytes (must be its size): DIRTY bits, or -1. */
int gdb_x86_write_reg(enum gdb_x86_layout l, struct gdb_x86_state *st, int regno,
                      const uint8_t *buf, size_t len);

/* All registers (the g packet): total size, or -1 if cap is too small. */
int gdb_x86_read_all(enum gdb_x86_layout l, const struct gdb_x86_state *st, uint8_t *buf,
                     size_t cap);
/* The G packet: len must be the total size. DIRTY bits, or -1. */
int gdb_x86_write_all(enum gdb_x86_layout l, struct gdb_x86_state *st, const uint8_t *buf,
                      size_t len);

/* The linear address of the next instruction (what gdb calls $pc). */
uint64_t gdb_x86_pc(const struct gdb_x86_state *st);

#endif
