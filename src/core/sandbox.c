/* sandbox.c - least privilege for a hostile guest: NO_NEW_PRIVS, --user, and
 * a seccomp-BPF filter per thread kind installed before the guest runs. */
#include "sandbox.h"
#include "console.h"
#include "seccomp_rules.h"
#include "util.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#ifdef MKVM_TEST_HOOKS
#include <sys/socket.h>
#endif

/* x86-64 system call names by number, generated from <asm/unistd_64.h> by
 * the Makefile: the SIGSYS handler cannot call libseccomp's resolver
 * (it allocates). */
static const char *const syscall_names[] = {
#include "syscall_names.h"
};

/* One BPF program per thread kind, compiled from seccomp_rules.c at build
 * time by tools/seccomp-gen.c (libseccomp), so loading one allocates nothing
 * and costs microseconds. */
#include "seccomp_bpf.h"

/* Which kind this thread is, for the SIGSYS report: a signal handler has no
 * other way to learn it. Set once per thread, before its filter. */
static _Thread_local const char *thread_kind = "unsealed";

const char *sandbox_kind_name(enum sandbox_kind kind)
{
    return seccomp_kind_names[kind];
}

int sandbox_rules(enum sandbox_kind kind)
{
    return (int)(seccomp_common.n + seccomp_list_of(kind)->n);
}

void sandbox_init(struct sandbox *s, bool seccomp, const struct sandbox_user *user)
{
    memset(s, 0, sizeof(*s));
    s->seccomp = seccomp;
    if (user)
        s->user = *user;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cv, NULL);
}

int sandbox_parse_user(const char *arg, struct sandbox_user *u, char *err, size_t errlen)
{
    const char *colon = strchr(arg, ':');
    char uid[16];
    unsigned long uv, gv;
    /* 4294967295 is (uid_t)-1, "no change" to setresuid: not a user */
    if (!colon || (size_t)(colon - arg) >= sizeof(uid) ||
        (snprintf(uid, sizeof(uid), "%.*s", (int)(colon - arg), arg),
         parse_uint(uid, 0, 4294967294UL, &uv)) || parse_uint(colon + 1, 0, 4294967294UL, &gv)) {
        snprintf(err, errlen, "--user '%s': expected numeric UID:GID (e.g. 65534:65534)", arg);
        return -1;
    }
    if (uv == 0 || gv == 0) {
        snprintf(err, errlen, "--user '%s': the guest must not run as root or group 0", arg);
        return -1;
    }
    *u = (struct sandbox_user){ .set = true, .uid = (uid_t)uv, .gid = (gid_t)gv };
    return 0;
}

/* ---- the report on a forbidden call (async-signal-safe: write, _exit) ---- */

static size_t put(char *b, size_t n, const char *s)
{
    while (*s && n < 200)
        b[n++] = *s++;
    return n;
}

static size_t put_num(char *b, size_t n, unsigned v)
{
    char d[12];
    int k = 0;
    do
        d[k++] = (char)('0' + v % 10);
    while ((v /= 10) && k < 11);
    while (k)
        b[n++] = d[--k];
    return n;
}

static size_t put_hex(char *b, size_t n, unsigned long v)
{
    static const char digits[] = "0123456789abcdef";
    int shift = 60;
    while (shift > 0 && !(v >> shift))
        shift -= 4;
    n = put(b, n, "0x");
    for (; shift >= 0; shift -= 4)
        b[n++] = digits[(v >> shift) & 15];
    return n;
}

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    unsigned nr = (unsigned)si->si_syscall;
    size_t nnames = sizeof(syscall_names) / sizeof(syscall_names[0]);
    const char *name = nr < nnames && syscall_names[nr] ? syscall_names[nr] : "unknown";
    char b[256];
    size_t n = put(b, 0, PROG ": seccomp: ");
    n = put(b, n, thread_kind);
    n = put(b, n, " thread made forbidden system call ");
    n = put_num(b, n, nr);
    n = put(b, n, " (");
    n = put(b, n, name);
    if (nr == SYS_ioctl) {      /* which request: its second argument, in rsi */
        n = put(b, n, " request ");
        n = put_hex(b, n, (unsigned long)((ucontext_t *)ctx)->uc_mcontext.gregs[REG_RSI]);
    }
    n = put(b, n, "): killed\n");
    ssize_t w = write(2, b, n);
    (void)w;
    console_restore();
    _exit(128 + SIGSYS);    /* what a shell shows for a process killed by SIGSYS */
}

/* ---- privileges ---- */

