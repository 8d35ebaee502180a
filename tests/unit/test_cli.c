/* test_cli.c - unit tests for command-line parsing: options in any order,
 * every number validated, every error naming the argument at fault. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "cli.h"

static int parse(struct options *o, char *err, const char *const *args)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = "mini-kvm";
    for (; *args; args++)
        argv[argc++] = (char *)*args;
    argv[argc] = NULL;
    err[0] = 0;
    return cli_parse(argc, argv, o, err, 256);
}

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static void test_guests_any_order(void **state)
{
    (void)state;
    struct options o;
    char err[256];
    assert_int_equal(parse(&o, err, ARGS("a.bin", "--trace", "b.bin", "-m", "2M", "--mode", "long")), 0);
    assert_int_equal(o.nguests, 2);
    assert_string_equal(o.guests[0], "a.bin");
    assert_string_equal(o.guests[1], "b.bin");
    assert_true(o.trace);
    assert_int_equal(o.mem, 2 << 20);
    assert_int_equal(o.mode, MODE_LONG);
    assert_int_equal(parse(&o, err, ARGS("--timeout", "30", "a.bin")), 0);
    assert_int_equal(o.timeout, 30);
}

static void test_kernel(void **state)
{
    (void)state;
    struct options o;
    char err[256];
    assert_int_equal(parse(&o, err, ARGS("-p", "console=ttyS0 quiet", "-k", "vmlinuz", "-c", "4",
                                         "--initrd=initrd.gz", "--disk", "d.img", "--mem=1G")), 0);
    assert_string_equal(o.kernel, "vmlinuz");
    assert_string_equal(o.initrd, "initrd.gz");
    assert_string_equal(o.cmdline, "console=ttyS0 quiet");
    assert_int_equal(o.cpus, 4);
    assert_int_equal(o.ndisks, 1);
    assert_int_equal(o.mem, 1 << 30);
}

/* -i repeats: up to CLI_MAX_MODULES multiboot modules, in order; the first
 * is also the Linux initrd. */
static void test_modules(void **state)
{
    (void)state;
    struct options o;
    char err[256];
    assert_int_equal(parse(&o, err, ARGS("-k", "k.elf", "-i", "a", "--initrd", "b", "-i", "c")), 0);
    assert_int_equal(o.nmodules, 3);
    assert_string_equal(o.modules[0], "a");
    assert_string_equal(o.modules[1], "b");
    assert_string_equal(o.modules[2], "c");
    assert_string_equal(o.initrd, "a");
    assert_int_equal(parse(&o, err, ARGS("-k", "k.elf", "-i", "1", "-i", "2", "-i", "3", "-i", "4",
                                         "-i", "5", "-i", "6", "-i", "7", "-i", "8")), 0);
    assert_int_equal(o.nmodules, CLI_MAX_MODULES);
    assert_string_equal(o.modules[7], "8");
    assert_int_equal(parse(&o, err, ARGS("-k", "k.elf", "-i", "1", "-i", "2", "-i", "3", "-i", "4",
                                         "-i", "5", "-i", "6", "-i", "7", "-i", "8", "-i", "9")), -1);
    assert_non_null(strstr(err, "-i '9'"));
    assert_non_null(strstr(err, "at most 8"));
    assert_int_equal(parse(&o, err, ARGS("-k", "k.elf")), 0);
    assert_int_equal(o.nmodules, 0);
    assert_null(o.initrd);
}

static void expect_error(const char *const *args, const char *needle)
{
    struct options o;
    char err[256];
    assert_int_equal(parse(&o, err, args), -1);
    if (!strstr(err, needle))
        fail_msg("error '%s' does not mention '%s'", err, needle);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error(ARGS("-m", "12X", "a.bin"), "12X");
    expect_error(ARGS("--mem=12X", "a.bin"), "--mem");
    expect_error(ARGS("-m", "1K", "a.bin"), "1K");
    expect_error(ARGS("-m", "100G", "a.bin"), "100G");
    expect_error(ARGS("-c", "0", "-k", "k"), "-c '0'");
    expect_error(ARGS("-c", "65", "-k", "k"), "65");
    expect_error(ARGS("-c", "2x", "-k", "k"), "2x");
    expect_error(ARGS("--mode", "protected", "a.bin"), "protected");
    expect_error(ARGS("--bogus", "a.bin"), "--bogus");
    expect_error(ARGS("-z", "a.bin"), "-z");
    expect_error(ARGS("a.bin", "-m"), "-m");
    expect_error(ARGS("--trace"), "no guest");
    expect_error(ARGS("-k", "vmlinuz", "a.bin"), "a.bin");
    expect_error(ARGS("-i", "initrd", "a.bin"), "-i");
    expect_error(ARGS("-c", "2", "a.bin"), "-c");
    expect_error(ARGS("--timeout", "0", "a.bin"), "--timeout '0'");
    expect_error(ARGS("--timeout=1.5", "a.bin"), "--timeout '1.5'");
}

