/* fuzz/virtio_net.c - libFuzzer target for virtio-net's userspace datapath on
 * a socketpair (as its unit tests): register operations, then guest RAM. */
#include "fuzz_vm.h"
#include "devices/virtio_net.h"

#include <sys/socket.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fuzz_vm f;
    static const uint8_t mac[6] = { 0x02, 0x4d, 0x4b, 1, 2, 3 };
    int sv[2];
    /* sv[1] is the host's side: transmitted frames queue there unread (a full
     * socket drops them, as a TAP nobody reads would) and none arrive. */
    if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) ||
        fuzz_vm_init(&f, FUZZ_VIRTIO_RAM, false) ||
        virtio_net_create_fd(&f.vm, sv[0], "fuzz", mac))
        __builtin_trap();
    fuzz_virtio_run(&f, data, size);
    fuzz_vm_fini(&f);
    close(sv[1]);
    return 0;
}
