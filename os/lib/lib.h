/* lib.h - what the kernel and the user programs share: string helpers, the
 * printf engine, and the system-call ABI (numbers and the structs passed). */
#ifndef OS_LIB_H
#define OS_LIB_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

void *memset(void *dst, int c, size_t n);
void *memcpy(void *dst, const void *src, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
void strlcopy(char *dst, const char *src, size_t size);

/* One printf for everybody: the kernel prints to the UART, user programs to
 * a line buffer. out() receives each character. */
void vformat(void (*out)(char c, void *arg), void *arg, const char *fmt, va_list ap);

/* System calls: `int $0x80` with the number in rax and arguments in rdi,
 * rsi, rdx; the result comes back in rax (negative = error). */
enum {
    SYS_PUTCHAR,    /* (c) */
    SYS_READ,       /* (buf, len) -> bytes; sleeps until a key arrives, then
                       takes every byte typed so far, up to len */
    SYS_WRITE,      /* (buf, len) -> console */
    SYS_EXIT,       /* (status) */
    SYS_READFILE,   /* (name, buf, size) -> bytes read */
    SYS_WRITEFILE,  /* (name, buf, len) -> 0; creates or replaces */
    SYS_REMOVE,     /* (name) -> 0 */
    SYS_READDIR,    /* (index, struct dirent *) -> 0, or -1 past the end */
    SYS_SPAWN,      /* (cmdline, background) -> pid */
    SYS_WAIT,       /* (pid) -> exit status */
    SYS_YIELD,      /* () */
    SYS_GETPID,     /* () -> pid */
    SYS_PS,         /* (struct procinfo *, max) -> count */
    SYS_KILL,       /* (pid) -> 0 */
    SYS_SHUTDOWN,   /* () -> never returns */
    SYS_SYSINFO,    /* (struct sysinfo *) -> 0 */
    SYS_SLEEP,      /* (ticks): 100 ticks = 1 second */
    SYS_SYNC,       /* () -> 0 once the disk has everything written */
    NSYSCALL
};

#define NAME_MAX 99             /* a tar name field holds 100 bytes */

struct dirent {
    uint64_t size;
    char name[NAME_MAX + 1];
};

enum procstate { UNUSED, RUNNABLE, RUNNING, SLEEPING, ZOMBIE };

struct sysinfo {
    uint64_t pages;             /* physical pages in use */
    uint64_t ticks;             /* since boot, 100 per second */
    uint64_t sys_gate, sys_ud;  /* system calls by the IDT gate / by #UD */
};

struct procinfo {
    int pid, ppid;
    int state;                  /* enum procstate */
    int background;
    uint64_t ticks;             /* timer ticks spent running */
    char name[16];
};

#endif
