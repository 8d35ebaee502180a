/* vmconfig.c - Firecracker's JSON bodies (boot-source, machine-config,
 * drives) parsed strictly with jansson: unknown fields and wrong types are
 * refused by name, so a client learns what mini-kvm does not support. */
#include "vmconfig.h"
#include "core/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vmconfig_init(struct vmconfig *c)
{
    memset(c, 0, sizeof(*c));
    c->vcpus = 1;
    c->mem_mib = 128;
}

json_t *vmconfig_parse(const char *json, size_t len, const char *what, char *err, size_t n)
{
    json_error_t je;
    json_t *v = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!v) {
        snprintf(err, n, "%s: invalid JSON: %s (line %d, column %d)", what, je.text,
                 je.line, je.column);
        return NULL;
    }
    if (!json_is_object(v)) {
        snprintf(err, n, "%s: expected a JSON object", what);
        json_decref(v);
        return NULL;
    }
    return v;
}

const char *vmconfig_unknown_key(json_t *obj, const char *const *known)
{
    const char *key;
    json_t *val;
    json_object_foreach(obj, key, val) {
        int i = 0;
        while (known[i] && strcmp(known[i], key))
            i++;
        if (!known[i])
            return key;
    }
    return NULL;
}

static int only_known(json_t *obj, const char *const *known, const char *what,
                      char *err, size_t n)
{
    const char *key = vmconfig_unknown_key(obj, known);
    if (key)
        snprintf(err, n, "%s: field '%s' is not supported by mini-kvm", what, key);
    return key ? -1 : 0;
}

/* The field key of obj in *v: 1 when present, 0 when missing and optional,
 * -1 (with a message) when missing and required. */
static int field(json_t *obj, const char *key, bool required, json_t **v, const char *what,
                 char *err, size_t n)
{
    *v = json_object_get(obj, key);
    if (*v)
        return 1;
    if (required)
        snprintf(err, n, "%s: missing required field '%s'", what, key);
    return required ? -1 : 0;
}

/* A string field into out (bounded); missing is fine unless required. */
static int get_string(json_t *obj, const char *key, bool required, char *out, size_t cap,
                      const char *what, char *err, size_t n)
{
    json_t *v;
    int f = field(obj, key, required, &v, what, err, n);
    if (f <= 0)
        return f;
    if (!json_is_string(v)) {
        snprintf(err, n, "%s: field '%s' must be a string", what, key);
        return -1;
    }
    size_t len = json_string_length(v);
    if (len == 0 || len >= cap || memchr(json_string_value(v), 0, len)) {
        snprintf(err, n, "%s: field '%s' must be a non-empty string of at most %zu bytes",
                 what, key, cap - 1);
        return -1;
    }
    memcpy(out, json_string_value(v), len + 1);
    return 0;
}

static int get_bool(json_t *obj, const char *key, bool required, bool *out,
                    const char *what, char *err, size_t n)
{
    json_t *v;
    int f = field(obj, key, required, &v, what, err, n);
    if (f <= 0)
        return f;
    if (!json_is_boolean(v)) {
        snprintf(err, n, "%s: field '%s' must be true or false", what, key);
        return -1;
    }
    *out = json_is_true(v);
    return 0;
}

static int get_uint(json_t *obj, const char *key, unsigned min, unsigned max, unsigned *out,
                    const char *what, char *err, size_t n)
{
    json_t *v;
    if (field(obj, key, true, &v, what, err, n) < 0)
        return -1;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
        snprintf(err, n, "%s: field '%s' must be an integer from %u to %u", what, key, min, max);
        return -1;
    }
    *out = (unsigned)json_integer_value(v);
    return 0;
}

static int boot_source(struct vmconfig *c, json_t *o, const char *what, char *err, size_t n)
{
    static const char *const known[] = { "kernel_image_path", "initrd_path", "boot_args", NULL };
    struct vmconfig t = *c;
    t.initrd[0] = t.boot_args[0] = '\0';
    t.have_args = json_object_get(o, "boot_args") != NULL;
    if (only_known(o, known, what, err, n) ||
        get_string(o, "kernel_image_path", true, t.kernel, sizeof(t.kernel), what, err, n) ||
        get_string(o, "initrd_path", false, t.initrd, sizeof(t.initrd), what, err, n) ||
        get_string(o, "boot_args", false, t.boot_args, sizeof(t.boot_args), what, err, n))
        return -1;
    t.have_boot = true;
    *c = t;
    return 0;
}

