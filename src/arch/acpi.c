/* acpi.c - ACPI tables built in guest RAM at 0xE0000 for Linux: a classic
 * FADT with PM1a ports, MADT for SMP, and a DSDT assembled by hand in AML. */
#include "acpi.h"
#include "layout.h"
#include "core/mem.h"
#include "core/util.h"
#include "core/vm.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define HDR_LEN      36
#define FADT_LEN     276        /* ACPI 6.0 FADT (revision 6) */
#define FACS_LEN     64
#define RSDP_LEN     36         /* ACPI 2.0+ RSDP, with XSDT address */
#define DSDT_MAX     4096

/* FADT flags and IA-PC boot architecture flags */
#define FADT_WBINVD        (1u << 0)
#define FADT_PROC_C1       (1u << 2)
#define FADT_PWR_BUTTON    (1u << 4)    /* no fixed-feature power button */
#define FADT_SLP_BUTTON    (1u << 5)
#define FADT_TMR_VAL_EXT   (1u << 8)    /* 32-bit PM timer */
#define FADT_RESET_REG_SUP (1u << 10)
#define BOOT_ARCH_NO_VGA   (1u << 2)    /* no 8042 bit: the DSDT's PNP0303 says it */

/* AML opcodes (ACPI spec, chapter 20) */
#define AML_ZERO     0x00
#define AML_ONE      0x01
#define AML_NAME     0x08
#define AML_BYTE     0x0A
#define AML_WORD     0x0B
#define AML_DWORD    0x0C
#define AML_STRING   0x0D
#define AML_QWORD    0x0E
#define AML_SCOPE    0x10
#define AML_BUFFER   0x11
#define AML_PACKAGE  0x12
#define AML_EXT      0x5B
#define AML_DEVICE   0x82       /* after AML_EXT */
#define AML_ROOT     0x5C       /* '\' */

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

uint8_t acpi_checksum(const uint8_t *p, uint64_t len)
{
    uint8_t s = 0;
    for (uint64_t i = 0; i < len; i++)
        s = (uint8_t)(s + p[i]);
    return s;
}

/* ---- AML byte stream with PkgLength fix-ups ---------------------------- */

struct aml {
    uint8_t *p;
    size_t n, cap;
    bool overflow;
};

static void aml_bytes(struct aml *a, const void *b, size_t n)
{
    if (a->overflow || n > a->cap - a->n) {
        a->overflow = true;
        return;
    }
    memcpy(a->p + a->n, b, n);
    a->n += n;
}

static void aml_byte(struct aml *a, uint8_t b) { aml_bytes(a, &b, 1); }

/* NameString: an optional '\' then 4-character segments ("\_SB_", "_HID"). */
static void aml_name(struct aml *a, const char *name)
{
    if (*name == '\\') {
        aml_byte(a, AML_ROOT);
        name++;
    }
    aml_bytes(a, name, 4);
}

static void aml_int(struct aml *a, uint64_t v)
{
    uint8_t b[8];
    put64(b, v);
    if (v <= 1)
        aml_byte(a, v ? AML_ONE : AML_ZERO);
    else if (v <= 0xFF)
        aml_byte(a, AML_BYTE), aml_bytes(a, b, 1);
    else if (v <= 0xFFFF)
        aml_byte(a, AML_WORD), aml_bytes(a, b, 2);
    else if (v <= 0xFFFFFFFF)
        aml_byte(a, AML_DWORD), aml_bytes(a, b, 4);
    else
        aml_byte(a, AML_QWORD), aml_bytes(a, b, 8);
}

static void aml_string(struct aml *a, const char *s)
{
    aml_byte(a, AML_STRING);
    aml_bytes(a, s, strlen(s) + 1);
}

/* Reserve 4 bytes for a PkgLength; aml_close encodes it and compacts. */
static size_t aml_open(struct aml *a)
{
    size_t at = a->n;
    aml_bytes(a, "\0\0\0\0", 4);
    return at;
}

