/* test_bzimage.c - unit tests for the bzImage loader with crafted setup
 * headers: the zero page, e820, placement, and one clear error per bad image. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/acpi.h"
#include "core/mem.h"
#include "core/vm.h"
#include "loaders/bzimage.h"

#define SETUP_SECTS 4
#define SETUP_SIZE ((SETUP_SECTS + 1) * 512)
#define KERNEL_LEN 8192
#define IMG_LEN (SETUP_SIZE + KERNEL_LEN)
#define MiB (1ULL << 20)

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }

/* A minimal valid bzImage: protocol 2.15, 64-bit entry, relocatable. */
static uint8_t *make_image(size_t *len)
{
    uint8_t *img = calloc(1, IMG_LEN);
    img[0x1F1] = SETUP_SECTS;
    put32(img + 0x1F4, KERNEL_LEN / 16);        /* syssize */
    put16(img + 0x1FE, 0xAA55);
    img[0x200] = 0xEB;                          /* jmp over the header */
    img[0x201] = 0x6A;                          /* header ends at 0x26C */
    memcpy(img + 0x202, "HdrS", 4);
    put16(img + 0x206, 0x020F);
    img[0x211] = 0x01;                          /* LOADED_HIGH */
    put32(img + 0x22C, 0x7FFFFFFF);             /* initrd_addr_max */
    put32(img + 0x230, 0x200000);               /* kernel_alignment */
    img[0x234] = 1;                             /* relocatable */
    put16(img + 0x236, 0x3);                    /* XLF_KERNEL_64 | CAN_BE_LOADED_ABOVE_4G */
    put32(img + 0x238, 2047);                   /* cmdline_size */
    put64(img + 0x258, 0x1000000);              /* pref_address */
    put32(img + 0x260, 0x400000);               /* init_size: 4 MiB */
    for (size_t i = SETUP_SIZE; i < IMG_LEN; i++)
        img[i] = (uint8_t)(i * 7);
    *len = IMG_LEN;
    return img;
}

struct fx {
    struct vm vm;
    uint8_t *img;
    size_t len;
    struct boot_entry e;
    char err[1024];
};

static int setup_ram(void **state, uint64_t ram)
{
    struct fx *f = calloc(1, sizeof(*f));
    fake_vm_init(&f->vm, ram);
    f->img = make_image(&f->len);
    *state = f;
    return 0;
}

static int setup(void **state) { return setup_ram(state, 64 * MiB); }

static int teardown(void **state)
{
    struct fx *f = *state;
    fake_vm_fini(&f->vm);
    free(f->img);
    free(f);
    return 0;
}

static uint8_t *gp(struct fx *f, uint64_t gpa, uint64_t len)
{
    uint8_t *p = guest_ptr(&f->vm.mem, gpa, len);
    assert_non_null(p);
    return p;
}

/* Run bzimage_load with stderr captured into f->err. */
static int load(struct fx *f, const uint8_t *img, size_t len, const uint8_t *rd, size_t rdlen,
                const char *cmdline)
{
    struct capture c;
    capture_begin(&c);
    int r = bzimage_load(&f->vm, img, len, "vmlinuz", rd, rdlen, "initrd.img", cmdline, &f->e);
    capture_end(&c, f->err, sizeof(f->err));
    return r;
}

/* Exactly one line, starting "mini-kvm: vmlinuz: " (or the initrd's name), holding want. */
static void expect_error(struct fx *f, int r, const char *file, const char *want)
{
    char prefix[64];
    snprintf(prefix, sizeof(prefix), "mini-kvm: %s: ", file);
    assert_int_equal(r, -1);
    assert_true(strncmp(f->err, prefix, strlen(prefix)) == 0);
    assert_non_null(strstr(f->err, want));
    char *nl = strchr(f->err, '\n');
    assert_non_null(nl);
    assert_int_equal(nl[1], '\0');
}

