# exitcode.S - end with status 7 through the EXIT_CODE hypercall, to test
# that mini-kvm passes a guest status on as its own exit status.
    .include "lib.inc"

main:
    PRINT msg
    EXIT_CODE 7

msg: .asciz "exiting with status 7\n"