static void aml_close(struct aml *a, size_t at)
{
    if (a->overflow)
        return;
    size_t body = a->n - at - 4;
    unsigned k = body + 1 < 0x40 ? 1 : body + 2 < 0x1000 ? 2 : body + 3 < 0x100000 ? 3 : 4;
    size_t total = body + k;
    uint8_t *p = a->p + at;
    if (k == 1) {
        p[0] = (uint8_t)total;
    } else {
        p[0] = (uint8_t)((k - 1) << 6 | (total & 0xF));
        for (unsigned i = 1; i < k; i++)
            p[i] = (uint8_t)(total >> (4 + 8 * (i - 1)));
    }
    memmove(p + k, p + 4, body);
    a->n -= 4 - k;
}

/* Name(\_S5_, Package() {5, 5, 0, 0}): PM1a/PM1b SLP_TYP for soft-off. */
static void aml_s5(struct aml *a)
{
    aml_byte(a, AML_NAME);
    aml_name(a, "\\_S5_");
    aml_byte(a, AML_PACKAGE);
    size_t pkg = aml_open(a);
    aml_byte(a, 4);
    aml_int(a, ACPI_SLP_TYP_S5);
    aml_int(a, ACPI_SLP_TYP_S5);
    aml_int(a, 0);
    aml_int(a, 0);
    aml_close(a, pkg);
}

/* Name(_CRS, Buffer(n) { resource descriptors }): a ResourceTemplate. */
static void aml_crs(struct aml *a, const uint8_t *r, size_t n)
{
    aml_byte(a, AML_NAME);
    aml_name(a, "_CRS");
    aml_byte(a, AML_BUFFER);
    size_t buf = aml_open(a);
    aml_int(a, n);
    aml_bytes(a, r, n);
    aml_close(a, buf);
}

/* ResourceTemplate { Memory32Fixed(ReadWrite, base, size)
 *                    Interrupt(ResourceConsumer, Level, ActiveHigh, Exclusive) {gsi} } */
static void aml_virtio_crs(struct aml *a, const struct virtio_slot *d)
{
    uint8_t r[23];
    r[0] = 0x86;                    /* Memory32Fixed, large item */
    put16(r + 1, 9);
    r[3] = 1;                       /* read/write */
    put32(r + 4, (uint32_t)d->base);
    put32(r + 8, d->size);
    r[12] = 0x89;                   /* Extended Interrupt, large item */
    put16(r + 13, 6);
    r[15] = 0x01;                   /* consumer, level, active high, exclusive */
    r[16] = 1;                      /* one interrupt */
    put32(r + 17, d->gsi);
    r[21] = 0x79;                   /* End Tag */
    r[22] = 0;                      /* checksum 0: "treat as correct" */
    aml_crs(a, r, sizeof(r));
}

/* Device(VRnn) { Name(_HID, "LNRO0005") Name(_UID, n) Name(_CRS, ...) } */
static void aml_virtio(struct aml *a, int i, const struct virtio_slot *d)
{
    char name[5];
    snprintf(name, sizeof(name), "VR%02X", (unsigned)i & 0xFF);
    aml_byte(a, AML_EXT);
    aml_byte(a, AML_DEVICE);
    size_t dev = aml_open(a);
    aml_name(a, name);
    aml_byte(a, AML_NAME);
    aml_name(a, "_HID");
    aml_string(a, "LNRO0005");
    aml_byte(a, AML_NAME);
    aml_name(a, "_UID");
    aml_int(a, (uint64_t)i);
    aml_virtio_crs(a, d);
    aml_close(a, dev);
}

/* EisaId("PNP0501"): three letters in 5 bits each, then 4 hex digits, stored
 * big-endian in an AML DWord (ACPI 19.6.35). */
static uint32_t eisa_id(const char *id)
{
    uint32_t v = (uint32_t)(id[0] - 0x40) << 26 | (uint32_t)(id[1] - 0x40) << 21 |
                 (uint32_t)(id[2] - 0x40) << 16;
    for (int i = 3; i < 7; i++) {
        char c = id[i];
        v |= (uint32_t)(c <= '9' ? c - '0' : c - 'A' + 10) << (4 * (6 - i));
    }
    return (v >> 24) | ((v >> 8) & 0xFF00) | ((v << 8) & 0xFF0000) | (v << 24);
}

/* Device(name) { Name(_HID, EisaId(hid)) Name(_UID, uid)
 *   Name(_CRS, ResourceTemplate() { IO(Decode16, port, port, 1, n)
 *     [IO(Decode16, port2, port2, 1, n2)] IRQNoFlags() {irq} }) }
 * A legacy ISA device as a PC's DSDT names it, so Linux's PnP layer claims
 * its ports and IRQ (pnp: found N devices) instead of guessing them. */
