/* fuzz/virtio_vsock.c - libFuzzer target for virtio-vsock: its config space,
 * feature negotiation and the queues it hands to a fake vhost-vsock kernel. */
#include "fuzz_vm.h"
#include "devices/virtio_vsock.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/vhost.h>
#include <stdarg.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* This binary is linked with --wrap=open,--wrap=ioctl (Makefile): opening
 * /dev/vhost-vsock gives a descriptor of /dev/null that the fake kernel
 * below answers for, and so does the fake VM's descriptor (KVM_IOEVENTFD,
 * which vhost-vsock needs, and KVM_IRQ_LINE). Every other call goes to the
 * real one. The fake refuses what the kernel refuses (EINVAL), and traps on
 * what would hurt the host: a ring vhost would read or write that is not
 * all inside guest RAM, features vhost never offered, a queue started
 * without its rings or fds, a device left running after release. */
int __real_open(const char *path, int flags, ...);
int __real_ioctl(int fd, unsigned long req, ...);
int __wrap_open(const char *path, int flags, ...);
int __wrap_ioctl(int fd, unsigned long req, ...);

/* What vhost-vsock offers (linux/vhost.h's VHOST_FEATURES, VERSION_1, ...). */
static const uint64_t host_bits[] = {
    1ULL << 24 /* NOTIFY_ON_EMPTY */, 1ULL << 27 /* ANY_LAYOUT */, 1ULL << 28 /* INDIRECT */,
    1ULL << 29 /* EVENT_IDX */, 1ULL << 32 /* VERSION_1 */, 1ULL << 33 /* ACCESS_PLATFORM */,
    1ULL << 1 /* SEQPACKET */, 1ULL << 26 /* VHOST_F_LOG_ALL */,
};

struct fake_ring {
    uint32_t num;
    bool addr, kick, call;
};

struct fake_kernel {
    struct fuzz_vm *f;
    int vm_fd, vhost_fd;        /* the two descriptors answered here */
    uint64_t offered, acked;
    unsigned calls, fail_at;    /* the fail_at-th vhost ioctl fails (0: none) */
    struct fake_ring ring[2];
    bool owner, running;
};

static struct fake_kernel k = { .vm_fd = -1, .vhost_fd = -1 };

int __wrap_open(const char *path, int flags, ...)
{
    va_list ap;
    va_start(ap, flags);
    mode_t mode = flags & (O_CREAT | O_TMPFILE) ? (mode_t)va_arg(ap, int) : 0;
    va_end(ap);
    if (strcmp(path, "/dev/vhost-vsock"))
        return __real_open(path, flags, mode);
    k.vhost_fd = __real_open("/dev/null", O_RDWR | O_CLOEXEC);
    return k.vhost_fd;
}

/* Is [p, p + len) all inside the guest RAM vhost was given? */
static bool in_ram(const void *p, uint64_t len)
{
    const struct guest_mem *m = &k.f->vm.mem;
    for (int i = 0; i < m->nr; i++) {
        const uint8_t *h = m->r[i].host;
        if ((const uint8_t *)p >= h && len <= m->r[i].size &&
            (uint64_t)((const uint8_t *)p - h) <= m->r[i].size - len)
            return true;
    }
    return false;
}

static int einval(void)
{
    errno = EINVAL;
    return -1;
}

static int vring_addr(const struct vhost_vring_addr *a)
{
    struct fake_ring *r = &k.ring[a->index];
    const void *d = (const void *)(uintptr_t)a->desc_user_addr;
    const void *av = (const void *)(uintptr_t)a->avail_user_addr;
    const void *u = (const void *)(uintptr_t)a->used_user_addr;
    if (a->desc_user_addr % 16 || a->avail_user_addr % 2 || a->used_user_addr % 4)
        return einval();                    /* the kernel checks alignment */
    if (!d || !av || !u)
        return einval();                    /* and would fault on NULL: EFAULT */
    if (!in_ram(d, 16ULL * r->num) || !in_ram(av, 6 + 2ULL * r->num) ||
        !in_ram(u, 6 + 8ULL * r->num))
        __builtin_trap();                   /* vhost would touch host memory */
    r->addr = true;
    return 0;
}

