/* cpuid.c - the guest's CPUID: KVM_GET_SUPPORTED_CPUID's table turned into one
 * coherent machine (one package of N cores, brand, timers). Pure: unit-tested. */
#include "cpuid.h"

#include <asm/kvm_para.h>
#include <string.h>

#define VENDOR_AMD_EBX   0x68747541     /* "Auth"enticAMD */
#define VENDOR_HYGON_EBX 0x6F677948     /* "Hygo"nGenuine: AMD's topology leaves */

#define LEAF1_ECX_TSC_DEADLINE (1u << 24)
#define LEAF1_ECX_HYPERVISOR   (1u << 31)
#define LEAF1_EDX_HTT          (1u << 28)
#define EXT1_ECX_CMP_LEGACY    (1u << 1)
#define EXT1_ECX_TOPOEXT       (1u << 22)
#define EXT7_EDX_INVTSC        (1u << 8)

#define TOPO_LEVEL_SMT  1               /* leaf 0xB/0x1F ECX[15:8] level types */
#define TOPO_LEVEL_CORE 2

struct table {
    struct kvm_cpuid_entry2 *e;
    int n, max;
};

static struct kvm_cpuid_entry2 *find(struct table *t, uint32_t fn, uint32_t idx)
{
    for (int i = 0; i < t->n; i++)
        if (t->e[i].function == fn && t->e[i].index == idx)
            return &t->e[i];
    return NULL;
}

/* The entry for (fn, idx), added zeroed if KVM did not list it; NULL when full. */
static struct kvm_cpuid_entry2 *get(struct table *t, uint32_t fn, uint32_t idx, uint32_t flags)
{
    struct kvm_cpuid_entry2 *e = find(t, fn, idx);
    if (e || t->n >= t->max)
        return e;
    e = &t->e[t->n++];
    memset(e, 0, sizeof(*e));
    e->function = fn;
    e->index = idx;
    e->flags = flags;
    return e;
}

static void drop(struct table *t, uint32_t fn)
{
    int j = 0;
    for (int i = 0; i < t->n; i++)
        if (t->e[i].function != fn)
            t->e[j++] = t->e[i];
    t->n = j;
}

static uint32_t max_leaf(struct table *t, uint32_t base)
{
    struct kvm_cpuid_entry2 *e = find(t, base, 0);
    return e ? e->eax : 0;
}

/* Bits needed for APIC ids 0..n-1: ids of one package share the upper bits. */
static unsigned id_bits(unsigned n)
{
    unsigned b = 0;
    while ((1u << b) < n)
        b++;
    return b;
}

/* Leaf 1: this vCPU's initial APIC id; the package's logical processor
 * count with HTT (without HTT every vCPU is a socket of its own); the
 * hypervisor bit (Linux then looks for kvm-clock at 0x40000000); the
 * TSC-deadline timer, which KVM emulates but cannot list as supported since
 * it needs the in-kernel LAPIC: with it Linux never calibrates the LAPIC
 * timer against the PM timer or PIT. Only when KVM's idea of the guest TSC
 * is sound: the vCPU's TSC rate set to the host's current one (cpu.c), or an
 * invariant host TSC. KVM turns a deadline into a host timer through its own
 * reading of the guest TSC, and a vCPU whose default rate KVM refused (it was
 * measured before the host refined its TSC calibration, below the refined
 * rate: L1 in the lab, about two sessions in three) keeps a scaling ratio of
 * 0, reads the guest TSC as a constant, and arms every deadline hours late:
 * CPU 0's timer never fired and boots hung at poweroff (linux-boot.md).
 * Without it Linux calibrates the LAPIC timer once (0.1 s of guest time). */
static void leaf1(struct table *t, const struct cpuid_cfg *c)
{
    struct kvm_cpuid_entry2 *e = find(t, 1, 0);
    if (!e)
        return;
    unsigned logical = 1u << id_bits(c->ncpus);
    e->ebx = (e->ebx & 0x0000FFFF) | (logical > 255 ? 255 : logical) << 16 | c->id << 24;
    e->ecx |= LEAF1_ECX_HYPERVISOR;
    if (c->tsc_deadline && (c->tsc_rate_set || c->invariant_tsc))
        e->ecx |= LEAF1_ECX_TSC_DEADLINE;
    else
        e->ecx &= ~LEAF1_ECX_TSC_DEADLINE;
    if (c->ncpus > 1)
        e->edx |= LEAF1_EDX_HTT;
    else
        e->edx &= ~LEAF1_EDX_HTT;
}

/* Cache topology (Intel leaf 4, AMD 0x8000001D) keeps the host's sizes and
 * ways; who shares a cache is ours: L1 and L2 per core (one thread per core),
 * L3 by the whole package. Leaf 4 EAX[31:26] = cores per package - 1. */
