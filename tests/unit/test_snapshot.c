/* test_snapshot.c - unit tests for the snapshot state file: sections written and read
 * back, and every refusal (magic, format, truncation, CRC, version, sections). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot/snapfile.h"

static char path[] = "/tmp/test_snapshot_XXXXXX";

static void write_sample(void)
{
    struct snap_writer w = { 0 };
    struct snap_header h = { .mem_size = 1 << 20, .ncpus = 1 };
    snprintf(h.version, sizeof(h.version), "0.1.0");
    uint64_t regs[3] = { 1, 2, 3 };
    snapw_add(&w, "cpu0.regs", regs, sizeof(regs));
    snapw_add(&w, "dev.serial@0", "abc", 3);       /* padded to 8 */
    snapw_add(&w, "dev.rtc@0", "x", 1);
    assert_int_equal(snapw_write(&w, &h, path), 0);
}

static size_t file_size(void)
{
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    size_t n = (size_t)ftell(f);
    fclose(f);
    return n;
}

static void poke(size_t off, const void *data, size_t len)
{
    FILE *f = fopen(path, "r+b");
    fseek(f, (long)off, SEEK_SET);
    fwrite(data, 1, len, f);
    fclose(f);
}

static void fix_crc(void)
{
    size_t n = file_size();
    uint8_t *b = malloc(n);
    FILE *f = fopen(path, "rb");
    assert_int_equal(fread(b, 1, n, f), n);
    fclose(f);
    uint32_t crc = snap_crc32(b, n - 8);
    poke(n - 8, &crc, 4);
    free(b);
}

static void test_round_trip(void **state)
{
    (void)state;
    write_sample();
    struct snap_reader r;
    assert_int_equal(snapr_open(&r, path, "0.1.0"), 0);
    assert_int_equal(r.h.nsections, 3);
    assert_int_equal(r.h.mem_size, 1 << 20);
    const uint64_t *regs = snapr_get(&r, "cpu0.regs", 24);
    assert_non_null(regs);
    assert_int_equal(regs[2], 3);
    assert_memory_equal(snapr_get(&r, "dev.serial@0", 3), "abc", 3);
    assert_memory_equal(snapr_get(&r, "dev.rtc@0", 1), "x", 1);
    assert_null(snapr_get(&r, "dev.rtc@0", 2));        /* another size */
    assert_null(snapr_get(&r, "cpu1.regs", 24));       /* missing */
    assert_int_equal(snapr_count(&r, "dev."), 2);
    snapr_close(&r);
    assert_int_equal(snap_crc32("123456789", 9), 0xCBF43926);   /* the CRC-32 check value */
}

/* The sliced CRC against a bit at a time, at every length and alignment of
 * its 8-byte steps (the tail loop, the slices, both together). */
static void test_crc_matches_bitwise(void **state)
{
    (void)state;
    uint8_t b[80];
    for (size_t i = 0; i < sizeof(b); i++)
        b[i] = (uint8_t)(i * 37 + 11);
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 0; n + off <= sizeof(b); n++) {
            uint32_t c = 0xFFFFFFFFu;
            for (size_t i = 0; i < n; i++) {
                c ^= b[off + i];
                for (int k = 0; k < 8; k++)
                    c = (c >> 1) ^ (0xEDB88320u & -(c & 1));
            }
            assert_int_equal(snap_crc32(b + off, n), ~c);
        }
}

static void test_refusals(void **state)
{
    (void)state;
    struct snap_reader r;
    write_sample();
    assert_int_equal(snapr_open(&r, path, "0.2.0"), -1);       /* another version */
    poke(8, &(uint32_t){ SNAP_FORMAT - 1 }, 4);
    fix_crc();
    assert_int_equal(snapr_open(&r, path, "0.1.0"), -1);       /* another format */
    write_sample();
    poke(100, "Z", 1);
    assert_int_equal(snapr_open(&r, path, "0.1.0"), -1);       /* corrupt */
    write_sample();
    assert_int_equal(truncate(path, (off_t)file_size() - 9), 0);
    assert_int_equal(snapr_open(&r, path, "0.1.0"), -1);       /* truncated */
    write_sample();
    poke(0, "XKVMSNAP", 8);
    assert_int_equal(snapr_open(&r, path, "0.1.0"), -1);       /* no magic */
    write_sample();                 /* a section longer than the body, CRC made right */
    poke(64 + 32, &(uint64_t){ 1 << 20 }, 8);
    fix_crc();
    assert_int_equal(snapr_open(&r, path, "0.1.0"), 0);
    assert_null(snapr_get(&r, "dev.rtc@0", 1));
    assert_int_equal(snapr_count(&r, "dev."), 0);
    snapr_close(&r);
}

static int setup(void **state)
{
    (void)state;
    int fd = mkstemp(path);
    close(fd);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_crc_matches_bitwise),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
