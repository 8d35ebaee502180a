/* kvm.h - the host side of KVM: open /dev/kvm once, check the API version
 * and every capability mini-kvm relies on, and probe what the host can run. */
#ifndef MINI_KVM_KVM_H
#define MINI_KVM_KVM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>

#define KVM_HOST_CPUID_MAX 240  /* entries of KVM_GET_SUPPORTED_CPUID we keep */

/* What the host KVM really runs, learnt once by arch/hostcheck.c's probe
 * guests (hostcheck_caps) and kept here. */
struct host_caps {
    bool probed;        /* the fields below are valid */
    bool long_mode;     /* a 64-bit guest ran an `out` */
    bool paging32;      /* a 32-bit guest with paging on read through a mapping */
    bool run_linux;     /* everything a stock Linux kernel needs */
    char module[32];    /* kvm_intel, kvm_amd, kvm_pvm... (informational) */
};

struct kvm_host {
    int fd;            /* /dev/kvm, shared read-only by every VM */
    int run_size;      /* KVM_GET_VCPU_MMAP_SIZE */
    int max_vcpus;     /* KVM_CAP_MAX_VCPUS (or NR_VCPUS) */
    bool irqchip;      /* KVM_CAP_IRQCHIP: in-kernel PIC/IOAPIC/LAPIC */
    bool pit;          /* KVM_CAP_PIT2 */
    bool tss_addr;     /* KVM_CAP_SET_TSS_ADDR */
    char module[32];   /* kvm_intel, kvm_amd, kvm_pvm... or "unknown" (reports) */
    /* Lock order: a leaf (core/vm.h); held only while probing (vCPU
     * threads of several guests may ask at once, hostcheck_caps). */
    pthread_mutex_t caps_lock;
    struct host_caps caps;      /* guarded by caps_lock until probed */
    int ncpuid;                 /* KVM_GET_SUPPORTED_CPUID, once: guarded by */
    struct kvm_cpuid_entry2 cpuid[KVM_HOST_CPUID_MAX];  /* caps_lock */
    pthread_mutex_t prefetch_lock;  /* a leaf; guards the two below */
    pthread_t prefetch;         /* asking it ahead (kvm_host_prefetch_cpuid) */
    bool prefetching;           /* prefetch not joined yet */
};

/* Open /dev/kvm and check it. Prints a one-line reason and returns -1 when
 * it is missing, not permitted, the wrong API version or lacks a capability. */
int kvm_host_open(struct kvm_host *h);

/* KVM_GET_SUPPORTED_CPUID, asked once per process: copies up to max
 * entries to out and returns how many, or -1 with errno set. */
int kvm_host_supported_cpuid(struct kvm_host *h, struct kvm_cpuid_entry2 *out, int max);

/* Start asking KVM_GET_SUPPORTED_CPUID on a thread of its own (~0.3 ms on
 * a software KVM) while the caller builds the VM; kvm_host_supported_cpuid
 * joins it. Without a thread, the first caller simply asks itself. */
void kvm_host_prefetch_cpuid(struct kvm_host *h);

/* Returns > 0 when the capability is present (KVM_CHECK_EXTENSION). */
int kvm_host_cap(const struct kvm_host *h, int cap);

#endif
