/* virtio_net.h - a virtio network device on a host TAP interface: RX and TX
 * queues, MAC and link status in config space, offloads via the vnet header. */
#ifndef MINI_KVM_VIRTIO_NET_H
#define MINI_KVM_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

struct vm;

/* Feature bits (virtio 1.2, 5.1.3). */
#define VIRTIO_NET_F_CSUM       0   /* device handles partial checksums (TX) */
#define VIRTIO_NET_F_GUEST_CSUM 1   /* driver handles partial checksums (RX) */
#define VIRTIO_NET_F_MAC        5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN  9
#define VIRTIO_NET_F_HOST_TSO4  11
#define VIRTIO_NET_F_HOST_TSO6  12
#define VIRTIO_NET_F_HOST_ECN   13
#define VIRTIO_NET_F_MRG_RXBUF  15  /* a received frame may span several buffers */
#define VIRTIO_NET_F_STATUS     16
#define VIRTIO_NET_S_LINK_UP    1

#define VIRTIO_NET_RXQ   0
#define VIRTIO_NET_TXQ   1
#define VIRTIO_NET_QUEUE 256

/* The stable MAC of a TAP without ,mac=: 02:4d:4b (locally administered,
 * "MK") and three bytes hashed from the interface name. */
void virtio_net_default_mac(const char *tap, uint8_t mac[6]);

/* Open TAP `tap` (tap.c) and attach a NIC with this MAC in the VM's next
 * virtio slot. With `vhost`, /dev/vhost-net present and KVM's ioeventfd,
 * the kernel moves the frames (vhost-net); otherwise the VM's I/O thread
 * does (the userspace datapath). --stats says which.
 * Returns 0, or -1 after one error line. */
int virtio_net_create(struct vm *vm, const char *tap, const uint8_t mac[6], bool vhost);

/* The same on an already open packet fd that is not a TAP (tests: one end
 * of a SOCK_DGRAM socketpair; frames carry the 12-byte vnet header, no
 * offload ioctls). The device owns fd from here on, even on failure. */
int virtio_net_create_fd(struct vm *vm, int fd, const char *name, const uint8_t mac[6]);

#endif
