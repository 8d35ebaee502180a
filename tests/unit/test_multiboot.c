/* test_multiboot.c - the Multiboot loader on crafted images: header search,
 * flags, a.out-kludge bounds, ELF32 loading, modules and the info structure. */
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

#include "arch/acpi.h"
#include "core/mem.h"
#include "core/vm.h"
#include "loaders/multiboot.h"

#define MiB (1ULL << 20)
#define IMG_MAX 0x8000

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }

/* A header at off: magic, flags, checksum (+ delta to spoil it). */
static void put_header(uint8_t *img, size_t off, uint32_t flags, uint32_t delta)
{
    put32(img + off, MB_HEADER_MAGIC);
    put32(img + off + 4, flags);
    put32(img + off + 8, -(MB_HEADER_MAGIC + flags) + delta);
}

struct fx {
    struct vm vm;
    uint8_t img[IMG_MAX];
    size_t len;
    struct boot_entry e;
    char err[1024];
};

static int setup_ram(void **state, uint64_t ram)
{
    struct fx *f = calloc(1, sizeof(*f));
    fake_vm_init(&f->vm, ram);
    /* Not zero, so that zeroed bss is the loader's doing. */
    memset(guest_ptr(&f->vm.mem, 0, 4 * MiB), 0xAA, 4 * MiB);
    *state = f;
    return 0;
}

static int setup(void **state) { return setup_ram(state, 64 * MiB); }
static int setup_4g(void **state) { return setup_ram(state, 4096 * MiB); }

static int teardown(void **state)
{
    struct fx *f = *state;
    fake_vm_fini(&f->vm);
    free(f);
    return 0;
}

static uint8_t *gp(struct fx *f, uint64_t gpa, uint64_t len)
{
    uint8_t *p = guest_ptr(&f->vm.mem, gpa, len);
    assert_non_null(p);
    return p;
}

/* multiboot_load with stderr captured into f->err. */
static int load_mods(struct fx *f, const char *cmdline, const struct mb_module *mods, int n)
{
    struct capture c;
    capture_begin(&c);
    int r = multiboot_load(&f->vm, f->img, f->len, "k.elf", cmdline, mods, n, &f->e);
    capture_end(&c, f->err, sizeof(f->err));
    return r;
}

static int load(struct fx *f) { return load_mods(f, NULL, NULL, 0); }

/* Exactly one line "mini-kvm: k.elf: ..." holding want. */
static void expect_error(struct fx *f, const char *want)
{
    assert_int_equal(load(f), -1);
    assert_true(strncmp(f->err, "mini-kvm: k.elf: ", 17) == 0);
    if (!strstr(f->err, want))
        fail_msg("'%s' lacks '%s'", f->err, want);
    assert_ptr_equal(strchr(f->err, '\n'), f->err + strlen(f->err) - 1);
}

/* ---- an a.out-kludge image: header at 0x40, loaded at 1 MiB ---- */

#define AOUT_BASE 0x100000u

static void make_aout(struct fx *f, uint32_t flags, uint32_t load_end, uint32_t bss_end)
{
    f->len = 0x3000;
    for (size_t i = 0; i < f->len; i++)
        f->img[i] = (uint8_t)(i * 13 + 1);
    put_header(f->img, 0x40, flags | MB_FLAG_AOUT, 0);
    put32(f->img + 0x4C, AOUT_BASE + 0x40);     /* header_addr */
    put32(f->img + 0x50, AOUT_BASE);            /* load_addr */
    put32(f->img + 0x54, load_end);
    put32(f->img + 0x58, bss_end);
    put32(f->img + 0x5C, AOUT_BASE + 0x80);     /* entry_addr */
}

static void set_aout_field(struct fx *f, int field, uint32_t v)
{
    put32(f->img + 0x4C + 4 * field, v);        /* 0 header_addr .. 4 entry_addr */
}

