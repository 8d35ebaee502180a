/* platform.c - assemble the PC platform for kernels (our OS, Linux) and disk
 * boots from the arch code and one-file devices. Flat guests get none of it
 * (guest.c gives them COM1 and port 0xE9 only). */
#include "platform.h"
#include "cli.h"
#include "arch/bda.h"
#include "arch/mptable.h"
#include "arch/x86.h"
#include "core/util.h"
#include "core/vcpu.h"
#include "core/vm.h"
#include "devices/debug_exit.h"
#include "devices/debugcon.h"
#include "devices/i8042.h"
#include "devices/ide.h"
#include "devices/pci.h"
#include "devices/pm.h"
#include "devices/port92.h"
#include "devices/rtc.h"
#include "devices/serial.h"
#include "devices/vga.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_net.h"
#include "devices/virtio_vsock.h"

#include <string.h>

_Static_assert(CLI_MAX_IDE <= IDE_MAX_DRIVES, "more --ide disks than IDE drives");

/* Port 0x80 is the POST/delay port: writes are meant to go nowhere. */
static enum io_result sink(void *dev, struct io_req *req)
{
    (void)dev;
    if (!req->write)
        memset(req->data, 0xFF, req->len);
    return IO_OK;
}

static int create_cpus(struct vm *vm, unsigned ncpus)
{
    if (vm_create_irqchip(vm))
        return -1;
    x86_setup_tsc_rate(vm);
    if (vm_add_cpus(vm, (int)ncpus) || vm_spawn_cpus(vm))
        return -1;
    for (int i = 0; i < vm->ncpus; i++) {
        struct vcpu *c = vm->cpus[i];
        if (x86_setup_cpuid(c) || x86_setup_msrs(c) || x86_setup_lapic(c))
            return -1;
    }
    return 0;
}

int platform_create(struct vm *vm, const struct options *opt, struct platform *p)
{
    memset(p, 0, sizeof(*p));
    if (create_cpus(vm, opt->cpus))
        return -1;
    if (!serial_create(vm, SERIAL_COM1_BASE, SERIAL_COM1_IRQ) || rtc_create(vm) ||
        !(p->i8042 = i8042_create(vm)) || pm_create(vm) || pci_create(vm) || port92_create(vm) ||
        !(p->vga = vga_create(vm)) ||
        bus_register(&vm->pio, POST_PORT, 1, sink, NULL, "post")) {
        errorf("%s: cannot create the platform devices", vm->name);
        return -1;
    }
    /* What test and hobby kernels print and exit through (docs/multiboot.md). */
    if (debugcon_create(vm) || debug_exit_create(vm))
        return -1;
    /* What a BIOS leaves in low memory. Legacy guests (disk boot, multiboot)
     * need it; Linux prefers ACPI and reserves the areas (docs/legacy-pc.md).
     * A restored guest's RAM comes from its snapshot instead: writing it
     * here would only fault in (and zero) a 2 MiB page that the memory file
     * then replaces, ~1 ms of a ~5 ms restore. */
    if (!opt->restore && (bda_setup(vm) || mptable_setup(vm, vm->ncpus)))
        return -1;
    if (opt->nide > 0) {        /* --ide: primary master, then slave */
        struct ide_drive_cfg d[CLI_MAX_IDE];
        for (int i = 0; i < opt->nide; i++)
            d[i] = (struct ide_drive_cfg){ .path = opt->ide[i].path, .ro = opt->ide[i].ro };
        if (ide_create(vm, d, opt->nide))
            return -1;
    }
    /* virtio devices take slots of vm->virtio in this order: disks first,
     * so their places do not depend on the other options; then the NICs. */
    for (int i = 0; i < opt->ndisks; i++)
        if (virtio_blk_create(vm, opt->disks[i]))
            return -1;
    for (int i = 0; i < opt->nnets; i++) {
        const struct cli_net *n = &opt->nets[i];
        uint8_t mac[6];
        memcpy(mac, n->mac, 6);
        if (!n->has_mac)
            virtio_net_default_mac(n->tap, mac);
        if (virtio_net_create(vm, n->tap, mac, !n->no_vhost))
            return -1;
    }
    if (opt->vsock_cid && virtio_vsock_create(vm, opt->vsock_cid))
        return -1;
    return 0;
}
