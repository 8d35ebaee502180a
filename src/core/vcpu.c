/* vcpu.c - a vCPU's thread: KVM_RUN, then turn each exit into a bus access
 * or a stop. The loop stays small: devices live behind the bus. */
#include "vcpu.h"
#include "debug/gdbstub.h"
#include "kvm.h"
#include "sandbox.h"
#include "tracefile.h"
#include "util.h"
#include "vm.h"

#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

struct vcpu *vcpu_create(struct vm *vm, int id)
{
    struct vcpu *c = xcalloc(1, sizeof(*c));
    c->vm = vm;
    c->id = id;
    c->fd = ioctl(vm->fd, KVM_CREATE_VCPU, id);
    if (c->fd < 0) {
        errorf("%s: KVM_CREATE_VCPU %d: %s", vm->name, id, strerror(errno));
        free(c);
        return NULL;
    }
    c->run = mmap(NULL, (size_t)vm->kvm->run_size, PROT_READ | PROT_WRITE,
                  MAP_SHARED, c->fd, 0);
    if (c->run == MAP_FAILED) {
        errorf("%s: mmap of vCPU %d run area: %s", vm->name, id, strerror(errno));
        close(c->fd);
        free(c);
        return NULL;
    }
    return c;
}

void vcpu_destroy(struct vcpu *c)
{
    if (!c)
        return;
    munmap(c->run, (size_t)c->vm->kvm->run_size);
    close(c->fd);
    free(c);
}

struct kvm_regs *vcpu_regs(struct vcpu *c)
{
    if (!c->regs_valid) {
        if (ioctl(c->fd, KVM_GET_REGS, &c->regs) < 0) {
            errorf("%s: KVM_GET_REGS: %s", c->vm->name, strerror(errno));
            return NULL;
        }
        c->regs_valid = true;
    }
    return &c->regs;
}

void vcpu_regs_dirty(struct vcpu *c)
{
    c->regs_dirty = true;
}

int vcpu_get_sregs(struct vcpu *c, struct kvm_sregs *s)
{
    if (ioctl(c->fd, KVM_GET_SREGS, s) < 0) {
        errorf("%s: KVM_GET_SREGS: %s", c->vm->name, strerror(errno));
        return -1;
    }
    return 0;
}

const struct kvm_sregs *vcpu_sregs(struct vcpu *c)
{
    if (!c->sregs_valid) {
        if (vcpu_get_sregs(c, &c->sregs))
            return NULL;
        c->sregs_valid = true;
    }
    return &c->sregs;
}

int vcpu_translate(struct vcpu *c, uint64_t lin, uint64_t *gpa)
{
    struct kvm_translation t = { .linear_address = lin };
    if (ioctl(c->fd, KVM_TRANSLATE, &t) < 0) {
        errorf("%s: KVM_TRANSLATE 0x%llx: %s", c->vm->name, (unsigned long long)lin,
               strerror(errno));
        return -1;
    }
    if (!t.valid)
        return -1;
    *gpa = t.physical_address;
    return 0;
}

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid   /* the name glibc < 2.37 lacks */
#endif

static void kick_handler(int sig)
{
    (void)sig;  /* only interrupts KVM_RUN (EINTR) */
}

int vcpu_kick_install(void)
{
    struct sigaction sa = { 0 };
    sa.sa_handler = kick_handler;
    if (sigaction(VCPU_KICK_SIGNAL, &sa, NULL) < 0) {   /* without it a kick would kill us */
        errorf("sigaction SIGUSR1 (the vCPU kick): %s", strerror(errno));
        return -1;
    }
    return 0;
}

void vcpu_note_host_pause(struct vcpu *c)
{
    if (ioctl(c->fd, KVM_KVMCLOCK_CTRL, 0) < 0 && errno != EINVAL && errno != ENOTTY)
        errorf("%s: cpu%d: KVM_KVMCLOCK_CTRL: %s", c->vm->name, c->id, strerror(errno));
}

int vcpu_run_bounded(struct vcpu *c, unsigned ms)
{
    struct sigevent ev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = VCPU_KICK_SIGNAL };
    ev.sigev_notify_thread_id = gettid();
    struct itimerspec t = {
        .it_value = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 },
        .it_interval = { .tv_nsec = 10 * 1000000 },
    };
    timer_t timer;
    if (vcpu_kick_install())
        return -1;
    if (timer_create(CLOCK_MONOTONIC, &ev, &timer) < 0) {
        errorf("%s: timer_create for a bounded KVM_RUN: %s", c->vm->name, strerror(errno));
        return -1;
    }
    int r = timer_settime(timer, 0, &t, NULL);
    if (r < 0)
        errorf("%s: timer_settime for a bounded KVM_RUN: %s", c->vm->name, strerror(errno));
    bool done = false;
    for (int i = 0; r == 0 && !done && i < 16; i++) {
        if (ioctl(c->fd, KVM_RUN, 0) < 0)
            r = -1;         /* an error, or the bound (EINTR) */
        else
            done = c->run->exit_reason != KVM_EXIT_INTR;
    }
    timer_delete(timer);    /* disarms it; a pending kick finds the no-op handler */
    return r == 0 && done ? 0 : -1;
}

