/* layout.h - THE guest-physical map of mini-kvm's machine: every address,
 * I/O port, IRQ/GSI and MMIO base a guest sees, with why each is where it is. */
#ifndef MINI_KVM_LAYOUT_H
#define MINI_KVM_LAYOUT_H

/* Like Firecracker's arch/x86_64/layout.rs: devices, loaders and arch code
 * take their places from here, so overlaps show in one file. A new device
 * adds its port, MMIO base or GSI here, not in its own header. The
 * host/guest hypercall ABI (port 0x500, boot info) is in abi/mkvm_abi.h. */

/* ===== Guest-physical memory, low to high =============================== */

/* Long-mode entry (modes.c): GDT, then identity page tables (PML4, PDPT,
 * four page directories for 4 GiB), all below the boot info at 0x7000. */
#define X86_GDT_ADDR      0x500     /* also the multiboot entry's 32-bit GDT */
#define X86_PML4_ADDR     0x1000
#define X86_PDPT_ADDR     0x2000
#define X86_PD_ADDR       0x3000    /* four page directories: 4 GiB */
#define X86_PT_END        0x7000

/* BIOS data area (bda.c): the words a BIOS leaves that guests look at. */
#define BDA_ADDR          0x400
#define BDA_LEN           0x100
#define BDA_COM1          0x400     /* word: I/O base of COM1 */
#define BDA_EBDA_SEG      0x40E     /* word: segment of the EBDA */
#define BDA_EQUIPMENT     0x410     /* word: installed hardware */
#define BDA_BASE_MEM_KB   0x413     /* word: KiB of conventional memory */
#define BDA_VIDEO_MODE    0x449     /* byte: current video mode (3 = 80x25 colour text) */
#define BDA_VIDEO_COLS    0x44A     /* word: text columns */
#define BDA_CRTC_BASE     0x463     /* word: CRTC index port (0x3D4 colour, 0x3B4 mono) */

/* Multiboot boot (multiboot.c, docs/multiboot.md): everything mini-kvm
 * writes lies below MB_AREA_END; a kernel may not load there, nor in
 * [MB_LOW_RESERVED, 1 MiB): EBDA, VGA, BIOS area with the ACPI tables. */
#define MB_GDT_ADDR       X86_GDT_ADDR  /* flat 32-bit GDT (x86_enter_prot32) */
#define MB_INFO_ADDR      0x1000    /* struct mb_info; EBX at entry */
#define MB_MMAP_ADDR      0x1100    /* memory map entries */
#define MB_MODS_ADDR      0x1200    /* module list, MB_MAX_MODULES x 16 bytes */
#define MB_LOADER_NAME    0x1300    /* "mini-kvm" */
#define MB_STRINGS_ADDR   0x1400    /* command line, then each module's string */
#define MB_STRINGS_END    0x8000
#define MB_STACK_TOP      0x9000    /* ESP at entry: 4 KiB (the spec leaves ESP open) */
#define MB_AREA_END       0x9000
#define MB_LOW_RESERVED   EBDA_ADDR
#define MB_HIGH_START     HIGH_MEM_START

/* ELF64 kernels (elf.c, our OS): the boot info (abi/mkvm_abi.h) right after
 * the page tables, the command line after it; p_paddr below BOOT_AREA_END
 * would overwrite them, so the loader refuses it. */
#define ELF_BOOT_INFO     0x7000
#define ELF_CMDLINE       0x7800
#define ELF_CMDLINE_MAX   2048
#define BOOT_AREA_END     0x8000

/* Linux (bzimage.c, docs/linux-boot.md): the zero page where ELF kernels
 * get their boot info (the two never share a VM), the command line at
 * 128 KiB, the kernel at 1 MiB; its entry is at +BZ_ENTRY_64. */
#define BZ_ZERO_PAGE      0x7000    /* struct boot_params (4 KiB) */
#define BZ_CMDLINE        0x20000   /* NUL-terminated command line */
#define BZ_CMDLINE_MAX    0x10000   /* room reserved for it */
#define BZ_KERNEL_ADDR    HIGH_MEM_START

/* Disk boot: sector 0 of the first IDE disk (bootsector.c); SP starts here too. */
#define BOOTSECT_ADDR     0x7C00

/* Real-mode flat binaries (flat.c): GPA 0x10000, CS=DS=ES=SS=0x1000, IP=0,
 * SP=0xFFFE: one 64 KiB segment whose top 4 KiB is stack. */
#define FLAT_REAL_SEG     0x1000
#define FLAT_REAL_MAX     0xF000

/* The one stack top of every 64-bit entry (flat long mode, ELF kernels,
 * Linux, the host probes): 512 KiB, below the EBDA, above anything the
 * loaders write low, and in every guest's RAM (the smallest is 1 MiB). */
#define BOOT_STACK_TOP    0x80000

/* The extended BIOS data area: the last KiB below 640 KiB, empty (zeros),
 * reserved in the bzImage e820 map. Its segment is in BDA_EBDA_SEG. */
#define EBDA_ADDR         0x9FC00
#define EBDA_SIZE         0x400
#define LOW_MEM_END       0xA0000   /* 640 KiB: VGA and the BIOS area follow */

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

