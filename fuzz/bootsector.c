/* fuzz/bootsector.c - libFuzzer target for the raw loaders: the boot-sector
 * loader (reads a file: the input as a memfd) and the flat binary loaders. */
#include "fuzz_vm.h"
#include "loaders/loader.h"

#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fuzz_vm f;
    if (fuzz_vm_init(&f, 2 << 20, false))
        __builtin_trap();
    /* One scratch file for the run, refilled with each input (a memfd made
     * and closed per input cost more than the loaders' work). */
    static char path[64];
    static int fd = -1;
    if (fd < 0)
        fd = fuzz_scratch_file(path, 0, NULL, 0);
    if (fd < 0 || ftruncate(fd, 0) || pwrite(fd, data, size, 0) != (ssize_t)size)
        __builtin_trap();
    struct boot_entry e;
    if (bootsector_load(&f.vm, path, &e) == 0 &&
        (size < 512 || data[510] != 0x55 || data[511] != 0xAA || e.ip != 0x7C00))
        __builtin_trap();           /* accepted something that is no boot sector */
    flat_load_real(&f.vm, data, size, "fuzz.bin", &e);
    flat_load_long(&f.vm, data, size, "fuzz.bin", &e);
    fuzz_vm_fini(&f);
    return 0;
}
