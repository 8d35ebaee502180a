/* gdbstub.h - a GDB remote stub for one VM (--gdb): a thread that serves one
 * gdb client, and the single hook the vCPU loop calls after KVM_RUN. */
#ifndef MINI_KVM_GDBSTUB_H
#define MINI_KVM_GDBSTUB_H

#include <stdbool.h>

struct vm;
struct vcpu;
struct gdbstub;

/* Listen on `spec` (a TCP port on 127.0.0.1, or a Unix socket path when it
 * is not all digits) and start the stub's thread. With `wait`, every vCPU
 * stops before its first instruction until gdb resumes it. Call before
 * vm_start. NULL after a one-line error. */
struct gdbstub *gdbstub_create(struct vm *vm, const char *spec, bool wait);

/* After the VM's vCPUs have ended: drop the client, join the thread, free. */
void gdbstub_destroy(struct gdbstub *g);

/* The vCPU loop's hook, right after KVM_RUN (err = its errno, or 0). True
 * when the exit was the debugger's business (a breakpoint, a step, a stop
 * request, a fault while a client is attached): run the guest again. */
bool gdbstub_vcpu_exit(struct gdbstub *g, struct vcpu *c, int err);

/* vm_stop's hook: release parked vCPUs and tell the client the VM ended. */
void gdbstub_vm_stopping(struct gdbstub *g);

#endif
