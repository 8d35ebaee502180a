/* modes.c - putting a vCPU into real mode, 32-bit protected mode or 64-bit
 * long mode at entry, with the GDT (and for long mode the paging) firmware would build. */
#include "x86.h"
#include "core/util.h"
#include "core/vcpu.h"
#include "core/vm.h"

#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#define CR0_PE (1u << 0)
#define CR0_MP (1u << 1)
#define CR0_ET (1u << 4)
#define CR0_NE (1u << 5)
#define CR0_WP (1u << 16)
#define CR0_PG (1u << 31)
#define CR4_PAE (1u << 5)
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)

static int set_regs_sregs(struct vcpu *c, struct kvm_regs *r, struct kvm_sregs *s)
{
    if (ioctl(c->fd, KVM_SET_SREGS, s) < 0) {
        errorf("%s: KVM_SET_SREGS: %s", c->vm->name, strerror(errno));
        return -1;
    }
    if (ioctl(c->fd, KVM_SET_REGS, r) < 0) {
        errorf("%s: KVM_SET_REGS: %s", c->vm->name, strerror(errno));
        return -1;
    }
    return 0;
}

int x86_enter_real(struct vcpu *c, uint16_t seg, uint16_t ip, uint16_t sp, uint16_t dx)
{
    struct kvm_sregs s;
    if (vcpu_get_sregs(c, &s))
        return -1;
    struct kvm_segment *segs[] = { &s.cs, &s.ds, &s.es, &s.ss, &s.fs, &s.gs };
    for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
        segs[i]->selector = seg;
        segs[i]->base = (uint64_t)seg << 4;
    }
    /* No BIOS, so no interrupt table: a limit of 0 turns any exception
     * into a triple fault that mini-kvm reports, instead of a jump through
     * a zeroed vector to 0000:0000 that would spin forever. */
    s.idt.base = 0;
    s.idt.limit = 0;
    struct kvm_regs r = { .rip = ip, .rsp = sp, .rdx = dx, .rflags = 0x2 };
    return set_regs_sregs(c, &r, &s);
}

int x86_build_long_mode_tables(struct vm *vm)
{
    /* null, unused, 64-bit code (0x10), data (0x18) */
    const uint64_t gdt[4] = { 0, 0, 0x00AF9A000000FFFFULL, 0x00CF92000000FFFFULL };
    uint64_t *pml4 = guest_ptr(&vm->mem, X86_PML4_ADDR, 4096);
    uint64_t *pdpt = guest_ptr(&vm->mem, X86_PDPT_ADDR, 4096);
    uint64_t *pd = guest_ptr(&vm->mem, X86_PD_ADDR, 4 * 4096);
    if (!pml4 || !pdpt || !pd || guest_write(&vm->mem, X86_GDT_ADDR, gdt, sizeof(gdt))) {
        errorf("%s: guest RAM too small for long-mode page tables", vm->name);
        return -1;
    }
    memset(pml4, 0, 4096);
    memset(pdpt, 0, 4096);
    pml4[0] = X86_PDPT_ADDR | 0x3;              /* present, writable */
    for (uint64_t i = 0; i < 4; i++)
        pdpt[i] = (X86_PD_ADDR + i * 4096) | 0x3;
    for (uint64_t i = 0; i < 4 * 512; i++)
        pd[i] = (i << 21) | 0x83;               /* 2 MiB page: PS|RW|P */
    return 0;
}

/* code: 0 = data, 32 or 64 = code segment of that width. */
static void flat_segment(struct kvm_segment *s, uint16_t sel, int code)
{
    *s = (struct kvm_segment){
        .base = 0, .limit = 0xFFFFFFFF, .selector = sel,
        .type = code ? 0xB : 0x3,   /* execute/read accessed, read/write accessed */
        .present = 1, .dpl = 0, .db = code != 64, .s = 1, .l = code == 64, .g = 1,
    };
}

/* Flat code segment `cs` (of `bits`) and data segments DS=ES=FS=GS=SS from
 * the four-entry GDT at X86_GDT_ADDR. */
static void flat_segments(struct kvm_sregs *s, uint16_t cs, int bits)
{
    flat_segment(&s->cs, cs, bits);
    flat_segment(&s->ds, X86_DS, 0);
    s->es = s->fs = s->gs = s->ss = s->ds;
    s->gdt.base = X86_GDT_ADDR;
    s->gdt.limit = 4 * 8 - 1;
}

int x86_enter_long(struct vcpu *c, uint64_t rip, uint64_t rsp, uint64_t rsi, uint64_t rdi)
{
    struct kvm_sregs s;
    if (vcpu_get_sregs(c, &s))
        return -1;
    flat_segments(&s, X86_CS64, 64);
    s.cr3 = X86_PML4_ADDR;
    s.cr4 = CR4_PAE;
    s.cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_WP | CR0_PG;
    s.efer = EFER_LME | EFER_LMA;
    struct kvm_regs r = { .rip = rip, .rsp = rsp, .rsi = rsi, .rdi = rdi, .rflags = 0x2 };
    return set_regs_sregs(c, &r, &s);
}

/* The Multiboot entry state: protected mode, paging off, flat 4 GiB code
 * and data segments from a GDT in guest RAM (the kernel may reload its own).
 * KVM has no A20 gate, so A20 is always on. IDT limit 0: a fault before the
 * kernel loads its own IDT is a triple fault that mini-kvm reports. */
int x86_enter_prot32(struct vcpu *c, uint32_t eip, uint32_t esp, uint32_t eax, uint32_t ebx)
{
    /* null, unused, 32-bit code (0x10), data (0x18) */
    const uint64_t gdt[4] = { 0, 0, 0x00CF9A000000FFFFULL, 0x00CF92000000FFFFULL };
    if (guest_write(&c->vm->mem, X86_GDT_ADDR, gdt, sizeof(gdt))) {
        errorf("%s: guest RAM too small for a GDT", c->vm->name);
        return -1;
    }
    struct kvm_sregs s;
    if (vcpu_get_sregs(c, &s))
        return -1;
    flat_segments(&s, X86_CS32, 32);
    s.idt.base = 0;
    s.idt.limit = 0;
    s.cr0 = CR0_PE | CR0_ET;
    s.cr3 = s.cr4 = s.efer = 0;
    struct kvm_regs r = { .rip = eip, .rsp = esp, .rax = eax, .rbx = ebx, .rflags = 0x2 };
    return set_regs_sregs(c, &r, &s);
}
