/* cli.c - parse and validate the command line (getopt_long, options in any
 * order). Unit-tested in tests/unit/test_cli.c. */
#include "cli.h"
#include "core/mem.h"
#include "core/util.h"

#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x)     /* the device limit, spelled where it is defined */

const char cli_usage[] =
"usage: mini-kvm [options] GUEST.bin [GUEST.bin ...]\n"
"       mini-kvm [options] -k KERNEL [-i INITRD] [-p CMDLINE] [--disk IMG]\n"
"       mini-kvm [options] --ide DISK.img [--ide DISK2.img]\n"
"\n"
"Runs guests on the Linux KVM API, each in its own VM on its own thread.\n"
"\n"
"Teaching guests (flat binaries, see docs/hypercalls.md):\n"
"      --mode real|long  CPU mode for flat binaries (default real)\n"
"                        real: loaded at 0x10000, CS=DS=ES=SS=0x1000, IP=0\n"
"                        long: loaded at 0x100000, 64-bit, identity paging\n"
"  Several GUEST.bin run at once; output lines are prefixed [name].\n"
"  Besides the hypercall port 0x500 they have COM1 (0x3F8, polled) and the\n"
"  debug console 0xE9 (docs/devices.md; docs/tutorial.md starts here).\n"
"\n"
"Kernels:\n"
"  -k, --kernel FILE     Linux bzImage, multiboot (v1) kernel or ELF64 kernel\n"
"                        (e.g. os.elf); see docs/multiboot.md\n"
"  -i, --initrd FILE     initial ramdisk (cpio, optionally compressed); for a\n"
"                        multiboot kernel a module: repeat -i for up to 8\n"
"  -p, --cmdline STR     kernel command line (e.g. \"console=ttyS0\")\n"
"  -c, --cpus N          number of vCPUs, 1-64 (default 1)\n"
"      --disk FILE       raw disk image as a virtio-blk device (repeatable;\n"
"                        at most " STR(VIRTIO_MMIO_MAX) " virtio devices in all)\n"
"      --net tap=NAME[,mac=MAC]  virtio-net NIC on the existing TAP interface\n"
"                        NAME (ip tuntap add NAME mode tap user $USER; see\n"
"                        docs/devices.md); repeatable. The default MAC is\n"
"                        02:4d:4b plus 3 bytes hashed from NAME (stable);\n"
"                        vhost-net when /dev/vhost-net exists (,vhost=off:\n"
"                        the userspace datapath; --stats says which)\n"
"      --vsock CID       virtio-vsock device with guest CID (3 and up) through\n"
"                        the host's vhost-vsock: host programs connect to\n"
"                        (CID, port); needs /dev/vhost-vsock\n"
"      --no-rng          no virtio-rng device (Linux kernels get one by default:\n"
"                        /dev/hwrng, filled from the host's getrandom)\n"
"\n"
"Disks like a PC (legacy IDE, see docs/legacy-pc.md):\n"
"      --ide FILE[,ro]   raw disk image on the primary IDE channel: the first\n"
"                        is the master, a second the slave (at most 2);\n"
"                        ',ro' attaches it read-only. Without -k and flat\n"
"                        guests, mini-kvm boots from the first one: its\n"
"                        sector 0 (ending in 0x55AA) runs at 0000:7C00 in\n"
"                        real mode with DL=0x80, no BIOS services. E.g.\n"
"                        mini-kvm -c 2 --ide xv6.img --ide fs.img\n"
"      --cga-dump        at exit, print the CGA text screen (80x25 at\n"
"                        0xB8000) on stderr; Ctrl-A v shows it any time\n"
"\n"
"Common:\n"
"  -m, --mem SIZE        guest RAM, with K/M/G suffix (default 1M for\n"
"                        real-mode flat binaries, 2M for long mode, 512M\n"
"                        for kernels and disk boots)\n"
"      --trace           print every VM exit on stderr\n"
"      --stats           print exit counts per reason and port at the end\n"
"      --trace-file FILE every VM exit as one timestamped line in FILE, for\n"
"                        tools/trace-plot (format: docs/tracing.md)\n"
"      --top             exits per second by reason and device, per vCPU,\n"
"                        redrawn each second at the bottom of the terminal\n"
"                        (stderr); Ctrl-A t toggles it for a kernel\n"
"      --timeout SECS    stop guests still running after SECS seconds\n"
"                        (status 124, like timeout(1))\n"
"      --check-host      report what this host's KVM can run, then exit\n"
"      --gdb PORT|PATH   GDB stub on 127.0.0.1:PORT or on a Unix socket PATH\n"
"                        (gdb: target remote :PORT; see docs/debugging.md)\n"
"      --gdb-wait        with --gdb: start stopped, before the first instruction\n"
"\n"
"Control API and snapshots (docs/api.md, docs/snapshot.md):\n"
"      --api PATH        serve Firecracker's API (a subset) on the Unix socket\n"
"                        PATH (mode 0600) and wait for configuration there\n"
"      --config-file F   configure from F, Firecracker's JSON format\n"
"                        (boot-source, machine-config, drives,\n"
"                        network-interfaces); with --api\n"
"                        the guest starts at once and the API serves it\n"
"      --restore SNAP    resume the VM saved in SNAP (with --restore-mem)\n"
"      --restore-mem MEM its guest memory file, mapped copy-on-write\n"
"\n"
"Least privilege (docs/security.md):\n"
"      --user UID:GID    started as root: open /dev/kvm, images and sockets,\n"
"                        then run as UID:GID with no capabilities\n"
"      --no-seccomp      no seccomp filters (debugging only; every thread\n"
"                        is filtered by default)\n"
"\n"
"  -h, --help            this text\n"
"  -V, --version         print the version\n"
"\n"
"Console: guest output on stdout, mini-kvm's messages on stderr. For a\n"
"kernel or disk boot on a terminal: Ctrl-A x quits, Ctrl-A t toggles --top,\n"
"Ctrl-A h lists the keys.\n"
"Exit status: 0 when every guest exits 0; otherwise the status of the first\n"
"guest (in command-line order) that failed; 1 for mini-kvm's own errors,\n"
"2 for a bad command line.\n";

