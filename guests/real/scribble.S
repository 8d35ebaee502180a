# scribble.S - isolation test guest: write a pattern over all the RAM this
# guest can reach, then read it all back and report. Real mode reaches the
# first 1 MiB; every 64 KiB segment except our own (0x10000, code and stack)
# is filled with a word made of the segment number and a per-run seed (from
# the time stamp counter, so two scribbles at once use different patterns).
# Another guest running at the same time must see none of this, and none of
# its writes may show up here.
    .include "lib.inc"

    .set OWN_SEG, 0x1000

main:
    rdtsc                   # seed = low 12 bits of the time stamp counter
    and $0x0FFF, %ax
    mov %ax, seed
    call probe_ram          # AX = segments of RAM
    mov %ax, nseg
    xor %bx, %bx            # BX = segment, in steps of 0x1000 (64 KiB)
    mov %ax, %bp            # BP = segments left
1:  call fill
    add $0x1000, %bx
    dec %bp
    jnz 1b

    xor %bx, %bx            # verify in a second pass: SI = bad segments
    xor %si, %si
    mov nseg, %bp
2:  call check
    add $0x1000, %bx
    dec %bp
    jnz 2b

    mov %ds, %ax            # restore ES (fill/check change it)
    mov %ax, %es
    PRINT msg_done
    mov nseg, %ax           # KiB written = (segments - 1) * 64
    dec %ax
    shl $6, %ax
    call print_u16
    PRINT msg_kib
    test %si, %si
    jnz bad
    PRINT msg_ok
    EXIT
bad:
    mov %si, %ax
    call print_u16
    PRINT msg_bad
    EXIT_CODE 1

# probe_ram: AX = how many 64 KiB segments from 0 are RAM, at most 16
# (1 MiB). Segments 0 and 1 are (we run in 1); a later one is RAM when a word
# written at its start reads back (outside RAM, reads return all ones).
probe_ram:
    push %bx
    mov $2, %ax
    mov $0x2000, %bx
1:  mov %bx, %es
    movw $0x55AA, %es:0
    cmpw $0x55AA, %es:0
    jne 2f
    inc %ax
    add $0x1000, %bx
    jnz 1b                  # until 0xF000 + 0x1000 wraps to 0
2:  pop %bx
    ret

# pattern: AX = the fill word of segment BX (a multiple of 0x1000).
pattern:
    mov seed, %ax
    or %bx, %ax
    ret

# fill: fill the 64 KiB segment BX with its pattern (skips our own).
fill:
    cmp $OWN_SEG, %bx
    je 1f
    mov %bx, %es
    call pattern
    xor %di, %di
    mov $0x8000, %cx
    cld
    rep stosw
1:  ret

# check: compare segment BX with its pattern; SI += 1 if any word differs.
check:
    cmp $OWN_SEG, %bx
    je 1f
    mov %bx, %es
    call pattern
    xor %di, %di
    mov $0x8000, %cx
    cld
    repe scasw
    je 1f
    inc %si
1:  ret

nseg:     .word 0
seed:     .word 0
msg_done: .asciz "scribble: wrote and verified "
msg_kib:  .asciz " KiB outside its own segment\n"
msg_ok:   .asciz "scribble: pattern intact\n"
msg_bad:  .asciz " segments corrupted\n"
