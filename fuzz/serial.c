/* fuzz/serial.c - libFuzzer target for the 16550A UART: register reads and
 * writes of any width interleaved with console input (typed bytes). */
#include "fuzz_vm.h"
#include "devices/serial.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fuzz_vm f;
    static const struct fuzz_range r[] = { { SERIAL_COM1_BASE, SERIAL_PORTS } };
    if (fuzz_vm_init(&f, 0, true) || !serial_create(&f.vm, SERIAL_COM1_BASE, SERIAL_COM1_IRQ))
        __builtin_trap();
    struct fuzz_in in = { data, size };
    fuzz_ops_run(&f, &in, &f.vm.pio, r, 1, 4, NULL, NULL);
    fuzz_vm_fini(&f);
    return 0;
}
