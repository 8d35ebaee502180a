# nops.S - benchmark guest: COUNT NOP hypercalls (AL = 7), then EXIT. Each
# one is a full round trip guest -> VMM -> guest. bench/ patches COUNT in a
# copy of the binary (it follows the "NOPCOUNT" marker) to time other counts.
    .include "lib.inc"

main:
    mov count, %ecx
    mov $HC_PORT, %dx
    jecxz 2f
1:  mov $HC_NOP, %al
    out %al, (%dx)
    dec %ecx
    jnz 1b
2:  EXIT

    .ascii "NOPCOUNT"
count: .long 100000
