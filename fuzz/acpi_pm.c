/* fuzz/acpi_pm.c - libFuzzer target for the ACPI fixed hardware: PM1 event
 * and control blocks, PM timer and the reset register, any width. */
#include "fuzz_vm.h"
#include "devices/pm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fuzz_vm f;
    static const struct fuzz_range r[] = { { PM_BASE, PM_LEN }, { PM_RESET_PORT, 1 } };
    if (fuzz_vm_init(&f, 0, false) || pm_create(&f.vm))
        __builtin_trap();
    struct fuzz_in in = { data, size };
    fuzz_ops_run(&f, &in, &f.vm.pio, r, 2, 4, NULL, NULL);
    fuzz_vm_fini(&f);
    return 0;
}
