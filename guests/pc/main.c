/* main.c - the conformance guest's 32-bit kernel: the steps of a legacy OS's
 * boot in xv6's order, each printing one line or a "FAIL step:" line. */
#include "pc.h"

#define CGA 0xB8000u
#define CRTC 0x3D4
#define MSG "PC-TEST: hello from the conformance guest on the CGA screen"

/* Cursor position through the CRTC index/data ports, registers 14 and 15. */
static uint32_t cursor_get(void)
{
    outb(CRTC, 14);
    uint32_t pos = (uint32_t)inb(CRTC + 1) << 8;
    outb(CRTC, 15);
    return pos | inb(CRTC + 1);
}

static void cursor_set(uint32_t pos)
{
    outb(CRTC, 14);
    outb(CRTC + 1, (uint8_t)(pos >> 8));
    outb(CRTC, 15);
    outb(CRTC + 1, (uint8_t)pos);
}

/* What xv6's cgaputc does: read the cursor (it panics outside 0..2000),
 * write characters with attribute 0x07, move the cursor, and read it back. */
static int step_cga(void)
{
    volatile uint16_t *cga = (volatile uint16_t *)CGA;
    static const char msg[] = MSG;
    uint32_t was = cursor_get(), n = sizeof(msg) - 1;
    if (was > 2000)
        return fail("cga", "cursor register reads %u (xv6 panics above 2000)", was);
    for (uint32_t i = 0; i < 80 * 3; i++)
        cga[i] = 0x0700 | ' ';
    for (uint32_t i = 0; i < n; i++)
        cga[80 + i] = 0x0700 | (uint8_t)msg[i];
    uint32_t pos = 2 * 80;          /* start of the next line */
    cursor_set(pos);
    uint32_t now = cursor_get();
    for (uint32_t i = 0; i < n; i++)
        if (cga[80 + i] != (0x0700 | (uint8_t)msg[i]))
            return fail("cga", "0x%x reads 0x%x", CGA + 2 * (80 + i), cga[80 + i]);
    if (now != pos)
        return fail("cga", "cursor set to %u, CRTC regs 14/15 read %u", pos, now);
    kprintf("cga: \"%s\" at row 1 (0x%x), cursor %u -> %u (CRTC 14/15 read back)\n", MSG,
            CGA + 160, was, now);
    return 0;
}

/* xv6's entry.S: CR4.PSE, a page directory of 4 MiB pages mapping VA 0 and
 * VA 0x80000000 to PA 0 (plus the APICs 1:1), CR0.PG|WP. A word written
 * through one mapping must be read through the other. */
static uint32_t pgdir[1024] __attribute__((aligned(4096)));
static volatile uint32_t probe = 0x12345678;

static int step_paging(int bsp_apicid)
{
    const uint32_t pse = 0x83;      /* present, writable, 4 MiB */
    pgdir[0] = 0 | pse;
    pgdir[0x80000000u >> 22] = 0 | pse;
    pgdir[IOAPIC >> 22] = (IOAPIC & 0xFFC00000u) | pse | 0x10;    /* PCD: uncached */
    uint32_t cr;
    __asm__ volatile("mov %%cr4, %0; or $0x10, %0; mov %0, %%cr4" : "=&r"(cr));
    __asm__ volatile("mov %0, %%cr3" : : "r"(pgdir) : "memory");
    __asm__ volatile("mov %%cr0, %0; or $0x80010000, %0; mov %0, %%cr0" : "=&r"(cr) : : "memory");
    volatile uint32_t *high = (volatile uint32_t *)(0x80000000u + (uint32_t)&probe);
    if (*high != 0x12345678)
        return fail("paging", "VA 0x%x reads 0x%x, PA 0x%x holds 0x12345678", (uint32_t)high,
                    *high, (uint32_t)&probe);
    *high = 0xCAFEF00D;
    if (probe != 0xCAFEF00D)
        return fail("paging", "written at VA 0x%x, VA 0x%x reads 0x%x", (uint32_t)high,
                    (uint32_t)&probe, probe);
    if (lapic_id() != bsp_apicid)
        return fail("paging", "LAPIC ID through the page table: %d", lapic_id());
    kprintf("paging: CR4.PSE + CR0.PG on, VA 0x80000000 -> PA 0 (4 MiB pages) ok, LAPIC mapped\n");
    return 0;
}

void kmain(void)
{
    struct mpinfo mi;
    kprintf("kernel: 32-bit protected mode at 0x%x, %u sectors loaded by the boot sector "
            "(DL=0x%x)\n", SYMVAL(kernel_start), SYMVAL(kernel_sectors), boot_drive);
    idt_init();
    outb(0x21, 0xFF);               /* mask both 8259s: the IOAPIC does it all */
    outb(0xA1, 0xFF);
    int bsp = lapic_id();
    step_mp(&mi, bsp);
    int lapic_ok = lapic_init() == 0;
    if (lapic_ok && ioapic_init(bsp, mi.ioapicid) == 0) {
        if (step_ide_identify() == 0) {
            step_irq_read();
            step_disk1();
            step_ata_errors();
        }
    }
    if (lapic_ok && mi.ncpu > 0)
        step_smp(&mi, bsp);
    step_cga();
    if (boot_flags & 1)
        step_paging(bsp);
    else
        kprintf("paging: skipped (pc-test-paging.img does it)\n");
    finish();
}
