/* virtio_vsock.h - a virtio socket device (--vsock CID) served by the host
 * kernel's vhost-vsock: host programs connect(AF_VSOCK, CID, port). */
#ifndef MINI_KVM_VIRTIO_VSOCK_H
#define MINI_KVM_VIRTIO_VSOCK_H

#include <stdint.h>

struct vm;

#define VIRTIO_VSOCK_QUEUE 128
#define VIRTIO_VSOCK_CID_MIN 3          /* 0-2 are reserved (hypervisor, local, host) */

/* Attach the device with guest CID `cid` in the VM's next virtio slot.
 * Needs /dev/vhost-vsock and KVM's ioeventfd. 0, or -1 after one line. */
int virtio_vsock_create(struct vm *vm, uint64_t cid);

#endif
