/* test_acpi.c - unit tests for the ACPI tables: RSDP discovery, checksums,
 * FADT ports, MADT entries and the hand-assembled DSDT (AML) with virtio. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/acpi.h"
#include "core/mem.h"
#include "core/vm.h"
#include "devices/pm.h"

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

static int setup(void **state)
{
    *state = fake_vm_new(2 << 20);
    return 0;
}

static int teardown(void **state)
{
    fake_vm_free(*state);
    return 0;
}

/* A table at gpa with a valid header and checksum; returns it. */
static const uint8_t *table(struct vm *vm, uint64_t gpa, const char *sig)
{
    const uint8_t *t = guest_ptr(&vm->mem, gpa, 36);
    assert_non_null(t);
    assert_memory_equal(t, sig, 4);
    uint32_t len = get32(t + 4);
    assert_true(len >= 36);
    assert_non_null(guest_ptr(&vm->mem, gpa, len));
    assert_int_equal(acpi_checksum(t, len), 0);
    return t;
}

/* Find a table through RSDP -> XSDT (and check the RSDT agrees). */
static const uint8_t *find(struct vm *vm, const char *sig)
{
    const uint8_t *rsdp = guest_ptr(&vm->mem, ACPI_RSDP_ADDR, 36);
    const uint8_t *x = table(vm, get64(rsdp + 24), "XSDT");
    const uint8_t *r = table(vm, get32(rsdp + 16), "RSDT");
    int n = (int)(get32(x + 4) - 36) / 8;
    assert_int_equal((get32(r + 4) - 36) / 4, (uint32_t)n);
    for (int i = 0; i < n; i++) {
        assert_int_equal(get64(x + 36 + 8 * i), get32(r + 36 + 4 * i));
        const uint8_t *t = guest_ptr(&vm->mem, get64(x + 36 + 8 * i), 36);
        if (t && memcmp(t, sig, 4) == 0)
            return table(vm, get64(x + 36 + 8 * i), sig);
    }
    fail_msg("no %s table", sig);
    return NULL;
}

static void test_rsdp(void **state)
{
    struct vm *vm = *state;
    assert_int_equal(acpi_setup(vm, 1), 0);
    const uint8_t *p = guest_ptr(&vm->mem, ACPI_RSDP_ADDR, 36);
    assert_int_equal(ACPI_RSDP_ADDR % 16, 0);
    assert_true(ACPI_RSDP_ADDR >= 0xE0000 && ACPI_RSDP_ADDR < 0x100000);
    assert_memory_equal(p, "RSD PTR ", 8);
    assert_int_equal(acpi_checksum(p, 20), 0);
    assert_int_equal(acpi_checksum(p, 36), 0);
    assert_int_equal(p[15], 2);
    assert_int_equal(get32(p + 20), 36);
}

static void test_fadt(void **state)
{
    struct vm *vm = *state;
    assert_int_equal(acpi_setup(vm, 1), 0);
    const uint8_t *f = find(vm, "FACP");
    assert_int_equal(get32(f + 4), 276);
    assert_int_equal(f[8], 6);
    assert_int_equal(get16(f + 46), ACPI_SCI_IRQ);
    assert_int_equal(get32(f + 48), 0);                 /* no SMI_CMD: always ACPI mode */
    assert_int_equal(get32(f + 56), PM1A_EVT_BLK);
    assert_int_equal(get32(f + 64), PM1A_CNT_BLK);
    assert_int_equal(get32(f + 76), PM_TMR_BLK);
    assert_int_equal(f[88], 4);
    assert_int_equal(f[89], 2);
    assert_int_equal(f[91], 4);
    assert_int_equal(get16(f + 109) & 0x2, 0);          /* no 8042: no i8042 probe */
    uint32_t flags = get32(f + 112);
    assert_true(flags & (1u << 10));                    /* RESET_REG_SUP */
    assert_true(flags & (1u << 8));                     /* 32-bit PM timer */
    assert_false(flags & (1u << 20));                   /* not HW-reduced */
    assert_int_equal(f[116], 1);                        /* reset reg: system I/O */
    assert_int_equal(f[117], 8);
    assert_int_equal(get64(f + 120), PM_RESET_PORT);
    assert_int_equal(f[128], PM_RESET_VALUE);
    assert_int_equal(get32(f + 40), get64(f + 140));    /* DSDT == X_DSDT */
    table(vm, get32(f + 40), "DSDT");
    const uint8_t *facs = guest_ptr(&vm->mem, get32(f + 36), 64);
    assert_int_equal(get32(f + 36) % 64, 0);
    assert_memory_equal(facs, "FACS", 4);
    assert_int_equal(get32(facs + 4), 64);
}

