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

#define HC_MAX_WRITE 65535

const char *hc_name(unsigned func)
{
    static const char *const names[] = {
        "EXIT", "PUTCHAR", "GETCHAR", "EXIT_CODE", "WRITE", "READLINE", "VERSION", "NOP",
    };
    return func < sizeof(names) / sizeof(names[0]) ? names[func] : NULL;
}

/* Is the guest in long mode? Real-mode guests use 16-bit registers and DS. */
static bool long_mode(struct vcpu *c, uint64_t *ds_base)
{
    const struct kvm_sregs *s = vcpu_sregs(c);
    if (!s)
        return false;
    *ds_base = s->ds.base;
    return s->efer & (1u << 10);    /* EFER.LMA */
}

/* Guest buffer (seg:off in real mode, virtual in long mode) -> host pointer,
 * for [addr, addr+len). Long mode translates page by page and requires the
 * pages to be contiguous in guest-physical memory. */
static uint8_t *guest_buffer(struct vcpu *c, uint64_t reg, uint64_t len, bool lm,
                             uint64_t ds_base)
{
    if (!lm)
        return guest_ptr(&c->vm->mem, ds_base + (reg & 0xFFFF), len);
    uint64_t gpa;
    if (vcpu_translate(c, reg, &gpa))
        return NULL;
    for (uint64_t page = (reg & ~0xFFFULL) + 4096; page < reg + len; page += 4096) {
        uint64_t g;
        if (vcpu_translate(c, page, &g) || g != gpa + (page - reg))
            return NULL;
    }
    return guest_ptr(&c->vm->mem, gpa, len);
}

/* Stop the guest over a bad buffer argument, saying exactly what was bad. */
static enum io_result bad_buffer(struct vcpu *c, const char *what, const char *reg,
                                 uint64_t addr, uint64_t len, bool lm, uint64_t ds)
{
    char where[96];
    if (lm)
        snprintf(where, sizeof(where), "0x%llx", (unsigned long long)addr);
    else
        snprintf(where, sizeof(where), "ds:%s=%04llx:%04llx (linear 0x%llx)", reg,
                 (unsigned long long)(ds >> 4), (unsigned long long)(addr & 0xFFFF),
                 (unsigned long long)(ds + (addr & 0xFFFF)));
    if (len == 0 || len > HC_MAX_WRITE)
        errorf("%s: hypercall %s: length %llu at %s is not between 1 and %d", c->vm->name,
               what, (unsigned long long)len, where, HC_MAX_WRITE);
    else
        errorf("%s: hypercall %s: buffer of %llu bytes at %s is outside guest memory",
               c->vm->name, what, (unsigned long long)len, where);
    vm_stop(c->vm, VM_EXIT_FAULT);
    return IO_STOP;
}

static enum io_result hc_write(struct vcpu *c, struct kvm_regs *r)
{
    uint64_t ds = 0;
    bool lm = long_mode(c, &ds);
    uint64_t len = lm ? r->rcx : (r->rcx & 0xFFFF), addr = r->rsi;
    if (len > HC_MAX_WRITE)
        return bad_buffer(c, "WRITE", "si", addr, len, lm, ds);
    uint8_t *p = guest_buffer(c, addr, len, lm, ds);
    if (!p)
        return bad_buffer(c, "WRITE", "si", addr, len, lm, ds);
    console_write(c->vm->con, p, len);
    return IO_OK;
}

static enum io_result hc_readline(struct vcpu *c, struct kvm_regs *r)
{
    uint64_t ds = 0;
    bool lm = long_mode(c, &ds);
    uint64_t size = lm ? r->rcx : (r->rcx & 0xFFFF), addr = r->rdi;
    if (size == 0 || size > HC_MAX_WRITE)
        return bad_buffer(c, "READLINE", "di", addr, size, lm, ds);
    uint8_t *p = guest_buffer(c, addr, size, lm, ds);
    if (!p)
        return bad_buffer(c, "READLINE", "di", addr, size, lm, ds);
    uint64_t n = 0;
    int ch = console_getchar(c->vm->con);
    if (ch < 0) {
        r->rax = lm ? (uint64_t)-1 : (r->rax & ~0xFFFFULL) | 0xFFFF;
    } else {
        for (; ch >= 0 && ch != '\n'; ch = console_getchar(c->vm->con))
            if (n < size - 1)
                p[n++] = (uint8_t)ch;
        p[n] = 0;
        r->rax = lm ? n : (r->rax & ~0xFFFFULL) | n;
    }
    vcpu_regs_dirty(c);
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

static enum io_result hc_out(struct vcpu *c, unsigned func)
{
    struct kvm_regs *r = NULL;
    if (func != HC_EXIT && func != HC_GETCHAR && func != HC_NOP && hc_name(func)) {
        r = vcpu_regs(c);
        if (!r) {
            vm_stop(c->vm, VM_EXIT_FAULT);
            return IO_STOP;
        }
    }
    switch (func) {
    case HC_EXIT:
        vm_stop(c->vm, 0);
        return IO_STOP;
    case HC_EXIT_CODE:
        vm_stop(c->vm, (int)(r->rbx & 0xFF));
        return IO_STOP;
    case HC_PUTCHAR: {
        uint8_t ch = (uint8_t)r->rbx;
        console_write(c->vm->con, &ch, 1);
        return IO_OK;
    }
    case HC_GETCHAR:
    case HC_NOP:
        return IO_OK;
    case HC_WRITE:
        return hc_write(c, r);
    case HC_READLINE:
        return hc_readline(c, r);
    case HC_VERSION:
        r->rax = (r->rax & ~0xFFFFULL) | HC_ABI_VERSION;
        vcpu_regs_dirty(c);
        return IO_OK;
    default:
        return unknown(c, func);
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
    if (bus_register(&vm->pio, HC_PORT, 4, hc_io, NULL, "hypercall")) {
        errorf("%s: cannot register the hypercall port", vm->name);
        return -1;
    }
    return 0;
}