/* Firecracker's defaults for the fields we accept but do not implement. */
static int machine(struct vmconfig *c, json_t *o, const char *what, char *err, size_t n)
{
    static const char *const known[] = { "vcpu_count", "mem_size_mib", "smt",
                                         "track_dirty_pages", NULL };
    unsigned vcpus, mib;
    bool smt = false, dirty = false;
    if (only_known(o, known, what, err, n) ||
        get_uint(o, "vcpu_count", 1, CLI_MAX_CPUS, &vcpus, what, err, n) ||
        get_uint(o, "mem_size_mib", 1, 64 << 10, &mib, what, err, n) ||
        get_bool(o, "smt", false, &smt, what, err, n) ||
        get_bool(o, "track_dirty_pages", false, &dirty, what, err, n))
        return -1;
    if (smt || dirty) {
        snprintf(err, n, "%s: '%s': true is not supported by mini-kvm", what,
                 smt ? "smt" : "track_dirty_pages");
        return -1;
    }
    c->vcpus = vcpus;
    c->mem_mib = mib;
    return 0;
}

static int drive(struct vmconfig *c, const char *id, json_t *o, const char *what,
                 char *err, size_t n)
{
    static const char *const known[] = { "drive_id", "path_on_host", "is_root_device",
                                         "is_read_only", NULL };
    struct vmconfig_drive d = { .ro = false };
    if (only_known(o, known, what, err, n) ||
        get_string(o, "drive_id", true, d.id, sizeof(d.id), what, err, n) ||
        get_string(o, "path_on_host", true, d.path, sizeof(d.path), what, err, n) ||
        get_bool(o, "is_root_device", true, &d.root, what, err, n) ||
        get_bool(o, "is_read_only", false, &d.ro, what, err, n))
        return -1;
    if (d.ro) {     /* virtio-blk here has no read-only mode yet (IDE has) */
        snprintf(err, n, "%s: is_read_only true is not supported by mini-kvm yet", what);
        return -1;
    }
    if (id && strcmp(id, d.id)) {
        snprintf(err, n, "%s: drive_id '%s' does not match the path's id '%s'", what, d.id, id);
        return -1;
    }
    int slot = 0;
    while (slot < c->ndrives && strcmp(c->drives[slot].id, d.id))
        slot++;
    if (slot == CLI_MAX_DISKS) {
        snprintf(err, n, "%s: at most %d drives", what, CLI_MAX_DISKS);
        return -1;
    }
    for (int i = 0; d.root && i < c->ndrives; i++) {
        if (i != slot && c->drives[i].root) {
            snprintf(err, n, "%s: drive '%s' is already the root device", what, c->drives[i].id);
            return -1;
        }
    }
    c->drives[slot] = d;
    if (slot == c->ndrives)
        c->ndrives++;
    return 0;
}

/* Firecracker's network interface: a TAP by name (host_dev_name) and an
 * optional MAC; it becomes a --net tap=NAME[,mac=...],vhost=off virtio-net
 * device: the userspace datapath, like Firecracker's own, which a snapshot
 * can hold (with vhost-net the host kernel holds the rings' positions). */
static int net(struct vmconfig *c, const char *id, json_t *o, const char *what,
               char *err, size_t n)
{
    static const char *const known[] = { "iface_id", "host_dev_name", "guest_mac", NULL };
    struct vmconfig_net d = { .net.has_mac = false };
    char mac[32] = "";
    if (only_known(o, known, what, err, n) ||
        get_string(o, "iface_id", true, d.id, sizeof(d.id), what, err, n) ||
        get_string(o, "host_dev_name", true, d.net.tap, sizeof(d.net.tap), what, err, n) ||
        get_string(o, "guest_mac", false, mac, sizeof(mac), what, err, n))
        return -1;
    if (mac[0] && cli_parse_mac(mac, d.net.mac)) {
        snprintf(err, n, "%s: guest_mac '%s' is not a unicast MAC address", what, mac);
        return -1;
    }
    d.net.has_mac = mac[0] != 0;
    d.net.no_vhost = true;
    if (id && strcmp(id, d.id)) {
        snprintf(err, n, "%s: iface_id '%s' does not match the path's id '%s'", what, d.id, id);
        return -1;
    }
    int slot = 0;
    while (slot < c->nnets && strcmp(c->nets[slot].id, d.id))
        slot++;
    if (slot == c->nnets && c->ndrives + c->nnets >= VIRTIO_MMIO_MAX) {
        snprintf(err, n, "%s: at most %d virtio devices (drives and interfaces)", what,
                 VIRTIO_MMIO_MAX);
        return -1;
    }
    c->nets[slot] = d;
    if (slot == c->nnets)
        c->nnets++;
    return 0;
}

typedef int (*apply_fn)(struct vmconfig *, json_t *, const char *, char *, size_t);

static int apply(struct vmconfig *c, const char *json, size_t len, apply_fn fn,
                 const char *what, char *err, size_t n)
{
    json_t *o = vmconfig_parse(json, len, what, err, n);
    if (!o)
        return -1;
    int r = fn(c, o, what, err, n);
    json_decref(o);
    return r;
}

int vmconfig_boot_source(struct vmconfig *c, const char *json, size_t len, char *err, size_t n)
{
    return apply(c, json, len, boot_source, "boot-source", err, n);
}

