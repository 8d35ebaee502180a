/* main.c - mini-kvm's entry: parse the command line, build one VM per guest,
 * run them all concurrently and combine their exit statuses. */
#include "cli.h"
#include "guest.h"
#include "arch/hostcheck.h"
#include "core/kvm.h"
#include "core/sandbox.h"
#include "core/stats.h"
#include "core/tracefile.h"
#include "top.h"
#include "core/vcpu.h"
#include "core/util.h"
#include "debug/gdbstub.h"
#include "devices/vga.h"
#include "api/vmconfig.h"
#include "vmm.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static void quit_vm(void *arg)
{
    vm_stop(arg, 0);
}

/* Ctrl-A v: the raw terminal needs "\r\n". */
static void show_screen(void *arg)
{
    struct guest *g = arg;
    vga_print_screen(g->vga, &g->vm.mem, g->name, 2, "\r\n");
}

/* --stats: how much of the process's memory is the VMM's own, not guest RAM. */
static void print_memory(struct guest *g, int n)
{
    struct rusage ru;
    if (getrusage(RUSAGE_SELF, &ru) < 0)
        return;
    uint64_t guest = 0;
    for (int i = 0; i < n; i++)
        guest += mem_resident(&g[i].vm.mem);
    uint64_t max_rss = (uint64_t)ru.ru_maxrss;   /* KiB */
    errorf("memory: max RSS %llu KiB, guest RAM touched %llu KiB, VMM overhead %llu KiB",
           (unsigned long long)max_rss, (unsigned long long)(guest >> 10),
           (unsigned long long)(max_rss > guest >> 10 ? max_rss - (guest >> 10) : 0));
}

/* --timeout: a watchdog thread stops every guest still running. */
struct watchdog {
    struct guest *g;
    int n;
    unsigned seconds;
    struct sandbox *sandbox;
    pthread_mutex_t lock;       /* a leaf in the lock order (core/vm.h) */
    pthread_cond_t done;
    bool finished;
};

static void *watchdog_thread(void *arg)
{
    struct watchdog *w = arg;
    sandbox_enter(w->sandbox, SANDBOX_WATCHDOG);
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);     /* cannot fail for this clock */
    until.tv_sec += w->seconds;
    pthread_mutex_lock(&w->lock);
    int r = 0;
    while (!w->finished && r != ETIMEDOUT)
        r = pthread_cond_timedwait(&w->done, &w->lock, &until);
    pthread_mutex_unlock(&w->lock);
    for (int i = 0; r == ETIMEDOUT && i < w->n; i++) {
        if (!atomic_load(&w->g[i].vm.stopping))
            errorf("%s: still running after %u s (--timeout): stopped", w->g[i].name, w->seconds);
        vm_stop(&w->g[i].vm, 124);
    }
    return NULL;
}

/* Start every guest, wait for all; status = first failing guest's. */
static int run_all(struct guest *g, int n, const struct options *opt, struct sandbox *sb)
{
    struct watchdog w = { .g = g, .n = n, .seconds = opt->timeout, .sandbox = sb };
    pthread_t dog;
    bool dog_started = false;
    pthread_condattr_t attr;    /* the timeout must not follow wall-clock jumps */
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&w.lock, NULL);
    pthread_cond_init(&w.done, &attr);
    for (int i = 0; i < n; i++)
        vm_start(&g[i].vm);
    if (opt->timeout) {
        int e = pthread_create(&dog, NULL, watchdog_thread, &w);
        if (e) {
            errorf("--timeout: cannot start the watchdog thread: %s", strerror(e));
            for (int i = 0; i < n; i++)
                vm_stop(&g[i].vm, 1);
        }
        dog_started = e == 0;
    }
    /* Every thread exists and waits at the gate: typed-ahead input goes in
     * before the first instruction; drop privileges, seal. */
    console_take_waiting_input(g[0].vm.con->con);
    if (sandbox_seal_main(sb))
        for (int i = 0; i < n; i++)
            vm_stop(&g[i].vm, 1);
    int status = 0;
    for (int i = 0; i < n; i++) {
        int s = vm_wait(&g[i].vm);
        console_flush(&g[i].port);
        if (s && !status)
            status = s;
    }
    if (dog_started) {
        pthread_mutex_lock(&w.lock);
        w.finished = true;
        pthread_cond_signal(&w.done);
        pthread_mutex_unlock(&w.lock);
        int e = pthread_join(dog, NULL);
        if (e)
            errorf("cannot join the --timeout watchdog thread: %s", strerror(e));
    }
    if (opt->stats) {
        for (int i = 0; i < n; i++) {
            struct stats all = { 0 };
            for (int c = 0; c < g[i].vm.ncpus; c++)
                stats_merge(&all, &g[i].vm.cpus[c]->stats);
            stats_print(&all, g[i].name);
            virtio_table_print(&g[i].vm.virtio, g[i].name);
        }
        print_memory(g, n);
    }
    return status;
}