/* 1 MiB: where kernels and long-mode flat binaries load, as on a PC. */
#define HIGH_MEM_START    0x100000
#define FLAT_LONG_ADDR    HIGH_MEM_START

/* RAM below 3 GiB lives at GPA 0; RAM beyond that is placed above 4 GiB so
 * that [3 GiB, 4 GiB) stays free for MMIO (virtio, IOAPIC, LAPIC). */
#define MEM_HOLE_START    0xC0000000ULL
#define MEM_HOLE_END      0x100000000ULL

/* virtio-mmio devices (core/virtio_table.c places them in creation order):
 * slot i has its registers at VIRTIO_MMIO_BASE + i * VIRTIO_MMIO_STRIDE
 * (VIRTIO_MMIO_SIZE bytes, at the start of the MMIO hole) and the
 * level-triggered GSI VIRTIO_MMIO_GSI + i (the IOAPIC pins above the ISA
 * IRQs). KVM's IOAPIC has 24 pins, so GSIs 16..23 give the device limit:
 * VIRTIO_MMIO_MAX, written only here. */
#define VIRTIO_MMIO_BASE   0xD0000000ULL
#define VIRTIO_MMIO_STRIDE 0x1000
#define VIRTIO_MMIO_SIZE   0x200
#define VIRTIO_MMIO_GSI    16
#define VIRTIO_MMIO_MAX    8

/* The in-kernel IOAPIC and LAPIC at their architectural defaults (KVM's
 * too), named in the MADT and the MP table. */
#define IOAPIC_ADDR       0xFEC00000u
#define LAPIC_ADDR        0xFEE00000u

/* Pages KVM needs for itself on Intel hosts (KVM_SET_TSS_ADDR, identity
 * map for real mode under EPT), just below the 4 GiB BIOS reset vector. */
#define VMM_TSS_ADDR      0xFFFBD000ULL
#define VMM_IDENTITY_ADDR 0xFFFBC000ULL

/* ===== I/O ports, low to high =========================================== */
#define I8042_DATA_PORT   0x60      /* keyboard controller (i8042.c) */
#define I8042_CMD_PORT    0x64
#define RTC_PORT          0x70      /* CMOS index (bit 7: NMI disable), data at 0x71 */
#define POST_PORT         0x80      /* POST/delay port: a sink (platform.c) */
#define PORT92            0x92      /* system control port A: fast reset, A20 */
#define DEBUGCON_PORT     0xE9      /* QEMU/Bochs debug console (debugcon.c) */
#define DEBUG_EXIT_PORT   0xF4      /* QEMU isa-debug-exit (debug_exit.c) */
#define IDE_CMD_BASE      0x1F0     /* 8 ports: data .. status/command (ide.c) */
#define VGA_MONO_PORT     0x3B4     /* mono CRTC: index, data 0x3B5 ... status 0x3BA */
#define VGA_CRTC_PORT     0x3D4     /* colour CRTC: index, data 0x3D5 ... status 0x3DA */
#define IDE_CTL_PORT      0x3F6     /* device control / alternate status */
#define SERIAL_COM1_BASE  0x3F8     /* 16550A (serial.c) */
/* 0x500-0x503: the hypercall port, MKVM_HC_PORT in abi/mkvm_abi.h. */
#define PROBE_PORT        0x505     /* hostcheck's probe guests report here */
/* ACPI fixed hardware (pm.c), named in the FADT (acpi.c): PM1a event and
 * control blocks and the PM timer in one 16-port range. */
#define PM_BASE           0x600
#define PM_LEN            0x10
#define PM1A_EVT_BLK      0x600     /* PM1_STS (2 bytes), PM1_EN (2 bytes) */
#define PM1A_CNT_BLK      0x604     /* PM1_CNT (2 bytes) */
#define PM_TMR_BLK        0x608     /* PM_TMR (4 bytes, 32-bit counter) */
#define PCI_CONFIG_ADDR   0xCF8     /* PCI mechanism #1 address latch, dword (pci.c) */
#define PM_RESET_PORT     0xCF9     /* FADT RESET_REG, as on PCs (Linux's reboot=pci) */
#define PCI_CONFIG_DATA   0xCFC     /* ... and its data window, 4 bytes */

/* ===== Interrupt lines (ISA IRQ = IOAPIC pin, except IRQ 0 on pin 2) ==== */
#define I8042_KBD_IRQ     1         /* keyboard (PNP0303 in the DSDT) */
#define SERIAL_COM1_IRQ   4
#define RTC_IRQ           8         /* named in the DSDT; rtc.c raises none */
#define ACPI_SCI_IRQ      9         /* level, active high (MADT override) */
#define IDE_IRQ           14
/* virtio: GSI VIRTIO_MMIO_GSI + i, above. */

/* ===== Values the ACPI tables promise and the devices keep ============== */
#define RTC_CENTURY       0x32      /* CMOS century register, named in the FADT */
#define ACPI_SLP_TYP_S5   5         /* the DSDT's \_S5 SLP_TYP, soft-off in pm.c */
#define PM1_EVT_LEN       4         /* FADT block lengths of the PM ports above */
#define PM1_CNT_LEN       2
#define PM_TMR_LEN        4
#define PM_RESET_VALUE    0x06      /* FADT RESET_VALUE: SYS_RST | RST_CPU */

#endif
