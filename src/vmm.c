/* vmm.c - the VMM's life cycle under the control API: configure, start the
 * guest the command line would start, pause, resume, snapshot, load. */
#include "vmm.h"
#include "api/api.h"
#include "core/console.h"
#include "core/sandbox.h"
#include "core/util.h"
#include "core/vm.h"
#include "devices/i8042.h"
#include "guest.h"
#include "snapshot/snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A guest to build, asked for on the API thread and done on main: the API
 * thread is sealed from its first instruction (its list has no openat
 * without O_CREAT, no KVM_CREATE_*, no clone), main builds guests unfiltered
 * as it does from the command line and seals once one runs (docs/security.md). */
enum vmm_job_kind { JOB_NONE, JOB_START, JOB_LOAD };
struct vmm_job {
    enum vmm_job_kind kind;
    const struct vmconfig *cfg;         /* JOB_START */
    const char *snap, *mem;             /* JOB_LOAD */
    bool resume;
    char *err;                          /* the API thread's, for the answer */
    size_t n;
    int result;
    bool done;
};

struct vmm {
    struct kvm_host *kvm;
    struct console *con;
    const struct options *cli;  /* --trace, --stats, --timeout */
    struct vmconfig cfg;        /* what opt's strings point into */
    struct options opt;         /* the guest's options, as cli.c would build them */
    struct guest g;
    pthread_mutex_t lock;       /* state; a leaf in the lock order (core/vm.h) */
    pthread_cond_t cond;
    enum api_vm_state state;
    bool api_thread_started;    /* hooks run on the API thread from then on */
    struct vmm_job job;         /* under lock: the API thread's request to main */
};

/* Ctrl-A x on a raw terminal, as for a guest started from the command line. */
static void quit_vm(void *arg)
{
    vm_stop(arg, 0);
}

static enum api_vm_state vmm_state(void *ctx)
{
    struct vmm *v = ctx;
    pthread_mutex_lock(&v->lock);
    enum api_vm_state s = v->state;
    pthread_mutex_unlock(&v->lock);
    return s;
}

static void set_state(struct vmm *v, enum api_vm_state s)
{
    pthread_mutex_lock(&v->lock);
    v->state = s;
    pthread_cond_broadcast(&v->cond);
    pthread_mutex_unlock(&v->lock);
}

static void common_options(struct vmm *v)
{
    v->opt.trace = v->cli->trace;
    v->opt.stats = v->cli->stats;
    v->opt.timeout = v->cli->timeout;
}

/* A failed setup leaves no VM behind: the client may fix and retry. */
static int failed(struct vmm *v, char *err, size_t n, const char *what)
{
    console_stop_input(v->con);     /* the UART it notified is about to go */
    vm_destroy(&v->g.vm);
    memset(&v->g, 0, sizeof(v->g));
    if (!err[0])
        snprintf(err, n, "%s failed (see mini-kvm's log)", what);
    return -1;
}

/* First thing on the API thread, before it reads a byte from a client. */
static void api_thread_begins(void *ctx)
{
    struct vmm *v = ctx;
    sandbox_enter(v->con->sandbox, SANDBOX_API);
}

/* On the API thread: main builds the guest; wait for its answer. */
static int hand_to_main(struct vmm *v, struct vmm_job job)
{
    pthread_mutex_lock(&v->lock);
    v->job = job;
    v->job.done = false;
    pthread_cond_broadcast(&v->cond);
    while (!v->job.done)
        pthread_cond_wait(&v->cond, &v->lock);
    int r = v->job.result;
    v->job.kind = JOB_NONE;
    pthread_mutex_unlock(&v->lock);
    return r;
}

static int build_start(struct vmm *v, const struct vmconfig *cfg, char *err, size_t n)
{
    v->cfg = *cfg;
    if (vmconfig_to_options(&v->cfg, &v->opt, err, n)) {
        errorf("%s", err);      /* in mini-kvm's log too, like every failed start */
        return -1;
    }
    common_options(v);
    errorf_capture(err, n);
    int r = guest_setup_kernel(&v->g, v->kvm, &v->opt, v->con);
    errorf_capture(NULL, 0);
    if (r)
        return failed(v, err, n, "InstanceStart");
    v->g.vm.sandbox = v->con->sandbox;      /* the vCPU threads seal themselves */
    vm_start(&v->g.vm);
    set_state(v, API_RUNNING);
    return 0;
}

/* InstanceStart; with --config-file, on main before the API thread exists. */
static int vmm_start(void *ctx, const struct vmconfig *cfg, char *err, size_t n)
{
    struct vmm *v = ctx;
    if (!v->api_thread_started)
        return build_start(v, cfg, err, n);
    return hand_to_main(v, (struct vmm_job){ .kind = JOB_START, .cfg = cfg, .err = err, .n = n });
}

static int vmm_pause(void *ctx, bool pause, char *err, size_t n)
{
    struct vmm *v = ctx;
    if (pause == (vmm_state(v) == API_PAUSED))
        return 0;       /* Firecracker answers 204 to a repeated state too */
    if (!pause) {
        vm_resume(&v->g.vm);
        set_state(v, API_RUNNING);
        return 0;
    }
    errorf_capture(err, n);
    int r = vm_pause(&v->g.vm);
    errorf_capture(NULL, 0);
    if (r == 0)
        set_state(v, API_PAUSED);
    return r;
}

/* Firecracker's SendCtrlAltDel: the keyboard types it; what happens then is
 * the guest's choice (Linux reboots, and mini-kvm exits as on any reset). */
