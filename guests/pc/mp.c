/* mp.c - find and check the MP tables the way xv6's mp.c does (BDA, EBDA,
 * base memory, BIOS ROM), then start every AP with INIT/SIPI/SIPI. */
#include "pc.h"

struct mp {                         /* floating pointer */
    char sig[4];                    /* "_MP_" */
    uint32_t physaddr;              /* of the configuration table */
    uint8_t length, specrev, checksum, type, imcrp, reserved[3];
};

struct mpconf {                     /* configuration table header */
    char sig[4];                    /* "PCMP" */
    uint16_t length;
    uint8_t version, checksum;
    char product[20];
    uint32_t oemtable;
    uint16_t oemlength, entry;
    uint32_t lapicaddr;
    uint16_t xlength;
    uint8_t xchecksum, reserved;
};

enum { MPPROC, MPBUS, MPIOAPIC, MPIOINTR, MPLINTR };
#define TRAMP 0x7000                /* AP start address: SIPI vector 7 */

volatile uint32_t ap_count;
volatile uint32_t ap_started[MAXCPU];   /* 1 + the order in which the AP came */

static uint8_t sum(const void *p, uint32_t n)
{
    uint8_t s = 0;
    for (const uint8_t *b = p; n--; b++)
        s += *b;
    return s;
}

static struct mp *search(uint32_t a, uint32_t len)
{
    for (uint32_t p = a; p + sizeof(struct mp) <= a + len; p += 16)
        if (memcmp((void *)p, "_MP_", 4) == 0 && sum((void *)p, sizeof(struct mp)) == 0)
            return (struct mp *)p;
    return NULL;
}

/* xv6's mpsearch: the first KiB of the EBDA, else the last KiB of base
 * memory, else the BIOS ROM 0xF0000-0xFFFFF. */
static struct mp *mpsearch(const char **where)
{
    uint32_t ebda = (uint32_t)*(volatile uint16_t *)phys(0x40E) << 4;
    uint32_t base = (uint32_t)*(volatile uint16_t *)phys(0x413) * 1024;
    struct mp *mp;
    kprintf("mp: BDA: EBDA at 0x%x (word 0x40e), base memory %u KiB (word 0x413)\n", ebda,
            base / 1024);
    if (ebda && (mp = search(ebda, 1024))) {
        *where = "the EBDA";
        return mp;
    }
    if (!ebda && base >= 1024 && (mp = search(base - 1024, 1024))) {
        *where = "the last KiB of base memory";
        return mp;
    }
    *where = "the BIOS ROM area";
    return search(0xF0000, 0x10000);
}

static int walk(const struct mpconf *c, struct mpinfo *mi, int bsp_apicid)
{
    const uint8_t *p = (const uint8_t *)(c + 1), *e = (const uint8_t *)c + c->length;
    int n = 0, irq14 = 0, nintr = 0, isabus = -1, bspflag = -1;
    for (; p < e; n++) {
        switch (*p) {
        case MPPROC:
            if (mi->ncpu == MAXCPU)
                return fail("mp", "more than %d PROC entries", MAXCPU);
            if (!(p[3] & 1))
                return fail("mp", "PROC apic id %u is not enabled", p[1]);
            if (p[3] & 2)
                bspflag = p[1];
            mi->apicid[mi->ncpu++] = p[1];
            p += 20;
            continue;
        case MPBUS:
            if (memcmp(p + 2, "ISA", 3) == 0)
                isabus = p[1];
            break;
        case MPIOAPIC:
            mi->ioapicid = p[1];
            if (*(const uint32_t *)(p + 4) != IOAPIC)
                return fail("mp", "IOAPIC at 0x%x, xv6 expects 0x%x", *(const uint32_t *)(p + 4),
                            IOAPIC);
            break;
        case MPIOINTR:
            nintr++;
            irq14 |= p[4] == isabus && p[5] == 14 && p[7] == 14;
            break;
        case MPLINTR:
            break;
        default:
            return fail("mp", "entry type %u at 0x%x (xv6 panics)", *p, (uint32_t)p);
        }
        p += 8;
    }
    if (p != e || n != c->entry)
        return fail("mp", "%d entries walked, the header says %u", n, c->entry);
    if (bspflag != bsp_apicid)
        return fail("mp", "BSP flag on apic id %d, the BSP is %d", bspflag, bsp_apicid);
    if (mi->ioapicid < 0 || !irq14)
        return fail("mp", "no IOAPIC entry or no ISA IRQ 14 -> INTIN 14 entry");
    kprintf("mp: %u entries, %d I/O interrupt entries (ISA IRQ 14 -> IOAPIC pin 14)\n", n, nintr);
    return 0;
}

