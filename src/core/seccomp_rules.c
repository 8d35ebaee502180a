/* seccomp_rules.c - the allow-lists: for each thread kind, the system calls
 * (and ioctl numbers) it may make once sealed, each with the reason. */
#include "seccomp_rules.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <linux/vhost.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

/* An entry without arguments allows the call; with arguments, all of them
 * must match (several entries for one call are alternatives). */
#define ANY(name, why)  { SCMP_SYS(name), why, 0, { { 0 } } }
#define ARG(name, a, op, v, why) { SCMP_SYS(name), why, 1, { { a, op, v, 0 } } }
#define NOEXEC(name, a, why) \
    { SCMP_SYS(name), why, 1, { { a, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0 } } }
#define IOCTL(req, why) ARG(ioctl, 1, SCMP_CMP_EQ, (req), why)
#define STDIN_IOCTL(req, why) \
    { SCMP_SYS(ioctl), why, 2, { { 0, SCMP_CMP_EQ, 0, 0 }, { 1, SCMP_CMP_EQ, (req), 0 } } }

/* Every thread: locks, memory, signals, messages, the end of the process. */
static const struct seccomp_rule common[] = {
    ANY(futex, "pthread mutexes, condition variables and joins"),
    ANY(write, "one-line messages on stderr (errorf) and guest output on stdout"),
    ARG(poll, 2, SCMP_CMP_EQ, 0,
        "a stopping guest writes only what stdout takes now (poll, no wait)"),
    ANY(clock_gettime, "timed waits and the PM timer when the vDSO cannot answer"),
    ANY(brk, "malloc in the main arena"),
    NOEXEC(mmap, 2, "malloc: new arenas and large blocks (never executable)"),
    NOEXEC(mprotect, 2, "malloc grows a thread's arena (never executable)"),
    ANY(munmap, "free() of large blocks"),
    ANY(madvise, "glibc releases free memory and an ended thread's stack"),
    ANY(rt_sigreturn, "return from the kick (SIGUSR1) and fatal-signal handlers"),
    ANY(rt_sigprocmask, "glibc masks signals in raise() and at thread exit"),
    ARG(rt_sigaction, 0, SCMP_CMP_NE, SIGSYS,
        "a fatal-signal handler resets its signal before raising it (never SIGSYS)"),
    ANY(getpid, "pthread_kill and raise() name the process"),
    ANY(gettid, "raise() names the thread"),
    ANY(tgkill, "the vCPU kick (SIGUSR1) and raise() of a fatal signal"),
    STDIN_IOCTL(TCGETS, "tcsetattr reads stdin's terminal settings before it sets them"),
    STDIN_IOCTL(TCSETS, "restore the terminal at exit or on a fatal signal (tcsetattr)"),
    ANY(exit, "a thread ends"),
    ANY(exit_group, "the process ends (exit, and _exit after a forbidden call)"),
#if SANDBOX_SANITIZED
    ANY(sigaltstack, "sanitizer builds only: the runtime's per-thread signal stack"),
#endif
};

/* Virtio devices set up vhost and the TAP's offloads when the driver sets
 * DRIVER_OK or resets (a vCPU's register write), and take the TAP away from
 * vhost at exit (main). */
#define VIRTIO_STATUS_IOCTLS \
    IOCTL(TUNSETOFFLOAD, "virtio-net: the receive offloads the guest accepted"), \
    IOCTL(VHOST_SET_FEATURES, "vhost-net/vsock: the driver's ring features"), \
    IOCTL(VHOST_SET_VRING_NUM, "vhost: a queue's size"), \
    IOCTL(VHOST_SET_VRING_BASE, "vhost: a queue's next avail index"), \
    IOCTL(VHOST_SET_VRING_ADDR, "vhost: a queue's ring addresses"), \
    IOCTL(VHOST_SET_VRING_KICK, "vhost: the ioeventfd KVM signals on QueueNotify"), \
    IOCTL(VHOST_SET_VRING_CALL, "vhost: the eventfd it signals for used buffers"), \
    IOCTL(VHOST_NET_SET_BACKEND, "vhost-net: attach (DRIVER_OK) or detach (reset, exit) the TAP"), \
    IOCTL(VHOST_VSOCK_SET_RUNNING, "vhost-vsock: start (DRIVER_OK) or stop (reset, exit)")

