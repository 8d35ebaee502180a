/* api.c - Firecracker's routes: each request's method, path and JSON body
 * checked and turned into a configuration change or a call into the VMM. */
#include "api/api.h"
#include "api/http.h"
#include "core/util.h"

#include <stdarg.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* {"fault_message": "..."} with JSON escaping by jansson. */
static int fault(char *out, size_t cap, const char *msg)
{
    json_t *o = json_pack("{s:s}", "fault_message", msg);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    snprintf(out, cap, "%s", s ? s : "{\"fault_message\": \"out of memory\"}");
    free(s);
    json_decref(o);
    return 400;
}

static int faultf(char *out, size_t cap, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int faultf(char *out, size_t cap, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return fault(out, cap, msg);
}

static const char *state_name(enum api_vm_state s)
{
    return s == API_RUNNING ? "Running" : s == API_PAUSED ? "Paused" : "Not started";
}

static int instance_info(struct api *a, char *out, size_t cap)
{
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "id", "anonymous-instance", "state",
                          state_name(a->hooks.state(a->hooks.ctx)), "vmm_version",
                          MINI_KVM_VERSION, "app_name", "mini-kvm");
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s)
        return faultf(out, cap, "out of memory");
    snprintf(out, cap, "%s", s);
    free(s);
    return 200;
}

/* The body as one JSON object, or NULL with the 400 answer written. */
static json_t *body_object(const struct http_request *r, const char *what, char *out,
                           size_t cap, int *status)
{
    char err[512];
    json_t *o = vmconfig_parse(r->body, r->body_len, what, err, sizeof(err));
    if (!o)
        *status = fault(out, cap, err);
    return o;
}

static const char *str_field(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int action(struct api *a, const struct http_request *r, char *out, size_t cap)
{
    int st = 400;
    char err[1024];
    json_t *o = body_object(r, "actions", out, cap, &st);
    if (!o)
        return st;
    static const char *const known[] = { "action_type", NULL };
    const char *type = str_field(o, "action_type"), *bad = vmconfig_unknown_key(o, known);
    if (bad)
        st = faultf(out, cap, "actions: field '%s' is not supported by mini-kvm", bad);
    else if (!type)
        st = faultf(out, cap, "actions: missing required string field 'action_type'");
    else if (!strcmp(type, "InstanceStart")) {
        if (a->hooks.state(a->hooks.ctx) != API_NOT_STARTED)
            st = faultf(out, cap, "InstanceStart: the microVM is already running");
        else
            st = a->hooks.start(a->hooks.ctx, &a->cfg, err, sizeof(err))
                 ? fault(out, cap, err) : 204;
    } else if (!strcmp(type, "SendCtrlAltDel")) {
        if (a->hooks.state(a->hooks.ctx) == API_NOT_STARTED)
            st = faultf(out, cap, "SendCtrlAltDel: the microVM is not running yet");
        else
            st = a->hooks.ctrl_alt_del(a->hooks.ctx, err, sizeof(err)) ? fault(out, cap, err)
                                                                       : 204;
    } else if (!strcmp(type, "FlushMetrics"))
        st = faultf(out, cap, "actions: 'FlushMetrics' is not supported by mini-kvm (it "
                    "keeps no metrics)");
    else
        st = faultf(out, cap, "actions: unknown action_type '%s' (InstanceStart, "
                    "SendCtrlAltDel)", type);
    json_decref(o);
    return st;
}

static int patch_vm(struct api *a, const struct http_request *r, char *out, size_t cap)
{
    int st = 400;
    char err[1024];
    json_t *o = body_object(r, "vm", out, cap, &st);
    if (!o)
        return st;
    static const char *const known[] = { "state", NULL };
    const char *s = str_field(o, "state"), *bad = vmconfig_unknown_key(o, known);
    enum api_vm_state now = a->hooks.state(a->hooks.ctx);
    if (bad)
        st = faultf(out, cap, "vm: field '%s' is not supported by mini-kvm", bad);
    else if (!s || (strcmp(s, "Paused") && strcmp(s, "Resumed")))
        st = faultf(out, cap, "vm: 'state' must be \"Paused\" or \"Resumed\"");
    else if (now == API_NOT_STARTED)
        st = faultf(out, cap, "vm: the microVM is not started");
    else
        st = a->hooks.pause(a->hooks.ctx, !strcmp(s, "Paused"), err, sizeof(err))
             ? fault(out, cap, err) : 204;
    json_decref(o);
    return st;
}

static int snapshot_create(struct api *a, const struct http_request *r, char *out, size_t cap)
{
    int st = 400;
    char err[1024];
    json_t *o = body_object(r, "snapshot/create", out, cap, &st);
    if (!o)
        return st;
    static const char *const known[] = { "snapshot_path", "mem_file_path", "snapshot_type",
                                         "version", NULL };
    const char *snap = str_field(o, "snapshot_path"), *mem = str_field(o, "mem_file_path");
    const char *type = str_field(o, "snapshot_type"), *bad = vmconfig_unknown_key(o, known);
    if (bad)
        st = faultf(out, cap, "snapshot/create: field '%s' is not supported by mini-kvm", bad);
    else if (!snap || !mem || !*snap || !*mem)
        st = faultf(out, cap, "snapshot/create: needs 'snapshot_path' and 'mem_file_path'");
    else if (type && strcmp(type, "Full"))
        st = faultf(out, cap, "snapshot/create: snapshot_type '%s' is not supported "
                    "(only \"Full\")", type);
    else if (json_object_get(o, "version"))
        st = faultf(out, cap, "snapshot/create: 'version' is not supported by mini-kvm");
    else if (a->hooks.state(a->hooks.ctx) != API_PAUSED)
        st = faultf(out, cap, "snapshot/create: the microVM must be paused first "
                    "(PATCH /vm {\"state\": \"Paused\"})");
    else
        st = a->hooks.snapshot_create(a->hooks.ctx, snap, mem, err, sizeof(err))
             ? fault(out, cap, err) : 204;
    json_decref(o);
    return st;
}

/* mem_backend {"backend_type": "File", "backend_path": ...} or the older
 * mem_file_path: exactly one. */
static const char *load_mem_path(json_t *o, char *out, size_t cap, int *st)
{
    const char *mem = str_field(o, "mem_file_path");
    json_t *be = json_object_get(o, "mem_backend");
    if (!!mem == !!be) {
        *st = faultf(out, cap, "snapshot/load: give exactly one of 'mem_backend' and "
                     "'mem_file_path'");
        return NULL;
    }
    if (mem)
        return mem;
    const char *type = json_is_object(be) ? str_field(be, "backend_type") : NULL;
    const char *path = json_is_object(be) ? str_field(be, "backend_path") : NULL;
    if (!type || !path || strcmp(type, "File")) {
        *st = faultf(out, cap, "snapshot/load: mem_backend needs backend_type \"File\" "
                     "(Uffd is not supported) and backend_path");
        return NULL;
    }
    return path;
}

static int snapshot_load(struct api *a, const struct http_request *r, char *out, size_t cap)
{
    int st = 400;
    char err[1024];
    json_t *o = body_object(r, "snapshot/load", out, cap, &st);
    if (!o)
        return st;
    static const char *const known[] = { "snapshot_path", "mem_file_path", "mem_backend",
                                         "enable_diff_snapshots", "resume_vm", NULL };
    const char *snap = str_field(o, "snapshot_path"), *bad = vmconfig_unknown_key(o, known), *mem;
    json_t *diff = json_object_get(o, "enable_diff_snapshots");
    json_t *resume = json_object_get(o, "resume_vm");
    if (bad)
        st = faultf(out, cap, "snapshot/load: field '%s' is not supported by mini-kvm", bad);
    else if (!snap || !*snap)
        st = faultf(out, cap, "snapshot/load: needs 'snapshot_path'");
    else if (json_is_true(diff))
        st = faultf(out, cap, "snapshot/load: enable_diff_snapshots is not supported");
    else if (resume && !json_is_boolean(resume))
        st = faultf(out, cap, "snapshot/load: 'resume_vm' must be true or false");
    else if (a->hooks.state(a->hooks.ctx) != API_NOT_STARTED)
        st = faultf(out, cap, "snapshot/load: only before the microVM starts");
    else if ((mem = load_mem_path(o, out, cap, &st)))
        st = a->hooks.snapshot_load(a->hooks.ctx, snap, mem, json_is_true(resume), err,
                                    sizeof(err)) ? fault(out, cap, err) : 204;
    json_decref(o);
    return st;
}

/* "/drives/ID" -> ID (a non-empty last segment), else NULL. */
static const char *path_id(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(path, prefix, n) || !path[n] || strchr(path + n, '/'))
        return NULL;
    return path + n;
}

