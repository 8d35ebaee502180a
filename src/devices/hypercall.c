/* hypercall.c - port 0x500: `out 0x500, al` runs function AL with arguments
 * in the guest's registers. Buffers are translated and bounds-checked. */
#include "hypercall.h"
#include "core/bus.h"
#include "core/console.h"
#include "core/util.h"
#include "core/vcpu.h"
#include "core/vm.h"

#include <stdio.h>
#include <string.h>

#define HC_MAX_LEN 65535     /* WRITE length, READLINE size */

/* How a hypercall reads the guest's registers: 16-bit real mode (DS:SI,
 * CX), 32-bit protected mode (DS base + ESI, ECX) or 64-bit mode (RSI, RCX).
 * With paging on, buffer addresses are virtual and go through KVM_TRANSLATE. */
struct hc_mode {
    unsigned bits;      /* 16, 32 or 64 */
    uint64_t ds_base;
    bool paging;
};

static bool guest_mode(struct vcpu *c, struct hc_mode *m)
{
    const struct kvm_sregs *s = vcpu_sregs(c);
    if (!s)
        return false;
    bool lma = s->efer & (1u << 10), pe = s->cr0 & 1;
    *m = (struct hc_mode){ .bits = lma ? 64 : pe ? 32 : 16, .ds_base = lma ? 0 : s->ds.base,
                           .paging = s->cr0 & (1u << 31) };
    return true;
}

/* A register as wide as the guest's mode: CX, ECX or RCX. */
static uint64_t reg_width(const struct hc_mode *m, uint64_t v)
{
    return m->bits == 64 ? v : m->bits == 32 ? (uint32_t)v : (uint16_t)v;
}

/* Write a result to AX, EAX (zero-extended, as x86 does) or RAX. */
static void set_result(struct vcpu *c, struct kvm_regs *r, const struct hc_mode *m, uint64_t v)
{
    r->rax = m->bits == 16 ? (r->rax & ~0xFFFFULL) | (v & 0xFFFF) : reg_width(m, v);
    vcpu_regs_dirty(c);
}

/* x86-64 linear addresses are 48 bits, sign-extended. A buffer must be
 * canonical at both ends: KVM_TRANSLATE walks the page tables with bits
 * 63:48 ignored, so 0x8000000000000000 would alias address 0 where the
 * guest's own access would fault (test_hostile.py found it). */
