/* bda.c - BIOS data area and EBDA as a PC BIOS leaves them at boot, so that
 * MP-table searches (xv6's mpsearch) and Linux's EBDA reservation work. */
#include "bda.h"
#include "layout.h"
#include "core/mem.h"
#include "core/util.h"
#include "core/vm.h"

#include <string.h>


/* Equipment word: one serial port (bits 9-11), 80x25 colour (bits 4-5 = 10). */
#define EQUIPMENT       ((1u << 9) | (2u << 4))

_Static_assert(BDA_BASE_MEM_KIB * 1024 == EBDA_ADDR, "base memory must end at the EBDA");

static void put16(uint8_t *bda, unsigned addr, uint16_t v)
{
    bda[addr - BDA_ADDR] = (uint8_t)v;
    bda[addr - BDA_ADDR + 1] = (uint8_t)(v >> 8);
}

/* Why 639 KiB and an EBDA at 0x9FC00 (the last KiB below 640 KiB), both
 * set: xv6's mpsearch() looks in the first KiB of the EBDA when 0x40E is
 * non-zero (otherwise in the last KiB of base memory from 0x413), then in
 * 0xF0000-0xFFFFF, where the MP floating pointer is (mptable.c); with both
 * words zero it would scan an unmapped address and fault. Linux's
 * reserve_bios_regions() reserves from min(EBDA, base memory) = 0x9FC00 to
 * 1 MiB, which is what the bzImage e820 map reserves too. The EBDA itself
 * stays zero (its first word would be its size in KiB on a real BIOS; no
 * guest we know reads it). */
int bda_setup(struct vm *vm)
{
    uint8_t *bda = guest_ptr(&vm->mem, BDA_ADDR, BDA_LEN);
    uint8_t *ebda = guest_ptr(&vm->mem, EBDA_ADDR, EBDA_SIZE);
    if (!bda || !ebda) {
        errorf("%s: the BIOS data area needs at least 640 KiB of guest RAM", vm->name);
        return -1;
    }
    memset(bda, 0, BDA_LEN);
    memset(ebda, 0, EBDA_SIZE);
    put16(bda, BDA_COM1, SERIAL_COM1_BASE);
    put16(bda, BDA_EQUIPMENT, EQUIPMENT);
    put16(bda, BDA_EBDA_SEG, EBDA_ADDR >> 4);
    put16(bda, BDA_BASE_MEM_KB, BDA_BASE_MEM_KIB);
    bda[BDA_VIDEO_MODE - BDA_ADDR] = 3;
    put16(bda, BDA_VIDEO_COLS, 80);
    put16(bda, BDA_CRTC_BASE, VGA_CRTC_PORT);
    return 0;
}
