/* kvmstate.c - save and restore through the KVM API: per vCPU the registers,
 * special registers, XSAVE (or FPU), XCRs, every MSR KVM lists, LAPIC, events,
 * MP state and debug registers; per VM the PIC, IOAPIC, PIT and KVM clock. */
#include "snapshot/kvmstate.h"
#include "snapshot/snapfile.h"
#include "core/kvm.h"
#include "core/util.h"
#include "core/vcpu.h"
#include "core/vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>

#define MAX_MSRS 1024

/* One piece of vCPU state: its section suffix, size and ioctl pair; `cap`
 * 0 or a KVM_CAP_ that must be present for it to be used. */
struct piece {
    const char *name;
    size_t size;
    unsigned long get, set;
    int cap;
};

/* Firecracker's restore order: MP state and registers first, the LAPIC
 * before the MSRs (TSC deadline), events last. MSRs are done apart. */
static const struct piece pieces[] = {
    { "mpstate", sizeof(struct kvm_mp_state), KVM_GET_MP_STATE, KVM_SET_MP_STATE, 0 },
    { "regs", sizeof(struct kvm_regs), KVM_GET_REGS, KVM_SET_REGS, 0 },
    { "sregs", sizeof(struct kvm_sregs), KVM_GET_SREGS, KVM_SET_SREGS, 0 },
    { "xsave", sizeof(struct kvm_xsave), KVM_GET_XSAVE, KVM_SET_XSAVE, KVM_CAP_XSAVE },
    { "fpu", sizeof(struct kvm_fpu), KVM_GET_FPU, KVM_SET_FPU, -KVM_CAP_XSAVE },
    { "xcrs", sizeof(struct kvm_xcrs), KVM_GET_XCRS, KVM_SET_XCRS, KVM_CAP_XCRS },
    { "debugregs", sizeof(struct kvm_debugregs), KVM_GET_DEBUGREGS, KVM_SET_DEBUGREGS,
      KVM_CAP_DEBUGREGS },
    { "lapic", sizeof(struct kvm_lapic_state), KVM_GET_LAPIC, KVM_SET_LAPIC, 0 },
};
#define NPIECES (sizeof(pieces) / sizeof(pieces[0]))
static const struct piece events = {
    "events", sizeof(struct kvm_vcpu_events), KVM_GET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS,
    KVM_CAP_VCPU_EVENTS,
};

static const char *ioctl_name(unsigned long req)
{
    static const struct { unsigned long r; const char *n; } names[] = {
        { KVM_GET_MP_STATE, "KVM_GET_MP_STATE" }, { KVM_SET_MP_STATE, "KVM_SET_MP_STATE" },
        { KVM_GET_REGS, "KVM_GET_REGS" }, { KVM_SET_REGS, "KVM_SET_REGS" },
        { KVM_GET_SREGS, "KVM_GET_SREGS" }, { KVM_SET_SREGS, "KVM_SET_SREGS" },
        { KVM_GET_XSAVE, "KVM_GET_XSAVE" }, { KVM_SET_XSAVE, "KVM_SET_XSAVE" },
        { KVM_GET_FPU, "KVM_GET_FPU" }, { KVM_SET_FPU, "KVM_SET_FPU" },
        { KVM_GET_XCRS, "KVM_GET_XCRS" }, { KVM_SET_XCRS, "KVM_SET_XCRS" },
        { KVM_GET_DEBUGREGS, "KVM_GET_DEBUGREGS" }, { KVM_SET_DEBUGREGS, "KVM_SET_DEBUGREGS" },
        { KVM_GET_LAPIC, "KVM_GET_LAPIC" }, { KVM_SET_LAPIC, "KVM_SET_LAPIC" },
        { KVM_GET_VCPU_EVENTS, "KVM_GET_VCPU_EVENTS" },
        { KVM_SET_VCPU_EVENTS, "KVM_SET_VCPU_EVENTS" },
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].r == req)
            return names[i].n;
    return "ioctl";
}

