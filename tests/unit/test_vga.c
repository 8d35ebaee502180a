/* test_vga.c - unit tests for CGA text mode: the CRTC register file through
 * the ports, the retrace bit, and the text rendering of 0xB8000. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "fake_vm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/layout.h"
#include "core/bus.h"
#include "core/mem.h"
#include "core/vm.h"
#include "devices/vga.h"

struct fixture {
    struct vm vm;
    struct vga *vga;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    fake_vm_init(&f->vm, 1 << 20);
    f->vga = vga_create(&f->vm);
    assert_non_null(f->vga);
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

static void out(struct vm *vm, uint16_t port, uint32_t v, unsigned len)
{
    uint8_t d[4];
    struct io_req r = { .addr = port, .data = d, .len = len, .write = true };
    io_put(&r, v);
    assert_int_equal(bus_access(&vm->pio, &r), IO_OK);
}

static uint8_t in(struct vm *vm, uint16_t port)
{
    uint8_t d[1];
    struct io_req r = { .addr = port, .data = d, .len = 1, .write = false };
    assert_int_equal(bus_access(&vm->pio, &r), IO_OK);
    return d[0];
}

/* xv6's cgaputc: read the cursor, write it back one further. */
static void test_cursor_registers(void **state)
{
    struct fixture *f = *state;
    struct vm *vm = &f->vm;
    out(vm, 0x3D4, 14, 1);
    assert_int_equal(in(vm, 0x3D5), 0);                 /* cursor starts at 0 */
    out(vm, 0x3D4, 15, 1);
    assert_int_equal(in(vm, 0x3D5), 0);
    out(vm, 0x3D4, 14, 1);
    out(vm, 0x3D5, 0x07, 1);
    out(vm, 0x3D4, 15, 1);
    out(vm, 0x3D5, 0xCF, 1);
    assert_int_equal(vga_cursor(f->vga), 0x7CF);        /* 1999: the last cell */
    out(vm, 0x3D4, 14, 1);
    assert_int_equal(in(vm, 0x3D4), 14);                /* the index reads back */
    assert_int_equal(in(vm, 0x3D5), 0x07);
    out(vm, 0x3D4, 15, 1);
    assert_int_equal(in(vm, 0x3D5), 0xCF);
    /* outw: index in the low byte, data in the high byte */
    out(vm, 0x3D4, 0x020E, 2);
    out(vm, 0x3D4, 0x340F, 2);
    assert_int_equal(vga_cursor(f->vga), 0x234);
}

static void test_other_registers_and_mono(void **state)
{
    struct fixture *f = *state;
    struct vm *vm = &f->vm;
    for (unsigned i = 0; i < 25; i++) {
        out(vm, 0x3D4, i, 1);
        out(vm, 0x3D5, 0x40 + i, 1);
    }
    for (unsigned i = 0; i < 25; i++) {
        out(vm, 0x3B4, i, 1);                           /* mono alias: same CRTC */
        assert_int_equal(in(vm, 0x3B5), 0x40 + i);
    }
    out(vm, 0x3D8, 0x29, 1);
    assert_int_equal(in(vm, 0x3D8), 0x29);
    out(vm, 0x3D9, 0x30, 1);
    assert_int_equal(in(vm, 0x3D9), 0x30);
}

/* A loop waiting for retrace to start and then to end finishes. */
static void test_retrace_toggles(void **state)
{
    struct fixture *f = *state;
    struct vm *vm = &f->vm;
    int reads = 0;
    while (!(in(vm, 0x3DA) & 0x08))
        assert_true(++reads < 4);
    while (in(vm, 0x3DA) & 0x08)
        assert_true(++reads < 4);
    uint8_t a = in(vm, 0x3BA), b = in(vm, 0x3BA);
    assert_int_equal((a ^ b) & 0x09, 0x09);
}

static void put_text(struct vm *vm, int row, int col, const char *s)
{
    uint8_t *p = guest_ptr(&vm->mem, CGA_TEXT_ADDR + (uint64_t)(row * 80 + col) * 2, strlen(s) * 2);
    assert_non_null(p);
    for (size_t i = 0; s[i]; i++) {
        p[2 * i] = (uint8_t)s[i];
        p[2 * i + 1] = 0x07;
    }
}

static void test_render(void **state)
{
    struct fixture *f = *state;
    struct vm *vm = &f->vm;
    char rows[VGA_ROWS][VGA_COLS + 1];
    assert_int_equal(vga_render_text(&vm->mem, rows), 0);
    for (int y = 0; y < VGA_ROWS; y++)
        assert_string_equal(rows[y], "");               /* zeroed RAM is blank */
    put_text(vm, 0, 0, "$ ls   ");
    put_text(vm, 3, 4, "a\x01\x7f\xb0z");
    put_text(vm, 24, 79, "#");
    put_text(vm, 10, 0, "\xff \xff");
    assert_int_equal(vga_render_text(&vm->mem, rows), 0);
    assert_string_equal(rows[0], "$ ls");               /* trailing spaces trimmed */
    assert_string_equal(rows[3], "    a...z");          /* non-printables as '.' */
    assert_int_equal(strlen(rows[24]), 80);
    assert_int_equal(rows[24][79], '#');
    assert_string_equal(rows[10], "");                  /* 0xFF is a blank glyph */
}

static void test_render_outside_ram(void **state)
{
    (void)state;
    struct guest_mem m;
    assert_int_equal(mem_init(&m, 64 << 10), 0);
    char rows[VGA_ROWS][VGA_COLS + 1];
    assert_int_equal(vga_render_text(&m, rows), -1);
    mem_free(&m);
}

static void test_print_screen(void **state)
{
    struct fixture *f = *state;
    struct vm *vm = &f->vm;
    put_text(vm, 1, 2, "cpu1: starting 1");
    out(vm, 0x3D4, 0x000E, 2);
    out(vm, 0x3D4, 0x5A0F, 2);                          /* 90: row 1, column 10 */
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    vga_print_screen(f->vga, &vm->mem, "xv6", fd[1], "\n");
    close(fd[1]);
    char buf[8192];
    ssize_t n = read(fd[0], buf, sizeof(buf) - 1);
    close(fd[0]);
    assert_true(n > 0);
    buf[n] = '\0';
    char *line[40];
    int nl = 0;
    for (char *s = strtok(buf, "\n"); s && nl < 40; s = strtok(NULL, "\n"))
        line[nl++] = s;
    assert_int_equal(nl, VGA_ROWS + 2);                 /* frame, 25 rows, frame */
    assert_non_null(strstr(line[0], "xv6: CGA text screen, cursor 1,10"));
    assert_int_equal(strlen(line[0]), 82);
    assert_string_equal(line[2], "|  cpu1: starting 1");
    assert_string_equal(line[1], "|");
    assert_int_equal(strlen(line[26]), 82);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_cursor_registers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_other_registers_and_mono, setup, teardown),
        cmocka_unit_test_setup_teardown(test_retrace_toggles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_render, setup, teardown),
        cmocka_unit_test(test_render_outside_ram),
        cmocka_unit_test_setup_teardown(test_print_screen, setup, teardown),
    };
    return cmocka_run_group_tests_name("vga", tests, NULL, NULL);
}
