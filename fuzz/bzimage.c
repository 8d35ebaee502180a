/* fuzz/bzimage.c - libFuzzer target for the Linux boot protocol loader: the
 * input is the bzImage, its last bytes also an initrd, into 4 MiB of RAM. */
#include "fuzz_vm.h"
#include "loaders/bzimage.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* RAM of 4 MiB, or 1 MiB + 4 KiB for odd sizes: too small for most
     * kernels (one fake VM per size, so each keeps its RAM mapped) */
    static struct fuzz_vm vms[2];
    struct fuzz_vm *f = &vms[size & 1];
    if (fuzz_vm_init(f, size & 1 ? (1 << 20) + 4096 : 4 << 20, false))
        __builtin_trap();
    size_t rd = size < 64 ? size : 64;
    struct boot_entry e;
    if (bzimage_load(&f->vm, data, size, "fuzz.bz", data + size - rd, rd, "fuzz.rd",
                     size & 2 ? "console=ttyS0 quiet" : NULL, &e) == 0 &&
        (!e.long_mode || e.rip != BZ_KERNEL_ADDR + BZ_ENTRY_64))
        __builtin_trap();
    fuzz_vm_fini(f);
    return 0;
}