static bool used(const struct vm *vm, const struct piece *p)
{
    if (!p->cap)
        return true;
    bool have = kvm_host_cap(vm->kvm, p->cap > 0 ? p->cap : -p->cap) > 0;
    return p->cap > 0 ? have : !have;
}

static void cpu_name(char *out, int cpu, const char *what)
{
    snprintf(out, SNAP_NAME, "cpu%d.%s", cpu, what);
}

/* ---- MSRs: every index KVM_GET_MSR_INDEX_LIST reports ---- */

static struct kvm_msr_list *msr_list(struct vm *vm)
{
    struct kvm_msr_list *l = xcalloc(1, sizeof(*l) + MAX_MSRS * sizeof(uint32_t));
    l->nmsrs = MAX_MSRS;
    if (ioctl(vm->kvm->fd, KVM_GET_MSR_INDEX_LIST, l) < 0) {
        errorf("%s: KVM_GET_MSR_INDEX_LIST: %s", vm->name, strerror(errno));
        free(l);
        return NULL;
    }
    return l;
}

/* KVM_GET_MSRS stops at the first MSR it cannot read: those are left out
 * (a listed MSR may depend on features this guest's CPUID lacks). */
static int save_msrs(struct vcpu *c, const struct kvm_msr_list *l, struct snap_writer *w)
{
    struct kvm_msrs *m = xcalloc(1, sizeof(*m) + l->nmsrs * sizeof(struct kvm_msr_entry));
    uint32_t n = 0;
    for (uint32_t i = 0; i < l->nmsrs; i++)
        m->entries[n++].index = l->indices[i];
    uint32_t done = 0;
    while (done < n) {
        struct kvm_msrs *part = xcalloc(1, sizeof(*part) + (n - done) * sizeof(m->entries[0]));
        part->nmsrs = n - done;
        memcpy(part->entries, m->entries + done, (n - done) * sizeof(m->entries[0]));
        int r = ioctl(c->fd, KVM_GET_MSRS, part);
        if (r < 0) {
            errorf("%s: vCPU %d: KVM_GET_MSRS: %s", c->vm->name, c->id, strerror(errno));
            free(part);
            free(m);
            return -1;
        }
        memcpy(m->entries + done, part->entries, (size_t)r * sizeof(m->entries[0]));
        free(part);
        done += (uint32_t)r;
        if (done < n) {         /* drop the unreadable one */
            memmove(m->entries + done, m->entries + done + 1,
                    (n - done - 1) * sizeof(m->entries[0]));
            n--;
        }
    }
    m->nmsrs = n;
    char name[SNAP_NAME];
    cpu_name(name, c->id, "msrcount");
    snapw_add(w, name, &n, sizeof(n));
    cpu_name(name, c->id, "msrs");
    snapw_add(w, name, m, sizeof(*m) + n * sizeof(m->entries[0]));
    free(m);
    return 0;
}

static int restore_msrs(struct vcpu *c, const struct snap_reader *r)
{
    char name[SNAP_NAME];
    cpu_name(name, c->id, "msrcount");
    const uint32_t *count = snapr_get(r, name, sizeof(uint32_t));
    if (!count)
        return -1;
    if (*count > MAX_MSRS) {
        errorf("%s: %u MSRs in the snapshot (at most %d)", r->path, *count, MAX_MSRS);
        return -1;
    }
    cpu_name(name, c->id, "msrs");
    const struct kvm_msrs *m = snapr_get(r, name, sizeof(*m) + *count * sizeof(m->entries[0]));
    if (!m || m->nmsrs != *count) {
        if (m)
            errorf("%s: MSR count mismatch in the snapshot", r->path);
        return -1;
    }
    int done = ioctl(c->fd, KVM_SET_MSRS, m);
    if (done != (int)m->nmsrs) {
        errorf("%s: vCPU %d: KVM_SET_MSRS: %s (MSR 0x%x)", c->vm->name, c->id,
               done < 0 ? strerror(errno) : "refused", done < 0 ? 0 : m->entries[done].index);
        return -1;
    }
    return 0;
}