static int vring_fd(const struct vhost_vring_file *fl, bool kick)
{
    if (fl->index >= 2)
        return einval();
    if (fl->fd < 0 || fcntl(fl->fd, F_GETFD) < 0)
        __builtin_trap();                   /* no eventfd: the queue would hang */
    *(kick ? &k.ring[fl->index].kick : &k.ring[fl->index].call) = true;
    return 0;
}

static int vhost(unsigned long req, void *arg)
{
    if (k.fail_at && ++k.calls == k.fail_at)
        return einval();
    switch (req) {
    case VHOST_SET_OWNER:
        k.owner = true;
        return 0;
    case VHOST_GET_FEATURES:
        *(uint64_t *)arg = k.offered;
        return 0;
    case VHOST_SET_MEM_TABLE:
        return ((struct vhost_memory *)arg)->nregions == (uint32_t)k.f->vm.mem.nr ? 0 : einval();
    case VHOST_VSOCK_SET_GUEST_CID:
        return *(uint64_t *)arg >= VIRTIO_VSOCK_CID_MIN ? 0 : einval();
    case VHOST_SET_FEATURES:
        if (*(uint64_t *)arg & ~k.offered)
            __builtin_trap();               /* a feature vhost never offered */
        k.acked = *(uint64_t *)arg;
        return 0;
    }
    const struct vhost_vring_state *s = arg;
    if (req != VHOST_VSOCK_SET_RUNNING && s->index >= 2)
        return einval();                    /* vhost-vsock has two queues */
    switch (req) {
    case VHOST_SET_VRING_NUM:
        if (!s->num || s->num > 0xFFFF || (s->num & (s->num - 1)))
            return einval();
        k.ring[s->index] = (struct fake_ring){ .num = s->num };
        return 0;
    case VHOST_SET_VRING_BASE:
        return 0;
    case VHOST_SET_VRING_ADDR:
        return vring_addr(arg);
    case VHOST_SET_VRING_KICK:
    case VHOST_SET_VRING_CALL:
        return vring_fd(arg, req == VHOST_SET_VRING_KICK);
    case VHOST_VSOCK_SET_RUNNING: {
        int on = *(int *)arg;
        for (int q = 0; on && q < 2; q++)
            if (!k.ring[q].num || !k.ring[q].addr || !k.ring[q].kick || !k.ring[q].call)
                __builtin_trap();           /* running with a queue not given */
        k.running = on;
        return 0;
    }
    }
    return einval();
}

int __wrap_ioctl(int fd, unsigned long req, ...)
{
    va_list ap;
    va_start(ap, req);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (fd >= 0 && fd == k.vhost_fd)
        return vhost(req, arg);
    if (fd >= 0 && fd == k.vm_fd)
        return req == KVM_IOEVENTFD || req == KVM_IRQ_LINE ? 0 : einval();
    return __real_ioctl(fd, req, arg);
}

/* Input: byte 0 = the fake kernel: bits 0-3 which vhost ioctl after the
 * device's creation fails (0: none), bits 4-7 drop offered features; then
 * the virtio input (fuzz_virtio_run). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct fuzz_vm f;
    struct fuzz_in in = { data, size };
    uint8_t cfg = fuzz_u8(&in);
    if (fuzz_vm_init(&f, FUZZ_VIRTIO_RAM, false))
        __builtin_trap();
    if (k.vm_fd < 0 && (k.vm_fd = __real_open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)
        __builtin_trap();
    f.vm.fd = k.vm_fd;              /* a VM "with KVM": ioeventfd, vhost */
    k = (struct fake_kernel){ .f = &f, .vm_fd = k.vm_fd, .vhost_fd = -1 };
    for (unsigned i = 0; i < 8; i++)
        if (!(i >= 4 && (cfg >> i & 1)))
            k.offered |= host_bits[i];
    if (virtio_vsock_create(&f.vm, 3 + (cfg >> 4)))
        __builtin_trap();           /* nothing the guest did yet can refuse it */
    k.fail_at = cfg & 15;
    k.calls = 0;
    fuzz_virtio_run(&f, in.p, in.n, NULL, NULL);
    k.fail_at = 0;                  /* the kernel never refuses to stop */
    fuzz_vm_fini(&f);
    f.vm.fd = -1;
    if (k.running)
        __builtin_trap();           /* released with vhost still running */
    return 0;
}