static void test_madt(void **state)
{
    struct vm *vm = *state;
    assert_int_equal(acpi_setup(vm, 4), 0);
    const uint8_t *m = find(vm, "APIC");
    assert_int_equal(get32(m + 36), LAPIC_ADDR);
    uint32_t len = get32(m + 4);
    int lapics = 0, ioapics = 0, isos = 0, nmis = 0;
    for (uint32_t off = 44; off < len; off += m[off + 1]) {
        const uint8_t *e = m + off;
        assert_true(e[1] >= 2 && off + e[1] <= len);
        switch (e[0]) {
        case 0:
            assert_int_equal(e[3], lapics);             /* APIC id = vCPU index */
            assert_int_equal(get32(e + 4) & 1, 1);
            lapics++;
            break;
        case 1:
            assert_int_equal(get32(e + 4), IOAPIC_ADDR);
            assert_int_equal(get32(e + 8), 0);
            ioapics++;
            break;
        case 2:
            if (e[3] == 0)
                assert_int_equal(get32(e + 4), 2);      /* IRQ0 -> GSI 2 */
            isos++;
            break;
        case 4:
            nmis++;
            break;
        default:
            fail_msg("unexpected MADT entry type %d", e[0]);
        }
    }
    assert_int_equal(lapics, 4);
    assert_int_equal(ioapics, 1);
    assert_int_equal(isos, 2);
    assert_int_equal(nmis, 1);
}

#define LEGACY_LEN 45           /* one Device() of acpi_legacy_devices, in AML */
#define KBD_LEN 53              /* ... the keyboard's, with its two I/O ranges */

static const uint8_t *dsdt(struct vm *vm, uint32_t *len)
{
    const uint8_t *f = find(vm, "FACP");
    const uint8_t *d = table(vm, get32(f + 40), "DSDT");
    *len = get32(d + 4);
    return d;
}

static const uint8_t *memfind(const uint8_t *h, size_t hn, const void *n, size_t nn)
{
    for (size_t i = 0; i + nn <= hn; i++)
        if (memcmp(h + i, n, nn) == 0)
            return h + i;
    return NULL;
}

/* PkgLength at p: returns the length and sets *bytes to its own size. */
static uint32_t pkglen(const uint8_t *p, unsigned *bytes)
{
    unsigned k = (p[0] >> 6) + 1;
    uint32_t v = k == 1 ? p[0] & 0x3F : p[0] & 0x0F;
    for (unsigned i = 1; i < k; i++)
        v |= (uint32_t)p[i] << (4 + 8 * (i - 1));
    *bytes = k;
    return v;
}

static void test_dsdt_s5(void **state)
{
    struct vm *vm = *state;
    assert_int_equal(acpi_setup(vm, 1), 0);
    uint32_t len;
    const uint8_t *d = dsdt(vm, &len);
    assert_int_equal(d[8], 2);                          /* 64-bit AML integers */
    /* Name(\_S5_, Package(){5, 5, 0, 0}), then Scope(\_SB_) with COM1 and RTC */
    static const uint8_t s5[] = { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x08, 0x04,
                                  0x0A, 0x05, 0x0A, 0x05, 0x00, 0x00 };
    assert_memory_equal(d + 36, s5, sizeof(s5));
    assert_int_equal(len, 36 + sizeof(s5) + 8 + 2 * LEGACY_LEN + KBD_LEN);
}

/* Device(COM1) { Name(_HID, EisaId("PNP0501")) Name(_UID, 1) Name(_CRS,
 * ResourceTemplate() { IO(Decode16, 0x3F8, 0x3F8, 1, 8) IRQNoFlags() {4} }) }
 * and Device(RTC_) { ... EisaId("PNP0B00") ... IO 0x70, 2 ports, IRQ 8 }, as
 * `iasl` assembles them. */
