/* multiboot.c - Multiboot (v1) loader: find the header, load ELF32 segments or
 * the a.out-kludge range, place modules, write the information structure. */
#include "multiboot.h"
#include "arch/acpi.h"
#include "arch/x86.h"
#include "core/util.h"
#include "core/vm.h"

#include <elf.h>
#include <stdio.h>
#include <string.h>

#define PAGE 4096ULL
#define FOUR_GIB (1ULL << 32)

_Static_assert(sizeof(struct mb_info) == 88, "multiboot info layout (spec 3.3)");
_Static_assert(sizeof(struct mb_mmap_entry) == 24, "multiboot mmap entry layout");
_Static_assert(MB_GDT_ADDR == X86_GDT_ADDR, "x86_enter_prot32 writes the GDT there");
_Static_assert(X86_GDT_ADDR + 32 <= MB_INFO_ADDR, "the GDT fits below the info structure");
_Static_assert(MB_MODS_ADDR + MB_MAX_MODULES * sizeof(struct mb_mod) <= MB_LOADER_NAME,
               "module list overlaps the loader name");

/* What the kernel occupies, for overlap checks and for placing modules. */
struct mb_kernel {
    struct { uint64_t start, end; } seg[MB_MAX_SEGMENTS];
    int nseg;
    uint64_t end;               /* highest byte + 1, bss included */
    uint32_t entry;
};

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
    return (v + a - 1) & ~(a - 1);
}

/* A linker script that puts a note section first can push the header past
 * 8 KiB (the spec's limit, which GRUB and QEMU enforce too): find such a
 * header only to name the problem. */
static enum mb_search find_too_far(const uint8_t *img, size_t len, struct mb_header *h)
{
    size_t end = len < MB_FAR_LEN ? len : MB_FAR_LEN;
    for (size_t off = MB_SEARCH_LEN - 8; off + 12 <= end; off += 4) {
        if (get32(img + off) == MB_HEADER_MAGIC &&
            (uint32_t)(MB_HEADER_MAGIC + get32(img + off + 4) + get32(img + off + 8)) == 0) {
            h->offset = off;
            return MB_TOO_FAR;
        }
    }
    return MB_NONE;
}

enum mb_search multiboot_find(const uint8_t *img, size_t len, struct mb_header *h)
{
    enum mb_search res = MB_NONE;
    size_t end = len < MB_SEARCH_LEN ? len : MB_SEARCH_LEN;
    for (size_t off = 0; off + 12 <= end; off += 4) {
        if (get32(img + off) != MB_HEADER_MAGIC)
            continue;
        uint32_t flags = get32(img + off + 4);
        /* The checksum makes magic + flags + checksum wrap to zero. */
        bool sum_ok = (uint32_t)(MB_HEADER_MAGIC + flags + get32(img + off + 8)) == 0;
        if (!sum_ok || ((flags & MB_FLAG_AOUT) && off + 32 > end)) {
            if (res == MB_NONE) {   /* keep looking: this may be data, not the header */
                h->offset = off;
                res = sum_ok ? MB_CUT_OFF : MB_BAD_CHECKSUM;
            }
            continue;
        }
        const uint8_t *p = img + off;
        *h = (struct mb_header){ .magic = MB_HEADER_MAGIC, .flags = flags,
                                 .checksum = get32(p + 8), .offset = off };
        if (flags & MB_FLAG_AOUT) {
            h->header_addr = get32(p + 12);
            h->load_addr = get32(p + 16);
            h->load_end_addr = get32(p + 20);
            h->bss_end_addr = get32(p + 24);
            h->entry_addr = get32(p + 28);
        }
        return MB_FOUND;
    }
    return res != MB_NONE ? res : find_too_far(img, len, h);
}

