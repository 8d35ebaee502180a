/* iothread.h - one I/O thread per VM: an epoll loop that runs device work
 * (virtio notifications from ioeventfds, TAP frames, irqfd resamples) off
 * the vCPU threads. */
#ifndef MINI_KVM_IOTHREAD_H
#define MINI_KVM_IOTHREAD_H

#include <stdbool.h>

struct vm;
struct iothread;

/* Called on the I/O thread when fd is readable (level-triggered: it must
 * read the fd, or stop watching it, or it is called again). */
typedef void (*iothread_fn)(void *arg);

/* The VM's I/O thread, created and started on first use. NULL after one
 * error line. vm_release_devices stops it before any device is released. */
struct iothread *iothread_get(struct vm *vm);

/* Watch fd for reading (watch = false pauses it: e.g. a TAP while the guest
 * has no receive buffers). iothread_add may be called from any thread.
 * 0, or -1 after one error line. */
int iothread_add(struct iothread *io, int fd, iothread_fn fn, void *arg);
int iothread_watch(struct iothread *io, int fd, bool watch);

/* vm_start, once vm->sandbox is known: the thread installs its seccomp
 * filter (SANDBOX_IO, after the sandbox's gate opens) before it serves the
 * running guest. Unit tests' fake VMs never seal. io or sb may be NULL. */
struct sandbox;
void iothread_seal(struct iothread *io, struct sandbox *sb);

/* Stop and join the thread; close its own fds (not the watched ones). */
void iothread_stop(struct iothread *io);

/* vm_pause / vm_resume: park the thread between two callbacks (no device
 * work half done: a snapshot sees whole requests) and let it go on. io may
 * be NULL. */
void iothread_pause(struct iothread *io);
void iothread_resume(struct iothread *io);

/* True on the I/O thread itself (for assertions and tests). */
bool iothread_current(const struct iothread *io);

#endif
