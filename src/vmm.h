/* vmm.h - mini-kvm driven by its control API (--api): the VM is built on
 * InstanceStart (or a snapshot load) and then paused, resumed, snapshotted. */
#ifndef MINI_KVM_VMM_H
#define MINI_KVM_VMM_H

#include "cli.h"

struct kvm_host;
struct console;

/* Serve the API on opt->api until a VM has started, run it, return its exit
 * status (1 when the API could not be created). */
int vmm_run_api(const struct options *opt, struct kvm_host *kvm, struct console *con);

/* --config-file: the options the file describes, kept in *cfg (malloc'd,
 * freed by the caller). Returns 0, or -1 after errorf. */
struct vmconfig;
int vmm_config_file(const struct options *cli, struct options *out, struct vmconfig **cfg);

#endif
