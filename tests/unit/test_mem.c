/* test_mem.c - unit tests for the guest memory map and guest_ptr(), the one
 * helper every guest-physical access goes through, and size parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/mem.h"

static void test_bounds(void **state)
{
    (void)state;
    struct guest_mem m;
    assert_int_equal(mem_init(&m, 1 << 20), 0);
    assert_non_null(guest_ptr(&m, 0, 1 << 20));
    assert_non_null(guest_ptr(&m, (1 << 20) - 1, 1));
    assert_non_null(guest_ptr(&m, 1 << 20, 0));        /* empty range at the end */
    assert_null(guest_ptr(&m, (1 << 20) - 1, 2));      /* one byte past */
    assert_null(guest_ptr(&m, 1 << 20, 1));
    assert_null(guest_ptr(&m, UINT64_MAX, 2));         /* wraps around */
    assert_null(guest_ptr(&m, 16, UINT64_MAX - 8));    /* length overflow */
    assert_ptr_equal(guest_ptr(&m, 4096, 1), m.r[0].host + 4096);
    mem_free(&m);
}

static void test_read_write(void **state)
{
    (void)state;
    struct guest_mem m;
    assert_int_equal(mem_init(&m, 64 << 10), 0);
    uint32_t v = 0xdeadbeef, w = 0;
    assert_int_equal(guest_write(&m, 100, &v, 4), 0);
    assert_int_equal(guest_read(&m, 100, &w, 4), 0);
    assert_int_equal(w, v);
    assert_int_equal(guest_write(&m, (64 << 10) - 2, &v, 4), -1);
    assert_int_equal(guest_read(&m, (64 << 10) - 2, &w, 4), -1);
    mem_free(&m);
}

static void test_hole(void **state)
{
    (void)state;
    struct guest_mem m;
    uint64_t ram = MEM_HOLE_START + (1 << 20);     /* 3 GiB + 1 MiB */
    assert_int_equal(mem_init(&m, ram), 0);
    assert_int_equal(m.nr, 2);
    assert_non_null(guest_ptr(&m, MEM_HOLE_START - 1, 1));
    assert_null(guest_ptr(&m, MEM_HOLE_START, 1));      /* MMIO hole */
    assert_null(guest_ptr(&m, MEM_HOLE_START - 1, 2));  /* straddles the hole */
    assert_non_null(guest_ptr(&m, MEM_HOLE_END, 1 << 20));
    assert_null(guest_ptr(&m, MEM_HOLE_END, (1 << 20) + 1));
    mem_free(&m);
}

static void test_init_rejects(void **state)
{
    (void)state;
    struct guest_mem m;
    assert_int_equal(mem_init(&m, 0), -1);
    assert_int_equal(mem_init(&m, 4097), -1);
}

/* Kernel-sized RAM sits on a 2 MiB boundary (so KVM can map huge pages) and
 * every byte of it is usable; small RAM is left where mmap put it. */
static void test_huge_page_alignment(void **state)
{
    (void)state;
    struct guest_mem m;
    assert_int_equal(mem_init(&m, 64ULL << 20), 0);
    assert_int_equal((uintptr_t)m.r[0].host % MEM_HUGE_PAGE, 0);
    uint8_t *last = guest_ptr(&m, (64ULL << 20) - 1, 1);
    assert_non_null(last);
    *last = 0xAB;                   /* the tail survived the trimming munmap */
    assert_int_equal(*last, 0xAB);
    mem_free(&m);
    assert_int_equal(mem_init(&m, 1ULL << 20), 0);
    assert_non_null(guest_ptr(&m, 0, 1ULL << 20));
    mem_free(&m);
}

static void test_parse_size(void **state)
{
    (void)state;
    uint64_t v;
    assert_int_equal(mem_parse_size("4096", &v), 0);
    assert_int_equal(v, 4096);
    assert_int_equal(mem_parse_size("64K", &v), 0);
    assert_int_equal(v, 64 << 10);
    assert_int_equal(mem_parse_size("512M", &v), 0);
    assert_int_equal(v, 512ULL << 20);
    assert_int_equal(mem_parse_size("2g", &v), 0);
    assert_int_equal(v, 2ULL << 30);
    assert_int_equal(mem_parse_size("1GiB", &v), 0);
    assert_int_equal(v, 1ULL << 30);
    const char *bad[] = { "", "M", "12X", "-1", "1.5G", "1MM", "99999999999999999999",
                          "17179869184G", " 1M" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(mem_parse_size(bad[i], &v), -1);
    assert_int_equal(mem_parse_size(NULL, &v), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_read_write),
        cmocka_unit_test(test_hole),
        cmocka_unit_test(test_init_rejects),
        cmocka_unit_test(test_huge_page_alignment),
        cmocka_unit_test(test_parse_size),
    };
    return cmocka_run_group_tests_name("mem", tests, NULL, NULL);
}