/* One KVM_EXIT_IO: `count` elements of `size` bytes each (count > 1 for
 * rep ins/outs), all in the run page at data_offset. */
int vcpu_dispatch_io(struct vcpu *c)
{
    struct kvm_run *run = c->run;
    uint64_t total = (uint64_t)run->io.size * run->io.count;
    if (run->io.data_offset > (uint64_t)c->vm->kvm->run_size ||
        total > (uint64_t)c->vm->kvm->run_size - run->io.data_offset) {
        errorf("%s: malformed I/O exit (port 0x%x count %u)", c->vm->name,
               run->io.port, run->io.count);
        vm_stop(c->vm, VM_EXIT_FAULT);
        return IO_STOP;
    }
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    for (uint32_t i = 0; i < run->io.count; i++) {
        struct io_req req = {
            .addr = run->io.port,
            .data = data + (size_t)i * run->io.size,
            .len = run->io.size,
            .write = run->io.direction == KVM_EXIT_IO_OUT,
            .cpu = c,
        };
        int r = bus_access(&c->vm->pio, &req);
        c->exit_range = req.range;      /* every element: the same port */
        if (r == IO_STOP)
            return IO_STOP;
    }
    return IO_OK;
}

static int handle_mmio(struct vcpu *c)
{
    struct kvm_run *run = c->run;
    struct io_req req = {
        .addr = run->mmio.phys_addr,
        .data = run->mmio.data,
        .len = run->mmio.len > 8 ? 8 : run->mmio.len,
        .write = run->mmio.is_write,
        .cpu = c,
    };
    int r = bus_access(&c->vm->mmio, &req);
    c->exit_range = req.range;
    return r == IO_STOP ? IO_STOP : IO_OK;
}

static int fault(struct vcpu *c, const char *reason)
{
    vcpu_dump(c, reason);
    vm_stop(c->vm, VM_EXIT_FAULT);
    return IO_STOP;
}

static int handle_system_event(struct vcpu *c)
{
    switch (c->run->system_event.type) {
    case KVM_SYSTEM_EVENT_SHUTDOWN:
        vm_stop(c->vm, 0);
        return IO_STOP;
    case KVM_SYSTEM_EVENT_RESET:
        vm_guest_reset(c->vm, "KVM system reset event");
        return IO_STOP;
    default:
        return fault(c, "unexpected system event");
    }
}

