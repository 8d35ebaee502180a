# hello64.S - the long-mode hello: print a line and the RAM size that
# mini-kvm passes in RDI, then exit with status 0.
    .include "lib.inc"

main:
    PRINT msg
    mov %rdi, %rax          # RAM size in bytes
    shr $10, %rax           # in KiB
    call print_u64
    PRINT msg_kib
    EXIT

msg:     .asciz "Hello, world! (64-bit long mode guest)\nRAM: "
msg_kib: .asciz " KiB\n"
