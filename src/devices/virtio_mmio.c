/* virtio_mmio.c - virtio-mmio version 2 registers, feature negotiation,
 * interrupts (irqfd) and notifications (ioeventfd) of every virtio device. */
#include "virtio_mmio.h"
#include "core/bus.h"
#include "core/devstate.h"
#include "core/iothread.h"
#include "core/mem.h"
#include "core/util.h"
#include "core/vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

struct virtio_mmio {
    struct vm *vm;
    struct virtio_slot *slot;       /* in vm->virtio: base, GSI */
    uint64_t base;
    unsigned gsi;
    const struct virtio_dev_ops *ops;
    void *dev;
    char name[48];                  /* "guest: virtio-blk@0xd0000000" */
    pthread_mutex_t lock;       /* L2: a device lock, held around ops (core/vm.h) */

    uint32_t status, isr, queue_sel, config_gen;
    uint32_t dev_feat_sel, drv_feat_sel;
    uint64_t drv_features;
    bool line;                      /* level driven on the GSI */
    bool reported;                  /* a driver error was printed */
    struct virtqueue vq[VQ_MAX_QUEUES];
    /* Notifications and interrupts without vCPU exits (docs/devices.md):
     * KVM signals kick[q].fd when the driver writes q to QueueNotify (the
     * I/O thread then runs the queue), and raises the GSI when irqfd is
     * written, lowering it at the guest's EOI and signalling resamplefd. */
    struct kick { struct virtio_mmio *t; unsigned q; int fd; } kick[VQ_MAX_QUEUES];
    bool ioeventfd;                 /* KVM delivers QueueNotify to kick[].fd */
    int irqfd, resamplefd;          /* -1: KVM_IRQ_LINE from this process */
};

/* ---- interrupts ---- */

