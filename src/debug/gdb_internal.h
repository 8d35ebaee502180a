/* gdb_internal.h - the stub's state shared by gdbstub.c (socket, protocol
 * thread) and gdb_cpu.c (what vCPU threads do: park, report, debug registers). */
#ifndef MINI_KVM_GDB_INTERNAL_H
#define MINI_KVM_GDB_INTERNAL_H

#include "core/vm.h"
#include "gdb_packet.h"
#include "gdb_proto.h"
#include "gdb_x86.h"

#include <linux/kvm.h>
#include <pthread.h>
#include <stdatomic.h>

#define GDB_HW_SLOTS 4      /* DR0-DR3 */
#define GDB_MAX_SWBP 64
#define GDB_MAX_EMUWP 8
#define GDB_EMUWP_LEN 64    /* bytes one emulated watchpoint may cover */

#define GDB_SIGINT  2
#define GDB_SIGTRAP 5
#define GDB_SIGSEGV 11

struct gdb_hwbp {           /* one debug-register slot */
    bool used;
    int type;               /* GDB_BP_HW (also Z0 placed here) or GDB_WP_* */
    uint64_t addr, len;
};

struct gdb_swbp {           /* an int3 patched into guest memory */
    bool used;
    uint64_t addr, gpa;
    uint8_t orig;
};

struct gdb_emuwp {          /* a write watchpoint checked after every step */
    bool used;
    uint64_t addr, len;
    uint64_t gpa[2];        /* physical start of each page piece */
    uint64_t split;         /* bytes in the first piece */
    uint8_t old[GDB_EMUWP_LEN];
};

struct gdb_cpu {
    int action;             /* GDB_ACT_* of the current resume */
    bool parked;
    struct kvm_guest_debug applied;     /* last KVM_SET_GUEST_DEBUG */
    bool pending;           /* a watchpoint hit that lost the race to another stop */
    uint64_t pend_addr;
};

struct gdbstub {
    struct vm *vm;
    int lfd, cfd;           /* listening socket, client (-1 when none) */
    int wake[2];            /* pipe: vCPUs and vm_stop wake the stub thread */
    char path[108];         /* Unix socket to unlink at the end ("" for TCP) */
    pthread_t thread;
    bool thread_started;

    pthread_mutex_t lock;   /* everything below; lock order L3 (core/vm.h) */
    pthread_cond_t cpu_cv;  /* parked vCPUs wait on it */
    pthread_cond_t stub_cv; /* the stub waits for a request to finish */
    bool stop_req;          /* every vCPU must park */
    int nparked;
    atomic_bool attached;   /* a client is connected */
    bool quit;              /* gdbstub_destroy was called */
    int stop_tid, stop_sig; /* the stop to report */
    const char *stop_wkind;
    uint64_t stop_waddr;
    bool stop_fresh;        /* a stop happened that the client has not heard of */

    /* A job for one parked vCPU's thread (vCPU ioctls run on their own thread). */
    void (*req_fn)(struct gdbstub *g, struct vcpu *c, void *arg);
    void *req_arg;
    int req_cpu;
    bool req_done;

    struct gdb_hwbp hw[GDB_HW_SLOTS];
    struct gdb_swbp sw[GDB_MAX_SWBP];
    struct gdb_emuwp emu[GDB_MAX_EMUWP];
    int nsw, nemu;
    bool phys;              /* `monitor phys on`: m/M/X address guest-physical memory */

    bool hw_bp_ok;          /* probed: a DR7 execute breakpoint exits */
    bool sw_bp_ok;          /* probed: int3 + KVM_GUESTDBG_USE_SW_BP exits */
    bool data_bp_ok;        /* probed: a DR7 write watchpoint exits */
    uint32_t step_flags;    /* extra flags for a user step (BLOCKIRQ when offered) */

    enum gdb_x86_layout layout;
    char xml[8192];
    size_t xml_len;
    struct gdb_cpu cpu[VM_MAX_CPUS];

    struct gdb_target target;
    struct gdb_session sess;
    struct gdb_rx rx;
    char reply[2 * GDB_MEM_MAX + 256];
    char frame[2 * (2 * GDB_MEM_MAX + 256) + 8];
    size_t frame_len;       /* the last packet sent, for a NAK */
};

/* gdb_cpu.c */
void gdb_probe_host(struct gdbstub *g);
/* With the lock held: ask every vCPU to park (kicking it out of KVM_RUN). */
void gdb_stop_all(struct gdbstub *g);
/* With the lock held: let vCPUs go as act[] says (after a pending stop check). */
void gdb_resume(struct gdbstub *g, const uint8_t *act);
/* With the lock held: write one byte to the stub's wake pipe. */
void gdb_wake_stub(struct gdbstub *g);
/* Run fn on vCPU `cpu`'s thread (it must be parked). Lock held. */
void gdb_on_cpu(struct gdbstub *g, int cpu, void (*fn)(struct gdbstub *, struct vcpu *, void *),
                void *arg);
/* The watch state of emulated watchpoints, read fresh (after inserting). */
void gdb_emu_snapshot(struct gdbstub *g, struct gdb_emuwp *w);

#endif
