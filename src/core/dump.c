/* dump.c - the register and segment dump printed when a guest dies (triple
 * fault, failed entry, emulation error): what a learner needs to debug. */
#include "util.h"
#include "vcpu.h"
#include "vm.h"

#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int seg(char *b, size_t n, const char *name, const struct kvm_segment *s)
{
    return snprintf(b, n, "  %-4s sel=%04x base=%016llx limit=%08x type=%x dpl=%u %s%s\n",
                    name, s->selector, (unsigned long long)s->base, s->limit,
                    s->type, s->dpl, s->present ? "P" : "-", s->l ? " L" : s->db ? " D" : "");
}

void vcpu_dump(struct vcpu *c, const char *reason)
{
    errorf("%s: %s", c->vm->name, reason);
    struct kvm_regs r;
    struct kvm_sregs s;
    if (ioctl(c->fd, KVM_GET_REGS, &r) < 0 || ioctl(c->fd, KVM_GET_SREGS, &s) < 0)
        return;     /* the reason line above is all we can give */
    char b[2048];
    size_t n = 0;
#define OUT(...) do { if (n < sizeof(b)) n += (size_t)snprintf(b + n, sizeof(b) - n, __VA_ARGS__); } while (0)
    OUT("  cpu%d registers:\n", c->id);
    OUT("  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n", r.rax, r.rbx, r.rcx, r.rdx);
    OUT("  rsi=%016llx rdi=%016llx rsp=%016llx rbp=%016llx\n", r.rsi, r.rdi, r.rsp, r.rbp);
    OUT("  r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx\n", r.r8, r.r9, r.r10, r.r11);
    OUT("  r12=%016llx r13=%016llx r14=%016llx r15=%016llx\n", r.r12, r.r13, r.r14, r.r15);
    OUT("  rip=%016llx rflags=%016llx\n", r.rip, r.rflags);
    const struct { const char *n; const struct kvm_segment *s; } segs[] = {
        { "cs", &s.cs }, { "ds", &s.ds }, { "es", &s.es }, { "ss", &s.ss },
        { "fs", &s.fs }, { "gs", &s.gs }, { "tr", &s.tr }, { "ldt", &s.ldt },
    };
    for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++)
        if (n < sizeof(b))
            n += (size_t)seg(b + n, sizeof(b) - n, segs[i].n, segs[i].s);
    OUT("  gdt base=%016llx limit=%04x  idt base=%016llx limit=%04x\n",
        s.gdt.base, s.gdt.limit, s.idt.base, s.idt.limit);
    OUT("  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx efer=%llx\n",
        s.cr0, s.cr2, s.cr3, s.cr4, s.efer);
#undef OUT
    if (n > sizeof(b))
        n = sizeof(b);
    ssize_t w = write(2, b, n);
    (void)w;
}