static void test_ide_disk_boot(void **state)
{
    (void)state;
    struct options o;
    char err[256];
    assert_int_equal(parse(&o, err, ARGS("-c", "2", "--ide", "xv6.img", "--ide=fs.img,ro",
                                         "--cga-dump")), 0);
    assert_int_equal(o.nide, 2);
    assert_string_equal(o.ide[0].path, "xv6.img");
    assert_false(o.ide[0].ro);
    assert_string_equal(o.ide[1].path, "fs.img");
    assert_true(o.ide[1].ro);
    assert_true(o.cga_dump);
    assert_int_equal(o.cpus, 2);
    assert_true(cli_disk_boot(&o));
    /* only a trailing ",ro" is an option: other commas belong to the name */
    assert_int_equal(parse(&o, err, ARGS("--ide", "a,b.img")), 0);
    assert_string_equal(o.ide[0].path, "a,b.img");
    assert_false(o.ide[0].ro);
    /* with -k the disks are attached to the kernel's platform */
    assert_int_equal(parse(&o, err, ARGS("-k", "k.elf", "--ide", "d.img")), 0);
    assert_int_equal(o.nide, 1);
    assert_false(cli_disk_boot(&o));
    assert_int_equal(parse(&o, err, ARGS("-k", "k.elf")), 0);
    assert_false(o.cga_dump);
    assert_int_equal(o.nide, 0);
}

static void test_ide_errors(void **state)
{
    (void)state;
    expect_error(ARGS("--ide", "a.img", "--ide", "b.img", "--ide", "c.img"), "at most 2");
    expect_error(ARGS("--ide", "a.img", "--ide", "b.img", "--ide", "c.img"), "c.img");
    expect_error(ARGS("--ide", "d.img", "hello.bin"), "not flat binaries");
    expect_error(ARGS("--ide", ",ro"), "FILE,ro");
    expect_error(ARGS("--ide"), "--ide");
    expect_error(ARGS("--ide", "d.img", "-p", "x"), "-p need a kernel");
    expect_error(ARGS("--disk", "d.img", "hello.bin"), "--disk");
    assert_non_null(strstr(cli_usage, "--ide FILE[,ro]"));
    assert_non_null(strstr(cli_usage, "--cga-dump"));
}

/* --net tap=NAME[,mac=MAC], repeatable; --no-rng; the virtio limit counts
 * disks and NICs together. */
