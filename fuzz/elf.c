/* fuzz/elf.c - libFuzzer target for the ELF64 loader (-k of the teaching OS):
 * the input is the file; it is loaded into 2 MiB of fresh guest RAM. */
#include "fuzz_vm.h"
#include "loaders/loader.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fuzz_vm f;
    if (fuzz_vm_init(&f, 2 << 20, false))
        __builtin_trap();
    struct boot_entry e;
    if (elf_is_elf(data, size) && elf_load(&f.vm, data, size, "fuzz.elf", &e) == 0 &&
        (!e.long_mode || e.rip < 0x8000))
        __builtin_trap();           /* accepted: the entry must be where elf.c promises */
    fuzz_vm_fini(&f);
    return 0;
}
