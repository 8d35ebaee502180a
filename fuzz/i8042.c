/* fuzz/i8042.c - libFuzzer target for the PS/2 controller: command and data
 * port sequences (0x60, 0x64; the unclaimed 0x61-0x63 between them too). */
#include "fuzz_vm.h"
#include "devices/i8042.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fuzz_vm f;
    static const struct fuzz_range r[] = { { I8042_DATA_PORT, 5 } };
    if (fuzz_vm_init(&f, 0, false) || !i8042_create(&f.vm))
        __builtin_trap();
    struct fuzz_in in = { data, size };
    fuzz_ops_run(&f, &in, &f.vm.pio, r, 1, 4, NULL, NULL);
    fuzz_vm_fini(&f);
    return 0;
}