static void test_net_and_rng(void **state)
{
    (void)state;
    struct options o;
    char err[256];
    assert_int_equal(parse(&o, err, ARGS("-k", "vmlinuz", "--net", "tap=tap0", "--net",
                                         "mac=02:aa:bb:cc:dd:0e,tap=tap1", "--no-rng")), 0);
    assert_int_equal(o.nnets, 2);
    assert_string_equal(o.nets[0].tap, "tap0");
    assert_false(o.nets[0].has_mac);
    assert_string_equal(o.nets[1].tap, "tap1");
    assert_true(o.nets[1].has_mac);
    assert_memory_equal(o.nets[1].mac, ((uint8_t[]){ 2, 0xaa, 0xbb, 0xcc, 0xdd, 0x0e }), 6);
    assert_true(o.no_rng);
    assert_int_equal(parse(&o, err, ARGS("-k", "vmlinuz")), 0);
    assert_false(o.no_rng);
    expect_error(ARGS("-k", "v", "--net", "tap=t,mac=01:00:00:00:00:01"), "bad MAC address '01:");
    expect_error(ARGS("-k", "v", "--net", "tap=t,mac=02:00:00:00:00"), "bad MAC address");
    expect_error(ARGS("-k", "v", "--net", "tap=t,mac=02:00:00:00:00:0g"), "bad MAC address");
    expect_error(ARGS("-k", "v", "--net", "tap=t,mac=02:00:00:00:00:001"), "bad MAC address");
    expect_error(ARGS("-k", "v", "--net", "tap0"), "expected tap=NAME");
    expect_error(ARGS("-k", "v", "--net", "tap=a,tap=b"), "expected tap=NAME");
    expect_error(ARGS("-k", "v", "--net", "tap=a,speed=10"), "expected tap=NAME");
    expect_error(ARGS("-k", "v", "--net", "tap=0123456789abcdef"), "1 to 15 bytes");
    expect_error(ARGS("-k", "v", "--net", "tap="), "1 to 15 bytes");
    expect_error(ARGS("--net", "tap=t", "a.bin"), "--net needs a kernel");
    expect_error(ARGS("-k", "v", "--disk", "1", "--disk", "2", "--disk", "3", "--disk", "4",
                      "--disk", "5", "--disk", "6", "--disk", "7", "--disk", "8", "--net", "tap=t"),
                 "--net 'tap=t': too many virtio devices (at most 8 in all)");
    expect_error(ARGS("-k", "v", "--net", "tap=1", "--net", "tap=2", "--net", "tap=3",
                      "--net", "tap=4", "--net", "tap=5", "--net", "tap=6", "--net", "tap=7",
                      "--net", "tap=8", "--disk", "d"),
                 "--disk 'd': too many virtio devices (at most 8 in all)");
    assert_int_equal(parse(&o, err, ARGS("-k", "v", "--net", "tap=t,vhost=off", "--vsock", "42")), 0);
    assert_true(o.nets[0].no_vhost);
    assert_int_equal(o.vsock_cid, 42);
    expect_error(ARGS("-k", "v", "--vsock", "2"), "--vsock '2': expected a guest CID from 3");
    expect_error(ARGS("-k", "v", "--vsock", "4294967295"), "expected a guest CID");
    expect_error(ARGS("--vsock", "3", "a.bin"), "--vsock needs a kernel");
    expect_error(ARGS("-k", "v", "--vsock", "3", "--disk", "1", "--disk", "2", "--disk", "3",
                      "--disk", "4", "--disk", "5", "--disk", "6", "--disk", "7", "--disk", "8"),
                 "--disk '8': too many virtio devices");
    assert_non_null(strstr(cli_usage, "--net tap=NAME[,mac=MAC]"));
    assert_non_null(strstr(cli_usage, "--vsock CID"));
    assert_non_null(strstr(cli_usage, "--no-rng"));
}

static void test_help_version(void **state)
{
    (void)state;
    struct options o;
    char err[256];
    assert_int_equal(parse(&o, err, ARGS("--help")), 0);
    assert_true(o.help);
    assert_int_equal(parse(&o, err, ARGS("-V")), 0);
    assert_true(o.version);
    assert_int_equal(parse(&o, err, ARGS("--check-host")), 0);
    assert_true(o.check_host);
    assert_non_null(strstr(cli_usage, "--mode"));
    assert_non_null(strstr(cli_usage, "multiboot"));
}

static void test_reentrant(void **state)
{
    (void)state;
    struct options o;
    char err[256];
    for (int i = 0; i < 3; i++) {
        assert_int_equal(parse(&o, err, ARGS("-m", "4M", "x.bin")), 0);
        assert_int_equal(o.nguests, 1);
    }
}

/* --gdb: a port (1-65535) or a socket path; --gdb-wait only with it; one guest. */
static void test_gdb(void **state)
{
    (void)state;
    struct options o;
    char err[256];
    assert_int_equal(parse(&o, err, ARGS("--gdb", "1234", "--gdb-wait", "a.bin")), 0);
    assert_string_equal(o.gdb, "1234");
    assert_true(o.gdb_wait);
    assert_int_equal(parse(&o, err, ARGS("-k", "os.elf", "--gdb=/tmp/s.sock")), 0);
    assert_string_equal(o.gdb, "/tmp/s.sock");
    assert_false(o.gdb_wait);
    assert_int_equal(parse(&o, err, ARGS("--gdb", "sock", "a.bin")), 0);
    assert_string_equal(o.gdb, "sock");
    assert_int_equal(parse(&o, err, ARGS("a.bin")), 0);
    assert_null(o.gdb);
    expect_error(ARGS("--gdb", "0", "a.bin"), "--gdb '0'");
    expect_error(ARGS("--gdb", "65536", "a.bin"), "65536");
    expect_error(ARGS("--gdb", "", "a.bin"), "--gdb");
    expect_error(ARGS("--gdb-wait", "a.bin"), "--gdb-wait needs --gdb");
    expect_error(ARGS("--gdb", "1234", "a.bin", "b.bin"), "one guest");
    expect_error(ARGS("a.bin", "--gdb"), "--gdb");
    assert_non_null(strstr(cli_usage, "--gdb-wait"));
}

