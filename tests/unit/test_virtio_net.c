/* test_virtio_net.c - the NIC driven like a guest driver would, on a
 * datagram socketpair standing in for the TAP (frames with the vnet header),
 * and a real TAP in a private network namespace for open errors and offloads. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "devices/tap.h"
#include "devices/virtio_net.h"
#include "virtio_driver.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RAM  (4u << 20)
#define RXQ  0x10000
#define TXQ  0x20000
#define RXB  0x100000          /* RX buffers: 2 KiB each */
#define TXB  0x200000

static const uint8_t MAC[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };

struct fixture {
    struct vm vm;
    struct vdrv d;
    int peer;                   /* the "host side" of the socketpair */
};

static void vm_init(struct vm *vm)
{
    memset(vm, 0, sizeof(*vm));
    vm->name = "t";
    vm->fd = -1;
    bus_init(&vm->pio, "port");
    bus_init(&vm->mmio, "mmio");
    assert_int_equal(mem_init(&vm->mem, RAM), 0);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    vm_init(&f->vm);
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
    f->peer = sv[1];
    assert_int_equal(virtio_net_create_fd(&f->vm, sv[0], "sock", MAC), 0);
    f->d = (struct vdrv){ .vm = &f->vm, .base = f->vm.virtio.slot[0].base };
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    vm_release_devices(&f->vm);      /* joins the RX thread */
    mem_free(&f->vm.mem);
    close(f->peer);
    free(f);
    return 0;
}

static void driver_up(struct fixture *f, uint64_t features)
{
    assert_true(vd_negotiate(&f->d, features | 1ULL << VIRTIO_F_VERSION_1));
    vd_queue(&f->d, VIRTIO_NET_RXQ, RXQ, 16);
    vd_queue(&f->d, VIRTIO_NET_TXQ, TXQ, 16);
    vd_driver_ok(&f->d);
}

/* Post RX buffer i (header + 2 KiB) as one writable descriptor. */
static void post_rx(struct fixture *f, unsigned i)
{
    memset(vd_gp(&f->d, RXB + 0x1000 * i, 0x1000), 0xEE, 0x1000);
    vd_desc(&f->d, VIRTIO_NET_RXQ, i, RXB + 0x1000 * i, 2048, VIRTQ_DESC_F_WRITE, 0);
    vd_avail(&f->d, VIRTIO_NET_RXQ, (uint16_t)i);
}

/* Wait (bounded: 5 s) for the RX thread to use a buffer. */
static bool wait_used(struct fixture *f, unsigned qi, struct virtq_used_elem *e)
{
    for (int i = 0; i < 5000; i++) {
        if (vd_next_used(&f->d, qi, e))
            return true;
        nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    }
    return false;
}

static void frame(uint8_t *b, size_t len, uint8_t seed)
{
    for (size_t i = 0; i < len; i++)
        b[i] = (uint8_t)(seed + i * 13);
}

static void test_config_and_features(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(vd_rd32(&f->d, VMMIO_DEVICE_ID), VIRTIO_ID_NET);
    uint64_t feat = vd_features(&f->d);
    for (int bit = 0; bit < 17; bit++) {
        bool want = bit == VIRTIO_NET_F_MAC || bit == VIRTIO_NET_F_STATUS ||
                    bit == VIRTIO_NET_F_CSUM || bit == VIRTIO_NET_F_GUEST_CSUM ||
                    (bit >= VIRTIO_NET_F_GUEST_TSO4 && bit <= VIRTIO_NET_F_GUEST_ECN) ||
                    (bit >= VIRTIO_NET_F_HOST_TSO4 && bit <= VIRTIO_NET_F_HOST_ECN) ||
                    bit == VIRTIO_NET_F_MRG_RXBUF;
        assert_int_equal((feat >> bit) & 1, want);
    }
    uint8_t cfg[8];
    vd_config(&f->d, 0, cfg, 8);
    assert_memory_equal(cfg, MAC, 6);
    assert_int_equal(cfg[6] | cfg[7] << 8, VIRTIO_NET_S_LINK_UP);
    uint8_t b;
    vd_config(&f->d, 4, &b, 1);                 /* byte-wide reads, as Linux does */
    assert_int_equal(b, 0x44);
    assert_string_equal(f->vm.virtio.slot[0].detail,
                        "sock 02:11:22:33:44:55, userspace datapath");
}