static void cache_leaves(struct table *t, uint32_t fn, const struct cpuid_cfg *c)
{
    unsigned pkg = 1u << id_bits(c->ncpus);
    for (int i = 0; i < t->n; i++) {
        struct kvm_cpuid_entry2 *e = &t->e[i];
        if (e->function != fn || (e->eax & 0x1F) == 0)     /* type 0: no more caches */
            continue;
        unsigned level = (e->eax >> 5) & 7;
        uint32_t sharing = level >= 3 ? pkg - 1 : 0;
        e->eax = (e->eax & 0x00003FFF) | (sharing & 0xFFF) << 14;
        if (fn == 4)
            e->eax |= ((pkg > 64 ? 64 : pkg) - 1) << 26;
    }
}

/* AMD 0x80000005 ECX (L1 data) / EDX (L1 instruction): size KiB [31:24], ways
 * [23:16], lines per tag [15:8], line size [7:0]. The lab's nested KVM lists
 * the leaf empty, so memtest86+ shows "L1 Cache: N/A": fill an empty one from
 * the cache's 0x8000001D subleaf, or else a typical 32 KiB, 8-way, 64-byte one. */
static uint32_t l1_desc(struct table *t, unsigned type)
{
    for (int i = 0; i < t->n; i++) {
        const struct kvm_cpuid_entry2 *e = &t->e[i];
        if (e->function != 0x8000001D || (e->eax & 0x1F) != type || ((e->eax >> 5) & 7) != 1)
            continue;
        uint32_t line = (e->ebx & 0xFFF) + 1, parts = ((e->ebx >> 12) & 0x3FF) + 1;
        uint32_t ways = (e->ebx >> 22) + 1, sets = e->ecx + 1;
        uint32_t kib = (uint32_t)((uint64_t)line * parts * ways * sets / 1024);
        if (kib && kib <= 255 && line <= 255)
            return kib << 24 | (ways > 254 ? 0xFF : ways) << 16 | parts << 8 | line;
    }
    return 32u << 24 | 8u << 16 | 1u << 8 | 64;
}

static void amd_l1_cache(struct table *t)
{
    struct kvm_cpuid_entry2 *e = find(t, 0x80000005, 0);
    if (!e)
        return;
    if (!(e->ecx >> 24))
        e->ecx = l1_desc(t, 1);
    if (!(e->edx >> 24))
        e->edx = l1_desc(t, 2);
}

/* Extended topology (0xB, and 0x1F which Linux prefers when present): an
 * SMT level of one thread per core, a core level of ncpus cores, then the
 * invalid level that ends the list. EDX is the x2APIC id everywhere. */
