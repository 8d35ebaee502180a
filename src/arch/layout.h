/* layout.h - the legacy PC's low memory as mini-kvm fills it in: BIOS data
 * area, EBDA, boot sector, CGA buffer, and the BIOS area with ACPI and MP. */
#ifndef MINI_KVM_LAYOUT_H
#define MINI_KVM_LAYOUT_H

/* BIOS data area (bda.c): the words a BIOS leaves that guests look at. */
#define BDA_ADDR          0x400
#define BDA_COM1          0x400     /* word: I/O base of COM1 */
#define BDA_EBDA_SEG      0x40E     /* word: segment of the EBDA */
#define BDA_BASE_MEM_KB   0x413     /* word: KiB of conventional memory */

/* The extended BIOS data area: the last KiB below 640 KiB, empty (zeros),
 * reserved in the bzImage e820 map. Its segment is in BDA_EBDA_SEG. */
#define EBDA_ADDR         0x9FC00
#define EBDA_SIZE         0x400

/* Disk boot: sector 0 of the first IDE disk (bootsector.c). */
#define BOOTSECT_ADDR     0x7C00

/* CGA text buffer, 80x25 cells of (character, attribute): plain RAM. */
#define CGA_TEXT_ADDR     0xB8000

/* The BIOS area (a ROM on a PC; RAM here, reserved in the e820 map):
 * ACPI tables in the first 64 KiB, MP tables in the second, where both a
 * Linux RSDP scan (0xE0000-0xFFFFF) and an MP scan (0xF0000-0xFFFFF) look. */
#define BIOS_AREA_START   0xE0000
#define BIOS_AREA_END     0x100000
#define ACPI_AREA_START   0xE0000
#define ACPI_AREA_END     0xF0000
#define MPTABLE_ADDR      0xF0000   /* floating pointer; config table follows */
#define MPTABLE_END       0x100000

#endif
