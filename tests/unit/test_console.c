/* test_console.c - --top draws only between pieces of guest output: never
 * inside an escape sequence or a UTF-8 character the guest is printing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/console.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

struct fixture {
    struct console con;
    struct console_port port;
    int out, err, pipe_rd;      /* saved fds 1 and 2; the read end behind fd 2 */
};

static int setup(void **state)
{
    static struct fixture f;
    memset(&f, 0, sizeof(f));
    int p[2], null = open("/dev/null", O_WRONLY);
    if (null < 0 || pipe2(p, O_NONBLOCK))
        return -1;
    f.out = dup(1);
    f.err = dup(2);
    dup2(null, 1);              /* the guest's output goes nowhere */
    dup2(p[1], 2);              /* the frames come back to us */
    close(null);
    close(p[1]);
    f.pipe_rd = p[0];
    console_init(&f.con, false);
    console_port_init(&f.port, &f.con, "g", 0, false);
    *state = &f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    dup2(f->out, 1);
    dup2(f->err, 2);
    close(f->out);
    close(f->err);
    close(f->pipe_rd);
    return 0;
}

static void guest(struct fixture *f, const char *s)
{
    console_write(&f->port, s, strlen(s));
}

/* console_draw's answer, and that it wrote the frame exactly when it said so. */
static bool draw(struct fixture *f)
{
    char buf[16];
    bool ok = console_draw(&f->con, "FRAME", 5);
    ssize_t n = read(f->pipe_rd, buf, sizeof(buf));
    assert_int_equal(n, ok ? 5 : -1);
    return ok;
}

static void test_draws_between_text(void **state)
{
    struct fixture *f = *state;
    assert_true(draw(f));
    guest(f, "hello\n");
    assert_true(draw(f));
}

static void test_not_inside_an_escape_sequence(void **state)
{
    struct fixture *f = *state;
    const char *bytes[] = { "\033", "[", "3", "1", ";", "1" };
    for (size_t i = 0; i < sizeof(bytes) / sizeof(bytes[0]); i++) {
        guest(f, bytes[i]);     /* one byte per exit, as from a UART */
        assert_false(draw(f));
    }
    guest(f, "m");              /* the final byte ends the sequence */
    assert_true(draw(f));
    guest(f, "\0337");          /* a two-byte escape (save cursor) */
    assert_true(draw(f));
    guest(f, "\033");
    assert_false(draw(f));
    guest(f, "8");
    assert_true(draw(f));
}

static void test_not_inside_a_utf8_character(void **state)
{
    struct fixture *f = *state;
    guest(f, "\xe2");           /* U+2500 BOX DRAWINGS: e2 94 80 */
    assert_false(draw(f));
    guest(f, "\x94");
    assert_false(draw(f));
    guest(f, "\x80");
    assert_true(draw(f));
    guest(f, "\xc3\xa9x");      /* complete within one write */
    assert_true(draw(f));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_draws_between_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_inside_an_escape_sequence, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_inside_a_utf8_character, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