int step_mp(struct mpinfo *mi, int bsp_apicid)
{
    const char *where;
    mi->ncpu = 0;
    mi->ioapicid = -1;
    struct mp *mp = mpsearch(&where);
    if (!mp)
        return fail("mp", "no _MP_ floating pointer with a good checksum");
    kprintf("mp: floating pointer at 0x%x in %s: spec 1.%u, config table at 0x%x, imcrp %u\n",
            (uint32_t)mp, where, mp->specrev, mp->physaddr, mp->imcrp);
    if (mp->physaddr == 0 || mp->type != 0)
        return fail("mp", "default configuration %u (xv6 needs a table)", mp->type);
    if (mp->imcrp)
        return fail("mp", "IMCR present: xv6 would program ports 0x22/0x23");
    struct mpconf *c = (struct mpconf *)mp->physaddr;
    if (memcmp(c->sig, "PCMP", 4) || (c->version != 1 && c->version != 4))
        return fail("mp", "config table: signature or version %u wrong", c->version);
    if (sum(c, c->length))
        return fail("mp", "config table checksum: bytes sum to 0x%x", sum(c, c->length));
    if (c->lapicaddr != LAPIC)
        return fail("mp", "LAPIC at 0x%x", c->lapicaddr);
    if (walk(c, mi, bsp_apicid))
        return -1;
    kprintf("mp: %d CPUs, APIC ids", mi->ncpu);
    for (int i = 0; i < mi->ncpu; i++)
        kprintf(" %u", mi->apicid[i]);
    kprintf("; IOAPIC id %d\n", mi->ioapicid);
    for (int i = 0; i < mi->ncpu; i++)
        for (int j = 0; j < i; j++)
            if (mi->apicid[i] == mi->apicid[j])
                return fail("mp", "APIC id %u twice", mi->apicid[i]);
    return 0;
}

/* Each AP, in protected mode on its own stack (entry.S): report in, halt. */
void ap_main(uint32_t apicid)
{
    uint32_t order = 1;
    __asm__ volatile("lock xaddl %0, %1" : "+r"(order), "+m"(ap_count) : : "memory");
    ap_started[apicid] = order + 1;
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* xv6's startothers + lapicstartap: warm-reset vector and CMOS shutdown code
 * (a real BIOS needs them), INIT assert/de-assert, two STARTUPs. */
static int start_ap(uint32_t apicid)
{
    outb(0x70, 0x0F);
    outb(0x71, 0x0A);
    *(volatile uint16_t *)phys(0x467) = 0;
    *(volatile uint16_t *)phys(0x469) = TRAMP >> 4;
    if (lapic_icr(apicid << 24, 0xC500) || lapic_icr(apicid << 24, 0x8500))
        return fail("smp", "INIT to apic id %u: ICR busy", apicid);
    for (int i = 0; i < 2; i++)
        if (lapic_icr(apicid << 24, 0x600 | TRAMP >> 12))
            return fail("smp", "STARTUP to apic id %u: ICR busy", apicid);
    return 0;
}

int step_smp(const struct mpinfo *mi, int bsp_apicid)
{
    int r = 0;
    memcpy(phys(TRAMP), tramp_start, (uint32_t)(tramp_end - tramp_start));
    for (int i = 0; i < mi->ncpu; i++) {
        uint32_t id = mi->apicid[i];
        if ((int)id == bsp_apicid) {
            kprintf("cpu%d: started (apic id %u, the BSP)\n", i, id);
            continue;
        }
        if (id >= MAXCPU) {
            r = fail("smp", "apic id %u too large for this test", id);
            continue;
        }
        if (start_ap(id))
            continue;
        if (!WAIT_TICKS(ap_started[id], 5 * HZ)) {
            r = fail("smp", "cpu%d (apic id %u) did not report in 5 s", i, id);
            continue;
        }
        kprintf("cpu%d: started (apic id %u, reported #%u with lock xadd)\n", i, id,
                ap_started[id]);
    }
    if (ap_count != (uint32_t)mi->ncpu - 1)
        return fail("smp", "%u APs reported, expected %d", ap_count, mi->ncpu - 1);
    return r;
}
