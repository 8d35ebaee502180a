/* gdbstub.c - the stub's thread: listen, serve one gdb client at a time, and
 * implement the protocol's target (registers, memory, breakpoints) on the VM. */
#include "gdbstub.h"
#include "gdb_internal.h"
#include "core/sandbox.h"
#include "core/util.h"
#include "core/vcpu.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

void gdb_target_init(struct gdbstub *g);    /* gdb_target.c */

static void send_all(struct gdbstub *g, const char *p, size_t n)
{
    while (n && g->cfd >= 0) {
        ssize_t w = send(g->cfd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;     /* the client went away: the next recv says so */
        p += w;
        n -= (size_t)w;
    }
}

static void send_packet(struct gdbstub *g, const char *payload, size_t len)
{
    g->frame_len = gdb_frame(g->frame, sizeof(g->frame), payload, len);
    if (!g->frame_len)      /* cannot happen: replies are bounded below the frame */
        g->frame_len = gdb_frame(g->frame, sizeof(g->frame), "E01", 3);
    send_all(g, g->frame, g->frame_len);
}

/* Refuse a second client at once: one debugger owns the VM. */
static void refuse(struct gdbstub *g)
{
    int fd = accept4(g->lfd, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0) {
        errorf("%s: gdb: a second debugger connected: refused (one client at a time)",
               g->vm->name);
        close(fd);
    }
}

/* The client left (D, or the connection closed): the guest runs on, free. */
static void detach(struct gdbstub *g)
{
    pthread_mutex_lock(&g->lock);
    for (int i = 0; i < GDB_MAX_SWBP; i++)
        if (g->sw[i].used && guest_write(&g->vm->mem, g->sw[i].gpa, &g->sw[i].orig, 1) < 0)
            errorf("%s: gdb: cannot restore the byte at 0x%llx", g->vm->name,
                   (unsigned long long)g->sw[i].addr);
    memset(g->hw, 0, sizeof(g->hw));
    memset(g->sw, 0, sizeof(g->sw));
    memset(g->emu, 0, sizeof(g->emu));
    g->nsw = g->nemu = 0;
    g->phys = false;
    atomic_store(&g->attached, false);
    uint8_t act[GDB_MAX_THREADS + 1];
    memset(act, GDB_ACT_CONT, sizeof(act));
    for (int i = 0; i < g->vm->ncpus; i++)
        g->cpu[i].pending = false;
    gdb_resume(g, act);
    pthread_mutex_unlock(&g->lock);
    close(g->cfd);
    g->cfd = -1;
    errorf("%s: gdb: debugger detached, the guest runs on", g->vm->name);
}

static void get_sregs(struct gdbstub *g, struct vcpu *c, void *arg)
{
    if (ioctl(c->fd, KVM_GET_SREGS, arg) < 0)
        errorf("%s: gdb: KVM_GET_SREGS: %s", g->vm->name, strerror(errno));
}

/* All vCPUs are parked: pick the register layout from vCPU 0's mode. */
static void first_stop(struct gdbstub *g)
{
    struct kvm_sregs s;
    memset(&s, 0, sizeof(s));
    gdb_on_cpu(g, 0, get_sregs, &s);
    g->layout = gdb_x86_layout_of(&s);
    g->xml_len = gdb_x86_xml(g->layout, g->xml, sizeof(g->xml));
}

/* Handle one received packet. Returns false when the session is over. */
static bool packet(struct gdbstub *g, bool *running)
{
    if (!g->sess.noack)
        send_all(g, "+", 1);
    /* All-stop: while the guest runs only Ctrl-C is expected; a kill or a
     * detach is still obeyed (the target need not be stopped for either). */
    bool kd = g->rx.len == 1 && (g->rx.buf[0] == 'k' || g->rx.buf[0] == 'D');
    if (*running && !kd) {
        send_packet(g, "E01", 3);
        return true;
    }
    size_t rlen;
    pthread_mutex_lock(&g->lock);
    enum gdb_result r = gdb_dispatch(&g->sess, g->rx.buf, g->rx.len, g->reply,
                                     sizeof(g->reply), &rlen);
    pthread_mutex_unlock(&g->lock);
    switch (r) {
    case GDB_REPLY:
        send_packet(g, g->reply, rlen);
        return true;
    case GDB_RESUMED:
        *running = true;
        return true;
    case GDB_DETACH:
        send_packet(g, g->reply, rlen);
        detach(g);
        return false;
    default:    /* GDB_KILL */
        errorf("%s: gdb: killed by the debugger (exit status 0)", g->vm->name);
        vm_stop(g->vm, 0);
        close(g->cfd);
        g->cfd = -1;
        atomic_store(&g->attached, false);
        return false;
    }
}

static bool input(struct gdbstub *g, bool *running)
{
    char buf[4096];
    ssize_t n = recv(g->cfd, buf, sizeof(buf), 0);
    if (n < 0 && errno == EINTR)
        return true;
    if (n <= 0) {
        detach(g);
        return false;
    }
    for (ssize_t i = 0; i < n; i++) {
        switch (gdb_rx_byte(&g->rx, (uint8_t)buf[i])) {
        case GDB_RX_PACKET:
            if (!packet(g, running))
                return false;
            break;
        case GDB_RX_BADSUM:
            send_all(g, "-", 1);
            break;
        case GDB_RX_TOOLONG:
            send_all(g, "+", 1);
            send_packet(g, "E01", 3);
            break;
        case GDB_RX_INTERRUPT:
            pthread_mutex_lock(&g->lock);
            if (*running && !g->stop_req) {
                g->stop_tid = g->sess.g_tid;
                g->stop_sig = GDB_SIGINT;
                g->stop_wkind = NULL;
                g->stop_fresh = true;
                gdb_stop_all(g);
            }
            pthread_mutex_unlock(&g->lock);
            break;
        case GDB_RX_NAK:
            if (!g->sess.noack)
                send_all(g, g->frame, g->frame_len);
            break;
        default:
            break;
        }
    }
    return true;
}

/* One client, from connect to detach, kill or the end of the VM. */
static void serve(struct gdbstub *g)
{
    bool running = true, initial = true;
    gdb_session_init(&g->sess, &g->target);
    gdb_rx_init(&g->rx);
    g->frame_len = 0;
    pthread_mutex_lock(&g->lock);
    atomic_store(&g->attached, true);
    g->stop_tid = 1;
    g->stop_sig = GDB_SIGTRAP;
    g->stop_wkind = NULL;
    g->stop_fresh = true;
    gdb_stop_all(g);    /* gdb expects a stopped target when it connects */
    gdb_wake_stub(g);   /* they may all be parked already (--gdb-wait) */
    pthread_mutex_unlock(&g->lock);
    for (;;) {
        /* At connect nothing is read until the vCPUs are parked: gdb's first
         * packets need a stopped target. Later, while running, only Ctrl-C. */
        struct pollfd p[3] = { { .fd = g->wake[0], .events = POLLIN },
                               { .fd = g->lfd, .events = POLLIN },
                               { .fd = initial ? -1 : g->cfd, .events = POLLIN } };
        if (poll(p, 3, -1) < 0 && errno != EINTR) {
            errorf("%s: gdb: poll: %s", g->vm->name, strerror(errno));
            return;
        }
        if (p[0].revents) {
            char b[64];
            while (read(g->wake[0], b, sizeof(b)) > 0) {}
        }
        if (p[1].revents)
            refuse(g);
        pthread_mutex_lock(&g->lock);
        bool quit = g->quit || atomic_load(&g->vm->stopping);
        bool stopped = running && g->stop_fresh && g->nparked == g->vm->ncpus;
        if (stopped) {
            g->stop_fresh = false;
            if (initial)
                first_stop(g);
            g->sess.g_tid = g->stop_tid;
            gdb_format_stop(g->sess.stop, sizeof(g->sess.stop), g->stop_sig, g->stop_tid,
                            g->stop_wkind, g->stop_waddr);
        }
        pthread_mutex_unlock(&g->lock);
        if (quit) {
            char w[8];
            int n = snprintf(w, sizeof(w), "W%02x", g->vm->exit_status & 0xff);
            send_packet(g, w, (size_t)n);
            close(g->cfd);
            g->cfd = -1;
            atomic_store(&g->attached, false);
            return;
        }
        if (stopped) {
            running = false;
            if (!initial)
                send_packet(g, g->sess.stop, strlen(g->sess.stop));
            initial = false;
        }
        if (p[2].revents && !input(g, &running))
            return;
    }
}

static bool stub_quit(struct gdbstub *g)
{
    pthread_mutex_lock(&g->lock);
    bool quit = g->quit || atomic_load(&g->vm->stopping);
    pthread_mutex_unlock(&g->lock);
    return quit;
}

static void *stub_thread(void *arg)
{
    struct gdbstub *g = arg;
    sandbox_enter(g->vm->sandbox, SANDBOX_GDB);
    for (;;) {
        /* Checked before poll too: serve() may have drained the wake byte that
         * gdbstub_destroy wrote, and poll would then wait forever. */
        if (stub_quit(g))
            return NULL;
        struct pollfd p[2] = { { .fd = g->wake[0], .events = POLLIN },
                               { .fd = g->lfd, .events = POLLIN } };
        if (poll(p, 2, -1) < 0 && errno != EINTR) {
            errorf("%s: gdb: poll: %s", g->vm->name, strerror(errno));
            return NULL;
        }
        if (p[0].revents) {
            char b[64];
            while (read(g->wake[0], b, sizeof(b)) > 0) {}
        }
        if (stub_quit(g))
            return NULL;
        if (!p[1].revents)
            continue;
        g->cfd = accept4(g->lfd, NULL, NULL, SOCK_CLOEXEC);
        if (g->cfd < 0)
            continue;
        int one = 1;    /* fails harmlessly on a Unix socket */
        setsockopt(g->cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        errorf("%s: gdb: debugger connected", g->vm->name);
        serve(g);
    }
}

static int listen_on(struct gdbstub *g, const char *spec)
{
    bool tcp = spec[strspn(spec, "0123456789")] == '\0';
    int fd = socket(tcp ? AF_INET : AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        errorf("--gdb %s: socket: %s", spec, strerror(errno));
        return -1;
    }
    int r;
    if (tcp) {
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        struct sockaddr_in a = { .sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)atoi(spec)),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        r = bind(fd, (struct sockaddr *)&a, sizeof(a));
    } else {
        struct sockaddr_un a = { .sun_family = AF_UNIX };
        struct stat st;
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", spec);
        /* a socket left by an earlier run is replaced; any other file is not */
        if (lstat(spec, &st) == 0 && S_ISSOCK(st.st_mode))
            unlink(spec);
        r = bind(fd, (struct sockaddr *)&a, sizeof(a));
        if (r == 0)
            snprintf(g->path, sizeof(g->path), "%s", spec);
    }
    if (r < 0 || listen(fd, 1) < 0) {
        errorf("--gdb %s: cannot listen: %s", spec, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

struct gdbstub *gdbstub_create(struct vm *vm, const char *spec, bool wait)
{
    if (strlen(spec) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        errorf("--gdb %s: socket path too long", spec);
        return NULL;
    }
    struct gdbstub *g = xcalloc(1, sizeof(*g));
    g->vm = vm;
    g->cfd = -1;
    g->wake[0] = g->wake[1] = -1;
    pthread_mutex_init(&g->lock, NULL);
    pthread_cond_init(&g->cpu_cv, NULL);
    pthread_cond_init(&g->stub_cv, NULL);
    gdb_target_init(g);
    gdb_probe_host(g);
    g->lfd = listen_on(g, spec);
    if (g->lfd < 0 || pipe2(g->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        if (g->lfd >= 0)
            errorf("gdb: pipe: %s", strerror(errno));
        gdbstub_destroy(g);
        return NULL;
    }
    if (wait) {         /* like QEMU -S: park each vCPU before its first instruction */
        g->stop_req = true;
        for (int i = 0; i < vm->ncpus; i++)
            __atomic_store_n(&vm->cpus[i]->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    }
    int e = pthread_create(&g->thread, NULL, stub_thread, g);
    if (e) {
        errorf("gdb: cannot start the stub thread: %s", strerror(e));
        gdbstub_destroy(g);
        return NULL;
    }
    g->thread_started = true;
    errorf("%s: gdb: listening on %s%s%s", vm->name, g->path[0] ? "" : "127.0.0.1:", spec,
           wait ? " (--gdb-wait: the guest starts when gdb continues)" : "");
    return g;
}

void gdbstub_destroy(struct gdbstub *g)
{
    if (!g)
        return;
    if (g->thread_started) {
        pthread_mutex_lock(&g->lock);
        g->quit = true;
        pthread_cond_broadcast(&g->stub_cv);
        gdb_wake_stub(g);
        pthread_mutex_unlock(&g->lock);
        int e = pthread_join(g->thread, NULL);
        if (e)
            errorf("gdb: cannot join the stub thread: %s", strerror(e));
    }
    if (g->cfd >= 0)
        close(g->cfd);
    if (g->lfd >= 0)
        close(g->lfd);
    if (g->path[0])
        unlink(g->path);
    for (int i = 0; i < 2; i++)
        if (g->wake[i] >= 0)
            close(g->wake[i]);
    pthread_cond_destroy(&g->cpu_cv);
    pthread_cond_destroy(&g->stub_cv);
    pthread_mutex_destroy(&g->lock);
    free(g);
}
