/* snapshot.h - save a paused VM to a state file and a guest memory file, and
 * rebuild it from them (docs/snapshot.md). */
#ifndef MINI_KVM_SNAPSHOT_H
#define MINI_KVM_SNAPSHOT_H

struct vm;
struct options;

/* The VM must be paused (vm_pause). Writes snap (state, checksummed) and
 * mem (guest RAM, sparse). Returns 0, or -1 after errorf (and removes what
 * it wrote). opt: the options the guest was built from (its shape). */
int snapshot_save(struct vm *vm, const struct options *opt, const char *snap,
                  const char *mem);

/* Restore, in three steps so that the caller builds the VM in between:
 * snapshot_open reads and checks the state file (magic, format, length,
 * CRC, version) and fills shape with what to build (RAM, vCPUs, disks; the
 * guest's name in shape->kernel); the caller creates that VM and its
 * devices; snapshot_apply checks CPU features and devices, maps the memory
 * file copy-on-write and sets every state. Nothing runs until it returns 0;
 * on -1 (after one errorf line) the VM must be destroyed, never started.
 * shape's strings live in r until snapr_close(r). */
struct snap_reader;
int snapshot_open(struct snap_reader *r, const char *path, struct options *shape);
int snapshot_apply(struct vm *vm, const struct snap_reader *r, const char *mem);

#endif
