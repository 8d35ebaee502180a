/* test_hypercall.c - unit tests for hypercall decoding on port 0x500 with a
 * fake vCPU whose registers are preset (no KVM needed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_vm.h"

#include <stdlib.h>
#include <string.h>

#include "core/console.h"
#include "core/kvm.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "devices/hypercall.h"

struct fixture {
    struct kvm_host h;
    struct vm vm;
    struct vcpu c;
    struct console con;
    struct console_port port;
    struct kvm_run run;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    fake_vm_init(&f->vm, 1 << 20);
    f->vm.kvm = &f->h;
    console_init(&f->con, true);          /* prefix mode: lines buffered */
    console_port_init(&f->port, &f->con, "t", 0, false);
    f->vm.con = &f->port;
    f->c.vm = &f->vm;
    f->c.run = &f->run;
    f->c.regs_valid = f->c.sregs_valid = true;  /* real mode, DS base 0x10000 */
    f->c.sregs.ds.base = 0x10000;
    assert_int_equal(hypercall_create(&f->vm), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    fake_vm_fini(&f->vm);
    free(f);
    return 0;
}

static int out(struct fixture *f, uint8_t al)
{
    uint8_t data[1] = { al };
    struct io_req r = { .addr = MKVM_HC_PORT, .data = data, .len = 1, .write = true, .cpu = &f->c };
    return bus_access(&f->vm.pio, &r);
}

static void test_putchar_and_write(void **state)
{
    struct fixture *f = *state;
    f->c.regs.rbx = 'A';
    assert_int_equal(out(f, MKVM_HC_PUTCHAR), IO_OK);
    guest_write(&f->vm.mem, 0x10000 + 0x40, "bc", 2);
    f->c.regs.rsi = 0x40;                   /* DS:SI */
    f->c.regs.rcx = 0xABCD0002;             /* only CX counts in real mode */
    assert_int_equal(out(f, MKVM_HC_WRITE), IO_OK);
    assert_int_equal(f->port.n, 3);
    assert_memory_equal(f->port.line, "Abc", 3);
}

static void test_write_out_of_bounds(void **state)
{
    struct fixture *f = *state;
    f->c.sregs.ds.base = (1 << 20) - 16;    /* buffer runs past the end of RAM */
    f->c.regs.rsi = 0;
    f->c.regs.rcx = 32;
    assert_int_equal(out(f, MKVM_HC_WRITE), IO_STOP);
    assert_int_equal(f->vm.exit_status, VM_EXIT_FAULT);
}

static void test_write_32bit_protected_mode(void **state)
{
    struct fixture *f = *state;
    f->c.sregs.cr0 = 1;                     /* PE, no paging: DS base + ESI */
    f->c.sregs.ds.base = 0;
    guest_write(&f->vm.mem, 0x20000, "pm", 2);
    f->c.regs.rsi = 0xFFFFFFFF00020000ULL;  /* only ESI counts */
    f->c.regs.rcx = 2;
    assert_int_equal(out(f, MKVM_HC_WRITE), IO_OK);
    assert_memory_equal(f->port.line, "pm", 2);
    f->c.regs.rax = 0xFFFFFFFFFFFFFFFFULL;
    assert_int_equal(out(f, MKVM_HC_VERSION), IO_OK);
    assert_int_equal(f->c.regs.rax, MKVM_HC_ABI_VERSION);    /* EAX zero-extends */
}

static void test_real_mode_buffer_stays_in_its_segment(void **state)
{
    struct fixture *f = *state;
    f->c.regs.rsi = 0xFFF0;                 /* DS:FFF0 + 32 runs past the segment */
    f->c.regs.rcx = 32;
    assert_int_equal(out(f, MKVM_HC_WRITE), IO_STOP);
    assert_int_equal(f->vm.exit_status, VM_EXIT_FAULT);
}

static void test_exit_code(void **state)
{
    struct fixture *f = *state;
    f->c.regs.rbx = 0x1207;                 /* only BL counts */
    assert_int_equal(out(f, MKVM_HC_EXIT_CODE), IO_STOP);
    assert_true(atomic_load(&f->vm.stopping));
    assert_int_equal(f->vm.exit_status, 7);
}

static void test_version_nop(void **state)
{
    struct fixture *f = *state;
    f->c.regs.rax = 0xFFFF0000;
    assert_int_equal(out(f, MKVM_HC_VERSION), IO_OK);
    assert_int_equal(f->c.regs.rax, 0xFFFF0000 | MKVM_HC_ABI_VERSION);
    assert_true(f->c.regs_dirty);
    assert_int_equal(out(f, MKVM_HC_NOP), IO_OK);
    assert_false(atomic_load(&f->vm.stopping));
}

static void test_unknown(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(out(f, 0x42), IO_STOP);
    assert_int_equal(f->vm.exit_status, VM_EXIT_FAULT);
}