static void test_valid_image_entry_and_zero_page(void **state)
{
    struct fx *f = *state;
    uint8_t rd[10000];
    memset(rd, 0x5A, sizeof(rd));
    assert_int_equal(load(f, f->img, f->len, rd, sizeof(rd), "console=ttyS0 x=1"), 0);
    assert_string_equal(f->err, "");
    assert_true(f->e.long_mode);
    assert_int_equal(f->e.rip, 0x100200);
    assert_int_equal(f->e.rsi, BZ_ZERO_PAGE);

    uint8_t *bp = gp(f, BZ_ZERO_PAGE, 4096);
    assert_memory_equal(bp + 0x202, "HdrS", 4);
    assert_int_equal(get16(bp + 0x206), 0x020F);
    assert_int_equal(bp[0x210], 0xFF);                  /* type_of_loader */
    assert_int_equal(bp[0x211] & 0x81, 0x81);           /* LOADED_HIGH | CAN_USE_HEAP */
    assert_int_equal(get32(bp + 0x228), BZ_CMDLINE);
    assert_int_equal(get32(bp + 0x0C8), 0);
    assert_string_equal((char *)gp(f, BZ_CMDLINE, 18), "console=ttyS0 x=1");
    assert_int_equal(get64(bp + 0x070), ACPI_RSDP_ADDR);
    assert_int_equal(get64(bp + 0x250), 0);             /* no setup_data */

    /* the protected-mode kernel at 1 MiB, byte for byte */
    assert_memory_equal(gp(f, 0x100000, KERNEL_LEN), f->img + SETUP_SIZE, KERNEL_LEN);

    /* initrd at the top of RAM, page aligned */
    uint32_t rda = get32(bp + 0x218), rdl = get32(bp + 0x21C);
    assert_int_equal(rdl, sizeof(rd));
    assert_int_equal(rda % 4096, 0);
    assert_true(rda + rdl <= 64 * MiB && rda + rdl > 64 * MiB - 4096);
    assert_true(rda >= 0x1000000 + 0x400000);           /* above pref_address + init_size */
    assert_memory_equal(gp(f, rda, rdl), rd, rdl);
}

static void test_e820_small_ram(void **state)
{
    struct fx *f = *state;
    assert_int_equal(load(f, f->img, f->len, NULL, 0, NULL), 0);
    uint8_t *bp = gp(f, BZ_ZERO_PAGE, 4096);
    assert_int_equal(bp[0x1E8], 4);
    static const uint64_t want[4][3] = {
        { 0, 0x9FC00, 1 }, { 0x9FC00, 0x400, 2 }, { 0xE0000, 0x20000, 2 },
        { 0x100000, 64 * MiB - 0x100000, 1 },
    };
    for (int i = 0; i < 4; i++) {
        uint8_t *e = bp + 0x2D0 + 20 * i;
        assert_int_equal(get64(e), want[i][0]);
        assert_int_equal(get64(e + 8), want[i][1]);
        assert_int_equal(get32(e + 16), want[i][2]);
    }
    assert_int_equal(get32(bp + 0x218), 0);             /* no initrd */
    assert_int_equal(*gp(f, BZ_CMDLINE, 1), 0);         /* empty command line */
}

static void test_e820_above_4g(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->vm.name = "t";
    assert_int_equal(mem_init(&f->vm.mem, 5ULL << 30), 0);  /* lazily mapped */
    f->img = make_image(&f->len);
    *state = f;
    uint8_t rd[4096] = { 1 };
    assert_int_equal(load(f, f->img, f->len, rd, sizeof(rd), ""), 0);
    uint8_t *bp = gp(f, BZ_ZERO_PAGE, 4096);
    assert_int_equal(bp[0x1E8], 5);
    assert_int_equal(get64(bp + 0x2D0 + 60 + 8), MEM_HOLE_START - 0x100000);
    assert_int_equal(get64(bp + 0x2D0 + 80), MEM_HOLE_END);
    assert_int_equal(get64(bp + 0x2D0 + 80 + 8), (5ULL << 30) - MEM_HOLE_START);
    /* the initrd ends at initrd_addr_max + 1 (2 GiB), below the hole */
    assert_int_equal(get32(bp + 0x218) + 4096, 0x80000000);
}

static void test_initrd_addr_max_respected(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    f->vm.name = "t";
    assert_int_equal(mem_init(&f->vm.mem, 1ULL << 30), 0);
    f->img = make_image(&f->len);
    *state = f;
    put32(f->img + 0x22C, 0x37FFFFFF);
    uint8_t rd[5000] = { 2 };
    assert_int_equal(load(f, f->img, f->len, rd, sizeof(rd), NULL), 0);
    uint8_t *bp = gp(f, BZ_ZERO_PAGE, 4096);
    uint32_t a = get32(bp + 0x218);
    assert_true(a + sizeof(rd) - 1 <= 0x37FFFFFF);
    assert_int_equal(a, (0x38000000 - sizeof(rd)) & ~0xFFFu);
}

