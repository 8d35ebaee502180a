/* fuzz/hypercall.c - libFuzzer target for the hypercall port: functions with
 * any registers in real, 32-bit and 64-bit mode against 64 KiB of RAM. */
#include "fuzz_vm.h"
#include "devices/hypercall.h"

/* FUZZ_OP_REG: register arg % 6 = val | off << 32; FUZZ_OP_MODE: CR0.PE,
 * EFER.LMA and CR0.PG from arg's low bits, DS base = val. */
static void hc_op(struct fuzz_vm *f, const struct fuzz_op *op, void *ctx)
{
    (void)ctx;
    struct kvm_regs *r = &f->cpu.regs;
    struct kvm_sregs *s = &f->cpu.sregs;
    uint64_t v = op->val | (uint64_t)op->off << 32;
    if (fuzz_op_kind(op) == FUZZ_OP_REG) {
        __u64 *regs[] = { &r->rax, &r->rbx, &r->rcx, &r->rdx, &r->rsi, &r->rdi };
        *regs[op->arg % 6] = v;
    } else if (fuzz_op_kind(op) == FUZZ_OP_MODE) {
        s->cr0 = (op->arg & 1 ? 1 : 0) | (op->arg & 4 ? 1u << 31 : 0);
        s->efer = op->arg & 2 ? 1u << 10 : 0;
        s->ds.base = op->val;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fuzz_vm f;
    static const struct fuzz_range r[] = { { MKVM_HC_PORT, 4 } };
    if (fuzz_vm_init(&f, 64 << 10, true) || hypercall_create(&f.vm))
        __builtin_trap();
    struct fuzz_in in = { data, size };
    fuzz_ops_run(&f, &in, &f.vm.pio, r, 1, 4, hc_op, NULL);
    fuzz_vm_fini(&f);
    return 0;
}
