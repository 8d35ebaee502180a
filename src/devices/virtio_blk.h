/* virtio_blk.h - a virtio block device backed by a raw image file, on the
 * virtio-mmio transport; requests are served synchronously at QueueNotify. */
#ifndef MINI_KVM_VIRTIO_BLK_H
#define MINI_KVM_VIRTIO_BLK_H

struct vm;

/* Feature bits. */
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_RO      5
#define VIRTIO_BLK_F_FLUSH   9

/* Request types and status values (virtio 1.2, 5.2.6). */
#define VIRTIO_BLK_T_IN     0
#define VIRTIO_BLK_T_OUT    1
#define VIRTIO_BLK_T_FLUSH  4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_S_OK     0
#define VIRTIO_BLK_S_IOERR  1
#define VIRTIO_BLK_S_UNSUPP 2

#define VIRTIO_BLK_SECTOR   512
#define VIRTIO_BLK_ID_BYTES 20
#define VIRTIO_BLK_QUEUE    256

/* Open `path` (read-write, or read-only when the file or its file system
 * is: the guest then sees VIRTIO_BLK_F_RO) and attach it as virtio-mmio
 * device in the VM's next virtio slot. The image must be a regular file or block
 * device whose size is a non-zero multiple of 512; it is locked against a
 * second user (image_open). Returns 0, or -1 after printing an error. */
int virtio_blk_create(struct vm *vm, const char *path);

/* The same with an image already opened by image_open (the fuzz target
 * keeps one open); the device owns it from here on, even on failure. */
struct image;
int virtio_blk_attach(struct vm *vm, const struct image *img);

#endif