static void test_setup_sects_zero_means_four(void **state)
{
    struct fx *f = *state;
    f->img[0x1F1] = 0;
    assert_int_equal(load(f, f->img, f->len, NULL, 0, NULL), 0);
    assert_memory_equal(gp(f, 0x100000, KERNEL_LEN), f->img + SETUP_SIZE, KERNEL_LEN);
}

static void test_trailing_signature_is_fine(void **state)
{
    struct fx *f = *state;
    uint8_t *big = calloc(1, f->len + 1000);       /* e.g. a signed kernel */
    memcpy(big, f->img, f->len);
    assert_int_equal(load(f, big, f->len + 1000, NULL, 0, NULL), 0);
    free(big);
}

static void test_not_a_bzimage(void **state)
{
    struct fx *f = *state;
    expect_error(f, load(f, f->img, 0, NULL, 0, NULL), "vmlinuz", "not a bzImage");
    expect_error(f, load(f, NULL, 0, NULL, 0, NULL), "vmlinuz", "not a bzImage");
    expect_error(f, load(f, f->img, 100, NULL, 0, NULL), "vmlinuz", "only 100 bytes");
    f->img[0x203] = 'x';
    expect_error(f, load(f, f->img, f->len, NULL, 0, NULL), "vmlinuz",
                 "not a bzImage (no HdrS magic)");
    f->img[0x203] = 'd';
    put16(f->img + 0x1FE, 0x1234);
    expect_error(f, load(f, f->img, f->len, NULL, 0, NULL), "vmlinuz", "0xAA55");
}

static void test_random_bytes(void **state)
{
    struct fx *f = *state;
    uint8_t *junk = malloc(65536);
    uint32_t x = 12345;
    for (size_t i = 0; i < 65536; i++) {
        x = x * 1103515245 + 12345;
        junk[i] = (uint8_t)(x >> 16);
    }
    expect_error(f, load(f, junk, 65536, NULL, 0, NULL), "vmlinuz", "no HdrS magic");
    free(junk);
}

static void test_old_protocol(void **state)
{
    struct fx *f = *state;
    put16(f->img + 0x206, 0x0205);
    expect_error(f, load(f, f->img, f->len, NULL, 0, NULL), "vmlinuz",
                 "boot protocol 2.05 too old (need 2.12 for 64-bit entry)");
    put16(f->img + 0x206, 0x020B);
    expect_error(f, load(f, f->img, f->len, NULL, 0, NULL), "vmlinuz", "2.11 too old");
}

static void test_no_64bit_entry(void **state)
{
    struct fx *f = *state;
    put16(f->img + 0x236, 0x2);
    expect_error(f, load(f, f->img, f->len, NULL, 0, NULL), "vmlinuz", "no 64-bit entry point");
}

static void test_truncated_at_several_points(void **state)
{
    struct fx *f = *state;
    static const size_t cuts[] = { 0x1FF, 0x263, 0x300, 1024, SETUP_SIZE - 1, SETUP_SIZE,
                                   SETUP_SIZE + 1, SETUP_SIZE + KERNEL_LEN / 2, IMG_LEN - 16 };
    for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
        int r = load(f, f->img, cuts[i], NULL, 0, NULL);
        const char *want = cuts[i] < 0x264 ? "not a bzImage" : "truncated: header says";
        expect_error(f, r, "vmlinuz", want);
    }
    char msg[128];
    load(f, f->img, IMG_LEN - 16, NULL, 0, NULL);
    snprintf(msg, sizeof(msg), "truncated: header says %d bytes, file has %d\n", IMG_LEN,
             IMG_LEN - 16);
    assert_non_null(strstr(f->err, msg));
}

/* syssize is in 16-byte paragraphs rounded up (memtest86+: 0x22dc paragraphs
 * for a file 8 bytes short of them): a partial last paragraph loads, exactly
 * the bytes the file holds are copied, and nothing after them is read. */
