/* test_cpuid.c - unit tests for cpuid_transform(): each choice it makes on a
 * supported-CPUID table (topology, brand, timers, caches) read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "arch/cpuid.h"

#include <asm/kvm_para.h>

#define MAX 64

struct tbl {
    struct kvm_cpuid_entry2 e[MAX];
    int n;
};

static void add(struct tbl *t, uint32_t fn, uint32_t idx, uint32_t a, uint32_t b, uint32_t c,
                uint32_t d)
{
    t->e[t->n++] = (struct kvm_cpuid_entry2){ .function = fn, .index = idx, .eax = a,
                                              .ebx = b, .ecx = c, .edx = d };
}

static const struct kvm_cpuid_entry2 *get(const struct tbl *t, uint32_t fn, uint32_t idx)
{
    for (int i = 0; i < t->n; i++)
        if (t->e[i].function == fn && t->e[i].index == idx)
            return &t->e[i];
    return NULL;
}

static const struct kvm_cpuid_entry2 *must(const struct tbl *t, uint32_t fn, uint32_t idx)
{
    const struct kvm_cpuid_entry2 *e = get(t, fn, idx);
    assert_non_null(e);
    return e;
}

static int count(const struct tbl *t, uint32_t fn)
{
    int k = 0;
    for (int i = 0; i < t->n; i++)
        k += t->e[i].function == fn;
    return k;
}

/* What an AMD host's KVM lists: leaf 0xB with a host topology of 2 threads x
 * 8 cores, TOPOEXT, cache leaves 0x8000001D, empty brand, no timing leaf. */
static void amd_table(struct tbl *t)
{
    memset(t, 0, sizeof(*t));
    add(t, 0, 0, 0x10, 0x68747541, 0x444D4163, 0x69746E65);    /* AuthenticAMD */
    add(t, 1, 0, 0x00830F10, 0x00100800 | 7u << 24, 0x7ED8320B, 0x178BFBFF | 1u << 28);
    add(t, 0xB, 0, 1, 2, 0x100, 3);                 /* the host's: 2 threads */
    add(t, 0xB, 1, 4, 16, 0x201, 3);
    add(t, 0xB, 2, 0, 0, 2, 3);
    add(t, 0x40000000, 0, 0x40000001, 0x4B4D564B, 0x564B4D56, 0x4D);
    add(t, 0x40000001, 0, 0x01007AFB, 0, 0, 0);
    add(t, 0x80000000, 0, 0x8000001F, 0x68747541, 0x444D4163, 0x69746E65);
    add(t, 0x80000001, 0, 0x00830F10, 0, 0x75C237FF | 1u << 22, 0x2FD3FBFF);
    add(t, 0x80000002, 0, 0, 0, 0, 0);
    add(t, 0x80000005, 0, 0xFF40FF40, 0xFF40FF40, 0x20080140, 0x20080140);
    add(t, 0x80000006, 0, 0x48006400, 0x68006400, 0x02006140, 0x01009140);
    add(t, 0x80000007, 0, 0, 0, 0, 0);
    add(t, 0x80000008, 0, 0x3030, 0, 0x0000700F | 1u << 16, 0);
    add(t, 0x8000001D, 0, 0x00004121, 0x01C0003F, 0x3F, 0);      /* L1d, 2 sharing */
    add(t, 0x8000001D, 1, 0x00004143, 0x01C0003F, 0x3FF, 2);     /* L2 */
    add(t, 0x8000001D, 2, 0x0003C163, 0x03C0003F, 0x3FFF, 1);    /* L3, 16 sharing */
    add(t, 0x8000001D, 3, 0, 0, 0, 0);
    add(t, 0x8000001E, 0, 0x99, 0x105, 0x3, 0);
}

