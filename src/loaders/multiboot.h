/* multiboot.h - Multiboot (v1, spec 0.6.96) kernels: find and check the header,
 * load ELF32 or a.out-kludge images, modules, and the information structure. */
#ifndef MINI_KVM_MULTIBOOT_H
#define MINI_KVM_MULTIBOOT_H

#include "loader.h"

#include <stddef.h>
#include <stdint.h>

#define MB_HEADER_MAGIC 0x1BADB002u /* in the kernel image */
#define MB_BOOT_MAGIC   0x2BADB002u /* in EAX at entry */
#define MB_SEARCH_LEN   8192        /* the header lies wholly in the first 8 KiB */
#define MB_FAR_LEN      65536       /* how far we look for a misplaced one, to say so */

/* Header flags. Bits 0-15 are requirements: one we do not know refuses the
 * kernel. Bits 16-31 are optional features: unknown ones are ignored. */
#define MB_FLAG_PAGE_ALIGN (1u << 0)  /* modules on 4 KiB boundaries (always so) */
#define MB_FLAG_MEMINFO    (1u << 1)  /* mem_* and mmap_* (always given) */
#define MB_FLAG_VIDEO      (1u << 2)  /* a video mode: ignored, see multiboot.c */
#define MB_FLAG_AOUT       (1u << 16) /* the address fields below are valid */
#define MB_FLAGS_KNOWN     (MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMINFO | MB_FLAG_VIDEO)

/* Information structure flags mini-kvm sets. */
#define MB_INFO_MEMORY      (1u << 0)
#define MB_INFO_CMDLINE     (1u << 2)
#define MB_INFO_MODS        (1u << 3)
#define MB_INFO_MMAP        (1u << 6)
#define MB_INFO_LOADER_NAME (1u << 9)

#define MB_MMAP_AVAILABLE 1
#define MB_MMAP_RESERVED  2

/* Guest-physical layout of a multiboot boot: MB_* in layout.h. */
#define MB_MAX_MODULES   8
#define MB_MAX_SEGMENTS  16

/* The header as found in the image; offset = its position in the file. */
struct mb_header {
    uint32_t magic, flags, checksum;
    uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
    size_t offset;
};

enum mb_search {
    MB_NONE,            /* no magic in the first 8 KiB: not a multiboot kernel */
    MB_FOUND,           /* a header with a valid checksum; *h filled */
    MB_BAD_CHECKSUM,    /* a magic, but no valid checksum; h->offset = where */
    MB_CUT_OFF,         /* a valid header whose a.out fields pass 8 KiB or the file */
    MB_TOO_FAR,         /* none in 8 KiB, but a valid one further on (up to 64 KiB) */
};

/* Look for the header: 4-byte aligned, wholly within the first 8 KiB and
 * the file (with flag 16, the address fields too). */
enum mb_search multiboot_find(const uint8_t *img, size_t len, struct mb_header *h);

/* What is wrong with a search result other than MB_FOUND, for a message
 * naming h->offset; formatted into msg (n bytes) when needed. */
const char *multiboot_problem(enum mb_search s, const struct mb_header *h, char *msg,
                              size_t n);

/* The information structure (spec section 3.3), as mini-kvm fills it. */
struct mb_info {
    uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
    uint32_t mods_count, mods_addr, syms[4];
    uint32_t mmap_length, mmap_addr, drives_length, drives_addr;
    uint32_t config_table, boot_loader_name, apm_table;
    uint32_t vbe_control_info, vbe_mode_info;
    uint16_t vbe_mode, vbe_interface_seg, vbe_interface_off, vbe_interface_len;
};

struct mb_mmap_entry {              /* `size` excludes itself: 20 */
    uint32_t size;
    uint64_t base, len;
    uint32_t type;
} __attribute__((packed));

struct mb_mod {
    uint32_t mod_start, mod_end;    /* end is exclusive, as GRUB and QEMU do */
    uint32_t string, reserved;
};

/* A module the caller has read: data/len, and the string the kernel sees. */
struct mb_module {
    const uint8_t *data;
    size_t len;
    const char *string;
};

/* Load the kernel img (from `path`), its modules and the information
 * structure (command line: "path cmdline", or "path" when cmdline is NULL)
 * into guest RAM, and fill *e for x86_enter_prot32. Everything is checked
 * against the file and guest RAM; returns 0, or -1 after one line. */
int multiboot_load(struct vm *vm, const uint8_t *img, size_t len, const char *path,
                   const char *cmdline, const struct mb_module *mods, int nmods,
                   struct boot_entry *e);

#endif