static void test_api_config_restore(void **state)
{
    (void)state;
    struct options o;
    char err[256];
    assert_int_equal(parse(&o, err, ARGS("--api", "/tmp/vm.sock", "--trace")), 0);
    assert_string_equal(o.api, "/tmp/vm.sock");
    assert_int_equal(parse(&o, err, ARGS("--config-file", "vm.json")), 0);
    assert_string_equal(o.config_file, "vm.json");
    assert_int_equal(parse(&o, err, ARGS("--restore", "s", "--restore-mem", "m")), 0);
    assert_string_equal(o.restore_mem, "m");
    assert_int_equal(parse(&o, err, ARGS("--restore", "s")), -1);
    assert_non_null(strstr(err, "--restore needs --restore-mem"));
    assert_int_equal(parse(&o, err, ARGS("--restore-mem", "m", "-k", "os.elf")), -1);
    assert_non_null(strstr(err, "--restore-mem needs --restore"));
    assert_int_equal(parse(&o, err, ARGS("--api", "a.sock", "-k", "os.elf")), -1);
    assert_non_null(strstr(err, "the guest comes from the API"));
    assert_int_equal(parse(&o, err, ARGS("--config-file", "f", "-m", "64M")), -1);
    assert_int_equal(parse(&o, err, ARGS("--api", "a.sock", "--config-file", "f")), 0);
    assert_int_equal(parse(&o, err, ARGS("--api", "a.sock", "--restore", "s",
                                         "--restore-mem", "m")), -1);
    assert_non_null(strstr(err, "give one of"));
}

static void test_trace_file_and_top(void **state)
{
    (void)state;
    struct options o;
    char err[256];
    assert_int_equal(parse(&o, err, ARGS("--trace-file", "t.trace", "--top", "a.bin")), 0);
    assert_string_equal(o.trace_file, "t.trace");
    assert_true(o.top);
    assert_int_equal(parse(&o, err, ARGS("a.bin")), 0);
    assert_null(o.trace_file);
    assert_false(o.top);
    expect_error(ARGS("--trace-file", "", "a.bin"), "--trace-file");
    expect_error(ARGS("a.bin", "--trace-file"), "--trace-file");
    expect_error(ARGS("--api", "/tmp/vm.sock", "--top"), "--top");
    expect_error(ARGS("--api", "/tmp/vm.sock", "--trace-file", "t"), "--trace-file");
}

/* --user UID:GID (numeric, never root) and --no-seccomp; the filter is on
 * unless asked otherwise. */
static void test_least_privilege(void **state)
{
    (void)state;
    struct options o;
    char err[256];
    assert_int_equal(parse(&o, err, ARGS("hello.bin")), 0);
    assert_false(o.no_seccomp);
    assert_false(o.user.set);
    assert_int_equal(parse(&o, err, ARGS("--no-seccomp", "--user", "65534:100", "hello.bin")), 0);
    assert_true(o.no_seccomp);
    assert_true(o.user.set);
    assert_int_equal(o.user.uid, 65534);
    assert_int_equal(o.user.gid, 100);
    assert_int_equal(parse(&o, err, ARGS("--user=4294967294:1", "hello.bin")), 0);
    assert_int_equal(o.user.uid, 4294967294u);
    static const char *const bad[] = { "nobody", "1000", "1000:", ":1000", "1:2:3", "-1:1",
                                       "+1:1", " 1:1", "1:1 ", "4294967295:1", "1:4294967295",
                                       "99999999999999999999:1", "" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(parse(&o, err, ARGS("--user", bad[i], "hello.bin")), -1);
        char want[64];
        snprintf(want, sizeof(want), "--user '%s': expected numeric UID:GID", bad[i]);
        assert_non_null(strstr(err, want));
    }
    assert_int_equal(parse(&o, err, ARGS("--user", "0:0", "hello.bin")), -1);
    assert_string_equal(err, "--user '0:0': the guest must not run as root or group 0");
    assert_int_equal(parse(&o, err, ARGS("--user", "5:0", "hello.bin")), -1);
    assert_int_equal(parse(&o, err, ARGS("hello.bin", "--user")), -1);
    assert_string_equal(err, "option '--user' needs an argument (see --help)");
    assert_int_equal(parse(&o, err, ARGS("--user", "5:5", "--api", "a.sock")), -1);
    assert_non_null(strstr(err, "not with --api yet"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guests_any_order),
        cmocka_unit_test(test_kernel),
        cmocka_unit_test(test_modules),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_ide_disk_boot),
        cmocka_unit_test(test_net_and_rng),
        cmocka_unit_test(test_ide_errors),
        cmocka_unit_test(test_help_version),
        cmocka_unit_test(test_reentrant),
        cmocka_unit_test(test_gdb),
        cmocka_unit_test(test_api_config_restore),
        cmocka_unit_test(test_trace_file_and_top),
        cmocka_unit_test(test_least_privilege),
    };
    return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