static const uint8_t com1_aml[LEGACY_LEN] = {
    0x5B, 0x82, 0x2B, 'C', 'O', 'M', '1',
    0x08, '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x05, 0x01,
    0x08, '_', 'U', 'I', 'D', 0x01,
    0x08, '_', 'C', 'R', 'S', 0x11, 0x10, 0x0A, 0x0D,
    0x47, 0x01, 0xF8, 0x03, 0xF8, 0x03, 0x01, 0x08, 0x22, 0x10, 0x00, 0x79, 0x00 };
static const uint8_t rtc_aml[LEGACY_LEN] = {
    0x5B, 0x82, 0x2B, 'R', 'T', 'C', '_',
    0x08, '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x0B, 0x00,
    0x08, '_', 'U', 'I', 'D', 0x00,
    0x08, '_', 'C', 'R', 'S', 0x11, 0x10, 0x0A, 0x0D,
    0x47, 0x01, 0x70, 0x00, 0x70, 0x00, 0x01, 0x02, 0x22, 0x00, 0x01, 0x79, 0x00 };
/* Device(KBD_) { ... EisaId("PNP0303") ... IO 0x60, 1 port, IO 0x64, 1 port, IRQ 1 } */
static const uint8_t kbd_aml[KBD_LEN] = {
    0x5B, 0x82, 0x33, 'K', 'B', 'D', '_',
    0x08, '_', 'H', 'I', 'D', 0x0C, 0x41, 0xD0, 0x03, 0x03,
    0x08, '_', 'U', 'I', 'D', 0x00,
    0x08, '_', 'C', 'R', 'S', 0x11, 0x18, 0x0A, 0x15,
    0x47, 0x01, 0x60, 0x00, 0x60, 0x00, 0x01, 0x01,
    0x47, 0x01, 0x64, 0x00, 0x64, 0x00, 0x01, 0x01, 0x22, 0x02, 0x00, 0x79, 0x00 };

static void test_dsdt_legacy_devices(void **state)
{
    struct vm *vm = *state;
    assert_int_equal(acpi_setup(vm, 1), 0);
    uint32_t len;
    const uint8_t *d = dsdt(vm, &len);
    const uint8_t *scope = d + 36 + 15;
    /* PkgLength 2 + 5 + 90 + 53 = 150: two bytes, 0x46 0x09 */
    static const uint8_t head[] = { 0x10, 0x46, 0x09, '\\', '_', 'S', 'B', '_' };
    assert_memory_equal(scope, head, sizeof(head));
    assert_memory_equal(scope + 8, com1_aml, LEGACY_LEN);
    assert_memory_equal(scope + 8 + LEGACY_LEN, rtc_aml, LEGACY_LEN);
    assert_memory_equal(scope + 8 + 2 * LEGACY_LEN, kbd_aml, KBD_LEN);
    assert_ptr_equal(scope + 8 + 2 * LEGACY_LEN + KBD_LEN, d + len);
}