/* An Intel host's: leaf 4 caches, leaves 0xB and 0x1F, no 0x8000001E. */
static void intel_table(struct tbl *t)
{
    memset(t, 0, sizeof(*t));
    add(t, 0, 0, 0x1F, 0x756E6547, 0x6C65746E, 0x49656E69);    /* GenuineIntel */
    add(t, 1, 0, 0x000906EA, 0x00100800, 0x7FFAFBFF, 0xBFEBFBFF);
    add(t, 4, 0, 0x1C004121, 0x01C0003F, 0x3F, 0);             /* L1d */
    add(t, 4, 1, 0x1C004143, 0x03C0003F, 0x3FF, 0);            /* L2 */
    add(t, 4, 2, 0x1C03C163, 0x03C0003F, 0x2FFF, 6);           /* L3 */
    add(t, 4, 3, 0, 0, 0, 0);
    add(t, 0xB, 0, 1, 2, 0x100, 0);
    add(t, 0x1F, 0, 1, 2, 0x100, 0);
    add(t, 0x40000000, 0, 0x40000001, 0x4B4D564B, 0x564B4D56, 0x4D);
    add(t, 0x80000000, 0, 0x80000008, 0, 0, 0);
    add(t, 0x80000001, 0, 0, 0, 0x121, 0x2C100800);
    add(t, 0x80000007, 0, 0, 0, 0, 0x100);
    add(t, 0x80000008, 0, 0x3027, 0, 0, 0);
}

static struct cpuid_cfg cfg(unsigned ncpus, unsigned id)
{
    struct cpuid_cfg c = { .ncpus = ncpus, .id = id, .tsc_khz = 2495000,
                           .tsc_deadline = true, .invariant_tsc = true };
    cpuid_brand(c.brand, NULL);
    return c;
}

static void transform(struct tbl *t, const struct cpuid_cfg *c)
{
    int n = cpuid_transform(t->e, t->n, MAX, c);
    assert_true(n >= t->n - 3);
    t->n = n;
}

/* Leaf 1: APIC id, logical count (a power of two covering the ids), HTT only
 * with more than one vCPU, hypervisor bit, TSC deadline (only with an
 * invariant host TSC); other bits kept. */
static void test_leaf1_package_and_flags(void **state)
{
    (void)state;
    struct tbl t;
    amd_table(&t);
    struct cpuid_cfg c = cfg(3, 2);
    transform(&t, &c);
    const struct kvm_cpuid_entry2 *e = must(&t, 1, 0);
    assert_int_equal(e->ebx >> 24, 2);
    assert_int_equal((e->ebx >> 16) & 0xFF, 4);
    assert_int_equal(e->ebx & 0xFFFF, 0x0800);          /* CLFLUSH line size kept */
    assert_true(e->edx & 1u << 28);
    assert_true(e->ecx & 1u << 31);
    assert_true(e->ecx & 1u << 24);
    assert_int_equal(e->ecx & ~(1u << 31 | 1u << 24), 0x7ED8320B & ~(1u << 24));

    amd_table(&t);
    c = cfg(1, 0);
    c.tsc_deadline = false;
    transform(&t, &c);
    e = must(&t, 1, 0);
    assert_int_equal(e->ebx >> 16, 1);                  /* id 0, one logical CPU */
    assert_false(e->edx & 1u << 28);
    assert_false(e->ecx & 1u << 24);

    amd_table(&t);                  /* KVM has it, the host's TSC is not invariant */
    c = cfg(2, 0);
    c.invariant_tsc = false;
    transform(&t, &c);
    assert_false(must(&t, 1, 0)->ecx & 1u << 24);

    amd_table(&t);                  /* ... but the vCPU's TSC rate is the host's now */
    c.tsc_rate_set = true;
    transform(&t, &c);
    assert_true(must(&t, 1, 0)->ecx & 1u << 24);
}

/* 0xB: exactly SMT (1 thread), core (ncpus, shift = id bits), end; the host's
 * subleaves are gone; EDX = x2APIC id. 0x1F the same when the host has it. */
