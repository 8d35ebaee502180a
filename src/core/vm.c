/* vm.c - create a VM with its RAM, run its vCPUs on threads, and stop it
 * from any thread. Devices hang off the VM's two buses. */
#include "vm.h"
#include "arch/layout.h"
#include "kvm.h"
#include "util.h"
#include "console.h"
#include "vcpu.h"
#include "iothread.h"
#include "debug/gdbstub.h"

#include <errno.h>
#include <linux/kvm.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <unistd.h>

int vm_create(struct vm *vm, struct kvm_host *kvm, const char *name, uint64_t ram)
{
    memset(vm, 0, sizeof(*vm));
    vm->name = name;
    vm->kvm = kvm;
    vm->fd = -1;
    bus_init(&vm->pio, "port");
    bus_init(&vm->mmio, "mmio");
    atomic_init(&vm->stopping, false);
    atomic_init(&vm->pause_req, false);
    pthread_mutex_init(&vm->pause_lock, NULL);
    pthread_condattr_t ca;      /* vm_pause's bound must not follow wall-clock jumps */
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&vm->pause_cond, &ca);
    pthread_condattr_destroy(&ca);

    vm->fd = ioctl(kvm->fd, KVM_CREATE_VM, 0);
    if (vm->fd < 0) {
        errorf("%s: KVM_CREATE_VM: %s", name, strerror(errno));
        return -1;
    }
    if (mem_init(&vm->mem, ram) < 0) {
        errorf("%s: cannot allocate %llu bytes of guest RAM: %s", name,
               (unsigned long long)ram, strerror(errno));
        return -1;
    }
    for (int i = 0; i < vm->mem.nr; i++) {
        struct kvm_userspace_memory_region r = {
            .slot = (uint32_t)i,
            .guest_phys_addr = vm->mem.r[i].gpa,
            .memory_size = vm->mem.r[i].size,
            .userspace_addr = (uint64_t)(uintptr_t)vm->mem.r[i].host,
        };
        if (ioctl(vm->fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
            errorf("%s: KVM_SET_USER_MEMORY_REGION: %s", name, strerror(errno));
            return -1;
        }
    }
    return 0;
}