/* TX: header and frame in two descriptors arrive as one datagram, byte-exact. */
static void test_tx_frame_reaches_the_host(void **state)
{
    struct fixture *f = *state;
    driver_up(f, 1ULL << VIRTIO_NET_F_MAC);
    uint8_t *hdr = vd_gp(&f->d, TXB, 12), *data = vd_gp(&f->d, TXB + 0x100, 1514);
    memset(hdr, 0, 12);
    hdr[0] = 1;                                 /* NEEDS_CSUM: passed through untouched */
    frame(data, 1514, 7);
    vd_desc(&f->d, VIRTIO_NET_TXQ, 0, TXB, 12, VIRTQ_DESC_F_NEXT, 1);
    vd_desc(&f->d, VIRTIO_NET_TXQ, 1, TXB + 0x100, 1514, 0, 0);
    vd_avail(&f->d, VIRTIO_NET_TXQ, 0);
    vd_notify(&f->d, VIRTIO_NET_TXQ);
    struct virtq_used_elem e;
    assert_true(vd_next_used(&f->d, VIRTIO_NET_TXQ, &e));     /* done at the notify */
    assert_int_equal(e.id, 0);
    assert_int_equal(e.len, 0);
    uint8_t got[2048];
    assert_int_equal(recv(f->peer, got, sizeof(got), 0), 12 + 1514);
    assert_memory_equal(got, hdr, 12);
    assert_memory_equal(got + 12, data, 1514);
    assert_true(vd_rd32(&f->d, VMMIO_INT_STATUS) & VIRTIO_INT_USED);
}

/* TX notified through the queue's eventfd (KVM's ioeventfd): the I/O
 * thread sends the frame. */
static void test_tx_on_the_io_thread(void **state)
{
    struct fixture *f = *state;
    driver_up(f, 0);
    uint8_t *b = vd_gp(&f->d, TXB, 12 + 100);
    memset(b, 0, 12);
    frame(b + 12, 100, 9);
    vd_desc(&f->d, VIRTIO_NET_TXQ, 0, TXB, 12 + 100, 0, 0);
    vd_avail(&f->d, VIRTIO_NET_TXQ, 0);
    struct virtio_mmio *t = f->vm.owned[0].p;   /* the transport is owned first */
    assert_int_equal(write(virtio_mmio_kick_fd(t, VIRTIO_NET_TXQ), &(uint64_t){ 1 }, 8), 8);
    struct pollfd p = { .fd = f->peer, .events = POLLIN };
    assert_int_equal(poll(&p, 1, 5000), 1);
    uint8_t got[256];
    assert_int_equal(recv(f->peer, got, sizeof(got), 0), 112);
    assert_memory_equal(got, b, 112);
    struct virtq_used_elem e;
    assert_true(wait_used(f, VIRTIO_NET_TXQ, &e));
}

/* RX: a frame from the host lands in a posted buffer with num_buffers = 1. */
static void test_rx_frame_reaches_the_guest(void **state)
{
    struct fixture *f = *state;
    driver_up(f, 1ULL << VIRTIO_NET_F_MAC);
    post_rx(f, 0);
    vd_notify(&f->d, VIRTIO_NET_RXQ);
    uint8_t pkt[12 + 1000] = { 0 };
    frame(pkt + 12, 1000, 3);
    assert_int_equal(send(f->peer, pkt, sizeof(pkt), 0), (ssize_t)sizeof(pkt));
    struct virtq_used_elem e;
    assert_true(wait_used(f, VIRTIO_NET_RXQ, &e));
    assert_int_equal(e.id, 0);
    assert_int_equal(e.len, sizeof(pkt));
    uint8_t *b = vd_gp(&f->d, RXB, 2048);
    assert_int_equal(b[10] | b[11] << 8, 1);    /* num_buffers */
    assert_memory_equal(b + 12, pkt + 12, 1000);
    assert_int_equal(b[12 + 1000], 0xEE);       /* nothing written past the frame */
}

/* Frames that arrive while the guest has no buffers wait in the host queue
 * and are delivered, in order, once buffers are posted and notified. */
static void test_rx_waits_for_buffers(void **state)
{
    struct fixture *f = *state;
    driver_up(f, 1ULL << VIRTIO_NET_F_MAC);
    uint8_t pkt[12 + 64] = { 0 };
    for (uint8_t k = 0; k < 3; k++) {
        frame(pkt + 12, 64, k);
        assert_int_equal(send(f->peer, pkt, sizeof(pkt), 0), (ssize_t)sizeof(pkt));
    }
    struct virtq_used_elem e;
    assert_false(vd_next_used(&f->d, VIRTIO_NET_RXQ, &e));
    for (unsigned i = 0; i < 3; i++)
        post_rx(f, i);
    vd_notify(&f->d, VIRTIO_NET_RXQ);
    for (unsigned i = 0; i < 3; i++) {
        assert_true(wait_used(f, VIRTIO_NET_RXQ, &e));
        assert_int_equal(e.id, i);
        frame(pkt + 12, 64, (uint8_t)i);
        assert_memory_equal(vd_gp(&f->d, RXB + 0x1000 * i + 12, 64), pkt + 12, 64);
    }
}

