/* test_sandbox.c - unit tests for the seccomp allow-lists: every entry has a
 * reason, no entry repeats, and a sealed thread dies naming a forbidden call. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/sandbox.h"
#include "core/seccomp_rules.h"

static void check_list(const struct seccomp_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        assert_true(l->r[i].nr >= 0);
        assert_non_null(l->r[i].why);
        assert_true(strlen(l->r[i].why) > 10);
        assert_true(l->r[i].nargs <= 2);
        for (size_t j = 0; j < i; j++)      /* an exact repeat is a mistake */
            assert_false(l->r[j].nr == l->r[i].nr && l->r[j].nargs == l->r[i].nargs &&
                         !memcmp(l->r[j].arg, l->r[i].arg, sizeof(l->r[i].arg)));
    }
}

static void test_every_rule_has_a_reason(void **state)
{
    (void)state;
    check_list(&seccomp_common);
    for (int k = 0; k < SANDBOX_KINDS; k++) {
        check_list(seccomp_list_of(k));
        assert_int_equal(sandbox_rules(k), (int)(seccomp_common.n + seccomp_list_of(k)->n));
        assert_non_null(sandbox_kind_name(k));
    }
}

/* docs/security.md lists every allowed call with the reason given here
 * (run from the repository root, as `make unit` does). */
static void test_every_reason_is_documented(void **state)
{
    (void)state;
    static char doc[65536];
    FILE *f = fopen("docs/security.md", "r");
    assert_non_null(f);
    size_t n = fread(doc, 1, sizeof(doc) - 1, f);
    fclose(f);
    doc[n] = '\0';
    const struct seccomp_list *ls[SANDBOX_KINDS + 1] = { &seccomp_common };
    for (int k = 0; k < SANDBOX_KINDS; k++)
        ls[k + 1] = seccomp_list_of(k);
    for (int i = 0; i <= SANDBOX_KINDS; i++)
        for (size_t j = 0; j < ls[i]->n; j++)
            if (!strstr(doc, ls[i]->r[j].why))
                fail_msg("docs/security.md lacks the reason \"%s\"", ls[i]->r[j].why);
}

/* No thread but the vCPU may run the guest; only the GDB stub talks on sockets. */
static bool allows(enum sandbox_kind k, int nr, uint64_t a1)
{
    const struct seccomp_list *ls[] = { &seccomp_common, seccomp_list_of(k) };
    for (int i = 0; i < 2; i++)
        for (size_t j = 0; j < ls[i]->n; j++) {
            const struct seccomp_rule *r = &ls[i]->r[j];
            if (r->nr == nr && (r->nargs == 0 || (r->arg[0].arg == 1 && r->arg[0].datum_a == a1)))
                return true;
        }
    return false;
}

static void test_least_privilege_per_kind(void **state)
{
    (void)state;
    for (int k = 0; k < SANDBOX_KINDS; k++) {
        assert_int_equal(allows(k, SCMP_SYS(ioctl), KVM_RUN), k == SANDBOX_VCPU);
        assert_int_equal(allows(k, SCMP_SYS(accept4), 0), k == SANDBOX_GDB || k == SANDBOX_API);
        assert_false(allows(k, SCMP_SYS(socket), 0));
        assert_false(allows(k, SCMP_SYS(execve), 0));
        assert_false(allows(k, SCMP_SYS(openat), 0));
        assert_false(allows(k, SCMP_SYS(clone), 0));
        assert_false(allows(k, SCMP_SYS(ioctl), KVM_CREATE_VM));
        assert_false(allows(k, SCMP_SYS(ioctl), KVM_SET_USER_MEMORY_REGION));
    }
}

/* In a child: seal as the main thread, then make a forbidden call. */
static void test_forbidden_call_is_reported_and_fatal(void **state)
{
    (void)state;
#if SANDBOX_SANITIZED
    skip();     /* sanitizer builds leave main unfiltered (docs/security.md) */
#endif
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(p[1], 2);
        struct sandbox s;
        sandbox_init(&s, true, NULL);
        if (sandbox_early(&s) || sandbox_seal_main(&s))
            _exit(3);
        socket(AF_UNIX, SOCK_STREAM, 0);
        _exit(4);   /* not reached */
    }
    close(p[1]);
    char buf[256] = { 0 };
    size_t n = 0;
    ssize_t r;
    while (n < sizeof(buf) - 1 && (r = read(p[0], buf + n, sizeof(buf) - 1 - n)) > 0)
        n += (size_t)r;
    close(p[0]);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 159);
    assert_string_equal(buf, "mini-kvm: seccomp: main thread made forbidden system call 41 "
                             "(socket): killed\n");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_rule_has_a_reason),
        cmocka_unit_test(test_every_reason_is_documented),
        cmocka_unit_test(test_least_privilege_per_kind),
        cmocka_unit_test(test_forbidden_call_is_reported_and_fatal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
