/* guest.c - build one guest's VM: RAM, loader, entry state, devices. The
 * teaching guests get a bare machine; kernels get the PC platform. */
#include "guest.h"
#include "arch/x86.h"
#include "core/kvm.h"
#include "core/util.h"
#include "core/vcpu.h"
#include "devices/hypercall.h"
#include "loaders/loader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IMAGE (1ULL << 30)

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
    if (!e->long_mode)
        return x86_enter_real(c, e->seg, e->ip, e->sp);
    return x86_enter_long(c, e->rip, e->rsp, e->rsi, e->rdi);
}

static int create_vm(struct guest *g, struct kvm_host *kvm, const struct options *opt,
                     uint64_t mem, const char *path, int index, struct console *con)
{
    guest_name(g->name, sizeof(g->name), path);
    if (vm_create(&g->vm, kvm, g->name, mem))
        return -1;
    g->vm.index = index;
    g->vm.opt = opt;
    g->vm.trace = opt->trace;
    console_port_init(&g->port, con, g->name, index, index == 0);
    g->vm.con = &g->port;
    return hypercall_create(&g->vm);
}

int guest_setup_flat(struct guest *g, struct kvm_host *kvm, const struct options *opt,
                     const char *path, int index, struct console *con)
{
    bool lm = opt->mode == MODE_LONG;
    uint64_t mem = opt->mem ? opt->mem : lm ? 2 * DEFAULT_MEM_FLAT : DEFAULT_MEM_FLAT;
    size_t len;
    uint8_t *img = read_file(path, "guest binary", MAX_IMAGE, &len);
    if (!img)
        return -1;
    struct boot_entry e;
    int r = -1;
    if (create_vm(g, kvm, opt, mem, path, index, con) == 0 &&
        (lm ? flat_load_long(&g->vm, img, len, path, &e)
            : flat_load_real(&g->vm, img, len, path, &e)) == 0 &&
        (!lm || x86_build_long_mode_tables(&g->vm) == 0) &&
        vm_add_cpus(&g->vm, 1) == 0)
        r = enter(g->vm.cpus[0], &e);
    free(img);
    return r;
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
    if (!elf_is_elf(img, len)) {
        errorf("%s: not an ELF64 kernel (bzImage support is not built in yet)", opt->kernel);
        goto out;
    }
    if (create_vm(g, kvm, opt, mem, opt->kernel, 0, con) ||
        elf_load(&g->vm, img, len, opt->kernel, &e) ||
        x86_build_long_mode_tables(&g->vm) ||
        vm_create_irqchip(&g->vm) ||
        vm_add_cpus(&g->vm, (int)opt->cpus))
        goto out;
    for (int i = 0; i < g->vm.ncpus; i++) {
        struct vcpu *c = g->vm.cpus[i];
        if (x86_setup_cpuid(c) || x86_setup_msrs(c) || x86_setup_lapic(c))
            goto out;
    }
    r = enter(g->vm.cpus[0], &e);
out:
    free(img);
    return r;
}
