/* hostcheck.c - probe guests that tell what this host's KVM really runs;
 * a hardware KVM (kvm_intel, kvm_amd) runs everything and is not probed. */
#include "hostcheck.h"
#include "x86.h"
#include "core/kvm.h"
#include "core/sandbox.h"
#include "core/util.h"
#include "core/vcpu.h"
#include "core/vm.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define PROBE_MAGIC 0x4D4B564DU     /* "MKVM" */
#define PROBE_RAM   (2u << 20)

extern const unsigned char probe32_start[], probe32_end[];

/* Run to the first exit; true when it is `out %eax, $PROBE_PORT` with the
 * magic value. A host KVM that never returns (spinning on the probe) is cut
 * off after 2 seconds (vcpu_run_bounded: a timer of this thread only). */
static bool probe_run(struct vcpu *c)
{
    if (vcpu_run_bounded(c, 2000))
        return false;
    struct kvm_run *r = c->run;
    uint32_t v;
    if (r->exit_reason != KVM_EXIT_IO || r->io.port != PROBE_PORT || r->io.size != 4)
        return false;
    memcpy(&v, (uint8_t *)r + r->io.data_offset, 4);
    return v == PROBE_MAGIC;
}

static bool probe_paging32(struct kvm_host *h)
{
    struct vm vm;
    bool ok = false;
    uint32_t magic = PROBE_MAGIC;
    if (vm_create(&vm, h, "host-probe", PROBE_RAM) == 0 && vm_add_cpus(&vm, 1) == 0 &&
        guest_write(&vm.mem, 0x1000, probe32_start, (size_t)(probe32_end - probe32_start)) == 0 &&
        guest_write(&vm.mem, 0x2000, &magic, 4) == 0 &&
        x86_enter_real(vm.cpus[0], 0, 0x1000, 0xFFF0, 0) == 0)
        ok = probe_run(vm.cpus[0]);
    vm_destroy(&vm);
    return ok;
}

static bool probe_long_mode(struct kvm_host *h)
{
    /* mov $PROBE_MAGIC, %eax; mov $PROBE_PORT, %dx; out %eax, (%dx); hlt */
    static const unsigned char code[] = { 0xb8, 0x4d, 0x56, 0x4b, 0x4d, 0x66, 0xba,
                                          0x05, 0x05, 0xef, 0xf4 };
    struct vm vm;
    bool ok = false;
    if (vm_create(&vm, h, "host-probe", PROBE_RAM) == 0 && vm_add_cpus(&vm, 1) == 0 &&
        x86_build_long_mode_tables(&vm) == 0 &&
        guest_write(&vm.mem, HIGH_MEM_START, code, sizeof(code)) == 0 &&
        x86_enter_long(vm.cpus[0], HIGH_MEM_START, BOOT_STACK_TOP, 0, 0) == 0)
        ok = probe_run(vm.cpus[0]);
    vm_destroy(&vm);
    return ok;
}

static void probe(struct kvm_host *h, struct host_caps *caps)
{
    caps->long_mode = probe_long_mode(h);
    caps->paging32 = probe_paging32(h);
}

/* Hardware-assisted KVM (VMX or SVM, nested ones too) runs every mode: the
 * probes are for software KVMs such as kvm_pvm. Skipping them saves two VM
 * creations before every Linux or disk boot, which a nested KVM makes slow
 * (docs/benchmarks.md). --check-host still probes. */
static bool hardware_kvm(const char *module)
{
    return strcmp(module, "kvm_intel") == 0 || strcmp(module, "kvm_amd") == 0;
}

static const struct host_caps *caps_locked(struct kvm_host *h, bool force_probe)
{
    struct host_caps *caps = &h->caps;
    if (!caps->probed || force_probe) {
        snprintf(caps->module, sizeof(caps->module), "%s", h->module);
        if (!force_probe && hardware_kvm(caps->module))
            caps->long_mode = caps->paging32 = true;
        else
            probe(h, caps);
        caps->run_linux = caps->long_mode && caps->paging32 && h->irqchip;
        caps->probed = true;
    }
    return caps;
}

const struct host_caps *hostcheck_caps(struct kvm_host *h)
{
    pthread_mutex_lock(&h->caps_lock);
    const struct host_caps *caps = caps_locked(h, false);
    pthread_mutex_unlock(&h->caps_lock);
    return caps;
}

int hostcheck_report(struct kvm_host *h)
{
    pthread_mutex_lock(&h->caps_lock);
    const struct host_caps c = *caps_locked(h, true);
    pthread_mutex_unlock(&h->caps_lock);
    printf("mini-kvm host check\n"
           "  /dev/kvm           ok (API %d, module %s)\n"
           "  max vCPUs          %d\n"
           "  in-kernel irqchip  %s\n"
           "  long mode          %s (probed)\n"
           "  32-bit paging      %s (probed)\n"
           "  Linux guests       %s\n",
           KVM_API_VERSION, c.module, h->max_vcpus, h->irqchip ? "yes" : "no",
           c.long_mode ? "yes" : "no", c.paging32 ? "yes" : "no",
           c.run_linux ? "yes" : "no: this KVM cannot run 32-bit paging; " HOSTCHECK_LAB_HINT);
    printf("can-run-32bit-paging: %s\ncan-run-linux: %s\n", c.paging32 ? "yes" : "no",
           c.run_linux ? "yes" : "no");
    return 0;
}

bool hostcheck_explain_fault(struct vcpu *c)
{
    struct kvm_sregs s;
    if (vcpu_get_sregs(c, &s) || !(s.cr0 & 1) || (s.efer & (1u << 10)))
        return false;   /* not 32-bit protected mode */
    /* Paging neither on nor prepared (CR3 still 0, as at a multiboot entry):
     * the fault is the guest's own, which this host runs fine. (The failed
     * move to CR0 that turns on paging leaves PG clear, CR3 set.) */
    if (!(s.cr0 & (1u << 31)) && s.cr3 == 0)
        return false;
    struct kvm_host *h = c->vm->kvm;
    pthread_mutex_lock(&h->caps_lock);
    bool probed = h->caps.probed;
    pthread_mutex_unlock(&h->caps_lock);
    struct host_caps guess = { 0 };
    const struct host_caps *caps = &guess;
    if (!probed && c->vm->sandbox && c->vm->sandbox->seccomp) {
        /* A sealed vCPU may not create the probe's VM (docs/security.md):
         * go by the module, kvm_pvm being the KVM known to refuse it. */
        snprintf(guess.module, sizeof(guess.module), "%s", h->module);
        guess.paging32 = strcmp(guess.module, "kvm_pvm") != 0;
    } else {
        caps = hostcheck_caps(h);
    }
    if (caps->paging32)
        return false;
    errorf("%s: the guest runs in 32-bit protected mode, and this host's KVM (%s) cannot "
           "run 32-bit paging; %s", c->vm->name, caps->module, HOSTCHECK_LAB_HINT);
    return true;
}