const char *multiboot_problem(enum mb_search s, const struct mb_header *h, char *msg,
                              size_t n)
{
    switch (s) {
    case MB_FOUND: return "multiboot header found";
    case MB_NONE: return "no multiboot header in the first 8 KiB";
    case MB_BAD_CHECKSUM:
        snprintf(msg, n, "multiboot header at offset 0x%zx has a bad checksum",
                 h->offset);
        return msg;
    case MB_TOO_FAR:
        snprintf(msg, n, "multiboot header at offset 0x%zx lies past the first 8 KiB "
                 "(see docs/multiboot.md)", h->offset);
        return msg;
    case MB_CUT_OFF:
        snprintf(msg, n, "multiboot header at offset 0x%zx runs past the first "
                 "8 KiB or the file", h->offset);
        return msg;
    }
    return "?";
}

/* Copy filesz bytes of src to [addr, addr+memsz) and zero the rest (bss),
 * after checking the range against RAM, mini-kvm's areas and the kernel's
 * other pieces. */
static int place(struct vm *vm, struct mb_kernel *k, const char *path, uint64_t addr,
                 uint64_t memsz, const uint8_t *src, uint64_t filesz)
{
    uint64_t end = addr + memsz;    /* both below 2^32: no overflow */
    if (end > FOUR_GIB) {
        errorf("%s: segment 0x%llx+0x%llx runs past 4 GiB", path, (unsigned long long)addr,
               (unsigned long long)memsz);
        return -1;
    }
    if (addr < MB_AREA_END || (addr < MB_HIGH_START && end > MB_LOW_RESERVED)) {
        errorf("%s: segment 0x%llx-0x%llx overlaps memory mini-kvm uses (below 0x%x, "
               "0x%x-0xfffff)", path, (unsigned long long)addr, (unsigned long long)end,
               MB_AREA_END, MB_LOW_RESERVED);
        return -1;
    }
    for (int i = 0; i < k->nseg; i++) {
        if (addr < k->seg[i].end && k->seg[i].start < end) {
            errorf("%s: segments 0x%llx-0x%llx and 0x%llx-0x%llx overlap", path,
                   (unsigned long long)k->seg[i].start, (unsigned long long)k->seg[i].end,
                   (unsigned long long)addr, (unsigned long long)end);
            return -1;
        }
    }
    if (k->nseg == MB_MAX_SEGMENTS) {
        errorf("%s: more than %d loadable segments", path, MB_MAX_SEGMENTS);
        return -1;
    }
    uint8_t *dst = guest_ptr(&vm->mem, addr, memsz);
    if (!dst || end > MEM_HOLE_START) {
        errorf("%s: segment 0x%llx-0x%llx does not fit in guest RAM (try -m)", path,
               (unsigned long long)addr, (unsigned long long)end);
        return -1;
    }
    memcpy(dst, src, filesz);
    memset(dst + filesz, 0, memsz - filesz);
    k->seg[k->nseg].start = addr;
    k->seg[k->nseg++].end = end;
    if (end > k->end)
        k->end = end;
    return 0;
}

static const char *check_elf32(const Elf32_Ehdr *h, size_t len)
{
    if (memcmp(h->e_ident, ELFMAG, SELFMAG) != 0)
        return "multiboot kernel is not ELF and has no a.out-kludge addresses (flag 16)";
    if (h->e_ident[EI_CLASS] != ELFCLASS32)
        return "multiboot kernel is not a 32-bit ELF file (and has no a.out-kludge addresses)";
    if (h->e_ident[EI_DATA] != ELFDATA2LSB || h->e_machine != EM_386)
        return "multiboot kernel is not a little-endian i386 ELF file";
    if (h->e_type != ET_EXEC)
        return "multiboot kernel is not an ELF executable (ET_EXEC)";
    if (h->e_phentsize != sizeof(Elf32_Phdr) || h->e_phnum == 0)
        return "multiboot kernel has no usable program headers";
    if (h->e_phoff > len || (uint64_t)h->e_phnum * sizeof(Elf32_Phdr) > len - h->e_phoff)
        return "program headers lie outside the file (truncated?)";
    return NULL;
}

