/* fuzz/virtio_blk.c - libFuzzer target for virtio-mmio + virtio-blk: the input
 * is register operations, then the guest RAM the virtqueues are walked in. */
#include "fuzz_vm.h"
#include "core/mem.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_mmio.h"

#include <sys/stat.h>
#include <unistd.h>

#define RAM      (64u << 10)    /* small: rings and buffers often cross its end */
#define SECTORS  64

/* FUZZ_OP_POKE: the guest changes its RAM between notifications (rings it
 * already handed over included): len bytes of val at (off * 4) % RAM. */
static void poke(struct fuzz_vm *f, const struct fuzz_op *op, void *ctx)
{
    (void)ctx;
    if (fuzz_op_kind(op) != FUZZ_OP_POKE)
        return;
    unsigned len = fuzz_op_len(op) > 4 ? 4 : fuzz_op_len(op);
    guest_write(&f->vm.mem, ((uint64_t)op->off * 4) % RAM, &op->val, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fuzz_vm f;
    static const struct fuzz_range r[] = { { VIRTIO_MMIO_SLOT_BASE(0), VIRTIO_MMIO_SIZE } };
    /* One image for the whole run (made once: half the time went into it);
     * what earlier inputs wrote there steers nothing in the device. */
    static char path[64];
    static int fd = -1;
    if (fd < 0)
        fd = fuzz_scratch_file(path, SECTORS * 512, NULL, 0);
    if (fd < 0 || fuzz_vm_init(&f, RAM, false) || virtio_blk_create(&f.vm, path))
        __builtin_trap();
    /* Byte 0: how many operations; after them, the guest's RAM from GPA 0. */
    struct fuzz_in in = { data, size };
    size_t nops = fuzz_u8(&in), ops_len = nops * FUZZ_OP_BYTES;
    if (ops_len > in.n)
        ops_len = in.n;
    struct fuzz_in ops = { in.p, ops_len }, ram = { in.p + ops_len, in.n - ops_len };
    guest_write(&f.vm.mem, 0, ram.p, ram.n < RAM ? ram.n : RAM);
    fuzz_ops_run(&f, &ops, &f.vm.mmio, r, 1, 8, poke, NULL);
    fuzz_vm_fini(&f);
    struct stat st;
    if (fstat(fd, &st) || st.st_size != SECTORS * 512)
        __builtin_trap();           /* the device wrote outside the image */
    return 0;
}
