/* pc.h - shared declarations of the conformance guest's 32-bit kernel:
 * port and MMIO access, printing, step results, and each file's entry points. */
#ifndef PC_H
#define PC_H

#include <stdarg.h>
#include <stdint.h>

#define NULL ((void *)0)
#define MAXCPU 8
#define HZ 100                      /* LAPIC timer ticks per second */

/* ---- port and memory-mapped I/O ---- */
static inline uint8_t inb(uint16_t p) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(p)); return v; }
static inline void outb(uint16_t p, uint8_t v) { __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(p)); }
static inline void outl(uint16_t p, uint32_t v) { __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(p)); }

static inline void insl(uint16_t p, void *buf, uint32_t n)
{
    __asm__ volatile("cld; rep insl" : "+D"(buf), "+c"(n) : "d"(p) : "memory");
}
static inline void outsl(uint16_t p, const void *buf, uint32_t n)
{
    __asm__ volatile("cld; rep outsl" : "+S"(buf), "+c"(n) : "d"(p));
}
static inline void insw(uint16_t p, void *buf, uint32_t n)
{
    __asm__ volatile("cld; rep insw" : "+D"(buf), "+c"(n) : "d"(p) : "memory");
}
static inline uint32_t mmio_read(uint32_t a) { return *(volatile uint32_t *)a; }
static inline void mmio_write(uint32_t a, uint32_t v) { *(volatile uint32_t *)a = v; }
/* A pointer to low physical memory (BDA, trampoline): the empty asm hides the
 * constant from gcc, which otherwise calls any address below 4 KiB invalid. */
static inline void *phys(uint32_t a) { __asm__("" : "+r"(a)); return (void *)a; }
static inline void cli(void) { __asm__ volatile("cli" ::: "memory"); }
/* sti; hlt is atomic (interrupt shadow): a wake-up between the check and the
 * halt cannot be lost, so callers test their condition with interrupts off. */
static inline void sti_hlt_cli(void) { __asm__ volatile("sti; hlt; cli" ::: "memory"); }
static inline void pause(void) { __asm__ volatile("pause"); }

/* ---- lib.c: COM1, formatted printing, memory, the end of the test ---- */
void kprintf(const char *fmt, ...);
int fail(const char *step, const char *fmt, ...);   /* prints, counts, returns -1 */
void exit_guest(int status) __attribute__((noreturn));
void finish(void) __attribute__((noreturn));  /* PC-TEST PASS or FAIL, and exit */
void *memcpy(void *d, const void *s, uint32_t n);
void *memset(void *d, int c, uint32_t n);
int memcmp(const void *a, const void *b, uint32_t n);

/* ---- intr.c: IDT, LAPIC, IOAPIC, the timer, bounded waits ---- */
#define T_TIMER 32
#define T_IDE 46                    /* IRQ 14 */
#define T_ERROR 51
#define T_SPURIOUS 63
#define LAPIC 0xFEE00000u
#define IOAPIC 0xFEC00000u
#define LAPIC_ID 0x020
#define LAPIC_ICRLO 0x300
#define LAPIC_ICRHI 0x310
struct trapframe {
    uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax;
    uint32_t vector, err, eip, cs, eflags;
};
void idt_init(void);
int lapic_init(void);
int ioapic_init(int bsp_apicid, int mp_ioapicid);
uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t v);
int lapic_id(void);
int lapic_icr(uint32_t hi, uint32_t lo);
extern volatile uint32_t ticks;
extern volatile uint32_t ide_irqs;
extern volatile uint8_t ide_irq_status;
/* Wait with interrupts on until cond holds or `tmo` ticks have passed. */
#define WAIT_TICKS(cond, tmo) ({                                  \
        uint32_t end_ = ticks + (tmo); int ok_;                   \
        for (;;) {                                                \
            if (cond) { ok_ = 1; break; }                         \
            if ((int32_t)(ticks - end_) >= 0) { ok_ = 0; break; } \
            sti_hlt_cli();                                        \
        }                                                         \
        ok_; })

/* ---- ide.c: the guest's own ATA PIO driver and the disk steps ---- */
int step_ide_identify(void);
int step_irq_read(void);
int step_disk1(void);
int step_ata_errors(void);

/* ---- mp.c: the MP table (as xv6's mp.c reads it) and AP start-up ---- */
struct mpinfo {
    int ncpu;
    uint8_t apicid[MAXCPU];
    int ioapicid;
};
int step_mp(struct mpinfo *mp, int bsp_apicid);
int step_smp(const struct mpinfo *mp, int bsp_apicid);

/* ---- linker symbols (pc.ld, entry.S, boot.S) ---- */
extern char kernel_start[], kernel_end[], bss_start[], bss_end[];
extern char kernel_sectors[], pattern_lba[], pattern_sectors[];
extern char tramp_start[], tramp_end[];
extern char isr_stubs[];
extern volatile uint8_t boot_flags, boot_drive;
#define SYMVAL(s) ((uint32_t)(s))   /* an absolute linker symbol's value */

#endif
