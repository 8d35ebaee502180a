/* tap.h - open an existing Linux TAP interface for a virtio-net device, with
 * the virtio-net header on every frame and offloads set from the features. */
#ifndef MINI_KVM_TAP_H
#define MINI_KVM_TAP_H

#include <stdbool.h>

/* Bytes of struct virtio_net_hdr_v1 (virtio 1.x: always with num_buffers),
 * which the TAP is told to expect and produce (TUNSETVNETHDRSZ). */
#define TAP_VNET_HDR_LEN 12

/* Open TAP interface `name` (it must exist: `ip tuntap add NAME mode tap`),
 * non-blocking, with IFF_VNET_HDR and a TAP_VNET_HDR_LEN header. Returns the
 * fd, or -1 after one error line (no /dev/net/tun, no such interface, in
 * use, not a TAP, no permission). */
int tap_open(const char *name);

/* TUNSETOFFLOAD: what the guest accepts on receive (partial checksums,
 * TSO4/6, ECN) so the TAP may hand it such frames. 0, or -1 after a line. */
int tap_set_offload(int fd, const char *name, bool csum, bool tso4, bool tso6, bool ecn);

#endif
