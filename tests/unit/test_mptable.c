/* test_mptable.c - unit tests for the MP tables and the BIOS data area:
 * checksums, entries, APIC ids, and agreement with the ACPI MADT. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_vm.h"

#include <stdlib.h>
#include <string.h>

#include "arch/acpi.h"
#include "arch/bda.h"
#include "arch/layout.h"
#include "arch/mptable.h"
#include "core/mem.h"
#include "core/vm.h"

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }

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

static const uint8_t *at(struct vm *vm, uint64_t gpa, uint64_t len)
{
    const uint8_t *p = guest_ptr(&vm->mem, gpa, len);
    assert_non_null(p);
    return p;
}

/* xv6's mpsearch1: "_MP_" on a 16-byte boundary with a zero checksum. */
static uint64_t search(struct vm *vm, uint64_t a, uint64_t len)
{
    for (uint64_t p = a; p + MP_FPS_LEN <= a + len; p += 16) {
        const uint8_t *f = at(vm, p, MP_FPS_LEN);
        if (!memcmp(f, "_MP_", 4) && acpi_checksum(f, MP_FPS_LEN) == 0)
            return p;
    }
    return 0;
}

/* xv6's mpsearch: the EBDA, else the last KiB of base memory, then the BIOS ROM. */
static uint64_t mpsearch(struct vm *vm)
{
    const uint8_t *bda = at(vm, 0x400, 0x100);
    uint64_t p = (uint64_t)get16(bda + 0x0E) << 4, found;
    if (p) {
        if ((found = search(vm, p, 1024)))
            return found;
    } else {
        p = (uint64_t)get16(bda + 0x13) * 1024;
        if ((found = search(vm, p - 1024, 1024)))
            return found;
    }
    return search(vm, 0xF0000, 0x10000);
}

/* The configuration table behind the floating pointer, checked. */
static const uint8_t *config(struct vm *vm, uint64_t fps_gpa)
{
    const uint8_t *f = at(vm, fps_gpa, MP_FPS_LEN);
    assert_int_equal(f[8], 1);                  /* 16 bytes */
    assert_int_equal(f[9], 4);                  /* spec 1.4 */
    assert_int_equal(f[11], 0);                 /* not a default configuration */
    assert_int_equal(f[12] & 0x80, 0);          /* IMCRP clear */
    uint32_t cfg = get32(f + 4);
    assert_int_not_equal(cfg, 0);
    const uint8_t *t = at(vm, cfg, MP_HDR_LEN);
    assert_memory_equal(t, "PCMP", 4);
    uint16_t len = get16(t + 4);
    t = at(vm, cfg, len);
    assert_int_equal(acpi_checksum(t, len), 0);
    assert_int_equal(t[6], 4);
    assert_int_equal(get32(t + 36), LAPIC_ADDR);
    assert_true(cfg + len <= MPTABLE_END);
    return t;
}

struct mp_view {
    int nproc, nbus, nioapic, nioint, nlint, count;
    uint8_t apic_id[256], proc_flags[256];
    const uint8_t *ioapic, *ioint[32], *lint[4];
};

/* Walk the entries by type and length, as a kernel does. */
static void walk(const uint8_t *t, struct mp_view *v)
{
    memset(v, 0, sizeof(*v));
    const uint8_t *e = t + MP_HDR_LEN, *end = t + get16(t + 4);
    while (e < end) {
        v->count++;
        switch (e[0]) {
        case MP_PROC:
            v->apic_id[v->nproc] = e[1];
            v->proc_flags[v->nproc++] = e[3];
            e += MP_PROC_LEN;
            continue;
        case MP_BUS: assert_memory_equal(e + 2, "ISA   ", 6); v->nbus++; break;
        case MP_IOAPIC: v->ioapic = e; v->nioapic++; break;
        case MP_IOINT: assert_true(v->nioint < 32); v->ioint[v->nioint++] = e; break;
        case MP_LINT: assert_true(v->nlint < 4); v->lint[v->nlint++] = e; break;
        default: fail_msg("entry type %u", e[0]);
        }
        e += MP_ENTRY_LEN;
    }
    assert_ptr_equal(e, end);
    assert_int_equal(v->count, get16(t + 34));
}

static void test_tables(void **state, int ncpus)
{
    struct vm *vm = *state;
    assert_int_equal(mptable_setup(vm, ncpus), 0);
    uint64_t fps = search(vm, 0xF0000, 0x10000);
    assert_int_equal(fps, MPTABLE_ADDR);
    assert_int_equal(fps % 16, 0);
    struct mp_view v;
    walk(config(vm, fps), &v);
    assert_int_equal(v.nproc, ncpus);
    for (int i = 0; i < ncpus; i++) {
        assert_int_equal(v.apic_id[i], i);
        assert_int_equal(v.proc_flags[i], i == 0 ? 3 : 1);   /* enabled, BSP on cpu 0 */
    }
    assert_int_equal(v.nbus, 1);
    assert_int_equal(v.nioapic, 1);
    assert_int_equal(v.ioapic[1], 0);                  /* KVM's IOAPIC id */
    assert_int_equal(v.ioapic[2], 0x11);
    assert_int_equal(v.ioapic[3] & 1, 1);
    assert_int_equal(get32(v.ioapic + 4), IOAPIC_ADDR);
    assert_int_equal(v.nioint, 15);
    assert_int_equal(v.nlint, 2);
}

static void test_one_cpu(void **state) { test_tables(state, 1); }
static void test_four_cpus(void **state) { test_tables(state, 4); }
static void test_max_cpus(void **state) { test_tables(state, 255); }