static void aml_legacy(struct aml *a, const struct acpi_legacy *d)
{
    uint8_t r[21];
    size_t n = 0;
    const uint16_t port[2] = { d->port, d->port2 };
    const uint8_t len[2] = { d->nports, d->nports2 };
    for (int i = 0; i < 2 && len[i]; i++, n += 8) {
        r[n] = 0x47;                    /* I/O port descriptor */
        r[n + 1] = 0x01;                /* 16-bit decode */
        put16(r + n + 2, port[i]);
        put16(r + n + 4, port[i]);
        r[n + 6] = 1;                   /* alignment */
        r[n + 7] = len[i];
    }
    r[n] = 0x22;                        /* IRQ descriptor without flags: edge, high */
    put16(r + n + 1, (uint16_t)(1u << d->irq));
    r[n + 3] = 0x79;                    /* End Tag, checksum 0 */
    r[n + 4] = 0;
    aml_byte(a, AML_EXT);
    aml_byte(a, AML_DEVICE);
    size_t dev = aml_open(a);
    aml_name(a, d->name);
    aml_byte(a, AML_NAME);
    aml_name(a, "_HID");
    aml_byte(a, AML_DWORD);
    uint8_t id[4];
    put32(id, eisa_id(d->hid));
    aml_bytes(a, id, 4);
    aml_byte(a, AML_NAME);
    aml_name(a, "_UID");
    aml_int(a, d->uid);
    aml_crs(a, r, n + 5);
    aml_close(a, dev);
}

/* COM1, the CMOS RTC and the keyboard controller (data port, then command
 * port, as Linux's i8042 PnP probe takes them). Naming the keyboard makes
 * Linux probe it (i8042.c answers like a PS/2 keyboard) and bind atkbd, so
 * that SendCtrlAltDel's keys reach it (docs/linux-boot.md, docs/api.md). */
const struct acpi_legacy acpi_legacy_devices[ACPI_NLEGACY] = {
    { "COM1", "PNP0501", 1, SERIAL_COM1_BASE, 8, SERIAL_COM1_IRQ, 0, 0 },  /* 8 registers */
    { "RTC_", "PNP0B00", 0, RTC_PORT, 2, RTC_IRQ, 0, 0 },          /* index, data */
    { "KBD_", "PNP0303", 0, I8042_DATA_PORT, 1, I8042_KBD_IRQ, I8042_CMD_PORT, 1 },
};

/* ---- tables ------------------------------------------------------------- */

static void table_header(uint8_t *t, const char *sig, uint32_t len, uint8_t rev)
{
    memcpy(t, sig, 4);
    put32(t + 4, len);
    t[8] = rev;
    memcpy(t + 10, "MINKVM", 6);
    memcpy(t + 16, "MINIKVM ", 8);
    put32(t + 24, 1);               /* OEM revision */
    memcpy(t + 28, "MKVM", 4);      /* creator id */
    put32(t + 32, 1);
}

static void table_sum(uint8_t *t, uint32_t len)
{
    t[9] = 0;
    t[9] = (uint8_t)(0x100 - acpi_checksum(t, len));
}

/* Allocation in the ACPI area: host pointer `base` maps GPA ACPI_AREA_START. */
struct area {
    uint8_t *base;
    uint32_t used;
};

static uint32_t area_alloc(struct area *ar, uint32_t len, uint32_t align)
{
    uint32_t at = (ar->used + align - 1) & ~(align - 1);
    ar->used = at + len;
    return ACPI_AREA_START + at;    /* callers check used against the area */
}

/* Worst case (255 CPUs, a full DSDT, 64-byte alignment slack per table) fits with
 * room to spare, so no single table can run past the area: the checks after each
 * allocation are defence in depth. */
/* MADT: header + flags, a LAPIC entry per CPU, one IOAPIC, 2 overrides, one LAPIC NMI */
#define MADT_LEN(ncpus) (44 + 8 * (uint32_t)(ncpus) + 12 + 10 * 2 + 6)
#define ACPI_WORST_CASE (RSDP_LEN + FACS_LEN + DSDT_MAX + FADT_LEN + MADT_LEN(255) + \
                         2 * (HDR_LEN + 16) + 6 * 64)
