/* ulib.c - the user-mode library: _start, the system-call stubs (int $0x80,
 * see trap.c for why not `syscall`), and a line-buffered printf. */
#include "ulib.h"

/* The kernel starts a program here with RDI = its argument string and a
 * 16-byte aligned stack; returning from main is exit(main's value). */
asm(".section .text.start, \"ax\"\n"
    ".globl _start\n"
    "_start:\n"
    "    call main\n"
    "    mov %eax, %edi\n"
    "    call exit\n"
    ".text\n");

/* The kernel saves and restores every register except rax, the result. */
static long trap80(long nr, long a, long b, long c)
{
    long r;
    asm volatile("int $0x80" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c) : "memory");
    return r;
}

/* Every system call but write sends held output first (flush, below): the
 * kernel may print, block, or let another program print meanwhile, and
 * none of that may overtake what this program printed before. */
static long sys(long nr, long a, long b, long c)
{
    if (nr != SYS_WRITE)
        flush();
    return trap80(nr, a, b, c);
}

/* Output is collected and sent with one system call per line (or per full
 * buffer): a system call costs far more than a function call (hundreds of
 * emulated kernel instructions on a software KVM, docs/teaching-os.md). A
 * program that holds its output (hold_output, the shell) sends it only
 * before it blocks or lets another program print: the echo of a typed line,
 * its answer and the next prompt then go out in one write. */
static struct {
    char buf[512];
    size_t n;
    int hold;
} out;

void flush(void)
{
    if (out.n)
        trap80(SYS_WRITE, (long)out.buf, (long)out.n, 0);
    out.n = 0;
}

void hold_output(int on)
{
    out.hold = on;
    if (!on)
        flush();
}

static void bufc(char c, void *arg)
{
    (void)arg;
    out.buf[out.n++] = c;
    if ((c == '\n' && !out.hold) || out.n == sizeof out.buf)
        flush();
}

int putchar(int c)
{
    bufc((char)c, 0);
    if (!out.hold)
        flush();
    return 0;
}

long write(const void *buf, size_t len)
{
    if (out.hold && len <= sizeof out.buf - out.n) {
        memcpy(out.buf + out.n, buf, len);
        out.n += len;
        return (long)len;
    }
    flush();
    return sys(SYS_WRITE, (long)buf, (long)len, 0);
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(bufc, 0, fmt, ap);
    va_end(ap);
    if (!out.hold)
        flush();
    return 0;
}

long read(void *buf, size_t len) { return sys(SYS_READ, (long)buf, (long)len, 0); }
int readfile(const char *name, void *buf, size_t size) { return (int)sys(SYS_READFILE, (long)name, (long)buf, (long)size); }
int writefile(const char *name, const void *buf, size_t len) { return (int)sys(SYS_WRITEFILE, (long)name, (long)buf, (long)len); }
int removefile(const char *name) { return (int)sys(SYS_REMOVE, (long)name, 0, 0); }
int readdir(int index, struct dirent *d) { return (int)sys(SYS_READDIR, index, (long)d, 0); }
int spawn(const char *cmdline, int background) { return (int)sys(SYS_SPAWN, (long)cmdline, background, 0); }
int wait(int pid) { return (int)sys(SYS_WAIT, pid, 0, 0); }
void yield(void) { sys(SYS_YIELD, 0, 0, 0); }
int getpid(void) { return (int)sys(SYS_GETPID, 0, 0, 0); }
int ps(struct procinfo *p, int max) { return (int)sys(SYS_PS, (long)p, max, 0); }
int kill(int pid) { return (int)sys(SYS_KILL, pid, 0, 0); }
int sysinfo(struct sysinfo *info) { return (int)sys(SYS_SYSINFO, (long)info, 0, 0); }
int sleep(long ticks) { return (int)sys(SYS_SLEEP, ticks, 0, 0); }

void exit(int status)
{
    sys(SYS_EXIT, status, 0, 0);
    for (;;)
        ;
}

int sync(void) { return (int)sys(SYS_SYNC, 0, 0, 0); }

void shutdown(void)
{
    sys(SYS_SHUTDOWN, 0, 0, 0);
    for (;;)
        ;
}

long atol(const char *s)
{
    long v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (*s++ - '0');
    return v;
}