/* ---- an ELF32 image: segments' bytes at 0x1000 + i * 0x1000 ---- */

struct seg { uint32_t paddr, vaddr, filesz, memsz; };

static void make_elf(struct fx *f, uint32_t flags, const struct seg *s, int n, uint32_t entry)
{
    memset(f->img, 0, sizeof(f->img));
    f->len = 0x1000 + (size_t)n * 0x1000;
    Elf32_Ehdr h = { .e_type = ET_EXEC, .e_machine = EM_386, .e_version = EV_CURRENT,
                     .e_entry = entry, .e_phoff = sizeof(Elf32_Ehdr),
                     .e_ehsize = sizeof(Elf32_Ehdr), .e_phentsize = sizeof(Elf32_Phdr),
                     .e_phnum = (Elf32_Half)n };
    memcpy(h.e_ident, ELFMAG, SELFMAG);
    h.e_ident[EI_CLASS] = ELFCLASS32;
    h.e_ident[EI_DATA] = ELFDATA2LSB;
    h.e_ident[EI_VERSION] = EV_CURRENT;
    memcpy(f->img, &h, sizeof(h));
    for (int i = 0; i < n; i++) {
        Elf32_Phdr p = { .p_type = PT_LOAD, .p_offset = 0x1000 + (uint32_t)i * 0x1000,
                         .p_vaddr = s[i].vaddr, .p_paddr = s[i].paddr,
                         .p_filesz = s[i].filesz, .p_memsz = s[i].memsz };
        memcpy(f->img + sizeof(h) + (size_t)i * sizeof(p), &p, sizeof(p));
        for (uint32_t j = 0; j < 0x1000; j++)
            f->img[p.p_offset + j] = (uint8_t)(j * 7 + i + 1);
    }
    put_header(f->img, 0x200, flags, 0);
}

static const struct seg one_seg[] = { { 0x100000, 0x100000, 0x800, 0x2000 } };

/* ---- header search ---- */

static void test_find_at_various_offsets(void **state)
{
    (void)state;
    static uint8_t img[3 * 4096];
    static const size_t offs[] = { 0, 4, 0x200, 0x1000, MB_SEARCH_LEN - 12 };
    for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
        memset(img, 0, sizeof(img));
        put_header(img, offs[i], 0x3, 0);
        struct mb_header h;
        assert_int_equal(multiboot_find(img, sizeof(img), &h), MB_FOUND);
        assert_int_equal(h.offset, offs[i]);
        assert_int_equal(h.flags, 0x3);
        /* ...also when the file ends right after the header */
        assert_int_equal(multiboot_find(img, offs[i] + 12, &h), MB_FOUND);
        assert_int_equal(multiboot_find(img, offs[i] + 11, &h), MB_NONE);
    }
}

static void test_not_found(void **state)
{
    (void)state;
    static uint8_t img[3 * 4096];
    struct mb_header h;
    assert_int_equal(multiboot_find(img, sizeof(img), &h), MB_NONE);
    assert_int_equal(multiboot_find(img, 0, &h), MB_NONE);
    put_header(img, MB_SEARCH_LEN, 0, 0);           /* past the first 8 KiB */
    assert_int_equal(multiboot_find(img, sizeof(img), &h), MB_TOO_FAR);
    assert_int_equal(h.offset, MB_SEARCH_LEN);
    char msg[96];
    assert_non_null(strstr(multiboot_problem(MB_TOO_FAR, &h, msg, sizeof(msg)),
                           "offset 0x2000 lies past the first 8 KiB"));
    memset(img, 0, sizeof(img));
    put_header(img, MB_SEARCH_LEN - 8, 0, 0);       /* checksum beyond 8 KiB */
    assert_int_equal(multiboot_find(img, sizeof(img), &h), MB_TOO_FAR);
    assert_int_equal(h.offset, MB_SEARCH_LEN - 8);
    memset(img, 0, sizeof(img));
    put_header(img, MB_SEARCH_LEN - 8, 0, 1);       /* ...and a bad one there is nothing */
    assert_int_equal(multiboot_find(img, sizeof(img), &h), MB_NONE);
    memset(img, 0, sizeof(img));
    for (size_t off = 1; off < 4; off++) {          /* misaligned */
        put_header(img, 0x100 + off, 0, 0);
        assert_int_equal(multiboot_find(img, sizeof(img), &h), MB_NONE);
        memset(img, 0, sizeof(img));
    }
}

