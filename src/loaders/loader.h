/* loader.h - what every loader hands back: where and how a vCPU starts.
 * Loaders only place bytes in guest RAM; arch/ code sets the CPU state. */
#ifndef MINI_KVM_LOADER_H
#define MINI_KVM_LOADER_H

#include "abi/mkvm_abi.h"
#include "arch/layout.h"    /* ports, addresses, IRQs */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/layout.h"

struct vm;

struct boot_entry {
    bool long_mode;         /* false: real mode at seg:ip (unless prot32) */
    uint16_t seg, ip, sp;   /* real mode */
    uint16_t dx;            /* real mode: DL = BIOS drive number (disk boot) */
    uint64_t rip, rsp, rsi, rdi; /* long mode */
    bool prot32;            /* 32-bit protected mode, no paging (multiboot) */
    uint32_t eip, esp, eax, ebx;
};

/* Real-mode flat binary: GPA 0x10000, CS=DS=ES=SS=0x1000, IP=0, SP=0xFFFE.
 * Long-mode flat binary: GPA 0x100000, RSP=0x80000, RDI = RAM size.
 * (FLAT_REAL_SEG, FLAT_LONG_ADDR, BOOT_STACK_TOP in layout.h.) */

int flat_load_real(struct vm *vm, const uint8_t *img, size_t len, const char *path,
                   struct boot_entry *e);
int flat_load_long(struct vm *vm, const uint8_t *img, size_t len, const char *path,
                   struct boot_entry *e);

/* Disk boot, as a PC BIOS does it without the BIOS: sector 0 of the image
 * at BOOTSECT_ADDR (0x7C00) if it ends in 0x55 0xAA; real mode at
 * 0000:7C00 with DS=ES=SS=0, SP=0x7C00, DL=0x80 (first hard disk). Reads
 * only the first 512 bytes of the file. */
#define BOOTSECT_SIZE   512
#define BOOT_DRIVE_HD0  0x80
int bootsector_load(struct vm *vm, const char *path, struct boot_entry *e);

/* ELF64 x86-64 executable: PT_LOAD segments at p_paddr, entry e_entry in
 * long mode, RDI = boot info at ELF_BOOT_INFO (docs/architecture.md). */
/* struct mkvm_boot_info: abi/mkvm_abi.h, shared with os/. */
_Static_assert(VIRTIO_MMIO_MAX <= MKVM_BOOT_MAX_VIRTIO, "every virtio slot fits the boot info");
_Static_assert(ELF_BOOT_INFO + sizeof(struct mkvm_boot_info) <= ELF_CMDLINE,
               "the boot info runs into the command line");
bool elf_is_elf(const uint8_t *img, size_t len);
int elf_load(struct vm *vm, const uint8_t *img, size_t len, const char *path,
             struct boot_entry *e);

#endif
