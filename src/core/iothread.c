/* iothread.c - the VM's I/O thread: epoll over eventfds and TAPs, each fd
 * with its callback; stopped through an eventfd of its own. */
#include "iothread.h"
#include "sandbox.h"
#include "util.h"
#include "vm.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define IOTHREAD_MAX_FDS 64     /* 8 devices x (queues + irqfd resample + TAP) */

struct watch {
    int fd;
    iothread_fn fn;
    void *arg;
};

struct iothread {
    const char *name;           /* the VM's, for messages */
    int epfd, stopfd;
    int sealfd;                 /* iothread_seal: install the filter now */
    struct sandbox *sandbox;
    pthread_t thread;
    atomic_bool stop;
    pthread_mutex_t lock;       /* the watch table (adds from other threads) */
    struct watch w[IOTHREAD_MAX_FDS];
    int n;
    struct watch seal;          /* marks sealfd's events */
    int pausefd;                /* iothread_pause: park between callbacks */
    struct watch pause;         /* marks pausefd's events */
    bool pause_req, paused;     /* under lock */
    pthread_cond_t cv;
};

/* On the thread, between callbacks: no device work is half done. */
static void park(struct iothread *io)
{
    uint64_t v;
    if (read(io->pausefd, &v, sizeof(v)) < 0)
        return;
    pthread_mutex_lock(&io->lock);
    io->paused = true;
    pthread_cond_broadcast(&io->cv);
    while (io->pause_req && !atomic_load(&io->stop))
        pthread_cond_wait(&io->cv, &io->lock);
    io->paused = false;
    pthread_mutex_unlock(&io->lock);
}

static void *io_main(void *p)
{
    struct iothread *io = p;
    struct epoll_event ev[16];
    while (!atomic_load(&io->stop)) {
        int n = epoll_wait(io->epfd, ev, 16, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            errorf("%s: I/O thread: epoll_wait: %s; device I/O stops", io->name, strerror(errno));
            break;
        }
        for (int i = 0; i < n; i++) {
            uint64_t v;             /* vm_start: seal before any guest event */
            if (ev[i].data.ptr == &io->seal && read(io->sealfd, &v, sizeof(v)) == sizeof(v))
                sandbox_enter(io->sandbox, SANDBOX_IO);
        }
        for (int i = 0; i < n && !atomic_load(&io->stop); i++) {
            struct watch *w = ev[i].data.ptr;
            if (w && w != &io->seal && w != &io->pause)
                w->fn(w->arg);
        }
        for (int i = 0; i < n; i++)     /* after this batch's callbacks */
            if (ev[i].data.ptr == &io->pause)
                park(io);
    }
    return NULL;
}

static void io_free(struct iothread *io)
{
    if (io->epfd >= 0)
        close(io->epfd);
    if (io->stopfd >= 0)
        close(io->stopfd);
    if (io->sealfd >= 0)
        close(io->sealfd);
    if (io->pausefd >= 0)
        close(io->pausefd);
    pthread_cond_destroy(&io->cv);
    pthread_mutex_destroy(&io->lock);
    free(io);
}

/* The thread takes no signals: SIGUSR1 kicks are for vCPU threads. */
static struct iothread *io_start(struct vm *vm)
{
    struct iothread *io = xcalloc(1, sizeof(*io));
    io->name = vm->name;
    pthread_mutex_init(&io->lock, NULL);
    atomic_init(&io->stop, false);
    io->epfd = epoll_create1(EPOLL_CLOEXEC);
    io->stopfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    io->sealfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    io->pausefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    pthread_cond_init(&io->cv, NULL);
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
    struct epoll_event sev = { .events = EPOLLIN, .data.ptr = &io->seal };
    struct epoll_event pev = { .events = EPOLLIN, .data.ptr = &io->pause };
    if (io->epfd < 0 || io->stopfd < 0 || io->sealfd < 0 || io->pausefd < 0 ||
        epoll_ctl(io->epfd, EPOLL_CTL_ADD, io->stopfd, &ev) < 0 ||
        epoll_ctl(io->epfd, EPOLL_CTL_ADD, io->sealfd, &sev) < 0 ||
        epoll_ctl(io->epfd, EPOLL_CTL_ADD, io->pausefd, &pev) < 0) {
        errorf("%s: cannot set up the I/O thread: %s", vm->name, strerror(errno));
        io_free(io);
        return NULL;
    }
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int e = pthread_create(&io->thread, NULL, io_main, io);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e) {
        errorf("%s: cannot start the I/O thread: %s", vm->name, strerror(e));
        io_free(io);
        return NULL;
    }
    return io;
}

