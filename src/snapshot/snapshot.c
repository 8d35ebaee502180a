/* snapshot.c - placeholder until the snapshot format lands. */
#include "snapshot/snapshot.h"
#include "core/util.h"

int snapshot_save(struct vm *vm, const struct options *opt, const char *snap,
                  const char *mem)
{
    (void)vm; (void)opt; (void)mem;
    errorf("%s: snapshots are not implemented yet", snap);
    return -1;
}
