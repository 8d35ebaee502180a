/* syscall.c - the system-call table: arguments come from the trap frame,
 * every user pointer is checked with user_ok/fetch_str before use. */
#include "kernel.h"

#define WRITE_MAX 65536         /* the most one read/write/writefile may move */

/* The checks cover the whole buffer: if they pass, the kernel can touch it
 * directly, because the process's page table is the current one. */
static int64_t sys_file(uint64_t nr, uint64_t a, uint64_t b, uint64_t c)
{
    char name[NAME_MAX + 1];
    if (fetch_str(cur->pml4, a, name, sizeof name) <= 0)
        return -1;
    if (nr == SYS_READFILE)
        return user_ok(cur->pml4, b, c, 1) ? fs_read(name, b, c) : -1;
    if (nr == SYS_WRITEFILE)
        return c <= WRITE_MAX && user_ok(cur->pml4, b, c, 0) ? fs_write(name, b, c) : -1;
    return fs_remove(name);
}

static int64_t sys_write(uint64_t buf, uint64_t len)
{
    if (len > WRITE_MAX || !user_ok(cur->pml4, buf, len, 0))
        return -1;
    cons_write((const char *)buf, len);
    return (int64_t)len;
}

static int64_t sys_read(uint64_t buf, uint64_t len)
{
    if (len > WRITE_MAX || !user_ok(cur->pml4, buf, len, 1))
        return -1;
    return cons_read((char *)buf, (int)len);
}

static int64_t sys_spawn(uint64_t cmdline, uint64_t background)
{
    char cmd[128];
    if (fetch_str(cur->pml4, cmdline, cmd, sizeof cmd) < 0)
        return -1;
    return spawn(cmd, cur->pid, background != 0);
}

void syscall(struct trapframe *tf)
{
    uint64_t nr = tf->rax, a = tf->rdi, b = tf->rsi;
    int64_t r = -1;
    switch (nr) {
    case SYS_PUTCHAR:
        cons_putc((char)a);
        r = 0;
        break;
    case SYS_READ:
        r = sys_read(a, b);
        break;
    case SYS_WRITE:
        r = sys_write(a, b);
        break;
    case SYS_EXIT:
        exit_proc((int)a);
    case SYS_READFILE:
    case SYS_WRITEFILE:
    case SYS_REMOVE:
        r = sys_file(nr, a, b, tf->rdx);
        break;
    case SYS_READDIR:
        if (user_ok(cur->pml4, b, sizeof(struct dirent), 1))
            r = fs_readdir((int)a, (struct dirent *)b);
        break;
    case SYS_SPAWN:
        r = sys_spawn(a, b);
        break;
    case SYS_WAIT:
        r = wait_pid((int)a);
        break;
    case SYS_YIELD:
        yield();
        r = 0;
        break;
    case SYS_GETPID:
        r = cur->pid;
        break;
    case SYS_PS:
        if (b <= NPROC && user_ok(cur->pml4, a, b * sizeof(struct procinfo), 1))
            r = proc_list((struct procinfo *)a, (int)b);
        break;
    case SYS_KILL:
        r = kill_pid((int)a);
        break;
    case SYS_SHUTDOWN:
        kprintf("mini-os: shutting down\n");
        if (disk_sectors && disk_flush() < 0)
            kprintf("mini-os: disk flush failed\n");
        hcall_exit(0);
    case SYS_SYNC:
        r = disk_flush();
        break;
    case SYS_SLEEP:
        r = sleep_ticks(a);
        break;
    case SYS_SYSINFO:
        if (user_ok(cur->pml4, a, sizeof(struct sysinfo), 1)) {
            *(struct sysinfo *)a = (struct sysinfo){ pages_in_use(), ticks, sys_gate, sys_ud };
            r = 0;
        }
        break;
    }
    tf->rax = (uint64_t)r;
}
