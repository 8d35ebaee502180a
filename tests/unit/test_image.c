/* test_image.c - core/image.c, the disk-image module of virtio-blk and IDE:
 * bad files with their exact error lines, locking, read-only, host errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fake_vm.h"

#include "core/image.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define IN_USE "disk image is in use (by another process, or given twice)"

struct fixture {
    char path[64];
    char fifo[80];
};

static void write_file(const char *path, size_t size)
{
    int fd = open(path, O_WRONLY | O_TRUNC);
    assert_true(fd >= 0);
    uint8_t *b = calloc(1, size ? size : 1);
    for (size_t i = 0; i < size; i++)
        b[i] = (uint8_t)(i * 13);
    assert_int_equal(write(fd, b, size), (ssize_t)size);
    free(b);
    close(fd);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    snprintf(f->path, sizeof(f->path), "/tmp/mkvm-img-XXXXXX");
    int fd = mkstemp(f->path);
    assert_true(fd >= 0);
    close(fd);
    write_file(f->path, 8 * 512);
    snprintf(f->fifo, sizeof(f->fifo), "%s.fifo", f->path);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    unlink(f->path);
    unlink(f->fifo);
    free(f);
    return 0;
}

/* Run stmt with stderr captured into the array buf (NUL-terminated). */
#define CAPTURE(buf, stmt)                      \
    do {                                        \
        struct capture c_;                      \
        capture_begin(&c_);                     \
        stmt;                                   \
        capture_end(&c_, buf, sizeof(buf));     \
    } while (0)

static void expect_open_error(const char *path, bool ro, const char *tail)
{
    char msg[512], want[512];
    struct image img;
    int r = 0;
    CAPTURE(msg, r = image_open(path, ro, &img));
    assert_int_equal(r, -1);
    assert_int_equal(img.fd, -1);
    snprintf(want, sizeof(want), "mini-kvm: %s: %s\n", path, tail);
    assert_string_equal(msg, want);
}

static void test_open(void **state)
{
    struct fixture *f = *state;
    struct image img;
    assert_int_equal(image_open(f->path, false, &img), 0);
    assert_true(img.fd >= 0);
    assert_false(img.ro);
    assert_int_equal(img.size, 8 * 512);
    assert_int_equal(fcntl(img.fd, F_GETFL) & O_NONBLOCK, 0);
    assert_true(fcntl(img.fd, F_GETFD) & FD_CLOEXEC);
    image_close(&img);
    image_close(&img);                          /* twice is harmless */
    assert_int_equal(img.fd, -1);
}

static void test_bad_files(void **state)
{
    struct fixture *f = *state;
    write_file(f->path, 1000);
    expect_open_error(f->path, false, "disk image size 1000 is not a multiple of 512");
    write_file(f->path, 0);
    expect_open_error(f->path, true, "disk image is empty");
    expect_open_error("/tmp", false, "disk image is a directory");
    expect_open_error("/nonexistent/disk.img", false,
                      "cannot open disk image: No such file or directory");
    expect_open_error("/dev/null", false, "disk image is not a regular file");
    /* A FIFO with no writer: refused without blocking (the test would hang). */
    assert_int_equal(mkfifo(f->fifo, 0600), 0);
    expect_open_error(f->fifo, false, "disk image is not a regular file");
    expect_open_error(f->fifo, true, "disk image is not a regular file");
}

static void test_locking(void **state)
{
    struct fixture *f = *state;
    struct image a, b;
    assert_int_equal(image_open(f->path, false, &a), 0);
    /* the same image again in this process: flock locks are per open file */
    expect_open_error(f->path, false, IN_USE);
    expect_open_error(f->path, true, IN_USE);
    image_close(&a);
    assert_int_equal(image_open(f->path, true, &a), 0);    /* readers share */
    assert_int_equal(image_open(f->path, true, &b), 0);
    assert_true(a.ro && b.ro);
    expect_open_error(f->path, false, IN_USE);
    image_close(&a);
    image_close(&b);
}

static void test_read_only_file(void **state)
{
    struct fixture *f = *state;
    struct image img;
    assert_int_equal(chmod(f->path, 0444), 0);
    assert_int_equal(image_open(f->path, false, &img), 0);
    assert_true(img.ro);                        /* forced by the mode bits, even for root */
    assert_int_equal(fcntl(img.fd, F_GETFL) & O_ACCMODE, O_RDONLY);
    assert_int_equal(image_flush(&img), 0);     /* nothing to flush */
    image_close(&img);
}

static void test_rw_and_errors(void **state)
{
    struct fixture *f = *state;
    struct image img;
    uint8_t buf[1024], back[1024];
    char msg[512], want[512];
    assert_int_equal(image_open(f->path, false, &img), 0);
    for (int i = 0; i < 1024; i++)
        buf[i] = (uint8_t)(i ^ 0x5A);
    assert_int_equal(image_rw(&img, buf, 1024, 512, true), 0);
    assert_int_equal(image_rw(&img, back, 1024, 512, false), 0);
    assert_memory_equal(buf, back, 1024);
    assert_int_equal(image_flush(&img), 0);
    int r = 0;
    CAPTURE(msg, r = image_rw(&img, back, 1024, 7 * 512, false));      /* past the end */
    assert_int_equal(r, -1);
    snprintf(want, sizeof(want),
             "mini-kvm: %s: read error at byte 4096: unexpected end of file\n", f->path);
    assert_string_equal(msg, want);
    CAPTURE(msg, r = image_rw(&img, back, 512, 9 * 512, false));       /* reported once */
    assert_int_equal(r, -1);
    assert_string_equal(msg, "");
    image_close(&img);
    /* a host write error: /dev/full behind the image */
    struct image full = { .path = "/dev/full", .fd = open("/dev/full", O_RDWR), .size = 512 };
    assert_true(full.fd >= 0);
    CAPTURE(msg, r = image_rw(&full, back, 512, 0, true));
    assert_int_equal(r, -1);
    assert_string_equal(msg,
                        "mini-kvm: /dev/full: write error at byte 0: No space left on device\n");
    image_close(&full);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_locking, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rw_and_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