static void test_bad_config(void **state)
{
    struct vm *vm = *state;
    assert_int_equal(mptable_setup(vm, 0), -1);
    assert_int_equal(mptable_setup(vm, 256), -1);
    struct vm small = { .name = "small" };
    assert_int_equal(mem_init(&small.mem, 512 << 10), 0);
    assert_int_equal(mptable_setup(&small, 1), -1);
    assert_int_equal(bda_setup(&small), -1);
    mem_free(&small.mem);
}

/* The MADT as found through the RSDP and XSDT. */
static const uint8_t *madt(struct vm *vm)
{
    const uint8_t *rsdp = at(vm, ACPI_RSDP_ADDR, 36);
    const uint8_t *x = at(vm, get32(rsdp + 24), 36);
    for (uint32_t i = 36; i < get32(x + 4); i += 8) {
        const uint8_t *t = at(vm, get32(x + i), 36);
        if (!memcmp(t, "APIC", 4))
            return at(vm, get32(x + i), get32(t + 4));
    }
    fail_msg("no MADT");
    return NULL;
}

/* Both tables describe one machine: CPUs, IOAPIC, ISA routing, LINT1 NMI. */
static void test_agrees_with_madt(void **state)
{
    struct vm *vm = *state;
    const int n = 3;
    assert_int_equal(mptable_setup(vm, n), 0);
    assert_int_equal(acpi_setup(vm, n), 0);   /* must not overwrite the MP tables */
    struct mp_view v;
    walk(config(vm, search(vm, 0xF0000, 0x10000)), &v);
    const uint8_t *m = madt(vm);
    uint8_t pin[16];
    uint16_t flags[16];
    for (int i = 0; i < 16; i++)
        pin[i] = (uint8_t)i, flags[i] = 0;
    int ncpu = 0, nnmi = 0;
    for (uint32_t off = 44; off < get32(m + 4); off += m[off + 1]) {
        const uint8_t *e = m + off;
        if (e[0] == 0) {
            assert_int_equal(e[3], v.apic_id[ncpu++]);
        } else if (e[0] == 1) {
            assert_int_equal(e[2], v.ioapic[1]);
            assert_int_equal(get32(e + 4), get32(v.ioapic + 4));
        } else if (e[0] == 2) {
            assert_int_equal(e[2], 0);                  /* ISA */
            pin[e[3]] = (uint8_t)get32(e + 4);
            flags[e[3]] = get16(e + 8);
        } else if (e[0] == 4) {
            assert_int_equal(e[5], 1);                  /* NMI on LINT1 */
            nnmi++;
        }
    }
    assert_int_equal(ncpu, n);
    assert_int_equal(nnmi, 1);
    bool seen[16] = { false };
    for (int i = 0; i < v.nioint; i++) {
        const uint8_t *e = v.ioint[i];
        unsigned irq = e[5];
        assert_true(irq < 16);
        assert_false(seen[irq]);
        seen[irq] = true;
        assert_int_equal(e[1], MP_INT);
        assert_int_equal(e[4], 0);                      /* the ISA bus */
        assert_int_equal(e[6], v.ioapic[1]);
        assert_int_equal(e[7], pin[irq]);
        assert_int_equal(get16(e + 2), flags[irq]);
    }
    assert_false(seen[2]);                              /* pin 2 belongs to IRQ 0 */
    assert_int_equal(pin[0], 2);
    assert_int_equal(v.lint[0][1], MP_EXTINT);
    assert_int_equal(v.lint[0][7], 0);
    assert_int_equal(v.lint[1][1], MP_NMI);
    assert_int_equal(v.lint[1][7], 1);
    assert_int_equal(v.lint[1][6], 0xFF);
}

static void test_bda(void **state)
{
    struct vm *vm = *state;
    assert_int_equal(bda_setup(vm), 0);
    const uint8_t *bda = at(vm, BDA_ADDR, 0x100);
    assert_int_equal(get16(bda + 0x00), 0x3F8);
    assert_int_equal(get16(bda + 0x0E), EBDA_ADDR >> 4);
    assert_int_equal(get16(bda + 0x13), 639);
    assert_int_equal((uint64_t)get16(bda + 0x13) * 1024, EBDA_ADDR);
    assert_int_equal(get16(bda + 0x63), 0x3D4);
    /* xv6 finds the table: EBDA first (empty), then the BIOS area */
    assert_int_equal(mptable_setup(vm, 2), 0);
    assert_int_equal(mpsearch(vm), MPTABLE_ADDR);
    /* ... and would also find it through 0x413 alone */
    uint8_t *w = guest_ptr(&vm->mem, BDA_EBDA_SEG, 2);
    w[0] = w[1] = 0;
    assert_int_equal(mpsearch(vm), MPTABLE_ADDR);
}

/* The BIOS area holds both: ACPI below MPTABLE_ADDR, MP from there to 1 MiB. */
static void test_layout(void **state)
{
    (void)state;
    assert_true(ACPI_AREA_START >= BIOS_AREA_START && ACPI_AREA_END <= MPTABLE_ADDR);
    assert_true(MPTABLE_ADDR >= 0xF0000 && MPTABLE_END <= BIOS_AREA_END);
    assert_int_equal(MPTABLE_ADDR % 16, 0);
    assert_true(MPTABLE_ADDR + MP_FPS_LEN + MP_TABLE_LEN(255) <= MPTABLE_END);
    assert_true(EBDA_ADDR + EBDA_SIZE <= 0xA0000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_cpu, setup, teardown),
        cmocka_unit_test_setup_teardown(test_four_cpus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_cpus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_config, setup, teardown),
        cmocka_unit_test_setup_teardown(test_agrees_with_madt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bda, setup, teardown),
        cmocka_unit_test(test_layout),
    };
    return cmocka_run_group_tests_name("mptable", tests, NULL, NULL);
}
