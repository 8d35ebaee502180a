/* kvm.h - the host side of KVM: open /dev/kvm once, check the API version
 * and every capability mini-kvm relies on, and probe what the host can run. */
#ifndef MINI_KVM_KVM_H
#define MINI_KVM_KVM_H

#include <stdbool.h>

struct kvm_host {
    int fd;            /* /dev/kvm, shared read-only by every VM */
    int run_size;      /* KVM_GET_VCPU_MMAP_SIZE */
    int max_vcpus;     /* KVM_CAP_MAX_VCPUS (or NR_VCPUS) */
    bool irqchip;      /* KVM_CAP_IRQCHIP: in-kernel PIC/IOAPIC/LAPIC */
    bool pit;          /* KVM_CAP_PIT2 */
    bool tss_addr;     /* KVM_CAP_SET_TSS_ADDR */
    char module[32];   /* kvm_intel, kvm_amd, kvm_pvm... or "unknown" (reports) */
};

/* Open /dev/kvm and check it. Prints a one-line reason and returns -1 when
 * it is missing, not permitted, the wrong API version or lacks a capability. */
int kvm_host_open(struct kvm_host *h);

/* Returns > 0 when the capability is present (KVM_CHECK_EXTENSION). */
int kvm_host_cap(const struct kvm_host *h, int cap);

#endif
