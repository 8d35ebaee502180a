/* gdb_x86.c - the x86 register tables behind g/p/P and the target description:
 * gdb's own core features plus a mini-kvm feature for bases, CRs and EFER. */
#include "gdb_x86.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* Where a register's value lives. */
enum src {
    S_GPR,      /* a u64 in kvm_regs at `off` */
    S_PC,       /* rip; outside 64-bit mode shown as CS.base + IP (linear) */
    S_FLAGS,    /* rflags */
    S_SEL,      /* a kvm_segment in kvm_sregs at `off`: its selector */
    S_BASE,     /* ... its base */
    S_SREG,     /* a u64 in kvm_sregs at `off` (CRs, EFER) */
    S_ZERO,     /* x87 state: shown as 0, writes ignored (not needed to debug a kernel) */
};

struct xreg {
    const char *name;
    unsigned char size;
    unsigned char src;
    unsigned short off;
    const char *type;
};

#define GPR(n, f, sz, t) { n, sz, S_GPR, offsetof(struct kvm_regs, f), t }
#define SEL(n, f) { n, 4, S_SEL, offsetof(struct kvm_sregs, f), "int32" }
#define BASE(n, f) { n, 8, S_BASE, offsetof(struct kvm_sregs, f), "uint64" }
#define SREG(n, f) { n, 8, S_SREG, offsetof(struct kvm_sregs, f), "uint64" }
#define ST(n) { n, 10, S_ZERO, 0, "i387_ext" }
#define FP(n) { n, 4, S_ZERO, 0, "int" }

#define SEGS SEL("cs", cs), SEL("ss", ss), SEL("ds", ds), SEL("es", es), SEL("fs", fs), \
             SEL("gs", gs)
#define X87 ST("st0"), ST("st1"), ST("st2"), ST("st3"), ST("st4"), ST("st5"), ST("st6"), \
            ST("st7"), FP("fctrl"), FP("fstat"), FP("ftag"), FP("fiseg"), FP("fioff"), \
            FP("foseg"), FP("fooff"), FP("fop")
/* The mini-kvm feature: what a kernel debugger needs beyond user registers. */
#define SYS BASE("fs_base", fs.base), BASE("gs_base", gs.base), BASE("cs_base", cs.base), \
            BASE("ss_base", ss.base), BASE("ds_base", ds.base), BASE("es_base", es.base), \
            SREG("cr0", cr0), SREG("cr2", cr2), SREG("cr3", cr3), SREG("cr4", cr4), \
            SREG("efer", efer)
#define NSYS 11

static const struct xreg regs32[] = {
    GPR("eax", rax, 4, "int32"), GPR("ecx", rcx, 4, "int32"), GPR("edx", rdx, 4, "int32"),
    GPR("ebx", rbx, 4, "int32"), GPR("esp", rsp, 4, "data_ptr"),
    GPR("ebp", rbp, 4, "data_ptr"), GPR("esi", rsi, 4, "int32"), GPR("edi", rdi, 4, "int32"),
    { "eip", 4, S_PC, 0, "code_ptr" }, { "eflags", 4, S_FLAGS, 0, "i386_eflags" },
    SEGS, X87, SYS,
};

static const struct xreg regs64[] = {
    GPR("rax", rax, 8, "int64"), GPR("rbx", rbx, 8, "int64"), GPR("rcx", rcx, 8, "int64"),
    GPR("rdx", rdx, 8, "int64"), GPR("rsi", rsi, 8, "int64"), GPR("rdi", rdi, 8, "int64"),
    GPR("rbp", rbp, 8, "data_ptr"), GPR("rsp", rsp, 8, "data_ptr"),
    GPR("r8", r8, 8, "int64"), GPR("r9", r9, 8, "int64"), GPR("r10", r10, 8, "int64"),
    GPR("r11", r11, 8, "int64"), GPR("r12", r12, 8, "int64"), GPR("r13", r13, 8, "int64"),
    GPR("r14", r14, 8, "int64"), GPR("r15", r15, 8, "int64"),
    { "rip", 8, S_PC, 0, "code_ptr" }, { "eflags", 4, S_FLAGS, 0, "i386_eflags" },
    SEGS, X87, SYS,
};

