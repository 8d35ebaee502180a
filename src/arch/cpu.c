/* cpu.c - per-vCPU CPUID, MSRs and LAPIC wiring for kernel guests. CPUID is
 * what the host KVM supports, reshaped by cpuid_transform() (cpuid.c). */
#include "x86.h"
#include "cpuid.h"
#include "core/kvm.h"
#include "core/util.h"
#include "core/vcpu.h"
#include "core/vm.h"

#include <cpuid.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define CPUID_MAX_ENTRIES 256

/* What the host tells us about itself: its brand string and invariant TSC. */
static void host_cpu(struct cpuid_cfg *cfg)
{
    unsigned a, b, c, d, r[12] = { 0 };
    char s[CPUID_BRAND_LEN + 1] = "";
    if (__get_cpuid(0x80000000, &a, &b, &c, &d) && a >= 0x80000004) {
        for (unsigned i = 0; i < 3; i++)
            __get_cpuid(0x80000002 + i, &r[4 * i], &r[4 * i + 1], &r[4 * i + 2], &r[4 * i + 3]);
        memcpy(s, r, CPUID_BRAND_LEN);
    }
    cpuid_brand(cfg->brand, s);
    cfg->invariant_tsc = __get_cpuid(0x80000007, &a, &b, &c, &d) && (d & (1u << 8));
}

/* A KVM that cannot scale the TSC gives each new vCPU the VM's default rate,
 * the host's tsc_khz when KVM was loaded. If the host has refined its
 * calibration since (the lab's L1, ~2 s into its boot), a default more than
 * 250 ppm below the rate now is refused and leaves the vCPU's scaling ratio
 * at 0 (see x86_setup_cpuid), one above it puts the vCPU in "catch-up" mode,
 * which adjusts its TSC at every entry. 0 here means the host's rate now.
 * Kernels before 6.0 have no VM-wide rate (the ioctl fails): the per-vCPU
 * call in x86_setup_cpuid still repairs the ratio and decides whether the
 * guest gets the timer. */
void x86_setup_tsc_rate(struct vm *vm)
{
    /* Not gated on KVM_CAP_VM_TSC_CONTROL: KVM reports it only where it can
     * scale the TSC, and the VM-wide rate is needed exactly where it cannot. */
    (void)ioctl(vm->fd, KVM_SET_TSC_KHZ, 0);    /* a failure: x86_setup_cpuid decides */
}

int x86_setup_cpuid(struct vcpu *c)
{
    struct cpuid_cfg cfg = { .ncpus = (unsigned)c->vm->ncpus, .id = (unsigned)c->id };
    host_cpu(&cfg);
    cfg.tsc_deadline = kvm_host_cap(c->vm->kvm, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
    /* The host's rate now, per vCPU (why: x86_setup_tsc_rate), before the
     * TSC MSR is written (x86_setup_msrs) so that KVM computes the guest's TSC
     * offset with the right ratio. Not fatal: a KVM without it (kvm_pvm) keeps
     * its default, and the guest gets no TSC-deadline timer unless the host's
     * TSC is invariant (cpuid.c, leaf 1). */
    cfg.tsc_rate_set = ioctl(c->fd, KVM_SET_TSC_KHZ, 0) == 0;
    int khz = ioctl(c->fd, KVM_GET_TSC_KHZ, 0);     /* < 0: no timing leaf, not fatal */
    cfg.tsc_khz = khz > 0 ? (uint32_t)khz : 0;

    size_t sz = sizeof(struct kvm_cpuid2) + CPUID_MAX_ENTRIES * sizeof(struct kvm_cpuid_entry2);
    struct kvm_cpuid2 *cpuid = xcalloc(1, sz);
    /* leave room for the entries cpuid_transform() adds */
    int got = kvm_host_supported_cpuid(c->vm->kvm, cpuid->entries, CPUID_MAX_ENTRIES - 16);
    cpuid->nent = got > 0 ? (uint32_t)got : 0;
    if (got < 0) {
        errorf("%s: KVM_GET_SUPPORTED_CPUID: %s", c->vm->name, strerror(errno));
        free(cpuid);
        return -1;
    }
    int n = cpuid_transform(cpuid->entries, (int)cpuid->nent, CPUID_MAX_ENTRIES, &cfg);
    if (n < 0) {
        errorf("%s: CPUID: cannot describe %u vCPUs in %d entries", c->vm->name, cfg.ncpus,
               CPUID_MAX_ENTRIES);
        free(cpuid);
        return -1;
    }
    cpuid->nent = (uint32_t)n;
    int r = ioctl(c->fd, KVM_SET_CPUID2, cpuid);
    if (r < 0)
        errorf("%s: KVM_SET_CPUID2: %s", c->vm->name, strerror(errno));
    free(cpuid);
    return r < 0 ? -1 : 0;
}

int x86_setup_msrs(struct vcpu *c)
{
    static const uint32_t zero[] = {
        0x174, 0x175, 0x176,            /* SYSENTER_CS/ESP/EIP */
        0xC0000081, 0xC0000082, 0xC0000083, 0xC0000084, /* STAR LSTAR CSTAR FMASK */
        0xC0000102,                     /* KERNEL_GS_BASE */
        0x10,                           /* TSC */
    };
    size_t n = sizeof(zero) / sizeof(zero[0]) + 1;
    struct kvm_msrs *m = xcalloc(1, sizeof(*m) + n * sizeof(struct kvm_msr_entry));
    for (size_t i = 0; i < n - 1; i++)
        m->entries[i].index = zero[i];
    m->entries[n - 1].index = 0x1A0;    /* MISC_ENABLE: fast strings */
    m->entries[n - 1].data = 1;
    m->nmsrs = (uint32_t)n;
    int r = ioctl(c->fd, KVM_SET_MSRS, m);
    free(m);
    if (r != (int)n) {
        errorf("%s: KVM_SET_MSRS: set %d of %zu MSRs%s%s", c->vm->name, r, n,
               r < 0 ? ": " : "", r < 0 ? strerror(errno) : "");
        return -1;
    }
    return 0;
}

/* LVT LINT0 = ExtINT (the 8259 PIC), LINT1 = NMI, as on a PC. */
#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_MODE_EXTINT 0x7
#define APIC_MODE_NMI 0x4

static void set_lvt(struct kvm_lapic_state *l, int reg, uint32_t mode)
{
    uint32_t v;     /* regs is a byte array: copy, do not cast */
    memcpy(&v, &l->regs[reg], sizeof(v));
    v = (v & ~0x700u & ~0x10000u) | (mode << 8);    /* delivery mode, unmasked */
    memcpy(&l->regs[reg], &v, sizeof(v));
}

int x86_setup_lapic(struct vcpu *c)
{
    struct kvm_lapic_state l;
    if (ioctl(c->fd, KVM_GET_LAPIC, &l) < 0) {
        errorf("%s: KVM_GET_LAPIC: %s", c->vm->name, strerror(errno));
        return -1;
    }
    set_lvt(&l, APIC_LVT_LINT0, APIC_MODE_EXTINT);
    set_lvt(&l, APIC_LVT_LINT1, APIC_MODE_NMI);
    if (ioctl(c->fd, KVM_SET_LAPIC, &l) < 0) {
        errorf("%s: KVM_SET_LAPIC: %s", c->vm->name, strerror(errno));
        return -1;
    }
    return 0;
}
