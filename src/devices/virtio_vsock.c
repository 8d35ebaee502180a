/* virtio_vsock.c - virtio socket device (virtio 1.2, 5.10): config space and
 * transport here; the RX and TX queues are served by /dev/vhost-vsock. */
#include "virtio_vsock.h"
#include "vhost.h"
#include "virtio_mmio.h"
#include "core/iothread.h"
#include "core/util.h"
#include "core/vm.h"

#include <errno.h>
#include <linux/vhost.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Queues: 0 RX, 1 TX (vhost's), 2 events (the guest's buffers stay posted:
 * there is no transport reset to report). */
#define VSOCK_QUEUES 3

struct virtio_vsock {
    struct virtio_dev_ops ops;
    struct virtio_mmio *t;
    uint64_t cid;
    char name[32];                  /* "vsock cid 3" */
    struct vhost vh;
    bool running;
    int call[2];
};

static void vsock_config_read(void *dev, uint64_t off, void *buf, unsigned len)
{
    struct virtio_vsock *v = dev;
    uint8_t cfg[8];                 /* guest_cid, le64 */
    memcpy(cfg, &v->cid, 8);
    if (off < sizeof(cfg))
        memcpy(buf, cfg + off, off + len <= sizeof(cfg) ? len : sizeof(cfg) - off);
}

/* Only the event queue can reach us (vhost takes the others' kicks). */
static void vsock_notify(void *dev, struct virtio_mmio *t, unsigned qi)
{
    (void)dev, (void)t, (void)qi;
}

static void on_call(void *arg)
{
    struct virtio_vsock *v = arg;
    uint64_t x;
    for (int q = 0; q < 2; q++)
        if (read(v->call[q], &x, sizeof(x)) < 0 && errno != EAGAIN)
            errorf("%s: vhost call fd: %s", v->name, strerror(errno));
    virtio_mmio_interrupt(v->t);
}

static int set_running(struct virtio_vsock *v, int on)
{
    if (ioctl(v->vh.fd, VHOST_VSOCK_SET_RUNNING, &on) < 0) {
        errorf("%s: VHOST_VSOCK_SET_RUNNING %d: %s", v->name, on, strerror(errno));
        return -1;
    }
    v->running = on;
    return 0;
}

static void vsock_activate(void *dev, struct virtio_mmio *t, uint64_t f)
{
    struct virtio_vsock *v = dev;
    int r = vhost_set_features(&v->vh, f, 0);
    for (unsigned q = 0; q < 2 && r == 0; q++)
        r = vhost_start_queue(&v->vh, q, virtio_mmio_queue(t, q), virtio_mmio_kick_fd(t, q),
                              v->call[q]);
    if (r || set_running(v, 1))
        virtio_mmio_fail(t, "vhost-vsock did not take the queues");
}

static void vsock_reset(void *dev)
{
    struct virtio_vsock *v = dev;
    if (v->running)
        set_running(v, 0);
}

static void vsock_release(void *p)
{
    struct virtio_vsock *v = p;
    if (v->running)
        set_running(v, 0);
    vhost_close(&v->vh);
    for (int q = 0; q < 2; q++)
        if (v->call[q] >= 0)
            close(v->call[q]);
    free(v);
}

static int setup_vhost(struct virtio_vsock *v, struct vm *vm)
{
    int r = vhost_open(&v->vh, "/dev/vhost-vsock", vm, v->name);
    if (r == 1)
        errorf("%s: /dev/vhost-vsock does not exist (load the vhost_vsock module: "
               "modprobe vhost_vsock)", v->name);
    if (r)
        return -1;
    if (ioctl(v->vh.fd, VHOST_VSOCK_SET_GUEST_CID, &v->cid) < 0) {
        errorf("%s: %s", v->name, errno == EADDRINUSE ? "this CID is in use by another VM"
                                                      : strerror(errno));
        return -1;
    }
    struct iothread *io = iothread_get(vm);
    for (int q = 0; q < 2; q++) {
        v->call[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (v->call[q] < 0 || !io || iothread_add(io, v->call[q], on_call, v)) {
            errorf("%s: vhost call eventfd: %s", v->name, strerror(errno));
            return -1;
        }
    }
    return 0;
}

int virtio_vsock_create(struct vm *vm, uint64_t cid)
{
    struct virtio_vsock *v = xcalloc(1, sizeof(*v));
    v->cid = cid;
    v->vh.fd = v->call[0] = v->call[1] = -1;
    snprintf(v->name, sizeof(v->name), "vsock cid %llu", (unsigned long long)cid);
    v->ops = (struct virtio_dev_ops){
        .name = "virtio-vsock",
        .device_id = VIRTIO_ID_VSOCK,
        .num_queues = VSOCK_QUEUES,
        .queue_max = VIRTIO_VSOCK_QUEUE,
        .config_read = vsock_config_read,
        .notify = vsock_notify,
        .activate = vsock_activate,
        .reset = vsock_reset,
    };
    /* vhost-vsock cannot work without KVM delivering the kicks to it. */
    if (!(v->t = virtio_mmio_create(vm, &v->ops, v, v->name)) || setup_vhost(v, vm)) {
        vsock_release(v);
        return -1;
    }
    if (!virtio_mmio_has_ioeventfd(v->t)) {
        errorf("%s: this host's KVM has no ioeventfd, which vhost-vsock needs", v->name);
        vsock_release(v);
        return -1;
    }
    virtio_mmio_detach_kicks(v->t);
    snprintf(virtio_mmio_slot(v->t)->detail, sizeof(virtio_mmio_slot(v->t)->detail),
             "cid %llu, vhost-vsock", (unsigned long long)cid);
    vm_own_fn(vm, v, vsock_release);
    return 0;
}