static int topology_leaf(struct table *t, uint32_t fn, const struct cpuid_cfg *c)
{
    drop(t, fn);
    for (uint32_t sub = 0; sub < 3; sub++) {
        struct kvm_cpuid_entry2 *e = get(t, fn, sub, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
        if (!e)
            return -1;
        e->eax = sub == 0 ? 0 : sub == 1 ? id_bits(c->ncpus) : 0;
        e->ebx = sub == 0 ? 1 : sub == 1 ? c->ncpus : 0;
        e->ecx = sub | (sub == 0 ? TOPO_LEVEL_SMT : sub == 1 ? TOPO_LEVEL_CORE : 0) << 8;
        e->edx = c->id;
    }
    return 0;
}

/* AMD: 0x80000008 ECX = NC (cores - 1) and the APIC id bits per package;
 * 0x8000001E (with TOPOEXT) = extended APIC id, core id, one thread per core,
 * one node; 0x80000001 CmpLegacy says HTT counts cores, not threads. */
static int amd_topology(struct table *t, const struct cpuid_cfg *c)
{
    struct kvm_cpuid_entry2 *e = find(t, 0x80000008, 0);
    if (e)
        e->ecx = (e->ecx & ~0xF0FFu) | id_bits(c->ncpus) << 12 | (c->ncpus - 1);
    e = find(t, 0x80000001, 0);
    if (e && c->ncpus > 1)
        e->ecx |= EXT1_ECX_CMP_LEGACY;
    else if (e)
        e->ecx &= ~EXT1_ECX_CMP_LEGACY;
    if (!e || !(e->ecx & EXT1_ECX_TOPOEXT))
        return 0;
    e = get(t, 0x8000001E, 0, 0);
    if (!e)
        return -1;
    e->eax = c->id;
    e->ebx = c->id & 0xFF;          /* core id; EBX[15:8] threads per core - 1 = 0 */
    e->ecx = 0;                     /* node 0, one node per package */
    e->edx = 0;
    struct kvm_cpuid_entry2 *top = find(t, 0x80000000, 0);
    if (top && top->eax < 0x8000001E)
        top->eax = 0x8000001E;
    return 0;
}

/* 0x80000002-4: 48 bytes of brand string, which KVM leaves empty (Linux then
 * prints "model name : 17/01"). */
static int brand(struct table *t, const struct cpuid_cfg *c)
{
    struct kvm_cpuid_entry2 *top = find(t, 0x80000000, 0);
    if (!top)
        return 0;
    for (uint32_t i = 0; i < 3; i++) {
        struct kvm_cpuid_entry2 *e = get(t, 0x80000002 + i, 0, 0);
        if (!e)
            return -1;
        memcpy(&e->eax, c->brand + 16 * i, 4);
        memcpy(&e->ebx, c->brand + 16 * i + 4, 4);
        memcpy(&e->ecx, c->brand + 16 * i + 8, 4);
        memcpy(&e->edx, c->brand + 16 * i + 12, 4);
    }
    if (top->eax < 0x80000004)       /* get() appends: top is still valid */
        top->eax = 0x80000004;
    return 0;
}

/* 0x80000007 EDX[8]: the TSC runs at a constant rate in every C/P state.
 * KVM lists it only when the host has it; we pass the host's answer on. */
static void invariant_tsc(struct table *t, const struct cpuid_cfg *c)
{
    struct kvm_cpuid_entry2 *e = find(t, 0x80000007, 0);
    if (!e)
        return;
    if (c->invariant_tsc)
        e->edx |= EXT7_EDX_INVTSC;
    else
        e->edx &= ~EXT7_EDX_INVTSC;
}

/* 0x40000010, the hypervisor timing leaf (VMware's, also QEMU's): TSC and
 * LAPIC bus frequency in kHz, so a guest need not measure them. KVM's LAPIC
 * timer counts at 1 GHz (one tick per ns). Only with a known TSC rate. */
static int timing_leaf(struct table *t, const struct cpuid_cfg *c)
{
    struct kvm_cpuid_entry2 *base = find(t, CPUID_HV_BASE, 0);
    if (!base || !c->tsc_khz)
        return 0;
    struct kvm_cpuid_entry2 *e = get(t, CPUID_HV_TIMING, 0, 0);
    if (!e)
        return -1;
    e->eax = c->tsc_khz;
    e->ebx = CPUID_LAPIC_BUS_KHZ;
    e->ecx = e->edx = 0;
    if (base->eax < CPUID_HV_TIMING)
        base->eax = CPUID_HV_TIMING;
    return 0;
}

/* 0x40000001, KVM's paravirtual features: every one KVM lists stays on, as
 * QEMU's -cpu host offers them. With more vCPUs than host CPUs (two vCPUs on
 * the lab's one L1 CPU) a vCPU often waits for one that is not running, and
 * these make the guest wait by halting or yielding instead of spinning out a
 * time slice: PV_UNHALT (pv spinlocks: a waiter halts and the unlocker kicks
 * it), STEAL_TIME (its "preempted" flag lets PV_TLB_FLUSH skip a descheduled
 * vCPU and PV_SCHED_YIELD hand it our slice), PV_SEND_IPI (one exit for a
 * multi-CPU IPI). EDX's KVM_HINTS_REALTIME stays clear: it promises vCPUs that
 * never lose their host CPU, and Linux then turns all of the above off and
 * polls in its idle loop (cpuidle-haltpoll), which on a shared CPU only takes
 * time from the other vCPU. */
static void pv_features(struct table *t)
{
    struct kvm_cpuid_entry2 *e = find(t, CPUID_HV_FEATURES, 0);
    if (e)
        e->edx &= ~(1u << KVM_HINTS_REALTIME);
}

int cpuid_transform(struct kvm_cpuid_entry2 *entries, int n, int max, const struct cpuid_cfg *c)
{
    struct table t = { entries, n, max };
    if (c->ncpus < 1 || c->ncpus > 255 || c->id >= c->ncpus || n < 0 || n > max)
        return -1;
    struct kvm_cpuid_entry2 *l0 = find(&t, 0, 0);
    bool amd = l0 && (l0->ebx == VENDOR_AMD_EBX || l0->ebx == VENDOR_HYGON_EBX);
    uint32_t basic = max_leaf(&t, 0);
    leaf1(&t, c);
    cache_leaves(&t, 4, c);
    cache_leaves(&t, 0x8000001D, c);
    if ((basic >= 0xB && topology_leaf(&t, 0xB, c)) ||
        (basic >= 0x1F && topology_leaf(&t, 0x1F, c)))
        return -1;
    if (amd && amd_topology(&t, c))
        return -1;
    if (amd)
        amd_l1_cache(&t);
    if (brand(&t, c) || timing_leaf(&t, c))
        return -1;
    invariant_tsc(&t, c);
    pv_features(&t);
    return t.n;
}

void cpuid_brand(char out[CPUID_BRAND_LEN], const char *host)
{
    memset(out, 0, CPUID_BRAND_LEN);
    while (host && *host == ' ')    /* Intel pads its brand on the left */
        host++;
    const char *s = host && *host ? host : CPUID_DEFAULT_BRAND;
    size_t n = strnlen(s, CPUID_BRAND_LEN - 1);
    memcpy(out, s, n);
}
