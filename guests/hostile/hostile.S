# hostile.S - a hostile ELF64 kernel for tests/integration/test_hostile.py: it
# abuses its virtio-blk disk in the way the command line names, then reports.
#
#   mini-kvm -m 16M -k hostile.elf --disk D.img -p SCENARIO
#
# Entered in 64-bit mode at 0x100000 with the first 4 GiB identity-mapped,
# RDI = boot info (struct mkvm_boot_info, src/abi/mkvm_abi.h: ram_size at +8,
# the command line's address at +16, nvirtio at +28, virtio[0].base at +32).
# The first letter of the command line picks the scenario (table below).
# Every scenario ends with one line on port 0xE9,
#   "hostile: X status=SS used=UUUU req=RR"
# (the device's Status register, the used ring's index and the request's
# status byte, hex; 'ff' = untouched) and an ACPI S5 power-off (exit 0).
# Scenario 'D' (durability) reads sector 1, writes its bitwise complement to
# sector 2, flushes, prints "hostile: flushed" and spins until killed.

    .set R_STATUS,   0x070
    .set R_DRVFEAT,  0x020
    .set R_DRVSEL,   0x024
    .set R_QSEL,     0x030
    .set R_QNUM,     0x038
    .set R_QREADY,   0x044
    .set R_NOTIFY,   0x050
    .set R_INTACK,   0x064
    .set R_DESC,     0x080
    .set R_DRIVER,   0x090
    .set R_DEVICE,   0x0a0

    .set DESC,       0x20000        # guest RAM the scenarios use
    .set AVAIL,      0x21000
    .set USED,       0x22000
    .set HDR,        0x23000
    .set DATA,       0x24000
    .set STATUS,     0x26000

    .set F_NEXT,     1
    .set F_WRITE,    2
    .set F_INDIRECT, 4
    .set T_IN,       0
    .set T_OUT,      1
    .set T_FLUSH,    4

    .code64
    .text
    .globl _start
_start:
    mov $0x80000, %rsp
    mov %rdi, %rbx                  # boot info
    mov 32(%rbx), %r15              # the first virtio device: the disk
    cmpl $0, 28(%rbx)
    je unknown
    movb $0xff, STATUS              # "untouched" until the device writes it
    movw $0, USED + 2
    mov 16(%rbx), %rsi              # command line
    xor %eax, %eax
    test %rsi, %rsi
    jz 1f
    movzbl (%rsi), %eax
1:  lea table(%rip), %rsi
2:  movzbl (%rsi), %ecx
    test %ecx, %ecx
    jz unknown
    cmp %eax, %ecx
    je 3f
    add $16, %rsi
    jmp 2b
3:  mov 8(%rsi), %rax
    call *%rax
    jmp report

# letter, handler: the scenarios
    .section .rodata
    .balign 16
table:
    .quad 'a', s_loop               # a chain whose data descriptor points to itself
    .quad 'b', s_len_max            # a data buffer of 0xFFFFFFFF bytes
    .quad 'c', s_ring_end           # the descriptor table runs past the end of RAM
    .quad 'd', s_size_12            # QueueNum 12: not a power of two
    .quad 'e', s_early              # a write request notified before DRIVER_OK
    .quad 'f', s_avail_ahead        # avail.idx 1000 entries ahead
    .quad 'g', s_next_range         # next = 0xFFFF
    .quad 'h', s_head_range         # an avail ring entry beyond the queue
    .quad 'i', s_indirect           # an indirect descriptor (not negotiated)
    .quad 'j', s_rd_after_wr        # device-readable after device-writable
    .quad 'k', s_no_status          # no device-writable byte for the status
    .quad 'l', s_sector_huge        # write at sector 2^63
    .quad 'm', s_past_end           # write of 2 sectors starting at the last one
    .quad 'n', s_misaligned         # a descriptor table at an odd address
    .quad 'o', s_mmio_buf           # a buffer on the device's own registers
    .quad 'p', s_hdr_huge           # a header descriptor of 0xFFFFFFFF bytes
    .quad 'q', s_notify_storm       # 100000 notifications of an empty ring
    .quad 'r', s_reg_flood          # 100000 writes and reads over the whole register window
    .quad 's', s_used_over_desc     # the used ring on top of the descriptor table
    .quad 't', s_wrap_addr          # a buffer at 0xFFFFFFFFFFFFFF00 (wraps around)
    .quad 'u', s_bad_queue          # QueueSel 7 (no such queue), ready + notify it
    .quad 'v', s_live_change        # rewrite QueueNum and the rings of a live queue
    .quad 'w', s_ok_write           # a well-formed write of sector 3 (the control case)
    .quad 'x', s_port_flood         # 0 out to every port of the PC platform, then a byte in
    .quad 'D', s_durability
    .quad 0, 0
    .text