/* ELF32: PT_LOAD segments at p_paddr. A higher-half kernel's e_entry is a
 * virtual address: like GRUB, translate it through the segment holding it. */
static int load_elf32(struct vm *vm, const uint8_t *img, size_t len, const char *path,
                      struct mb_kernel *k)
{
    Elf32_Ehdr h;
    const char *bad = len < sizeof(h) ? "multiboot kernel: truncated ELF header" : NULL;
    if (!bad) {
        memcpy(&h, img, sizeof(h));
        bad = check_elf32(&h, len);
    }
    if (bad) {
        errorf("%s: %s", path, bad);
        return -1;
    }
    k->entry = h.e_entry;
    for (unsigned i = 0; i < h.e_phnum; i++) {
        Elf32_Phdr p;
        memcpy(&p, img + h.e_phoff + (size_t)i * sizeof(p), sizeof(p));
        if (p.p_type != PT_LOAD || p.p_memsz == 0)
            continue;
        /* A bss-only segment (p_filesz 0) may name any offset: not read. */
        if (p.p_filesz && (p.p_offset > len || p.p_filesz > len - p.p_offset)) {
            errorf("%s: segment at offset 0x%x lies outside the file (truncated?)", path,
                   p.p_offset);
            return -1;
        }
        if (p.p_filesz > p.p_memsz) {
            errorf("%s: segment file size exceeds its memory size", path);
            return -1;
        }
        if (place(vm, k, path, p.p_paddr, p.p_memsz, p.p_filesz ? img + p.p_offset : img,
                  p.p_filesz))
            return -1;
        if (h.e_entry >= p.p_vaddr && h.e_entry - p.p_vaddr < p.p_memsz)
            k->entry = h.e_entry - p.p_vaddr + p.p_paddr;
    }
    if (k->nseg == 0) {
        errorf("%s: multiboot kernel has no loadable segment", path);
        return -1;
    }
    return 0;
}

/* The a.out kludge (flag 16): file offset = header offset - (header_addr -
 * load_addr); load_end_addr 0 = to the end of the file; bss_end_addr 0 =
 * no bss. */
static int load_aout(struct vm *vm, const uint8_t *img, size_t len, const char *path,
                     const struct mb_header *h, struct mb_kernel *k)
{
    const char *bad = NULL;
    uint64_t skip = (uint64_t)h->header_addr - h->load_addr;
    uint64_t foff = h->offset - skip, filesz = 0, memsz;
    if (h->load_addr > h->header_addr)
        bad = "load_addr lies above header_addr";
    else if (skip > h->offset)
        bad = "load_addr would start before the beginning of the file";
    else if (h->load_end_addr == 0)
        filesz = len - foff;
    else if (h->load_end_addr <= h->load_addr)
        bad = "load_end_addr is not above load_addr";
    else if ((filesz = (uint64_t)h->load_end_addr - h->load_addr) > len - foff)
        bad = "load_end_addr lies past the end of the file (truncated?)";
    if (!bad && skip >= filesz)
        bad = "header_addr lies outside the loaded range";
    memsz = filesz;
    if (!bad && h->bss_end_addr) {
        if (h->bss_end_addr < h->load_addr + filesz)
            bad = "bss_end_addr lies below the end of the loaded range";
        else
            memsz = (uint64_t)h->bss_end_addr - h->load_addr;
    }
    if (bad) {
        errorf("%s: multiboot a.out kludge: %s (header_addr 0x%x, load_addr 0x%x, "
               "load_end_addr 0x%x, bss_end_addr 0x%x)", path, bad, h->header_addr,
               h->load_addr, h->load_end_addr, h->bss_end_addr);
        return -1;
    }
    k->entry = h->entry_addr;
    return place(vm, k, path, h->load_addr, memsz, img + foff, filesz);
}

/* Strings go one after another into [MB_STRINGS_ADDR, MB_STRINGS_END). */
struct strtab {
    struct vm *vm;
    uint32_t next;
};

