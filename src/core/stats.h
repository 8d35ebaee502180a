/* stats.h - counters behind --stats (exits per reason and per port or MMIO
 * address) and the --trace line printer. */
#ifndef MINI_KVM_STATS_H
#define MINI_KVM_STATS_H

#include "bus.h"

#include <stdint.h>

struct kvm_run;

#define STATS_REASONS 64
#define STATS_ADDRS 64

struct stats_addr {
    uint64_t addr;      /* port or guest-physical address */
    uint64_t count;
    int mmio;           /* 0 port, 1 MMIO */
};

/* Which device an I/O or MMIO exit reached: the index of its range on the
 * port (dev[0]) or MMIO (dev[1]) bus, or STATS_UNCLAIMED. */
#define STATS_UNCLAIMED BUS_MAX_RANGES
#define STATS_NODEV (-1)        /* not an I/O or MMIO exit */

/* One per vCPU, written only by its own thread: no lock on the exit path.
 * --stats merges them when the guest has stopped. reason[] and dev[] are
 * also read while the guest runs (--top), so they are written and read
 * with relaxed atomics: plain moves on x86, no lock, no torn values. */
struct stats {
    uint64_t reason[STATS_REASONS];
    uint64_t dev[2][BUS_MAX_RANGES + 1];
    struct stats_addr addr[STATS_ADDRS];
    uint64_t other_addrs;   /* accesses to addresses beyond the table */
};

/* Count one exit (called by the vCPU loop for every exit, after the
 * device answered); dev as above, or STATS_NODEV. */
void stats_count(struct stats *s, const struct kvm_run *run, int dev);
/* An index for stats_count: the range's place on its bus, or unclaimed. */
int stats_dev_index(const struct bus *b, const struct bus_range *r);
/* A counter as another thread may read it while the vCPU runs. */
static inline uint64_t stats_read(const uint64_t *counter)
{
    return __atomic_load_n(counter, __ATOMIC_RELAXED);
}
/* Add the counts of `from` into `into`. */
void stats_merge(struct stats *into, const struct stats *from);
/* Print the table on stderr under a "[name]" heading. */
void stats_print(const struct stats *s, const char *name);

/* Name of a KVM exit reason, e.g. "IO", "MMIO", "HLT". */
const char *exit_reason_name(uint32_t reason);
/* The value of an I/O exit's first element (at most 4 bytes) or of an MMIO
 * exit, little-endian; 0 for other exits or a data offset outside the run
 * page (run_size bytes). */
uint64_t exit_value(const struct kvm_run *run, uint32_t run_size);
/* Print one --trace line for this exit to stderr. dev: the device that
 * claimed an I/O or MMIO access, NULL when none did ("unclaimed"). */
void trace_exit(const char *name, int cpu, const struct kvm_run *run, uint32_t run_size,
                const char *dev);

#endif