static void test_bad_checksum(void **state)
{
    (void)state;
    static uint8_t img[4096];
    struct mb_header h;
    put_header(img, 0x100, 0x3, 1);
    assert_int_equal(multiboot_find(img, sizeof(img), &h), MB_BAD_CHECKSUM);
    assert_int_equal(h.offset, 0x100);
    char msg[96];
    assert_non_null(strstr(multiboot_problem(MB_BAD_CHECKSUM, &h, msg, sizeof(msg)),
                           "offset 0x100 has a bad checksum"));
    /* a stray magic before the real header does not hide it */
    put_header(img, 0x200, 0x3, 0);
    assert_int_equal(multiboot_find(img, sizeof(img), &h), MB_FOUND);
    assert_int_equal(h.offset, 0x200);
}

/* With flag 16 the address fields must be inside the file and the 8 KiB. */
static void test_aout_fields_cut_off(void **state)
{
    (void)state;
    static uint8_t img[3 * 4096];
    struct mb_header h;
    put_header(img, MB_SEARCH_LEN - 16, MB_FLAG_AOUT, 0);
    assert_int_equal(multiboot_find(img, sizeof(img), &h), MB_CUT_OFF);
    memset(img, 0, sizeof(img));
    put_header(img, 0x100, MB_FLAG_AOUT, 0);
    assert_int_equal(multiboot_find(img, 0x100 + 20, &h), MB_CUT_OFF);
    assert_int_equal(multiboot_find(img, 0x100 + 32, &h), MB_FOUND);
}

/* ---- flags ---- */

static void test_unknown_required_flag_refused(void **state)
{
    struct fx *f = *state;
    make_elf(f, 0x3 | (1u << 3), one_seg, 1, 0x100000);
    expect_error(f, "requires flags 0x8 that mini-kvm does not support");
    make_elf(f, 1u << 15, one_seg, 1, 0x100000);
    expect_error(f, "requires flags 0x8000");
}

static void test_video_and_optional_flags_accepted(void **state)
{
    struct fx *f = *state;
    make_elf(f, MB_FLAG_VIDEO | MB_FLAG_MEMINFO | (1u << 17) | (1u << 31), one_seg, 1, 0x100000);
    assert_int_equal(load(f), 0);
    assert_string_equal(f->err, "");
    uint32_t flags = get32(gp(f, MB_INFO_ADDR, 4));
    assert_int_equal(flags & ((1u << 11) | (1u << 12)), 0);    /* no VBE/framebuffer info */
}

/* ---- a.out kludge ---- */

static void test_aout_load(void **state)
{
    struct fx *f = *state;
    make_aout(f, 0, AOUT_BASE + 0x2000, AOUT_BASE + 0x5000);
    assert_int_equal(load(f), 0);
    assert_string_equal(f->err, "");
    assert_memory_equal(gp(f, AOUT_BASE, 0x2000), f->img, 0x2000);
    for (uint32_t i = 0x2000; i < 0x5000; i++)      /* bss zeroed, nothing past it */
        assert_int_equal(*gp(f, AOUT_BASE + i, 1), 0);
    assert_int_equal(*gp(f, AOUT_BASE + 0x5000, 1), 0xAA);
    assert_true(f->e.prot32);
    assert_int_equal(f->e.eip, AOUT_BASE + 0x80);
    assert_int_equal(f->e.eax, MB_BOOT_MAGIC);
    assert_int_equal(f->e.ebx, MB_INFO_ADDR);
    assert_int_equal(f->e.esp, MB_STACK_TOP);
}