unknown:                            # (or no disk)
    lea msg_unknown(%rip), %rsi
    call puts
    jmp poweroff

# ---- the driver's pieces ----

# reg32 off, value
    .macro WR off, val
    movl \val, \off(%r15)
    .endm

# ACKNOWLEDGE, DRIVER, VERSION_1 + FLUSH, FEATURES_OK
negotiate:
    WR R_STATUS, $0
    WR R_STATUS, $3
    WR R_DRVSEL, $1
    WR R_DRVFEAT, $1
    WR R_DRVSEL, $0
    WR R_DRVFEAT, $0x200
    WR R_STATUS, $0xB
    ret

# queue 0: size %edi, rings at DESC/AVAIL/USED, ready
queue:
    mov $DESC, %esi
    mov $USED, %edx
# queue 0: size %edi, descriptors at %esi, avail at AVAIL, used at %edx, ready
queue_at:
    WR R_QSEL, $0
    WR R_QNUM, %edi
    WR R_DESC, %esi
    WR R_DESC + 4, $0
    WR R_DRIVER, $AVAIL
    WR R_DRIVER + 4, $0
    WR R_DEVICE, %edx
    WR R_DEVICE + 4, $0
    WR R_QREADY, $1
    ret

driver_ok:
    WR R_STATUS, $0xF
    ret

# the usual start: negotiate, a queue of 16, DRIVER_OK
start16:
    call negotiate
    mov $16, %edi
    call queue
    jmp driver_ok

# desc %edi: addr %rsi, len %edx, flags %cx, next %r8w
desc:
    shl $4, %edi
    mov %rsi, DESC(%rdi)
    mov %edx, DESC + 8(%rdi)
    mov %cx, DESC + 12(%rdi)
    mov %r8w, DESC + 14(%rdi)
    ret

# header at HDR: type %edi, sector %rsi
header:
    mov %edi, HDR
    movl $0, HDR + 4
    mov %rsi, HDR + 8
    ret

# the three-descriptor request 0 -> 1 -> 2: header, data (%edx bytes at
# DATA, device-writable when %ecx = F_WRITE), status
request:
    push %rcx
    push %rdx
    xor %edi, %edi
    mov $HDR, %esi
    mov $16, %edx
    mov $F_NEXT, %ecx
    mov $1, %r8d
    call desc
    pop %rdx
    pop %rcx
    or $F_NEXT, %ecx
    mov $1, %edi
    mov $DATA, %esi
    mov $2, %r8d
    call desc
    mov $2, %edi
    mov $STATUS, %esi
    mov $1, %edx
    mov $F_WRITE, %ecx
    xor %r8d, %r8d
    jmp desc

# make head %edi available (avail.ring[idx % 16]), notify queue 0 and wait
# (bounded) until the device used a chain or marked itself broken: mini-kvm
# serves the queue on its I/O thread (an ioeventfd), not during the write.
submit:
    movzwl AVAIL + 2, %eax
    mov %eax, %ecx
    and $15, %ecx
    mov %di, AVAIL + 4(,%rcx,2)
    inc %eax
    mov %ax, AVAIL + 2
# notify queue 0 and wait as above (also for rings made by hand)
notify_wait:
    push %rdx
    movzwl USED + 2, %edx
    WR R_NOTIFY, $0
    mov $200000, %ecx
1:  movzwl USED + 2, %eax
    cmp %edx, %eax
    jne 2f
    testl $0x40, R_STATUS(%r15)     # DEVICE_NEEDS_RESET
    jnz 2f
    pause
    loop 1b
2:  pop %rdx
    ret

notify:
    WR R_NOTIFY, $0
    ret

# a write request of %edx bytes at sector %rsi, submitted
write_req:
    push %rdx
    mov $T_OUT, %edi
    call header
    pop %rdx
    xor %ecx, %ecx
    call request
    xor %edi, %edi
    jmp submit

# ---- scenarios ----

s_loop:
    call start16
    mov $512, %edx
    mov $3, %esi
    call write_req_unsubmitted
    movw $1, DESC + 16 + 14         # the data descriptor's next is itself
    xor %edi, %edi
    jmp submit

write_req_unsubmitted:
    push %rdx
    mov $T_OUT, %edi
    call header
    pop %rdx
    xor %ecx, %ecx
    jmp request

