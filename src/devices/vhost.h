/* vhost.h - hand a virtio device's queues to the host kernel (vhost-net,
 * vhost-vsock): owner, guest memory map, features, rings, kick and call fds. */
#ifndef MINI_KVM_VHOST_H
#define MINI_KVM_VHOST_H

#include <stdint.h>

struct vm;
struct virtqueue;

struct vhost {
    int fd;                     /* /dev/vhost-net or /dev/vhost-vsock */
    uint64_t features;          /* what the kernel side supports */
    const char *name;           /* for messages: "tap0", "vsock" */
};

/* Open dev (e.g. "/dev/vhost-net"), take ownership and give it the VM's RAM
 * map. Returns 0; 1 when dev does not exist (quietly: the caller falls back
 * or says so); -1 after one error line. */
int vhost_open(struct vhost *v, const char *dev, struct vm *vm, const char *name);

/* VHOST_SET_FEATURES with the driver's features the kernel knows: ring and
 * transport bits, and of the device's own bits only `device_bits` (net's
 * MRG_RXBUF; MAC, CSUM... stay ours). 0 or -1 + a line. */
int vhost_set_features(struct vhost *v, uint64_t driver_features, uint64_t device_bits);

/* Queue qi: size, next avail index, ring addresses (the transport's checked
 * host pointers), the eventfd KVM signals on QueueNotify (kick) and the one
 * the kernel signals when it used buffers (call). 0 or -1 + a line; a
 * queue that is not ready (its rings unchecked) is refused. */
int vhost_start_queue(struct vhost *v, unsigned qi, const struct virtqueue *q,
                      int kick, int call);

void vhost_close(struct vhost *v);

#endif
