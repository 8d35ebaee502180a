/* gdb_target.c - the protocol's target on a VM: registers and memory through
 * the parked vCPU's thread, breakpoints in debug registers or as int3. */
#include "gdb_internal.h"
#include "core/util.h"
#include "core/vcpu.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define PAGE 4096ull

/* --- registers: fetched and stored on the vCPU's own thread --- */

struct reg_job {
    struct gdb_x86_state st;
    int dirty;          /* in: what to write back (0: only read) */
    int err;            /* out: 0, an errno, or -1 if the job never ran (VM ended) */
};

static void reg_job(struct gdbstub *g, struct vcpu *c, void *arg)
{
    struct reg_job *j = arg;
    j->err = 0;
    if (j->dirty & GDB_X86_DIRTY_REGS && ioctl(c->fd, KVM_SET_REGS, &j->st.regs) < 0)
        j->err = errno;
    if (j->dirty & GDB_X86_DIRTY_SREGS && ioctl(c->fd, KVM_SET_SREGS, &j->st.sregs) < 0)
        j->err = errno;
    if (!j->dirty && (ioctl(c->fd, KVM_GET_REGS, &j->st.regs) < 0 ||
                      ioctl(c->fd, KVM_GET_SREGS, &j->st.sregs) < 0))
        j->err = errno;
    if (j->err)     /* cannot happen for a parked vCPU: say so if it does */
        errorf("%s: gdb: vCPU %d registers: %s", g->vm->name, c->id, strerror(j->err));
}

static int get_state(struct gdbstub *g, int tid, struct reg_job *j)
{
    if (tid < 1 || tid > g->vm->ncpus)
        return -1;
    memset(j, 0, sizeof(*j));
    j->err = -1;
    gdb_on_cpu(g, tid - 1, reg_job, j);
    return j->err ? -1 : 0;
}

static int put_state(struct gdbstub *g, int tid, struct reg_job *j, int dirty)
{
    if (dirty <= 0)
        return dirty;
    j->dirty = dirty;
    j->err = -1;
    gdb_on_cpu(g, tid - 1, reg_job, j);
    return j->err ? -1 : 0;
}

static int t_read_regs(void *ctx, int tid, uint8_t *buf, size_t cap)
{
    struct gdbstub *g = ctx;
    struct reg_job j;
    return get_state(g, tid, &j) ? -1 : gdb_x86_read_all(g->layout, &j.st, buf, cap);
}

static int t_write_regs(void *ctx, int tid, const uint8_t *buf, size_t len)
{
    struct gdbstub *g = ctx;
    struct reg_job j;
    if (get_state(g, tid, &j))
        return -1;
    return put_state(g, tid, &j, gdb_x86_write_all(g->layout, &j.st, buf, len));
}

static int t_read_reg(void *ctx, int tid, int regno, uint8_t *buf, size_t cap)
{
    struct gdbstub *g = ctx;
    struct reg_job j;
    if (regno < 0 || regno >= gdb_x86_nregs(g->layout) || get_state(g, tid, &j))
        return -1;
    return gdb_x86_read_reg(g->layout, &j.st, regno, buf, cap);
}

static int t_write_reg(void *ctx, int tid, int regno, const uint8_t *buf, size_t len)
{
    struct gdbstub *g = ctx;
    struct reg_job j;
    if (regno < 0 || regno >= gdb_x86_nregs(g->layout) || get_state(g, tid, &j))
        return -1;
    return put_state(g, tid, &j, gdb_x86_write_reg(g->layout, &j.st, regno, buf, len));
}

/* --- memory: guest virtual addresses, page by page --- */

struct xlate_job {
    uint64_t addr;
    uint64_t gpa;
    int ok;
};

static void xlate_job(struct gdbstub *g, struct vcpu *c, void *arg)
{
    (void)g;
    struct xlate_job *j = arg;
    struct kvm_translation t = { .linear_address = j->addr };
    j->ok = ioctl(c->fd, KVM_TRANSLATE, &t) == 0 && t.valid;
    j->gpa = t.physical_address;
}

/* Guest-physical address of a virtual one as vCPU tid sees it (through its
 * page tables; linear = physical without paging). 0, or -1 when unmapped. */
static int translate(struct gdbstub *g, int tid, uint64_t addr, uint64_t *gpa)
{
    if (g->phys) {
        *gpa = addr;
        return 0;
    }
    if (tid < 1 || tid > g->vm->ncpus)
        return -1;
    struct xlate_job j = { .addr = addr };
    gdb_on_cpu(g, tid - 1, xlate_job, &j);
    *gpa = j.gpa;
    return j.ok ? 0 : -1;
}

