/* virtio_net.c - virtio network device (virtio 1.2, 5.1), userspace datapath:
 * TX chains written to the TAP as they are, RX frames read into RX chains. */
#include "virtio_net.h"
#include "tap.h"
#include "vhost.h"
#include "virtio_mmio.h"
#include "core/iothread.h"
#include "core/util.h"
#include "core/vm.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/vhost.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

/* At most this many frames per wake-up of the I/O thread before it lets a
 * vCPU have the transport lock again. */
#define RX_BURST 64
/* The largest frame the TAP gives us, with its header: with the guest's
 * receive offloads a 64 KiB GSO frame, else an Ethernet frame (+ VLAN). */
#define RX_FRAME_GSO (TAP_VNET_HDR_LEN + 18 + 65535)
#define RX_FRAME     (TAP_VNET_HDR_LEN + 18 + 1500)
/* MRG_RXBUF: at most this many buffers for one frame (Linux's mergeable
 * buffers are at least 1518 bytes: 44 for the largest frame). */
#define RX_MAX_BUFS  64

struct virtio_net {
    struct virtio_dev_ops ops;
    struct virtio_mmio *t;
    char name[IFNAMSIZ];
    uint8_t mac[6];
    int fd;                         /* the TAP (or a test's datagram socket) */
    bool is_tap;
    struct iothread *io;            /* the VM's: it watches fd */
    bool rx_wait;                   /* no RX buffer: wait for the RX notification */
    bool watching;                  /* the I/O thread polls fd */
    bool vhost;                     /* the kernel's vhost-net moves the frames */
    bool vhost_running;             /* the TAP is its backend (DRIVER_OK) */
    struct vhost vh;
    int call[2];                    /* vhost signals used buffers, per queue */
    bool mrg;                       /* MRG_RXBUF: a frame may span buffers */
    uint32_t rx_frame;              /* the largest frame, RX_FRAME(_GSO) */
    struct vq_chain rx_chain, tx_chain;
    /* MRG_RXBUF: the buffers gathered for one frame, their iovecs in a row */
    struct rx_bufs {
        unsigned n, niov;
        uint64_t total;
        uint16_t head[RX_MAX_BUFS];
        uint32_t len[RX_MAX_BUFS];
        struct iovec iov[VQ_MAX_SIZE];
    } rxb;
};

void virtio_net_default_mac(const char *tap, uint8_t mac[6])
{
    uint32_t h = 2166136261u;       /* FNV-1a: stable across runs and hosts */
    for (const char *p = tap; *p; p++)
        h = (h ^ (uint8_t)*p) * 16777619u;
    const uint8_t m[6] = { 0x02, 0x4d, 0x4b, (uint8_t)(h >> 16), (uint8_t)(h >> 8), (uint8_t)h };
    memcpy(mac, m, 6);
}

static void net_config_read(void *dev, uint64_t off, void *buf, unsigned len)
{
    struct virtio_net *n = dev;
    uint8_t cfg[8];                 /* mac[6], status (le16) */
    memcpy(cfg, n->mac, 6);
    cfg[6] = VIRTIO_NET_S_LINK_UP;
    cfg[7] = 0;
    if (off < sizeof(cfg))
        memcpy(buf, cfg + off, off + len <= sizeof(cfg) ? len : sizeof(cfg) - off);
}

/* ---- TX: guest -> TAP, on the thread that took the notification ---- */

/* Each chain is the 12-byte vnet header and the frame, device-readable:
 * handed to the TAP in one writev, no copy. A frame the TAP refuses is
 * dropped, as a NIC drops what the wire will not take. */
static void tx_burst(struct virtio_net *n, struct virtio_mmio *t, struct virtqueue *q)
{
    struct vq_chain *c = &n->tx_chain;
    while (vq_pop(t, q, c) > 0) {
        if (c->nr_wr || c->rd_len < TAP_VNET_HDR_LEN) {
            virtio_mmio_fail(t, "TX chain %u: %s", c->head,
                             c->nr_wr ? "has device-writable buffers" : "shorter than the header");
            return;
        }
        ssize_t w = writev(n->fd, c->iov, (int)c->nr_rd);
        (void)w;
        vq_push(q, c->head, 0);
    }
}