enum { OPT_MODE = 256, OPT_DISK, OPT_TRACE, OPT_STATS, OPT_CHECK_HOST, OPT_TIMEOUT,
       OPT_IDE, OPT_CGA_DUMP, OPT_GDB, OPT_GDB_WAIT, OPT_API, OPT_CONFIG_FILE, OPT_RESTORE,
       OPT_RESTORE_MEM, OPT_TRACE_FILE, OPT_TOP, OPT_NO_SECCOMP, OPT_USER, OPT_NO_RNG,
       OPT_NET, OPT_VSOCK };

static const struct option longopts[] = {
    { "mode", required_argument, NULL, OPT_MODE },
    { "kernel", required_argument, NULL, 'k' },
    { "initrd", required_argument, NULL, 'i' },
    { "cmdline", required_argument, NULL, 'p' },
    { "append", required_argument, NULL, 'p' },
    { "cpus", required_argument, NULL, 'c' },
    { "mem", required_argument, NULL, 'm' },
    { "disk", required_argument, NULL, OPT_DISK },
    { "ide", required_argument, NULL, OPT_IDE },
    { "cga-dump", no_argument, NULL, OPT_CGA_DUMP },
    { "no-rng", no_argument, NULL, OPT_NO_RNG },
    { "net", required_argument, NULL, OPT_NET },
    { "vsock", required_argument, NULL, OPT_VSOCK },
    { "trace", no_argument, NULL, OPT_TRACE },
    { "trace-file", required_argument, NULL, OPT_TRACE_FILE },
    { "top", no_argument, NULL, OPT_TOP },
    { "stats", no_argument, NULL, OPT_STATS },
    { "timeout", required_argument, NULL, OPT_TIMEOUT },
    { "check-host", no_argument, NULL, OPT_CHECK_HOST },
    { "gdb", required_argument, NULL, OPT_GDB },
    { "gdb-wait", no_argument, NULL, OPT_GDB_WAIT },
    { "api", required_argument, NULL, OPT_API },
    { "config-file", required_argument, NULL, OPT_CONFIG_FILE },
    { "restore", required_argument, NULL, OPT_RESTORE },
    { "restore-mem", required_argument, NULL, OPT_RESTORE_MEM },
    { "no-seccomp", no_argument, NULL, OPT_NO_SECCOMP },
    { "user", required_argument, NULL, OPT_USER },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { 0, 0, 0, 0 },
};

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

