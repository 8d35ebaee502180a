/* fuzz/virtio_net.c - libFuzzer target for virtio-net's userspace datapath on
 * a socketpair (as its unit tests): register operations, then guest RAM. */
#include "fuzz_vm.h"
#include "devices/virtio_net.h"

#include <sys/socket.h>
#include <unistd.h>

/* FUZZ_OP_REG: a frame of 1 + off % 2048 bytes (val's bytes, repeated)
 * arrives from the host side, and if the device watches its fd (it posted
 * RX buffers and is waiting), the I/O thread's callback runs now, as the
 * real thread would on the frame. Unwatched, it waits in the socket for the
 * guest's next RX notification, as in a TAP. */
static void frame_in(struct fuzz_vm *f, const struct fuzz_op *op, void *ctx)
{
    const int *sv = ctx;
    if (fuzz_op_kind(op) != FUZZ_OP_REG)
        return;
    uint8_t frame[2048];
    size_t len = 1 + op->off % sizeof(frame);
    for (size_t i = 0; i < len; i++)
        frame[i] = (uint8_t)(op->val >> (i % 4 * 8));
    if (send(sv[1], frame, len, MSG_DONTWAIT) == (ssize_t)len)
        fuzz_iothread_fire(&f->vm, sv[0]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fuzz_vm f;
    static const uint8_t mac[6] = { 0x02, 0x4d, 0x4b, 1, 2, 3 };
    int sv[2];
    /* sv[1] is the host's side: transmitted frames queue there unread (a full
     * socket drops them, as a TAP nobody reads would); frames to the guest
     * are sent from it. A fresh pair per input: nothing left queued from the
     * last one. */
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) ||
        fuzz_vm_init(&f, FUZZ_VIRTIO_RAM, false) ||
        virtio_net_create_fd(&f.vm, sv[0], "fuzz", mac))
        __builtin_trap();
    fuzz_virtio_run(&f, data, size, frame_in, sv);
    fuzz_vm_fini(&f);
    close(sv[1]);
    return 0;
}
