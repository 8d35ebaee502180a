/* fake_iothread.c - core/iothread.h for the fuzz targets, linked instead of
 * src/core/iothread.c: a table of watched fds and no thread, no epoll. */
#include "fuzz_vm.h"
#include "core/iothread.h"
#include "core/util.h"

#include <stdlib.h>

/* Why no thread: in a fake VM nothing ever signals a watched fd by itself
 * (no KVM ioeventfd or irqfd, no peer on a TAP), so the real thread only
 * cost a clone, an epoll and a join per input (most of the virtio targets'
 * time) and made a run depend on scheduling. A target that wants an fd's
 * callback calls fuzz_iothread_fire(): on its own thread, when it says. */
#define FAKE_MAX_FDS 64     /* as the real one: more is the same error */

struct fake_watch {
    int fd;
    iothread_fn fn;
    void *arg;
    bool on;
};

struct iothread {
    const char *name;
    struct fake_watch w[FAKE_MAX_FDS];
    int n;
};

struct iothread *iothread_get(struct vm *vm)
{
    if (!vm->io) {
        vm->io = xcalloc(1, sizeof(*vm->io));
        vm->io->name = vm->name;
    }
    return vm->io;
}

int iothread_add(struct iothread *io, int fd, iothread_fn fn, void *arg)
{
    if (io->n == FAKE_MAX_FDS) {
        errorf("%s: I/O thread: more than %d watched fds", io->name, FAKE_MAX_FDS);
        return -1;
    }
    io->w[io->n++] = (struct fake_watch){ fd, fn, arg, true };
    return 0;
}

static struct fake_watch *find(struct iothread *io, int fd)
{
    for (int i = 0; io && i < io->n; i++)
        if (io->w[i].fd == fd)
            return &io->w[i];
    return NULL;
}

int iothread_watch(struct iothread *io, int fd, bool watch)
{
    struct fake_watch *w = find(io, fd);
    if (!w) {
        errorf("%s: I/O thread: epoll_ctl MOD fd %d: not watched", io ? io->name : "?", fd);
        return -1;
    }
    w->on = watch;
    return 0;
}

void iothread_seal(struct iothread *io, struct sandbox *sb) { (void)io, (void)sb; }
void iothread_stop(struct iothread *io) { free(io); }
void iothread_pause(struct iothread *io) { (void)io; }
void iothread_resume(struct iothread *io) { (void)io; }
bool iothread_current(const struct iothread *io) { (void)io; return false; }

bool fuzz_iothread_fire(struct vm *vm, int fd)
{
    struct fake_watch *w = find(vm->io, fd);
    if (!w || !w->on)
        return false;
    w->fn(w->arg);
    return true;
}