static void test_aout_load_end_zero_means_whole_file(void **state)
{
    struct fx *f = *state;
    make_aout(f, 0, 0, 0);
    assert_int_equal(load(f), 0);
    assert_memory_equal(gp(f, AOUT_BASE, f->len), f->img, f->len);
    assert_int_equal(*gp(f, AOUT_BASE + f->len, 1), 0xAA);    /* no bss */
}

static void test_aout_bounds(void **state)
{
    struct fx *f = *state;
    make_aout(f, 0, AOUT_BASE + 0x3001, 0);         /* one byte past the file */
    expect_error(f, "load_end_addr lies past the end of the file");
    make_aout(f, 0, AOUT_BASE + 0x2000, AOUT_BASE + 0x1000);
    expect_error(f, "bss_end_addr lies below the end of the loaded range");
    make_aout(f, 0, AOUT_BASE - 4, 0);
    expect_error(f, "load_end_addr is not above load_addr");
    make_aout(f, 0, 0, 0);
    set_aout_field(f, 1, AOUT_BASE + 0x44);         /* load_addr above header_addr */
    expect_error(f, "load_addr lies above header_addr");
    make_aout(f, 0, 0, 0);
    set_aout_field(f, 1, AOUT_BASE - 0x1000);       /* would start 0xFC0 before the file */
    expect_error(f, "before the beginning of the file");
    make_aout(f, 0, AOUT_BASE + 0x20, 0);           /* the header itself is not loaded */
    expect_error(f, "header_addr lies outside the loaded range");
    make_aout(f, 0, 0, 0);
    set_aout_field(f, 4, AOUT_BASE + 0x3000);       /* entry just past the image */
    expect_error(f, "entry point 0x103000 is not in a loaded segment");
}

static void test_aout_placement_checked(void **state)
{
    struct fx *f = *state;
    make_aout(f, 0, 0, 0);
    set_aout_field(f, 0, 0x8040);                   /* into mini-kvm's boot area */
    set_aout_field(f, 1, 0x8000);
    set_aout_field(f, 4, 0x8080);
    expect_error(f, "overlaps memory mini-kvm uses");
    make_aout(f, 0, 0, 0);
    set_aout_field(f, 0, 0x9F040);                  /* across the EBDA */
    set_aout_field(f, 1, 0x9F000);
    set_aout_field(f, 4, 0x9F080);
    expect_error(f, "overlaps memory mini-kvm uses");
    make_aout(f, 0, 0, 0);
    set_aout_field(f, 0, 0x3FFF040);                /* past the end of 64 MiB */
    set_aout_field(f, 1, 0x3FFF000);
    set_aout_field(f, 4, 0x3FFF080);
    expect_error(f, "does not fit in guest RAM");
    make_aout(f, 0, 0, 0xFFFFFFFF);                 /* bss past 4 GiB */
    expect_error(f, "does not fit in guest RAM");
}

/* ---- ELF32 ---- */

static void test_elf32_load(void **state)
{
    struct fx *f = *state;
    const struct seg s[] = { { 0x100000, 0x80100000, 0x1000, 0x1000 },
                             { 0x200000, 0x80200000, 0x100, 0x3000 } };
    make_elf(f, 0x3, s, 2, 0x8010000C);             /* a higher-half entry */
    assert_int_equal(load(f), 0);
    assert_string_equal(f->err, "");
    assert_memory_equal(gp(f, 0x100000, 0x1000), f->img + 0x1000, 0x1000);
    assert_memory_equal(gp(f, 0x200000, 0x100), f->img + 0x2000, 0x100);
    for (uint32_t i = 0x100; i < 0x3000; i++)
        assert_int_equal(*gp(f, 0x200000 + i, 1), 0);
    assert_int_equal(*gp(f, 0x203000, 1), 0xAA);
    assert_int_equal(f->e.eip, 0x10000C);           /* translated to p_paddr */
}

