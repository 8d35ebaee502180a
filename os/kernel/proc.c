/* proc.c - processes: the table, loading an ELF program into a new address
 * space, the round-robin scheduler, sleep/wakeup, exit, wait and kill. */
#include "kernel.h"

/* User programs are linked into the kernel image (progs.S). */
struct program {
    const char *name;
    const uint8_t *start, *end;
};
extern const struct program programs[];

struct elfhdr {
    uint8_t ident[16];
    uint16_t type, machine;
    uint32_t version;
    uint64_t entry, phoff, shoff;
    uint32_t flags;
    uint16_t ehsize, phentsize, phnum, shentsize, shnum, shstrndx;
};
struct proghdr {
    uint32_t type, flags;
    uint64_t offset, vaddr, paddr, filesz, memsz, align;
};
#define PT_LOAD 1
#define PF_W 2
#define ARGS_MAX 256            /* the argument string, at the stack top */

struct proc *cur;               /* the running process, or 0 in the scheduler */
static struct proc procs[NPROC];
static uint8_t kstacks[NPROC][KSTACK_SIZE] __attribute__((aligned(16)));
static uint64_t sched_ctx;      /* the scheduler's saved rsp */
static int next_pid = 1;

/* Copy each PT_LOAD segment into fresh pages. The image is our own, but it
 * is still checked: a bad one must not map kernel addresses. */
static int load_elf(uint64_t *pml4, const uint8_t *elf, uint64_t size, uint64_t *entry)
{
    const struct elfhdr *eh = (const void *)elf;
    if (size < sizeof *eh || strncmp((const char *)eh->ident, "\177ELF", 4) ||
        eh->phentsize != sizeof(struct proghdr) || eh->phoff > size ||
        (size - eh->phoff) / sizeof(struct proghdr) < eh->phnum)
        return -1;
    for (int i = 0; i < eh->phnum; i++) {
        const struct proghdr *ph = (const struct proghdr *)(elf + eh->phoff) + i;
        if (ph->type != PT_LOAD || ph->memsz == 0)
            continue;
        if (ph->filesz > ph->memsz || ph->offset > size || ph->filesz > size - ph->offset ||
            ph->vaddr < USER_BASE || ph->memsz > USER_TOP - ph->vaddr)
            return -1;
        uint64_t end = ph->vaddr + ph->memsz, fend = ph->vaddr + ph->filesz;
        for (uint64_t va = ph->vaddr & ~(PAGE_SIZE - 1); va < end; va += PAGE_SIZE) {
            uint8_t *page = uvm_page(pml4, va, ph->flags & PF_W);
            if (!page)
                return -1;
            uint64_t lo = va > ph->vaddr ? va : ph->vaddr;
            uint64_t hi = va + PAGE_SIZE < fend ? va + PAGE_SIZE : fend;
            if (lo < hi)        /* the part of the file in this page */
                memcpy(page + (lo - va), elf + ph->offset + (lo - ph->vaddr), hi - lo);
        }
    }
    *entry = eh->entry;
    return 0;
}

/* Build the process's first trap frame (as if it had trapped into the
 * kernel from user mode) and, below it, a context whose swtch returns into
 * trapret: the first switch to the process then "returns" to user mode. */
static void setup_stack(struct proc *p, uint64_t entry, uint64_t sp)
{
    struct trapframe *tf = (struct trapframe *)(p->kstack + KSTACK_SIZE) - 1;
    memset(tf, 0, sizeof *tf);
    tf->rip = entry;
    tf->cs = UCODE;
    tf->rflags = 0x202;         /* IF: the timer can preempt user code */
    tf->rsp = sp;
    tf->ss = UDATA;
    tf->rdi = sp;               /* main(args) */
    uint64_t *ctx = (uint64_t *)tf - 7;
    memset(ctx, 0, 6 * sizeof *ctx);
    ctx[6] = (uint64_t)trapret;
    p->ctx = (uint64_t)ctx;
}

/* Start "NAME ARGS" as a new process; its pid, or -1. */
int spawn(const char *cmdline, int ppid, int background)
{
    char name[16];
    int n = 0;
    while (cmdline[n] && cmdline[n] != ' ' && n < 15)
        name[n] = cmdline[n], n++;
    name[n] = 0;
    const char *args = cmdline + n;
    while (*args == ' ')
        args++;
    const struct program *prog = programs;
    while (prog->name && strcmp(prog->name, name))
        prog++;
    struct proc *p = procs;
    while (p < procs + NPROC && p->state != UNUSED)
        p++;
    if (!prog->name || p == procs + NPROC || !(p->pml4 = uvm_create()))
        return -1;
    uint64_t entry;
    int ok = load_elf(p->pml4, prog->start, prog->end - prog->start, &entry) == 0;
    for (int i = 1; ok && i <= USTACK_PAGES; i++)
        ok = uvm_page(p->pml4, USER_TOP - i * PAGE_SIZE, 1) != 0;
    if (!ok) {
        uvm_free(p->pml4);
        return -1;
    }
    char *argpage = uvm_page(p->pml4, USER_TOP - PAGE_SIZE, 1);
    strlcopy(argpage + PAGE_SIZE - ARGS_MAX, args, ARGS_MAX);
    p->kstack = kstacks[p - procs];
    setup_stack(p, entry, USER_TOP - ARGS_MAX);
    p->pid = next_pid++;
    p->ppid = ppid;
    p->background = background;
    p->killed = 0;
    p->ticks = 0;
    strlcopy(p->name, name, sizeof p->name);
    p->state = RUNNABLE;
    return p->pid;
}

