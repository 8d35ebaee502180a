# uart.S - a guest that talks to the hardware, like a first hobby OS: it prints
# on COM1 (16550 at 0x3F8, polled) and on the debug console port 0xE9, then
# reads one line from COM1 by polling LSR and prints it back in upper case.
# guests/long/uart64.S builds the same source in 64-bit mode.
    .include "lib.inc"

#ifdef __x86_64__
#define SI %rsi
#define AX %rax
#else
#define SI %si
#define AX %ax
#endif

    .set COM1,     0x3F8        # THR (write) / RBR (read)
    .set COM1_LSR, COM1 + 5     # line status: bit 0 = data ready, bit 5 = THR empty
    .set DEBUGCON, 0xE9         # QEMU/Bochs debug console: one byte per `out`

main:
    mov $msg_com1, SI
    call com1_puts
    mov $msg_e9, SI
1:  lodsb                       # 0xE9 fits the 8-bit immediate of `out`
    test %al, %al
    jz 2f
    out %al, $DEBUGCON
    jmp 1b
2:  mov $msg_got, SI
    call com1_puts
3:  call com1_getc              # echo the line in upper case, up to its newline
    cmp $'a', %al
    jb 4f
    cmp $'z', %al
    ja 4f
    sub $('a' - 'A'), %al
4:  call com1_putc
    cmp $'\n', %al
    jne 3b
    EXIT

# com1_putc: wait until the transmitter is empty, then send AL.
com1_putc:
    push AX
    mov $COM1_LSR, %dx
1:  in (%dx), %al
    test $0x20, %al
    jz 1b
    pop AX
    mov $COM1, %dx
    out %al, (%dx)
    ret

# com1_puts: send the NUL-terminated string at SI (DS:SI, or RSI).
com1_puts:
    lodsb
    test %al, %al
    jz 1f
    call com1_putc
    jmp com1_puts
1:  ret

# com1_getc: wait until a byte has arrived (LSR bit 0), return it in AL.
com1_getc:
    mov $COM1_LSR, %dx
1:  in (%dx), %al
    test $0x01, %al
    jz 1b
    mov $COM1, %dx
    in (%dx), %al
    ret

#ifdef __x86_64__
msg_com1: .asciz "Hello from COM1 (long mode)\n"
msg_e9:   .asciz "Hello from port 0xE9 (long mode)\n"
#else
msg_com1: .asciz "Hello from COM1 (real mode)\n"
msg_e9:   .asciz "Hello from port 0xE9 (real mode)\n"
#endif
msg_got:  .asciz "COM1 read: "