/* Returns IO_OK to run the guest again, IO_STOP to leave the loop. */
static int handle_exit(struct vcpu *c)
{
    struct kvm_run *run = c->run;
    char why[128];
    switch (run->exit_reason) {
    case KVM_EXIT_IO:
        return vcpu_dispatch_io(c);
    case KVM_EXIT_MMIO:
        return handle_mmio(c);
    case KVM_EXIT_HLT:
        /* Only without an in-kernel irqchip: nothing can wake the CPU, so
         * a halted teaching guest is finished. */
        vm_stop(c->vm, 0);
        return IO_STOP;
    case KVM_EXIT_INTR:
    case KVM_EXIT_IRQ_WINDOW_OPEN:
        return IO_OK;
    case KVM_EXIT_SYSTEM_EVENT:
        return handle_system_event(c);
    case KVM_EXIT_SHUTDOWN:
        if (c->vm->explain_fault && c->vm->explain_fault(c)) {
            vm_stop(c->vm, VM_EXIT_FAULT);
            return IO_STOP;
        }
        return fault(c, "triple fault (KVM_EXIT_SHUTDOWN)");
    case KVM_EXIT_FAIL_ENTRY:
        snprintf(why, sizeof(why), "VM entry failed (hardware reason 0x%llx)",
                 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
        return fault(c, why);
    case KVM_EXIT_INTERNAL_ERROR:
        snprintf(why, sizeof(why), "KVM internal error (suberror %u%s)",
                 run->internal.suberror,
                 run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION
                     ? ": instruction emulation failed" : "");
        return fault(c, why);
    default:
        snprintf(why, sizeof(why), "unhandled exit reason %u (%s)",
                 run->exit_reason, exit_reason_name(run->exit_reason));
        return fault(c, why);
    }
}

/* After the device answered (so reads show their value): count the exit by
 * reason and device, and print it with --trace. */
static void account_exit(struct vcpu *c, bool trace)
{
    struct vm *vm = c->vm;
    uint32_t why = c->run->exit_reason;
    bool io = why == KVM_EXIT_IO, mmio = why == KVM_EXIT_MMIO;
    const struct bus *b = mmio ? &vm->mmio : &vm->pio;
    const char *dev = c->exit_range ? c->exit_range->name : NULL;
    stats_count(&c->stats, c->run, io || mmio ? stats_dev_index(b, c->exit_range) : STATS_NODEV);
    if (trace)
        trace_exit(vm->name, c->id, c->run, (uint32_t)vm->kvm->run_size, dev);
    if (c->trace_buf)
        trace_buf_exit(c->trace_buf, vm->name, c->id, c->run, (uint32_t)vm->kvm->run_size, dev);
}

/* Where a VM has more vCPUs than the host CPUs it may use (two on the lab's
 * one), its vCPU threads take turns, and a vCPU woken by another's IPI would
 * preempt the sender at once (the scheduler's wakeup preemption), often
 * while the sender still holds the guest spinlock the woken vCPU then wants:
 * it spins a time slice away. SCHED_BATCH (no wakeup preemption; fair share
 * unchanged) lets the sender run on to its next halt or the host's tick.
 * Measured in the lab, docs/linux-boot.md "Two vCPUs on one host CPU". */
static void share_host_politely(struct vcpu *c)
{
    struct sched_param p = { .sched_priority = 0 };
    if (sched_setscheduler(0, SCHED_BATCH, &p) < 0)
        errorf("%s: vCPU %d: SCHED_BATCH: %s (going on without it)", c->vm->name, c->id,
               strerror(errno));
}

/* The thread's name ("vcpu0": top -H, perf, /proc) and, where the vCPUs
 * share host CPUs, its policy: before its filter, which allows neither. */
static void set_up_thread(struct vcpu *c)
{
    char name[16];
    snprintf(name, sizeof name, "vcpu%d", c->id);
    int e = pthread_setname_np(c->self, name);
    if (e)
        errorf("%s: vCPU %d: naming its thread: %s", c->vm->name, c->id, strerror(e));
    if (c->vm->cpus_share_host)
        share_host_politely(c);
}

void *vcpu_thread(void *arg)
{
    struct vcpu *c = arg;
    struct vm *vm = c->vm;
    c->self = pthread_self();
    set_up_thread(c);
    if (!vm_wait_start(vm))
        return NULL;            /* destroyed before it started */
    bool trace = vm->trace;
    c->trace_buf = trace_buf_new(vm->trace_file);
    atomic_store(&c->running, true);    /* vm_stop may signal us from now on */
    sandbox_enter(vm->sandbox, SANDBOX_VCPU);   /* before the guest's first instruction */
    while (!atomic_load(&vm->stopping)) {
        if (c->regs_dirty) {
            if (ioctl(c->fd, KVM_SET_REGS, &c->regs) < 0) {
                errorf("%s: KVM_SET_REGS: %s", vm->name, strerror(errno));
                vm_stop(vm, VM_EXIT_FAULT);
                break;
            }
            c->regs_dirty = false;
        }
        c->regs_valid = c->sregs_valid = false;
        int r = ioctl(c->fd, KVM_RUN, 0);
        /* --gdb: the stub's one hook (breakpoints, steps, stop requests) */
        if (vm->gdb && gdbstub_vcpu_exit(vm->gdb, c, r < 0 ? errno : 0))
            continue;
        if (r < 0) {
            if (errno == EINTR || errno == EAGAIN) {
                __atomic_store_n(&c->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
                /* Here, and only here, KVM has completed any pending I/O:
                 * the place to park for a pause or a snapshot. */
                if (atomic_load(&vm->pause_req) && vm_park(vm))
                    vcpu_note_host_pause(c);
                continue;
            }
            errorf("%s: KVM_RUN: %s", vm->name, strerror(errno));
            vm_stop(vm, VM_EXIT_FAULT);
            break;
        }
        c->exit_range = NULL;
        r = handle_exit(c);
        account_exit(c, trace);
        if (r == IO_STOP)
            break;
    }
    trace_buf_free(c->trace_buf);       /* the rest of this vCPU's lines */
    c->trace_buf = NULL;
    return NULL;
}