/* --ide FILE[,ro]: only a trailing ",ro" is an option; any other comma is
 * part of the file name. */
static int parse_ide(const char *arg, struct options *o, char *err, size_t errlen)
{
    if (o->nide == CLI_MAX_IDE)
        FAIL("--ide '%s': at most %d IDE disks (primary master and slave)", arg, CLI_MAX_IDE);
    struct cli_ide *d = &o->ide[o->nide];
    size_t n = strlen(arg);
    d->ro = n >= 3 && !strcmp(arg + n - 3, ",ro");
    if (d->ro)
        n -= 3;
    if (n == 0)
        FAIL("--ide '%s': expected FILE or FILE,ro", arg);
    if (n >= sizeof(d->path))
        FAIL("--ide: file name longer than %zu bytes", sizeof(d->path) - 1);
    memcpy(d->path, arg, n);
    d->path[n] = '\0';
    o->nide++;
    return 0;
}

/* "02:4d:4b:00:00:01" -> 6 bytes; unicast only (bit 0 of byte 0 clear). */
int cli_parse_mac(const char *s, uint8_t mac[6])
{
    for (int i = 0; i < 6; i++) {
        char *end;
        if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]))
            return -1;
        unsigned long v = strtoul(s, &end, 16);
        if (end != s + 2 || (i < 5 ? *end != ':' : *end != '\0'))
            return -1;
        mac[i] = (uint8_t)v;
        s = end + 1;
    }
    return mac[0] & 1 ? -1 : 0;
}

/* --net tap=NAME[,mac=MAC]: keys in any order, each once. */
static int parse_net(const char *arg, struct options *o, char *err, size_t errlen)
{
    if (o->ndisks + o->nnets + !!o->vsock_cid == VIRTIO_MMIO_MAX)
        FAIL("--net '%s': too many virtio devices (at most %d in all)", arg, VIRTIO_MMIO_MAX);
    struct cli_net *n = &o->nets[o->nnets];
    memset(n, 0, sizeof(*n));
    char buf[256];
    if (strlen(arg) >= sizeof(buf))
        FAIL("--net: argument longer than %zu bytes", sizeof(buf) - 1);
    snprintf(buf, sizeof(buf), "%s", arg);
    for (char *save, *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        if (!strncmp(kv, "tap=", 4) && !n->tap[0]) {
            if (!kv[4] || strlen(kv + 4) >= sizeof(n->tap))
                FAIL("--net '%s': TAP name must be 1 to %zu bytes", arg, sizeof(n->tap) - 1);
            snprintf(n->tap, sizeof(n->tap), "%s", kv + 4);
        } else if (!strncmp(kv, "mac=", 4) && !n->has_mac) {
            if (cli_parse_mac(kv + 4, n->mac))
                FAIL("--net '%s': bad MAC address '%s' (expected a unicast address like "
                     "02:00:00:00:00:01)", arg, kv + 4);
            n->has_mac = true;
        } else if (!strcmp(kv, "vhost=off") || !strcmp(kv, "vhost=on")) {
            n->no_vhost = !strcmp(kv, "vhost=off");
        } else {
            FAIL("--net '%s': expected tap=NAME[,mac=XX:XX:XX:XX:XX:XX][,vhost=on|off]", arg);
        }
    }
    if (!n->tap[0])
        FAIL("--net '%s': expected tap=NAME[,mac=XX:XX:XX:XX:XX:XX][,vhost=on|off]", arg);
    o->nnets++;
    return 0;
}