/* ---- vCPUs ---- */

static int save_cpu(struct vcpu *c, const struct kvm_msr_list *l, struct snap_writer *w)
{
    uint8_t buf[sizeof(struct kvm_xsave) + 4096];
    char name[SNAP_NAME];
    for (size_t i = 0; i <= NPIECES; i++) {
        const struct piece *p = i < NPIECES ? &pieces[i] : &events;
        if (!used(c->vm, p))
            continue;
        memset(buf, 0, p->size);
        if (ioctl(c->fd, p->get, buf) < 0) {
            errorf("%s: vCPU %d: %s: %s", c->vm->name, c->id, ioctl_name(p->get),
                   strerror(errno));
            return -1;
        }
        cpu_name(name, c->id, p->name);
        snapw_add(w, name, buf, p->size);
    }
    return save_msrs(c, l, w);
}

static int set_piece(struct vcpu *c, const struct snap_reader *r, const struct piece *p)
{
    char name[SNAP_NAME];
    cpu_name(name, c->id, p->name);
    const void *data = snapr_get(r, name, p->size);
    if (!data)
        return -1;
    uint8_t buf[sizeof(struct kvm_xsave) + 4096];
    memcpy(buf, data, p->size);         /* aligned, and KVM may write back */
    if (ioctl(c->fd, p->set, buf) < 0) {
        errorf("%s: vCPU %d: %s: %s", c->vm->name, c->id, ioctl_name(p->set), strerror(errno));
        return -1;
    }
    return 0;
}

static int restore_cpu(struct vcpu *c, const struct snap_reader *r)
{
    for (size_t i = 0; i < NPIECES; i++)
        if (used(c->vm, &pieces[i]) && set_piece(c, r, &pieces[i]))
            return -1;
    if (restore_msrs(c, r))
        return -1;
    return used(c->vm, &events) ? set_piece(c, r, &events) : 0;
}

/* ---- the VM: irqchip, PIT, clock ---- */

struct vm_clock {
    struct kvm_clock_data clock;
    int64_t realtime_ns;        /* host wall clock when it was read */
};

static int64_t realtime_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static int vm_ioctl(struct vm *vm, unsigned long req, void *arg, const char *name)
{
    if (ioctl(vm->fd, req, arg) < 0) {
        errorf("%s: %s: %s", vm->name, name, strerror(errno));
        return -1;
    }
    return 0;
}

static int save_vm(struct vm *vm, struct snap_writer *w)
{
    static const char *const chips[] = { "vm.pic0", "vm.pic1", "vm.ioapic" };
    for (uint32_t i = 0; i < 3; i++) {
        struct kvm_irqchip chip = { .chip_id = i };
        if (vm_ioctl(vm, KVM_GET_IRQCHIP, &chip, "KVM_GET_IRQCHIP"))
            return -1;
        snapw_add(w, chips[i], &chip, sizeof(chip));
    }
    struct kvm_pit_state2 pit;
    memset(&pit, 0, sizeof(pit));
    if (vm->kvm->pit) {
        if (vm_ioctl(vm, KVM_GET_PIT2, &pit, "KVM_GET_PIT2"))
            return -1;
        snapw_add(w, "vm.pit", &pit, sizeof(pit));
    }
    struct vm_clock c = { .realtime_ns = realtime_ns() };
    if (vm_ioctl(vm, KVM_GET_CLOCK, &c.clock, "KVM_GET_CLOCK"))
        return -1;
    snapw_add(w, "vm.clock", &c, sizeof(c));
    return 0;
}

