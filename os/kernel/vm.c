/* vm.c - physical pages (a free list) and 4-level page tables: the kernel's
 * identity map, per-process address spaces, and user-pointer checks. */
#include "kernel.h"

extern char __kernel_end[];     /* kernel.ld: first byte after the kernel */

/* The kernel's map: the first 4 GiB identity-mapped with 2 MiB pages, except
 * the first 2 MiB, which use 4 KiB pages so that page 0 can stay unmapped:
 * a NULL dereference in the kernel faults instead of reading the IVT. */
static uint64_t kpml4[512] __attribute__((aligned(4096)));
static uint64_t kpdpt[512] __attribute__((aligned(4096)));
static uint64_t kpd[4][512] __attribute__((aligned(4096)));
static uint64_t kpt0[512] __attribute__((aligned(4096)));
uint64_t kernel_pml4;

/* Free pages form a linked list threaded through the pages themselves.
 * Pages never handed out yet come from a bump pointer, so boot does not
 * have to touch all of RAM to build the list. */
static struct {
    uint64_t *free;
    uint64_t next, limit;
    uint64_t used;
} mem;

void kvm_init(uint64_t ram_size)
{
    for (int i = 1; i < 512; i++)
        kpt0[i] = i * PAGE_SIZE | PTE_P | PTE_W;
    for (uint64_t i = 0; i < 2048; i++) {
        uint64_t pa = i << 21;  /* 3-4 GiB is devices: uncached */
        kpd[i / 512][i % 512] = pa | PTE_P | PTE_W | PTE_PS | (pa >= 0xC0000000 ? PTE_PCD : 0);
    }
    kpd[0][0] = (uint64_t)kpt0 | PTE_P | PTE_W;
    for (int i = 0; i < 4; i++)
        kpdpt[i] = (uint64_t)kpd[i] | PTE_P | PTE_W;
    kpml4[0] = (uint64_t)kpdpt | PTE_P | PTE_W;
    kernel_pml4 = (uint64_t)kpml4;
    lcr3(kernel_pml4);

    mem.next = ((uint64_t)__kernel_end + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
    mem.limit = ram_size < 0xC0000000 ? ram_size : 0xC0000000;
    if (mem.next + 64 * PAGE_SIZE > mem.limit)
        panic("only %lu bytes of RAM", ram_size);
}

/* A zeroed page, or 0 when memory is exhausted. */
void *kalloc(void)
{
    uint64_t *p = mem.free;
    if (p) {
        mem.free = (uint64_t *)*p;
    } else if (mem.next < mem.limit) {
        p = (uint64_t *)mem.next;
        mem.next += PAGE_SIZE;
    } else {
        return 0;
    }
    mem.used++;
    return memset(p, 0, PAGE_SIZE);
}

void kfree(void *page)
{
    uint64_t a = (uint64_t)page;
    if (a % PAGE_SIZE || a < (uint64_t)__kernel_end || a >= mem.next)
        panic("kfree: bad page %p", page);
    *(uint64_t *)page = (uint64_t)mem.free;
    mem.free = page;
    mem.used--;
}

uint64_t pages_in_use(void)
{
    return mem.used;
}

/* The page-table entry for va, creating missing tables if asked. Only for
 * user addresses: the kernel half uses 2 MiB pages. */
static uint64_t *walk(uint64_t *pml4, uint64_t va, int create)
{
    uint64_t *t = pml4;
    for (int shift = 39; shift > 12; shift -= 9) {
        uint64_t *e = &t[va >> shift & 511];
        if (!(*e & PTE_P)) {
            void *n = create ? kalloc() : 0;
            if (!n)
                return 0;
            *e = (uint64_t)n | PTE_P | PTE_W | PTE_U;
        }
        t = (uint64_t *)(*e & PTE_ADDR);
    }
    return &t[va >> 12 & 511];
}

/* A new address space: the kernel's slot (U=0, shared) and nothing else. */
uint64_t *uvm_create(void)
{
    uint64_t *pml4 = kalloc();
    if (pml4)
        pml4[0] = kpml4[0];
    return pml4;
}

/* The page behind user address va, allocated and mapped if missing; 0 when
 * memory runs out. Two segments may share a page: it is writable if either is. */
void *uvm_page(uint64_t *pml4, uint64_t va, int writable)
{
    uint64_t *pte = walk(pml4, va, 1);
    if (!pte)
        return 0;
    if (!(*pte & PTE_P)) {
        void *page = kalloc();
        if (!page)
            return 0;
        *pte = (uint64_t)page | PTE_P | PTE_U;
    }
    if (writable)
        *pte |= PTE_W;
    return (void *)(*pte & PTE_ADDR);
}

static void free_table(uint64_t *t, int level, int first)
{
    for (int i = first; i < 512; i++) {
        if (!(t[i] & PTE_P))
            continue;
        uint64_t *next = (uint64_t *)(t[i] & PTE_ADDR);
        if (level > 1)
            free_table(next, level - 1, 0);
        else
            kfree(next);
    }
    kfree(t);
}

/* Free every user page and table, and the PML4 (not the kernel's slot 0).
 * The caller must not be running on this address space (see exit_proc). */
void uvm_free(uint64_t *pml4)
{
    free_table(pml4, 4, 1);
}

/* May the process touch [va, va+len)? Every system call asks this before it
 * dereferences a user pointer: the range must be in user space and every
 * page present, user-accessible and, for writes, writable. */
int user_ok(uint64_t *pml4, uint64_t va, uint64_t len, int write)
{
    if (va < USER_BASE || va > USER_TOP || len > USER_TOP - va)
        return 0;
    for (uint64_t p = va & ~(PAGE_SIZE - 1); p < va + len; p += PAGE_SIZE) {
        uint64_t *pte = walk(pml4, p, 0);
        if (!pte || !(*pte & PTE_P) || !(*pte & PTE_U) || (write && !(*pte & PTE_W)))
            return 0;
    }
    return 1;
}

/* Copy a NUL-terminated user string; its length, or -1 if it is not all in
 * user memory or does not fit in size bytes. */
int fetch_str(uint64_t *pml4, uint64_t va, char *buf, int size)
{
    for (int i = 0; i < size; i++) {
        if ((i == 0 || (va + i) % PAGE_SIZE == 0) && !user_ok(pml4, va + i, 1, 0))
            return -1;
        buf[i] = *(const char *)(va + i);
        if (!buf[i])
            return i;
    }
    return -1;
}
