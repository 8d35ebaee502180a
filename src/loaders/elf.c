/* elf.c - ELF64 kernel loader (our teaching OS): every header field is
 * checked against the file and every segment against guest RAM. */
#include "loader.h"
#include "core/util.h"
#include "core/vm.h"

#include <elf.h>
#include <string.h>

#define ELF_MAX_SEGMENTS 32     /* bounds the overlap check (ours have 2-3) */

/* Guest-physical ranges already loaded: a later PT_LOAD must not overwrite
 * an earlier one (which one wins would be an accident of header order). */
struct loaded {
    struct { uint64_t start, end; } seg[ELF_MAX_SEGMENTS];
    int n;
};

bool elf_is_elf(const uint8_t *img, size_t len)
{
    return len >= SELFMAG && memcmp(img, ELFMAG, SELFMAG) == 0;
}

static const char *check_header(const Elf64_Ehdr *h, size_t len)
{
    if (len < sizeof(*h))
        return "truncated ELF header";
    if (h->e_ident[EI_CLASS] != ELFCLASS64)
        return "not a 64-bit ELF file";
    if (h->e_ident[EI_DATA] != ELFDATA2LSB)
        return "not a little-endian ELF file";
    if (h->e_machine != EM_X86_64)
        return "ELF file is not for x86-64";
    if (h->e_type != ET_EXEC)
        return "ELF file is not an executable (ET_EXEC)";
    if (h->e_phentsize != sizeof(Elf64_Phdr) || h->e_phnum == 0)
        return "ELF file has no usable program headers";
    if (h->e_phoff > len || (uint64_t)h->e_phnum * sizeof(Elf64_Phdr) > len - h->e_phoff)
        return "program headers lie outside the file (truncated?)";
    return NULL;
}

/* Record [start, end) (inside RAM: no overflow), or -1 after one line. */
static int claim_range(struct loaded *l, uint64_t start, uint64_t end, const char *path)
{
    for (int i = 0; i < l->n; i++) {
        if (start < l->seg[i].end && l->seg[i].start < end) {
            errorf("%s: segments 0x%llx-0x%llx and 0x%llx-0x%llx overlap", path,
                   (unsigned long long)l->seg[i].start, (unsigned long long)l->seg[i].end,
                   (unsigned long long)start, (unsigned long long)end);
            return -1;
        }
    }
    if (l->n == ELF_MAX_SEGMENTS) {
        errorf("%s: more than %d loadable segments", path, ELF_MAX_SEGMENTS);
        return -1;
    }
    l->seg[l->n].start = start;
    l->seg[l->n++].end = end;
    return 0;
}

static int load_segment(struct vm *vm, const Elf64_Phdr *p, const uint8_t *img,
                        size_t len, const char *path, struct loaded *l)
{
    if (p->p_offset > len || p->p_filesz > len - p->p_offset) {
        errorf("%s: segment at offset 0x%llx lies outside the file (truncated?)", path,
               (unsigned long long)p->p_offset);
        return -1;
    }
    if (p->p_filesz > p->p_memsz) {
        errorf("%s: segment file size exceeds its memory size", path);
        return -1;
    }
    if (p->p_paddr < BOOT_AREA_END) {
        errorf("%s: segment at 0x%llx overlaps the boot area below 0x%x", path,
               (unsigned long long)p->p_paddr, BOOT_AREA_END);
        return -1;
    }
    uint8_t *dst = guest_ptr(&vm->mem, p->p_paddr, p->p_memsz);
    if (!dst) {
        errorf("%s: segment 0x%llx+0x%llx does not fit in guest RAM (try -m)", path,
               (unsigned long long)p->p_paddr, (unsigned long long)p->p_memsz);
        return -1;
    }
    if (claim_range(l, p->p_paddr, p->p_paddr + p->p_memsz, path))
        return -1;
    memcpy(dst, img + p->p_offset, p->p_filesz);
    memset(dst + p->p_filesz, 0, p->p_memsz - p->p_filesz);
    return 0;
}

int elf_load(struct vm *vm, const uint8_t *img, size_t len, const char *path,
             struct boot_entry *e)
{
    Elf64_Ehdr h;
    const char *bad = len < sizeof(h) ? "truncated ELF header" : NULL;
    if (!bad) {
        memcpy(&h, img, sizeof(h));     /* img may be unaligned */
        bad = check_header(&h, len);
    }
    if (bad) {
        errorf("%s: %s", path, bad);
        return -1;
    }
    struct loaded l = { .n = 0 };
    for (unsigned i = 0; i < h.e_phnum; i++) {
        Elf64_Phdr p;
        memcpy(&p, img + h.e_phoff + (size_t)i * sizeof(p), sizeof(p));
        if (p.p_type != PT_LOAD || p.p_memsz == 0)
            continue;
        if (load_segment(vm, &p, img, len, path, &l))
            return -1;
    }
    int loaded = l.n;
    if (!loaded || !guest_ptr(&vm->mem, h.e_entry, 1) || h.e_entry < BOOT_AREA_END) {
        errorf("%s: %s", path, loaded ? "entry point outside guest RAM" : "no loadable segment");
        return -1;
    }
    struct mkvm_boot_info bi = { .magic = MKVM_BOOT_MAGIC, .version = MKVM_BOOT_VERSION,
                                 .ram_size = vm->mem.r[0].size, .ncpus = 1 };
    if (guest_write(&vm->mem, ELF_BOOT_INFO, &bi, sizeof(bi)))
        return -1;
    *e = (struct boot_entry){ .long_mode = true, .rip = h.e_entry,
                              .rsp = BOOT_STACK_TOP, .rdi = ELF_BOOT_INFO };
    return 0;
}