static long access_mem(struct gdbstub *g, int tid, uint64_t addr, uint8_t *buf, size_t len,
                       bool write)
{
    size_t done = 0;
    while (done < len) {
        uint64_t a = addr + done, gpa;
        size_t n = (size_t)(PAGE - (a & (PAGE - 1)));
        if (n > len - done)
            n = len - done;
        if (translate(g, tid, a, &gpa))
            break;
        uint8_t *host = guest_ptr(&g->vm->mem, gpa, n);     /* every byte checked */
        if (!host)
            break;
        if (write)
            memcpy(host, buf + done, n);
        else
            memcpy(buf + done, host, n);
        done += n;
    }
    return done ? (long)done : -1;
}

static bool in_range(uint64_t x, uint64_t addr, size_t len)
{
    return x - addr < len;
}

static long t_read_mem(void *ctx, int tid, uint64_t addr, uint8_t *buf, size_t len)
{
    struct gdbstub *g = ctx;
    long n = access_mem(g, tid, addr, buf, len, false);
    for (int i = 0; n > 0 && i < GDB_MAX_SWBP; i++)     /* gdb sees the original bytes */
        if (g->sw[i].used && !g->phys && in_range(g->sw[i].addr, addr, (size_t)n))
            buf[g->sw[i].addr - addr] = g->sw[i].orig;
    return n;
}

static long t_write_mem(void *ctx, int tid, uint64_t addr, const uint8_t *buf, size_t len)
{
    struct gdbstub *g = ctx;
    uint8_t tmp[GDB_MEM_MAX];
    if (len > sizeof(tmp))
        return -1;
    memcpy(tmp, buf, len);
    for (int i = 0; i < GDB_MAX_SWBP; i++) {    /* keep our int3, remember the new byte */
        if (g->sw[i].used && !g->phys && in_range(g->sw[i].addr, addr, len)) {
            g->sw[i].orig = tmp[g->sw[i].addr - addr];
            tmp[g->sw[i].addr - addr] = 0xcc;
        }
    }
    return access_mem(g, tid, addr, tmp, len, true);
}

/* --- breakpoints and watchpoints --- */

static int hw_slot(struct gdbstub *g, bool insert, int type, uint64_t addr, uint64_t len)
{
    for (int i = 0; i < GDB_HW_SLOTS; i++) {
        struct gdb_hwbp *b = &g->hw[i];
        if (!insert && b->used && b->type == type && b->addr == addr && b->len == len) {
            b->used = false;
            return 0;
        }
        if (insert && !b->used) {
            *b = (struct gdb_hwbp){ .used = true, .type = type, .addr = addr, .len = len };
            return 0;
        }
    }
    return -1;      /* all four slots taken / not found */
}

static int sw_bp(struct gdbstub *g, bool insert, uint64_t addr)
{
    for (int i = 0; i < GDB_MAX_SWBP; i++) {
        struct gdb_swbp *b = &g->sw[i];
        if (!insert && b->used && b->addr == addr) {
            guest_write(&g->vm->mem, b->gpa, &b->orig, 1);
            b->used = false;
            g->nsw--;
            return 0;
        }
        if (insert && !b->used) {
            static const uint8_t int3 = 0xcc;
            if (translate(g, g->sess.g_tid, addr, &b->gpa) ||
                guest_read(&g->vm->mem, b->gpa, &b->orig, 1) ||
                guest_write(&g->vm->mem, b->gpa, &int3, 1))
                return -1;
            b->addr = addr;
            b->used = true;
            g->nsw++;
            return 0;
        }
    }
    return -1;
}

/* Write watchpoints where data breakpoints do not fire (kvm_pvm): the vCPUs
 * single-step and the watched bytes are compared after every instruction. */
static int emu_wp(struct gdbstub *g, bool insert, uint64_t addr, uint64_t len)
{
    for (int i = 0; i < GDB_MAX_EMUWP; i++) {
        struct gdb_emuwp *w = &g->emu[i];
        if (!insert && w->used && w->addr == addr && w->len == len) {
            w->used = false;
            g->nemu--;
            return 0;
        }
        if (insert && !w->used) {
            w->addr = addr;
            w->len = len;
            w->split = PAGE - (addr & (PAGE - 1));
            if (w->split > len)
                w->split = len;
            w->gpa[1] = 0;
            if (translate(g, g->sess.g_tid, addr, &w->gpa[0]) ||
                (len > w->split && translate(g, g->sess.g_tid, addr + w->split, &w->gpa[1])) ||
                !guest_ptr(&g->vm->mem, w->gpa[0], w->split) ||
                !guest_ptr(&g->vm->mem, w->gpa[1], len - w->split))
                return -1;
            gdb_emu_snapshot(g, w);
            w->used = true;
            g->nemu++;
            return 0;
        }
    }
    return -1;
}