static int configure(struct api *a, const struct http_request *r, char *out, size_t cap)
{
    char err[1024];
    const char *id;
    int e;
    if (a->hooks.state(a->hooks.ctx) != API_NOT_STARTED)
        return faultf(out, cap, "%s: the configuration cannot change after the microVM "
                      "started", r->path);
    if (!strcmp(r->path, "/boot-source"))
        e = vmconfig_boot_source(&a->cfg, r->body, r->body_len, err, sizeof(err));
    else if (!strcmp(r->path, "/machine-config"))
        e = vmconfig_machine(&a->cfg, r->body, r->body_len, err, sizeof(err));
    else if ((id = path_id(r->path, "/drives/")))
        e = vmconfig_drive(&a->cfg, id, r->body, r->body_len, err, sizeof(err));
    else if ((id = path_id(r->path, "/network-interfaces/")))
        e = vmconfig_net(&a->cfg, id, r->body, r->body_len, err, sizeof(err));
    else
        return faultf(out, cap, "%s: not supported by mini-kvm", r->path);
    return e ? fault(out, cap, err) : 204;
}

int api_route(struct api *a, const struct http_request *r, char *out, size_t cap)
{
    const char *m = r->method, *p = r->path;
    out[0] = '\0';
    bool put = !strcmp(m, "PUT"), get = !strcmp(m, "GET");
    if (get && !strcmp(p, "/"))
        return instance_info(a, out, cap);
    if (get && !strcmp(p, "/machine-config")) {
        char *s = vmconfig_machine_json(&a->cfg);
        snprintf(out, cap, "%s", s ? s : "{}");
        free(s);
        return 200;
    }
    if (put && (!strcmp(p, "/boot-source") || !strcmp(p, "/machine-config") ||
                path_id(p, "/drives/") || path_id(p, "/network-interfaces/")))
        return configure(a, r, out, cap);
    if (put && !strcmp(p, "/actions"))
        return action(a, r, out, cap);
    if (!strcmp(m, "PATCH") && !strcmp(p, "/vm"))
        return patch_vm(a, r, out, cap);
    if (put && !strcmp(p, "/snapshot/create"))
        return snapshot_create(a, r, out, cap);
    if (put && !strcmp(p, "/snapshot/load"))
        return snapshot_load(a, r, out, cap);
    return faultf(out, cap, "Invalid request method and/or path: %s %s (not in mini-kvm's "
                  "subset of the Firecracker API, see docs/api.md)", m, p);
}
