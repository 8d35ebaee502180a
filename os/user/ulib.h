/* ulib.h - the user-mode library: one wrapper per system call, printf, and
 * small helpers. Every program provides int main(char *args). */
#ifndef OS_ULIB_H
#define OS_ULIB_H

#include "../lib/lib.h"

int putchar(int c);
long read(void *buf, size_t len);
long write(const void *buf, size_t len);
void exit(int status) __attribute__((noreturn));
int readfile(const char *name, void *buf, size_t size);
int writefile(const char *name, const void *buf, size_t len);
int removefile(const char *name);
int readdir(int index, struct dirent *d);
int spawn(const char *cmdline, int background);
int wait(int pid);
void yield(void);
int getpid(void);
int ps(struct procinfo *out, int max);
int kill(int pid);
void shutdown(void) __attribute__((noreturn));
int sync(void);
int sysinfo(struct sysinfo *info);
int sleep(long ticks);

int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hold_output(int on);       /* 1: output waits for flush() or a blocking call */
void flush(void);
long atol(const char *s);
int main(char *args);

#endif