/* MRG_RXBUF: a frame larger than one buffer fills several, in order, with
 * num_buffers in the first; until the posted buffers can hold the largest
 * frame the device waits for more; unused buffers stay the driver's. */
static void test_rx_mergeable_buffers(void **state)
{
    struct fixture *f = *state;
    driver_up(f, 1ULL << VIRTIO_NET_F_MRG_RXBUF);
    for (unsigned i = 0; i < 4; i++) {
        memset(vd_gp(&f->d, RXB + 0x1000 * i, 0x1000), 0xEE, 0x1000);
        vd_desc(&f->d, VIRTIO_NET_RXQ, i, RXB + 0x1000 * i, 1024, VIRTQ_DESC_F_WRITE, 0);
    }
    uint8_t pkt[12 + 1400] = { 0 }, small[12 + 64] = { 0 };
    frame(pkt + 12, 1400, 9);
    frame(small + 12, 64, 1);
    assert_int_equal(send(f->peer, pkt, sizeof(pkt), 0), (ssize_t)sizeof(pkt));
    assert_int_equal(send(f->peer, small, sizeof(small), 0), (ssize_t)sizeof(small));
    vd_avail(&f->d, VIRTIO_NET_RXQ, 0);         /* 1 KiB: not enough for 1530 */
    vd_notify(&f->d, VIRTIO_NET_RXQ);           /* served on this thread (no KVM) */
    struct virtq_used_elem e;
    assert_false(vd_next_used(&f->d, VIRTIO_NET_RXQ, &e));
    for (uint16_t i = 1; i < 4; i++)
        vd_avail(&f->d, VIRTIO_NET_RXQ, i);
    vd_notify(&f->d, VIRTIO_NET_RXQ);
    assert_true(wait_used(f, VIRTIO_NET_RXQ, &e));
    assert_int_equal(e.id, 0);
    assert_int_equal(e.len, 1024);
    assert_true(wait_used(f, VIRTIO_NET_RXQ, &e));
    assert_int_equal(e.id, 1);
    assert_int_equal(e.len, sizeof(pkt) - 1024);
    uint8_t *b0 = vd_gp(&f->d, RXB, 1024), *b1 = vd_gp(&f->d, RXB + 0x1000, 1024);
    assert_int_equal(b0[10] | b0[11] << 8, 2);  /* num_buffers */
    assert_memory_equal(b0 + 12, pkt + 12, 1024 - 12);
    assert_memory_equal(b1, pkt + 1024, sizeof(pkt) - 1024);
    assert_true(wait_used(f, VIRTIO_NET_RXQ, &e));   /* the small one: buffer 2 */
    assert_int_equal(e.id, 2);
    assert_int_equal(e.len, sizeof(small));
    uint8_t *b2 = vd_gp(&f->d, RXB + 0x2000, 1024);
    assert_int_equal(b2[10] | b2[11] << 8, 1);
    assert_memory_equal(b2 + 12, small + 12, 64);
    assert_false(vd_next_used(&f->d, VIRTIO_NET_RXQ, &e));   /* buffer 3 is still posted */
    assert_int_equal(*(uint8_t *)vd_gp(&f->d, RXB + 0x3000, 1), 0xEE);
}

/* The transport's snapshot record restored into a new device on another
 * socket (as a restoring process opens the TAP again): the device is set up
 * again as at DRIVER_OK, here for mergeable buffers, so a frame larger than
 * one buffer still spans two (without that it was cut to one). */