_Static_assert(ACPI_WORST_CASE < ACPI_AREA_END - ACPI_AREA_START, "ACPI area too small");

static uint8_t *at(struct area *ar, uint32_t gpa) { return ar->base + (gpa - ACPI_AREA_START); }

static uint32_t build_dsdt(struct area *ar, const struct virtio_table *vt)
{
    uint8_t buf[DSDT_MAX];
    struct aml a = { buf, HDR_LEN, sizeof(buf), false };
    aml_s5(&a);
    aml_byte(&a, AML_SCOPE);
    size_t scope = aml_open(&a);
    aml_name(&a, "\\_SB_");
    for (int i = 0; i < ACPI_NLEGACY; i++)
        aml_legacy(&a, &acpi_legacy_devices[i]);
    for (int i = 0; i < vt->n && i < VIRTIO_MMIO_MAX; i++)
        aml_virtio(&a, i, &vt->slot[i]);
    aml_close(&a, scope);
    if (a.overflow)
        return 0;
    uint32_t gpa = area_alloc(ar, (uint32_t)a.n, 16);
    if (ar->used > ACPI_AREA_END - ACPI_AREA_START)
        return 0;
    uint8_t *t = at(ar, gpa);
    memcpy(t, buf, a.n);
    table_header(t, "DSDT", (uint32_t)a.n, 2);     /* revision 2: 64-bit integers */
    table_sum(t, (uint32_t)a.n);
    return gpa;
}

static uint32_t build_facs(struct area *ar)
{
    uint32_t gpa = area_alloc(ar, FACS_LEN, 64);
    uint8_t *t = at(ar, gpa);
    memcpy(t, "FACS", 4);
    put32(t + 4, FACS_LEN);
    t[32] = 2;                      /* version */
    return gpa;
}

/* Generic Address Structure: system I/O port. */
static void gas_io(uint8_t *g, uint8_t bits, uint8_t access, uint64_t port)
{
    g[0] = 1;
    g[1] = bits;
    g[2] = 0;
    g[3] = access;
    put64(g + 4, port);
}

static uint32_t build_fadt(struct area *ar, uint32_t facs, uint32_t dsdt)
{
    uint32_t gpa = area_alloc(ar, FADT_LEN, 16);
    if (ar->used > ACPI_AREA_END - ACPI_AREA_START)
        return 0;
    uint8_t *t = at(ar, gpa);
    table_header(t, "FACP", FADT_LEN, 6);
    put32(t + 36, facs);
    put32(t + 40, dsdt);
    put16(t + 46, ACPI_SCI_IRQ);
    /* SMI_CMD = 0: the platform is always in ACPI mode */
    put32(t + 56, PM1A_EVT_BLK);
    put32(t + 64, PM1A_CNT_BLK);
    put32(t + 76, PM_TMR_BLK);
    t[88] = PM1_EVT_LEN;
    t[89] = PM1_CNT_LEN;
    t[91] = PM_TMR_LEN;
    put16(t + 96, 101);             /* C2 not supported */
    put16(t + 98, 1001);            /* C3 not supported */
    t[108] = RTC_CENTURY;           /* CMOS century register (rtc.c) */
    put16(t + 109, BOOT_ARCH_NO_VGA);
    put32(t + 112, FADT_WBINVD | FADT_PROC_C1 | FADT_PWR_BUTTON | FADT_SLP_BUTTON |
                   FADT_TMR_VAL_EXT | FADT_RESET_REG_SUP);
    gas_io(t + 116, 8, 1, PM_RESET_PORT);
    t[128] = PM_RESET_VALUE;
    put64(t + 140, dsdt);           /* X_DSDT */
    table_sum(t, FADT_LEN);
    return gpa;
}