static int t_set_bp(void *ctx, bool insert, int type, uint64_t addr, uint64_t kind)
{
    struct gdbstub *g = ctx;
    switch (type) {
    case GDB_BP_SW:
        /* A debug register first: it needs no int3, which kvm_pvm cannot run
         * in ring 0; int3 patching once the four slots are taken (or where
         * debug registers do not fire: the lab). */
        if (g->hw_bp_ok && hw_slot(g, insert, GDB_BP_HW, addr, 1) == 0)
            return 0;
        return g->sw_bp_ok ? sw_bp(g, insert, addr) : -1;
    case GDB_BP_HW:     /* refused where it would never fire: gdb says so */
        return g->hw_bp_ok ? hw_slot(g, insert, GDB_BP_HW, addr, 1) : -1;
    default:
        if (kind == 0 || kind > GDB_EMUWP_LEN)
            return -1;
        if (!g->data_bp_ok)
            return type == GDB_WP_WRITE ? emu_wp(g, insert, addr, kind) : -1;
        if ((kind != 1 && kind != 2 && kind != 4 && kind != 8) || addr % kind)
            return -1;      /* what one debug register can cover */
        return hw_slot(g, insert, type, addr, kind);
    }
}

static void t_resume(void *ctx, const uint8_t *act)
{
    gdb_resume(ctx, act);
}

static const char *t_xml(void *ctx, const char *annex, size_t *len)
{
    struct gdbstub *g = ctx;
    if (strcmp(annex, "target.xml") || !g->xml_len)
        return NULL;
    *len = g->xml_len;
    return g->xml;
}

static void t_monitor(void *ctx, const char *cmd, char *out, size_t cap)
{
    struct gdbstub *g = ctx;
    uint64_t a, gpa;
    char *end;
    if (!strcmp(cmd, "phys on") || !strcmp(cmd, "phys off")) {
        g->phys = cmd[6] == 'n';
        snprintf(out, cap, "memory accesses now use guest-%s addresses\n",
                 g->phys ? "physical" : "virtual");
    } else if (!strncmp(cmd, "xlate ", 6) && (a = strtoull(cmd + 6, &end, 0), *end == '\0')) {
        bool phys = g->phys;
        g->phys = false;
        if (translate(g, g->sess.g_tid, a, &gpa))
            snprintf(out, cap, "0x%llx: not mapped\n", (unsigned long long)a);
        else
            snprintf(out, cap, "0x%llx -> guest-physical 0x%llx\n", (unsigned long long)a,
                     (unsigned long long)gpa);
        g->phys = phys;
    } else if (!strcmp(cmd, "info")) {
        snprintf(out, cap, "%d vCPU(s); breakpoints: %s%s%s; watchpoints: %s\n", g->vm->ncpus,
                 g->hw_bp_ok ? "4 debug registers" : "",
                 g->hw_bp_ok && g->sw_bp_ok ? " then " : "", g->sw_bp_ok ? "int3" : "",
                 g->data_bp_ok ? "debug registers"
                               : "write only, by single-stepping (no data breakpoints here)");
    } else {
        snprintf(out, cap, "mini-kvm monitor commands:\n"
                 "  monitor phys on|off   m/M/X use guest-physical (on) or virtual addresses\n"
                 "  monitor xlate ADDR    translate a virtual address of the current vCPU\n"
                 "  monitor info          what this host's KVM offers the debugger\n");
    }
}

void gdb_target_init(struct gdbstub *g)
{
    g->target = (struct gdb_target){
        .ctx = g,
        .nthreads = g->vm->ncpus,
        .read_regs = t_read_regs,
        .write_regs = t_write_regs,
        .read_reg = t_read_reg,
        .write_reg = t_write_reg,
        .read_mem = t_read_mem,
        .write_mem = t_write_mem,
        .set_bp = t_set_bp,
        .resume = t_resume,
        .xml = t_xml,
        .monitor = t_monitor,
    };
}
