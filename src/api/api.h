/* api.h - the control API: Firecracker's HTTP/1.1 API (a documented subset,
 * docs/api.md) on a Unix socket, served by its own thread. */
#ifndef MINI_KVM_API_H
#define MINI_KVM_API_H

#include "api/vmconfig.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct http_request;

enum api_vm_state { API_NOT_STARTED, API_RUNNING, API_PAUSED };

/* What the API asks of the VMM (src/vmm.c). Each returns 0, or -1 with a
 * one-line reason in err (the client's fault_message). */
struct api_hooks {
    void *ctx;
    enum api_vm_state (*state)(void *ctx);
    int (*start)(void *ctx, const struct vmconfig *cfg, char *err, size_t n);
    int (*pause)(void *ctx, bool pause, char *err, size_t n);
    int (*snapshot_create)(void *ctx, const char *snap, const char *mem, char *err, size_t n);
    int (*snapshot_load)(void *ctx, const char *snap, const char *mem, bool resume,
                         char *err, size_t n);
    void (*thread_begins)(void *ctx);   /* optional: first thing on the API thread */
    int (*ctrl_alt_del)(void *ctx, char *err, size_t n);    /* SendCtrlAltDel */
};

#define API_MAX_CONNS 8

struct api {
    const char *path;
    int listen_fd;
    int wake[2];                    /* a byte here ends the thread */
    pthread_t thread;
    bool running;
    struct api_hooks hooks;
    struct vmconfig cfg;            /* built by PUT /boot-source etc. */
    struct {
        int fd;
        struct http_conn *http;
    } conn[API_MAX_CONNS];
};

/* Create the socket at path (mode 0600; an existing socket is replaced, any
 * other file or a symlink is refused). Returns 0 or -1 after errorf. */
int api_open(struct api *a, const struct api_hooks *hooks, const char *path);

/* Serve on a thread of its own; api_close stops it and removes the socket. */
int api_start(struct api *a);
void api_close(struct api *a);

/* One request -> status (200, 204, 400) and a JSON body in out ("" when
 * none). Exposed for the unit tests. */
int api_route(struct api *a, const struct http_request *r, char *out, size_t cap);

#endif