s_len_max:
    call start16
    mov $T_IN, %edi
    mov $4, %esi
    call header
    mov $0xFFFFFFFF, %edx
    mov $F_WRITE, %ecx
    call request
    xor %edi, %edi
    jmp submit

s_ring_end:
    call negotiate
    mov 8(%rbx), %rsi               # RAM size: the table's last 16 bytes lie past it
    sub $(16 * 16 - 16), %rsi
    mov $16, %edi
    mov $USED, %edx
    call queue_at
    call driver_ok
    xor %edi, %edi
    jmp submit

s_size_12:
    call negotiate
    mov $12, %edi
    call queue
    call driver_ok
    mov $512, %edx
    mov $3, %esi
    jmp write_req

s_early:
    call negotiate
    mov $16, %edi
    call queue                      # no DRIVER_OK
    mov $512, %edx
    mov $3, %esi
    call write_req
    call notify
    jmp notify

s_avail_ahead:
    call start16
    mov $512, %edx
    mov $3, %esi
    call write_req_unsubmitted
    movw $1000, AVAIL + 2
    jmp notify_wait

s_next_range:
    call start16
    mov $512, %edx
    mov $3, %esi
    call write_req_unsubmitted
    movw $0xFFFF, DESC + 16 + 14
    xor %edi, %edi
    jmp submit

s_head_range:
    call start16
    mov $512, %edx
    mov $3, %esi
    call write_req_unsubmitted
    mov $0x4000, %edi
    jmp submit

s_indirect:
    call start16
    mov $512, %edx
    mov $3, %esi
    call write_req_unsubmitted
    orw $F_INDIRECT, DESC + 16 + 12
    xor %edi, %edi
    jmp submit

s_rd_after_wr:
    call start16
    mov $512, %edx
    mov $3, %esi
    call write_req_unsubmitted
    movw $(F_WRITE | F_NEXT), DESC + 12            # header device-writable,
    xor %edi, %edi                                 # data readable after it
    jmp submit

s_no_status:
    call start16
    mov $512, %edx
    mov $3, %esi
    call write_req_unsubmitted
    movw $0, DESC + 2 * 16 + 12                    # status byte readable
    xor %edi, %edi
    jmp submit

s_sector_huge:
    call start16
    mov $512, %edx
    mov $0x8000000000000000, %rsi
    jmp write_req

s_past_end:
    call start16
    WR R_QSEL, $0
    mov 0x100(%r15), %esi           # capacity (sectors), low half
    dec %esi
    mov $1024, %edx
    jmp write_req

s_misaligned:
    call negotiate
    mov $16, %edi
    mov $(DESC + 1), %esi
    mov $USED, %edx
    call queue_at
    call driver_ok
    xor %edi, %edi
    jmp submit

s_mmio_buf:
    call start16
    mov $512, %edx
    mov $3, %esi
    call write_req_unsubmitted
    mov %r15, DESC + 16
    xor %edi, %edi
    jmp submit

s_hdr_huge:
    call start16
    mov $512, %edx
    mov $3, %esi
    call write_req_unsubmitted
    movl $0xFFFFFFFF, DESC + 8
    xor %edi, %edi
    jmp submit

s_notify_storm:
    call start16
    mov $100000, %r12d
1:  call notify
    dec %r12d
    jnz 1b
    ret

# Every 4-byte register of the window, written with a mixing value and read
# back, 100000 times; writes of 0 to Status reset the device on the way.
s_reg_flood:
    call start16
    mov $100000, %r12d
    mov $0x12345678, %r13d
1:  imul $1103515245, %r13d, %r13d
    add $12345, %r13d
    mov %r12d, %eax
    and $0x7F, %eax                 # 128 registers of 4 bytes: 0x000-0x1FC
    cmp $(R_STATUS / 4), %eax       # leave Status alone: the flood stays on a live device
    je 2f
    cmp $(R_NOTIFY / 4), %eax
    je 2f
    mov %r13d, (%r15,%rax,4)
2:  mov (%r15,%rax,4), %ecx
    dec %r12d
    jnz 1b
    mov $512, %edx                  # and a request still gets an answer or a refusal
    mov $3, %esi
    jmp write_req

s_used_over_desc:
    call negotiate
    mov $16, %edi
    mov $DESC, %esi
    mov $DESC, %edx                 # the device's used entries land on descriptors
    call queue_at
    call driver_ok
    mov $512, %edx
    mov $3, %esi
    call write_req
    mov $512, %edx
    mov $3, %esi
    jmp write_req

s_wrap_addr:
    call start16
    mov $512, %edx
    mov $3, %esi
    call write_req_unsubmitted
    movq $0xFFFFFFFFFFFFFF00, %rax
    mov %rax, DESC + 16
    xor %edi, %edi
    jmp submit