static const struct seccomp_rule main_only[] = {
    VIRTIO_STATUS_IOCTLS,
    ANY(close, "vm_destroy closes vCPU, VM and disk image descriptors"),
    ANY(unlink, "the GDB stub removes its Unix socket at exit"),
    ANY(getrusage, "--stats reports the maximum RSS"),
    ANY(mincore, "--stats counts the guest RAM pages touched"),
};

static const struct seccomp_rule vcpu_only[] = {
    IOCTL(KVM_RUN, "run the guest"),
    IOCTL(KVM_GET_REGS, "hypercall arguments, register dumps, gdb"),
    IOCTL(KVM_SET_REGS, "hypercall results, gdb register writes"),
    IOCTL(KVM_GET_SREGS, "guest mode for dumps, string I/O and gdb"),
    IOCTL(KVM_SET_SREGS, "gdb writes segment and control registers"),
    IOCTL(KVM_TRANSLATE, "hypercall buffers and gdb reads at linear addresses"),
    IOCTL(KVM_SET_GUEST_DEBUG, "gdb breakpoints and single steps"),
    IOCTL(KVM_GET_MP_STATE, "gdb: is the vCPU halted before stepping"),
    IOCTL(KVM_IRQ_LINE, "devices raise and lower interrupt lines"),
    IOCTL(KVM_KVMCLOCK_CTRL, "after a pause: tell a kvm-clock guest it was stopped"),
    ANY(pread64, "virtio-blk and IDE read the disk image"),
    ANY(pwrite64, "virtio-blk and IDE write the disk image"),
    ANY(fdatasync, "virtio-blk FLUSH and IDE FLUSH CACHE"),
    /* without KVM's ioeventfd a notification is served on the vCPU */
    ANY(readv, "virtio-net: a frame from the TAP into an RX chain"),
    ANY(writev, "virtio-net: a TX chain to the TAP"),
    ANY(getrandom, "virtio-rng fills the guest's buffers"),
    ANY(epoll_ctl, "virtio-net: watch the TAP once the guest posts RX buffers"),
    VIRTIO_STATUS_IOCTLS,
};

/* The VM's I/O thread: every virtio queue's work (ioeventfd), the TAP, the
 * irqfd resamples and vhost's used-buffer eventfds. */
static const struct seccomp_rule io_only[] = {
    ANY(epoll_wait, "wait for notifications, frames and resamples"),
    ANY(epoll_pwait, "the same, as newer glibc calls it"),
    ANY(epoll_ctl, "virtio-net: stop or start watching the TAP"),
    ANY(read, "drain eventfds (kicks, resamples, vhost calls, seal)"),
    ANY(readv, "virtio-net: a frame from the TAP into an RX chain"),
    ANY(writev, "virtio-net: a TX chain to the TAP"),
    ANY(pread64, "virtio-blk reads the disk image"),
    ANY(pwrite64, "virtio-blk writes the disk image"),
    ANY(fdatasync, "virtio-blk FLUSH: durable before the request completes"),
    ANY(getrandom, "virtio-rng fills the guest's buffers"),
    IOCTL(KVM_IRQ_LINE, "raise and lower a line when KVM has no irqfd"),
};

static const struct seccomp_rule console_only[] = {
    ARG(read, 0, SCMP_CMP_EQ, 0, "read stdin (fd 0 only)"),
    IOCTL(KVM_IRQ_LINE, "the UART raises its receive interrupt when input arrives"),
};

static const struct seccomp_rule gdb_only[] = {
    ANY(poll, "wait for the debugger, a second client or the wake pipe"),
    ANY(accept4, "accept the debugger's connection"),
    ANY(setsockopt, "TCP_NODELAY on the debugger's connection"),
    ANY(recvfrom, "packets from the debugger"),
    ANY(sendto, "replies to the debugger"),
    ANY(read, "drain the wake pipe"),
    ANY(close, "drop a refused client or a detached debugger"),
};

static const struct seccomp_rule top_only[] = {
    { SCMP_SYS(ioctl), "the terminal's size for the status area (TIOCGWINSZ on stderr)",
      2, { { 0, SCMP_CMP_EQ, 2, 0 }, { 1, SCMP_CMP_EQ, TIOCGWINSZ, 0 } } },
    ANY(clock_nanosleep, "wait 10 ms for the guest's output to reach a safe point"),
};

/* --api once the guest runs: HTTP, pause/resume, snapshot/create (files
 * it creates, the state of every vCPU and of the VM), SendCtrlAltDel. */