#define N32 (int)(sizeof(regs32) / sizeof(regs32[0]))
#define N64 (int)(sizeof(regs64) / sizeof(regs64[0]))

static const struct xreg *table(enum gdb_x86_layout l, int *n)
{
    *n = l == GDB_X86_AMD64 ? N64 : N32;
    return l == GDB_X86_AMD64 ? regs64 : regs32;
}

enum gdb_x86_layout gdb_x86_layout_of(const struct kvm_sregs *s)
{
    if ((s->efer & (1u << 10)) && s->cs.l)      /* EFER.LMA and a 64-bit code segment */
        return GDB_X86_AMD64;
    return (s->cr0 & 1) ? GDB_X86_I386 : GDB_X86_I8086;
}

int gdb_x86_nregs(enum gdb_x86_layout l)
{
    int n;
    table(l, &n);
    return n;
}

uint64_t gdb_x86_pc(const struct gdb_x86_state *st)
{
    if (gdb_x86_layout_of(&st->sregs) == GDB_X86_AMD64)
        return st->regs.rip;
    /* gdb knows no segments: give it the linear address, so that x/i $pc,
     * break *ADDR and the disassembly all mean the same byte. */
    return (st->sregs.cs.base + st->regs.rip) & 0xffffffffu;
}

size_t gdb_x86_xml(enum gdb_x86_layout l, char *buf, size_t cap)
{
    static const char *const arch[] = { "i8086", "i386", "i386:x86-64" };
    int n;
    const struct xreg *t = table(l, &n);
    size_t o = 0;
#define OUT(...) do { \
        int w_ = snprintf(buf + o, cap - o, __VA_ARGS__); \
        if (w_ < 0 || (size_t)w_ >= cap - o) return 0; \
        o += (size_t)w_; \
    } while (0)
    OUT("<?xml version=\"1.0\"?>\n<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
        "<target version=\"1.0\">\n<architecture>%s</architecture>\n%s"
        "<feature name=\"org.gnu.gdb.i386.core\">\n<flags id=\"i386_eflags\" size=\"4\">\n",
        arch[l], l == GDB_X86_I8086 ? "<osabi>none</osabi>\n" : "");
    static const char *const flags[] = { "CF", "", "PF", "", "AF", "", "ZF", "SF", "TF",
                                         "IF", "DF", "OF", "", "", "NT", "", "RF", "VM",
                                         "AC", "VIF", "VIP", "ID" };
    for (int i = 0; i < (int)(sizeof(flags) / sizeof(flags[0])); i++)
        if (flags[i][0] || i == 1)
            OUT("<field name=\"%s\" start=\"%d\" end=\"%d\"/>\n", flags[i], i, i);
    OUT("</flags>\n");
    for (int i = 0; i < n; i++) {
        if (i == n - NSYS)
            OUT("</feature>\n<feature name=\"org.mini-kvm.x86.system\">\n");
        OUT("<reg name=\"%s\" bitsize=\"%d\" type=\"%s\" regnum=\"%d\"%s/>\n", t[i].name,
            t[i].size * 8, t[i].type, i, i >= n - NSYS ? " group=\"system\"" : "");
    }
    OUT("</feature>\n</target>\n");
#undef OUT
    return o;
}

static uint64_t value_of(const struct xreg *r, const struct gdb_x86_state *st)
{
    const uint8_t *rp = (const uint8_t *)&st->regs, *sp = (const uint8_t *)&st->sregs;
    uint64_t v = 0;
    switch (r->src) {
    case S_GPR: memcpy(&v, rp + r->off, 8); break;
    case S_PC: v = gdb_x86_pc(st); break;
    case S_FLAGS: v = st->regs.rflags; break;
    case S_SEL: v = ((const struct kvm_segment *)(sp + r->off))->selector; break;
    case S_BASE: v = ((const struct kvm_segment *)(sp + r->off))->base; break;
    case S_SREG: memcpy(&v, sp + r->off, 8); break;
    default: break;
    }
    return v;
}