static void test_elf32_errors(void **state)
{
    struct fx *f = *state;
    make_elf(f, 0, one_seg, 1, 0x100000);
    f->img[EI_CLASS] = ELFCLASS64;
    expect_error(f, "not a 32-bit ELF file");
    make_elf(f, 0, one_seg, 1, 0x100000);
    f->img[18] = EM_X86_64;
    expect_error(f, "not a little-endian i386 ELF file");
    make_elf(f, 0, one_seg, 1, 0x100000);
    memcpy(f->img, "\x7f" "ELG", 4);
    expect_error(f, "not ELF and has no a.out-kludge addresses");
    make_elf(f, 0, one_seg, 1, 0x100000);
    f->len = 0x1000 + 0x7FF;                        /* segment cut short */
    expect_error(f, "segment at offset 0x1000 lies outside the file (truncated?)");
    const struct seg overlap[] = { { 0x100000, 0x100000, 0x100, 0x2000 },
                                   { 0x101000, 0x101000, 0x100, 0x100 } };
    make_elf(f, 0, overlap, 2, 0x100000);
    expect_error(f, "segments 0x100000-0x102000 and 0x101000-0x101100 overlap");
    const struct seg bios[] = { { 0xF0000, 0xF0000, 0x100, 0x100 } };
    make_elf(f, 0, bios, 1, 0xF0000);
    expect_error(f, "segment 0xf0000-0xf0100 overlaps memory mini-kvm uses");
    const struct seg info[] = { { MB_INFO_ADDR, MB_INFO_ADDR, 0x100, 0x100 } };
    make_elf(f, 0, info, 1, MB_INFO_ADDR);
    expect_error(f, "overlaps memory mini-kvm uses");
    const struct seg big[] = { { 0x100000, 0x100000, 0x100, 0xFFF00000 } };
    make_elf(f, 0, big, 1, 0x100000);
    expect_error(f, "does not fit in guest RAM");
    const struct seg none[] = { { 0x100000, 0x100000, 0, 0 } };
    make_elf(f, 0, none, 1, 0x100000);
    expect_error(f, "no loadable segment");
    make_elf(f, 0, one_seg, 1, 0x300000);
    expect_error(f, "entry point 0x300000 is not in a loaded segment");
}

/* A bss-only segment is not read from the file, whatever its p_offset. */
static void test_elf32_bss_only_segment(void **state)
{
    struct fx *f = *state;
    const struct seg s[] = { { 0x100000, 0x100000, 0x100, 0x100 },
                             { 0x200000, 0x200000, 0, 0x2000 } };
    make_elf(f, 0, s, 2, 0x100000);
    Elf32_Phdr p;
    memcpy(&p, f->img + sizeof(Elf32_Ehdr) + sizeof(p), sizeof(p));
    p.p_offset = 0xFFFFFF00;
    memcpy(f->img + sizeof(Elf32_Ehdr) + sizeof(p), &p, sizeof(p));
    assert_int_equal(load(f), 0);
    for (uint32_t i = 0; i < 0x2000; i++)
        assert_int_equal(*gp(f, 0x200000 + i, 1), 0);
}

/* A segment below 0x9FC00 but above mini-kvm's area is fine. */
static void test_elf32_low_memory_allowed(void **state)
{
    struct fx *f = *state;
    const struct seg low[] = { { MB_AREA_END, MB_AREA_END, 0x100, 0x1000 } };
    make_elf(f, 0, low, 1, MB_AREA_END);
    assert_int_equal(load(f), 0);
    assert_string_equal(f->err, "");
}

/* ---- the information structure ---- */