/* Run each RUNNABLE process in turn, forever. This loop runs on the boot
 * stack; processes come back to it through sched(). */
void scheduler(void)
{
    int last = 0;
    for (;;) {
        /* round robin from the slot after the last one run; two plain
         * scans rather than an index modulo NPROC per slot, which cost
         * 14 emulated instructions a slot on a software KVM */
        struct proc *p = 0;
        for (struct proc *q = procs + last + 1; q < procs + NPROC && !p; q++)
            if (q->state == RUNNABLE)
                p = q;
        for (struct proc *q = procs; q <= procs + last && !p; q++)
            if (q->state == RUNNABLE)
                p = q;
        if (!p) {               /* nothing to do: wait for an interrupt */
            asm volatile("sti; hlt; cli");
            continue;
        }
        last = p - procs;
        p->state = RUNNING;
        cur = p;
        set_kernel_stack((uint64_t)p->kstack + KSTACK_SIZE);
        lcr3((uint64_t)p->pml4);
        swtch(&sched_ctx, p->ctx);
        cur = 0;
        if (p->state == ZOMBIE && p->background)
            p->state = UNUSED;  /* nobody will wait for it */
    }
}

static void sched(void)
{
    swtch(&cur->ctx, sched_ctx);
}

void yield(void)
{
    cur->state = RUNNABLE;
    sched();
}

/* Callers run with interrupts off, so nothing can call wakeup between their
 * test of the condition and this sleep: no lost wakeups on one CPU. */
void sleep(void *chan)
{
    cur->chan = chan;
    cur->state = SLEEPING;
    sched();
    cur->chan = 0;
}

/* The timer interrupt wakes &ticks on every tick. */
int sleep_ticks(uint64_t n)
{
    uint64_t start = ticks;
    while (ticks - start < n) {
        if (cur->killed)
            return -1;
        sleep((void *)&ticks);
    }
    return 0;
}

void wakeup(void *chan)
{
    for (struct proc *p = procs; p < procs + NPROC; p++)
        if (p->state == SLEEPING && p->chan == chan)
            p->state = RUNNABLE;
}

/* Free the address space now; the slot stays as a ZOMBIE holding the exit
 * status until wait_pid (or, for background jobs, the scheduler) frees it.
 * The kernel stack is part of the slot, so it is not freed while in use. */
void exit_proc(int status)
{
    struct proc *p = cur;
    lcr3(kernel_pml4);          /* stop using the tables we free */
    uvm_free(p->pml4);
    p->pml4 = 0;
    p->status = status;
    for (struct proc *q = procs; q < procs + NPROC; q++) {
        if (q->state != UNUSED && q->ppid == p->pid) {
            q->ppid = 0;        /* orphans: nobody will wait for them */
            q->background = 1;
            if (q->state == ZOMBIE)
                q->state = UNUSED;
        }
    }
    p->state = ZOMBIE;
    wakeup(p);
    if (p->ppid == 0 && !strcmp(p->name, "sh") && spawn("sh", 0, 1) < 0)
        panic("cannot restart the shell");
    sched();
    panic("a zombie ran");
}

/* Wait for child pid (not a background one) to exit; its status, or -1. */
int wait_pid(int pid)
{
    struct proc *p = procs;
    while (p < procs + NPROC && !(p->state != UNUSED && p->pid == pid && p->ppid == cur->pid && !p->background))
        p++;
    if (p == procs + NPROC)
        return -1;
    while (p->state != ZOMBIE) {
        if (cur->killed)
            return -1;
        sleep(p);
    }
    p->state = UNUSED;
    return p->status;
}

/* Mark the process; it exits the next time it is about to return to user
 * mode (see the end of trap()). A sleeper is woken so that it notices. */
int kill_pid(int pid)
{
    for (struct proc *p = procs; p < procs + NPROC; p++) {
        if (p->pid == pid && p->state != UNUSED && p->state != ZOMBIE) {
            p->killed = 1;
            if (p->state == SLEEPING)
                p->state = RUNNABLE;
            return 0;
        }
    }
    return -1;
}

int proc_list(struct procinfo *out, int max)
{
    int n = 0;
    for (struct proc *p = procs; p < procs + NPROC && n < max; p++) {
        if (p->state == UNUSED)
            continue;
        out[n] = (struct procinfo){ p->pid, p->ppid, p->state, p->background, p->ticks, {0} };
        strlcopy(out[n++].name, p->name, sizeof out->name);
    }
    return n;
}
