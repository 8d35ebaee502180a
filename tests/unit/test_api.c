/* test_api.c - unit tests for the control API: HTTP framing and limits,
 * Firecracker's JSON bodies, routes and status codes, with fake VMM hooks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "api/api.h"
#include "api/http.h"
#include "api/vmconfig.h"

static struct http_conn *new_conn(void)
{
    struct http_conn *c = malloc(sizeof(*c));
    assert_non_null(c);
    http_conn_init(c);
    return c;
}

static enum http_feed feed(struct http_conn *c, const char *s, size_t *used)
{
    return http_feed(c, s, strlen(s), used);
}

static void test_http_request_whole_and_bytewise(void **state)
{
    (void)state;
    const char *req = "PUT /drives/rootfs?x=1 HTTP/1.1\r\nHost: localhost\r\n"
                      "Content-Length: 7\r\n\r\n{\"a\":1}";
    struct http_conn *c = new_conn();
    size_t used;
    assert_int_equal(feed(c, req, &used), HTTP_READY);
    assert_int_equal(used, strlen(req));
    assert_string_equal(c->req.method, "PUT");
    assert_string_equal(c->req.path, "/drives/rootfs");
    assert_string_equal(c->req.body, "{\"a\":1}");
    assert_true(c->req.keep_alive);
    http_conn_init(c);                  /* the same request one byte at a time */
    for (size_t i = 0; i + 1 < strlen(req); i++)
        assert_int_equal(http_feed(c, req + i, 1, &used), HTTP_NEED_MORE);
    assert_int_equal(http_feed(c, req + strlen(req) - 1, 1, &used), HTTP_READY);
    assert_int_equal(c->req.body_len, 7);
    free(c);
}

static void test_http_two_requests_on_one_connection(void **state)
{
    (void)state;
    const char *two = "GET / HTTP/1.1\r\n\r\nGET /machine-config HTTP/1.1\r\n"
                      "Connection: close\r\n\r\n";
    struct http_conn *c = new_conn();
    size_t used;
    assert_int_equal(feed(c, two, &used), HTTP_READY);
    assert_string_equal(c->req.path, "/");
    http_next(c);
    assert_int_equal(feed(c, two + used, &used), HTTP_READY);
    assert_string_equal(c->req.path, "/machine-config");
    assert_false(c->req.keep_alive);
    http_next(c);                       /* the peer closes between requests: fine */
    assert_int_equal(http_feed(c, "", 0, &used), HTTP_NEED_MORE);
    free(c);
}

static void expect_bad(const char *req, const char *why)
{
    struct http_conn *c = new_conn();
    size_t used;
    assert_int_equal(feed(c, req, &used), HTTP_BAD);
    if (!strstr(c->err, why))
        fail_msg("'%s' does not say '%s'", c->err, why);
    free(c);
}

