/* bzimage.h - the Linux x86 boot protocol (64-bit entry): validate a bzImage,
 * place kernel, zero page, command line and initrd in guest RAM. */
#ifndef MINI_KVM_BZIMAGE_H
#define MINI_KVM_BZIMAGE_H

#include "loader.h"

#include <stddef.h>
#include <stdint.h>

/* Guest-physical layout of a Linux guest: layout.h (BZ_*), docs/linux-boot.md. */
#define BZ_ENTRY_64     0x200     /* 64-bit entry: BZ_KERNEL_ADDR + 0x200 */

/* Load the bzImage img (len bytes, from file `path`, named in messages) and
 * the optional initrd (initrd_len bytes from `initrd_path`; NULL/0 for none)
 * with `cmdline` (NULL = empty). Fills *out with the 64-bit entry state:
 * RIP = 0x100200, RSI = zero page, long mode. Everything is validated before
 * guest RAM is touched; returns 0, or -1 after printing one line.
 * The zero page points at the RSDP written by acpi_setup() (arch/acpi.h). */
int bzimage_load(struct vm *vm, const uint8_t *img, size_t len, const char *path,
                 const uint8_t *initrd, size_t initrd_len, const char *initrd_path,
                 const char *cmdline, struct boot_entry *out);

#endif
