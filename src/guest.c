/* guest.c - build one guest's VM: RAM, loader, entry state, devices. The
 * teaching guests get a bare machine; kernels get the PC platform. */
#include "guest.h"
#include "arch/acpi.h"
#include "arch/x86.h"
#include "core/kvm.h"
#include "core/util.h"
#include "core/vcpu.h"
#include "arch/hostcheck.h"
#include "devices/debugcon.h"
#include "devices/hypercall.h"
#include "devices/serial.h"
#include "devices/virtio_rng.h"
#include "loaders/bzimage.h"
#include "loaders/multiboot.h"
#include "platform.h"
#include "snapshot/snapfile.h"
#include "snapshot/snapshot.h"
#include "loaders/loader.h"

#include <elf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IMAGE (1ULL << 30)
#define LINUX_MAGIC_OFF 0x202   /* "HdrS": the Linux boot protocol's setup header */

_Static_assert(CLI_MAX_MODULES <= MB_MAX_MODULES, "every -i fits the module list");

/* "dir/fib.bin" -> "fib" */
static void guest_name(char *out, size_t n, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(out, n, "%s", base);
    char *dot = strrchr(out, '.');
    if (dot && dot != out)
        *dot = '\0';
}

static int enter(struct vcpu *c, const struct boot_entry *e)
{
    if (e->prot32)
        return x86_enter_prot32(c, e->eip, e->esp, e->eax, e->ebx);
    if (!e->long_mode)
        return x86_enter_real(c, e->seg, e->ip, e->sp, e->dx);
    return x86_enter_long(c, e->rip, e->rsp, e->rsi, e->rdi);
}

static int create_vm(struct guest *g, struct kvm_host *kvm, const struct options *opt,
                     uint64_t mem, const char *path, int index, struct console *con)
{
    guest_name(g->name, sizeof(g->name), path);
    if (vm_create(&g->vm, kvm, g->name, mem))
        return -1;
    g->vm.index = index;
    g->vm.trace = opt->trace;
    g->vm.explain_fault = hostcheck_explain_fault;
    console_port_init(&g->port, con, g->name, index, index == 0);
    g->vm.con = &g->port;
    return hypercall_create(&g->vm);
}

/* The devices of a teaching guest: the hypercall port (create_vm), COM1 and
 * the debug console 0xE9, so a classic "my first OS" guest that writes to a
 * UART prints. No irqchip: COM1 is polled (LSR), and its input is the same
 * stdin stream the hypercalls read: each byte goes to whoever asks first.
 * A device of your own for flat guests is registered here (docs/tutorial.md). */
static int flat_devices(struct vm *vm)
{
    if (!serial_create_polled(vm, SERIAL_COM1_BASE) || debugcon_create(vm))
        return -1;
    return 0;
}

int guest_setup_flat(struct guest *g, struct kvm_host *kvm, const struct options *opt,
                     const char *path, int index, struct console *con)
{
    bool lm = opt->mode == MODE_LONG;
    uint64_t mem = opt->mem ? opt->mem : lm ? DEFAULT_MEM_LONG : DEFAULT_MEM_FLAT;
    size_t len;
    uint8_t *img = read_file(path, "guest binary", MAX_IMAGE, &len);
    if (!img)
        return -1;
    struct boot_entry e;
    int r = -1;
    if (create_vm(g, kvm, opt, mem, path, index, con) == 0 && flat_devices(&g->vm) == 0 &&
        (lm ? flat_load_long(&g->vm, img, len, path, &e)
            : flat_load_real(&g->vm, img, len, path, &e)) == 0 &&
        (!lm || x86_build_long_mode_tables(&g->vm) == 0) &&
        vm_add_cpus(&g->vm, 1) == 0)
        r = enter(g->vm.cpus[0], &e);
    free(img);
    return r;
}

/* Our teaching OS and other ELF64 kernels: boot info at 0x7000. */
static int setup_elf(struct guest *g, const struct options *opt, const uint8_t *img,
                     size_t len, struct boot_entry *e)
{
    struct vm *vm = &g->vm;
    struct platform p;
    /* The boot info has no place for a ramdisk: say so rather than drop it. */
    if (opt->nmodules) {
        errorf("%s: an ELF64 kernel takes no initrd or modules (-i %s); only bzImage "
               "and multiboot kernels do", opt->kernel, opt->modules[0]);
        return -1;
    }
    if (elf_load(vm, img, len, opt->kernel, e) || x86_build_long_mode_tables(vm) ||
        platform_create(vm, opt, &p))
        return -1;
    g->vga = p.vga;
    g->i8042 = p.i8042;
    struct mkvm_boot_info bi;
    if (guest_read(&vm->mem, ELF_BOOT_INFO, &bi, sizeof(bi)))
        return -1;
    bi.ncpus = (uint32_t)vm->ncpus;
    bi.nvirtio = (uint32_t)vm->virtio.n;
    for (int i = 0; i < vm->virtio.n; i++) {
        bi.virtio[i].base = vm->virtio.slot[i].base;
        bi.virtio[i].gsi = vm->virtio.slot[i].gsi;
        bi.virtio[i].device_id = vm->virtio.slot[i].device_id;
    }
    if (opt->cmdline) {
        size_t n = strlen(opt->cmdline) + 1;
        if (n > ELF_CMDLINE_MAX || guest_write(&vm->mem, ELF_CMDLINE, opt->cmdline, n)) {
            errorf("%s: command line too long (max %d bytes)", opt->kernel, ELF_CMDLINE_MAX - 1);
            return -1;
        }
        bi.cmdline = ELF_CMDLINE;
    }
    return guest_write(&vm->mem, ELF_BOOT_INFO, &bi, sizeof(bi));
}

