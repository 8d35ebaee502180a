/* tracefile.h - --trace-file FILE: every VM exit as one line of text with a
 * timestamp, for scripts (tools/trace-plot); format in docs/tracing.md. */
#ifndef MINI_KVM_TRACEFILE_H
#define MINI_KVM_TRACEFILE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kvm_run;

#define TRACE_BUF 65536         /* per vCPU: one write(2) per ~600 exits */

/* The file, shared by every vCPU of every guest. */
struct trace_file {
    int fd;
    pthread_mutex_t lock;       /* held for one whole block write; a leaf (core/vm.h) */
    uint64_t t0_ns;             /* CLOCK_MONOTONIC at open: t_ns counts from here */
    bool failed;                /* a write failed: reported once, no more writes */
};

/* One vCPU's lines, written out when nearly full and when the vCPU stops,
 * so the exit path costs an snprintf and no system call. */
struct trace_buf {
    struct trace_file *file;
    size_t n;
    char buf[TRACE_BUF];
};

/* Create or truncate path and write the header line. -1 after one error line. */
int trace_file_open(struct trace_file *tf, const char *path);
void trace_file_close(struct trace_file *tf);

/* A vCPU's buffer on the file (NULL when there is no file); free flushes. */
struct trace_buf *trace_buf_new(struct trace_file *tf);
void trace_buf_free(struct trace_buf *b);

/* Append one exit. dev: the device that claimed an I/O or MMIO access, NULL
 * if none did. */
void trace_buf_exit(struct trace_buf *b, const char *guest, int cpu, const struct kvm_run *run,
                    uint32_t run_size, const char *dev);

#endif