static void test_info_structure(void **state)
{
    struct fx *f = *state;
    make_elf(f, 0x3, one_seg, 1, 0x100000);         /* kernel ends at 0x102000 */
    static const char m0[] = "first module", m1[] = "second, longer module\n";
    const struct mb_module mods[] = { { (const uint8_t *)m0, sizeof(m0) - 1, "dir/m0.txt" },
                                      { (const uint8_t *)m1, sizeof(m1) - 1, "m1" } };
    assert_int_equal(load_mods(f, "console=ttyS0 exit=5", mods, 2), 0);
    assert_string_equal(f->err, "");
    struct mb_info info;
    memcpy(&info, gp(f, MB_INFO_ADDR, sizeof(info)), sizeof(info));
    assert_int_equal(info.flags, MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MODS |
                                 MB_INFO_MMAP | MB_INFO_LOADER_NAME);
    assert_int_equal(info.mem_lower, 639);
    assert_int_equal(info.mem_upper, 63 * 1024);
    assert_string_equal((char *)gp(f, info.cmdline, 1), "k.elf console=ttyS0 exit=5");
    assert_string_equal((char *)gp(f, info.boot_loader_name, 1), "mini-kvm");
    assert_true(info.cmdline >= MB_STRINGS_ADDR && info.cmdline < MB_STRINGS_END);
    assert_int_equal(info.boot_device, 0);
    assert_int_equal(info.vbe_control_info, 0);
    assert_int_equal(get32(gp(f, MB_INFO_ADDR + 88, 4)), 0);   /* framebuffer_addr */
    /* modules: page aligned after the kernel, end exclusive, strings as given */
    assert_int_equal(info.mods_count, 2);
    assert_int_equal(info.mods_addr, MB_MODS_ADDR);
    struct mb_mod m[2];
    memcpy(m, gp(f, info.mods_addr, sizeof(m)), sizeof(m));
    assert_int_equal(m[0].mod_start, 0x102000);
    assert_int_equal(m[0].mod_end, 0x102000 + sizeof(m0) - 1);
    assert_int_equal(m[1].mod_start, 0x103000);
    assert_int_equal(m[1].mod_end, 0x103000 + sizeof(m1) - 1);
    assert_memory_equal(gp(f, m[0].mod_start, sizeof(m0) - 1), m0, sizeof(m0) - 1);
    assert_memory_equal(gp(f, m[1].mod_start, sizeof(m1) - 1), m1, sizeof(m1) - 1);
    assert_string_equal((char *)gp(f, m[0].string, 1), "dir/m0.txt");
    assert_string_equal((char *)gp(f, m[1].string, 1), "m1");
    /* memory map: low RAM, EBDA, BIOS area, RAM from 1 MiB to the top */
    assert_int_equal(info.mmap_addr, MB_MMAP_ADDR);
    assert_int_equal(info.mmap_length, 4 * 24);
    struct mb_mmap_entry e[4];
    memcpy(e, gp(f, info.mmap_addr, sizeof(e)), sizeof(e));
    const struct mb_mmap_entry want[4] = {
        { 20, 0, 0x9FC00, 1 }, { 20, 0x9FC00, 0x400, 2 },
        { 20, ACPI_AREA_START, 0x100000 - ACPI_AREA_START, 2 },
        { 20, 0x100000, 63 * MiB, 1 },
    };
    for (int i = 0; i < 4; i++) {
        assert_int_equal(e[i].size, 20);
        assert_int_equal(e[i].base, want[i].base);
        assert_int_equal(e[i].len, want[i].len);
        assert_int_equal(e[i].type, want[i].type);
    }
    /* mem_upper is covered by the region at 1 MiB (what mbtest checks) */
    assert_true(e[3].len >= (uint64_t)info.mem_upper * 1024);
}

static void test_info_without_cmdline_or_modules(void **state)
{
    struct fx *f = *state;
    make_elf(f, 0, one_seg, 1, 0x100000);
    assert_int_equal(load(f), 0);
    struct mb_info info;
    memcpy(&info, gp(f, MB_INFO_ADDR, sizeof(info)), sizeof(info));
    assert_string_equal((char *)gp(f, info.cmdline, 1), "k.elf");
    assert_int_equal(info.mods_count, 0);
    assert_true(info.flags & MB_INFO_MODS);
}

/* 4 GiB of RAM: 3 GiB below the hole, 1 GiB above 4 GiB. */
static void test_mmap_above_4g(void **state)
{
    struct fx *f = *state;
    make_elf(f, 0, one_seg, 1, 0x100000);
    assert_int_equal(load(f), 0);
    struct mb_info info;
    memcpy(&info, gp(f, MB_INFO_ADDR, sizeof(info)), sizeof(info));
    assert_int_equal(info.mem_upper, (3072 - 1) * 1024);
    assert_int_equal(info.mmap_length, 5 * 24);
    struct mb_mmap_entry e[5];
    memcpy(e, gp(f, info.mmap_addr, sizeof(e)), sizeof(e));
    assert_int_equal(e[3].base, 0x100000);
    assert_int_equal(e[3].len, MEM_HOLE_START - 0x100000);
    assert_int_equal(e[4].base, MEM_HOLE_END);
    assert_int_equal(e[4].len, 1024 * MiB);
    assert_int_equal(e[4].type, MB_MMAP_AVAILABLE);
}

static void test_module_and_cmdline_limits(void **state)
{
    struct fx *f = *state;
    make_elf(f, 0, one_seg, 1, 0x100000);
    static uint8_t big[1];
    const struct mb_module huge = { big, 64 * MiB, "huge.img" };   /* len only: never read */
    assert_int_equal(load_mods(f, NULL, &huge, 1), -1);
    assert_non_null(strstr(f->err, "mini-kvm: huge.img: module does not fit in guest RAM"));
    size_t n = MB_STRINGS_END - MB_STRINGS_ADDR;
    char *line = malloc(n + 1);
    memset(line, 'x', n);
    line[n] = '\0';
    assert_int_equal(load_mods(f, line, NULL, 0), -1);
    assert_non_null(strstr(f->err, "mini-kvm: k.elf: command line too long"));
    free(line);
    struct mb_module nine[MB_MAX_MODULES + 1];
    for (int i = 0; i <= MB_MAX_MODULES; i++)
        nine[i] = (struct mb_module){ big, 1, "m" };
    assert_int_equal(load_mods(f, NULL, nine, MB_MAX_MODULES + 1), -1);
    assert_non_null(strstr(f->err, "at most 8 modules"));
}

static void test_ram_too_small(void **state)
{
    struct fx *f = *state;
    mem_free(&f->vm.mem);
    assert_int_equal(mem_init(&f->vm.mem, MiB), 0);
    make_elf(f, 0, one_seg, 1, 0x100000);
    expect_error(f, "needs more than 1 MiB of guest RAM");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find_at_various_offsets),
        cmocka_unit_test(test_not_found),
        cmocka_unit_test(test_bad_checksum),
        cmocka_unit_test(test_aout_fields_cut_off),
        cmocka_unit_test_setup_teardown(test_unknown_required_flag_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_video_and_optional_flags_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aout_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aout_load_end_zero_means_whole_file, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_aout_bounds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aout_placement_checked, setup, teardown),
        cmocka_unit_test_setup_teardown(test_elf32_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_elf32_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_elf32_bss_only_segment, setup, teardown),
        cmocka_unit_test_setup_teardown(test_elf32_low_memory_allowed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_info_structure, setup, teardown),
        cmocka_unit_test_setup_teardown(test_info_without_cmdline_or_modules, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mmap_above_4g, setup_4g, teardown),
        cmocka_unit_test_setup_teardown(test_module_and_cmdline_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ram_too_small, setup, teardown),
    };
    return cmocka_run_group_tests_name("multiboot", tests, NULL, NULL);
}
