/* virtio_rng.h - a virtio entropy device: the guest's /dev/hwrng, filled
 * from the host's getrandom(2), on by default for Linux kernels. */
#ifndef MINI_KVM_VIRTIO_RNG_H
#define MINI_KVM_VIRTIO_RNG_H

struct vm;

#define VIRTIO_RNG_QUEUE 64

/* Attach the device in the VM's next virtio slot. Returns 0, or -1 after
 * printing an error (no free slot). */
int virtio_rng_create(struct vm *vm);

#endif