static void test_in_without_stdin(void **state)
{
    struct fixture *f = *state;
    uint8_t data[2] = { 0, 0 };
    struct io_req r = { .addr = MKVM_HC_PORT, .data = data, .len = 1, .write = false, .cpu = &f->c };
    assert_int_equal(bus_access(&f->vm.pio, &r), IO_OK);
    assert_int_equal(data[0], 0xFF);        /* not the stdin owner: end of input */
}

/* out(f, al) with stderr captured: the one error line (or "") in err. */
static int out_err(struct fixture *f, uint8_t al, char *err, size_t n)
{
    struct capture cap;
    capture_begin(&cap);
    int r = out(f, al);
    capture_end(&cap, err, n);
    return r;
}

static void expect_stop(struct fixture *f, uint8_t al, const char *want)
{
    char err[512];
    atomic_store(&f->vm.stopping, false);
    assert_int_equal(out_err(f, al, err, sizeof(err)), IO_STOP);
    if (!strstr(err, want))
        fail_msg("'%s' lacks '%s'", err, want);
    assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1);   /* one line */
    assert_int_equal(f->vm.exit_status, VM_EXIT_FAULT);
}

/* WRITE and READLINE agree: length 0 does nothing, wherever the buffer is. */
static void test_length_zero_for_write_and_readline(void **state)
{
    struct fixture *f = *state;
    char err[512];
    f->c.sregs.ds.base = 0xF0000;           /* DS:FFF0: partly outside the 1 MiB of RAM */
    f->c.regs.rsi = f->c.regs.rdi = 0xFFF0;
    f->c.regs.rcx = 0;
    assert_int_equal(out_err(f, MKVM_HC_WRITE, err, sizeof(err)), IO_OK);
    assert_string_equal(err, "");
    assert_int_equal(f->port.n, 0);
    f->c.regs.rax = 0x1234;
    assert_int_equal(out_err(f, MKVM_HC_READLINE, err, sizeof(err)), IO_OK);
    assert_string_equal(err, "");
    assert_int_equal(f->c.regs.rax, 0);     /* no input read: 0 bytes stored */
    assert_false(atomic_load(&f->vm.stopping));
}

/* Each bad buffer is named for what is wrong with it. */
static void test_bad_buffer_messages(void **state)
{
    struct fixture *f = *state;
    f->c.regs.rsi = 0xFFF0;                 /* real mode: DS:FFF0 + 32 */
    f->c.regs.rcx = 32;
    expect_stop(f, MKVM_HC_WRITE, "buffer of 32 bytes at ds:si=1000:fff0 (linear 0x1fff0) "
                "runs past the end of its 64 KiB segment");
    f->c.regs.rdi = 0xFFF0;
    expect_stop(f, MKVM_HC_READLINE, "READLINE: buffer of 32 bytes at ds:di=1000:fff0");
    f->c.sregs.ds.base = 0xF8000;           /* inside the segment, past the end of RAM */
    f->c.regs.rsi = 0x7FF0;
    expect_stop(f, MKVM_HC_WRITE, "ds:si=f800:7ff0 (linear 0xffff0) is outside guest memory "
                "(guest-physical 0xffff0-0x10000f)");
    f->c.sregs.cr0 = 1;                     /* 32-bit protected mode, no paging */
    f->c.sregs.ds.base = 0;
    f->c.regs.rsi = 0x1000;
    f->c.regs.rcx = 70000;
    expect_stop(f, MKVM_HC_WRITE, "buffer of 70000 bytes at esi=0x1000 is longer than 65535");
    f->c.regs.rsi = 0xFFFFFFF0;
    f->c.regs.rcx = 32;
    expect_stop(f, MKVM_HC_WRITE, "runs past the 4 GiB end of its segment");
    f->c.sregs.cr0 = 0x80000001;            /* long mode: checked before any translation */
    f->c.sregs.efer = 1u << 10;
    f->c.regs.rsi = 0x0000800000000000ULL;
    expect_stop(f, MKVM_HC_WRITE, "at rsi=0x800000000000 has a non-canonical address");
    f->c.regs.rsi = 0x00007FFFFFFFFFF0ULL;  /* the last bytes are past the canonical half */
    expect_stop(f, MKVM_HC_WRITE, "has a non-canonical address");
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_putchar_and_write), T(test_write_out_of_bounds), T(test_exit_code),
        T(test_write_32bit_protected_mode), T(test_real_mode_buffer_stays_in_its_segment),
        T(test_version_nop), T(test_unknown), T(test_in_without_stdin),
        T(test_length_zero_for_write_and_readline), T(test_bad_buffer_messages),
    };
    return cmocka_run_group_tests_name("hypercall", tests, NULL, NULL);
}
