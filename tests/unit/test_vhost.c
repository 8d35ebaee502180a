/* test_vhost.c - what the vhost layer refuses to hand the kernel before any
 * ioctl: a queue whose rings were not checked against guest RAM. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "devices/vhost.h"
#include "devices/virtqueue.h"
#include "fake_vm.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* A guest made queue 0 ready with one entry at the end of RAM, disabled it
 * and wrote QueueNum 128: the ring pointers were checked for one entry.
 * Before the fix these reached VHOST_SET_VRING_NUM/ADDR (here /dev/null
 * refused them with ENOTTY; the real vhost would have walked 128 entries). */
static void test_queue_not_ready_is_refused(void **state)
{
    (void)state;
    static uint8_t ram[4096] __attribute__((aligned(16)));
    struct vhost v = { .fd = open("/dev/null", O_RDWR | O_CLOEXEC), .name = "vsock cid 3" };
    assert_true(v.fd >= 0);
    struct virtqueue q = {
        .num = 128, .num_max = 128, .ready = false,
        .desc = (void *)(ram + 4096 - 48), .avail = (void *)(ram + 4096 - 32),
        .used = (void *)(ram + 4096 - 16),
    };
    struct capture c;
    char err[256];
    capture_begin(&c);
    assert_int_equal(vhost_start_queue(&v, 0, &q, 0, 0), -1);
    capture_end(&c, err, sizeof(err));
    assert_string_equal(err, "mini-kvm: vsock cid 3: queue 0 is not ready at DRIVER_OK\n");
    vhost_close(&v);
    assert_int_equal(v.fd, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_queue_not_ready_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
