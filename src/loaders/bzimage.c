/* bzimage.c - Linux bzImage loader (Documentation/arch/x86/boot.rst): check
 * the setup header, build the zero page and e820 map, enter at startup_64. */
#include "bzimage.h"
#include "arch/acpi.h"
#include "core/mem.h"
#include "core/util.h"
#include "core/vm.h"

#include <stdio.h>
#include <string.h>

/* Setup header fields: offsets in the image and in struct boot_params. */
#define HDR_START        0x1F1
#define HDR_SETUP_SECTS  0x1F1
#define HDR_SYSSIZE      0x1F4
#define HDR_BOOT_FLAG    0x1FE
#define HDR_JUMP         0x200
#define HDR_MAGIC        0x202
#define HDR_VERSION      0x206
#define HDR_LOADER_TYPE  0x210
#define HDR_LOADFLAGS    0x211
#define HDR_RAMDISK_IMG  0x218
#define HDR_RAMDISK_SIZE 0x21C
#define HDR_HEAP_END     0x224
#define HDR_CMD_LINE_PTR 0x228
#define HDR_INITRD_MAX   0x22C
#define HDR_ALIGN        0x230
#define HDR_RELOCATABLE  0x234
#define HDR_XLOADFLAGS   0x236
#define HDR_CMDLINE_SIZE 0x238
#define HDR_SETUP_DATA   0x250
#define HDR_PREF_ADDR    0x258
#define HDR_INIT_SIZE    0x260
#define HDR_MIN_END      0x264      /* protocol 2.12 header ends after init_size */
#define HDR_MAX_END      0x290      /* boot_params: setup_header must end here */

#define BP_ACPI_RSDP     0x070
#define BP_EXT_RD_IMAGE  0x0C0
#define BP_EXT_RD_SIZE   0x0C4
#define BP_EXT_CMD_LINE  0x0C8
#define BP_E820_ENTRIES  0x1E8
#define BP_E820_TABLE    0x2D0
#define BP_E820_MAX      128

#define LOADED_HIGH      0x01
#define CAN_USE_HEAP     0x80
#define XLF_KERNEL_64    0x01
#define MIN_PROTOCOL     0x020C     /* 2.12: xloadflags, 64-bit entry */

#define E820_RAM         1
#define E820_RESERVED    2

#define MiB(x) ((unsigned long long)(x) >> 20)

/* What the loader needs from the setup header, validated. */
struct bz_info {
    size_t setup_size;              /* boot sector + real-mode setup, bytes */
    size_t kernel_size;             /* protected-mode part (file - setup) */
    size_t hdr_end;                 /* end of the setup header in the image */
    uint16_t version;
    uint32_t initrd_max, cmdline_size, init_size;
    uint64_t run_addr;              /* where startup_64 decompresses to */
};

static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }
static uint64_t get64(const uint8_t *p) { return get32(p) | (uint64_t)get32(p + 4) << 32; }
static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static void put64(uint8_t *p, uint64_t v) { put32(p, (uint32_t)v); put32(p + 4, (uint32_t)(v >> 32)); }

/* RAM below the 3 GiB hole: where everything of a Linux boot goes. */
static uint64_t low_ram(const struct vm *vm)
{
    uint64_t r = vm->mem.ram_size;
    return r < MEM_HOLE_START ? r : MEM_HOLE_START;
}

/* The boot sector, magic and protocol version. */
static int check_magic(const uint8_t *img, size_t len, const char *path, struct bz_info *bi)
{
    if (len < HDR_MIN_END) {
        errorf("%s: not a bzImage (only %zu bytes, a boot header needs %d)", path, len,
               HDR_MIN_END);
        return -1;
    }
    if (memcmp(img + HDR_MAGIC, "HdrS", 4) != 0) {
        errorf("%s: not a bzImage (no HdrS magic)", path);
        return -1;
    }
    if (get16(img + HDR_BOOT_FLAG) != 0xAA55) {
        errorf("%s: not a bzImage (boot sector signature is 0x%04x, not 0xAA55)", path,
               get16(img + HDR_BOOT_FLAG));
        return -1;
    }
    bi->version = get16(img + HDR_VERSION);
    if (bi->version < MIN_PROTOCOL) {
        errorf("%s: boot protocol %u.%02u too old (need 2.12 for 64-bit entry)", path,
               bi->version >> 8, bi->version & 0xFF);
        return -1;
    }
    return 0;
}