static bool canonical(uint64_t a)
{
    return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* A guest buffer [off, off+len), len >= 1, of the mode's data segment as a
 * host pointer in *out; or NULL there and what is wrong with it in why.
 * Paged buffers must be contiguous in guest-physical memory; real-mode
 * buffers may not run past their 64 KiB segment. */
static void guest_buffer(struct vcpu *c, const struct hc_mode *m, uint64_t off, uint64_t len,
                         uint8_t **out, char *why, size_t n)
{
    uint64_t lin = m->ds_base + off, last = lin + len - 1;
    *out = NULL;
    if (m->bits == 16 && (off > 0xFFFF || len > 0x10000 - off)) {
        snprintf(why, n, "runs past the end of its 64 KiB segment");
        return;
    }
    if (m->bits == 32 && (off > 0xFFFFFFFFULL || len > (1ULL << 32) - off)) {
        snprintf(why, n, "runs past the 4 GiB end of its segment");
        return;
    }
    if (last < lin || (m->bits == 64 && (!canonical(lin) || !canonical(last) ||
                                         (lin ^ last) >> 63))) {
        snprintf(why, n, "has a non-canonical address (linear 0x%llx-0x%llx)",
                 (unsigned long long)lin, (unsigned long long)last);
        return;
    }
    uint64_t gpa = lin;
    if (m->paging) {
        if (vcpu_translate(c, lin, &gpa)) {
            snprintf(why, n, "is not mapped (page at linear 0x%llx not present)",
                     (unsigned long long)(lin & ~0xFFFULL));
            return;
        }
        for (uint64_t page = (lin & ~0xFFFULL) + 4096; page - lin < len; page += 4096) {
            uint64_t g;
            if (vcpu_translate(c, page, &g)) {
                snprintf(why, n, "is not mapped (page at linear 0x%llx not present)",
                         (unsigned long long)page);
                return;
            }
            if (g != gpa + (page - lin)) {
                snprintf(why, n, "is not contiguous in guest-physical memory (linear 0x%llx "
                         "maps to 0x%llx, not 0x%llx)", (unsigned long long)page,
                         (unsigned long long)g, (unsigned long long)(gpa + (page - lin)));
                return;
            }
        }
    }
    if (!(*out = guest_ptr(&c->vm->mem, gpa, len)))
        snprintf(why, n, "is outside guest memory (guest-physical 0x%llx-0x%llx)",
                 (unsigned long long)gpa, (unsigned long long)(gpa + len - 1));
}

/* Stop the guest over a bad buffer argument, saying exactly what was bad. */
static enum io_result bad_buffer(struct vcpu *c, const char *what, const char *reg,
                                 uint64_t off, uint64_t len, const struct hc_mode *m,
                                 const char *why)
{
    char where[96];
    if (m->bits == 16)
        snprintf(where, sizeof(where), "ds:%s=%04llx:%04llx (linear 0x%llx)", reg,
                 (unsigned long long)(m->ds_base >> 4), (unsigned long long)off,
                 (unsigned long long)(m->ds_base + off));
    else
        snprintf(where, sizeof(where), "%s%s=0x%llx", m->bits == 32 ? "e" : "r", reg,
                 (unsigned long long)off);
    errorf("%s: hypercall %s: buffer of %llu bytes at %s %s", c->vm->name, what,
           (unsigned long long)len, where, why);
    vm_stop(c->vm, VM_EXIT_FAULT);
    return IO_STOP;
}

/* The buffer of WRITE or READLINE. Length 0 is allowed for both and
 * touches nothing (docs/hypercalls.md); more than HC_MAX_LEN is refused. */
static enum io_result buffer_arg(struct vcpu *c, const struct hc_mode *m, const char *what,
                                 const char *reg, uint64_t off, uint64_t len, uint8_t **p)
{
    char why[160];
    *p = NULL;
    if (len == 0)
        return IO_OK;
    if (len > HC_MAX_LEN) {
        snprintf(why, sizeof(why), "is longer than %d bytes", HC_MAX_LEN);
        return bad_buffer(c, what, reg, off, len, m, why);
    }
    guest_buffer(c, m, off, len, p, why, sizeof(why));
    return *p ? IO_OK : bad_buffer(c, what, reg, off, len, m, why);
}

static enum io_result hc_write(struct vcpu *c, struct kvm_regs *r, const struct hc_mode *m)
{
    uint64_t len = reg_width(m, r->rcx), off = reg_width(m, r->rsi);
    uint8_t *p;
    if (buffer_arg(c, m, "WRITE", "si", off, len, &p) == IO_STOP)
        return IO_STOP;
    if (len)
        console_write(c->vm->con, p, len);
    return IO_OK;
}

/* Size 0: no room even for the NUL, so no input is read; the result is 0. */
static enum io_result hc_readline(struct vcpu *c, struct kvm_regs *r, const struct hc_mode *m)
{
    uint64_t size = reg_width(m, r->rcx), off = reg_width(m, r->rdi);
    uint8_t *p;
    if (buffer_arg(c, m, "READLINE", "di", off, size, &p) == IO_STOP)
        return IO_STOP;
    if (size == 0) {
        set_result(c, r, m, 0);
        return IO_OK;
    }
    int ch = console_getchar(c->vm->con);
    if (ch < 0) {
        set_result(c, r, m, (uint64_t)-1);      /* end of input */
        return IO_OK;
    }
    uint64_t n = 0;
    for (; ch >= 0 && ch != '\n'; ch = console_getchar(c->vm->con))
        if (n < size - 1)
            p[n++] = (uint8_t)ch;
    p[n] = 0;
    set_result(c, r, m, n);
    return IO_OK;
}

static enum io_result unknown(struct vcpu *c, unsigned func)
{
    struct kvm_regs *r = vcpu_regs(c);
    errorf("%s: unknown hypercall 0x%02x at rip=0x%llx", c->vm->name, func,
           r ? (unsigned long long)r->rip : 0ULL);
    vm_stop(c->vm, VM_EXIT_FAULT);
    return IO_STOP;
}

/* The functions that read or write registers; EXIT, GETCHAR and NOP need
 * none, so they cost a single exit and no ioctl. */
static enum io_result hc_with_regs(struct vcpu *c, unsigned func)
{
    struct kvm_regs *r = vcpu_regs(c);
    struct hc_mode m;
    bool need_mode = func == MKVM_HC_WRITE || func == MKVM_HC_READLINE || func == MKVM_HC_VERSION;
    if (!r || (need_mode && !guest_mode(c, &m))) {
        vm_stop(c->vm, VM_EXIT_FAULT);
        return IO_STOP;
    }
    switch (func) {
    case MKVM_HC_EXIT_CODE:
        vm_stop(c->vm, (int)(r->rbx & 0xFF));
        return IO_STOP;
    case MKVM_HC_PUTCHAR: {
        uint8_t ch = (uint8_t)r->rbx;
        console_write(c->vm->con, &ch, 1);
        return IO_OK;
    }
    case MKVM_HC_WRITE:
        return hc_write(c, r, &m);
    case MKVM_HC_READLINE:
        return hc_readline(c, r, &m);
    case MKVM_HC_VERSION:
        set_result(c, r, &m, MKVM_HC_ABI_VERSION);
        return IO_OK;
    default:
        return unknown(c, func);
    }
}

static enum io_result hc_out(struct vcpu *c, unsigned func)
{
    switch (func) {
    case MKVM_HC_EXIT:
        vm_stop(c->vm, 0);
        return IO_STOP;
    case MKVM_HC_GETCHAR:
    case MKVM_HC_NOP:
        return IO_OK;
    default:
        return hc_with_regs(c, func);
    }
}

static enum io_result hc_io(void *dev, struct io_req *req)
{
    (void)dev;
    if (req->off != 0) {            /* 0x501-0x503: reserved, reads as ones */
        if (!req->write)
            memset(req->data, 0xFF, req->len);
        return IO_OK;
    }
    if (req->write)
        return hc_out(req->cpu, req->data[0]);
    int ch = console_getchar(req->cpu->vm->con);
    memset(req->data, 0, req->len);
    req->data[0] = ch < 0 ? 0xFF : (uint8_t)ch;
    return IO_OK;
}

int hypercall_create(struct vm *vm)
{
    if (bus_register(&vm->pio, MKVM_HC_PORT, 4, hc_io, NULL, "hypercall")) {
        errorf("%s: cannot register the hypercall port", vm->name);
        return -1;
    }
    return 0;
}
