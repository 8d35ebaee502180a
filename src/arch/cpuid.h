/* cpuid.h - the CPUID table a vCPU gets: KVM's supported table transformed
 * into one package of N cores with brand, timer and topology leaves. */
#ifndef MINI_KVM_CPUID_H
#define MINI_KVM_CPUID_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#define CPUID_BRAND_LEN      48
#define CPUID_DEFAULT_BRAND  "mini-kvm virtual CPU"
#define CPUID_HV_BASE        0x40000000u    /* "KVMKVMKVM", max hypervisor leaf */
#define CPUID_HV_FEATURES    0x40000001u    /* KVM's PV features (EAX), hints (EDX) */
#define CPUID_HV_TIMING      0x40000010u    /* TSC kHz, LAPIC bus kHz */
#define CPUID_LAPIC_BUS_KHZ  1000000u       /* KVM's LAPIC timer: 1 GHz */

struct cpuid_cfg {
    unsigned ncpus;                 /* vCPUs, all cores of one package (1-255) */
    unsigned id;                    /* this vCPU: its APIC and x2APIC id */
    uint32_t tsc_khz;               /* KVM_GET_TSC_KHZ; 0: unknown, no timing leaf */
    bool tsc_deadline;              /* KVM_CAP_TSC_DEADLINE_TIMER */
    bool invariant_tsc;             /* the host's CPUID 0x80000007 EDX[8] */
    bool tsc_rate_set;              /* KVM_SET_TSC_KHZ(0) took: the host's rate now */
    char brand[CPUID_BRAND_LEN];    /* NUL-padded, see cpuid_brand() */
};

/* Rewrites the n entries of KVM_GET_SUPPORTED_CPUID (room for max) for the
 * vCPU cfg describes; may add entries. Returns the new count, -1 if the
 * configuration is invalid or the table would need more than max entries. */
int cpuid_transform(struct kvm_cpuid_entry2 *e, int n, int max, const struct cpuid_cfg *cfg);

/* The brand string for cfg: the host's (leading blanks dropped), or
 * CPUID_DEFAULT_BRAND when host is NULL or empty. */
void cpuid_brand(char out[CPUID_BRAND_LEN], const char *host);

#endif