int vm_create_irqchip(struct vm *vm)
{
    if (!vm->kvm->irqchip) {
        errorf("%s: this host's KVM has no in-kernel irqchip (KVM_CAP_IRQCHIP)", vm->name);
        return -1;
    }
    if (vm->kvm->tss_addr && ioctl(vm->fd, KVM_SET_TSS_ADDR, VMM_TSS_ADDR) < 0) {
        errorf("%s: KVM_SET_TSS_ADDR: %s", vm->name, strerror(errno));
        return -1;
    }
    uint64_t ident = VMM_IDENTITY_ADDR;
    if (ioctl(vm->fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0 && errno != EINVAL) {
        errorf("%s: KVM_SET_IDENTITY_MAP_ADDR: %s", vm->name, strerror(errno));
        return -1;
    }
    if (ioctl(vm->fd, KVM_CREATE_IRQCHIP, 0) < 0) {
        errorf("%s: KVM_CREATE_IRQCHIP: %s", vm->name, strerror(errno));
        return -1;
    }
    vm->irqchip = true;
    if (vm->kvm->pit) {
        struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
        if (ioctl(vm->fd, KVM_CREATE_PIT2, &pit) < 0) {
            errorf("%s: KVM_CREATE_PIT2: %s", vm->name, strerror(errno));
            return -1;
        }
    }
    return 0;
}

int vm_add_cpus(struct vm *vm, int ncpus)
{
    if (ncpus > vm->kvm->max_vcpus || ncpus > VM_MAX_CPUS) {
        errorf("%s: %d vCPUs requested, this host allows %d", vm->name, ncpus,
               vm->kvm->max_vcpus < VM_MAX_CPUS ? vm->kvm->max_vcpus : VM_MAX_CPUS);
        return -1;
    }
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        vm->cpus_share_host = ncpus > CPU_COUNT(&set);
    for (int i = 0; i < ncpus; i++) {
        vm->cpus[i] = vcpu_create(vm, i);
        if (!vm->cpus[i])
            return -1;
        vm->ncpus = i + 1;
    }
    return 0;
}

/* A new thread can wait a millisecond or more for its first time on a CPU
 * of a busy host (measured: restore to a running guest 3.2 ms with the
 * threads created at vm_start, 2.2 ms created while the VM is built); so
 * the VM's builders create them early and they wait for vm_start. */
int vm_spawn_cpus(struct vm *vm)
{
    for (int i = vm->started; i < vm->ncpus; i++) {
        int e = pthread_create(&vm->cpus[i]->thread, NULL, vcpu_thread, vm->cpus[i]);
        if (e) {
            errorf("%s: cannot start vCPU %d thread: %s", vm->name, i, strerror(e));
            return -1;
        }
        vm->started++;
    }
    return 0;
}

bool vm_wait_start(struct vm *vm)
{
    pthread_mutex_lock(&vm->pause_lock);
    while (!vm->go)
        pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
    bool run = !vm->abandoned;
    pthread_mutex_unlock(&vm->pause_lock);
    return run;
}

/* Let the threads run (or end, abandon); true if they had not been let go. */
static bool let_go(struct vm *vm, bool abandon)
{
    pthread_mutex_lock(&vm->pause_lock);
    bool first = !vm->go;
    if (first)
        vm->abandoned = abandon;
    vm->go = true;
    pthread_cond_broadcast(&vm->pause_cond);
    pthread_mutex_unlock(&vm->pause_lock);
    return first;
}

void vm_start(struct vm *vm)
{
    vcpu_kick_install();        /* a failure is reported; stops still set immediate_exit */
    iothread_seal(vm->io, vm->sandbox);
    if (vm_spawn_cpus(vm))
        vm_stop(vm, VM_EXIT_FAULT);
    let_go(vm, false);
}

static void kick_all(struct vm *vm);

/* Join a vCPU thread; while the VM is stopping, kick it again every
 * KICK_AGAIN_NS. One kick is not always enough: a vCPU that checked the
 * stop flag and then blocked in write(2) (stdout a full pipe) missed the
 * kick that came in between, and only a later one gets it out. */
#define KICK_AGAIN_NS 50000000L
static int join_vcpu(struct vm *vm, pthread_t t)
{
    for (;;) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);  /* pthread_timedjoin_np's clock */
        until.tv_nsec += KICK_AGAIN_NS;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        int e = pthread_timedjoin_np(t, NULL, &until);
        if (e != ETIMEDOUT)
            return e;
        if (atomic_load(&vm->stopping))
            kick_all(vm);
    }
}

int vm_wait(struct vm *vm)
{
    for (int i = 0; i < vm->started; i++) {
        int e = join_vcpu(vm, vm->cpus[i]->thread);
        if (e) {    /* cannot happen for a thread we started: say so if it does */
            errorf("%s: cannot join vCPU %d thread: %s", vm->name, i, strerror(e));
            vm->exit_status = VM_EXIT_FAULT;
        }
    }
    vm->started = 0;
    return vm->exit_status;
}

/* Out of KVM_RUN at once: immediate_exit for a vCPU about to enter, a
 * signal for one inside (or halted in the in-kernel LAPIC). */
static void kick_all(struct vm *vm)
{
    for (int i = 0; i < vm->ncpus; i++) {
        struct vcpu *c = vm->cpus[i];
        __atomic_store_n(&c->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
        /* only threads that have started: their id is set by then */
        if (atomic_load(&c->running) && !pthread_equal(c->self, pthread_self()))
            pthread_kill(c->self, VCPU_KICK_SIGNAL);
    }
}

int vm_pause(struct vm *vm)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += 5;
    pthread_mutex_lock(&vm->pause_lock);
    atomic_store(&vm->pause_req, true);
    kick_all(vm);
    int r = 0;
    while (vm->parked < vm->started && !atomic_load(&vm->stopping) && r != ETIMEDOUT)
        r = pthread_cond_timedwait(&vm->pause_cond, &vm->pause_lock, &until);
    bool ok = vm->parked == vm->started && !atomic_load(&vm->stopping);
    pthread_mutex_unlock(&vm->pause_lock);
    if (ok)
        iothread_pause(vm->io);     /* and no device work half done */
    if (!ok) {
        errorf("%s: cannot pause: %s", vm->name, atomic_load(&vm->stopping)
               ? "the guest has stopped" : "a vCPU did not stop within 5 s");
        vm_resume(vm);
    }
    return ok ? 0 : -1;
}