/* Linux: validate and place the bzImage first (bad files are reported as
 * such on any host), then refuse hosts whose KVM cannot run Linux. */
static int setup_linux(struct guest *g, const struct options *opt, const uint8_t *img,
                       size_t len, struct boot_entry *e)
{
    struct vm *vm = &g->vm;
    size_t ilen = 0;
    uint8_t *initrd = NULL;
    if (opt->nmodules > 1) {
        errorf("%s: a Linux kernel takes one initrd (-i), not %d", opt->kernel, opt->nmodules);
        return -1;
    }
    if (opt->initrd && !(initrd = read_file(opt->initrd, "initrd", MAX_IMAGE, &ilen)))
        return -1;
    int r = bzimage_load(vm, img, len, opt->kernel, initrd, ilen, opt->initrd,
                         opt->cmdline, e);
    free(initrd);
    if (r)
        return -1;
    const struct host_caps *caps = hostcheck_caps(vm->kvm);
    if (!caps->run_linux) {
        errorf("%s: this host's KVM (%s) cannot run Linux (no 32-bit paging); %s",
               opt->kernel, caps->module, HOSTCHECK_LAB_HINT);
        return -1;
    }
    struct platform p;
    /* virtio-rng after the disks: /dev/hwrng seeds the kernel's pool early */
    if (x86_build_long_mode_tables(vm) || platform_create(vm, opt, &p) ||
        (!opt->no_rng && virtio_rng_create(vm)) || acpi_setup(vm, vm->ncpus))
        return -1;
    g->vga = p.vga;
    g->i8042 = p.i8042;
    return 0;
}

/* Multiboot kernels: read every module (-i), load, then the same platform
 * and ACPI tables as Linux; the BSP starts in 32-bit protected mode, the
 * APs wait for INIT/SIPI in the in-kernel LAPIC. No host check: protected
 * mode without paging runs on every KVM, and a kernel that turns paging on
 * where the host cannot run it gets hostcheck's explanation. */
static int setup_multiboot(struct guest *g, const struct options *opt, const uint8_t *img,
                           size_t len, struct boot_entry *e)
{
    struct vm *vm = &g->vm;
    struct mb_module mods[CLI_MAX_MODULES];
    uint8_t *data[CLI_MAX_MODULES] = { NULL };
    int r = 0;
    for (int i = 0; i < opt->nmodules && r == 0; i++) {
        data[i] = read_file(opt->modules[i], "module", MAX_IMAGE, &mods[i].len);
        mods[i].data = data[i];
        mods[i].string = opt->modules[i];
        r = data[i] ? 0 : -1;
    }
    if (r == 0)
        r = multiboot_load(vm, img, len, opt->kernel, opt->cmdline, mods, opt->nmodules, e);
    for (int i = 0; i < opt->nmodules; i++)
        free(data[i]);
    struct platform p;
    if (r || platform_create(vm, opt, &p) || acpi_setup(vm, vm->ncpus))
        return -1;
    g->i8042 = p.i8042;
    return 0;
}

/* Which loader, decided on the file's bytes in this order:
 * 1. "HdrS" at 0x202: a Linux bzImage (its own checks explain a bad one).
 * 2. A multiboot header with a valid checksum in the first 8 KiB: multiboot,
 *    ELF32 or a.out kludge (xv6's `kernel` is an ELF32 with one). It comes
 *    before ELF so that ELF32 files are taken as multiboot kernels.
 * 3. ELF64: our ELF64 loader (os.elf).
 * 4. A multiboot magic whose checksum (or extent) is wrong: that error, as
 *    it is the likeliest mistake in a hand-written header.
 * 5. Any other ELF file: the ELF64 loader says what it is not.
 * 6. Anything else: one line naming the three formats. */
