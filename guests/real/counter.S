# counter.S - count from 1 to 10, one number per line: a loop, a counter in
# a register and print_u16 from lib.inc.
    .include "lib.inc"

main:
    mov $1, %ax
1:  call print_u16
    call newline
    inc %ax
    cmp $10, %ax
    jbe 1b
    EXIT
