/* guest.h - turning one command-line guest into a ready VM: memory size,
 * loader, CPU mode, devices. main.c only creates, starts and waits. */
#ifndef MINI_KVM_GUEST_H
#define MINI_KVM_GUEST_H

#include "cli.h"
#include "core/console.h"
#include "core/vm.h"

struct kvm_host;

struct vga;
struct i8042;

struct guest {
    struct vm vm;
    struct console_port port;
    char name[64];
    struct vga *vga;            /* the CRTC of platform guests, else NULL */
    struct i8042 *i8042;        /* their keyboard controller, else NULL */
};

/* A teaching guest from a flat binary (opt->mode decides real or long). */
int guest_setup_flat(struct guest *g, struct kvm_host *kvm, const struct options *opt,
                     const char *path, int index, struct console *con);

/* A kernel (-k): Linux bzImage, multiboot or ELF64 (teaching OS), with the
 * PC platform. */
int guest_setup_kernel(struct guest *g, struct kvm_host *kvm, const struct options *opt,
                       struct console *con);

/* Disk boot (no -k, no flat guest): the PC platform with the --ide disks,
 * sector 0 of the first at 0x7C00 in real mode; named after that image. */
int guest_setup_disk(struct guest *g, struct kvm_host *kvm, const struct options *opt,
                     struct console *con);

/* --restore / PUT /snapshot/load: the VM saved in opt->restore with its
 * memory from opt->restore_mem (docs/snapshot.md); *shape gets the options
 * it was built with (for a later snapshot). On -1 the VM is only fit for
 * vm_destroy. */
int guest_setup_restore(struct guest *g, struct kvm_host *kvm, const struct options *opt,
                        struct console *con, struct options *shape);

#endif
