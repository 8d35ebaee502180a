/* gdb_cpu.c - the vCPU side of the stub: classify KVM_EXIT_DEBUG, park every
 * vCPU together (all-stop), program the debug registers, probe the host. */
#include "gdb_internal.h"
#include "gdbstub.h"
#include "arch/x86.h"
#include "core/kvm.h"
#include "core/util.h"
#include "core/vcpu.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define DR6_BS (1u << 14)   /* single step */

void gdb_wake_stub(struct gdbstub *g)
{
    char b = 1;
    if (write(g->wake[1], &b, 1) < 0 && errno != EAGAIN)
        errorf("%s: gdb stub: wake pipe: %s", g->vm->name, strerror(errno));
}

void gdb_stop_all(struct gdbstub *g)
{
    if (g->stop_req)
        return;
    g->stop_req = true;
    for (int i = 0; i < g->vm->ncpus; i++) {
        struct vcpu *c = g->vm->cpus[i];
        __atomic_store_n(&c->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
        if (atomic_load(&c->running) && !pthread_equal(c->self, pthread_self()))
            pthread_kill(c->self, VCPU_KICK_SIGNAL);
    }
}

/* The KVM_SET_GUEST_DEBUG this vCPU needs now. DR7: G bit per slot, R/W at
 * 16+4i (00 exec, 01 write, 11 read/write), LEN at 18+4i (1,2,8,4 bytes =
 * 00,01,10,11). With nothing set the control is 0: the guest runs at full speed. */
static void wanted_debug(struct gdbstub *g, int cpu, struct kvm_guest_debug *d)
{
    memset(d, 0, sizeof(*d));
    uint64_t dr7 = 0;
    for (int i = 0; i < GDB_HW_SLOTS; i++) {
        const struct gdb_hwbp *b = &g->hw[i];
        if (!b->used)
            continue;
        uint64_t rw = b->type == GDB_WP_WRITE ? 1 : b->type >= GDB_WP_READ ? 3 : 0;
        uint64_t len = b->type < GDB_WP_WRITE ? 0 : b->len == 1 ? 0 : b->len == 2 ? 1
                     : b->len == 8 ? 2 : 3;
        d->arch.debugreg[i] = b->addr;
        dr7 |= 2ull << (2 * i) | rw << (16 + 4 * i) | len << (18 + 4 * i);
    }
    if (dr7) {
        d->arch.debugreg[7] = dr7 | (1u << 9) | (1u << 10);    /* GE, reserved bit 10 */
        d->control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
    }
    if (g->nsw)
        d->control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP;
    int act = g->cpu[cpu].action;
    if (act == GDB_ACT_STEP)
        d->control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP | g->step_flags;
    else if (g->nemu && act == GDB_ACT_CONT)
        d->control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_SINGLESTEP;
}

static void apply_debug(struct gdbstub *g, struct vcpu *c)
{
    struct kvm_guest_debug d;
    wanted_debug(g, c->id, &d);
    /* A step with interrupts blocked would never end on a halted vCPU (only an
     * interrupt wakes it): that one steps into its next interrupt instead. */
    struct kvm_mp_state mp;
    if ((d.control & KVM_GUESTDBG_BLOCKIRQ) && ioctl(c->fd, KVM_GET_MP_STATE, &mp) == 0 &&
        mp.mp_state == KVM_MP_STATE_HALTED)
        d.control &= ~(uint32_t)KVM_GUESTDBG_BLOCKIRQ;
    struct gdb_cpu *gc = &g->cpu[c->id];
    if (!memcmp(&d, &gc->applied, sizeof(d)))
        return;
    if (ioctl(c->fd, KVM_SET_GUEST_DEBUG, &d) < 0) {
        errorf("%s: vCPU %d: KVM_SET_GUEST_DEBUG: %s", g->vm->name, c->id, strerror(errno));
        return;
    }
    gc->applied = d;
}

/* Lock held. Wait here, serving requests, until a resume lets this vCPU go. */
static void park(struct gdbstub *g, struct vcpu *c)
{
    struct gdb_cpu *gc = &g->cpu[c->id];
    gc->parked = true;
    g->nparked++;
    gdb_wake_stub(g);
    for (;;) {
        if (atomic_load(&g->vm->stopping))
            break;
        if (g->req_fn && g->req_cpu == c->id) {
            g->req_fn(g, c, g->req_arg);
            g->req_fn = NULL;
            g->req_done = true;
            pthread_cond_broadcast(&g->stub_cv);
            continue;
        }
        if (!g->stop_req && gc->action != GDB_ACT_STAY)
            break;
        pthread_cond_wait(&g->cpu_cv, &g->lock);
    }
    gc->parked = false;
    g->nparked--;
    c->regs_valid = c->sregs_valid = false;     /* the debugger may have changed them */
    apply_debug(g, c);
    /* stop_req is false here (or the VM stops): no kick can be lost */
    __atomic_store_n(&c->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
}

void gdb_on_cpu(struct gdbstub *g, int cpu, void (*fn)(struct gdbstub *, struct vcpu *, void *),
                void *arg)
{
    g->req_fn = fn;
    g->req_arg = arg;
    g->req_cpu = cpu;
    g->req_done = false;
    pthread_cond_broadcast(&g->cpu_cv);
    while (!g->req_done && !atomic_load(&g->vm->stopping))
        pthread_cond_wait(&g->stub_cv, &g->lock);
    g->req_fn = NULL;
}

void gdb_resume(struct gdbstub *g, const uint8_t *act)
{
    for (int i = 0; i < g->vm->ncpus; i++)
        g->cpu[i].action = act[i + 1];
    /* A watchpoint hit that lost the race to another stop is reported now,
     * without running anything (it already happened). */
    for (int i = 0; i < g->vm->ncpus; i++) {
        struct gdb_cpu *gc = &g->cpu[i];
        if (gc->pending && gc->action != GDB_ACT_STAY) {
            gc->pending = false;
            g->stop_tid = i + 1;
            g->stop_sig = GDB_SIGTRAP;
            g->stop_wkind = "watch";
            g->stop_waddr = gc->pend_addr;
            g->stop_fresh = true;
            gdb_wake_stub(g);
            return;
        }
    }
    g->stop_req = false;
    pthread_cond_broadcast(&g->cpu_cv);
}

/* Lock held: this vCPU stops (and stops the others), or queues its hit. */
static void report(struct gdbstub *g, struct vcpu *c, int sig, const char *wkind,
                   uint64_t waddr)
{
    if (!g->stop_req) {
        g->stop_tid = c->id + 1;
        g->stop_sig = sig;
        g->stop_wkind = wkind;
        g->stop_waddr = waddr;
        g->stop_fresh = true;
        gdb_stop_all(g);
    } else if (wkind) {
        g->cpu[c->id].pending = true;
        g->cpu[c->id].pend_addr = waddr;
    }
    park(g, c);
}

void gdb_emu_snapshot(struct gdbstub *g, struct gdb_emuwp *w)
{
    if (guest_read(&g->vm->mem, w->gpa[0], w->old, w->split) ||
        guest_read(&g->vm->mem, w->gpa[1], w->old + w->split, w->len - w->split))
        memset(w->old, 0, sizeof(w->old));
}

/* Emulated write watchpoints: did the last instruction change a watched byte? */
static const struct gdb_emuwp *emu_changed(struct gdbstub *g)
{
    for (int i = 0; i < GDB_MAX_EMUWP; i++) {
        struct gdb_emuwp *w = &g->emu[i];
        if (!w->used)
            continue;
        uint8_t old[GDB_EMUWP_LEN];
        memcpy(old, w->old, sizeof(old));
        gdb_emu_snapshot(g, w);
        if (memcmp(old, w->old, w->len))
            return w;
    }
    return NULL;
}

/* gdb wants the stop at the breakpoint's address. KVM reports an int3 with RIP
 * on it; should a KVM report it after the int3 (a trap, as the CPU pushes it),
 * step RIP back onto our breakpoint, so both kinds look the same to gdb. */
static void int3_rewind(struct gdbstub *g, struct vcpu *c, uint64_t pc)
{
    bool at = false, after = false;
    for (int i = 0; i < GDB_MAX_SWBP; i++) {
        at |= g->sw[i].used && g->sw[i].addr == pc;
        after |= g->sw[i].used && g->sw[i].addr == pc - 1;
    }
    struct kvm_regs r;
    if (at || !after || ioctl(c->fd, KVM_GET_REGS, &r) < 0)
        return;
    r.rip--;
    if (ioctl(c->fd, KVM_SET_REGS, &r) < 0)
        errorf("%s: vCPU %d: KVM_SET_REGS: %s", g->vm->name, c->id, strerror(errno));
}

static bool on_debug(struct gdbstub *g, struct vcpu *c)
{
    struct kvm_debug_exit_arch *a = &c->run->debug.arch;
    pthread_mutex_lock(&g->lock);
    if (!atomic_load(&g->attached)) {
        /* a left-over from a detached session: nobody to report to */
    } else if (a->exception == 3) {                    /* int3: ours (or the guest's own) */
        int3_rewind(g, c, a->pc);
        report(g, c, GDB_SIGTRAP, NULL, 0);
    } else {
        int slot = -1;
        for (int i = 0; i < GDB_HW_SLOTS; i++)
            if ((a->dr6 & (1u << i)) && g->hw[i].used)
                slot = i;
        const struct gdb_emuwp *w = g->nemu ? emu_changed(g) : NULL;
        if (slot >= 0 && g->hw[slot].type >= GDB_WP_WRITE) {
            static const char *const kind[] = { "watch", "rwatch", "awatch" };
            report(g, c, GDB_SIGTRAP, kind[g->hw[slot].type - GDB_WP_WRITE], g->hw[slot].addr);
        } else if (w) {
            report(g, c, GDB_SIGTRAP, "watch", w->addr);
        } else if (slot >= 0 || g->cpu[c->id].action == GDB_ACT_STEP) {
            report(g, c, GDB_SIGTRAP, NULL, 0);
        }
        /* else: a step of the watchpoint emulation, nothing changed: go on */
    }
    pthread_mutex_unlock(&g->lock);
    return true;
}

/* Exits that end the VM without a debugger (vcpu.c's fault()). */
static bool fatal_exit(uint32_t reason)
{
    switch (reason) {
    case KVM_EXIT_IO: case KVM_EXIT_MMIO: case KVM_EXIT_HLT: case KVM_EXIT_INTR:
    case KVM_EXIT_IRQ_WINDOW_OPEN: case KVM_EXIT_SYSTEM_EVENT: case KVM_EXIT_DEBUG:
        return false;
    default:
        return true;
    }
}

bool gdbstub_vcpu_exit(struct gdbstub *g, struct vcpu *c, int err)
{
    if (err == 0 && c->run->exit_reason == KVM_EXIT_DEBUG)
        return on_debug(g, c);
    if (err == EINTR || err == EAGAIN) {
        int saved = errno;
        pthread_mutex_lock(&g->lock);
        if (g->stop_req)
            park(g, c);
        else
            __atomic_store_n(&c->run->immediate_exit, 0, __ATOMIC_SEQ_CST);
        pthread_mutex_unlock(&g->lock);
        errno = saved;
        return true;
    }
    if (err || !atomic_load(&g->attached) || !fatal_exit(c->run->exit_reason))
        return false;
    /* With a debugger attached a fault stops the guest for inspection. */
    errorf("%s: vCPU %d: %s exit (%u): stopped for the debugger", g->vm->name, c->id,
           exit_reason_name(c->run->exit_reason), c->run->exit_reason);
    pthread_mutex_lock(&g->lock);
    report(g, c, GDB_SIGSEGV, NULL, 0);
    pthread_mutex_unlock(&g->lock);
    return true;
}

void gdbstub_vm_stopping(struct gdbstub *g)
{
    pthread_mutex_lock(&g->lock);
    pthread_cond_broadcast(&g->cpu_cv);
    pthread_cond_broadcast(&g->stub_cv);
    gdb_wake_stub(g);
    pthread_mutex_unlock(&g->lock);
}

/* --- host probe: which debug features does this KVM really deliver? --- */

/* Run a 64-bit snippet at 0x100000 with debug settings d; true when the first
 * exit is KVM_EXIT_DEBUG. kvm_pvm, for one, fails a ring-0 int3 with an
 * internal error and never fires data breakpoints; KVM nested under QEMU/TCG
 * (the lab) never fires debug-register breakpoints (docs/debugging.md). */
static bool probe(struct kvm_host *h, const uint8_t *code, size_t len,
                  const struct kvm_guest_debug *d)
{
    struct vm vm;
    bool ok = false;
    if (vm_create(&vm, h, "gdb-probe", 2u << 20) == 0 && vm_add_cpus(&vm, 1) == 0 &&
        x86_build_long_mode_tables(&vm) == 0 &&
        guest_write(&vm.mem, HIGH_MEM_START, code, len) == 0 &&
        x86_enter_long(vm.cpus[0], HIGH_MEM_START, BOOT_STACK_TOP, 0, 0) == 0 &&
        ioctl(vm.cpus[0]->fd, KVM_SET_GUEST_DEBUG, d) == 0)
        ok = vcpu_run_bounded(vm.cpus[0], 1000) == 0 &&
             vm.cpus[0]->run->exit_reason == KVM_EXIT_DEBUG;
    vm_destroy(&vm);
    return ok;
}

void gdb_probe_host(struct gdbstub *g)
{
    /* int3; hlt */
    static const uint8_t bp[] = { 0xcc, 0xf4 };
    /* nop; hlt (the breakpoint on the hlt) */
    static const uint8_t ex[] = { 0x90, 0xf4 };
    /* movl $1, 0x180000; hlt */
    static const uint8_t wr[] = { 0xc7, 0x04, 0x25, 0x00, 0x00, 0x18, 0x00, 0x01, 0x00,
                                  0x00, 0x00, 0xf4 };
    struct kvm_guest_debug d = { .control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_SW_BP };
    g->sw_bp_ok = probe(g->vm->kvm, bp, sizeof(bp), &d);
    d.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
    d.arch.debugreg[0] = 0x100001;
    d.arch.debugreg[7] = 2 | 1u << 10;                          /* G0, execute */
    g->hw_bp_ok = probe(g->vm->kvm, ex, sizeof(ex), &d);
    d.arch.debugreg[0] = 0x180000;
    d.arch.debugreg[7] = 2 | 1u << 16 | 3u << 18 | 1u << 10;   /* G0, write, 4 bytes */
    g->data_bp_ok = probe(g->vm->kvm, wr, sizeof(wr), &d);
    int flags = kvm_host_cap(g->vm->kvm, KVM_CAP_SET_GUEST_DEBUG2);
    g->step_flags = flags > 0 && (flags & KVM_GUESTDBG_BLOCKIRQ) ? KVM_GUESTDBG_BLOCKIRQ : 0;
}