struct iothread *iothread_get(struct vm *vm)
{
    if (!vm->io)
        vm->io = io_start(vm);
    return vm->io;
}

int iothread_add(struct iothread *io, int fd, iothread_fn fn, void *arg)
{
    pthread_mutex_lock(&io->lock);
    if (io->n == IOTHREAD_MAX_FDS) {
        pthread_mutex_unlock(&io->lock);
        errorf("%s: I/O thread: more than %d watched fds", io->name, IOTHREAD_MAX_FDS);
        return -1;
    }
    struct watch *w = &io->w[io->n];
    *w = (struct watch){ fd, fn, arg };
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = w };
    int r = epoll_ctl(io->epfd, EPOLL_CTL_ADD, fd, &ev);
    if (r == 0)
        io->n++;
    pthread_mutex_unlock(&io->lock);
    if (r < 0)
        errorf("%s: I/O thread: epoll_ctl ADD fd %d: %s", io->name, fd, strerror(errno));
    return r;
}

int iothread_watch(struct iothread *io, int fd, bool watch)
{
    pthread_mutex_lock(&io->lock);
    struct watch *w = NULL;
    for (int i = 0; i < io->n && !w; i++)
        if (io->w[i].fd == fd)
            w = &io->w[i];
    struct epoll_event ev = { .events = watch ? EPOLLIN : 0, .data.ptr = w };
    int r = w ? epoll_ctl(io->epfd, EPOLL_CTL_MOD, fd, &ev) : -1;
    pthread_mutex_unlock(&io->lock);
    if (r < 0)
        errorf("%s: I/O thread: epoll_ctl MOD fd %d: %s", io->name, fd,
               w ? strerror(errno) : "not watched");
    return r;
}

void iothread_seal(struct iothread *io, struct sandbox *sb)
{
    if (!io || !sb)
        return;
    io->sandbox = sb;
    uint64_t one = 1;
    if (write(io->sealfd, &one, sizeof(one)) < 0)
        errorf("%s: cannot seal the I/O thread: %s", io->name, strerror(errno));
}

void iothread_stop(struct iothread *io)
{
    if (!io)
        return;
    atomic_store(&io->stop, true);
    pthread_mutex_lock(&io->lock);          /* a parked thread wakes too */
    pthread_cond_broadcast(&io->cv);
    pthread_mutex_unlock(&io->lock);
    uint64_t one = 1;
    if (write(io->stopfd, &one, sizeof(one)) < 0)
        errorf("%s: cannot stop the I/O thread: %s", io->name, strerror(errno));
    pthread_join(io->thread, NULL);
    io_free(io);
}

bool iothread_current(const struct iothread *io)
{
    return io && pthread_equal(pthread_self(), io->thread);
}

void iothread_pause(struct iothread *io)
{
    if (!io)
        return;
    pthread_mutex_lock(&io->lock);
    io->pause_req = true;
    uint64_t one = 1;
    if (write(io->pausefd, &one, sizeof(one)) == sizeof(one))
        while (!io->paused && !atomic_load(&io->stop))
            pthread_cond_wait(&io->cv, &io->lock);
    pthread_mutex_unlock(&io->lock);
}

void iothread_resume(struct iothread *io)
{
    if (!io)
        return;
    pthread_mutex_lock(&io->lock);
    io->pause_req = false;
    pthread_cond_broadcast(&io->cv);
    pthread_mutex_unlock(&io->lock);
}