static void test_restore_sets_the_device_up_again(void **state)
{
    struct fixture *f = *state;
    driver_up(f, 1ULL << VIRTIO_NET_F_MRG_RXBUF);
    for (uint16_t i = 0; i < 2; i++) {
        vd_desc(&f->d, VIRTIO_NET_RXQ, i, RXB + 0x1000 * i, 1024, VIRTQ_DESC_F_WRITE, 0);
        vd_avail(&f->d, VIRTIO_NET_RXQ, i);
    }
    int k = 0;
    while (k < f->vm.nstates && strcmp(f->vm.states[k].ops->kind, "virtio-mmio"))
        k++;
    assert_true(k < f->vm.nstates);
    static uint8_t rec[8192];
    assert_true(f->vm.states[k].ops->size <= sizeof(rec));
    f->vm.states[k].ops->save(f->vm.states[k].dev, rec);
    void *gs;
    setup(&gs);
    struct fixture *g = gs;
    memcpy(g->vm.mem.r[0].host, f->vm.mem.r[0].host, RAM);     /* the memory file */
    memcpy(g->d.q, f->d.q, sizeof(g->d.q));                     /* the driver's view */
    assert_int_equal(g->vm.states[k].ops->restore(g->vm.states[k].dev, rec), 0);
    uint8_t pkt[12 + 1400] = { 0 };
    frame(pkt + 12, 1400, 5);
    assert_int_equal(send(g->peer, pkt, sizeof(pkt), 0), (ssize_t)sizeof(pkt));
    struct virtq_used_elem e;
    assert_true(wait_used(g, VIRTIO_NET_RXQ, &e));
    assert_int_equal(e.id, 0);
    assert_int_equal(e.len, 1024);
    assert_true(wait_used(g, VIRTIO_NET_RXQ, &e));
    assert_int_equal(e.id, 1);
    assert_int_equal(e.len, sizeof(pkt) - 1024);
    uint8_t *b0 = vd_gp(&g->d, RXB, 1024);
    assert_int_equal(b0[10] | b0[11] << 8, 2);  /* num_buffers */
    assert_memory_equal(b0 + 12, pkt + 12, 1024 - 12);
    teardown(&gs);
}

/* Hostile drivers: notifications before DRIVER_OK do nothing; a TX chain with
 * a writable buffer or shorter than the header breaks only the device. */
