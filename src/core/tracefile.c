/* tracefile.c - the --trace-file writer: per-vCPU buffers of text lines, each
 * block written whole under one lock, so lines never interleave mid-line. */
#include "tracefile.h"
#include "stats.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TRACE_LINE_MAX 256

static const char header[] =
    "# mini-kvm trace v1: t_ns guest cpu reason kind addr size count dir value device\n";

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);     /* vDSO: no system call */
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int trace_file_open(struct trace_file *tf, const char *path)
{
    memset(tf, 0, sizeof(*tf));
    tf->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (tf->fd < 0) {
        errorf("--trace-file %s: %s", path, strerror(errno));
        return -1;
    }
    if (write_all(tf->fd, header, sizeof(header) - 1)) {
        errorf("--trace-file %s: cannot write: %s", path, strerror(errno));
        close(tf->fd);
        return -1;
    }
    pthread_mutex_init(&tf->lock, NULL);
    tf->t0_ns = now_ns();
    return 0;
}

void trace_file_close(struct trace_file *tf)
{
    if (close(tf->fd) < 0 && !tf->failed)
        errorf("--trace-file: close: %s", strerror(errno));
    pthread_mutex_destroy(&tf->lock);
}

static void flush(struct trace_buf *b)
{
    struct trace_file *tf = b->file;
    pthread_mutex_lock(&tf->lock);
    if (!tf->failed && write_all(tf->fd, b->buf, b->n)) {
        tf->failed = true;
        errorf("--trace-file: write failed (%s): the trace ends here", strerror(errno));
    }
    pthread_mutex_unlock(&tf->lock);
    b->n = 0;
}

struct trace_buf *trace_buf_new(struct trace_file *tf)
{
    if (!tf)
        return NULL;
    struct trace_buf *b = xcalloc(1, sizeof(*b));
    b->file = tf;
    return b;
}

void trace_buf_free(struct trace_buf *b)
{
    if (!b)
        return;
    if (b->n)
        flush(b);
    free(b);
}

/* The access fields: kind addr size count dir value. */
static int access_fields(char *p, size_t n, const struct kvm_run *run, uint32_t run_size)
{
    unsigned long long v = (unsigned long long)exit_value(run, run_size);
    if (run->exit_reason == KVM_EXIT_IO)
        return snprintf(p, n, "port 0x%x %u %u %s 0x%llx", run->io.port, run->io.size,
                        run->io.count, run->io.direction == KVM_EXIT_IO_OUT ? "out" : "in", v);
    if (run->exit_reason == KVM_EXIT_MMIO)
        return snprintf(p, n, "mmio 0x%llx %u 1 %s 0x%llx",
                        (unsigned long long)run->mmio.phys_addr, run->mmio.len,
                        run->mmio.is_write ? "write" : "read", v);
    return snprintf(p, n, "- - - - - -");
}

void trace_buf_exit(struct trace_buf *b, const char *guest, int cpu, const struct kvm_run *run,
                    uint32_t run_size, const char *dev)
{
    if (TRACE_BUF - b->n < TRACE_LINE_MAX)
        flush(b);
    char *p = b->buf + b->n;
    size_t room = TRACE_LINE_MAX;
    bool access = run->exit_reason == KVM_EXIT_IO || run->exit_reason == KVM_EXIT_MMIO;
    char name[65];      /* a guest name is one field: at most 64 bytes, no blanks */
    snprintf(name, sizeof(name), "%s", guest);
    for (char *s = name; *s; s++)
        if (*s == ' ' || *s == '\n' || *s == '\t')
            *s = '_';
    int n = snprintf(p, room, "%llu %s %d %s ",
                     (unsigned long long)(now_ns() - b->file->t0_ns), name, cpu,
                     exit_reason_name(run->exit_reason));
    n += access_fields(p + n, room - (size_t)n, run, run_size);
    n += snprintf(p + n, room - (size_t)n, " %s\n", !access ? "-" : dev ? dev : "unclaimed");
    if (n >= (int)room) {       /* cannot happen with these fields; stay whole */
        n = (int)room - 1;
        p[n - 1] = '\n';
    }
    b->n += (size_t)n;
}