int gdb_x86_read_reg(enum gdb_x86_layout l, const struct gdb_x86_state *st, int regno,
                     uint8_t *buf, size_t cap)
{
    int n;
    const struct xreg *t = table(l, &n);
    if (regno < 0 || regno >= n || cap < t[regno].size)
        return -1;
    uint64_t v = value_of(&t[regno], st);
    memset(buf, 0, t[regno].size);
    memcpy(buf, &v, t[regno].size < 8 ? t[regno].size : 8);    /* x86 host: little-endian */
    return t[regno].size;
}

int gdb_x86_write_reg(enum gdb_x86_layout l, struct gdb_x86_state *st, int regno,
                      const uint8_t *buf, size_t len)
{
    int n;
    const struct xreg *t = table(l, &n);
    if (regno < 0 || regno >= n || len != t[regno].size)
        return -1;
    const struct xreg *r = &t[regno];
    uint8_t *rp = (uint8_t *)&st->regs, *sp = (uint8_t *)&st->sregs;
    uint64_t v = 0;
    memcpy(&v, buf, len < 8 ? len : 8);
    struct kvm_segment *seg = (struct kvm_segment *)(sp + r->off);
    switch (r->src) {
    case S_GPR:
        memcpy(rp + r->off, buf, len);  /* the low bytes; a 32-bit layout keeps the rest */
        return GDB_X86_DIRTY_REGS;
    case S_PC:
        st->regs.rip = l == GDB_X86_AMD64 ? v : (uint32_t)(v - st->sregs.cs.base);
        return GDB_X86_DIRTY_REGS;
    case S_FLAGS:
        st->regs.rflags = (uint32_t)v | 2;     /* bit 1 is always set */
        return GDB_X86_DIRTY_REGS;
    case S_SEL:
        seg->selector = (uint16_t)v;
        if (l == GDB_X86_I8086)
            seg->base = (uint64_t)(uint16_t)v << 4;    /* what a real-mode load does */
        return GDB_X86_DIRTY_SREGS;
    case S_BASE:
        seg->base = v;
        return GDB_X86_DIRTY_SREGS;
    case S_SREG:
        memcpy(sp + r->off, &v, 8);
        return GDB_X86_DIRTY_SREGS;
    default:
        return 0;
    }
}

int gdb_x86_read_all(enum gdb_x86_layout l, const struct gdb_x86_state *st, uint8_t *buf,
                     size_t cap)
{
    int n;
    table(l, &n);
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        int w = gdb_x86_read_reg(l, st, i, buf + o, cap - o);
        if (w < 0)
            return -1;
        o += (size_t)w;
    }
    return (int)o;
}

int gdb_x86_write_all(enum gdb_x86_layout l, struct gdb_x86_state *st, const uint8_t *buf,
                      size_t len)
{
    int n;
    const struct xreg *t = table(l, &n);
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += t[i].size;
    if (len != total)
        return -1;
    /* Segment bases are written after the selectors (a real-mode selector
     * write sets the base): G carries both, and the base in it wins. */
    struct gdb_x86_state in = *st;
    int dirty = 0;
    size_t o = 0;
    for (int i = 0; i < n; i++) {
        int d = gdb_x86_write_reg(l, &in, i, buf + o, t[i].size);
        if (d < 0)
            return -1;
        /* only what changed: G sends back everything gdb read */
        uint8_t old[16];
        if (gdb_x86_read_reg(l, st, i, old, sizeof(old)) >= 0 && memcmp(old, buf + o, t[i].size))
            dirty |= d;
        o += t[i].size;
    }
    *st = in;
    return dirty;
}