static uint32_t build_madt(struct area *ar, int ncpus)
{
    uint32_t len = MADT_LEN(ncpus);
    uint32_t gpa = area_alloc(ar, len, 16);
    if (ar->used > ACPI_AREA_END - ACPI_AREA_START)
        return 0;
    uint8_t *t = at(ar, gpa), *e = t + 44;
    table_header(t, "APIC", len, 3);
    put32(t + 36, LAPIC_ADDR);
    put32(t + 40, 1);               /* PCAT_COMPAT: there are 8259s too */
    for (int i = 0; i < ncpus; i++, e += 8) {
        e[0] = 0; e[1] = 8;         /* Processor Local APIC */
        e[2] = (uint8_t)i;          /* ACPI processor UID */
        e[3] = (uint8_t)i;          /* APIC id = KVM vcpu id */
        put32(e + 4, 1);            /* enabled */
    }
    e[0] = 1; e[1] = 12; e[2] = 0; e[3] = 0;        /* I/O APIC, id 0 */
    put32(e + 4, IOAPIC_ADDR);
    put32(e + 8, 0);                                /* GSI base */
    e += 12;
    static const struct { uint8_t irq; uint32_t gsi; uint16_t flags; } iso[2] = {
        { 0, 2, 0x0000 },           /* PIT on IOAPIC pin 2, bus default */
        { ACPI_SCI_IRQ, ACPI_SCI_IRQ, 0x000D },     /* SCI: level, active high */
    };
    for (int i = 0; i < 2; i++, e += 10) {
        e[0] = 2; e[1] = 10; e[2] = 0;  /* Interrupt Source Override, ISA bus */
        e[3] = iso[i].irq;
        put32(e + 4, iso[i].gsi);
        put16(e + 8, iso[i].flags);
    }
    e[0] = 4; e[1] = 6; e[2] = 0xFF;    /* Local APIC NMI: all CPUs, LINT1 */
    put16(e + 3, 0);
    e[5] = 1;
    table_sum(t, len);
    return gpa;
}

static void build_roots(struct area *ar, const uint32_t *tables, int n)
{
    uint32_t xlen = HDR_LEN + 8 * (uint32_t)n, rlen = HDR_LEN + 4 * (uint32_t)n;
    uint32_t xsdt = area_alloc(ar, xlen, 16), rsdt = area_alloc(ar, rlen, 16);
    uint8_t *x = at(ar, xsdt), *r = at(ar, rsdt), *p = at(ar, ACPI_RSDP_ADDR);
    table_header(x, "XSDT", xlen, 1);
    table_header(r, "RSDT", rlen, 1);
    for (int i = 0; i < n; i++) {
        put64(x + HDR_LEN + 8 * i, tables[i]);
        put32(r + HDR_LEN + 4 * i, tables[i]);
    }
    table_sum(x, xlen);
    table_sum(r, rlen);
    memcpy(p, "RSD PTR ", 8);
    memcpy(p + 9, "MINKVM", 6);
    p[15] = 2;                      /* ACPI 2.0+ RSDP */
    put32(p + 16, rsdt);
    put32(p + 20, RSDP_LEN);
    put64(p + 24, xsdt);
    p[8] = (uint8_t)(0x100 - acpi_checksum(p, 20));
    p[32] = (uint8_t)(0x100 - acpi_checksum(p, RSDP_LEN));
}

int acpi_setup(struct vm *vm, int ncpus)
{
    uint64_t len = ACPI_AREA_END - ACPI_AREA_START;
    struct area ar = { guest_ptr(&vm->mem, ACPI_AREA_START, len), 0 };
    if (!ar.base) {
        errorf("%s: ACPI tables need at least 1 MiB of guest RAM", vm->name);
        return -1;
    }
    if (ncpus < 1 || ncpus > 255) {
        errorf("%s: ACPI: unsupported configuration (%d CPUs)", vm->name, ncpus);
        return -1;
    }
    memset(ar.base, 0, len);
    area_alloc(&ar, RSDP_LEN, 16);  /* the RSDP, written last */
    uint32_t facs = build_facs(&ar);
    uint32_t dsdt = build_dsdt(&ar, &vm->virtio);
    uint32_t tables[2] = { 0, 0 };
    if (dsdt) {
        tables[0] = build_fadt(&ar, facs, dsdt);
        tables[1] = build_madt(&ar, ncpus);
    }
    if (!dsdt || !tables[0] || !tables[1] || ar.used + 2 * HDR_LEN + 12 * 2 + 32 > len) {
        errorf("%s: ACPI tables do not fit in 0x%x-0x%x", vm->name, ACPI_AREA_START,
               ACPI_AREA_END - 1);
        return -1;
    }
    build_roots(&ar, tables, 2);
    return 0;
}