static const struct seccomp_rule api_only[] = {
    ANY(poll, "wait for API clients, their requests and the wake pipe"),
    ANY(accept4, "accept an API client"),
    ANY(recvfrom, "read an API request"),
    ANY(sendto, "send an API response"),
    ANY(close, "drop an API client; close a snapshot file"),
    { SCMP_SYS(openat), "snapshot/create: create its files (O_CREAT, never through a symlink)",
      1, { { 2, SCMP_CMP_MASKED_EQ, O_CREAT | O_NOFOLLOW, O_CREAT | O_NOFOLLOW } } },
    ANY(readlink, "snapshot/create: a disk's absolute path (realpath)"),
    ANY(getcwd, "snapshot/create: a disk given by a relative path (realpath)"),
    ANY(ftruncate, "snapshot/create: size the memory file"),
    ANY(pwrite64, "snapshot/create: write the guest's memory"),
    ANY(fsync, "snapshot/create: both files on disk before the answer"),
    ANY(rename, "snapshot/create: the state file appears whole"),
    ANY(unlink, "snapshot/create: remove a half-written file after an error"),
    IOCTL(KVM_GET_SUPPORTED_CPUID, "snapshot/create: the host's CPUID, so a restore elsewhere is refused"),
    IOCTL(KVM_CHECK_EXTENSION, "snapshot/create: which optional vCPU state this KVM has"),
    IOCTL(KVM_GET_MSR_INDEX_LIST, "snapshot/create: which MSRs to save"),
    IOCTL(KVM_GET_MSRS, "snapshot/create: a vCPU's MSRs"),
    IOCTL(KVM_GET_REGS, "snapshot/create: a vCPU's registers"),
    IOCTL(KVM_GET_SREGS, "snapshot/create: a vCPU's segment and control registers"),
    IOCTL(KVM_GET_FPU, "snapshot/create: a vCPU's FPU"),
    IOCTL(KVM_GET_XSAVE, "snapshot/create: a vCPU's extended state"),
    IOCTL(KVM_GET_XCRS, "snapshot/create: a vCPU's XCR0"),
    IOCTL(KVM_GET_DEBUGREGS, "snapshot/create: a vCPU's debug registers"),
    IOCTL(KVM_GET_LAPIC, "snapshot/create: a vCPU's local APIC"),
    IOCTL(KVM_GET_VCPU_EVENTS, "snapshot/create: a vCPU's pending events"),
    IOCTL(KVM_GET_MP_STATE, "snapshot/create: a vCPU's run state"),
    IOCTL(KVM_GET_IRQCHIP, "snapshot/create: the PICs and the IOAPIC"),
    IOCTL(KVM_GET_PIT2, "snapshot/create: the PIT"),
    IOCTL(KVM_GET_CLOCK, "snapshot/create: the KVM clock"),
    IOCTL(KVM_IRQ_LINE, "SendCtrlAltDel: the i8042 raises the keyboard interrupt"),
};

/* The watchdog only waits on a clock and stops VMs: the common list. */

static const struct seccomp_list lists[SANDBOX_KINDS] = {
    [SANDBOX_MAIN] = { main_only, sizeof(main_only) / sizeof(main_only[0]) },
    [SANDBOX_VCPU] = { vcpu_only, sizeof(vcpu_only) / sizeof(vcpu_only[0]) },
    [SANDBOX_CONSOLE] = { console_only, sizeof(console_only) / sizeof(console_only[0]) },
    [SANDBOX_WATCHDOG] = { NULL, 0 },
    [SANDBOX_GDB] = { gdb_only, sizeof(gdb_only) / sizeof(gdb_only[0]) },
    [SANDBOX_TOP] = { top_only, sizeof(top_only) / sizeof(top_only[0]) },
    [SANDBOX_API] = { api_only, sizeof(api_only) / sizeof(api_only[0]) },
    [SANDBOX_IO] = { io_only, sizeof(io_only) / sizeof(io_only[0]) },
};

const char *const seccomp_kind_names[SANDBOX_KINDS] = {
    [SANDBOX_MAIN] = "main", [SANDBOX_VCPU] = "vcpu", [SANDBOX_CONSOLE] = "console",
    [SANDBOX_WATCHDOG] = "watchdog", [SANDBOX_GDB] = "gdb", [SANDBOX_TOP] = "top",
    [SANDBOX_API] = "api", [SANDBOX_IO] = "io",
};

const struct seccomp_list seccomp_common = { common, sizeof(common) / sizeof(common[0]) };

const struct seccomp_list *seccomp_list_of(enum sandbox_kind kind)
{
    return &lists[kind];
}