static int vmm_ctrl_alt_del(void *ctx, char *err, size_t n)
{
    struct vmm *v = ctx;
    if (!v->g.i8042) {
        snprintf(err, n, "SendCtrlAltDel: this guest has no keyboard controller");
        return -1;
    }
    if (i8042_ctrl_alt_del(v->g.i8042) == 0)
        return 0;
    snprintf(err, n, "SendCtrlAltDel: the guest's keyboard buffer is full (it is not "
             "reading its keyboard)");
    return -1;
}

static int vmm_snapshot_create(void *ctx, const char *snap, const char *mem, char *err,
                               size_t n)
{
    struct vmm *v = ctx;
    errorf_capture(err, n);
    int r = snapshot_save(&v->g.vm, &v->opt, snap, mem);
    errorf_capture(NULL, 0);
    return r;
}

static int build_load(struct vmm *v, const char *snap, const char *mem, bool resume,
                      char *err, size_t n)
{
    struct options load = { .restore = snap, .restore_mem = mem, .cpus = 1,
                            .trace = v->cli->trace, .stats = v->cli->stats };
    errorf_capture(err, n);
    int r = guest_setup_restore(&v->g, v->kvm, &load, v->con, &v->opt);
    errorf_capture(NULL, 0);
    if (r)
        return failed(v, err, n, "snapshot/load");
    v->g.vm.sandbox = v->con->sandbox;
    if (!resume)        /* the vCPUs park before their first KVM_RUN */
        vm_pause_before_start(&v->g.vm);
    vm_start(&v->g.vm);
    set_state(v, resume ? API_RUNNING : API_PAUSED);
    return 0;
}

static int vmm_snapshot_load(void *ctx, const char *snap, const char *mem, bool resume,
                             char *err, size_t n)
{
    return hand_to_main(ctx, (struct vmm_job){ .kind = JOB_LOAD, .snap = snap, .mem = mem,
                                               .resume = resume, .err = err, .n = n });
}

/* Main until a guest runs: build what the API thread hands over (a failed
 * InstanceStart leaves no VM behind and main waits for the next). */
static void serve_jobs(struct vmm *v)
{
    pthread_mutex_lock(&v->lock);
    while (v->state == API_NOT_STARTED) {
        if (v->job.kind == JOB_NONE || v->job.done) {
            pthread_cond_wait(&v->cond, &v->lock);
            continue;
        }
        struct vmm_job j = v->job;
        pthread_mutex_unlock(&v->lock);
        int r = j.kind == JOB_START ? build_start(v, j.cfg, j.err, j.n)
                                    : build_load(v, j.snap, j.mem, j.resume, j.err, j.n);
        pthread_mutex_lock(&v->lock);
        v->job.result = r;
        v->job.done = true;
        pthread_cond_broadcast(&v->cond);
    }
    pthread_mutex_unlock(&v->lock);
}

int vmm_run_api(const struct options *opt, struct kvm_host *kvm, struct console *con)
{
    struct vmm *v = xcalloc(1, sizeof(*v));
    *v = (struct vmm){ .kvm = kvm, .con = con, .cli = opt, .state = API_NOT_STARTED };
    pthread_mutex_init(&v->lock, NULL);
    pthread_cond_init(&v->cond, NULL);
    struct api_hooks hooks = {
        .ctx = v, .state = vmm_state, .start = vmm_start, .pause = vmm_pause,
        .ctrl_alt_del = vmm_ctrl_alt_del,
        .snapshot_create = vmm_snapshot_create, .snapshot_load = vmm_snapshot_load,
        .thread_begins = api_thread_begins,
    };
    struct api *a = xcalloc(1, sizeof(*a));
    char err[1024] = "";
    int r = api_open(a, &hooks, opt->api);
    if (r == 0 && opt->config_file) {   /* started before the API thread exists */
        if (vmconfig_load_file(&a->cfg, opt->config_file, err, sizeof(err))) {
            if (err[0])
                errorf("%s", err);
            r = -1;
        } else if (vmm_start(v, &a->cfg, err, sizeof(err))) {
            r = -1;     /* vmm_start has said why on stderr */
        }
    }
    v->api_thread_started = true;   /* the hooks run there from now on */
    if (r || api_start(a)) {
        api_close(a);
        free(a);
        free(v);
        return 1;
    }
    serve_jobs(v);
    /* The API keeps serving (pause, snapshot) while the guest runs; the
     * process ends with the guest, like Firecracker's. */
    console_raw(con, quit_vm, &v->g.vm);
    /* main only waits from here on */
    if (sandbox_seal_main(con->sandbox))
        vm_stop(&v->g.vm, 1);
    int status = vm_wait(&v->g.vm);
    console_flush(&v->g.port);
    console_restore();
    api_close(a);
    console_stop_input(con);
    vm_destroy(&v->g.vm);
    free(a);
    free(v);
    return status;
}

int vmm_config_file(const struct options *cli, struct options *out, struct vmconfig **cfg)
{
    char err[1024] = "";
    *cfg = xcalloc(1, sizeof(**cfg));
    vmconfig_init(*cfg);
    if (vmconfig_load_file(*cfg, cli->config_file, err, sizeof(err)) ||
        vmconfig_to_options(*cfg, out, err, sizeof(err))) {
        if (err[0])
            errorf("%s", err);
        return -1;
    }
    out->trace = cli->trace;
    out->stats = cli->stats;
    out->trace_file = cli->trace_file;      /* docs/tracing.md */
    out->top = cli->top;
    out->timeout = cli->timeout;
    out->cga_dump = cli->cga_dump;
    return 0;
}