int vmconfig_machine(struct vmconfig *c, const char *json, size_t len, char *err, size_t n)
{
    return apply(c, json, len, machine, "machine-config", err, n);
}

int vmconfig_drive(struct vmconfig *c, const char *id, const char *json, size_t len,
                   char *err, size_t n)
{
    json_t *o = vmconfig_parse(json, len, "drives", err, n);
    if (!o)
        return -1;
    struct vmconfig t = *c;     /* a refused drive leaves the rest as it was */
    int r = drive(&t, id, o, "drives", err, n);
    if (r == 0)
        *c = t;
    json_decref(o);
    return r;
}

int vmconfig_net(struct vmconfig *c, const char *id, const char *json, size_t len,
                 char *err, size_t n)
{
    json_t *o = vmconfig_parse(json, len, "network-interfaces", err, n);
    if (!o)
        return -1;
    struct vmconfig t = *c;
    int r = net(&t, id, o, "network-interfaces", err, n);
    if (r == 0)
        *c = t;
    json_decref(o);
    return r;
}

char *vmconfig_machine_json(const struct vmconfig *c)
{
    json_t *o = json_pack("{s:I, s:I, s:b, s:b}", "vcpu_count", (json_int_t)c->vcpus,
                          "mem_size_mib", (json_int_t)c->mem_mib, "smt", 0,
                          "track_dirty_pages", 0);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

/* The file: {"boot-source": {...}, "machine-config": {...}, "drives": [...]}.
 * Firecracker's other sections are refused by name. */
static int config_file(struct vmconfig *c, json_t *o, const char *what, char *err, size_t n)
{
    static const char *const known[] = { "boot-source", "machine-config", "drives",
                                         "network-interfaces", NULL };
    if (only_known(o, known, what, err, n))
        return -1;
    json_t *nets = json_object_get(o, "network-interfaces");
    if (nets && !json_is_array(nets)) {
        snprintf(err, n, "%s: 'network-interfaces' must be an array", what);
        return -1;
    }
    json_t *bs = json_object_get(o, "boot-source"), *mc = json_object_get(o, "machine-config");
    json_t *dr = json_object_get(o, "drives");
    if (!bs || !json_is_object(bs)) {
        snprintf(err, n, "%s: needs a 'boot-source' object", what);
        return -1;
    }
    if (boot_source(c, bs, "boot-source", err, n))
        return -1;
    if (mc && (!json_is_object(mc) || machine(c, mc, "machine-config", err, n))) {
        if (!json_is_object(mc))
            snprintf(err, n, "%s: 'machine-config' must be an object", what);
        return -1;
    }
    if (dr && !json_is_array(dr)) {
        snprintf(err, n, "%s: 'drives' must be an array", what);
        return -1;
    }
    size_t i;
    json_t *d;
    json_array_foreach(dr, i, d) {
        if (!json_is_object(d) || drive(c, NULL, d, "drives", err, n)) {
            if (!json_is_object(d))
                snprintf(err, n, "%s: drives[%zu] must be an object", what, i);
            return -1;
        }
    }
    json_array_foreach(nets, i, d) {
        if (!json_is_object(d) || net(c, NULL, d, "network-interfaces", err, n)) {
            if (!json_is_object(d))
                snprintf(err, n, "%s: network-interfaces[%zu] must be an object", what, i);
            return -1;
        }
    }
    return 0;
}

int vmconfig_load_file(struct vmconfig *c, const char *path, char *err, size_t n)
{
    size_t len;
    uint8_t *buf = read_file(path, "config file", 1 << 20, &len);
    if (!buf) {
        if (n)
            err[0] = '\0';     /* read_file said why */
        return -1;
    }
    char what[CLI_PATH_MAX + 16];
    snprintf(what, sizeof(what), "%s", path);
    int r = apply(c, (const char *)buf, len, config_file, what, err, n);
    free(buf);
    return r;
}

int vmconfig_to_options(const struct vmconfig *c, struct options *o, char *err, size_t n)
{
    memset(o, 0, sizeof(*o));
    if (!c->have_boot) {
        snprintf(err, n, "cannot start: no boot source (PUT /boot-source first)");
        return -1;
    }
    o->kernel = c->kernel;
    if (c->initrd[0]) {
        o->modules[o->nmodules++] = c->initrd;
        o->initrd = c->initrd;
    }
    if (c->have_args)
        o->cmdline = c->boot_args;
    o->cpus = c->vcpus;
    o->mem = (uint64_t)c->mem_mib << 20;
    for (int i = 0; i < c->nnets; i++)
        o->nets[o->nnets++] = c->nets[i].net;
    for (int pass = 0; pass < 2; pass++) {     /* the root device first: /dev/vda */
        for (int i = 0; i < c->ndrives; i++) {
            if (c->drives[i].root == (pass == 0)) {
                o->disks[o->ndisks++] = c->drives[i].path;
            }
        }
    }
    return 0;
}
