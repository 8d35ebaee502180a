/* gdb_proto.h - the GDB remote protocol's commands (g, m, Z, vCont, qXfer...)
 * decoded and answered against an abstract target: pure, unit- and fuzz-tested. */
#ifndef MINI_KVM_GDB_PROTO_H
#define MINI_KVM_GDB_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GDB_MAX_THREADS 64

/* Z/z types, as numbered by the protocol. */
enum gdb_bp_type { GDB_BP_SW, GDB_BP_HW, GDB_WP_WRITE, GDB_WP_READ, GDB_WP_ACCESS };

/* What a resume asks of each thread. */
enum gdb_action { GDB_ACT_STAY, GDB_ACT_CONT, GDB_ACT_STEP };

/* The target as the protocol needs it; threads are numbered 1..nthreads.
 * Every callback validates its own arguments (they come from the wire). */
struct gdb_target {
    void *ctx;
    int nthreads;
    /* The g packet's bytes for thread tid: byte count, or -1. */
    int (*read_regs)(void *ctx, int tid, uint8_t *buf, size_t cap);
    int (*write_regs)(void *ctx, int tid, const uint8_t *buf, size_t len);
    /* One register: byte count (read) / 0 (write), -1 for a bad number. */
    int (*read_reg)(void *ctx, int tid, int regno, uint8_t *buf, size_t cap);
    int (*write_reg)(void *ctx, int tid, int regno, const uint8_t *buf, size_t len);
    /* Memory at a guest virtual address as thread tid sees it: bytes done
     * (may be short at an unmapped page), -1 when none. */
    long (*read_mem)(void *ctx, int tid, uint64_t addr, uint8_t *buf, size_t len);
    long (*write_mem)(void *ctx, int tid, uint64_t addr, const uint8_t *buf, size_t len);
    /* Insert/remove a breakpoint or watchpoint: 0, -1 error, 1 unsupported. */
    int (*set_bp)(void *ctx, bool insert, int type, uint64_t addr, uint64_t kind);
    /* Resume: act[tid] for tid 1..nthreads (act[0] unused). */
    void (*resume)(void *ctx, const uint8_t *act);
    /* The target description document `annex` (NULL if none), its length. */
    const char *(*xml)(void *ctx, const char *annex, size_t *len);
    /* `monitor CMD`: text output into out (NUL-terminated). */
    void (*monitor)(void *ctx, const char *cmd, char *out, size_t cap);
};

struct gdb_session {
    const struct gdb_target *t;
    int g_tid;          /* thread for g/p/m (1..n) */
    int c_tid;          /* thread for legacy c/s: -1 all, 0 any, or 1..n */
    bool noack;         /* QStartNoAckMode accepted */
    char stop[96];      /* the last stop reply, for '?' */
};

enum gdb_result {
    GDB_REPLY,          /* send reply */
    GDB_RESUMED,        /* the target runs: the stop reply comes later */
    GDB_DETACH,         /* send reply (OK), then detach */
    GDB_KILL,           /* kill the target; no reply */
};

void gdb_session_init(struct gdb_session *s, const struct gdb_target *t);

/* Answer one packet (pkt[0..len), NUL-terminated, may be modified). The
 * payload to send goes into reply (cap >= 2 * GDB_MEM_MAX + 64), its length
 * into *rlen (0 = the empty reply: unsupported). */
enum gdb_result gdb_dispatch(struct gdb_session *s, char *pkt, size_t len,
                             char *reply, size_t cap, size_t *rlen);

/* Most bytes one m/M/X moves: GDB_PKT_MAX (gdb_packet.h), so any M or X that
 * fits the advertised PacketSize is taken whole; longer reads answer short. */
#define GDB_MEM_MAX 16384

/* "T05thread:N;" or with "watch:ADDR;" etc.: the stop reply for a signal,
 * thread and optional watchpoint kind ("watch", "rwatch", "awatch"). */
void gdb_format_stop(char *out, size_t cap, int sig, int tid, const char *wkind,
                     uint64_t waddr);

#endif
