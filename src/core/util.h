/* util.h - small helpers shared by every module: one-line error messages on
 * stderr and whole-file reading with the checks bad input needs. */
#ifndef MINI_KVM_UTIL_H
#define MINI_KVM_UTIL_H

#include <stddef.h>
#include <stdint.h>

#define PROG "mini-kvm"

/* Print "mini-kvm: <message>\n" to stderr in a single write(2), so lines
 * from different threads never mix. */
void errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* While buf is set, this thread's first errorf message (without the
 * "mini-kvm: " prefix) is also kept in buf: the API returns it to its client
 * as the fault_message. errorf_capture(NULL, 0) ends the capture. */
void errorf_capture(char *buf, size_t n);

/* Read a whole regular file into a malloc'd buffer. Rejects missing,
 * unreadable, directory, empty, and larger-than-max files with a message
 * naming the file and `what` (e.g. "kernel"). Returns NULL on error. */
uint8_t *read_file(const char *path, const char *what, size_t max, size_t *len);

/* calloc that never returns NULL (aborts with a message on OOM). */
void *xcalloc(size_t n, size_t size);

/* p stays allocated until the process exits, on purpose (a detached thread
 * may use it to the end): tells LeakSanitizer so that a sanitizer run is
 * clean by default (docs/security.md, "Sanitizers"). No-op otherwise. */
void keep_until_exit(const void *p);

/* Strictly parse a decimal integer in [min, max]; 0 or -1. */
int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);

#endif
