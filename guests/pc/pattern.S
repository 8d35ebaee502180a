# pattern.S - the pattern block: 8 sectors stored on the disk right after the
# kernel (pc.ld), which the kernel reads by IRQ 14 and checks byte by byte.
# Byte x of the block is (x*31 + (x>>9)*17 + 0x5A) & 0xFF: every sector differs,
# so a wrong LBA or a short transfer shows. main.c computes the same formula.
    .section .pattern, "a"
    .set x, 0
    .rept 8 * 512
    .byte (x * 31 + (x >> 9) * 17 + 0x5A) & 0xFF
    .set x, x + 1
    .endr
