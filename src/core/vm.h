/* vm.h - one virtual machine: its KVM fd, RAM, port and MMIO buses, vCPUs,
 * devices and the stop state that every thread of the VM agrees on. */
#ifndef MINI_KVM_VM_H
#define MINI_KVM_VM_H

#include "bus.h"
#include "devstate.h"
#include "mem.h"
#include "virtio_table.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

struct kvm_host;
struct console_port;
struct vcpu;
struct gdbstub;
struct sandbox;
struct iothread;

#define VM_MAX_CPUS 64
#define VM_MAX_OWNED 32

/* Exit status used when mini-kvm itself stops a guest (fault, bad exit). */
#define VM_EXIT_FAULT 1

struct trace_file;

/* Lock order of the whole process, outermost first: a thread holding one
 * of these takes only locks of a later level (levels in the comment at
 * each lock's declaration).
 *  L1 console.notify_lock: the stdin reader runs input notifications and
 *     Ctrl-A commands (quit = vm_stop, screen = vga) under it.
 *  L2 one device's lock (serial, rtc, i8042, pm, vga, ide, virtio_mmio:
 *     virtio ops->notify and config_read run under it); never two devices.
 *  L3 what vm_stop takes, one at a time: console.in_lock, the gdb stub's
 *     lock, vm.pause_lock (a device may stop the VM under its own lock).
 *  L4 console_port.lock, then console.out_lock (a line of guest output).
 *  Leaves, never held while taking another: kvm_host.caps_lock (it runs
 *  the probe VMs, which take none), trace_file.lock, the --timeout
 *  watchdog's lock, the API's vmm lock. */
struct vm {
    const char *name;           /* guest name: file name without extension */
    int index;                  /* position on the command line */
    struct kvm_host *kvm;
    int fd;                     /* KVM_CREATE_VM */
    struct guest_mem mem;
    struct bus pio, mmio;
    struct vcpu *cpus[VM_MAX_CPUS];
    int ncpus;
    int started;                /* vCPU threads created, not joined yet */
    bool cpus_share_host;       /* more vCPUs than host CPUs we may use (vcpu.c) */
    bool go;                    /* vm_start happened (pause_lock): threads may run */
    bool abandoned;             /* never started: the threads end (vm_destroy) */
    bool irqchip;               /* in-kernel PIC/IOAPIC/LAPIC created */
    bool trace;                 /* --trace: print every exit */
    struct trace_file *trace_file;  /* --trace-file, shared by all guests, or NULL */
    struct console_port *con;   /* this guest's console (output, input) */
    struct gdbstub *gdb;        /* --gdb: the debugger stub, or NULL */
    /* On a triple fault, before the register dump: the arch's explanation
     * (guest.c installs hostcheck_explain_fault), true if it gave one. A
     * hook, so that core/ does not call back into arch/. */
    bool (*explain_fault)(struct vcpu *c);
    struct virtio_table virtio; /* where each virtio-mmio device sits */
    struct sandbox *sandbox;    /* vCPU threads wait at its gate, then seal */
    struct iothread *io;        /* device I/O off the vCPUs (iothread.c), or NULL */

    atomic_bool stopping;       /* set once; every vCPU leaves its loop */
    int exit_status;            /* meaningful once stopping */
    bool reset_requested;       /* it stopped because the guest asked to reboot */

    /* PATCH /vm Paused: every started vCPU parks outside KVM_RUN (vm_pause) */
    pthread_mutex_t pause_lock;     /* lock order L3 (above) */
    pthread_cond_t pause_cond;
    atomic_bool pause_req;
    int parked;

    struct {                    /* device records for snapshots (devstate.h) */
        const struct devstate_ops *ops;
        void *dev;
        char name[DEVSTATE_NAME];
    } states[DEVSTATE_MAX];
    int nstates;

    struct {                    /* device state released by vm_destroy */
        void *p;
        void (*release)(void *p);
    } owned[VM_MAX_OWNED];
    int nowned;
};

/* Create the VM and its RAM (registered with KVM). Returns 0 or -1 after
 * printing a reason. */
int vm_create(struct vm *vm, struct kvm_host *kvm, const char *name, uint64_t ram);

/* In-kernel interrupt controllers and PIT (for kernels; not for flat
 * binaries, which have no interrupts). */
int vm_create_irqchip(struct vm *vm);

/* Add ncpus vCPUs (created, not yet running). */
int vm_add_cpus(struct vm *vm, int ncpus);

/* Create the vCPU threads ahead of vm_start; they wait for it and touch
 * nothing before (vm_start creates them itself if this was not called).
 * 0, or -1 after one line. */
int vm_spawn_cpus(struct vm *vm);
/* Start every vCPU on its own thread; vm_wait joins them and returns the
 * VM's exit status. */
void vm_start(struct vm *vm);
/* vCPU side: wait for vm_start; false if the VM is destroyed unstarted. */
bool vm_wait_start(struct vm *vm);
int vm_wait(struct vm *vm);

/* Ask the VM to stop with `status` (the first caller wins) and kick every
 * vCPU out of KVM_RUN. Safe from any thread. */
void vm_stop(struct vm *vm, int status);

/* Park every running vCPU outside KVM_RUN (pending I/O completed, so the
 * state KVM reports is whole) and wait until all are parked; vm_resume lets
 * them run again. vm_pause returns 0, or -1 after errorf when the VM stops
 * or a vCPU does not park within 5 s. vm_park is the vCPU side. */
int vm_pause(struct vm *vm);
void vm_resume(struct vm *vm);
bool vm_park(struct vm *vm);     /* false: woken to stop, not resumed */
/* Before vm_start: the vCPUs park before their first KVM_RUN (a snapshot
 * loaded without resume_vm). */
void vm_pause_before_start(struct vm *vm);

/* The guest asked for a reboot (reset register, i8042 pulse, KVM reset
 * event): mini-kvm's documented behaviour is to exit with status 0 and say
 * so on stderr (docs/linux-boot.md). */
void vm_guest_reset(struct vm *vm, const char *how);

/* Raise or lower an interrupt line (KVM_IRQ_LINE); errors are reported. */
void vm_irq_line(struct vm *vm, unsigned gsi, int level);

/* Hand device state to the VM so vm_destroy frees it (vm_own) or calls
 * release(p) (vm_own_fn: close files, then free). Returns p. */
void *vm_own(struct vm *vm, void *p);
void *vm_own_fn(struct vm *vm, void *p, void (*release)(void *p));

/* Release every owned device (vm_destroy does this first). */
void vm_release_devices(struct vm *vm);
void vm_destroy(struct vm *vm);

#endif
