# hello.S - the smallest teaching guest: print one line with the WRITE
# hypercall and exit with status 0. Real mode, loaded at 0x1000:0000.
    .include "lib.inc"

main:
    PRINT msg
    EXIT

msg: .asciz "Hello, world! (real mode guest)\n"