int sandbox_early(const struct sandbox *s)
{
    /* glibc's malloc reads /proc/sys/vm/overcommit_memory the first time a
     * thread's own arena gives memory back (shrink_heap), which a sealed
     * thread may not open: found when the API thread, sealed from its start,
     * wrote a snapshot. One arena (the main one, grown with brk) for every
     * thread never does that; mini-kvm's threads allocate rarely. */
    mallopt(M_ARENA_MAX, 1);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        errorf("prctl(PR_SET_NO_NEW_PRIVS): %s", strerror(errno));
        return -1;
    }
    if (!s->user.set)
        return 0;
    if (geteuid() != 0) {
        errorf("--user %u:%u: mini-kvm must be started as root to change user",
               (unsigned)s->user.uid, (unsigned)s->user.gid);
        return -1;
    }
    /* The bounding set limits what an execve could ever gain back; every
     * thread created from now on inherits it empty. */
    for (int cap = 0; prctl(PR_CAPBSET_READ, cap, 0, 0, 0) >= 0; cap++) {
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
            errorf("--user: cannot drop capability %d from the bounding set: %s", cap,
                   strerror(errno));
            return -1;
        }
    }
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) {
        errorf("--user: cannot clear the ambient capabilities: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* Groups, then gid, then uid (glibc applies each to every thread); leaving
 * uid 0 clears the permitted and effective sets; capset makes sure. */
static int drop_user(const struct sandbox_user *u)
{
    gid_t g = u->gid;
    if (setgroups(1, &g) < 0 || setresgid(g, g, g) < 0 || setresuid(u->uid, u->uid, u->uid) < 0) {
        errorf("--user %u:%u: cannot switch user: %s", (unsigned)u->uid, (unsigned)g,
               strerror(errno));
        return -1;
    }
    struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof(d));
    if (syscall(SYS_capset, &h, d) < 0) {
        errorf("--user: cannot clear capabilities: %s", strerror(errno));
        return -1;
    }
    uid_t r, e, sv;
    if (getresuid(&r, &e, &sv) < 0 || r != u->uid || e != u->uid || sv != u->uid ||
        setuid(0) == 0) {
        errorf("--user %u:%u: the switch did not stick", (unsigned)u->uid, (unsigned)g);
        return -1;
    }
    return 0;
}

/* ---- filters ---- */

/* Load this thread's filter: anything not allowed traps from now on. */
static int install(enum sandbox_kind kind)
{
    thread_kind = seccomp_kind_names[kind];
    if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &seccomp_bpf[kind], 0, 0) < 0) {
        errorf("seccomp: cannot install the %s thread's filter: %s", seccomp_kind_names[kind],
               strerror(errno));
        return -1;
    }
    return 0;
}

static int install_sigsys(void)
{
    struct sigaction sa = { 0 };
    sa.sa_sigaction = on_sigsys;
    sa.sa_flags = SA_SIGINFO;
    if (sigaction(SIGSYS, &sa, NULL) < 0) {
        errorf("seccomp: sigaction SIGSYS: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int cmp_int(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* glibc state that makes system calls on first use must be set up before
 * any thread seals: the RTC's timegm() reads /etc/localtime the first time,
 * and qsort asks the memory size (sysinfo) the first time it sorts more
 * than 1 KiB (--stats, --top). */
static void prewarm(void)
{
    tzset();
    int v[512] = { 0 };
    qsort(v, sizeof(v) / sizeof(v[0]), sizeof(v[0]), cmp_int);
}

static void open_gate(struct sandbox *s)
{
    pthread_mutex_lock(&s->lock);
    s->open = true;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->lock);
}

void sandbox_unsealed(struct sandbox *s)
{
    prewarm();
    if (s->seccomp)
        install_sigsys();
    open_gate(s);
}

int sandbox_seal_main(struct sandbox *s)
{
    int r = 0;
    prewarm();
    if (s->user.set)
        r = drop_user(&s->user);
    if (r == 0 && s->seccomp)
        r = install_sigsys() ? -1 : SANDBOX_SANITIZED ? 0 : install(SANDBOX_MAIN);
    open_gate(s);
    return r;
}

void sandbox_enter(struct sandbox *s, enum sandbox_kind kind)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    while (!s->open)
        pthread_cond_wait(&s->cv, &s->lock);
    pthread_mutex_unlock(&s->lock);
    if (s->seccomp && install(kind)) {
        console_restore();
        _exit(1);       /* never run a thread without its filter */
    }
#ifdef MKVM_TEST_HOOKS
    /* the test build's forbidden call (tests/integration/test_security.py) */
    if (kind == SANDBOX_VCPU)
        socket(AF_INET, SOCK_STREAM, 0);
#endif
}
