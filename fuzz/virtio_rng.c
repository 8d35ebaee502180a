/* fuzz/virtio_rng.c - libFuzzer target for virtio-rng: register operations,
 * then the guest RAM its one virtqueue of device-writable buffers lives in. */
#include "fuzz_vm.h"
#include "devices/virtio_rng.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fuzz_vm f;
    if (fuzz_vm_init(&f, FUZZ_VIRTIO_RAM, false) || virtio_rng_create(&f.vm))
        __builtin_trap();
    fuzz_virtio_run(&f, data, size, NULL, NULL);
    fuzz_vm_fini(&f);
    return 0;
}