static void test_hostile_chains(void **state)
{
    struct fixture *f = *state;
    assert_true(vd_negotiate(&f->d, 1ULL << VIRTIO_F_VERSION_1));
    vd_queue(&f->d, VIRTIO_NET_TXQ, TXQ, 16);
    vd_desc(&f->d, VIRTIO_NET_TXQ, 0, TXB, 4, 0, 0);
    vd_avail(&f->d, VIRTIO_NET_TXQ, 0);
    vd_notify(&f->d, VIRTIO_NET_TXQ);           /* before DRIVER_OK: ignored */
    vd_notify(&f->d, 7);                        /* no such queue */
    struct virtq_used_elem e;
    assert_false(vd_next_used(&f->d, VIRTIO_NET_TXQ, &e));
    assert_false(vd_rd32(&f->d, VMMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
    vd_driver_ok(&f->d);
    vd_notify(&f->d, VIRTIO_NET_TXQ);           /* 4 bytes < the 12-byte header */
    assert_true(vd_rd32(&f->d, VMMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
    uint8_t got[64];
    assert_int_equal(recv(f->peer, got, sizeof(got), 0), -1);  /* nothing sent */
    /* reset and a writable buffer in a TX chain */
    driver_up(f, 0);
    vd_desc(&f->d, VIRTIO_NET_TXQ, 0, TXB, 64, VIRTQ_DESC_F_WRITE, 0);
    vd_avail(&f->d, VIRTIO_NET_TXQ, 0);
    vd_notify(&f->d, VIRTIO_NET_TXQ);
    assert_true(vd_rd32(&f->d, VMMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
    /* a TX descriptor loop: bounded by the queue size, device fails */
    driver_up(f, 0);
    vd_desc(&f->d, VIRTIO_NET_TXQ, 0, TXB, 12, VIRTQ_DESC_F_NEXT, 1);
    vd_desc(&f->d, VIRTIO_NET_TXQ, 1, TXB, 12, VIRTQ_DESC_F_NEXT, 0);
    vd_avail(&f->d, VIRTIO_NET_TXQ, 0);
    vd_notify(&f->d, VIRTIO_NET_TXQ);
    assert_true(vd_rd32(&f->d, VMMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
}

/* An RX buffer that is device-readable breaks the device, from the RX thread. */
static void test_hostile_rx_chain(void **state)
{
    struct fixture *f = *state;
    driver_up(f, 0);
    vd_desc(&f->d, VIRTIO_NET_RXQ, 0, RXB, 2048, 0, 0);
    vd_avail(&f->d, VIRTIO_NET_RXQ, 0);
    vd_notify(&f->d, VIRTIO_NET_RXQ);
    uint8_t pkt[12 + 60] = { 0 };
    assert_int_equal(send(f->peer, pkt, sizeof(pkt), 0), (ssize_t)sizeof(pkt));
    for (int i = 0; i < 5000 && !(vd_rd32(&f->d, VMMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET); i++)
        nanosleep(&(struct timespec){ 0, 1000000 }, NULL);
    assert_true(vd_rd32(&f->d, VMMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
    struct virtq_used_elem e;
    assert_false(vd_next_used(&f->d, VIRTIO_NET_RXQ, &e));
}

static void test_default_mac_is_stable_and_local(void **state)
{
    (void)state;
    uint8_t a[6], b[6], c[6];
    virtio_net_default_mac("tap0", a);
    virtio_net_default_mac("tap0", b);
    virtio_net_default_mac("tap1", c);
    assert_memory_equal(a, b, 6);
    assert_memory_not_equal(a, c, 6);
    assert_int_equal(a[0], 0x02);               /* locally administered, unicast */
    assert_int_equal(a[1], 0x4d);
}

/* ---- a real TAP, in a network namespace of our own ---- */

static char *stderr_of(int (*fn)(struct vm *, const char *), struct vm *vm, const char *arg,
                       char *buf, size_t n, int *ret)
{
    FILE *tmp = tmpfile();
    int saved = dup(2);
    dup2(fileno(tmp), 2);
    *ret = fn(vm, arg);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t got = fread(buf, 1, n - 1, tmp);
    buf[got] = 0;
    fclose(tmp);
    return buf;
}

static int create_tap(struct vm *vm, const char *name)
{
    return virtio_net_create(vm, name, MAC, true);
}

static void test_real_tap(void **state)
{
    (void)state;
    if (unshare(CLONE_NEWNET) < 0 || access("/dev/net/tun", R_OK | W_OK) < 0)
        skip();     /* not root or no tun module: the lab's test covers it */
    int fd = open("/dev/net/tun", O_RDWR);
    assert_true(fd >= 0);
    struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "mkvt0");
    assert_int_equal(ioctl(fd, TUNSETIFF, &ifr), 0);
    assert_int_equal(ioctl(fd, TUNSETPERSIST, 1), 0);
    close(fd);
    struct vm vm;
    vm_init(&vm);
    char msg[512];
    int r;
    stderr_of(create_tap, &vm, "nosuch0", msg, sizeof(msg), &r);
    assert_int_equal(r, -1);
    assert_string_equal(msg, "mini-kvm: nosuch0: no such network interface (create it first: "
                        "ip tuntap add nosuch0 mode tap user $USER && ip link set nosuch0 up)\n");
    stderr_of(create_tap, &vm, "lo", msg, sizeof(msg), &r);
    assert_int_equal(r, -1);
    assert_non_null(strstr(msg, "lo: cannot attach to the TAP: not a TAP interface"));
    assert_int_equal(vm.virtio.n, 0);
    assert_int_equal(create_tap(&vm, "mkvt0"), 0);
    stderr_of(create_tap, &vm, "mkvt0", msg, sizeof(msg), &r);
    assert_int_equal(r, -1);
    assert_string_equal(msg, "mini-kvm: mkvt0: cannot attach to the TAP: it is in use "
                        "(by another process, or given twice)\n");
    /* the guest takes every receive offload: TUNSETOFFLOAD accepts them */
    struct vdrv d = { .vm = &vm, .base = vm.virtio.slot[0].base };
    assert_true(vd_negotiate(&d, 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VIRTIO_NET_F_GUEST_CSUM |
                                 1ULL << VIRTIO_NET_F_GUEST_TSO4 | 1ULL << VIRTIO_NET_F_GUEST_TSO6 |
                                 1ULL << VIRTIO_NET_F_GUEST_ECN));
    vd_queue(&d, VIRTIO_NET_RXQ, RXQ, 16);
    vd_queue(&d, VIRTIO_NET_TXQ, TXQ, 16);
    vd_driver_ok(&d);
    assert_false(vd_rd32(&d, VMMIO_STATUS) & VIRTIO_STATUS_NEEDS_RESET);
    vm_release_devices(&vm);
    mem_free(&vm.mem);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_config_and_features, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_frame_reaches_the_host, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tx_on_the_io_thread, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_frame_reaches_the_guest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_waits_for_buffers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rx_mergeable_buffers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restore_sets_the_device_up_again, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_chains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_rx_chain, setup, teardown),
        cmocka_unit_test(test_default_mac_is_stable_and_local),
        cmocka_unit_test(test_real_tap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
