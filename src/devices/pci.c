/* pci.c - PCI configuration mechanism #1: the address latch at 0xCF8 and the
 * data window at 0xCFC reach one read-only host bridge at 00:00.0. */
#include "pci.h"
#include "arch/layout.h"
#include "core/bus.h"
#include "core/util.h"
#include "core/vm.h"

#include <stdatomic.h>
#include <stdlib.h>

#define ADDR_ENABLE   0x80000000u
#define ADDR_MASK     0x80FFFFFCu   /* enable, bus, device, function, dword register */

/* Why a host bridge and no devices: an x86 OS probes mechanism #1 by writing
 * 0x80000000 to 0xCF8, reading it back, then looking for a host bridge at
 * 00:00.0. Without one, Linux prints "PCI: Fatal: No config space access
 * function found" and memtest86+ on AMD reads its temperature sensor (SMN
 * through 00:00.0 registers 0x60/0x64) as all ones: 206 degrees. With a
 * bridge whose registers read 0 it reads 0 and hides the temperature. */
struct pci {
    atomic_uint addr;               /* the latch; vCPUs share it, as on a PC */
};

uint32_t pci_config_read(unsigned bus, unsigned dev, unsigned fn, unsigned reg)
{
    if (bus != 0 || dev != 0 || fn != 0)
        return 0xFFFFFFFF;          /* no device: the bus master aborts */
    switch (reg & 0xFC) {
    case 0x00: return (uint32_t)PCI_HOST_DEVICE << 16 | PCI_HOST_VENDOR;
    case 0x08: return (uint32_t)PCI_CLASS_HOST << 8;    /* revision 0 */
    default:   return 0;            /* command, status, header type 0, no BARs */
    }
}

static enum io_result pci_io(void *dev, struct io_req *r)
{
    struct pci *p = dev;
    if (r->off < 4) {               /* the latch: dword accesses only */
        if (r->len == 4 && r->write)
            atomic_store(&p->addr, (uint32_t)io_get(r) & ADDR_MASK);
        else if (r->len == 4)
            io_put(r, atomic_load(&p->addr));
        else if (!r->write)
            io_put(r, ~0ULL);       /* mechanism #2 registers: not here */
        return IO_OK;
    }
    uint32_t a = atomic_load(&p->addr);
    if (r->write)                   /* the host bridge is read-only */
        return IO_OK;
    if (!(a & ADDR_ENABLE)) {
        io_put(r, ~0ULL);
        return IO_OK;
    }
    uint32_t v = pci_config_read((a >> 16) & 0xFF, (a >> 11) & 0x1F, (a >> 8) & 7, a & 0xFC);
    io_put(r, v >> (8 * (r->off - 4)));     /* bytes/words within the dword */
    return IO_OK;
}

int pci_create(struct vm *vm)
{
    struct pci *p = vm_own(vm, xcalloc(1, sizeof(*p)));
    if (bus_register_around(&vm->pio, PCI_CONFIG_ADDR, PCI_IO_LEN, pci_io, p, "pci")) {
        errorf("%s: cannot register the PCI configuration ports", vm->name);
        return -1;
    }
    return 0;
}
