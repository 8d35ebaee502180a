/* kernel.h - the kernel's shared definitions: memory layout, x86 helpers,
 * the process and trap-frame structures, and every cross-file function. */
#ifndef OS_KERNEL_H
#define OS_KERNEL_H

#include "../lib/lib.h"

/* Memory layout. The kernel runs identity-mapped (virtual == physical) in the
 * first PML4 slot, which every address space shares with U=0. User programs
 * live in the second slot, so a process only owns the tables below PML4[1]. */
#define PAGE_SIZE    4096ULL
#define USER_BASE    0x8000000000ULL            /* PML4[1]: 512 GiB */
#define USER_TOP     (USER_BASE + 0x40000000ULL) /* 1 GiB of user space */
#define USTACK_PAGES 4
#define KSTACK_SIZE  8192
#define NPROC        16

/* Page-table entry bits. */
#define PTE_P  0x001ULL
#define PTE_W  0x002ULL
#define PTE_U  0x004ULL
#define PTE_PCD 0x010ULL
#define PTE_PS 0x080ULL
#define PTE_ADDR 0x000FFFFFFFFFF000ULL

/* Segment selectors (see gdt[] in trap.c). */
#define KCODE 0x08
#define KDATA 0x10
#define UCODE (0x18 | 3)
#define UDATA (0x20 | 3)
#define TSSSEL 0x28

/* Interrupt vectors. IRQ n of the I/O APIC arrives as vector 32 + n. */
#define T_UD      6
#define T_PF      14
#define T_IRQ0    32
#define T_TIMER   (T_IRQ0 + 0)   /* the LAPIC timer, not an IOAPIC pin */
#define T_SYSCALL 0x80
#define T_SPURIOUS 0xFF
#define IRQ_COM1  4

/* Saved by entry.S on every interrupt, exception and system call; the last
 * five words are pushed by the CPU itself. */
struct trapframe {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vec, err;
    uint64_t rip, cs, rflags, rsp, ss;
};

struct proc {
    enum procstate state;
    int pid, ppid;
    int background;             /* nobody waits: reclaim the slot at exit */
    int killed;
    int status;                 /* exit status, for wait() */
    uint64_t *pml4;             /* this process's address space */
    uint64_t ctx;               /* saved kernel rsp (see swtch in entry.S) */
    void *chan;                 /* what a SLEEPING process waits for */
    uint64_t ticks;
    char name[16];
    uint8_t *kstack;            /* KSTACK_SIZE bytes; the TSS points above */
};

/* x86 instructions the C code needs. */
static inline void outb(uint16_t port, uint8_t v) { asm volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint64_t rcr2(void) { uint64_t v; asm volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline void lcr3(uint64_t v) { asm volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline uint32_t mmio_read(uint64_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_write(uint64_t a, uint32_t v) { *(volatile uint32_t *)a = v; }

/* console.c */
void uart_init(void);
void uart_intr(void);
void cons_putc(char c);
void cons_write(const char *s, uint64_t len);
int cons_read(char *dst, int n); /* sleeps for input; bytes, or -1 if killed */
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void hcall_exit(int status) __attribute__((noreturn));
void kpanic(const char *file, int line, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 3, 4)));
#define panic(...) kpanic(__FILE__, __LINE__, __VA_ARGS__)

/* trap.c */
void cpu_init(void);
void irq_init(void);
void set_kernel_stack(uint64_t top);
extern volatile uint64_t ticks;
extern uint64_t sys_gate, sys_ud;      /* how system calls arrived */

/* vm.c */
void kvm_init(uint64_t ram_size);
void *kalloc(void);
void kfree(void *page);
uint64_t pages_in_use(void);
uint64_t *uvm_create(void);
void *uvm_page(uint64_t *pml4, uint64_t va, int writable);
void uvm_free(uint64_t *pml4);
int user_ok(uint64_t *pml4, uint64_t va, uint64_t len, int write);
int fetch_str(uint64_t *pml4, uint64_t va, char *buf, int size);
extern uint64_t kernel_pml4;

/* proc.c */
extern struct proc *cur;
void scheduler(void) __attribute__((noreturn));
int spawn(const char *cmdline, int ppid, int background);
void exit_proc(int status) __attribute__((noreturn));
int wait_pid(int pid);
int kill_pid(int pid);
void yield(void);
void sleep(void *chan);
int sleep_ticks(uint64_t n);
void wakeup(void *chan);
int proc_list(struct procinfo *out, int max);

/* syscall.c */
void syscall(struct trapframe *tf);

/* virtio.c and tarfs.c */
int disk_init(const uint64_t *bases, int n);
int disk_rw(uint32_t sector, void *buf, int write);
int disk_flush(void);
extern uint64_t disk_sectors;
void fs_init(void);
int fs_read(const char *name, uint64_t ubuf, uint64_t size);
int fs_write(const char *name, uint64_t ubuf, uint64_t len);
int fs_remove(const char *name);
int fs_readdir(int index, struct dirent *d);

/* entry.S */
void swtch(uint64_t *save_rsp, uint64_t new_rsp);
void trapret(void);
extern char vectors[];          /* 256 stubs, 16 bytes apart */

#endif
