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

#endif