static void irqfd_raise(struct virtio_mmio *t)
{
    uint64_t one = 1;
    if (write(t->irqfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        errorf("%s: irqfd: %s", t->name, strerror(errno));
}

static void set_line(struct virtio_mmio *t)
{
    bool level = t->isr != 0;
    if (t->irqfd >= 0) {            /* KVM lowers it at EOI (resample) */
        if (level && !t->line)
            irqfd_raise(t);
        t->line = level;
        return;
    }
    if (level == t->line)
        return;
    t->line = level;
    if (t->vm->irqchip)
        vm_irq_line(t->vm, t->gsi, level);
}

static void raise_isr(struct virtio_mmio *t, uint32_t bits)
{
    t->isr |= bits;
    set_line(t);
}

void virtio_mmio_fail(struct virtio_mmio *t, const char *fmt, ...)
{
    if (t->status & VIRTIO_STATUS_NEEDS_RESET)
        return;
    t->status |= VIRTIO_STATUS_NEEDS_RESET;
    if (!t->reported) {
        char msg[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        errorf("%s: %s; device needs reset", t->name, msg);
        t->reported = true;
    }
    if (t->status & VIRTIO_STATUS_DRIVER_OK)
        raise_isr(t, VIRTIO_INT_CONFIG);
}

void virtio_mmio_signal(struct virtio_mmio *t, struct virtqueue *q)
{
    if (vq_need_signal(q))
        raise_isr(t, VIRTIO_INT_USED);
}

/* ---- virtqueues (the walk itself: virtqueue.c) ---- */

static bool usable(const struct virtio_mmio *t, const struct virtqueue *q)
{
    return q->ready && (t->status & VIRTIO_STATUS_DRIVER_OK) &&
           !(t->status & VIRTIO_STATUS_NEEDS_RESET);
}

/* QueueReady = 1: a checked queue starts at index 0. */
static void vq_enable(struct virtio_mmio *t, unsigned qi, struct virtqueue *q)
{
    char why[160];
    if (vq_map(q, &t->vm->mem, why, sizeof(why))) {
        virtio_mmio_fail(t, "queue %u: %s", qi, why);
        return;
    }
    q->last_avail = q->used_idx = 0;
    q->pushed = false;
    vq_set_features(q, t->drv_features);
    q->ready = true;
}

int vq_pop(struct virtio_mmio *t, struct virtqueue *q, struct vq_chain *c)
{
    if (!usable(t, q))
        return 0;
    char why[160];
    int r = vq_next(q, &t->vm->mem, c, why, sizeof(why));
    if (r < 0)
        virtio_mmio_fail(t, "%s", why);
    return r;
}

/* ---- registers ---- */

/* Every device gets the ring features: the walk (virtqueue.c) follows
 * indirect tables and EVENT_IDX, and so does the kernel's vhost. */
static uint64_t device_features(const struct virtio_mmio *t)
{
    return t->ops->features | (1ULL << VIRTIO_F_VERSION_1) |
           (1ULL << VIRTIO_RING_F_INDIRECT_DESC) | (1ULL << VIRTIO_RING_F_EVENT_IDX);
}

static void set_ring_features(struct virtio_mmio *t)
{
    for (unsigned i = 0; i < VQ_MAX_QUEUES; i++)
        vq_set_features(&t->vq[i], t->drv_features);
}

static struct virtqueue *sel_queue(struct virtio_mmio *t)
{
    return t->queue_sel < t->ops->num_queues ? &t->vq[t->queue_sel] : NULL;
}

static void device_reset(struct virtio_mmio *t)
{
    t->status = t->isr = t->queue_sel = 0;
    t->dev_feat_sel = t->drv_feat_sel = 0;
    t->drv_features = 0;
    set_line(t);
    for (unsigned i = 0; i < VQ_MAX_QUEUES; i++)
        vq_reset(&t->vq[i], i < t->ops->num_queues ? t->ops->queue_max : 0);
    if (t->ops->reset)
        t->ops->reset(t->dev);
}

/* FEATURES_OK is only accepted for a subset of ours including VERSION_1;
 * otherwise the bit does not stick and the driver sees the refusal. */
static bool features_ok(struct virtio_mmio *t)
{
    uint64_t extra = t->drv_features & ~device_features(t);
    if (!extra && (t->drv_features & (1ULL << VIRTIO_F_VERSION_1)))
        return true;
    errorf("%s: driver features 0x%llx refused (%s)", t->name,
           (unsigned long long)t->drv_features,
           extra ? "bits not offered" : "VIRTIO_F_VERSION_1 not accepted");
    return false;
}

static void write_status(struct virtio_mmio *t, uint32_t v)
{
    if (v == 0) {
        device_reset(t);
        return;
    }
    v &= 0xFF & ~VIRTIO_STATUS_NEEDS_RESET;
    if ((v & VIRTIO_STATUS_FEATURES_OK) && !(t->status & VIRTIO_STATUS_FEATURES_OK) &&
        !features_ok(t))
        v &= ~VIRTIO_STATUS_FEATURES_OK;
    bool now_ok = (v & VIRTIO_STATUS_DRIVER_OK) && !(t->status & VIRTIO_STATUS_DRIVER_OK);
    t->status = v | (t->status & VIRTIO_STATUS_NEEDS_RESET);
    if (now_ok)
        set_ring_features(t);
    if (now_ok && t->ops->activate)
        t->ops->activate(t->dev, t, t->drv_features);
}

static void set_half(uint64_t *r, bool high, uint32_t v)
{
    *r = high ? (*r & 0xFFFFFFFFULL) | ((uint64_t)v << 32)
              : (*r & ~0xFFFFFFFFULL) | v;
}

static void write_queue_reg(struct virtio_mmio *t, unsigned off, uint32_t v)
{
    struct virtqueue *q = sel_queue(t);
    if (!q)
        return;
    if (off == VMMIO_QUEUE_READY) {
        if (!v)
            q->ready = false;
        else if (!q->ready)
            vq_enable(t, t->queue_sel, q);
        return;
    }
    if (q->ready)
        return;     /* the spec forbids changing a live queue: ignore it */
    switch (off) {
    case VMMIO_QUEUE_NUM: q->num = v; break;
    case VMMIO_QUEUE_DESC_LO: case VMMIO_QUEUE_DESC_HI:
        set_half(&q->desc_gpa, off & 4, v); break;
    case VMMIO_QUEUE_DRIVER_LO: case VMMIO_QUEUE_DRIVER_HI:
        set_half(&q->avail_gpa, off & 4, v); break;
    case VMMIO_QUEUE_DEVICE_LO: case VMMIO_QUEUE_DEVICE_HI:
        set_half(&q->used_gpa, off & 4, v); break;
    }
}

static void queue_notify(struct virtio_mmio *t, uint32_t qi)
{
    if (qi >= t->ops->num_queues || !usable(t, &t->vq[qi]))
        return;
    t->ops->notify(t->dev, t, qi);
    virtio_mmio_signal(t, &t->vq[qi]);
}

static void reg_write(struct virtio_mmio *t, unsigned off, uint32_t v)
{
    switch (off) {
    case VMMIO_DEV_FEATURES_SEL: t->dev_feat_sel = v; break;
    case VMMIO_DRV_FEATURES_SEL: t->drv_feat_sel = v; break;
    case VMMIO_DRV_FEATURES:
        if (t->drv_feat_sel < 2 && !(t->status & VIRTIO_STATUS_FEATURES_OK))
            set_half(&t->drv_features, t->drv_feat_sel, v);
        break;
    case VMMIO_QUEUE_SEL: t->queue_sel = v; break;
    case VMMIO_QUEUE_NOTIFY: queue_notify(t, v & 0xFFFF); break;
    case VMMIO_INT_ACK:
        t->isr &= ~v;
        set_line(t);
        break;
    case VMMIO_STATUS: write_status(t, v); break;
    default: write_queue_reg(t, off, v); break;
    }
}

static uint32_t reg_read(struct virtio_mmio *t, unsigned off)
{
    struct virtqueue *q = sel_queue(t);
    switch (off) {
    case VMMIO_MAGIC: return VIRTIO_MMIO_MAGIC;
    case VMMIO_VERSION: return VIRTIO_MMIO_VERSION;
    case VMMIO_DEVICE_ID: return t->ops->device_id;
    case VMMIO_VENDOR_ID: return VIRTIO_MMIO_VENDOR;
    case VMMIO_DEV_FEATURES:
        return t->dev_feat_sel < 2 ? (uint32_t)(device_features(t) >> (32 * t->dev_feat_sel)) : 0;
    case VMMIO_QUEUE_NUM_MAX: return q ? q->num_max : 0;
    case VMMIO_QUEUE_READY: return q ? q->ready : 0;
    case VMMIO_INT_STATUS: return t->isr;
    case VMMIO_STATUS: return t->status;
    case VMMIO_SHM_LEN_LO: case VMMIO_SHM_LEN_HI: return 0xFFFFFFFF; /* no regions */
    case VMMIO_CONFIG_GEN: return t->config_gen;
    }
    return 0;       /* write-only and reserved registers */
}

/* Registers take aligned 32-bit accesses; config space any width. */
static enum io_result virtio_mmio_io(void *dev, struct io_req *r)
{
    struct virtio_mmio *t = dev;
    unsigned off = (unsigned)r->off;
    pthread_mutex_lock(&t->lock);
    if (off >= VMMIO_CONFIG) {
        if (!r->write) {
            memset(r->data, 0, r->len);
            if (t->ops->config_read)
                t->ops->config_read(t->dev, off - VMMIO_CONFIG, r->data, r->len);
        }
    } else if (r->len != 4 || off % 4) {
        if (!r->write)
            memset(r->data, 0, r->len);
    } else if (r->write) {
        reg_write(t, off, (uint32_t)io_get(r));
    } else {
        io_put(r, reg_read(t, off));
    }
    pthread_mutex_unlock(&t->lock);
    return IO_OK;
}

/* ---- creation and helpers ---- */

/* ---- snapshot record (docs/snapshot.md): transport registers and every
 * queue's addresses and indices; the rings themselves are guest RAM ---- */
struct vq_rec {
    uint64_t desc_gpa, avail_gpa, used_gpa;
    uint32_t num, num_max;
    uint16_t last_avail, used_idx;
    uint8_t ready, pushed, pad[2];
};

struct vmmio_rec {
    uint32_t device_id, status, isr, queue_sel, config_gen, dev_feat_sel, drv_feat_sel;
    uint8_t line, pad[3];
    uint64_t drv_features;
    struct vq_rec vq[VQ_MAX_QUEUES];
};

static void vmmio_save(void *dev, void *rec)
{
    struct virtio_mmio *t = dev;
    struct vmmio_rec *r = rec;
    memset(r, 0, sizeof(*r));
    pthread_mutex_lock(&t->lock);
    *r = (struct vmmio_rec){ t->ops->device_id, t->status, t->isr, t->queue_sel,
                             t->config_gen, t->dev_feat_sel, t->drv_feat_sel, t->line,
                             { 0 }, t->drv_features, { { 0 } } };
    for (unsigned i = 0; i < VQ_MAX_QUEUES; i++) {
        const struct virtqueue *q = &t->vq[i];
        r->vq[i] = (struct vq_rec){ q->desc_gpa, q->avail_gpa, q->used_gpa, q->num,
                                    q->num_max, q->last_avail, q->used_idx, q->ready,
                                    q->pushed, { 0 } };
    }
    pthread_mutex_unlock(&t->lock);
}

static int vmmio_restore(void *dev, const void *rec)
{
    struct virtio_mmio *t = dev;
    const struct vmmio_rec *r = rec;
    if (r->device_id != t->ops->device_id) {
        errorf("%s: the snapshot has device type %u here", t->name, r->device_id);
        return -1;
    }
    struct virtqueue vq[VQ_MAX_QUEUES];
    for (unsigned i = 0; i < VQ_MAX_QUEUES; i++) {
        const struct vq_rec *s = &r->vq[i];
        char why[160];
        vq[i] = (struct virtqueue){ .num = s->num, .num_max = t->vq[i].num_max,
                                    .desc_gpa = s->desc_gpa, .avail_gpa = s->avail_gpa,
                                    .used_gpa = s->used_gpa, .last_avail = s->last_avail,
                                    .used_idx = s->used_idx, .pushed = s->pushed,
                                    .ready = s->ready };
        if (s->num_max != t->vq[i].num_max ||
            (s->ready && vq_map(&vq[i], &t->vm->mem, why, sizeof(why)))) {
            errorf("%s: queue %u in the snapshot: %s", t->name, i,
                   s->num_max != t->vq[i].num_max ? "another queue size" : why);
            return -1;
        }
    }
    pthread_mutex_lock(&t->lock);
    t->status = r->status, t->isr = r->isr, t->queue_sel = r->queue_sel;
    t->config_gen = r->config_gen, t->dev_feat_sel = r->dev_feat_sel;
    t->drv_feat_sel = r->drv_feat_sel, t->drv_features = r->drv_features;
    t->line = r->line;          /* the irqchip's pin level comes with its own state */
    memcpy(t->vq, vq, sizeof(vq));
    set_ring_features(t);       /* follow from drv_features */
    /* A kick the old process had not served yet is not in the snapshot:
     * kick every ready queue once (an empty one finds nothing to do), and
     * re-assert a pending interrupt through this process's irqfd. */
    for (unsigned i = 0; t->ioeventfd && i < t->ops->num_queues; i++) {
        uint64_t one = 1;
        if (t->vq[i].ready && write(t->kick[i].fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
            errorf("%s: queue %u: cannot kick after restore: %s", t->name, i, strerror(errno));
    }
    if (t->irqfd >= 0 && t->isr)
        irqfd_raise(t);
    /* What the device set up when the driver said DRIVER_OK (a TAP's
     * offloads, the RX watch) is not in the record: set it up again. */
    if ((t->status & VIRTIO_STATUS_DRIVER_OK) && t->ops->activate)
        t->ops->activate(t->dev, t, t->drv_features);
    pthread_mutex_unlock(&t->lock);
    return 0;
}

static const struct devstate_ops vmmio_state = {
    "virtio-mmio", sizeof(struct vmmio_rec), vmmio_save, vmmio_restore,
};

/* The I/O thread: QueueNotify of queue q, delivered by KVM to an eventfd. */
static void on_kick(void *arg)
{
    struct kick *k = arg;
    uint64_t v;
    if (read(k->fd, &v, sizeof(v)) < 0)
        return;                     /* EAGAIN: a spurious wake-up */
    pthread_mutex_lock(&k->t->lock);
    queue_notify(k->t, k->q);
    pthread_mutex_unlock(&k->t->lock);
}

/* The guest EOId the interrupt and KVM lowered the line: raise it again if
 * the device still has something to say (level-triggered semantics). */
static void on_resample(void *arg)
{
    struct virtio_mmio *t = arg;
    uint64_t v;
    if (read(t->resamplefd, &v, sizeof(v)) < 0)
        return;
    pthread_mutex_lock(&t->lock);
    t->line = t->isr != 0;
    if (t->line)
        irqfd_raise(t);
    pthread_mutex_unlock(&t->lock);
}

/* One eventfd per queue, watched by the VM's I/O thread; with KVM (not in
 * unit tests' fake VMs) registered as an ioeventfd on QueueNotify with the
 * queue index as datamatch. Without it, notifications run on the vCPU. */
static int setup_kicks(struct virtio_mmio *t)
{
    struct iothread *io = iothread_get(t->vm);
    if (!io)
        return -1;
    bool kvm = t->vm->fd >= 0;
    t->ioeventfd = kvm;
    for (unsigned q = 0; q < t->ops->num_queues; q++) {
        struct kick *k = &t->kick[q];
        k->fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (k->fd < 0 || iothread_add(io, k->fd, on_kick, k)) {
            errorf("%s: queue %u: cannot set up its eventfd: %s", t->name, q, strerror(errno));
            return -1;
        }
        struct kvm_ioeventfd ev = {
            .datamatch = q, .addr = t->base + VMMIO_QUEUE_NOTIFY, .len = 4, .fd = k->fd,
            .flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
        };
        if (kvm && ioctl(t->vm->fd, KVM_IOEVENTFD, &ev) < 0)
            t->ioeventfd = false;   /* QueueNotify exits to us: served on the vCPU */
    }
    return 0;
}

/* irqfd with a resample fd (level-triggered) when KVM has an in-kernel
 * IOAPIC; otherwise set_line uses KVM_IRQ_LINE. */
static int setup_irqfd(struct virtio_mmio *t)
{
    if (t->vm->fd < 0 || !t->vm->irqchip)
        return 0;
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int rfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    struct kvm_irqfd irq = { .fd = (uint32_t)fd, .gsi = t->gsi,
                             .flags = KVM_IRQFD_FLAG_RESAMPLE, .resamplefd = (uint32_t)rfd };
    if (fd < 0 || rfd < 0 || ioctl(t->vm->fd, KVM_IRQFD, &irq) < 0) {
        if (fd >= 0)
            close(fd);
        if (rfd >= 0)
            close(rfd);
        return 0;                   /* KVM_IRQ_LINE it is */
    }
    t->resamplefd = rfd;
    if (iothread_add(iothread_get(t->vm), rfd, on_resample, t))
        return -1;
    t->irqfd = fd;
    return 0;
}

/* vm_release_devices has stopped the I/O thread; the VM fd's close drops
 * KVM's ioeventfds and irqfds. */
static void transport_release(void *p)
{
    struct virtio_mmio *t = p;
    for (unsigned q = 0; q < VQ_MAX_QUEUES; q++)
        if (t->kick[q].fd >= 0)
            close(t->kick[q].fd);
    if (t->irqfd >= 0)
        close(t->irqfd);
    if (t->resamplefd >= 0)
        close(t->resamplefd);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

struct virtio_mmio *virtio_mmio_create(struct vm *vm, const struct virtio_dev_ops *ops,
                                       void *dev, const char *what)
{
    if (ops->num_queues == 0 || ops->num_queues > VQ_MAX_QUEUES ||
        ops->queue_max == 0 || ops->queue_max > VQ_MAX_SIZE ||
        (ops->queue_max & (ops->queue_max - 1)) || !ops->notify) {
        errorf("%s: %s: invalid device description", vm->name, ops->name);
        return NULL;
    }
    struct virtio_slot *slot = virtio_table_add(&vm->virtio, vm->name, ops->device_id,
                                                ops->name, what);
    if (!slot)
        return NULL;
    uint64_t base = slot->base;
    struct virtio_mmio *t = xcalloc(1, sizeof(*t));
    t->vm = vm;
    t->slot = slot;
    t->base = base;
    t->gsi = slot->gsi;
    t->ops = ops;
    t->dev = dev;
    snprintf(t->name, sizeof(t->name), "%s: %s@0x%llx", vm->name, ops->name,
             (unsigned long long)base);
    pthread_mutex_init(&t->lock, NULL);
    t->irqfd = t->resamplefd = -1;
    for (unsigned q = 0; q < VQ_MAX_QUEUES; q++)
        t->kick[q] = (struct kick){ t, q, -1 };
    device_reset(t);
    if (bus_register(&vm->mmio, base, VIRTIO_MMIO_SIZE, virtio_mmio_io, t, ops->name)) {
        errorf("%s: cannot register MMIO range 0x%llx+0x%x", t->name,
               (unsigned long long)base, VIRTIO_MMIO_SIZE);
        pthread_mutex_destroy(&t->lock);
        free(t);
        vm->virtio.n--;         /* the slot was the last one taken */
        return NULL;
    }
    vm_add_state(vm, &vmmio_state, t);
    vm_own_fn(vm, t, transport_release);
    if (setup_kicks(t) || setup_irqfd(t))
        return NULL;
    snprintf(slot->notify, sizeof(slot->notify), "%s, %s",
             t->ioeventfd ? "ioeventfd" : "MMIO exits", t->irqfd >= 0 ? "irqfd" : "KVM_IRQ_LINE");
    return t;
}

struct virtio_slot *virtio_mmio_slot(struct virtio_mmio *t) { return t->slot; }
uint64_t virtio_mmio_features(struct virtio_mmio *t) { return t->drv_features; }
bool virtio_mmio_has_ioeventfd(struct virtio_mmio *t) { return t->ioeventfd; }

void virtio_mmio_detach_kicks(struct virtio_mmio *t)
{
    for (unsigned q = 0; q < t->ops->num_queues; q++)
        iothread_watch(t->vm->io, t->kick[q].fd, false);
}

void virtio_mmio_interrupt(struct virtio_mmio *t)
{
    pthread_mutex_lock(&t->lock);
    raise_isr(t, VIRTIO_INT_USED);
    pthread_mutex_unlock(&t->lock);
}

int virtio_mmio_kick_fd(struct virtio_mmio *t, unsigned q)
{
    return q < VQ_MAX_QUEUES ? t->kick[q].fd : -1;
}

void virtio_mmio_lock(struct virtio_mmio *t) { pthread_mutex_lock(&t->lock); }
void virtio_mmio_unlock(struct virtio_mmio *t) { pthread_mutex_unlock(&t->lock); }

struct virtqueue *virtio_mmio_queue(struct virtio_mmio *t, unsigned q)
{
    return q < t->ops->num_queues ? &t->vq[q] : NULL;
}

bool virtio_mmio_irq_level(struct virtio_mmio *t)
{
    pthread_mutex_lock(&t->lock);
    bool l = t->line;
    pthread_mutex_unlock(&t->lock);
    return l;
}
