/* progs.S - the user programs, linked into the kernel image as ELF files,
 * and a table of {name, start, end} that spawn() searches (proc.c). */

/* Each entry: the ELF bytes in .rodata, the name in .rodata.str, and three
 * quadwords in the table being built in .rodata. */
.macro prog name
    .pushsection .rodata.progs, "a"
    .balign 16
1:  .incbin "\name\().elf"
2:
    .pushsection .rodata.str, "a"
3:  .asciz "\name"
    .popsection
    .popsection
    .quad 3b, 1b, 2b
.endm

    .section .rodata
    .balign 8
    .globl programs
programs:
    prog sh
    prog hello
    prog fib
    prog primes
    prog spin
    prog crash
    prog badptr
    .quad 0, 0, 0

    .section .note.GNU-stack, "", @progbits