static int run_guests(const struct options *opt, struct kvm_host *kvm, struct sandbox *sb);

static int run(const struct options *opt, struct sandbox *sb)
{
    struct kvm_host kvm;
    if (kvm_host_open(&kvm))
        return 1;
    if (opt->check_host)
        return hostcheck_report(&kvm);
    if (opt->api) {     /* the guest comes from the API or --config-file (docs/api.md) */
        struct console *con = xcalloc(1, sizeof(*con));   /* never freed: see below */
        keep_until_exit(con);
        console_init(con, false);
        con->sandbox = sb;
        sandbox_unsealed(sb);   /* guests are built later, on the API thread */
        return vmm_run_api(opt, &kvm, con);
    }
    struct options fileopt;
    struct vmconfig *cfg = NULL;
    if (opt->config_file) {     /* Firecracker's JSON: the options it stands for */
        int r = vmm_config_file(opt, &fileopt, &cfg) ? 1 : run_guests(&fileopt, &kvm, sb);
        free(cfg);
        return r;
    }
    return run_guests(opt, &kvm, sb);
}

/* Build the guests of the command line (or --config-file), run them, wait. */
static int run_guests(const struct options *opt, struct kvm_host *kvm, struct sandbox *sb)
{
    bool platform = opt->kernel || cli_disk_boot(opt) || opt->restore;   /* one guest, a PC */
    int n = platform ? 1 : opt->nguests;
    kvm_host_prefetch_cpuid(kvm);   /* every vCPU needs it: ask while we build */
    struct guest *g = xcalloc((size_t)n, sizeof(*g));
    /* Never freed: the detached stdin reader may use it until the process
     * exits (it can be blocked in read(2) with nothing to wake it). */
    struct console *con = xcalloc(1, sizeof(*con));
    keep_until_exit(con);
    console_init(con, n > 1);
    con->sandbox = sb;
    int status = 1;
    for (int i = 0; i < n; i++) {
        struct options shape;
        int r = opt->restore ? guest_setup_restore(&g[i], kvm, opt, con, &shape)
              : opt->kernel ? guest_setup_kernel(&g[i], kvm, opt, con)
              : platform ? guest_setup_disk(&g[i], kvm, opt, con)
              : guest_setup_flat(&g[i], kvm, opt, opt->guests[i], i, con);
        if (r) {
            console_stop_input(con);
            for (int j = 0; j <= i; j++)
                vm_destroy(&g[j].vm);
            free(g);
            return 1;
        }
        g[i].vm.sandbox = sb;
    }
    if (opt->gdb && !(g[0].vm.gdb = gdbstub_create(&g[0].vm, opt->gdb, opt->gdb_wait))) {
        console_stop_input(con);
        vm_destroy(&g[0].vm);
        free(g);
        return 1;
    }
    struct trace_file tf;
    if (opt->trace_file && trace_file_open(&tf, opt->trace_file)) {
        console_stop_input(con);
        for (int i = 0; i < n; i++)
            vm_destroy(&g[i].vm);
        free(g);
        return 1;
    }
    for (int i = 0; opt->trace_file && i < n; i++)
        g[i].vm.trace_file = &tf;
    if (platform) {
        console_set_screen(con, show_screen, &g[0]);
        console_raw(con, quit_vm, &g[0].vm);
    }
    console_start_reader(con);  /* a sealed vCPU may not start threads */
    struct top *top = top_start(g, n, con, opt->top, platform);
    status = run_all(g, n, opt, sb);
    top_stop(top);
    if (opt->trace_file)    /* every vCPU thread has flushed its lines */
        trace_file_close(&tf);
    gdbstub_destroy(g[0].vm.gdb);
    g[0].vm.gdb = NULL;
    console_restore();
    console_stop_input(con);
    for (int i = 0; opt->cga_dump && i < n; i++)
        vga_print_screen(g[i].vga, &g[i].vm.mem, g[i].name, 2, "\n");
    for (int i = 0; i < n; i++)
        vm_destroy(&g[i].vm);
    free(g);
    return status;
}

int main(int argc, char **argv)
{
    struct options opt;
    char err[512];
    if (cli_parse(argc, argv, &opt, err, sizeof(err))) {
        errorf("%s", err);
        return 2;
    }
    if (opt.help) {
        fputs(cli_usage, stdout);
        return 0;
    }
    if (opt.version) {
        printf("mini-kvm %s\n", MINI_KVM_VERSION);
        return 0;
    }
    /* Static, not on main's stack or the heap: the detached stdin reader
     * may still wait at its gate while the process exits (set-up failed). */
    static struct sandbox sb;
    sandbox_init(&sb, !opt.no_seccomp, &opt.user);
    if (sandbox_early(&sb))
        return 1;
    return run(&opt, &sb);
}
