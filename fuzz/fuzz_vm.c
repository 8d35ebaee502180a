/* fuzz_vm.c - the fake VM and input reader shared by the fuzz targets: no
 * KVM, no threads, nothing that can block, so one input is one quick run. */
#include "fuzz_vm.h"
#include "devices/virtio_mmio.h"

#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

uint8_t fuzz_u8(struct fuzz_in *in)
{
    if (!in->n)
        return 0;
    in->n--;
    return *in->p++;
}

uint16_t fuzz_u16(struct fuzz_in *in)
{
    uint16_t lo = fuzz_u8(in);
    return (uint16_t)(lo | fuzz_u8(in) << 8);
}

uint32_t fuzz_u32(struct fuzz_in *in)
{
    uint32_t lo = fuzz_u16(in);
    return lo | (uint32_t)fuzz_u16(in) << 16;
}

uint64_t fuzz_u64(struct fuzz_in *in)
{
    uint64_t lo = fuzz_u32(in);
    return lo | (uint64_t)fuzz_u32(in) << 32;
}

/* Guest RAM is mapped once and kept from input to input (mapping, faulting
 * in and unmapping it was a good part of every run): each input finds it
 * all zero again, as a fresh mapping would be. Small RAM is cleared with
 * memset; large RAM (the loaders') with MADV_DONTNEED, which drops only the
 * pages the last input touched. */
#define FUZZ_RAM_MEMSET_MAX (256u << 10)

static int ram_reset(struct guest_mem *kept, uint64_t ram)
{
    if (kept->nr && kept->ram_size != ram)
        mem_free(kept);
    if (!kept->nr)
        return ram ? mem_init(kept, ram) : 0;
    for (int i = 0; i < kept->nr; i++) {
        if (kept->r[i].size <= FUZZ_RAM_MEMSET_MAX)
            memset(kept->r[i].host, 0, kept->r[i].size);
        else if (madvise(kept->r[i].host, kept->r[i].size, MADV_DONTNEED))
            return -1;
    }
    return 0;
}

int fuzz_vm_init(struct fuzz_vm *f, uint64_t ram, bool owns_stdin)
{
    if (ram_reset(&f->ram, ram))
        return -1;
    memset(&f->vm, 0, sizeof(f->vm));
    memset(&f->cpu, 0, sizeof(f->cpu));
    memset(&f->run, 0, sizeof(f->run));
    f->kvm = (struct kvm_host){ .fd = -1, .run_size = (int)sizeof(f->run), .max_vcpus = 1 };
    f->vm.name = "fuzz";
    f->vm.kvm = &f->kvm;
    f->vm.fd = -1;
    bus_init(&f->vm.pio, "port");
    bus_init(&f->vm.mmio, "mmio");
    f->vm.mem = f->ram;
    console_init(&f->con, true);            /* prefix mode: whole lines, no TTY */
    f->con.colour = false;
    f->con.reader_started = true;           /* no stdin thread: input is typed here */
    f->con.in_eof = true;                   /* and a read never waits for more */
    console_port_init(&f->port, &f->con, "fuzz", 0, owns_stdin);
    f->vm.con = &f->port;
    f->cpu.vm = &f->vm;
    f->cpu.fd = -1;
    f->cpu.run = &f->run;
    f->cpu.regs_valid = f->cpu.sregs_valid = true;
    return 0;
}

void fuzz_vm_fini(struct fuzz_vm *f)
{
    console_stop_input(&f->con);
    vm_release_devices(&f->vm);
    pthread_mutex_destroy(&f->port.lock);
    pthread_mutex_destroy(&f->con.out_lock);
    pthread_mutex_destroy(&f->con.in_lock);
    pthread_mutex_destroy(&f->con.notify_lock);
    pthread_cond_destroy(&f->con.in_cond);
}

void fuzz_vm_type(struct fuzz_vm *f, const uint8_t *s, size_t n)
{
    struct console *c = &f->con;
    pthread_mutex_lock(&c->in_lock);
    for (size_t i = 0; i < n && c->in_tail - c->in_head < CONSOLE_INBUF; i++)
        c->in_buf[c->in_tail++ % CONSOLE_INBUF] = s[i];
    c->in_eof = true;                       /* never wait for more */
    pthread_mutex_unlock(&c->in_lock);
    pthread_mutex_lock(&c->notify_lock);
    if (c->notify)
        c->notify(c->notify_dev);
    pthread_mutex_unlock(&c->notify_lock);
}

int fuzz_vm_access(struct fuzz_vm *f, struct bus *b, uint64_t addr, unsigned len,
                   bool write, uint64_t val, uint64_t *out)
{
    uint8_t data[8];
    struct io_req r = { .addr = addr, .data = data, .len = len, .write = write, .cpu = &f->cpu };
    memset(data, 0xA5, sizeof(data));
    if (write)
        io_put(&r, val);
    int res = bus_access(b, &r);
    if (!write && out)
        *out = io_get(&r);
    return res;
}

