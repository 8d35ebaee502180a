/* hostcheck.h - find out by probing what the host KVM can run (long mode,
 * 32-bit paging, hence Linux) and explain refusals instead of hanging. */
#ifndef MINI_KVM_HOSTCHECK_H
#define MINI_KVM_HOSTCHECK_H

#include <stdbool.h>

struct kvm_host;
struct vcpu;

/* What the host runs (struct host_caps, core/kvm.h): the first call runs
 * the probe guests (about 1 ms; none on kvm_intel/kvm_amd, which run every
 * mode), later ones return the answer kept in h.
 * Guests that may need it call it before their vCPU threads start. */
const struct host_caps *hostcheck_caps(struct kvm_host *h);

/* --check-host: run the probes (whatever the module) and print the report
 * on stdout. Returns the exit status. */
int hostcheck_report(struct kvm_host *h);

/* The lab hint appended to refusals. */
#define HOSTCHECK_LAB_HINT "run it in the lab (tools/lab, see docs/testing.md) or on a host with hardware KVM"

/* The VM's fault hook (vm->explain_fault, installed by guest.c), called on
 * its vCPU thread at a triple fault: when the guest was in 32-bit protected
 * mode with paging requested and the host cannot do it, say so. True if
 * explained. Probes only when no one asked hostcheck_caps before. */
bool hostcheck_explain_fault(struct vcpu *c);

#endif
