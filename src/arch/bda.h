/* bda.h - the BIOS data area words a BIOS would leave at 0x400 for guests
 * started without firmware (disk boot, multiboot; harmless for Linux). */
#ifndef MINI_KVM_BDA_H
#define MINI_KVM_BDA_H

struct vm;

#define BDA_BASE_MEM_KIB  639   /* 640 KiB minus the 1 KiB EBDA */

/* Write COM1's base, the equipment word, the EBDA segment, the base memory
 * size and the CGA text mode fields. Returns 0, or -1 after printing a
 * reason (RAM smaller than 640 KiB). */
int bda_setup(struct vm *vm);

#endif