/* Sizes: setup sectors, syssize against the file, the header's own end. */
static int check_sizes(const uint8_t *img, size_t len, const char *path, struct bz_info *bi)
{
    unsigned sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4;
    bi->setup_size = (size_t)(sects + 1) * 512;
    bi->hdr_end = HDR_JUMP + 2 + img[HDR_JUMP + 1];  /* the jump skips the header */
    if (bi->hdr_end < HDR_MIN_END || bi->hdr_end > HDR_MAX_END ||
        bi->hdr_end > bi->setup_size) {
        errorf("%s: not a bzImage (setup header ends at 0x%zx)", path, bi->hdr_end);
        return -1;
    }
    /* syssize counts 16-byte paragraphs, rounded up: the last one may be
     * partial (Debian's memtest86+ ends 8 bytes into it, and QEMU boots it).
     * Less than that is a truncated file; we copy only what the file holds. */
    uint64_t want = bi->setup_size + (uint64_t)get32(img + HDR_SYSSIZE) * 16;
    if (len + 15 < want || len == bi->setup_size) {
        errorf("%s: truncated: header says %llu bytes, file has %zu", path,
               (unsigned long long)want, len);
        return -1;
    }
    bi->kernel_size = len - bi->setup_size;
    return 0;
}

/* 64-bit entry, command line limit, and where the kernel will run. */
static int check_fields(const uint8_t *img, const char *path, struct bz_info *bi)
{
    uint16_t xlf = get16(img + HDR_XLOADFLAGS);
    if (!(xlf & XLF_KERNEL_64)) {
        errorf("%s: kernel has no 64-bit entry point (xloadflags 0x%x)", path, xlf);
        return -1;
    }
    bi->initrd_max = get32(img + HDR_INITRD_MAX);
    bi->cmdline_size = get32(img + HDR_CMDLINE_SIZE);
    bi->init_size = get32(img + HDR_INIT_SIZE);
    uint64_t pref = get64(img + HDR_PREF_ADDR);
    uint64_t align = get32(img + HDR_ALIGN);
    bi->run_addr = BZ_KERNEL_ADDR;
    if (img[HDR_RELOCATABLE] && align && !(align & (align - 1)))
        bi->run_addr = (BZ_KERNEL_ADDR + align - 1) & ~(align - 1);
    /* startup_64 never decompresses below LOAD_PHYSICAL_ADDR (= pref_address) */
    if (pref > bi->run_addr)
        bi->run_addr = pref;
    if (bi->init_size == 0 || pref >= MEM_HOLE_START) {
        errorf("%s: not a usable bzImage (init_size %u, pref_address 0x%llx)", path,
               bi->init_size, (unsigned long long)pref);
        return -1;
    }
    return 0;
}

static int check_image(const uint8_t *img, size_t len, const char *path, struct bz_info *bi)
{
    memset(bi, 0, sizeof(*bi));
    if (!img)
        len = 0;
    if (check_magic(img, len, path, bi) || check_sizes(img, len, path, bi) ||
        check_fields(img, path, bi))
        return -1;
    return 0;
}

/* The kernel and its decompression buffer must fit in RAM below the hole. */
static int check_ram(const struct vm *vm, const struct bz_info *bi, const char *path,
                     size_t cmdlen)
{
    uint64_t low = low_ram(vm);
    uint64_t need = bi->run_addr + bi->init_size;
    if (BZ_KERNEL_ADDR + bi->kernel_size > need)
        need = BZ_KERNEL_ADDR + bi->kernel_size;
    if (need > low) {
        errorf("%s: kernel needs %llu MiB of RAM to decompress, the guest has %llu MiB",
               path, MiB(need + (1 << 20) - 1), MiB(vm->mem.ram_size));
        return -1;
    }
    if (cmdlen >= BZ_CMDLINE_MAX || (bi->cmdline_size && cmdlen > bi->cmdline_size)) {
        errorf("%s: command line is %zu bytes, this kernel accepts at most %u", path,
               cmdlen, bi->cmdline_size ? bi->cmdline_size : BZ_CMDLINE_MAX - 1);
        return -1;
    }
    return 0;
}

/* Initrd: top of RAM below initrd_addr_max, page aligned, above the kernel. */
static int place_initrd(const struct vm *vm, const struct bz_info *bi, size_t len,
                        const char *path, uint64_t *addr)
{
    uint64_t limit = (uint64_t)bi->initrd_max + 1;
    if (limit > low_ram(vm))
        limit = low_ram(vm);
    uint64_t floor = bi->run_addr + bi->init_size;
    if (BZ_KERNEL_ADDR + bi->kernel_size > floor)
        floor = BZ_KERNEL_ADDR + bi->kernel_size;
    if (len > limit || ((limit - len) & ~0xFFFULL) < floor) {
        errorf("%s: does not fit below 0x%llx (initrd %llu MiB, kernel uses up to "
               "0x%llx, RAM %llu MiB)", path, (unsigned long long)limit,
               MiB(len + (1 << 20) - 1), (unsigned long long)floor,
               MiB(vm->mem.ram_size));
        return -1;
    }
    *addr = (limit - len) & ~0xFFFULL;
    return 0;
}

