/* fuzz/legacy_ports.c - libFuzzer target for the small PC port devices: CMOS
 * RTC, port 0x92, CGA CRTC, debug console and isa-debug-exit. */
#include "fuzz_vm.h"
#include "devices/debug_exit.h"
#include "devices/debugcon.h"
#include "devices/port92.h"
#include "devices/rtc.h"
#include "devices/vga.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fuzz_vm f;
    static const struct fuzz_range r[] = {
        { RTC_PORT, 2 }, { PORT92, 1 }, { VGA_CRTC_PORT, VGA_PORTS },
        { VGA_MONO_PORT, VGA_PORTS }, { DEBUGCON_PORT, 1 }, { DEBUG_EXIT_PORT, DEBUG_EXIT_LEN },
    };
    if (fuzz_vm_init(&f, 0, false) || rtc_create(&f.vm) || port92_create(&f.vm) ||
        !vga_create(&f.vm) || debugcon_create(&f.vm) || debug_exit_create(&f.vm))
        __builtin_trap();
    struct fuzz_in in = { data, size };
    fuzz_ops_run(&f, &in, &f.vm.pio, r, sizeof(r) / sizeof(r[0]), 4, NULL, NULL);
    fuzz_vm_fini(&f);
    return 0;
}