static int setup_any(struct guest *g, const struct options *opt, const uint8_t *img,
                     size_t len, struct boot_entry *e)
{
    struct mb_header h;
    enum mb_search mb = multiboot_find(img, len, &h);
    char why[96];
    if (len >= LINUX_MAGIC_OFF + 4 && memcmp(img + LINUX_MAGIC_OFF, "HdrS", 4) == 0)
        return setup_linux(g, opt, img, len, e);
    if (mb == MB_FOUND)
        return setup_multiboot(g, opt, img, len, e);
    if (elf_is_elf(img, len) && len > EI_CLASS && img[EI_CLASS] == ELFCLASS64)
        return setup_elf(g, opt, img, len, e);
    if (mb != MB_NONE) {
        errorf("%s: %s", opt->kernel, multiboot_problem(mb, &h, why, sizeof(why)));
        return -1;
    }
    if (elf_is_elf(img, len) && img[EI_CLASS] == ELFCLASS32) {
        errorf("%s: 32-bit ELF file without a multiboot header in the first 8 KiB "
               "(only ELF64 kernels boot without one)", opt->kernel);
        return -1;
    }
    if (elf_is_elf(img, len))
        return setup_elf(g, opt, img, len, e);
    errorf("%s: not a bzImage (no HdrS magic), multiboot kernel (no header in the first "
           "8 KiB) or ELF kernel", opt->kernel);
    return -1;
}

int guest_setup_kernel(struct guest *g, struct kvm_host *kvm, const struct options *opt,
                       struct console *con)
{
    uint64_t mem = opt->mem ? opt->mem : DEFAULT_MEM_KERNEL;
    size_t len;
    uint8_t *img = read_file(opt->kernel, "kernel", MAX_IMAGE, &len);
    if (!img)
        return -1;
    struct boot_entry e;
    int r = -1;
    /* Kernels probe the host now, on this thread, so that the fault hook
     * never has to from a vCPU thread; flat guests skip the ~1 ms and the
     * hook probes if one faults in 32-bit protected mode (pm32.bin). */
    hostcheck_caps(kvm);
    if (create_vm(g, kvm, opt, mem, opt->kernel, 0, con) == 0)
        r = setup_any(g, opt, img, len, &e);
    if (r == 0)
        r = enter(g->vm.cpus[0], &e);
    free(img);
    return r;
}

/* Only the BSP is entered: the APs stay in KVM's wait-for-SIPI state (the
 * in-kernel LAPIC starts them when the guest sends INIT and SIPI). */
int guest_setup_disk(struct guest *g, struct kvm_host *kvm, const struct options *opt,
                     struct console *con)
{
    uint64_t mem = opt->mem ? opt->mem : DEFAULT_MEM_KERNEL;
    const char *path = opt->ide[0].path;
    struct vm *vm = &g->vm;
    struct platform p;
    struct boot_entry e;
    hostcheck_caps(kvm);        /* as for kernels: a disk may turn on paging */
    if (create_vm(g, kvm, opt, mem, path, 0, con) || platform_create(vm, opt, &p) ||
        acpi_setup(vm, vm->ncpus) || bootsector_load(vm, path, &e))
        return -1;
    g->vga = p.vga;
    g->i8042 = p.i8042;
    return enter(vm->cpus[0], &e);
}

/* The shape comes from the snapshot; the loader is skipped (the kernel is
 * in the saved RAM). The disk paths are copied into the VM so that *shape
 * stays valid for a later snapshot of this guest. */
int guest_setup_restore(struct guest *g, struct kvm_host *kvm, const struct options *opt,
                        struct console *con, struct options *shape)
{
    struct snap_reader r;
    if (snapshot_open(&r, opt->restore, shape))
        return -1;
    shape->restore = opt->restore;     /* platform_create: RAM comes from the file */
    shape->trace = opt->trace;
    shape->stats = opt->stats;
    shape->timeout = opt->timeout;
    struct platform p;
    int res = -1;
    if (create_vm(g, kvm, shape, shape->mem, shape->kernel, 0, con) == 0 &&
        platform_create(&g->vm, shape, &p) == 0 &&
        (shape->no_rng || virtio_rng_create(&g->vm) == 0)) {   /* as setup_linux */
        g->vga = p.vga;
        g->i8042 = p.i8042;
        res = snapshot_apply(&g->vm, &r, opt->restore_mem);
    }
    shape->restore = NULL;      /* opt's string may not outlive this call (the API) */
    char (*disks)[CLI_PATH_MAX] = NULL;
    if (res == 0)
        disks = vm_own(&g->vm, xcalloc(CLI_MAX_DISKS, CLI_PATH_MAX));
    for (int i = 0; disks && i < shape->ndisks; i++) {
        snprintf(disks[i], CLI_PATH_MAX, "%s", shape->disks[i]);
        shape->disks[i] = disks[i];
    }
    shape->kernel = g->name;
    snapr_close(&r);
    return res;
}
