/* mbtest.S - a Multiboot (v1) test kernel: checks what the loader hands over
 * (EAX, info flags, memory map, command line, module 0), prints one result line
 * on the CGA screen, COM1 and port 0xE9, then exits through port 0xF4.
 *
 * Built twice by the Makefile: mbtest.elf (ELF32, the loader reads the
 * program headers) and mbtest-aout.bin (flat, -DAOUT: header flag 16, the
 * loader uses the address fields). Command line tokens it understands:
 *   mbtest-token   must be present (the check that -p reaches the kernel)
 *   exit=N         the value written to port 0xF4: status (N << 1) | 1
 * Module 0 must hold exactly MODULE_TEXT (tests/integration/test_multiboot.py).
 * It runs ring-0 code emulated by kvm_pvm, so every loop here is short. */

#define MB_MAGIC      0x1BADB002
#define MB_BOOT_MAGIC 0x2BADB002
#ifdef AOUT
#define MB_FLAGS      0x00010003    /* page-aligned modules, memory info, a.out kludge */
#else
#define MB_FLAGS      0x00000003    /* page-aligned modules, memory info */
#endif
/* info flags the test needs: mem, cmdline, mods, mmap, boot_loader_name */
#define NEED_FLAGS    ((1 << 0) | (1 << 2) | (1 << 3) | (1 << 6) | (1 << 9))

#define COM1          0x3F8
#define COM1_LSR      0x3FD
#define LSR_THRE      0x20
#define DEBUGCON      0xE9
#define EXIT_PORT     0xF4
#define CGA           0xB8000
#define LINE_MAX      200
#define FAIL_EXIT     1             /* status 3 */

    .code32
    .section .multiboot, "a"
    .align 4
mb_header:
    .long MB_MAGIC
    .long MB_FLAGS
    .long -(MB_MAGIC + MB_FLAGS)
#ifdef AOUT
    .long mb_header                 /* header_addr */
    .long mb_header                 /* load_addr: the image starts with the header */
    .long _edata                    /* load_end_addr */
    .long _end                      /* bss_end_addr */
    .long start                     /* entry_addr */
#endif

    .text
    .globl start
start:
    mov $stack_top, %esp
    cmp $MB_BOOT_MAGIC, %eax
    jne bad_magic
    mov %ebx, info

    /* the information structure's flags */
    mov (%ebx), %eax
    and $NEED_FLAGS, %eax
    cmp $NEED_FLAGS, %eax
    jne bad_flags

    /* memory map: a usable region at 1 MiB at least mem_upper KiB long */
    mov 8(%ebx), %edx               /* mem_upper */
    shl $10, %edx
    jz bad_mmap
    mov 48(%ebx), %esi              /* mmap_addr */
    mov 44(%ebx), %ecx              /* mmap_length */
    add %esi, %ecx                  /* end */
1:  cmp %ecx, %esi
    jae bad_mmap
    cmpl $1, 20(%esi)               /* type: available */
    jne 2f
    cmpl $0x100000, 4(%esi)         /* base, low and high halves */
    jne 2f
    cmpl $0, 8(%esi)
    jne 2f
    cmpl $0, 16(%esi)               /* length >= 4 GiB: certainly enough */
    jne 3f
    cmp %edx, 12(%esi)
    jae 3f
2:  add (%esi), %esi                /* size excludes the size field itself */
    add $4, %esi
    jmp 1b
3:
    /* command line: our token, and exit=N */
    mov info, %ebx
    mov 16(%ebx), %esi
    mov $token, %edi
    call find
    test %eax, %eax
    jz bad_cmdline
    mov 16(%ebx), %esi
    mov $exit_key, %edi
    call find
    test %eax, %eax
    jz 5f
    lea 5(%eax), %esi               /* past "exit=" */
    xor %eax, %eax
4:  movzbl (%esi), %ecx
    sub $'0', %ecx
    cmp $9, %ecx
    ja 5f
    imul $10, %eax
    add %ecx, %eax
    inc %esi
    jmp 4b
5:  mov %eax, exit_value

    /* module 0: page aligned, exactly MODULE_TEXT */
    cmpl $1, 20(%ebx)               /* mods_count */
    jb bad_module
    mov 24(%ebx), %ebx              /* mods_addr */
    mov (%ebx), %esi                /* mod_start */
    test $0xFFF, %esi
    jnz bad_module
    mov 4(%ebx), %ecx               /* mod_end (exclusive) */
    sub %esi, %ecx
    cmp $module_text_len, %ecx
    jne bad_module
    mov $module_text, %edi
    repe cmpsb
    jne bad_module

    /* the result line */
    mov $pass, %esi
    call append
    mov info, %ebx
    mov 8(%ebx), %eax
    call append_dec
    mov $kib_mods, %esi
    call append
    mov 20(%ebx), %eax
    call append_dec
    mov $mod0, %esi
    call append
    mov 24(%ebx), %esi
    mov 8(%esi), %esi               /* module 0's string */
    call append
    mov $loader, %esi
    call append
    mov 64(%ebx), %esi              /* boot_loader_name */
    call append
    call finish
    mov exit_value, %eax
    jmp leave