/* Write a, then " " b when b is given; return the GPA, or 0 when full. */
static uint32_t put_string(struct strtab *t, const char *a, const char *b)
{
    size_t la = strlen(a), lb = b ? strlen(b) + 1 : 0;
    if (la + lb + 1 > MB_STRINGS_END - t->next)
        return 0;
    uint8_t *p = guest_ptr(&t->vm->mem, t->next, la + lb + 1);
    if (!p)
        return 0;
    memcpy(p, a, la);
    if (b) {
        p[la] = ' ';
        memcpy(p + la + 1, b, lb - 1);
    }
    p[la + lb] = '\0';
    uint32_t at = t->next;
    t->next += (uint32_t)(la + lb + 1);
    return at;
}

/* Modules go page-aligned above the kernel (and above 1 MiB), in order. */
static int place_modules(struct vm *vm, const struct mb_kernel *k, struct strtab *t,
                         const struct mb_module *mods, int nmods)
{
    uint64_t addr = align_up(k->end > MB_HIGH_START ? k->end : MB_HIGH_START, PAGE);
    for (int i = 0; i < nmods; i++) {
        uint8_t *dst = guest_ptr(&vm->mem, addr, mods[i].len);
        if (!dst || addr + mods[i].len > MEM_HOLE_START) {
            errorf("%s: module does not fit in guest RAM at 0x%llx (%zu bytes; try -m)",
                   mods[i].string, (unsigned long long)addr, mods[i].len);
            return -1;
        }
        memcpy(dst, mods[i].data, mods[i].len);
        struct mb_mod m = { .mod_start = (uint32_t)addr,
                            .mod_end = (uint32_t)(addr + mods[i].len),
                            .string = put_string(t, mods[i].string, NULL) };
        if (!m.string) {
            errorf("%s: command line and module names too long (%d bytes in all)",
                   mods[i].string, MB_STRINGS_END - MB_STRINGS_ADDR);
            return -1;
        }
        if (guest_write(&vm->mem, MB_MODS_ADDR + (uint64_t)i * sizeof(m), &m, sizeof(m)))
            return -1;
        addr = align_up(addr + mods[i].len, PAGE);
    }
    return 0;
}

/* The memory map, as the e820 map a Linux guest gets (bzimage.c): low RAM
 * up to the EBDA, the EBDA, the BIOS area (ACPI tables, MP tables) up to
 * 1 MiB, RAM from 1 MiB to the 3 GiB hole, and RAM moved above 4 GiB. */
static uint32_t write_mmap(struct vm *vm, uint64_t low)
{
    uint64_t ram = vm->mem.ram_size;
    struct mb_mmap_entry e[5] = {
        { 20, 0, MB_LOW_RESERVED, MB_MMAP_AVAILABLE },
        { 20, MB_LOW_RESERVED, LOW_MEM_END - MB_LOW_RESERVED, MB_MMAP_RESERVED },
        { 20, ACPI_AREA_START, MB_HIGH_START - ACPI_AREA_START, MB_MMAP_RESERVED },
        { 20, MB_HIGH_START, low - MB_HIGH_START, MB_MMAP_AVAILABLE },
        { 20, MEM_HOLE_END, ram - low, MB_MMAP_AVAILABLE },
    };
    uint32_t n = ram > low ? 5 : 4;
    if (guest_write(&vm->mem, MB_MMAP_ADDR, e, n * sizeof(e[0])))
        return 0;
    return n * (uint32_t)sizeof(e[0]);
}

