/* test_vcpu_bound.c - vcpu_run_bounded on /dev/kvm: a spinning guest is cut
 * off at its bound by a timer of the running thread only, not the process. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "arch/x86.h"
#include "core/kvm.h"
#include "core/mem.h"
#include "core/vcpu.h"
#include "core/vm.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A real-mode guest at 0000:1000 running `code`. */
static int make_vm(struct kvm_host *h, struct vm *vm, const uint8_t *code, size_t len)
{
    if (vm_create(vm, h, "bound", 1u << 20) || vm_add_cpus(vm, 1) ||
        guest_write(&vm->mem, 0x1000, code, len) ||
        x86_enter_real(vm->cpus[0], 0, 0x1000, 0xFFF0, 0))
        return -1;
    return 0;
}

static int setup(void **state)
{
    static struct kvm_host h;
    if (kvm_host_open(&h)) {
        if (getenv("CI") && !strcmp(getenv("CI"), "true"))
            fail_msg("no usable /dev/kvm in CI");
        skip();
    }
    *state = &h;
    return 0;
}

static void test_exit_before_the_bound(void **state)
{
    static const uint8_t out[] = { 0xBA, 0x05, 0x05, 0xEE, 0xF4 }; /* mov $0x505,%dx; out %al,(%dx); hlt */
    struct vm vm;
    assert_int_equal(make_vm(*state, &vm, out, sizeof(out)), 0);
    assert_int_equal(vcpu_run_bounded(vm.cpus[0], 2000), 0);
    assert_int_equal(vm.cpus[0]->run->exit_reason, KVM_EXIT_IO);
    assert_int_equal(vm.cpus[0]->run->io.port, 0x505);
    vm_destroy(&vm);
}

struct spin { struct kvm_host *h; int result; double seconds; };

static void *spin_thread(void *arg)
{
    static const uint8_t jmp_self[] = { 0xEB, 0xFE };   /* jmp . */
    struct spin *s = arg;
    struct vm vm;
    s->result = 99;
    if (make_vm(s->h, &vm, jmp_self, sizeof(jmp_self)) == 0) {
        double t0 = now();
        s->result = vcpu_run_bounded(vm.cpus[0], 300);
        s->seconds = now() - t0;
    }
    vm_destroy(&vm);
    return NULL;
}

/* The bound's signal must reach the thread in KVM_RUN: the main thread,
 * asleep meanwhile with the kick unblocked, must sleep undisturbed. */
static void test_spin_is_cut_off_on_its_own_thread(void **state)
{
    struct spin s = { .h = *state };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, spin_thread, &s), 0);
    struct timespec nap = { .tv_sec = 1 }, left;
    assert_int_equal(nanosleep(&nap, &left), 0);        /* EINTR: the signal came here */
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_int_equal(s.result, -1);
    assert_true(s.seconds >= 0.29 && s.seconds < 0.9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exit_before_the_bound),
        cmocka_unit_test(test_spin_is_cut_off_on_its_own_thread),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