static void rx_burst(struct virtio_net *n);

/* The transport's lock is held: on the I/O thread (ioeventfd) or a vCPU. */
static void net_notify(void *dev, struct virtio_mmio *t, unsigned qi)
{
    struct virtio_net *n = dev;
    if (qi == VIRTIO_NET_TXQ)
        tx_burst(n, t, virtio_mmio_queue(t, qi));
    else
        rx_burst(n);                /* new RX buffers: take what the TAP holds */
}

/* ---- RX: TAP -> guest, on the VM's I/O thread ---- */

/* Pop one RX chain: 1, 0 = none, -1 = failed (device-readable parts, or
 * a first buffer too short for the header). */
static int rx_pop(struct virtio_net *n, struct virtqueue *q, bool first)
{
    struct vq_chain *c = &n->rx_chain;
    int r = vq_pop(n->t, q, c);
    if (r > 0 && (c->nr_rd || c->wr_len == 0 || (first && c->wr_len < TAP_VNET_HDR_LEN))) {
        virtio_mmio_fail(n->t, "RX chain %u: %s", c->head,
                         c->nr_rd ? "has device-readable buffers" : "shorter than the header");
        return -1;
    }
    return r;
}

/* Gather RX chains until they hold the largest frame (one chain without
 * MRG_RXBUF). 1 = enough, 0 = the driver must give more first (none
 * taken), -1 = failed. */
static int rx_gather(struct virtio_net *n, struct virtqueue *q)
{
    struct rx_bufs *b = &n->rxb;
    const struct vq_chain *c = &n->rx_chain;
    b->n = b->niov = 0;
    b->total = 0;
    int r = 1;
    while (b->total < (n->mrg ? n->rx_frame : 1) && b->n < RX_MAX_BUFS &&
           (r = rx_pop(n, q, b->n == 0)) > 0) {
        if (b->niov + c->nr_wr > VQ_MAX_SIZE) {
            vq_unpop(q);
            break;
        }
        memcpy(b->iov + b->niov, c->iov, c->nr_wr * sizeof(*c->iov));
        b->niov += c->nr_wr;
        b->head[b->n] = c->head;
        b->len[b->n++] = c->wr_len > UINT32_MAX ? UINT32_MAX : (uint32_t)c->wr_len;
        b->total += c->wr_len;
    }
    if (r < 0)
        return -1;
    /* Too little room for a large frame and the driver can still add some:
     * wait for it (Linux keeps at least half its ring posted). */
    if (r == 0 && (b->n == 0 || (b->total < n->rx_frame && b->n < q->num))) {
        for (unsigned i = 0; i < b->n; i++)
            vq_unpop(q);
        return 0;
    }
    return 1;
}

/* Read one frame into the gathered buffers. 1 = delivered, 0 = nothing to
 * read or no buffer (rx_wait says which), -1 = the device failed. */
static int rx_one(struct virtio_net *n, struct virtqueue *q)
{
    struct rx_bufs *b = &n->rxb;
    int r = rx_gather(n, q);
    if (r <= 0) {
        n->rx_wait = r == 0;
        return r;
    }
    ssize_t got = readv(n->fd, b->iov, (int)b->niov);
    if (got < 0) {                  /* EAGAIN: the chains wait for the next frame */
        for (unsigned i = 0; i < b->n; i++)
            vq_unpop(q);
        if (errno != EAGAIN && errno != EINTR)
            errorf("%s: read: %s", n->name, strerror(errno));
        return 0;
    }
    /* The buffers the frame filled, in order; the rest go back. */
    uint64_t left = (uint64_t)got;
    uint16_t used = 0;
    while (used < b->n && (used == 0 || left))
        left -= left < b->len[used] ? left : b->len[used], used++;
    for (unsigned i = used; i < b->n; i++)
        vq_unpop(q);
    iov_from_buf(b->iov, b->niov, 10, &used, sizeof(used));   /* num_buffers */
    left = (uint64_t)got;
    for (unsigned i = 0; i < used; i++) {
        uint32_t k = left < b->len[i] ? (uint32_t)left : b->len[i];
        vq_push(q, b->head[i], k);
        left -= k;
    }
    return 1;
}

