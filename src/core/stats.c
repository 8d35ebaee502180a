/* stats.c - what --stats counts (exits per reason, per port / MMIO address)
 * and what --trace prints for every exit. Both are for learners. */
#include "stats.h"

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const reason_names[] = {
    [KVM_EXIT_UNKNOWN] = "UNKNOWN", [KVM_EXIT_EXCEPTION] = "EXCEPTION",
    [KVM_EXIT_IO] = "IO", [KVM_EXIT_HYPERCALL] = "HYPERCALL",
    [KVM_EXIT_DEBUG] = "DEBUG", [KVM_EXIT_HLT] = "HLT",
    [KVM_EXIT_MMIO] = "MMIO", [KVM_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
    [KVM_EXIT_SHUTDOWN] = "SHUTDOWN", [KVM_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
    [KVM_EXIT_INTR] = "INTR", [KVM_EXIT_SET_TPR] = "SET_TPR",
    [KVM_EXIT_TPR_ACCESS] = "TPR_ACCESS", [KVM_EXIT_NMI] = "NMI",
    [KVM_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR", [KVM_EXIT_OSI] = "OSI",
    [KVM_EXIT_WATCHDOG] = "WATCHDOG", [KVM_EXIT_EPR] = "EPR",
    [KVM_EXIT_SYSTEM_EVENT] = "SYSTEM_EVENT", [KVM_EXIT_IOAPIC_EOI] = "IOAPIC_EOI",
    [KVM_EXIT_HYPERV] = "HYPERV", [KVM_EXIT_X86_RDMSR] = "X86_RDMSR",
    [KVM_EXIT_X86_WRMSR] = "X86_WRMSR",
};

const char *exit_reason_name(uint32_t reason)
{
    if (reason < sizeof(reason_names) / sizeof(reason_names[0]) && reason_names[reason])
        return reason_names[reason];
    return "?";
}

static void count_addr(struct stats *s, uint64_t addr, int mmio, uint64_t n)
{
    /* open addressing on a small table; a full table counts as "other" */
    unsigned h = (unsigned)((addr * 0x9E3779B1u) >> 7) % STATS_ADDRS;
    for (unsigned i = 0; i < STATS_ADDRS; i++) {
        struct stats_addr *e = &s->addr[(h + i) % STATS_ADDRS];
        if (e->count && (e->addr != addr || e->mmio != mmio))
            continue;
        e->addr = addr;
        e->mmio = mmio;
        e->count += n;
        return;
    }
    s->other_addrs += n;
}

/* Only this vCPU's thread writes: a relaxed load and store, no locked add. */
static void bump(uint64_t *counter)
{
    __atomic_store_n(counter, __atomic_load_n(counter, __ATOMIC_RELAXED) + 1,
                     __ATOMIC_RELAXED);
}

int stats_dev_index(const struct bus *b, const struct bus_range *r)
{
    return r ? (int)(r - b->r) : STATS_UNCLAIMED;
}

void stats_count(struct stats *s, const struct kvm_run *run, int dev)
{
    bump(&s->reason[run->exit_reason < STATS_REASONS ? run->exit_reason : 0]);
    if (dev >= 0 && dev <= STATS_UNCLAIMED)
        bump(&s->dev[run->exit_reason == KVM_EXIT_MMIO][dev]);
    if (run->exit_reason == KVM_EXIT_IO)
        count_addr(s, run->io.port, 0, 1);
    else if (run->exit_reason == KVM_EXIT_MMIO)
        count_addr(s, run->mmio.phys_addr, 1, 1);
}

void stats_merge(struct stats *into, const struct stats *from)
{
    for (int i = 0; i < STATS_REASONS; i++)
        into->reason[i] += from->reason[i];
    for (int b = 0; b < 2; b++)
        for (int i = 0; i <= STATS_UNCLAIMED; i++)
            into->dev[b][i] += from->dev[b][i];
    for (int i = 0; i < STATS_ADDRS; i++)
        if (from->addr[i].count)
            count_addr(into, from->addr[i].addr, from->addr[i].mmio, from->addr[i].count);
    into->other_addrs += from->other_addrs;
}

static int by_count(const void *a, const void *b)
{
    const struct stats_addr *x = a, *y = b;
    return x->count < y->count ? 1 : x->count > y->count ? -1 : 0;
}

void stats_print(const struct stats *s, const char *name)
{
    char buf[8192];
    size_t n = 0;
#define OUT(...) do { if (n < sizeof(buf)) n += (size_t)snprintf(buf + n, sizeof(buf) - n, __VA_ARGS__); } while (0)
    uint64_t total = 0;
    for (int i = 0; i < STATS_REASONS; i++)
        total += s->reason[i];
    OUT("[%s] exits: %llu\n", name, (unsigned long long)total);
    OUT("  %-16s %12s\n", "reason", "count");
    for (int i = 0; i < STATS_REASONS; i++)
        if (s->reason[i])
            OUT("  %-16s %12llu\n", exit_reason_name((uint32_t)i),
                (unsigned long long)s->reason[i]);
    struct stats_addr sorted[STATS_ADDRS];
    memcpy(sorted, s->addr, sizeof(sorted));
    qsort(sorted, STATS_ADDRS, sizeof(sorted[0]), by_count);
    if (sorted[0].count)
        OUT("  %-16s %12s\n", "port/address", "count");
    for (int i = 0; i < STATS_ADDRS && sorted[i].count; i++)
        OUT("  %-4s 0x%-10llx %12llu\n", sorted[i].mmio ? "mmio" : "port",
            (unsigned long long)sorted[i].addr, (unsigned long long)sorted[i].count);
    if (s->other_addrs)
        OUT("  %-16s %12llu\n", "other", (unsigned long long)s->other_addrs);
#undef OUT
    if (n > sizeof(buf))
        n = sizeof(buf);
    ssize_t w = write(2, buf, n);
    (void)w;
}

uint64_t exit_value(const struct kvm_run *run, uint32_t run_size)
{
    uint64_t v = 0;
    if (run->exit_reason == KVM_EXIT_IO) {
        const uint8_t *d = (const uint8_t *)run + run->io.data_offset;
        bool inside = run->io.data_offset <= run_size &&
                      run->io.size <= run_size - run->io.data_offset;
        for (unsigned i = 0; inside && i < run->io.size && i < 4; i++)
            v |= (uint64_t)d[i] << (8 * i);
    } else if (run->exit_reason == KVM_EXIT_MMIO) {
        memcpy(&v, run->mmio.data, run->mmio.len <= 8 ? run->mmio.len : 8);
    }
    return v;
}

void trace_exit(const char *name, int cpu, const struct kvm_run *run, uint32_t run_size,
                const char *dev)
{
    char buf[256];
    int n = snprintf(buf, sizeof(buf), "[%s] cpu%d exit %s", name, cpu,
                     exit_reason_name(run->exit_reason));
    uint64_t v = exit_value(run, run_size);
    if (run->exit_reason == KVM_EXIT_IO) {
        n += snprintf(buf + n, sizeof(buf) - (size_t)n,
                      " %s port=0x%x size=%u count=%u value=0x%llx",
                      run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in",
                      run->io.port, run->io.size, run->io.count, (unsigned long long)v);
    } else if (run->exit_reason == KVM_EXIT_MMIO) {
        n += snprintf(buf + n, sizeof(buf) - (size_t)n,
                      " %s addr=0x%llx size=%u value=0x%llx",
                      run->mmio.is_write ? "write" : "read",
                      (unsigned long long)run->mmio.phys_addr, run->mmio.len,
                      (unsigned long long)v);
    }
    bool access = run->exit_reason == KVM_EXIT_IO || run->exit_reason == KVM_EXIT_MMIO;
    if (access && n < (int)sizeof(buf))     /* which device answered, if any */
        n += snprintf(buf + n, sizeof(buf) - (size_t)n, " %s%s", dev ? "dev=" : "unclaimed",
                      dev ? dev : "");
    if (n > (int)sizeof(buf) - 2)
        n = (int)sizeof(buf) - 2;
    buf[n++] = '\n';
    ssize_t w = write(2, buf, (size_t)n);
    (void)w;
}
