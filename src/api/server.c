/* server.c - the API socket: created 0600 without following symlinks, and a
 * poll loop over a few keep-alive connections on the API's own thread. */
#include "api/api.h"
#include "api/http.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* A client that stalls mid-request would block the loop's other clients
 * only for this long: it is dropped then. */
#define API_IDLE_MS 10000

/* An existing socket is a stale one from an earlier run: replaced. Anything
 * else (a file, a symlink, even to a socket) is the user's and is refused. */
static int check_path(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return 0;
        errorf("--api %s: %s", path, strerror(errno));
        return -1;
    }
    if (S_ISLNK(st.st_mode) || !S_ISSOCK(st.st_mode)) {
        errorf("--api %s: exists and is %s, not a socket: refusing to replace it", path,
               S_ISLNK(st.st_mode) ? "a symbolic link" : "another kind of file");
        return -1;
    }
    if (unlink(path) < 0) {
        errorf("--api %s: cannot remove the old socket: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int api_open(struct api *a, const struct api_hooks *hooks, const char *path)
{
    memset(a, 0, sizeof(*a));
    a->path = path;
    a->hooks = *hooks;
    a->listen_fd = a->wake[0] = a->wake[1] = -1;
    vmconfig_init(&a->cfg);
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path)) {
        errorf("--api %s: socket path longer than %zu bytes", path, sizeof(sa.sun_path) - 1);
        return -1;
    }
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
    if (check_path(path))
        return -1;
    a->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (a->listen_fd < 0) {
        errorf("--api %s: socket: %s", path, strerror(errno));
        return -1;
    }
    /* bind(2) creates the file with the umask applied: 0600 from the start,
     * not chmod afterwards (a window where others could connect). Called
     * before any other thread exists, so the process-wide umask is safe. */
    mode_t old = umask(0177);
    int r = bind(a->listen_fd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (r < 0 || listen(a->listen_fd, 16) < 0) {
        errorf("--api %s: %s: %s", path, r < 0 ? "bind" : "listen", strerror(errno));
        close(a->listen_fd);
        a->listen_fd = -1;
        return -1;
    }
    if (pipe2(a->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
        errorf("--api: pipe: %s", strerror(errno));
        return -1;
    }
    for (int i = 0; i < API_MAX_CONNS; i++)
        a->conn[i].fd = -1;
    /* jansson seeds its hash tables from /dev/urandom the first time a JSON
     * object is made: do it here, so the sealed API thread never opens it. */
    json_object_seed(0);
    return 0;
}

static void drop(struct api *a, int i)
{
    close(a->conn[i].fd);
    free(a->conn[i].http);
    a->conn[i].fd = -1;
    a->conn[i].http = NULL;
}

static void accept_one(struct api *a)
{
    int fd = accept4(a->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;     /* EAGAIN, or the client gave up: nothing to do */
    int i = 0;
    while (i < API_MAX_CONNS && a->conn[i].fd >= 0)
        i++;
    if (i == API_MAX_CONNS) {   /* full: the oldest idle client makes room */
        i = 0;
        drop(a, 0);
    }
    a->conn[i].fd = fd;
    a->conn[i].http = malloc(sizeof(struct http_conn));
    if (!a->conn[i].http) {
        close(fd);
        a->conn[i].fd = -1;
        return;
    }
    http_conn_init(a->conn[i].http);
}

/* Write all of buf; the client is on a non-blocking socket, so wait for it
 * a bounded time. Returns 0 or -1. */
static int send_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EAGAIN) {
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            if (poll(&p, 1, API_IDLE_MS) <= 0)
                return -1;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

static int reply(int fd, int status, const char *body)
{
    char *out = malloc(HTTP_MAX_BODY + 4096);
    if (!out)
        return -1;
    int n = http_format_response(out, HTTP_MAX_BODY + 4096, status, body[0] ? body : NULL);
    int r = n < 0 ? -1 : send_all(fd, out, (size_t)n);
    free(out);
    return r;
}

/* Feed what arrived; answer every complete request. Returns -1 to close. */
static int serve_bytes(struct api *a, int i, const char *data, size_t len)
{
    struct http_conn *c = a->conn[i].http;
    char body[8192];
    for (;;) {
        size_t used;
        enum http_feed f = http_feed(c, data, len, &used);
        if (f == HTTP_NEED_MORE)
            return len == 0 ? -1 : 0;
        if (f == HTTP_BAD) {
            char msg[300];
            snprintf(msg, sizeof(msg), "{\"fault_message\": \"%s\"}", c->err);
            reply(a->conn[i].fd, 400, msg);     /* err has no quotes or backslashes */
            return -1;
        }
        int st = api_route(a, &c->req, body, sizeof(body));
        bool keep = c->req.keep_alive;
        if (reply(a->conn[i].fd, st, body) || !keep)
            return -1;
        http_next(c);
        data += used;
        len -= used;
        if (len == 0)
            return 0;
    }
}

static void serve_conn(struct api *a, int i)
{
    char buf[4096];
    ssize_t n = recv(a->conn[i].fd, buf, sizeof(buf), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (serve_bytes(a, i, buf, n < 0 ? 0 : (size_t)n))
        drop(a, i);
}

static void *api_thread(void *arg)
{
    struct api *a = arg;
    if (a->hooks.thread_begins)
        a->hooks.thread_begins(a->hooks.ctx);
    for (;;) {
        struct pollfd p[API_MAX_CONNS + 2] = {
            { .fd = a->wake[0], .events = POLLIN },
            { .fd = a->listen_fd, .events = POLLIN },
        };
        for (int i = 0; i < API_MAX_CONNS; i++)
            p[i + 2] = (struct pollfd){ .fd = a->conn[i].fd, .events = POLLIN };
        int r = poll(p, API_MAX_CONNS + 2, API_IDLE_MS);
        if (r < 0 && errno != EINTR) {
            errorf("--api %s: poll: %s", a->path, strerror(errno));
            break;
        }
        if (p[0].revents)
            break;
        for (int i = 0; i < API_MAX_CONNS; i++) {
            if (a->conn[i].fd < 0)
                continue;
            if (p[i + 2].revents)
                serve_conn(a, i);
            else if (r == 0 && a->conn[i].http->started)
                drop(a, i);     /* stalled mid-request for API_IDLE_MS */
        }
        if (p[1].revents & POLLIN)
            accept_one(a);
    }
    return NULL;
}

int api_start(struct api *a)
{
    int e = pthread_create(&a->thread, NULL, api_thread, a);
    if (e) {
        errorf("--api: cannot start the API thread: %s", strerror(e));
        return -1;
    }
    a->running = true;
    return 0;
}

void api_close(struct api *a)
{
    if (a->running) {
        ssize_t w = write(a->wake[1], "q", 1);
        (void)w;
        pthread_join(a->thread, NULL);
        a->running = false;
    }
    for (int i = 0; i < API_MAX_CONNS; i++)
        if (a->conn[i].fd >= 0)
            drop(a, i);
    if (a->listen_fd >= 0) {
        close(a->listen_fd);
        unlink(a->path);
    }
    for (int i = 0; i < 2; i++)
        if (a->wake[i] >= 0)
            close(a->wake[i]);
    a->listen_fd = a->wake[0] = a->wake[1] = -1;
}
