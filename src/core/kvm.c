/* kvm.c - opening /dev/kvm and checking that it offers what we use.
 * Every failure is reported once, with the reason and what to do. */
#include "kvm.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

int kvm_host_cap(const struct kvm_host *h, int cap)
{
    int r = ioctl(h->fd, KVM_CHECK_EXTENSION, cap);
    return r < 0 ? 0 : r;
}

/* caps_lock held: ask once; 0 or the ioctl's errno. */
static int fill_cpuid(struct kvm_host *h)
{
    if (h->ncpuid)
        return 0;
    struct kvm_cpuid2 *q = xcalloc(1, sizeof(*q) + sizeof(h->cpuid));
    q->nent = KVM_HOST_CPUID_MAX;
    int err = 0;
    if (ioctl(h->fd, KVM_GET_SUPPORTED_CPUID, q) == 0) {
        memcpy(h->cpuid, q->entries, q->nent * sizeof(q->entries[0]));
        h->ncpuid = (int)q->nent;
    } else {
        err = errno;
    }
    free(q);
    return err;
}

static void *prefetch_cpuid(void *arg)
{
    struct kvm_host *h = arg;
    pthread_mutex_lock(&h->caps_lock);
    fill_cpuid(h);              /* an error is the first real caller's to report */
    pthread_mutex_unlock(&h->caps_lock);
    return NULL;
}

void kvm_host_prefetch_cpuid(struct kvm_host *h)
{
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 64 * 1024);   /* one ioctl: no 8 MiB stack to map */
    pthread_mutex_lock(&h->prefetch_lock);
    h->prefetching = pthread_create(&h->prefetch, &a, prefetch_cpuid, h) == 0;
    pthread_mutex_unlock(&h->prefetch_lock);
    pthread_attr_destroy(&a);
}

/* KVM answers by running the host's CPUID on every leaf (~0.3 ms on a
 * software KVM, where each one traps), and the answer never changes: so
 * it is asked once, for every vCPU and the snapshot's CPU check. */
int kvm_host_supported_cpuid(struct kvm_host *h, struct kvm_cpuid_entry2 *out, int max)
{
    /* The first caller joins the prefetch: every VM build asks before its
     * threads seal, so the prefetch never outlives the set-up. */
    pthread_mutex_lock(&h->prefetch_lock);
    if (h->prefetching) {
        pthread_join(h->prefetch, NULL);
        h->prefetching = false;
    }
    pthread_mutex_unlock(&h->prefetch_lock);
    pthread_mutex_lock(&h->caps_lock);
    int err = fill_cpuid(h);
    int n = h->ncpuid < max ? h->ncpuid : max;
    memcpy(out, h->cpuid, (size_t)n * sizeof(*out));
    pthread_mutex_unlock(&h->caps_lock);
    if (n > 0)
        return n;
    errno = err ? err : EIO;
    return -1;
}

/* Only reported (and used by a sealed vCPU, docs/security.md): decisions
 * about what the host runs come from hostcheck.c's probes. */
static void find_module(char *out, size_t n)
{
    static const char *const mods[] = { "kvm_intel", "kvm_amd", "kvm_pvm" };
    snprintf(out, n, "unknown");
    for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
        char path[64];
        snprintf(path, sizeof(path), "/sys/module/%s", mods[i]);
        if (access(path, F_OK) == 0) {
            snprintf(out, n, "%s", mods[i]);
            return;
        }
    }
}

int kvm_host_open(struct kvm_host *h)
{
    memset(h, 0, sizeof(*h));
    pthread_mutex_init(&h->caps_lock, NULL);    /* cannot fail with default attributes */
    pthread_mutex_init(&h->prefetch_lock, NULL);
    h->fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (h->fd < 0) {
        int e = errno;
        if (e == ENOENT)
            errorf("/dev/kvm: not found (is the kvm module loaded? try 'modprobe kvm-intel' or 'modprobe kvm-amd')");
        else if (e == EACCES || e == EPERM)
            errorf("/dev/kvm: permission denied (add yourself to the 'kvm' group or run as root)");
        else
            errorf("/dev/kvm: %s", strerror(e));
        return -1;
    }
    int v = ioctl(h->fd, KVM_GET_API_VERSION, 0);
    if (v < 0) {
        errorf("/dev/kvm: KVM_GET_API_VERSION: %s", strerror(errno));
        goto fail;
    }
    if (v != KVM_API_VERSION) {
        errorf("/dev/kvm: API version %d, need %d", v, KVM_API_VERSION);
        goto fail;
    }
    static const struct { int cap; const char *name; } need[] = {
        { KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
        { KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
    };
    for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++) {
        if (kvm_host_cap(h, need[i].cap) <= 0) {
            errorf("/dev/kvm: missing capability %s", need[i].name);
            goto fail;
        }
    }
    h->run_size = ioctl(h->fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (h->run_size < 0) {
        errorf("/dev/kvm: KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
        goto fail;
    }
    if (h->run_size < (int)sizeof(struct kvm_run)) {
        errorf("/dev/kvm: vCPU run area of %d bytes is smaller than struct kvm_run",
               h->run_size);
        goto fail;
    }
    h->max_vcpus = kvm_host_cap(h, KVM_CAP_MAX_VCPUS);
    if (h->max_vcpus <= 0)
        h->max_vcpus = kvm_host_cap(h, KVM_CAP_NR_VCPUS);
    if (h->max_vcpus <= 0)
        h->max_vcpus = 1;
    h->irqchip = kvm_host_cap(h, KVM_CAP_IRQCHIP) > 0;
    h->pit = kvm_host_cap(h, KVM_CAP_PIT2) > 0;
    h->tss_addr = kvm_host_cap(h, KVM_CAP_SET_TSS_ADDR) > 0;
    find_module(h->module, sizeof(h->module));
    return 0;
fail:
    close(h->fd);
    h->fd = -1;
    return -1;
}