static int parse_one(int c, const char *arg, const char *opt, struct options *o,
                     char *err, size_t errlen)
{
    unsigned long n;
    switch (c) {
    case OPT_MODE:
        if (!strcmp(arg, "real")) o->mode = MODE_REAL;
        else if (!strcmp(arg, "long")) o->mode = MODE_LONG;
        else FAIL("--mode '%s': expected 'real' or 'long'", arg);
        break;
    case 'k': o->kernel = arg; break;
    case 'i':
        if (o->nmodules == CLI_MAX_MODULES)
            FAIL("%s '%s': at most %d modules", opt, arg, CLI_MAX_MODULES);
        o->modules[o->nmodules++] = arg;
        o->initrd = o->modules[0];
        break;
    case 'p': o->cmdline = arg; break;
    case 'c':
        if (parse_uint(arg, 1, CLI_MAX_CPUS, &n))
            FAIL("%s '%s': expected a number of vCPUs from 1 to %d", opt, arg, CLI_MAX_CPUS);
        o->cpus = (unsigned)n;
        break;
    case 'm':
        if (mem_parse_size(arg, &o->mem))
            FAIL("%s '%s': not a size (use e.g. 64M or 1G)", opt, arg);
        if (o->mem < (64ULL << 10) || o->mem > (64ULL << 30) || o->mem % 4096)
            FAIL("%s '%s': guest RAM must be a multiple of 4K from 64K to 64G", opt, arg);
        break;
    case OPT_DISK:
        if (o->ndisks + o->nnets + !!o->vsock_cid == VIRTIO_MMIO_MAX)
            FAIL("--disk '%s': too many virtio devices (at most %d in all)", arg,
                 VIRTIO_MMIO_MAX);
        o->disks[o->ndisks++] = arg;
        break;
    case OPT_IDE:
        if (parse_ide(arg, o, err, errlen))
            return -1;
        break;
    case OPT_CGA_DUMP: o->cga_dump = true; break;
    case OPT_NO_RNG: o->no_rng = true; break;
    case OPT_NET:
        if (parse_net(arg, o, err, errlen))
            return -1;
        break;
    case OPT_VSOCK:
        if (parse_uint(arg, 3, 0xFFFFFFFEul, &n))
            FAIL("--vsock '%s': expected a guest CID from 3 to 4294967294", arg);
        if (!o->vsock_cid && o->ndisks + o->nnets == VIRTIO_MMIO_MAX)
            FAIL("--vsock '%s': too many virtio devices (at most %d in all)", arg,
                 VIRTIO_MMIO_MAX);
        o->vsock_cid = n;
        break;
    case OPT_TRACE: o->trace = true; break;
    case OPT_TRACE_FILE:
        if (!arg[0])
            FAIL("--trace-file: expected a file name");
        o->trace_file = arg;
        break;
    case OPT_TOP: o->top = true; break;
    case OPT_STATS: o->stats = true; break;
    case OPT_TIMEOUT:
        if (parse_uint(arg, 1, 86400, &n))
            FAIL("%s '%s': expected whole seconds from 1 to 86400", opt, arg);
        o->timeout = (unsigned)n;
        break;
    case OPT_CHECK_HOST: o->check_host = true; break;
    case OPT_GDB:
        /* all digits: a TCP port; anything else: a Unix socket path */
        if (arg[0] && arg[strspn(arg, "0123456789")] == '\0') {
            if (parse_uint(arg, 1, 65535, &n))
                FAIL("--gdb '%s': expected a TCP port from 1 to 65535 or a socket path", arg);
        } else if (!arg[0] || strlen(arg) > 107) {
            FAIL("--gdb '%s': expected a TCP port or a socket path of at most 107 bytes", arg);
        }
        o->gdb = arg;
        break;
    case OPT_GDB_WAIT: o->gdb_wait = true; break;
    case OPT_API: o->api = arg; break;
    case OPT_CONFIG_FILE: o->config_file = arg; break;
    case OPT_RESTORE: o->restore = arg; break;
    case OPT_RESTORE_MEM: o->restore_mem = arg; break;
    case OPT_NO_SECCOMP: o->no_seccomp = true; break;
    case OPT_USER: return sandbox_parse_user(arg, &o->user, err, errlen);
    case 'h': o->help = true; break;
    case 'V': o->version = true; break;
    default: FAIL("internal: unhandled option %d", c);
    }
    return 0;
}

/* --api, --config-file and --restore replace the guest on the command line
 * (and each other); only the common options go with them. */