void vm_pause_before_start(struct vm *vm)
{
    atomic_store(&vm->pause_req, true);
    kick_all(vm);       /* no thread yet: only immediate_exit is set */
}

void vm_resume(struct vm *vm)
{
    iothread_resume(vm->io);
    pthread_mutex_lock(&vm->pause_lock);
    atomic_store(&vm->pause_req, false);
    pthread_cond_broadcast(&vm->pause_cond);
    pthread_mutex_unlock(&vm->pause_lock);
}

bool vm_park(struct vm *vm)
{
    pthread_mutex_lock(&vm->pause_lock);
    vm->parked++;
    pthread_cond_broadcast(&vm->pause_cond);
    while (atomic_load(&vm->pause_req) && !atomic_load(&vm->stopping))
        pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
    vm->parked--;
    pthread_mutex_unlock(&vm->pause_lock);
    return !atomic_load(&vm->stopping);
}

void vm_stop(struct vm *vm, int status)
{
    bool expected = false;
    if (!atomic_compare_exchange_strong(&vm->stopping, &expected, true))
        return;     /* someone else stopped it first: keep their status */
    vm->exit_status = status;
    if (vm->con)
        console_port_stop(vm->con);     /* a vCPU may wait for input */
    if (vm->gdb)
        gdbstub_vm_stopping(vm->gdb);   /* vCPUs parked by the debugger */
    pthread_mutex_lock(&vm->pause_lock);        /* vCPUs parked by vm_pause */
    pthread_cond_broadcast(&vm->pause_cond);
    pthread_mutex_unlock(&vm->pause_lock);
    kick_all(vm);
}

void vm_guest_reset(struct vm *vm, const char *how)
{
    if (!atomic_load(&vm->stopping))
        errorf("%s: guest requested a reboot (%s): exiting (reboot = exit status 0)",
               vm->name, how);
    vm->reset_requested = true;
    vm_stop(vm, 0);
}

void vm_irq_line(struct vm *vm, unsigned gsi, int level)
{
    if (vm->fd < 0 || !vm->irqchip)
        return;
    struct kvm_irq_level irq = { .irq = gsi, .level = level };
    if (ioctl(vm->fd, KVM_IRQ_LINE, &irq) < 0)
        errorf("%s: KVM_IRQ_LINE gsi %u: %s", vm->name, gsi, strerror(errno));
}

void *vm_own_fn(struct vm *vm, void *p, void (*release)(void *p))
{
    if (vm->nowned == VM_MAX_OWNED) {
        errorf("%s: too many devices", vm->name);
        abort();
    }
    vm->owned[vm->nowned].p = p;
    vm->owned[vm->nowned++].release = release;
    return p;
}

void vm_add_state(struct vm *vm, const struct devstate_ops *ops, void *dev)
{
    if (vm->nstates == DEVSTATE_MAX) {
        errorf("%s: too many devices with state", vm->name);
        abort();
    }
    int index = 0;
    for (int i = 0; i < vm->nstates; i++)
        index += vm->states[i].ops == ops;
    vm->states[vm->nstates].ops = ops;
    vm->states[vm->nstates].dev = dev;
    snprintf(vm->states[vm->nstates].name, DEVSTATE_NAME, "%s@%d", ops->kind, index);
    vm->nstates++;
}

void *vm_own(struct vm *vm, void *p)
{
    return vm_own_fn(vm, p, free);
}

void vm_release_devices(struct vm *vm)
{
    iothread_stop(vm->io);      /* no device callback may run while they go */
    vm->io = NULL;
    for (int i = vm->nowned - 1; i >= 0; i--)   /* reverse order of creation */
        vm->owned[i].release(vm->owned[i].p);
    vm->nowned = 0;
}

void vm_destroy(struct vm *vm)
{
    if (!vm->kvm)
        return;     /* never created (setup failed before vm_create) */
    if (let_go(vm, true))
        vm_wait(vm);            /* the threads of a VM never started end at once */
    for (int i = 0; i < vm->ncpus; i++)
        vcpu_destroy(vm->cpus[i]);
    vm_release_devices(vm);
    mem_free(&vm->mem);
    if (vm->fd >= 0)
        close(vm->fd);
    vm->fd = -1;
}
