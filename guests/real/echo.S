# echo.S - copy standard input to the output byte by byte (like cat) with
# GETCHAR and PUTCHAR; exit with status 0 at end of input. GETCHAR marks the
# end with 0xFF, so a 0xFF byte in the input also ends it.
    .include "lib.inc"

main:
    HCALL HC_GETCHAR        # the byte is then read from the port
    in (%dx), %al
    cmp $0xFF, %al
    je 1f
    call putc
    jmp main
1:  EXIT