static int write_info(struct vm *vm, const struct mb_kernel *k, const char *path,
                      const char *cmdline, const struct mb_module *mods, int nmods)
{
    uint64_t low = vm->mem.r[0].size;
    static const char name[] = "mini-kvm";
    struct strtab t = { vm, MB_STRINGS_ADDR };
    struct mb_info info = {
        .flags = MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MODS | MB_INFO_MMAP |
                 MB_INFO_LOADER_NAME,
        .mem_lower = MB_LOW_RESERVED / 1024,
        .mem_upper = (uint32_t)((low - MB_HIGH_START) / 1024),
        .cmdline = put_string(&t, path, cmdline),
        .mods_count = (uint32_t)nmods,
        .mods_addr = MB_MODS_ADDR,
        .mmap_addr = MB_MMAP_ADDR,
        .boot_loader_name = MB_LOADER_NAME,
    };
    if (!info.cmdline) {
        errorf("%s: command line too long (%d bytes at most)", path,
               MB_STRINGS_END - MB_STRINGS_ADDR - 1);
        return -1;
    }
    /* The 0.6.96 framebuffer fields follow the 88 bytes we fill: zero. */
    uint8_t *area = guest_ptr(&vm->mem, MB_INFO_ADDR, MB_MMAP_ADDR - MB_INFO_ADDR);
    if (!area || place_modules(vm, k, &t, mods, nmods) ||
        !(info.mmap_length = write_mmap(vm, low)) ||
        guest_write(&vm->mem, MB_LOADER_NAME, name, sizeof(name)))
        return -1;
    memset(area, 0, MB_MMAP_ADDR - MB_INFO_ADDR);
    return guest_write(&vm->mem, MB_INFO_ADDR, &info, sizeof(info));
}

/* Flags 0-15 are demands: one we do not know means we cannot boot the
 * kernel as it expects. Bit 0 (page-aligned modules) and bit 1 (memory
 * information) are always met. Bit 2 asks for a video mode; mini-kvm has
 * only the CGA text screen and, as the spec allows for a mode the loader
 * cannot set, boots anyway: the info structure has no VBE/framebuffer
 * fields (flags 11 and 12 clear), so the kernel knows it is in text mode. */
static int check_flags(const struct mb_header *h, const char *path)
{
    uint32_t unknown = h->flags & 0xFFFF & ~MB_FLAGS_KNOWN;
    if (unknown) {
        errorf("%s: multiboot header requires flags 0x%x that mini-kvm does not support "
               "(it knows bits 0-2 and 16)", path, unknown);
        return -1;
    }
    return 0;
}

int multiboot_load(struct vm *vm, const uint8_t *img, size_t len, const char *path,
                   const char *cmdline, const struct mb_module *mods, int nmods,
                   struct boot_entry *e)
{
    struct mb_header h;
    struct mb_kernel k = { .nseg = 0 };
    enum mb_search s = multiboot_find(img, len, &h);
    if (s != MB_FOUND) {
        char why[96];
        errorf("%s: %s", path, multiboot_problem(s, &h, why, sizeof(why)));
        return -1;
    }
    if (vm->mem.r[0].size <= MB_HIGH_START) {
        errorf("%s: a multiboot kernel needs more than 1 MiB of guest RAM (try -m)", path);
        return -1;
    }
    if (nmods > MB_MAX_MODULES) {
        errorf("%s: at most %d modules", path, MB_MAX_MODULES);
        return -1;
    }
    if (check_flags(&h, path) ||
        (h.flags & MB_FLAG_AOUT ? load_aout(vm, img, len, path, &h, &k)
                                : load_elf32(vm, img, len, path, &k)))
        return -1;
    bool inside = false;
    for (int i = 0; i < k.nseg; i++)
        inside |= k.entry >= k.seg[i].start && k.entry < k.seg[i].end;
    if (!inside) {
        errorf("%s: entry point 0x%x is not in a loaded segment", path, k.entry);
        return -1;
    }
    if (write_info(vm, &k, path, cmdline, mods, nmods))
        return -1;
    *e = (struct boot_entry){ .prot32 = true, .eip = k.entry, .esp = MB_STACK_TOP,
                              .eax = MB_BOOT_MAGIC, .ebx = MB_INFO_ADDR };
    return 0;
}
