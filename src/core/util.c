/* util.c - error reporting, file reading and small parsers used by every
 * module. Kept tiny on purpose; anything device-specific lives elsewhere. */
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* gcc defines __SANITIZE_ADDRESS__ under -fsanitize=address; clang says so
 * through __has_feature. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MKVM_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(MKVM_ASAN)
#include <sanitizer/lsan_interface.h>
#define MKVM_LSAN_IGNORE(p) __lsan_ignore_object(p)
#else
#define MKVM_LSAN_IGNORE(p) ((void)(p))
#endif

/* Per thread, like errno: the API thread captures while vCPUs report. */
static _Thread_local char *capture_buf;
static _Thread_local size_t capture_len;

void errorf_capture(char *buf, size_t n)
{
    capture_buf = buf;
    capture_len = n;
    if (buf && n)
        buf[0] = '\0';
}

void errorf(const char *fmt, ...)
{
    char buf[1024];
    int n = snprintf(buf, sizeof(buf), PROG ": ");
    va_list ap;
    va_start(ap, fmt);
    n += vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    if (n > (int)sizeof(buf) - 2)
        n = (int)sizeof(buf) - 2;
    if (capture_buf && capture_len && !capture_buf[0])
        snprintf(capture_buf, capture_len, "%.*s", n - (int)sizeof(PROG ": ") + 1,
                 buf + sizeof(PROG ": ") - 1);
    buf[n++] = '\n';
    ssize_t w = write(2, buf, (size_t)n);
    (void)w;
}

/* What a file that is not a regular one is, for the one error line. */
static const char *not_regular(mode_t m)
{
    return S_ISDIR(m) ? "is a directory"
         : S_ISFIFO(m) ? "is a FIFO, not a regular file"
         : S_ISSOCK(m) ? "is a socket, not a regular file"
         : S_ISCHR(m) ? "is a character device, not a regular file"
         : S_ISBLK(m) ? "is a block device, not a regular file"
         : "is not a regular file";
}

uint8_t *read_file(const char *path, const char *what, size_t max, size_t *len)
{
    /* O_NONBLOCK: open(2) of a FIFO with no writer would block forever
     * before fstat could refuse it; on a regular file it changes nothing. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        errorf("%s: cannot open %s: %s", path, what, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) < 0) {
        errorf("%s: cannot stat %s: %s", path, what, strerror(errno));
        close(fd);
        return NULL;
    }
    const char *bad = !S_ISREG(st.st_mode) ? not_regular(st.st_mode)
                    : st.st_size == 0 ? "is empty" : NULL;
    if (!bad && (uint64_t)st.st_size > max)
        bad = "is too large";
    if (bad) {
        errorf("%s: %s %s", path, what, bad);
        close(fd);
        return NULL;
    }
    size_t n = (size_t)st.st_size, got = 0;
    uint8_t *buf = malloc(n);
    if (!buf) {
        errorf("%s: out of memory reading %s", path, what);
        close(fd);
        return NULL;
    }
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            errorf("%s: cannot read %s: %s", path, what, r ? strerror(errno) : "short read");
            free(buf);
            close(fd);
            return NULL;
        }
        got += (size_t)r;
    }
    close(fd);
    *len = n;
    return buf;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p) {
        errorf("out of memory");
        abort();
    }
    return p;
}

void keep_until_exit(const void *p)
{
    MKVM_LSAN_IGNORE(p);
}

int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}