static int e820_add(uint8_t *bp, uint64_t addr, uint64_t size, uint32_t type)
{
    unsigned n = bp[BP_E820_ENTRIES];
    if (n >= BP_E820_MAX || size == 0)
        return size == 0 ? 0 : -1;
    uint8_t *e = bp + BP_E820_TABLE + n * 20;
    put64(e, addr);
    put64(e + 8, size);
    put32(e + 16, type);
    bp[BP_E820_ENTRIES] = (uint8_t)(n + 1);
    return 0;
}

/* Low RAM minus the EBDA and the BIOS area (our ACPI and MP tables, see
 * arch/layout.h), then the rest below the 3 GiB hole, then RAM relocated
 * above 4 GiB. The BDA's EBDA segment and base memory size (bda.c) say the
 * same, so Linux's reserve_bios_regions() agrees with this map. */
static void e820_build(const struct vm *vm, uint8_t *bp)
{
    uint64_t low = low_ram(vm), ram = vm->mem.ram_size;
    e820_add(bp, 0, EBDA_ADDR, E820_RAM);
    e820_add(bp, EBDA_ADDR, EBDA_SIZE, E820_RESERVED);
    e820_add(bp, BIOS_AREA_START, BIOS_AREA_END - BIOS_AREA_START, E820_RESERVED);
    e820_add(bp, 0x100000, low - 0x100000, E820_RAM);
    if (ram > low)
        e820_add(bp, MEM_HOLE_END, ram - low, E820_RAM);
}

/* struct boot_params: the image's setup header plus what a loader fills in. */
static void build_zero_page(const struct vm *vm, uint8_t *bp, const uint8_t *img,
                            const struct bz_info *bi, uint64_t rd_addr, size_t rd_len)
{
    memset(bp, 0, 4096);
    memcpy(bp + HDR_START, img + HDR_START, bi->hdr_end - HDR_START);
    bp[HDR_LOADER_TYPE] = 0xFF;                     /* undefined boot loader */
    bp[HDR_LOADFLAGS] |= LOADED_HIGH | CAN_USE_HEAP;
    put16(bp + HDR_HEAP_END, 0xFE00);
    put32(bp + HDR_CMD_LINE_PTR, BZ_CMDLINE);
    put32(bp + BP_EXT_CMD_LINE, 0);
    put32(bp + HDR_RAMDISK_IMG, (uint32_t)rd_addr);
    put32(bp + HDR_RAMDISK_SIZE, (uint32_t)rd_len);
    put32(bp + BP_EXT_RD_IMAGE, (uint32_t)(rd_addr >> 32));
    put32(bp + BP_EXT_RD_SIZE, (uint32_t)((uint64_t)rd_len >> 32));
    if (bi->hdr_end >= HDR_SETUP_DATA + 8)
        put64(bp + HDR_SETUP_DATA, 0);              /* no setup_data list */
    put64(bp + BP_ACPI_RSDP, ACPI_RSDP_ADDR);       /* protocol 2.14+ reads it */
    e820_build(vm, bp);
}

int bzimage_load(struct vm *vm, const uint8_t *img, size_t len, const char *path,
                 const uint8_t *initrd, size_t initrd_len, const char *initrd_path,
                 const char *cmdline, struct boot_entry *out)
{
    struct bz_info bi;
    size_t cmdlen = cmdline ? strlen(cmdline) : 0;
    uint64_t rd_addr = 0;
    if (check_image(img, len, path, &bi) || check_ram(vm, &bi, path, cmdlen))
        return -1;
    if (!initrd)
        initrd_len = 0;
    if (initrd_len && place_initrd(vm, &bi, initrd_len, initrd_path ? initrd_path : "initrd",
                                   &rd_addr))
        return -1;

    uint8_t *bp = guest_ptr(&vm->mem, BZ_ZERO_PAGE, 4096);
    uint8_t *cl = guest_ptr(&vm->mem, BZ_CMDLINE, cmdlen + 1);
    uint8_t *k = guest_ptr(&vm->mem, BZ_KERNEL_ADDR, bi.kernel_size);
    uint8_t *rd = guest_ptr(&vm->mem, rd_addr, initrd_len);
    if (!bp || !cl || !k || !rd) {      /* check_ram/place_initrd make this unreachable */
        errorf("%s: guest RAM too small for a Linux boot", path);
        return -1;
    }
    build_zero_page(vm, bp, img, &bi, rd_addr, initrd_len);
    memcpy(cl, cmdline ? cmdline : "", cmdlen + 1);
    memcpy(k, img + bi.setup_size, bi.kernel_size);
    if (initrd_len)
        memcpy(rd, initrd, initrd_len);

    memset(out, 0, sizeof(*out));
    out->long_mode = true;
    out->rip = BZ_KERNEL_ADDR + BZ_ENTRY_64;
    out->rsp = BOOT_STACK_TOP;
    out->rsi = BZ_ZERO_PAGE;
    return 0;
}
