/* fuzz/api_http.c - libFuzzer target for the control API (--api): bytes from a
 * client, cut where the input says, -> HTTP framing -> routes and JSON bodies. */
#include "api/api.h"
#include "api/http.h"
#include "api/vmconfig.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* A VMM that does nothing but change state, and fails when asked to. */
struct fake_vmm {
    enum api_vm_state state;
    bool fail;
};

static enum api_vm_state f_state(void *ctx) { return ((struct fake_vmm *)ctx)->state; }

static int f_result(struct fake_vmm *f, enum api_vm_state next, char *err, size_t n)
{
    if (f->fail) {
        snprintf(err, n, "fuzz: refused");
        return -1;
    }
    f->state = next;
    return 0;
}

static int f_start(void *ctx, const struct vmconfig *cfg, char *err, size_t n)
{
    if (strnlen(cfg->kernel, sizeof(cfg->kernel)) == sizeof(cfg->kernel))
        __builtin_trap();           /* every string the API stores is terminated */
    return f_result(ctx, API_RUNNING, err, n);
}

static int f_pause(void *ctx, bool pause, char *err, size_t n)
{
    return f_result(ctx, pause ? API_PAUSED : API_RUNNING, err, n);
}

static int f_create(void *ctx, const char *snap, const char *mem, char *err, size_t n)
{
    (void)snap, (void)mem;
    return f_result(ctx, ((struct fake_vmm *)ctx)->state, err, n);
}

static int f_load(void *ctx, const char *snap, const char *mem, bool resume, char *err,
                  size_t n)
{
    (void)snap, (void)mem;
    return f_result(ctx, resume ? API_RUNNING : API_PAUSED, err, n);
}

static int f_cad(void *ctx, char *err, size_t n)
{
    return f_result(ctx, ((struct fake_vmm *)ctx)->state, err, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct api a;
    static struct http_conn c;
    static char out[8192], reply[HTTP_MAX_BODY + 4096];    /* server.c's sizes */
    /* Byte 0: the chunk size the bytes arrive in (1-64), and whether the VMM fails. */
    if (size < 1)
        return 0;
    size_t chunk = (data[0] & 63) + 1;
    struct fake_vmm vmm = { .state = API_NOT_STARTED, .fail = data[0] & 64 };
    memset(&a, 0, sizeof(a));
    a.hooks = (struct api_hooks){ .ctx = &vmm, .state = f_state, .start = f_start,
                                  .pause = f_pause, .snapshot_create = f_create,
                                  .snapshot_load = f_load, .ctrl_alt_del = f_cad };
    vmconfig_init(&a.cfg);
    http_conn_init(&c);
    const char *p = (const char *)data + 1;
    size_t left = size - 1;
    for (bool closed = false; !closed;) {
        size_t n = left < chunk ? left : chunk, used = 0;
        closed = n == 0;                    /* then the peer hangs up */
        enum http_feed r = http_feed(&c, p, n, &used);
        if (used > n)
            __builtin_trap();
        if (r == HTTP_BAD)
            break;
        p += used, left -= used;
        if (r == HTTP_READY) {
            int status = api_route(&a, &c.req, out, sizeof(out));
            if (http_format_response(reply, sizeof(reply), status, out[0] ? out : NULL) < 0)
                __builtin_trap();           /* every answer fits a reply */
            http_next(&c);
        } else if (used < n) {
            __builtin_trap();               /* NEED_MORE must take every byte */
        }
    }
    return 0;
}
