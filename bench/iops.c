/* iops.c - 4 KiB random reads with O_DIRECT for bench/blk.sh (busybox has no
 * fio): static, in the benchmark's initramfs, the same binary under each VMM.
 *   iops DEVICE COUNT [THREADS]
 * THREADS (default 1, the queue depth) each read COUNT/THREADS blocks at
 * random 4 KiB-aligned offsets (a fixed seed per thread: every VMM reads the
 * same blocks); prints "R-iops=N" and "R-iops-s=SECONDS" (the guest-script
 * result lines of bench/). Bounded by alarm(600). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096

struct job {
    int fd;
    uint64_t blocks, count, seed;
    int err;
};

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void *reader(void *arg)
{
    struct job *j = arg;
    void *buf;
    if (posix_memalign(&buf, BLOCK, BLOCK)) {
        j->err = ENOMEM;
        return NULL;
    }
    for (uint64_t i = 0; i < j->count; i++) {
        off_t off = (off_t)(xorshift(&j->seed) % j->blocks) * BLOCK;
        if (pread(j->fd, buf, BLOCK, off) != BLOCK) {
            j->err = errno ? errno : EIO;
            break;
        }
    }
    free(buf);
    return NULL;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long count = argc > 2 ? atol(argv[2]) : 0, threads = argc > 3 ? atol(argv[3]) : 1;
    if (argc < 3 || argc > 4 || count <= 0 || threads <= 0 || threads > 64) {
        fprintf(stderr, "usage: iops DEVICE COUNT [THREADS 1-64]\n");
        return 2;
    }
    alarm(600);
    int fd = open(argv[1], O_RDONLY | O_DIRECT);
    off_t size = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);
    if (fd < 0 || size < BLOCK) {
        fprintf(stderr, "iops: %s: %s\n", argv[1], fd < 0 ? strerror(errno) : "smaller than 4 KiB");
        return 1;
    }
    struct job jobs[64];
    pthread_t tid[64];
    double t0 = now();
    for (long i = 0; i < threads; i++) {
        jobs[i] = (struct job){ fd, (uint64_t)size / BLOCK, (uint64_t)(count / threads),
                                0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1), 0 };
        if (pthread_create(&tid[i], NULL, reader, &jobs[i])) {
            fprintf(stderr, "iops: cannot start thread %ld\n", i);
            return 1;
        }
    }
    int err = 0;
    for (long i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        err = err ? err : jobs[i].err;
    }
    double s = now() - t0;
    if (err) {
        fprintf(stderr, "iops: %s: read: %s\n", argv[1], strerror(err));
        return 1;
    }
    printf("R-iops=%.0f\nR-iops-s=%.3f\n", (double)(count / threads * threads) / s, s);
    return 0;
}
