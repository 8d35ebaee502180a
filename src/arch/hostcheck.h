/* hostcheck.h - find out by probing what the host KVM can run (long mode,
 * 32-bit paging, hence Linux) and explain refusals instead of hanging. */
#ifndef MINI_KVM_HOSTCHECK_H
#define MINI_KVM_HOSTCHECK_H

#include <stdbool.h>

struct kvm_host;
struct vcpu;

struct host_caps {
    bool long_mode;     /* a 64-bit guest ran an `out` */
    bool paging32;      /* a 32-bit guest with paging on read through a mapping */
    bool run_linux;     /* everything a stock Linux kernel needs */
    char module[32];    /* kvm_intel, kvm_amd, kvm_pvm... (informational) */
};

/* Run the probe guests (a few ms). Returns 0, or -1 if KVM failed. */
int hostcheck_probe(struct kvm_host *h, struct host_caps *caps);

/* --check-host: print the report on stdout. Returns the exit status. */
int hostcheck_report(struct kvm_host *h);

/* The lab hint appended to refusals. */
#define HOSTCHECK_LAB_HINT "run it in the lab (tools/lab, see docs/testing.md) or on a host with hardware KVM"

/* Called on a triple fault: when the guest was in 32-bit protected mode with
 * paging requested and the host cannot do it, say so. True if explained. */
bool hostcheck_explain_fault(struct vcpu *c);

#endif
