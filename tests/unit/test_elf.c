/* test_elf.c - the ELF64 kernel loader on synthetic images: segments land
 * at p_paddr with zeroed bss, and overlapping PT_LOAD segments are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_vm.h"

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/mem.h"
#include "core/vm.h"
#include "loaders/loader.h"

#define MiB (1ULL << 20)
#define SEG_MAX 40
#define IMG_MAX (0x1000 + SEG_MAX * 0x1000)

struct seg { uint64_t paddr, filesz, memsz; };

struct fx {
    struct vm vm;
    uint8_t img[IMG_MAX];
    size_t len;
    struct boot_entry e;
    char err[1024];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    fake_vm_init(&f->vm, 16 * MiB);
    memset(guest_ptr(&f->vm.mem, 0, 4 * MiB), 0xAA, 4 * MiB);   /* bss must be zeroed */
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    fake_vm_fini(&f->vm);
    free(f);
    return 0;
}

/* An ELF64 executable with n PT_LOAD segments, segment i's bytes at file
 * offset 0x1000 * (i + 1). */
static void make_elf(struct fx *f, const struct seg *s, int n, uint64_t entry)
{
    memset(f->img, 0, sizeof(f->img));
    f->len = 0x1000 + (size_t)n * 0x1000;
    Elf64_Ehdr h = { .e_type = ET_EXEC, .e_machine = EM_X86_64, .e_version = EV_CURRENT,
                     .e_entry = entry, .e_phoff = sizeof(Elf64_Ehdr),
                     .e_ehsize = sizeof(Elf64_Ehdr), .e_phentsize = sizeof(Elf64_Phdr),
                     .e_phnum = (Elf64_Half)n };
    memcpy(h.e_ident, ELFMAG, SELFMAG);
    h.e_ident[EI_CLASS] = ELFCLASS64;
    h.e_ident[EI_DATA] = ELFDATA2LSB;
    h.e_ident[EI_VERSION] = EV_CURRENT;
    memcpy(f->img, &h, sizeof(h));
    for (int i = 0; i < n; i++) {
        Elf64_Phdr p = { .p_type = PT_LOAD, .p_offset = 0x1000 + (uint64_t)i * 0x1000,
                         .p_vaddr = s[i].paddr, .p_paddr = s[i].paddr,
                         .p_filesz = s[i].filesz, .p_memsz = s[i].memsz };
        memcpy(f->img + sizeof(h) + (size_t)i * sizeof(p), &p, sizeof(p));
        for (uint32_t j = 0; j < 0x1000; j++)
            f->img[p.p_offset + j] = (uint8_t)(j * 7 + i + 1);
    }
}

/* elf_load with stderr captured into f->err. */
static int load(struct fx *f)
{
    struct capture c;
    capture_begin(&c);
    int r = elf_load(&f->vm, f->img, f->len, "k.elf", &f->e);
    capture_end(&c, f->err, sizeof(f->err));
    return r;
}

/* Exactly one line "mini-kvm: k.elf: ..." holding want. */
static void expect_error(struct fx *f, const char *want)
{
    assert_int_equal(load(f), -1);
    assert_true(strncmp(f->err, "mini-kvm: k.elf: ", 17) == 0);
    if (!strstr(f->err, want))
        fail_msg("'%s' lacks '%s'", f->err, want);
    assert_ptr_equal(strchr(f->err, '\n'), f->err + strlen(f->err) - 1);
}

static uint8_t *gp(struct fx *f, uint64_t gpa, uint64_t len)
{
    uint8_t *p = guest_ptr(&f->vm.mem, gpa, len);
    assert_non_null(p);
    return p;
}

static void test_two_segments_load(void **state)
{
    struct fx *f = *state;
    const struct seg s[] = { { 0x100000, 0x1000, 0x1000 }, { 0x101000, 0x100, 0x3000 } };
    make_elf(f, s, 2, 0x100010);
    assert_int_equal(load(f), 0);
    assert_string_equal(f->err, "");
    assert_memory_equal(gp(f, 0x100000, 0x1000), f->img + 0x1000, 0x1000);
    assert_memory_equal(gp(f, 0x101000, 0x100), f->img + 0x2000, 0x100);
    for (uint32_t i = 0x100; i < 0x3000; i++)
        assert_int_equal(*gp(f, 0x101000 + i, 1), 0);
    assert_int_equal(*gp(f, 0x104000, 1), 0xAA);
    assert_true(f->e.long_mode);
    assert_int_equal(f->e.rip, 0x100010);
}

static void test_overlapping_segments_refused(void **state)
{
    struct fx *f = *state;
    /* the second one's file bytes would overwrite the first one's */
    const struct seg inside[] = { { 0x100000, 0x100, 0x2000 }, { 0x101000, 0x100, 0x100 } };
    make_elf(f, inside, 2, 0x100000);
    expect_error(f, "segments 0x100000-0x102000 and 0x101000-0x101100 overlap");
    /* the first one's bss is the second one's start: still an overlap */
    const struct seg bss[] = { { 0x200000, 0x100, 0x1001 }, { 0x201000, 0x100, 0x100 } };
    make_elf(f, bss, 2, 0x200000);
    expect_error(f, "segments 0x200000-0x201001 and 0x201000-0x201100 overlap");
    /* a later segment below and across an earlier one */
    const struct seg below[] = { { 0x300000, 0x100, 0x100 }, { 0x2FF000, 0x100, 0x1001 } };
    make_elf(f, below, 2, 0x300000);
    expect_error(f, "overlap");
    /* touching ends are fine */
    const struct seg touch[] = { { 0x300000, 0x100, 0x1000 }, { 0x301000, 0x100, 0x100 } };
    make_elf(f, touch, 2, 0x300000);
    assert_int_equal(load(f), 0);
}

static void test_too_many_segments_refused(void **state)
{
    struct fx *f = *state;
    struct seg s[SEG_MAX];
    for (int i = 0; i < SEG_MAX; i++)
        s[i] = (struct seg){ 0x100000 + (uint64_t)i * 0x1000, 0x10, 0x10 };
    make_elf(f, s, SEG_MAX, 0x100000);
    expect_error(f, "more than 32 loadable segments");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_segments_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_overlapping_segments_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_too_many_segments_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