bool fuzz_op_next(struct fuzz_in *in, struct fuzz_op *op)
{
    if (in->n < FUZZ_OP_BYTES)
        return false;
    op->ctl = fuzz_u8(in);
    op->arg = fuzz_u8(in);
    op->off = fuzz_u16(in);
    op->val = fuzz_u32(in);
    return true;
}

uint64_t fuzz_range_addr(const struct fuzz_range *r, unsigned nr, uint64_t off)
{
    uint64_t total = 0;
    for (unsigned i = 0; i < nr; i++)
        total += r[i].len;
    off %= total;
    unsigned i = 0;
    while (off >= r[i].len)
        off -= r[i++].len;
    return r[i].base + off;
}

void fuzz_ops_run(struct fuzz_vm *f, struct fuzz_in *in, struct bus *b,
                  const struct fuzz_range *r, unsigned nr, unsigned max_len,
                  void (*other)(struct fuzz_vm *f, const struct fuzz_op *op, void *ctx),
                  void *ctx)
{
    struct fuzz_op op;
    while (!atomic_load(&f->vm.stopping) && fuzz_op_next(in, &op)) {
        unsigned kind = fuzz_op_kind(&op), len = fuzz_op_len(&op);
        if (fuzz_op_count(&op)) {
            uint64_t addr = fuzz_range_addr(r, nr, op.off);
            for (unsigned i = fuzz_op_count(&op); i && !atomic_load(&f->vm.stopping); i--)
                fuzz_vm_access(f, b, addr, len > max_len ? max_len : len, fuzz_op_write(&op),
                               op.val, NULL);
        } else if (kind == FUZZ_OP_TYPE) {
            uint8_t s[4];
            memcpy(s, &op.val, 4);
            fuzz_vm_type(f, s, op.arg % 5u);
        } else if (other) {
            other(f, &op, ctx);
        }
    }
}

struct virtio_hooks {
    void (*other)(struct fuzz_vm *f, const struct fuzz_op *op, void *ctx);
    void *ctx;
};

static void virtio_poke(struct fuzz_vm *f, const struct fuzz_op *op, void *ctx)
{
    struct virtio_hooks *h = ctx;
    if (fuzz_op_kind(op) != FUZZ_OP_POKE) {
        if (h->other)
            h->other(f, op, h->ctx);
        return;
    }
    unsigned len = fuzz_op_len(op) > 4 ? 4 : fuzz_op_len(op);
    guest_write(&f->vm.mem, ((uint64_t)op->off * 4) % f->vm.mem.ram_size, &op->val, len);
}

void fuzz_virtio_run(struct fuzz_vm *f, const uint8_t *data, size_t size,
                     void (*other)(struct fuzz_vm *f, const struct fuzz_op *op, void *ctx),
                     void *ctx)
{
    static const struct fuzz_range r[] = { { VIRTIO_MMIO_SLOT_BASE(0), VIRTIO_MMIO_SIZE } };
    struct fuzz_in in = { data, size };
    size_t ops_len = fuzz_u8(&in) * (size_t)FUZZ_OP_BYTES;
    if (ops_len > in.n)
        ops_len = in.n;
    struct fuzz_in ops = { in.p, ops_len };
    size_t ram = in.n - ops_len;
    guest_write(&f->vm.mem, 0, in.p + ops_len,
                ram < f->vm.mem.ram_size ? ram : f->vm.mem.ram_size);
    struct virtio_hooks h = { other, ctx };
    fuzz_ops_run(f, &ops, &f->vm.mmio, r, 1, 8, virtio_poke, &h);
}

/* The pattern: 4 KiB that differ in every sector, repeated. */
static const uint8_t *pattern(void)
{
    static uint8_t p[64 << 10];
    static bool made;
    for (size_t i = 0; !made && i < sizeof(p); i++)
        p[i] = (uint8_t)(i % 4096 * 7 + i % 4096 / 512);
    made = true;
    return p;
}

static int fill(int fd, uint64_t size, const uint8_t *data, size_t n)
{
    if (!data) {
        data = pattern();
        n = 64 << 10;
    }
    for (uint64_t pos = 0; n && pos < size; pos += n) {
        size_t k = size - pos < n ? (size_t)(size - pos) : n;
        if (pwrite(fd, data, k, (off_t)pos) != (ssize_t)k)
            return -1;
    }
    return 0;
}

int fuzz_scratch_restore(int fd, const void *view, uint64_t size)
{
    for (uint64_t pos = 0; pos < size; pos += 64 << 10) {
        size_t k = size - pos < (64 << 10) ? (size_t)(size - pos) : 64 << 10;
        if (memcmp((const uint8_t *)view + pos, pattern(), k))
            return fill(fd, size, NULL, 0);
    }
    return 0;
}

int fuzz_scratch_file(char path[64], uint64_t size, const uint8_t *data, size_t n)
{
    int fd = memfd_create("fuzz-image", MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    if (ftruncate(fd, (off_t)size) || fill(fd, size, data, n)) {
        close(fd);
        return -1;
    }
    snprintf(path, 64, "/proc/self/fd/%d", fd);
    return fd;
}