/* Transport lock held. Watch the TAP only while the guest has given RX
 * buffers; otherwise wait for its RX notification, leaving frames queued in
 * the TAP (which drops beyond its txqueuelen, as a full NIC ring would). */
static void rx_burst(struct virtio_net *n)
{
    struct virtqueue *q = virtio_mmio_queue(n->t, VIRTIO_NET_RXQ);
    n->rx_wait = false;
    for (int i = 0; i < RX_BURST && rx_one(n, q) > 0; i++)
        ;
    virtio_mmio_signal(n->t, q);
    if (n->watching == n->rx_wait && iothread_watch(n->io, n->fd, !n->rx_wait) == 0)
        n->watching = !n->rx_wait;
}

/* The I/O thread: the TAP has a frame. */
static void on_tap(void *arg)
{
    struct virtio_net *n = arg;
    virtio_mmio_lock(n->t);
    rx_burst(n);
    virtio_mmio_unlock(n->t);
}

/* ---- vhost-net: the kernel moves frames between the rings and the TAP ---- */

/* The I/O thread: vhost used buffers on a queue (either: both fds are
 * drained, non-blocking); tell the guest. */
static void on_call(void *arg)
{
    struct virtio_net *n = arg;
    uint64_t v;
    for (int q = 0; q < 2; q++)
        if (read(n->call[q], &v, sizeof(v)) < 0 && errno != EAGAIN)
            errorf("%s: vhost call fd: %s", n->name, strerror(errno));
    virtio_mmio_interrupt(n->t);
}

static int set_backend(struct virtio_net *n, int fd)
{
    for (unsigned q = 0; q < 2; q++) {
        struct vhost_vring_file b = { .index = q, .fd = fd };
        if (ioctl(n->vh.fd, VHOST_NET_SET_BACKEND, &b) < 0) {
            errorf("%s: queue %u: VHOST_NET_SET_BACKEND: %s", n->name, q, strerror(errno));
            return -1;
        }
    }
    return 0;
}

/* DRIVER_OK: the rings (checked by the transport) and the TAP to vhost. */
static int vhost_start(struct virtio_net *n, struct virtio_mmio *t, uint64_t f)
{
    if (vhost_set_features(&n->vh, f, 1ULL << VIRTIO_NET_F_MRG_RXBUF))
        return -1;
    for (unsigned q = 0; q < 2; q++)
        if (vhost_start_queue(&n->vh, q, virtio_mmio_queue(t, q), virtio_mmio_kick_fd(t, q),
                              n->call[q]))
            return -1;
    if (set_backend(n, n->fd))
        return -1;
    n->vhost_running = true;
    return 0;
}

/* ---- lifecycle ---- */

static void net_activate(void *dev, struct virtio_mmio *t, uint64_t f)
{
    struct virtio_net *n = dev;
#define HAS(bit) ((f >> (bit)) & 1)
    if (n->is_tap && tap_set_offload(n->fd, n->name, HAS(VIRTIO_NET_F_GUEST_CSUM),
                                     HAS(VIRTIO_NET_F_GUEST_TSO4), HAS(VIRTIO_NET_F_GUEST_TSO6),
                                     HAS(VIRTIO_NET_F_GUEST_ECN)))
        virtio_mmio_fail(t, "cannot set the TAP's offloads");
    n->mrg = HAS(VIRTIO_NET_F_MRG_RXBUF);
    n->rx_frame = HAS(VIRTIO_NET_F_GUEST_TSO4) || HAS(VIRTIO_NET_F_GUEST_TSO6)
                  ? RX_FRAME_GSO : RX_FRAME;
#undef HAS
    if (!n->vhost)
        rx_burst(n);
    else if (vhost_start(n, t, f))
        virtio_mmio_fail(t, "vhost-net did not take the queues");
}

/* Status 0: take the TAP away from vhost (the rings are about to change). */
static void net_reset(void *dev)
{
    struct virtio_net *n = dev;
    if (n->vhost_running && set_backend(n, -1) == 0)
        n->vhost_running = false;
}

