/* gdb_fake.h - a fake target for the protocol layer (unit tests and the fuzz
 * target): 2 threads, 16 bytes of registers each, 64 KiB of memory at 0x1000. */
#ifndef GDB_FAKE_H
#define GDB_FAKE_H

#include "debug/gdb_proto.h"

#include <stdio.h>
#include <string.h>

#define FAKE_BASE 0x1000u
#define FAKE_SIZE 0x10000u
#define FAKE_NREGS 4            /* 4 registers of 4 bytes */

struct fake {
    uint8_t regs[3][FAKE_NREGS * 4];    /* [tid] */
    uint8_t mem[FAKE_SIZE];
    uint8_t act[GDB_MAX_THREADS + 1];
    int resumed;
    int bps, last_bp_type;
    uint64_t last_bp_addr;
    char last_monitor[256];
};

static int fake_read_regs(void *ctx, int tid, uint8_t *buf, size_t cap)
{
    struct fake *f = ctx;
    if (tid < 1 || tid > 2 || cap < sizeof(f->regs[0]))
        return -1;
    memcpy(buf, f->regs[tid], sizeof(f->regs[0]));
    return (int)sizeof(f->regs[0]);
}

static int fake_write_regs(void *ctx, int tid, const uint8_t *buf, size_t len)
{
    struct fake *f = ctx;
    if (tid < 1 || tid > 2 || len != sizeof(f->regs[0]))
        return -1;
    memcpy(f->regs[tid], buf, len);
    return 0;
}

static int fake_read_reg(void *ctx, int tid, int regno, uint8_t *buf, size_t cap)
{
    struct fake *f = ctx;
    if (tid < 1 || tid > 2 || regno < 0 || regno >= FAKE_NREGS || cap < 4)
        return -1;
    memcpy(buf, f->regs[tid] + 4 * regno, 4);
    return 4;
}

static int fake_write_reg(void *ctx, int tid, int regno, const uint8_t *buf, size_t len)
{
    struct fake *f = ctx;
    if (tid < 1 || tid > 2 || regno < 0 || regno >= FAKE_NREGS || len != 4)
        return -1;
    memcpy(f->regs[tid] + 4 * regno, buf, 4);
    return 0;
}

/* Like the real target: short at the end of memory, -1 when nothing maps. */
static long fake_span(uint64_t addr, size_t len)
{
    if (addr < FAKE_BASE || addr - FAKE_BASE >= FAKE_SIZE)
        return -1;
    uint64_t left = FAKE_SIZE - (addr - FAKE_BASE);
    return (long)(len < left ? len : left);
}

static long fake_read_mem(void *ctx, int tid, uint64_t addr, uint8_t *buf, size_t len)
{
    struct fake *f = ctx;
    (void)tid;
    long n = fake_span(addr, len);
    if (n > 0)
        memcpy(buf, f->mem + (addr - FAKE_BASE), (size_t)n);
    return n;
}

static long fake_write_mem(void *ctx, int tid, uint64_t addr, const uint8_t *buf, size_t len)
{
    struct fake *f = ctx;
    (void)tid;
    long n = fake_span(addr, len);
    if (n > 0)
        memcpy(f->mem + (addr - FAKE_BASE), buf, (size_t)n);
    return n;
}

static int fake_set_bp(void *ctx, bool insert, int type, uint64_t addr, uint64_t kind)
{
    struct fake *f = ctx;
    (void)kind;
    if (type == GDB_WP_READ)
        return 1;       /* "unsupported" */
    if (insert && f->bps == 4)
        return -1;      /* full */
    f->bps += insert ? 1 : -1;
    f->last_bp_type = type;
    f->last_bp_addr = addr;
    return 0;
}

static void fake_resume(void *ctx, const uint8_t *act)
{
    struct fake *f = ctx;
    memcpy(f->act, act, sizeof(f->act));
    f->resumed++;
}

static const char fake_xml[] = "<?xml version=\"1.0\"?><target><architecture>i386</architecture>"
                               "</target>";

static const char *fake_xml_fn(void *ctx, const char *annex, size_t *len)
{
    (void)ctx;
    if (strcmp(annex, "target.xml"))
        return NULL;
    *len = sizeof(fake_xml) - 1;
    return fake_xml;
}

static void fake_monitor(void *ctx, const char *cmd, char *out, size_t cap)
{
    struct fake *f = ctx;
    snprintf(f->last_monitor, sizeof(f->last_monitor), "%s", cmd);
    snprintf(out, cap, "ran %s\n", cmd);
}

static void fake_target(struct gdb_target *t, struct fake *f)
{
    memset(f, 0, sizeof(*f));
    *t = (struct gdb_target){ f, 2, fake_read_regs, fake_write_regs, fake_read_reg,
                              fake_write_reg, fake_read_mem, fake_write_mem, fake_set_bp,
                              fake_resume, fake_xml_fn, fake_monitor };
}

#endif
