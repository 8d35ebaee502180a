# badcall.S - call a hypercall that does not exist (0x42): mini-kvm must stop
# this guest with an error naming it, and exit non-zero.
    .include "lib.inc"

main:
    PRINT msg
    HCALL 0x42
    PRINT msg_after         # never printed
    EXIT

msg:       .asciz "calling hypercall 0x42\n"
msg_after: .asciz "still running after a bad hypercall\n"