static void test_extended_topology_one_package(void **state)
{
    (void)state;
    struct tbl t;
    intel_table(&t);
    struct cpuid_cfg c = cfg(6, 5);
    transform(&t, &c);
    for (uint32_t fn = 0xB; fn <= 0x1F; fn += 0x1F - 0xB) {
        assert_int_equal(count(&t, fn), 3);
        const struct kvm_cpuid_entry2 *s0 = must(&t, fn, 0), *s1 = must(&t, fn, 1),
                                      *s2 = must(&t, fn, 2);
        assert_int_equal(s0->eax, 0);
        assert_int_equal(s0->ebx, 1);
        assert_int_equal(s0->ecx, 0x100);
        assert_int_equal(s1->eax, 3);                   /* 6 ids need 3 bits */
        assert_int_equal(s1->ebx, 6);
        assert_int_equal(s1->ecx, 0x201);
        assert_int_equal(s2->ebx, 0);
        assert_int_equal(s2->ecx, 2);                   /* level type 0: invalid */
        for (uint32_t i = 0; i < 3; i++) {
            assert_int_equal(must(&t, fn, i)->edx, 5);
            assert_true(must(&t, fn, i)->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
        }
    }
    amd_table(&t);                                  /* max basic leaf 0x10: no 0x1F */
    transform(&t, &c);
    assert_int_equal(count(&t, 0x1F), 0);
    assert_int_equal(must(&t, 0xB, 1)->ebx, 6);
}

/* Leaf 4: host sizes kept; L1/L2 per core, L3 shared by the package;
 * EAX[31:26] = cores per package - 1. */
static void test_intel_cache_leaves(void **state)
{
    (void)state;
    struct tbl t;
    intel_table(&t);
    struct cpuid_cfg c = cfg(2, 1);
    transform(&t, &c);
    const struct kvm_cpuid_entry2 *l1 = must(&t, 4, 0), *l2 = must(&t, 4, 1),
                                  *l3 = must(&t, 4, 2), *end = must(&t, 4, 3);
    assert_int_equal(l1->eax, 0x04000121);          /* cores-1 = 1, sharing 0 */
    assert_int_equal(l2->eax, 0x04000143);
    assert_int_equal(l3->eax, 0x04004163);          /* sharing 2-1 = 1 */
    assert_int_equal(l1->ebx, 0x01C0003F);
    assert_int_equal(l3->ecx, 0x2FFF);
    assert_int_equal(end->eax, 0);
}

/* AMD: 0x80000008 NC and APIC id size, 0x8000001E core/thread/node,
 * CmpLegacy, 0x8000001D sharing; the host's other bits kept. */
static void test_amd_topology_leaves(void **state)
{
    (void)state;
    struct tbl t;
    amd_table(&t);
    struct cpuid_cfg c = cfg(2, 1);
    transform(&t, &c);
    const struct kvm_cpuid_entry2 *e = must(&t, 0x80000008, 0);
    assert_int_equal(e->ecx, 1u << 16 | 1u << 12 | 1);
    e = must(&t, 0x8000001E, 0);
    assert_int_equal(e->eax, 1);
    assert_int_equal(e->ebx, 1);                    /* core 1, one thread per core */
    assert_int_equal(e->ecx, 0);                    /* node 0 of 1 */
    assert_true(must(&t, 0x80000001, 0)->ecx & 1u << 1);
    assert_int_equal(must(&t, 0x8000001D, 0)->eax, 0x121);
    assert_int_equal(must(&t, 0x8000001D, 1)->eax, 0x143);
    assert_int_equal(must(&t, 0x8000001D, 2)->eax, 0x4163);
    assert_int_equal(must(&t, 0x8000001D, 2)->ecx, 0x3FFF);
    assert_int_equal(must(&t, 0x80000005, 0)->ecx, 0x20080140);    /* L1 as the host */

    amd_table(&t);
    c = cfg(1, 0);
    transform(&t, &c);
    assert_false(must(&t, 0x80000001, 0)->ecx & 1u << 1);
    assert_int_equal(must(&t, 0x80000008, 0)->ecx, 1u << 16);
}

/* TOPOEXT without a 0x8000001E entry: the entry is added, and the maximum
 * extended leaf raised to cover it. An Intel table never gets one. */
static void test_topoext_entry_added(void **state)
{
    (void)state;
    struct tbl t;
    amd_table(&t);
    for (int i = 0; i < t.n; i++)
        if (t.e[i].function == 0x8000001E)
            t.e[i] = t.e[--t.n];
    for (int i = 0; i < t.n; i++)
        if (t.e[i].function == 0x80000000)
            t.e[i].eax = 0x80000008;
    struct cpuid_cfg c = cfg(4, 3);
    transform(&t, &c);
    assert_int_equal(must(&t, 0x8000001E, 0)->eax, 3);
    assert_int_equal(must(&t, 0x80000000, 0)->eax, 0x8000001E);
    intel_table(&t);
    transform(&t, &c);
    assert_null(get(&t, 0x8000001E, 0));
}

static void read_brand(const struct tbl *t, char out[49])
{
    for (uint32_t i = 0; i < 3; i++) {
        const struct kvm_cpuid_entry2 *e = must(t, 0x80000002 + i, 0);
        memcpy(out + 16 * i, &e->eax, 4);
        memcpy(out + 16 * i + 4, &e->ebx, 4);
        memcpy(out + 16 * i + 8, &e->ecx, 4);
        memcpy(out + 16 * i + 12, &e->edx, 4);
    }
    out[48] = 0;
}

/* 0x80000002-4 hold the brand (entries added when KVM listed none). */
static void test_brand_string(void **state)
{
    (void)state;
    struct tbl t;
    char b[49];
    intel_table(&t);                                /* no 0x80000002-4 at all */
    struct cpuid_cfg c = cfg(1, 0);
    cpuid_brand(c.brand, "      Intel(R) Xeon(R) CPU @ 2.20GHz");
    transform(&t, &c);
    read_brand(&t, b);
    assert_string_equal(b, "Intel(R) Xeon(R) CPU @ 2.20GHz");
    amd_table(&t);
    c = cfg(1, 0);
    transform(&t, &c);
    read_brand(&t, b);
    assert_string_equal(b, "mini-kvm virtual CPU");
    assert_int_equal(count(&t, 0x80000003), 1);
}

static void test_brand_helper(void **state)
{
    (void)state;
    char b[CPUID_BRAND_LEN];
    cpuid_brand(b, "");
    assert_string_equal(b, CPUID_DEFAULT_BRAND);
    cpuid_brand(b, "   ");
    assert_string_equal(b, CPUID_DEFAULT_BRAND);
    char longname[80];
    memset(longname, 'x', sizeof(longname) - 1);
    longname[79] = 0;
    cpuid_brand(b, longname);
    assert_int_equal(strlen(b), CPUID_BRAND_LEN - 1);    /* the guest sees a terminated string */
}

/* 0x40000010 = TSC kHz and the LAPIC timer's 1 GHz, 0x40000000 raised to it;
 * no leaf without a known TSC rate. */
static void test_timing_leaf(void **state)
{
    (void)state;
    struct tbl t;
    amd_table(&t);
    struct cpuid_cfg c = cfg(1, 0);
    transform(&t, &c);
    const struct kvm_cpuid_entry2 *e = must(&t, 0x40000010, 0);
    assert_int_equal(e->eax, 2495000);
    assert_int_equal(e->ebx, 1000000);
    assert_int_equal(must(&t, 0x40000000, 0)->eax, 0x40000010);
    assert_int_equal(must(&t, 0x40000000, 0)->ebx, 0x4B4D564B);    /* KVMKVMKVM kept */
    amd_table(&t);
    c.tsc_khz = 0;
    transform(&t, &c);
    assert_null(get(&t, 0x40000010, 0));
    assert_int_equal(must(&t, 0x40000000, 0)->eax, 0x40000001);
}

/* 0x40000001: the PV features KVM lists pass through unchanged (pv
 * spinlocks, steal time, PV TLB flush/IPIs/sched yield, the stable kvm-clock),
 * and the "vCPUs are never preempted" hint is cleared when a table has it. */
static void test_pv_features(void **state)
{
    (void)state;
    struct tbl t;
    amd_table(&t);
    const uint32_t want = 1u << KVM_FEATURE_PV_UNHALT | 1u << KVM_FEATURE_STEAL_TIME |
                          1u << KVM_FEATURE_PV_TLB_FLUSH | 1u << KVM_FEATURE_PV_SEND_IPI |
                          1u << KVM_FEATURE_PV_SCHED_YIELD | 1u << KVM_FEATURE_CLOCKSOURCE2 |
                          1u << KVM_FEATURE_CLOCKSOURCE_STABLE_BIT;
    for (int i = 0; i < t.n; i++)
        if (t.e[i].function == 0x40000001) {
            t.e[i].eax |= want;
            t.e[i].edx = 1u << KVM_HINTS_REALTIME | 0x10;
        }
    uint32_t eax = must(&t, 0x40000001, 0)->eax;
    struct cpuid_cfg c = cfg(2, 1);
    transform(&t, &c);
    assert_int_equal(must(&t, 0x40000001, 0)->eax, eax);
    assert_int_equal(must(&t, 0x40000001, 0)->eax & want, want);
    assert_int_equal(must(&t, 0x40000001, 0)->edx, 0x10);
}

/* 0x80000007 EDX[8] follows the host's invariant TSC. */
static void test_invariant_tsc(void **state)
{
    (void)state;
    struct tbl t;
    amd_table(&t);
    struct cpuid_cfg c = cfg(1, 0);
    transform(&t, &c);
    assert_int_equal(must(&t, 0x80000007, 0)->edx, 0x100);
    intel_table(&t);
    c.invariant_tsc = false;
    transform(&t, &c);
    assert_int_equal(must(&t, 0x80000007, 0)->edx, 0);
}

/* AMD 0x80000005: kept when the host filled it; an empty one gets the L1
 * caches of 0x8000001D (32 KiB, 8 ways, 64-byte lines in amd_table), or a
 * typical 32 KiB 8-way one without that leaf. */
static void test_amd_l1_cache_leaf(void **state)
{
    (void)state;
    struct tbl t;
    amd_table(&t);
    struct cpuid_cfg c = cfg(1, 0);
    transform(&t, &c);
    assert_int_equal(must(&t, 0x80000005, 0)->ecx, 0x20080140);     /* the host's */
    amd_table(&t);
    for (int i = 0; i < t.n; i++)
        if (t.e[i].function == 0x80000005)
            t.e[i].ecx = t.e[i].edx = 0;
    for (int i = 0; i < t.n; i++)           /* L1i: 64 KiB, 4 ways, 256 sets */
        if (t.e[i].function == 0x8000001D && t.e[i].index == 1)
            t.e[i] = (struct kvm_cpuid_entry2){ .function = 0x8000001D, .index = 1,
                                                .eax = 0x122, .ebx = 0x00C0003F, .ecx = 0xFF };
    transform(&t, &c);
    assert_int_equal(must(&t, 0x80000005, 0)->ecx, 0x20080140);     /* 32K 8-way 64B */
    assert_int_equal(must(&t, 0x80000005, 0)->edx, 0x40040140);     /* 64K 4-way 64B */
    assert_int_equal(must(&t, 0x80000005, 0)->eax, 0xFF40FF40);     /* TLBs kept */
    intel_table(&t);                                /* only AMD tables are touched */
    transform(&t, &c);
    assert_null(get(&t, 0x80000005, 0));
    amd_table(&t);
    for (int i = 0; i < t.n; i++) {
        if (t.e[i].function == 0x80000005)
            t.e[i].ecx = t.e[i].edx = 0;
        if (t.e[i].function == 0x8000001D)
            t.e[i].eax = 0;                         /* no cache described */
    }
    transform(&t, &c);
    assert_int_equal(must(&t, 0x80000005, 0)->edx, 0x20080140);
}

/* Bad configurations and a table without room are refused, never overrun. */
static void test_refusals(void **state)
{
    (void)state;
    struct tbl t;
    amd_table(&t);
    struct cpuid_cfg c = cfg(2, 2);                 /* id out of range */
    assert_int_equal(cpuid_transform(t.e, t.n, MAX, &c), -1);
    c = cfg(1, 0);
    c.ncpus = 0;
    assert_int_equal(cpuid_transform(t.e, t.n, MAX, &c), -1);
    c = cfg(256, 0);
    assert_int_equal(cpuid_transform(t.e, t.n, MAX, &c), -1);
    intel_table(&t);                                /* needs room for 0xB, 0x1F, brand */
    c = cfg(2, 0);
    assert_int_equal(cpuid_transform(t.e, t.n, t.n, &c), -1);
    intel_table(&t);
    assert_int_equal(cpuid_transform(t.e, t.n, t.n - 1, &c), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leaf1_package_and_flags),
        cmocka_unit_test(test_extended_topology_one_package),
        cmocka_unit_test(test_intel_cache_leaves),
        cmocka_unit_test(test_amd_topology_leaves),
        cmocka_unit_test(test_topoext_entry_added),
        cmocka_unit_test(test_brand_string),
        cmocka_unit_test(test_brand_helper),
        cmocka_unit_test(test_timing_leaf),
        cmocka_unit_test(test_invariant_tsc),
        cmocka_unit_test(test_pv_features),
        cmocka_unit_test(test_amd_l1_cache_leaf),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