/* The KVM clock moves on by the wall-clock time the snapshot spent on
 * disk, so a guest that reads it (Linux's kvm-clock) has the right date. */
static int restore_vm(struct vm *vm, const struct snap_reader *r)
{
    static const char *const chips[] = { "vm.pic0", "vm.pic1", "vm.ioapic" };
    for (uint32_t i = 0; i < 3; i++) {
        const struct kvm_irqchip *chip = snapr_get(r, chips[i], sizeof(*chip));
        if (!chip)
            return -1;
        struct kvm_irqchip c = *chip;
        if (c.chip_id != i) {
            errorf("%s: irqchip section '%s' holds chip %u", r->path, chips[i], c.chip_id);
            return -1;
        }
        if (vm_ioctl(vm, KVM_SET_IRQCHIP, &c, "KVM_SET_IRQCHIP"))
            return -1;
    }
    if (vm->kvm->pit) {
        const struct kvm_pit_state2 *pit = snapr_get(r, "vm.pit", sizeof(*pit));
        struct kvm_pit_state2 p;
        if (!pit)
            return -1;
        p = *pit;
        if (vm_ioctl(vm, KVM_SET_PIT2, &p, "KVM_SET_PIT2"))
            return -1;
    }
    const struct vm_clock *c = snapr_get(r, "vm.clock", sizeof(*c));
    if (!c)
        return -1;
    int64_t away = realtime_ns() - c->realtime_ns;
    struct kvm_clock_data d = { .clock = c->clock.clock + (uint64_t)(away > 0 ? away : 0) };
    return vm_ioctl(vm, KVM_SET_CLOCK, &d, "KVM_SET_CLOCK");
}

int kvmstate_save(struct vm *vm, struct snap_writer *w)
{
    struct kvm_msr_list *l = msr_list(vm);
    if (!l || save_vm(vm, w)) {
        free(l);
        return -1;
    }
    for (int i = 0; i < vm->ncpus; i++) {
        if (save_cpu(vm->cpus[i], l, w)) {
            free(l);
            return -1;
        }
    }
    free(l);
    return 0;
}

int kvmstate_restore(struct vm *vm, const struct snap_reader *r)
{
    if (restore_vm(vm, r))
        return -1;
    for (int i = 0; i < vm->ncpus; i++)
        if (restore_cpu(vm->cpus[i], r))
            return -1;
    /* the clock moved on by the time on disk: the watchdogs must know why */
    for (int i = 0; i < vm->ncpus; i++)
        vcpu_note_host_pause(vm->cpus[i]);
    return 0;
}

/* KVM_GET_SUPPORTED_CPUID reports the APIC ID of the host CPU the ioctl
 * ran on (leaf 1 EBX[31:24], leaves 0xB/0x1F EDX, 0x8000001E EAX): those
 * are not features and are left out, or two runs would differ. */
static void mask_apic_ids(struct kvm_cpuid_entry2 *e)
{
    if (e->function == 1)
        e->ebx &= 0x00FFFFFF;
    if (e->function == 0xB || e->function == 0x1F)
        e->edx = 0;
    if (e->function == 0x8000001E)
        e->eax = 0;
}

uint64_t kvmstate_cpuid_hash(struct vm *vm)
{
    struct kvm_cpuid_entry2 *all = xcalloc(KVM_HOST_CPUID_MAX, sizeof(*all));
    int n = kvm_host_supported_cpuid(vm->kvm, all, KVM_HOST_CPUID_MAX);
    uint64_t h = 0xcbf29ce484222325ULL;
    if (n > 0) {
        for (int i = 0; i < n; i++) {
            struct kvm_cpuid_entry2 e = all[i];
            mask_apic_ids(&e);
            const uint8_t *p = (const uint8_t *)&e;
            for (size_t k = 0; k < sizeof(e); k++)
                h = (h ^ p[k]) * 0x100000001b3ULL;
        }
    }
    free(all);
    return h;
}