static int cli_vmm_mode(const struct options *o, char *err, size_t errlen)
{
    const char *mode = o->api ? "--api" : o->config_file ? "--config-file"
                     : o->restore ? "--restore" : NULL;
    if (!mode) {
        if (o->restore_mem)
            FAIL("--restore-mem needs --restore SNAPSHOT");
        return 0;
    }
    /* --api with --config-file: the file starts the guest, the API serves
     * it (pause, snapshot), as with Firecracker's --api-sock + --config-file */
    if (!!o->api + !!o->config_file + !!o->restore > 1 && !(o->api && o->config_file &&
                                                          !o->restore))
        FAIL("%s: give one of --api and --restore, and --config-file only with --api",
             o->restore ? "--restore" : mode);
    if (o->kernel || o->nguests || o->nide || o->ndisks || o->nmodules || o->cmdline ||
        o->mem || o->cpus != 1 || o->gdb)
        FAIL("%s: the guest comes from %s; give no guest, -k, -i, -p, -m, -c, --disk, "
             "--ide or --gdb with it", mode,
             o->restore ? "the snapshot" : o->api ? "the API" : "the file");
    if (o->restore && !o->restore_mem)
        FAIL("--restore needs --restore-mem MEMFILE (the snapshot's guest memory)");
    if (!o->restore && o->restore_mem)
        FAIL("--restore-mem needs --restore SNAPSHOT");
    if (o->api && (o->top || o->trace_file))   /* the API's guest has no such hooks yet */
        FAIL("--api: %s is not available with the API (use it with --config-file alone)",
             o->top ? "--top" : "--trace-file");
    if (o->api && strlen(o->api) > 107)
        FAIL("--api '%s': socket path longer than 107 bytes", o->api);
    return 0;
}

int cli_parse(int argc, char **argv, struct options *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof(*o));
    o->cpus = 1;
    optind = 0;   /* reset getopt, including GNU's internal state */
    opterr = 0;   /* we print our own messages */
    int c, idx = -1;
    while ((c = getopt_long(argc, argv, ":k:i:p:c:m:hV", longopts, &idx)) != -1) {
        char opt[48];   /* the option as the user wrote it, without a value */
        if (idx >= 0)
            snprintf(opt, sizeof(opt), "--%s", longopts[idx].name);
        else if ((c == '?' || c == ':') && !strncmp(argv[optind - 1], "--", 2))
            snprintf(opt, sizeof(opt), "%.*s", (int)strcspn(argv[optind - 1], "="),
                     argv[optind - 1]);
        else if (c == '?' || c == ':')
            snprintf(opt, sizeof(opt), "-%c", optopt);
        else
            snprintf(opt, sizeof(opt), "-%c", c);
        idx = -1;
        if (c == '?')
            FAIL("unknown option '%s' (see --help)", opt);
        if (c == ':')
            FAIL("option '%s' needs an argument (see --help)", opt);
        if (parse_one(c, optarg, opt, o, err, errlen))
            return -1;
    }
    for (int i = optind; i < argc; i++) {
        if (o->nguests == CLI_MAX_GUESTS)
            FAIL("'%s': at most %d guests at once", argv[i], CLI_MAX_GUESTS);
        o->guests[o->nguests++] = argv[i];
    }
    if (o->help || o->version || o->check_host)
        return 0;
    if (cli_vmm_mode(o, err, errlen))
        return -1;
    if (o->user.set && o->api)
        FAIL("--user '%u:%u': not with --api yet (its guests open their files after start)",
             (unsigned)o->user.uid, (unsigned)o->user.gid);
    if (o->api || o->config_file || o->restore)
        return 0;
    if (o->kernel && o->nguests)
        FAIL("'%s': give either -k KERNEL or flat GUEST.bin files, not both", o->guests[0]);
    if (o->nguests && o->nide)
        FAIL("--ide '%s': IDE disks need a kernel (-k) or a disk boot, not flat binaries",
             o->ide[0].path);
    if (!o->kernel && !o->nguests && !o->nide)
        FAIL("no guest given (try 'mini-kvm hello.bin' or see --help)");
    if (!o->kernel && (o->initrd || o->cmdline))
        FAIL("-i and -p need a kernel (-k KERNEL)");
    if (o->nguests && o->ndisks)
        FAIL("--disk needs a kernel (-k KERNEL) or a disk boot (--ide)");
    if (o->nguests && o->nnets)
        FAIL("--net needs a kernel (-k KERNEL) or a disk boot (--ide)");
    if (o->nguests && o->vsock_cid)
        FAIL("--vsock needs a kernel (-k KERNEL)");
    if (o->nguests && o->cpus != 1)
        FAIL("-c %u: flat binaries run on one vCPU each", o->cpus);
    if (o->gdb_wait && !o->gdb)
        FAIL("--gdb-wait needs --gdb PORT|PATH");
    if (o->gdb && o->nguests > 1)
        FAIL("--gdb debugs one guest: give one GUEST.bin, not %d", o->nguests);
    return 0;
}