static void test_partial_last_paragraph_loads(void **state)
{
    struct fx *f = *state;
    for (size_t short_by = 1; short_by <= 15; short_by++) {
        size_t len = IMG_LEN - short_by;
        uint8_t *img = malloc(len);             /* exact size: ASan sees an over-read */
        memcpy(img, f->img, len);
        memset(gp(f, 0x100000, KERNEL_LEN), 0xEE, KERNEL_LEN);
        assert_int_equal(load(f, img, len, NULL, 0, NULL), 0);
        assert_memory_equal(gp(f, 0x100000, len - SETUP_SIZE), img + SETUP_SIZE,
                            len - SETUP_SIZE);
        assert_int_equal(*gp(f, 0x100000 + len - SETUP_SIZE, 1), 0xEE);
        free(img);
    }
}

static void test_bad_header_end(void **state)
{
    struct fx *f = *state;
    f->img[0x201] = 0xFF;                       /* header would run to 0x301 */
    expect_error(f, load(f, f->img, f->len, NULL, 0, NULL), "vmlinuz", "setup header ends");
}

static void test_ram_too_small(void **state)
{
    struct fx *f = *state;
    put32(f->img + 0x260, 0x4000000);           /* init_size 64 MiB + 16 MiB start */
    expect_error(f, load(f, f->img, f->len, NULL, 0, NULL), "vmlinuz",
                 "kernel needs 80 MiB of RAM to decompress, the guest has 64 MiB");
}

static void test_cmdline_too_long(void **state)
{
    struct fx *f = *state;
    char *cl = malloc(2049);
    memset(cl, 'a', 2048);
    cl[2048] = '\0';
    expect_error(f, load(f, f->img, f->len, NULL, 0, cl), "vmlinuz",
                 "command line is 2048 bytes, this kernel accepts at most 2047");
    cl[2047] = '\0';
    assert_int_equal(load(f, f->img, f->len, NULL, 0, cl), 0);
    free(cl);
}

static void test_initrd_does_not_fit(void **state)
{
    struct fx *f = *state;
    size_t n = 50 * MiB;                        /* 64 MiB RAM, kernel needs up to 20 MiB */
    uint8_t *rd = calloc(1, n);
    expect_error(f, load(f, f->img, f->len, rd, n, NULL), "initrd.img", "does not fit below");
    free(rd);
    /* initrd_addr_max below the kernel's decompression buffer */
    put32(f->img + 0x22C, 0x00FFFFFF);
    uint8_t small[4096] = { 0 };
    expect_error(f, load(f, f->img, f->len, small, sizeof(small), NULL), "initrd.img",
                 "does not fit below 0x1000000");
}

/* Random header fields on a valid skeleton: never a crash, always 0 or one error. */
static void test_fuzzed_headers(void **state)
{
    struct fx *f = *state;
    uint32_t x = 777;
    uint8_t *img = malloc(IMG_LEN);
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(img, f->img, IMG_LEN);
        for (int k = 0; k < 6; k++) {
            x = x * 1103515245 + 12345;
            unsigned off = 0x1F1 + (x >> 8) % (0x26C - 0x1F1);
            if (off >= 0x202 && off < 0x206)
                continue;                       /* keep the magic: test the rest */
            img[off] = (uint8_t)(x >> 20);
        }
        x = x * 1103515245 + 12345;
        size_t len = (x >> 4) % 3 ? IMG_LEN : (x >> 8) % (IMG_LEN + 1);
        int r = load(f, img, len, NULL, 0, "console=ttyS0");
        assert_true(r == 0 || r == -1);
        if (r == 0) {
            assert_string_equal(f->err, "");
            assert_int_equal(f->e.rip, 0x100200);
        } else {
            assert_true(strncmp(f->err, "mini-kvm: ", 10) == 0);
            assert_ptr_equal(strchr(f->err, '\n'), f->err + strlen(f->err) - 1);
        }
    }
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_valid_image_entry_and_zero_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_e820_small_ram, setup, teardown),
        cmocka_unit_test_teardown(test_e820_above_4g, teardown),
        cmocka_unit_test_teardown(test_initrd_addr_max_respected, teardown),
        cmocka_unit_test_setup_teardown(test_setup_sects_zero_means_four, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trailing_signature_is_fine, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_a_bzimage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_bytes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_protocol, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_64bit_entry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_at_several_points, setup, teardown),
        cmocka_unit_test_setup_teardown(test_partial_last_paragraph_loads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_header_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ram_too_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cmdline_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown(test_initrd_does_not_fit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fuzzed_headers, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