bad_magic:   mov $msg_magic, %esi;   jmp fail
bad_flags:   mov $msg_flags, %esi;   jmp fail
bad_mmap:    mov $msg_mmap, %esi;    jmp fail
bad_cmdline: mov $msg_cmdline, %esi; jmp fail
bad_module:  mov $msg_module, %esi;  jmp fail
fail:
    push %esi
    mov $failed, %esi
    call append
    pop %esi
    call append
    call finish
    mov $FAIL_EXIT, %eax
leave:
    out %eax, $EXIT_PORT            /* a 4-byte write; the VM stops here */
    cli
6:  hlt
    jmp 6b

/* find: the first occurrence of the string at %edi in the one at %esi;
 * %eax = its address or 0. Clobbers %ecx, %edx. */
find:
    push %esi
1:  xor %ecx, %ecx
2:  movb (%edi,%ecx), %dl
    test %dl, %dl
    jz 3f                           /* the whole needle matched */
    cmpb (%esi,%ecx), %dl
    jne 4f
    inc %ecx
    jmp 2b
3:  mov %esi, %eax
    pop %esi
    ret
4:  cmpb $0, (%esi)
    je 5f
    inc %esi
    jmp 1b
5:  xor %eax, %eax
    pop %esi
    ret

/* append: the string at %esi to line (at most LINE_MAX bytes in all).
 * Clobbers %eax, %ecx, %esi. */
append:
    mov line_len, %ecx
1:  lodsb
    test %al, %al
    jz 2f
    cmp $LINE_MAX, %ecx
    jae 2f
    mov %al, line(%ecx)
    inc %ecx
    jmp 1b
2:  mov %ecx, line_len
    ret

/* append_dec: %eax in decimal. Clobbers %eax, %ecx, %edx, %esi. */
append_dec:
    mov $digits_end, %esi
    movb $0, (%esi)
    mov $10, %ecx
1:  xor %edx, %edx
    div %ecx
    add $'0', %dl
    dec %esi
    mov %dl, (%esi)
    test %eax, %eax
    jnz 1b
    jmp append

/* finish: end the line with a newline and print it: COM1 and 0xE9 each
 * with a prefix naming the channel (the test checks both arrive), the
 * screen's top row without one. */
finish:
    mov line_len, %ecx
    movb $'\n', line(%ecx)
    movb $0, line+1(%ecx)
    mov $pfx_com1, %esi
    call com1_puts
    mov $line, %esi
    call com1_puts
    mov $pfx_e9, %esi
    call e9_puts
    mov $line, %esi
    call e9_puts
    mov $line, %esi
    mov $CGA, %edi
    mov $0x1F00, %eax               /* white on blue */
1:  lodsb
    cmp $'\n', %al
    je 2f
    stosw
    jmp 1b
2:  ret

com1_puts:
    mov $COM1_LSR, %dx
1:  inb %dx, %al                    /* wait for an empty transmit register */
    test $LSR_THRE, %al
    jz 1b
    lodsb
    test %al, %al
    jz 2f
    mov $COM1, %dx
    outb %al, %dx
    jmp com1_puts
2:  ret

e9_puts:
1:  lodsb
    test %al, %al
    jz 2f
    outb %al, $DEBUGCON
    jmp 1b
2:  ret

    .section .rodata
token:       .asciz "mbtest-token"
exit_key:    .asciz "exit="
module_text: .ascii "mini-kvm multiboot module 0\n"
    .set module_text_len, . - module_text
pass:        .asciz "mbtest: PASS mem_upper="
kib_mods:    .asciz " KiB mods="
mod0:        .asciz " mod0="
loader:      .asciz " loader="
failed:      .asciz "mbtest: FAIL "
msg_magic:   .asciz "EAX is not 0x2BADB002"
msg_flags:   .asciz "info flags lack mem/cmdline/mods/mmap/loader name"
msg_mmap:    .asciz "no usable memory map region at 1 MiB covering mem_upper"
msg_cmdline: .asciz "mbtest-token is not on the command line"
msg_module:  .asciz "module 0 missing, not page aligned or not the expected bytes"
pfx_com1:    .asciz "com1: "
pfx_e9:      .asciz "e9: "

    .data
    .align 4
line_len:    .long 0

    .bss
    .align 4
info:        .long 0
exit_value:  .long 0
digits:      .skip 12
digits_end:  .skip 4
line:        .skip LINE_MAX + 2
    .align 16
stack:       .skip 4096
stack_top:
