/* sandbox.h - least privilege: no new privileges, an optional drop to an
 * unprivileged user, and one seccomp-BPF filter per thread kind (docs/security.md). */
#ifndef MINI_KVM_SANDBOX_H
#define MINI_KVM_SANDBOX_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

/* make mini-kvm-asan: LeakSanitizer's check at exit traces the process from
 * a clone of the main thread (clone, ptrace, /proc), which no filter should
 * allow, so in sanitizer builds the main thread stays unfiltered. */
#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_SANITIZED 1
#endif
#endif
#ifndef SANDBOX_SANITIZED
#define SANDBOX_SANITIZED 0
#endif

/* Every kind of thread mini-kvm runs; each has its own allow-list. */
enum sandbox_kind {
    SANDBOX_MAIN,       /* main(): set-up, then waits for the guests and cleans up */
    SANDBOX_VCPU,       /* one per vCPU: KVM_RUN and the devices behind the buses */
    SANDBOX_CONSOLE,    /* the stdin reader: input ring, Ctrl-A keys */
    SANDBOX_WATCHDOG,   /* --timeout */
    SANDBOX_GDB,        /* --gdb: the stub's socket */
    SANDBOX_TOP,        /* --top (or Ctrl-A t): the status area once a second */
    SANDBOX_API,        /* --api: the control socket, once the guest runs */
    SANDBOX_IO,         /* the VM's I/O thread: virtio queues, TAP, irqfd resamples */
    SANDBOX_KINDS
};

/* --user UID:GID, parsed by cli.c. */
struct sandbox_user {
    bool set;
    uid_t uid;
    gid_t gid;
};

/* Shared by every thread of the process. Threads started during set-up wait
 * at the gate until main has dropped privileges and sealed itself, then each
 * installs its own filter before it touches the guest. */
struct sandbox {
    bool seccomp;               /* false with --no-seccomp */
    struct sandbox_user user;
    pthread_mutex_t lock;
    pthread_cond_t cv;
    bool open;                  /* the gate: main is sealed */
};

void sandbox_init(struct sandbox *s, bool seccomp, const struct sandbox_user *user);

/* First thing in main, while single-threaded: PR_SET_NO_NEW_PRIVS always;
 * with --user also check we are root and empty the capability bounding and
 * ambient sets (they are inherited by every thread created later). 0 or -1
 * after one line. */
int sandbox_early(const struct sandbox *s);

/* Main, after every file, device and socket is open and every thread has
 * been created: drop to --user (groups, gid, uid, capabilities), install
 * the main thread's filter, open the gate. 0 or -1 after one line; the gate
 * is opened either way so waiting threads can see the VMs stop. */
int sandbox_seal_main(struct sandbox *s);

/* --api: the guest is built on the API thread when a client asks, so open
 * the gate at once: vCPU and console threads seal themselves as they start,
 * the API thread (sandbox_enter SANDBOX_API) and main (sandbox_seal_main)
 * once the guest has started (docs/security.md). */
void sandbox_unsealed(struct sandbox *s);

/* Other threads, first thing: wait for the gate, install this kind's
 * filter. s may be NULL (probes, unit tests): nothing to do. A filter that
 * cannot be installed ends the process with one line (never run unfiltered). */
void sandbox_enter(struct sandbox *s, enum sandbox_kind kind);

/* "main", "vcpu", ...: for messages and docs. */
const char *sandbox_kind_name(enum sandbox_kind kind);

/* Number of allow-list entries of a kind (docs/security.md, tests). */
int sandbox_rules(enum sandbox_kind kind);

/* Parse "UID:GID" (decimal, not 0:0). 0 or -1 with a message in err. */
int sandbox_parse_user(const char *arg, struct sandbox_user *u, char *err, size_t errlen);

#endif
