/* vcpu.h - one virtual CPU: its fd, the shared kvm_run page, a register
 * cache, and the exit loop that runs on the vCPU's own thread. */
#ifndef MINI_KVM_VCPU_H
#define MINI_KVM_VCPU_H

#include "stats.h"

#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct vm;

struct vcpu {
    struct vm *vm;
    int id;
    int fd;
    struct kvm_run *run;
    pthread_t thread;           /* set by vm_start */
    pthread_t self;             /* set by the thread itself, then running */
    atomic_bool running;
    struct kvm_regs regs;       /* valid when regs_valid */
    struct kvm_sregs sregs;     /* valid when sregs_valid (read-only cache) */
    bool regs_valid, regs_dirty, sregs_valid;
    struct stats stats;         /* this vCPU's exits, for --stats and --top */
    const struct bus_range *exit_range; /* the device of this exit's access,
                                         * NULL if none claimed it */
    struct trace_buf *trace_buf;        /* --trace-file: this vCPU's lines */
};

struct vcpu *vcpu_create(struct vm *vm, int id);
void vcpu_destroy(struct vcpu *c);

/* The exit loop; runs until the VM stops. */
void *vcpu_thread(void *arg);

/* Register access for devices (hypercalls). vcpu_regs fetches once per exit;
 * after changing them call vcpu_regs_dirty so they are written back before
 * the next KVM_RUN. Return NULL / -1 on ioctl failure (reported). */
struct kvm_regs *vcpu_regs(struct vcpu *c);
void vcpu_regs_dirty(struct vcpu *c);
int vcpu_get_sregs(struct vcpu *c, struct kvm_sregs *s);
/* Cached KVM_GET_SREGS for this exit (NULL on failure, reported). */
const struct kvm_sregs *vcpu_sregs(struct vcpu *c);

/* Dispatch the KVM_EXIT_IO in c->run through the port bus, element by
 * element for string I/O. Returns IO_OK or IO_STOP. */
int vcpu_dispatch_io(struct vcpu *c);

/* Translate a guest linear address to guest-physical for [lin, lin+len)
 * that must not cross a page; uses KVM_TRANSLATE. Returns 0 or -1. */
int vcpu_translate(struct vcpu *c, uint64_t lin, uint64_t *gpa);

/* The vCPU kick: SIGUSR1 with a handler that does nothing, so that the
 * signal only makes this thread's KVM_RUN return EINTR. Installs it
 * (process-wide, idempotent); returns 0 or -1 after one error line. */
#define VCPU_KICK_SIGNAL SIGUSR1
int vcpu_kick_install(void);

/* Tell a kvm-clock guest that the host stopped it (KVM_KVMCLOCK_CTRL, as
 * QEMU does on every resume): its clock jumps by the time it was stopped
 * and Linux's soft-lockup and RCU-stall watchdogs would otherwise report
 * that jump as a stall and dump stacks to the console. A guest without
 * kvm-clock (EINVAL) or a KVM without the ioctl has nothing to tell. */
void vcpu_note_host_pause(struct vcpu *c);

/* KVM_RUN on the calling thread, bounded by `ms` milliseconds (the host
 * probes, which run a vCPU on the main thread): a timer of this thread only
 * (timer_create, SIGEV_THREAD_ID) sends it the kick, and again every 10 ms
 * after the bound in case one landed between two KVM_RUNs. Interrupt exits
 * are run through. Returns 0 with c->run holding the exit, or -1 (error or
 * bound reached; a timer failure is reported). */
int vcpu_run_bounded(struct vcpu *c, unsigned ms);

/* Print the register and segment dump with a one-line reason on stderr. */
void vcpu_dump(struct vcpu *c, const char *reason);

#endif
