/* fuzz/virtio_blk.c - libFuzzer target for virtio-mmio + virtio-blk: the input
 * is register operations, then the guest RAM the virtqueues are walked in. */
#include "fuzz_vm.h"
#include "core/image.h"
#include "devices/virtio_blk.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECTORS  64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fuzz_vm f;
    /* One image for the whole run, made and opened once (the memfd, then
     * image_open's open, stat and locks were most of the time): each input
     * gets a dup of the kept descriptor, which the device closes. What
     * earlier inputs wrote there steers nothing in the device. */
    static char path[64];
    static int fd = -1;
    static struct image kept = { .fd = -1 };
    static const void *view;
    if (fd < 0) {
        fd = fuzz_scratch_file(path, SECTORS * 512, NULL, 0);
        view = fd < 0 ? MAP_FAILED : mmap(NULL, SECTORS * 512, PROT_READ, MAP_SHARED, fd, 0);
    }
    if (fd < 0 || view == MAP_FAILED || (kept.fd < 0 && image_open(path, false, &kept)))
        __builtin_trap();
    struct image img = kept;
    if ((img.fd = dup(kept.fd)) < 0 || fuzz_vm_init(&f, FUZZ_VIRTIO_RAM, false) ||
        virtio_blk_attach(&f.vm, &img))
        __builtin_trap();
    fuzz_virtio_run(&f, data, size, NULL, NULL);
    fuzz_vm_fini(&f);
    struct stat st;
    if (fstat(fd, &st) || st.st_size != SECTORS * 512)
        __builtin_trap();           /* the device wrote outside the image */
    /* A read can land image bytes on the rings the next notification walks,
     * so every input must find the image as the first one did: compared
     * through a mapping, rewritten when the input wrote to it. */
    if (fuzz_scratch_restore(fd, view, SECTORS * 512))
        __builtin_trap();
    return 0;
}