/* vm_release_devices has stopped the I/O thread already. */
static void net_release(void *p)
{
    struct virtio_net *n = p;
    if (n->vhost_running)
        set_backend(n, -1);
    vhost_close(&n->vh);
    for (int q = 0; q < 2; q++)
        if (n->call[q] >= 0)
            close(n->call[q]);
    if (n->fd >= 0)
        close(n->fd);
    free(n);
}

/* With /dev/vhost-net and KVM's ioeventfd, the kernel serves the queues:
 * the kick fds go to vhost (the I/O thread stops reading them) and vhost's
 * call fds come to the I/O thread, which sets InterruptStatus and raises
 * the line. 0 = vhost, 1 = userspace datapath, -1 = error. */
static int try_vhost(struct virtio_net *n, struct vm *vm)
{
    if (!n->is_tap || !virtio_mmio_has_ioeventfd(n->t))
        return 1;
    int r = vhost_open(&n->vh, "/dev/vhost-net", vm, n->name);
    if (r)
        return r;
    for (int q = 0; q < 2; q++) {
        n->call[q] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (n->call[q] < 0 || iothread_add(n->io, n->call[q], on_call, n)) {
            errorf("%s: vhost call eventfd: %s", n->name, strerror(errno));
            return -1;
        }
    }
    virtio_mmio_detach_kicks(n->t);
    n->vhost = true;
    return 0;
}

static int create(struct vm *vm, int fd, bool is_tap, bool vhost, const char *name,
                  const uint8_t mac[6])
{
    struct virtio_net *n = xcalloc(1, sizeof(*n));
    n->fd = fd;
    n->vh.fd = n->call[0] = n->call[1] = -1;
    n->is_tap = is_tap;
    snprintf(n->name, sizeof(n->name), "%s", name);
    memcpy(n->mac, mac, 6);
    n->ops = (struct virtio_dev_ops){
        .name = "virtio-net",
        .device_id = VIRTIO_ID_NET,
        .features = 1ULL << VIRTIO_NET_F_MAC | 1ULL << VIRTIO_NET_F_STATUS |
                    1ULL << VIRTIO_NET_F_CSUM | 1ULL << VIRTIO_NET_F_GUEST_CSUM |
                    1ULL << VIRTIO_NET_F_HOST_TSO4 | 1ULL << VIRTIO_NET_F_HOST_TSO6 |
                    1ULL << VIRTIO_NET_F_HOST_ECN | 1ULL << VIRTIO_NET_F_GUEST_TSO4 |
                    1ULL << VIRTIO_NET_F_GUEST_TSO6 | 1ULL << VIRTIO_NET_F_GUEST_ECN |
                    1ULL << VIRTIO_NET_F_MRG_RXBUF,
        .num_queues = 2,
        .queue_max = VIRTIO_NET_QUEUE,
        .config_read = net_config_read,
        .notify = net_notify,
        .activate = net_activate,
        .reset = net_reset,
    };
    /* The TAP is watched from the first RX notification (or DRIVER_OK) on. */
    int v = 1;
    if (!(n->t = virtio_mmio_create(vm, &n->ops, n, name)) || !(n->io = iothread_get(vm)) ||
        iothread_add(n->io, fd, on_tap, n) || iothread_watch(n->io, fd, false) ||
        (vhost && (v = try_vhost(n, vm)) < 0)) {
        net_release(n);
        return -1;
    }
    snprintf(virtio_mmio_slot(n->t)->detail, sizeof(virtio_mmio_slot(n->t)->detail),
             "%s %02x:%02x:%02x:%02x:%02x:%02x, %s datapath", name,
             mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], v == 0 ? "vhost-net" : "userspace");
    vm_own_fn(vm, n, net_release);
    return 0;
}

int virtio_net_create_fd(struct vm *vm, int fd, const char *name, const uint8_t mac[6])
{
    return create(vm, fd, false, false, name, mac);
}

int virtio_net_create(struct vm *vm, const char *tap, const uint8_t mac[6], bool vhost)
{
    int fd = tap_open(tap);
    return fd < 0 ? -1 : create(vm, fd, true, vhost, tap, mac);
}