s_bad_queue:
    call negotiate
    WR R_QSEL, $7
    WR R_QNUM, $16
    WR R_DESC, $DESC
    WR R_QREADY, $1
    call driver_ok
    WR R_NOTIFY, $7
    WR R_NOTIFY, $0xFFFF
    ret

s_live_change:
    call start16
    WR R_QNUM, $3                   # the spec forbids it: ignored on a live queue
    WR R_DESC, $0xFFFFF000
    WR R_DRIVER, $0xFFFFF000
    mov $512, %edx
    mov $3, %esi
    jmp write_req

s_ok_write:
    call start16
    movl $0x55AA55AA, DATA
    mov $512, %edx
    mov $3, %esi
    jmp write_req

# Every port but 0xE9 (it would print), 0xF4-0xF7 (debug exit) and 0x500-0x503
# (hypercall 0 is EXIT), which would stop the guest: the platform's claimed devices (UART, RTC, i8042, ACPI PM, CGA, port
# 0x92, POST) and the unclaimed rest. 0 resets or powers off nothing.
s_port_flood:
    xor %edx, %edx
1:  cmp $0xE9, %edx
    je 2f
    mov %edx, %eax
    and $0xFFFC, %eax
    cmp $0xF4, %eax
    je 2f
    cmp $0x500, %eax                # the hypercall port: function 0 is EXIT
    je 2f
    xor %eax, %eax
    out %al, (%dx)
    in (%dx), %al
2:  inc %edx
    cmp $0x10000, %edx
    jne 1b
    ret

# Durability: sector 1 in, its complement out to sector 2, flush, report.
s_durability:
    call start16
    mov $T_IN, %edi
    mov $1, %esi
    call header
    mov $512, %edx
    mov $F_WRITE, %ecx
    call request
    xor %edi, %edi
    call submit
    cmpb $0, STATUS
    jne report
    mov $DATA, %esi
    mov $(512 / 8), %ecx
1:  notq (%rsi)
    add $8, %rsi
    loop 1b
    movb $0xff, STATUS
    mov $512, %edx
    mov $2, %esi
    call write_req
    cmpb $0, STATUS
    jne report
    mov $T_FLUSH, %edi
    xor %esi, %esi
    call header
    xor %edi, %edi                  # header -> status
    mov $HDR, %esi
    mov $16, %edx
    mov $F_NEXT, %ecx
    mov $2, %r8d
    call desc
    movb $0xff, STATUS
    xor %edi, %edi
    call submit
    cmpb $0, STATUS
    jne report
    lea msg_flushed(%rip), %rsi
    call puts
1:  pause
    jmp 1b

# ---- the report and the end ----

report:
    lea msg_head(%rip), %rsi
    call puts
    mov 16(%rbx), %rsi
    movzbl (%rsi), %eax
    call putc
    lea msg_status(%rip), %rsi
    call puts
    mov R_STATUS(%r15), %eax
    mov $2, %ecx
    call puthex
    lea msg_used(%rip), %rsi
    call puts
    movzwl USED + 2, %eax
    mov $4, %ecx
    call puthex
    lea msg_req(%rip), %rsi
    call puts
    movzbl STATUS, %eax
    mov $2, %ecx
    call puthex
    mov $'\n', %al
    call putc
poweroff:
    mov $0x604, %dx                 # PM1_CNT: SLP_TYP = S5 (5), SLP_EN
    mov $(5 << 10 | 0x2000), %ax
    out %ax, (%dx)
    hlt
    jmp poweroff

putc:
    push %rdx
    mov $0xE9, %dx
    out %al, (%dx)
    pop %rdx
    ret

puts:
    lodsb
    test %al, %al
    jz 1f
    call putc
    jmp puts
1:  ret

# %eax as %ecx hex digits
puthex:
    mov %eax, %edx
    lea (,%rcx,4), %ecx
1:  sub $4, %ecx
    mov %edx, %eax
    shr %cl, %eax
    and $15, %eax
    lea hexdig(%rip), %rdi
    movzbl (%rdi,%rax), %eax
    call putc
    test %ecx, %ecx
    jnz 1b
    ret

    .section .rodata
hexdig:      .ascii "0123456789abcdef"
msg_unknown: .asciz "hostile: unknown scenario\n"
msg_flushed: .asciz "hostile: flushed\n"
msg_head:    .asciz "hostile: "
msg_status:  .asciz " status="
msg_used:    .asciz " used="
msg_req:     .asciz " req="
