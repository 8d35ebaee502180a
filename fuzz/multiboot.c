/* fuzz/multiboot.c - libFuzzer target for the multiboot loader (ELF32 and
 * a.out-kludge kernels): the input is the kernel, a slice of it a module. */
#include "fuzz_vm.h"
#include "loaders/multiboot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fuzz_vm f;
    if (fuzz_vm_init(&f, 2 << 20, false))
        __builtin_trap();
    struct mb_module mods[2] = {
        { data, size < 100 ? size : 100, "fuzz-module one" },
        { data, 0, "" },
    };
    struct boot_entry e;
    if (multiboot_load(&f.vm, data, size, "fuzz.mb", size & 1 ? "console=ttyS0" : NULL,
                       mods, (int)(size % 3), &e) == 0 && !e.prot32)
        __builtin_trap();
    fuzz_vm_fini(&f);
    return 0;
}