static void test_http_limits_and_garbage(void **state)
{
    (void)state;
    expect_bad("PUT /x HTTP/1.1\r\nContent-Length: 51201\r\n\r\n", "body larger than 51200");
    char *big = malloc(20000);
    assert_non_null(big);
    int n = sprintf(big, "GET /");
    memset(big + n, 'a', 2000);
    strcpy(big + n + 2000, " HTTP/1.1\r\n\r\n");
    expect_bad(big, "URL longer than 1024");
    n = sprintf(big, "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 40; i++)
        n += sprintf(big + n, "X-H%d: v\r\n", i);
    strcpy(big + n, "\r\n");
    expect_bad(big, "more than 32 request headers");
    n = sprintf(big, "GET / HTTP/1.1\r\nX: ");
    memset(big + n, 'v', 9000);
    strcpy(big + n + 9000, "\r\n\r\n");
    expect_bad(big, "headers larger than 8192");
    free(big);
    expect_bad("\x01\x02garbage\r\n\r\n", "malformed HTTP request");
    expect_bad("GET / HTTP/1.1\r\nContent-Length: -5\r\n\r\n", "malformed HTTP request");
    /* closed mid-request */
    struct http_conn *c = new_conn();
    size_t used;
    assert_int_equal(feed(c, "PUT /x HTTP/1.1\r\nContent-Length: 10\r\n\r\nab", &used),
                     HTTP_NEED_MORE);
    assert_int_equal(http_feed(c, "", 0, &used), HTTP_BAD);
    assert_int_equal(used, 0);      /* http-parser says 1 for an EOF mid-request (fuzz/api_http.c) */
    assert_non_null(strstr(c->err, "malformed"));
    free(c);
}

static void test_http_response_format(void **state)
{
    (void)state;
    char out[256];
    int n = http_format_response(out, sizeof(out), 204, NULL);
    assert_true(n > 0);
    assert_non_null(strstr(out, "HTTP/1.1 204 No Content\r\n"));
    assert_non_null(strstr(out, "Content-Length: 0\r\n\r\n"));
    n = http_format_response(out, sizeof(out), 400, "{\"fault_message\":\"x\"}");
    assert_non_null(strstr(out, "Content-Type: application/json\r\nContent-Length: 21\r\n"));
    assert_int_equal(http_format_response(out, 10, 200, "{}"), -1);
}

#define CFG_OK(call) do { char e_[512] = ""; if ((call)) fail_msg("%s", e_); } while (0)

static void expect_cfg_error(int r, const char *err, const char *why)
{
    assert_int_equal(r, -1);
    if (!strstr(err, why))
        fail_msg("'%s' does not say '%s'", err, why);
}

static void test_vmconfig_bodies(void **state)
{
    (void)state;
    struct vmconfig *c = malloc(sizeof(*c));
    char err[512];
    vmconfig_init(c);
    const char *bs = "{\"kernel_image_path\": \"os.elf\", \"boot_args\": \"console=ttyS0\"}";
    assert_int_equal(vmconfig_boot_source(c, bs, strlen(bs), err, sizeof(err)), 0);
    assert_string_equal(c->kernel, "os.elf");
    assert_string_equal(c->boot_args, "console=ttyS0");
    const char *mc = "{\"vcpu_count\": 2, \"mem_size_mib\": 256, \"smt\": false}";
    assert_int_equal(vmconfig_machine(c, mc, strlen(mc), err, sizeof(err)), 0);
    assert_int_equal(c->vcpus, 2);
    assert_int_equal(c->mem_mib, 256);
    const char *d1 = "{\"drive_id\": \"data\", \"path_on_host\": \"d.img\", \"is_root_device\": false}";
    const char *d2 = "{\"drive_id\": \"root\", \"path_on_host\": \"r.img\", \"is_root_device\": true,"
                     " \"is_read_only\": false}";
    assert_int_equal(vmconfig_drive(c, "data", d1, strlen(d1), err, sizeof(err)), 0);
    assert_int_equal(vmconfig_drive(c, "root", d2, strlen(d2), err, sizeof(err)), 0);
    struct options o;
    assert_int_equal(vmconfig_to_options(c, &o, err, sizeof(err)), 0);
    assert_string_equal(o.kernel, "os.elf");
    assert_int_equal(o.mem, 256ULL << 20);
    assert_int_equal(o.cpus, 2);
    assert_int_equal(o.ndisks, 2);
    assert_string_equal(o.disks[0], "r.img");     /* the root device first */
    assert_string_equal(o.disks[1], "d.img");
    char *json = vmconfig_machine_json(c);
    assert_non_null(strstr(json, "\"vcpu_count\":2"));
    assert_non_null(strstr(json, "\"mem_size_mib\":256"));
    free(json);

    /* every refusal names what is wrong, and changes nothing */
#define BAD(fn, body, why) expect_cfg_error(fn(c, body, strlen(body), err, sizeof(err)), err, why)
    BAD(vmconfig_machine, "{\"vcpu_count\": 0, \"mem_size_mib\": 1}", "'vcpu_count' must be an integer from 1 to 64");
    BAD(vmconfig_machine, "{\"vcpu_count\": \"2\", \"mem_size_mib\": 1}", "'vcpu_count' must be an integer");
    BAD(vmconfig_machine, "{\"mem_size_mib\": 1}", "missing required field 'vcpu_count'");
    BAD(vmconfig_machine, "{\"vcpu_count\": 1, \"mem_size_mib\": 1, \"cpu_template\": \"T2\"}", "'cpu_template' is not supported");
    BAD(vmconfig_machine, "{\"vcpu_count\": 1, \"mem_size_mib\": 1, \"smt\": true}", "'smt': true is not supported");
    BAD(vmconfig_machine, "[1, 2]", "expected a JSON object");
    BAD(vmconfig_machine, "{\"vcpu_count\": 1,", "invalid JSON");
    BAD(vmconfig_machine, "{\"vcpu_count\": 1, \"vcpu_count\": 2, \"mem_size_mib\": 1}", "invalid JSON");
    BAD(vmconfig_boot_source, "{\"initrd_path\": \"i\"}", "missing required field 'kernel_image_path'");
    BAD(vmconfig_boot_source, "{\"kernel_image_path\": \"\"}", "non-empty string");
    BAD(vmconfig_boot_source, "{\"kernel_image_path\": \"a\\u0000b\"}", "invalid JSON");
    assert_int_equal(c->vcpus, 2);
    assert_string_equal(c->kernel, "os.elf");
    const char *ro = "{\"drive_id\": \"x\", \"path_on_host\": \"x\", \"is_root_device\": false, \"is_read_only\": true}";
    expect_cfg_error(vmconfig_drive(c, "x", ro, strlen(ro), err, sizeof(err)), err, "is_read_only");
    expect_cfg_error(vmconfig_drive(c, "other", d1, strlen(d1), err, sizeof(err)), err, "does not match");
    const char *root2 = "{\"drive_id\": \"r2\", \"path_on_host\": \"x\", \"is_root_device\": true}";
    expect_cfg_error(vmconfig_drive(c, "r2", root2, strlen(root2), err, sizeof(err)), err, "already the root device");
    assert_int_equal(c->ndrives, 2);
    vmconfig_init(c);
    expect_cfg_error(vmconfig_to_options(c, &o, err, sizeof(err)), err, "no boot source");
    free(c);
}

static void test_vmconfig_file(void **state)
{
    (void)state;
    char path[] = "/tmp/test_api_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *file = "{\"boot-source\": {\"kernel_image_path\": \"os.elf\"},"
                       " \"drives\": [{\"drive_id\": \"root\", \"path_on_host\": \"d.img\","
                       " \"is_root_device\": true}],"
                       " \"machine-config\": {\"vcpu_count\": 1, \"mem_size_mib\": 64},"
                       " \"network-interfaces\": []}";
    assert_int_equal(write(fd, file, strlen(file)), (ssize_t)strlen(file));
    close(fd);
    struct vmconfig *c = malloc(sizeof(*c));
    char err[512];
    vmconfig_init(c);
    assert_int_equal(vmconfig_load_file(c, path, err, sizeof(err)), 0);
    assert_int_equal(c->mem_mib, 64);
    assert_int_equal(c->ndrives, 1);
    fd = open(path, O_WRONLY | O_TRUNC);
    const char *bad = "{\"boot-source\": {\"kernel_image_path\": \"os.elf\"}, \"logger\": {}}";
    assert_int_equal(write(fd, bad, strlen(bad)), (ssize_t)strlen(bad));
    close(fd);
    vmconfig_init(c);
    expect_cfg_error(vmconfig_load_file(c, path, err, sizeof(err)), err, "field 'logger' is not supported");
    unlink(path);
    free(c);
}

/* Fake VMM: records calls, fails on request. */
struct fake { enum api_vm_state state; int starts, pauses, creates, loads, cads; bool fail; };

static enum api_vm_state f_state(void *ctx) { return ((struct fake *)ctx)->state; }
static int f_start(void *ctx, const struct vmconfig *cfg, char *err, size_t n)
{
    struct fake *f = ctx;
    (void)cfg;
    f->starts++;
    if (f->fail) {
        snprintf(err, n, "os.elf: cannot open kernel: No such file");
        return -1;
    }
    f->state = API_RUNNING;
    return 0;
}
static int f_pause(void *ctx, bool p, char *err, size_t n)
{
    (void)err; (void)n;
    struct fake *f = ctx;
    f->pauses++;
    f->state = p ? API_PAUSED : API_RUNNING;
    return 0;
}
static int f_create(void *ctx, const char *s, const char *m, char *err, size_t n)
{
    (void)s; (void)m; (void)err; (void)n;
    ((struct fake *)ctx)->creates++;
    return 0;
}
static int f_load(void *ctx, const char *s, const char *m, bool resume, char *err, size_t n)
{
    (void)s; (void)m; (void)err; (void)n;
    struct fake *f = ctx;
    f->loads++;
    f->state = resume ? API_RUNNING : API_PAUSED;
    return 0;
}

static int f_cad(void *ctx, char *err, size_t n)
{
    struct fake *f = ctx;
    f->cads++;
    if (f->fail) {
        snprintf(err, n, "SendCtrlAltDel: the guest's keyboard buffer is full");
        return -1;
    }
    return 0;
}

static int call(struct api *a, const char *method, const char *path, const char *body,
                char *out)
{
    struct http_request *r = calloc(1, sizeof(*r));
    snprintf(r->method, sizeof(r->method), "%s", method);
    snprintf(r->path, sizeof(r->path), "%s", path);
    snprintf(r->body, sizeof(r->body), "%s", body);
    r->body_len = strlen(body);
    int st = api_route(a, r, out, 4096);
    free(r);
    return st;
}

static void test_routes(void **state)
{
    (void)state;
    struct fake f = { .state = API_NOT_STARTED };
    struct api *a = calloc(1, sizeof(*a));
    a->hooks = (struct api_hooks){ &f, f_state, f_start, f_pause, f_create, f_load, NULL,
                                   f_cad };
    vmconfig_init(&a->cfg);
    char out[4096];
    assert_int_equal(call(a, "GET", "/", "", out), 200);
    assert_non_null(strstr(out, "\"state\":\"Not started\""));
    assert_int_equal(call(a, "GET", "/nope", "", out), 400);
    assert_non_null(strstr(out, "{\"fault_message\":\"Invalid request method and/or path: GET /nope"));
    assert_int_equal(call(a, "DELETE", "/boot-source", "", out), 400);
    assert_int_equal(call(a, "PUT", "/network-interfaces/eth0", "{}", out), 400);
    assert_non_null(strstr(out, "missing required field 'iface_id'"));
    assert_int_equal(call(a, "PUT", "/network-interfaces/eth0", "{\"iface_id\":\"eth0\","
                          "\"host_dev_name\":\"tap0\",\"guest_mac\":\"01:00:00:00:00:01\"}", out), 400);
    assert_non_null(strstr(out, "not a unicast MAC"));
    assert_int_equal(call(a, "PUT", "/network-interfaces/eth0", "{\"iface_id\":\"eth0\","
                          "\"host_dev_name\":\"tap0\",\"guest_mac\":\"02:00:00:00:00:07\"}", out), 204);
    assert_int_equal(a->cfg.nnets, 1);
    assert_string_equal(a->cfg.nets[0].net.tap, "tap0");
    assert_int_equal(a->cfg.nets[0].net.mac[5], 7);
    assert_int_equal(call(a, "PATCH", "/vm", "{\"state\":\"Paused\"}", out), 400);
    assert_non_null(strstr(out, "not started"));
    assert_int_equal(call(a, "PUT", "/boot-source", "{\"kernel_image_path\":\"os.elf\"}", out), 204);
    assert_string_equal(out, "");
    assert_int_equal(call(a, "PUT", "/actions", "{\"action_type\":\"Reboot\"}", out), 400);
    assert_int_equal(call(a, "PUT", "/actions", "{\"action_type\":\"SendCtrlAltDel\"}", out), 400);
    assert_non_null(strstr(out, "SendCtrlAltDel: the microVM is not running yet"));
    assert_int_equal(call(a, "PUT", "/actions", "{\"action_type\":\"FlushMetrics\"}", out), 400);
    assert_non_null(strstr(out, "'FlushMetrics' is not supported"));
    assert_int_equal(f.cads, 0);
    assert_int_equal(call(a, "PUT", "/actions", "{\"action\":\"InstanceStart\"}", out), 400);
    f.fail = true;
    assert_int_equal(call(a, "PUT", "/actions", "{\"action_type\":\"InstanceStart\"}", out), 400);
    assert_non_null(strstr(out, "cannot open kernel"));
    f.fail = false;
    assert_int_equal(call(a, "PUT", "/actions", "{\"action_type\":\"InstanceStart\"}", out), 204);
    assert_int_equal(f.starts, 2);
    assert_int_equal(call(a, "PUT", "/actions", "{\"action_type\":\"SendCtrlAltDel\"}", out), 204);
    assert_string_equal(out, "");
    f.fail = true;
    assert_int_equal(call(a, "PUT", "/actions", "{\"action_type\":\"SendCtrlAltDel\"}", out), 400);
    assert_non_null(strstr(out, "{\"fault_message\":\"SendCtrlAltDel: the guest's keyboard buffer is full"));
    f.fail = false;
    assert_int_equal(f.cads, 2);
    assert_int_equal(call(a, "PUT", "/actions", "{\"action_type\":\"InstanceStart\"}", out), 400);
    assert_int_equal(call(a, "PUT", "/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":8}", out), 400);
    assert_non_null(strstr(out, "cannot change after"));
    const char *snap = "{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\"}";
    assert_int_equal(call(a, "PUT", "/snapshot/create", snap, out), 400);  /* not paused */
    assert_int_equal(call(a, "PATCH", "/vm", "{\"state\":\"Sleeping\"}", out), 400);
    assert_int_equal(call(a, "PATCH", "/vm", "{\"state\":\"Paused\"}", out), 204);
    assert_int_equal(call(a, "PUT", "/snapshot/create", "{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"snapshot_type\":\"Diff\"}", out), 400);
    assert_int_equal(call(a, "PUT", "/snapshot/create", snap, out), 204);
    assert_int_equal(f.creates, 1);
    assert_int_equal(call(a, "PUT", "/snapshot/load", snap, out), 400);    /* started */
    assert_int_equal(call(a, "GET", "/", "", out), 200);
    assert_non_null(strstr(out, "\"state\":\"Paused\""));
    f.state = API_NOT_STARTED;
    assert_int_equal(call(a, "PUT", "/snapshot/load", "{\"snapshot_path\":\"s\"}", out), 400);
    assert_int_equal(call(a, "PUT", "/snapshot/load", "{\"snapshot_path\":\"s\",\"mem_backend\":{\"backend_type\":\"Uffd\",\"backend_path\":\"u\"}}", out), 400);
    assert_int_equal(call(a, "PUT", "/snapshot/load", "{\"snapshot_path\":\"s\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"m\"},\"resume_vm\":true}", out), 204);
    assert_int_equal(f.state, API_RUNNING);
    assert_int_equal(call(a, "PUT", "/snapshot/load", "not json", out), 400);
    assert_non_null(strstr(out, "invalid JSON"));
    free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http_request_whole_and_bytewise),
        cmocka_unit_test(test_http_two_requests_on_one_connection),
        cmocka_unit_test(test_http_limits_and_garbage),
        cmocka_unit_test(test_http_response_format),
        cmocka_unit_test(test_vmconfig_bodies),
        cmocka_unit_test(test_vmconfig_file),
        cmocka_unit_test(test_routes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
