/* stats.h - counters behind --stats (exits per reason and per port or MMIO
 * address) and the --trace line printer. */
#ifndef MINI_KVM_STATS_H
#define MINI_KVM_STATS_H

#include <stdint.h>

struct kvm_run;

#define STATS_REASONS 64
#define STATS_ADDRS 64

struct stats_addr {
    uint64_t addr;      /* port or guest-physical address */
    uint64_t count;
    int mmio;           /* 0 port, 1 MMIO */
};

/* One per vCPU, written only by its own thread: no lock on the exit path.
 * --stats merges them when the guest has stopped. */
struct stats {
    uint64_t reason[STATS_REASONS];
    struct stats_addr addr[STATS_ADDRS];
    uint64_t other_addrs;   /* accesses to addresses beyond the table */
};

void stats_init(struct stats *s);
/* Count one exit (called by the vCPU loop for every exit). */
void stats_count(struct stats *s, const struct kvm_run *run);
/* Add the counts of `from` into `into`. */
void stats_merge(struct stats *into, const struct stats *from);
/* Print the table on stderr under a "[name]" heading. */
void stats_print(const struct stats *s, const char *name);

/* Name of a KVM exit reason, e.g. "IO", "MMIO", "HLT". */
const char *exit_reason_name(uint32_t reason);
/* Print one --trace line for this exit to stderr. */
void trace_exit(const char *name, int cpu, const struct kvm_run *run, uint32_t run_size);

#endif
