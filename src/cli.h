/* cli.h - command-line options: parsed into one struct with every value
 * validated, so nothing later has to re-check what the user typed. */
#ifndef MINI_KVM_CLI_H
#define MINI_KVM_CLI_H

#include "core/sandbox.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/layout.h"

/* --version, GET / and the snapshot header (a snapshot is refused by a
 * mini-kvm of another version). */
#define MINI_KVM_VERSION "0.1.0"

enum guest_mode { MODE_REAL, MODE_LONG };

#define CLI_MAX_GUESTS 64
#define CLI_MAX_DISKS VIRTIO_MMIO_MAX   /* the virtio slots (arch/layout.h) */
#define CLI_MAX_CPUS 64
#define CLI_MAX_MODULES 8        /* -i: multiboot modules (Linux: one initrd) */
#define CLI_MAX_IDE 2           /* primary channel: master, then slave */
#define CLI_PATH_MAX 4096

/* --ide FILE[,ro]: the path without the ",ro" suffix. */
struct cli_ide {
    char path[CLI_PATH_MAX];
    bool ro;
};

/* --net tap=NAME[,mac=XX:XX:XX:XX:XX:XX] */
#define CLI_IFNAME_MAX 16       /* IFNAMSIZ, with the NUL */
struct cli_net {
    char tap[CLI_IFNAME_MAX];
    uint8_t mac[6];
    bool has_mac;               /* else virtio_net_default_mac() */
    bool no_vhost;              /* vhost=off: the userspace datapath */
};

/* "02:00:00:00:00:01" -> mac: a unicast address. 0, or -1 when malformed. */
int cli_parse_mac(const char *s, uint8_t mac[6]);

struct options {
    enum guest_mode mode;
    uint64_t mem;               /* bytes; 0 = default for the guest kind */
    unsigned cpus;              /* 1..CLI_MAX_CPUS */
    unsigned timeout;           /* --timeout seconds, 0 = none */
    const char *kernel;         /* -k: bzImage or ELF64 */
    const char *initrd;         /* the first -i (Linux: the initrd) */
    const char *modules[CLI_MAX_MODULES]; /* every -i in order (multiboot modules) */
    int nmodules;
    const char *cmdline;        /* -p */
    const char *disks[CLI_MAX_DISKS];
    int ndisks;
    struct cli_net nets[VIRTIO_MMIO_MAX];   /* --net, in order */
    int nnets;
    uint64_t vsock_cid;         /* --vsock CID; 0 = none */
    struct cli_ide ide[CLI_MAX_IDE];    /* --ide; with no -k and no flat guest: disk boot */
    int nide;
    const char *guests[CLI_MAX_GUESTS]; /* flat binaries */
    int nguests;
    bool trace, stats, check_host, help, version;
    const char *trace_file;     /* --trace-file: machine-readable trace (docs/tracing.md) */
    bool top;                   /* --top: live exits per second (docs/tracing.md) */
    bool no_rng;                /* --no-rng: no virtio-rng for a Linux kernel */
    bool cga_dump;              /* --cga-dump: print the CGA text screen at exit */
    const char *gdb;            /* --gdb PORT|PATH: debugger stub (docs/debugging.md) */
    bool gdb_wait;              /* --gdb-wait: stopped before the first instruction */
    const char *api;            /* --api PATH: Firecracker-style API socket (docs/api.md) */
    const char *config_file;    /* --config-file: Firecracker's JSON configuration */
    const char *restore;        /* --restore SNAPSHOT (docs/snapshot.md) */
    const char *restore_mem;    /* --restore-mem MEMFILE */
    bool no_seccomp;            /* --no-seccomp: no filters (debugging only) */
    struct sandbox_user user;   /* --user UID:GID: drop root once set up */
};

/* Defaults: real mode flat binaries get 1 MiB, long mode ones 2 MiB (the
 * binary is loaded at 1 MiB), kernels and disk boots 512 MiB. --help says so. */
#define DEFAULT_MEM_FLAT   (1ULL << 20)
#define DEFAULT_MEM_LONG   (2ULL << 20)
#define DEFAULT_MEM_KERNEL (512ULL << 20)

/* Boot from the first IDE disk: no kernel, no flat guest, at least one --ide. */
static inline bool cli_disk_boot(const struct options *o)
{
    return !o->kernel && !o->nguests && o->nide > 0;
}

/* Parse argv. Returns 0 on success, -1 with a one-line message in err
 * (naming the argument at fault) on error. Reentrant: resets getopt. */
int cli_parse(int argc, char **argv, struct options *o, char *err, size_t errlen);

/* The --help text. */
extern const char cli_usage[];

#endif
