/* mkvm_abi.h - the host/guest ABI of mini-kvm in one file (like Solo5's
 * hvt_abi.h): hypercall port and functions, and the ELF kernels' boot info. */
#ifndef MKVM_ABI_H
#define MKVM_ABI_H

/* Included by the VMM (src/), the teaching guests (guests/, assembler: the
 * Makefile pre-includes it) and our OS (os/). Change a value here and every
 * side follows; docs/hypercalls.md and docs/architecture.md describe it. */

/* ---- Hypercalls (docs/hypercalls.md): `out MKVM_HC_PORT, al` runs
 * function AL; ports 0x501-0x503 are reserved and read as ones. ---- */
#define MKVM_HC_PORT        0x500
#define MKVM_HC_ABI_VERSION 1
#define MKVM_HC_EXIT        0x00    /* status 0 */
#define MKVM_HC_PUTCHAR     0x01    /* BL = byte */
#define MKVM_HC_GETCHAR     0x02    /* then `in al, 0x500` = byte, 0xFF at end */
#define MKVM_HC_EXIT_CODE   0x03    /* BL = status */
#define MKVM_HC_WRITE       0x04    /* (E/R)SI = buffer, (E/R)CX = length */
#define MKVM_HC_READLINE    0x05    /* (E/R)DI = buffer, (E/R)CX = size; AX = length */
#define MKVM_HC_VERSION     0x06    /* AX = MKVM_HC_ABI_VERSION */
#define MKVM_HC_NOP         0x07    /* a round trip, for benchmarks */

/* ---- Boot info of ELF64 kernels (our OS): at ELF_BOOT_INFO (0x7000,
 * arch/layout.h), RDI points to it at entry. ---- */
#define MKVM_BOOT_MAGIC     0x4D4B564D  /* "MKVM" */
#define MKVM_BOOT_VERSION   2
#define MKVM_BOOT_MAX_VIRTIO 8   /* = VIRTIO_MMIO_MAX, the virtio slots */

#ifdef __ASSEMBLER__
/* The same values as assembler symbols, for code pulled in with `.include`
 * (guests/real/lib.inc, guests/long/lib.inc), which cpp never sees. */
    .set HC_PORT,      MKVM_HC_PORT
    .set HC_EXIT,      MKVM_HC_EXIT
    .set HC_PUTCHAR,   MKVM_HC_PUTCHAR
    .set HC_GETCHAR,   MKVM_HC_GETCHAR
    .set HC_EXIT_CODE, MKVM_HC_EXIT_CODE
    .set HC_WRITE,     MKVM_HC_WRITE
    .set HC_READLINE,  MKVM_HC_READLINE
    .set HC_VERSION,   MKVM_HC_VERSION
    .set HC_NOP,       MKVM_HC_NOP
#else
#include <stdint.h>

struct mkvm_boot_info {
    uint32_t magic, version;    /* MKVM_BOOT_MAGIC, MKVM_BOOT_VERSION */
    uint64_t ram_size;          /* RAM bytes from GPA 0 (below the 3 GiB hole) */
    uint64_t cmdline;           /* GPA of a NUL-terminated string, or 0 */
    uint32_t ncpus, nvirtio;
    /* Version 2: 8 entries (version 1 had 4) and the virtio device ID in
     * the word that was padding (0) in version 1; the layout is unchanged. */
    struct { uint64_t base; uint32_t gsi, device_id; } virtio[MKVM_BOOT_MAX_VIRTIO];
};
_Static_assert(sizeof(struct mkvm_boot_info) == 160, "the boot info's layout is ABI");
#endif

#endif