static void test_dsdt_virtio(void **state)
{
    struct vm *vm = *state;
    /* a full table of two device types, placed as virtio_mmio_create does */
    for (int i = 0; i < VIRTIO_MMIO_MAX; i++)
        assert_non_null(virtio_table_add(&vm->virtio, "t", i % 2 ? VIRTIO_ID_NET : VIRTIO_ID_BLOCK,
                                         i % 2 ? "virtio-net" : "virtio-blk", "dev"));
    const struct virtio_slot *devs = vm->virtio.slot;
    assert_int_equal(acpi_setup(vm, 2), 0);
    uint32_t len;
    const uint8_t *d = dsdt(vm, &len);
    /* Scope(\_SB_) spans exactly to the end of the table (2-byte PkgLength) */
    const uint8_t *scope = d + 36 + 15;            /* right after \_S5_ */
    assert_int_equal(scope[0], 0x10);
    unsigned k;
    uint32_t pl = pkglen(scope + 1, &k);
    assert_int_equal(k, 2);
    assert_int_equal(scope + 1 + pl, d + len);
    assert_memory_equal(scope + 1 + k, "\\_SB_", 5);
    /* COM1, RTC and KBD first, then every virtio device: Device(VRnn) with _HID,
     * _UID and its resources */
    const uint8_t *p = scope + 1 + k + 5;
    assert_memory_equal(p, com1_aml, LEGACY_LEN);
    assert_memory_equal(p + LEGACY_LEN, rtc_aml, LEGACY_LEN);
    assert_memory_equal(p + 2 * LEGACY_LEN, kbd_aml, KBD_LEN);
    p += 2 * LEGACY_LEN + KBD_LEN;
    for (int i = 0; i < VIRTIO_MMIO_MAX; i++) {
        char name[5];
        snprintf(name, sizeof(name), "VR%02X", i);
        assert_int_equal(p[0], 0x5B);
        assert_int_equal(p[1], 0x82);
        uint32_t dl = pkglen(p + 2, &k);
        assert_memory_equal(p + 2 + k, name, 4);
        const uint8_t *body = p + 2 + k + 4;
        size_t bl = dl - k - 4;
        assert_non_null(memfind(body, bl, "_HID\x0dLNRO0005", 14));
        uint8_t mem[12] = { 0x86, 9, 0, 1 };
        assert_int_equal(devs[i].base, 0xD0000000 + 0x1000ULL * (unsigned)i);
        memcpy(mem + 4, &(uint32_t){ (uint32_t)devs[i].base }, 4);
        memcpy(mem + 8, &(uint32_t){ 0x200 }, 4);
        assert_non_null(memfind(body, bl, mem, sizeof(mem)));
        uint8_t irq[9] = { 0x89, 6, 0, 0x01, 1 };
        assert_int_equal(devs[i].gsi, 16 + (unsigned)i);
        memcpy(irq + 5, &(uint32_t){ devs[i].gsi }, 4);
        assert_non_null(memfind(body, bl, irq, sizeof(irq)));
        assert_non_null(memfind(body, bl, "\x79\x00", 2));
        p += 2 + dl;
    }
    assert_ptr_equal(p, d + len);
}

static void test_bad_configurations(void **state)
{
    struct vm *vm = *state;
    assert_int_equal(acpi_setup(vm, 0), -1);
    assert_int_equal(acpi_setup(vm, 256), -1);
    for (int i = 0; i < VIRTIO_MMIO_MAX; i++)
        assert_non_null(virtio_table_add(&vm->virtio, "t", VIRTIO_ID_BLOCK, "virtio-blk", "d"));
    assert_int_equal(acpi_setup(vm, 255), 0);      /* the worst case fits */
    struct vm small = { .name = "small" };
    assert_int_equal(mem_init(&small.mem, 512 << 10), 0);
    assert_int_equal(acpi_setup(&small, 1), -1);
    mem_free(&small.mem);
}

/* ACPI_DUMP=dir writes the tables for `iasl -d` (a developer check). */
static void test_dump_for_iasl(void **state)
{
    struct vm *vm = *state;
    const char *dir = getenv("ACPI_DUMP");
    if (!dir)
        skip();
    assert_non_null(virtio_table_add(&vm->virtio, "t", VIRTIO_ID_BLOCK, "virtio-blk", "d"));
    assert_int_equal(acpi_setup(vm, 2), 0);
    static const char *const sigs[] = { "FACP", "APIC", "XSDT" };
    for (int i = 0; i < 4; i++) {
        uint32_t len;
        const uint8_t *rsdp = guest_ptr(&vm->mem, ACPI_RSDP_ADDR, 36);
        const uint8_t *t = i == 3 ? dsdt(vm, &len)
                         : i == 2 ? table(vm, get64(rsdp + 24), "XSDT") : find(vm, sigs[i]);
        len = get32(t + 4);
        char path[512];
        snprintf(path, sizeof(path), "%s/%.4s.dat", dir, (const char *)t);
        FILE *fp = fopen(path, "wb");
        assert_non_null(fp);
        assert_int_equal(fwrite(t, 1, len, fp), len);
        fclose(fp);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rsdp, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fadt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_madt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dsdt_s5, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dsdt_legacy_devices, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dsdt_virtio, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_configurations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dump_for_iasl, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
