/* raw-loop.c - benchmark baseline for the hypercall round trip: run a guest
 * (nops.bin) in a bare KVM_RUN loop that does no dispatch at all. Not mini-kvm code.
 *
 * Sets up the VM exactly as bare-kvm.c does (1 MiB, real mode at 0x10000) and
 * then only re-enters the guest after each exit, until an `out` of 0 (EXIT).
 * Any other exit (MMIO, HLT, fault) also ends it. Usage: raw-loop GUEST.bin */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define RAM_SIZE   (1u << 20)
#define LOAD_ADDR  0x10000u
#define MAX_IMAGE  (60u << 10)

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static int xioctl(int fd, unsigned long req, void *arg, const char *what)
{
    int r = ioctl(fd, req, arg);
    if (r < 0)
        die(what);
    return r;
}

static struct kvm_run *setup(const char *path, int *vcpu_out)
{
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        die("/dev/kvm");
    int vm = xioctl(kvm, KVM_CREATE_VM, 0, "KVM_CREATE_VM");
    uint8_t *ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ram == MAP_FAILED)
        die("mmap");
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = RAM_SIZE,
        .userspace_addr = (uint64_t)(uintptr_t)ram,
    };
    xioctl(vm, KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION");
    int fd = open(path, O_RDONLY);
    if (fd < 0 || read(fd, ram + LOAD_ADDR, MAX_IMAGE) <= 0)
        die(path);
    close(fd);

    int vcpu = xioctl(vm, KVM_CREATE_VCPU, 0, "KVM_CREATE_VCPU");
    int size = xioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0, "KVM_GET_VCPU_MMAP_SIZE");
    struct kvm_run *run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE,
                               MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        die("mmap kvm_run");
    struct kvm_sregs s;
    xioctl(vcpu, KVM_GET_SREGS, &s, "KVM_GET_SREGS");
    s.cs.selector = s.ds.selector = s.es.selector = s.ss.selector = LOAD_ADDR >> 4;
    s.cs.base = s.ds.base = s.es.base = s.ss.base = LOAD_ADDR;
    xioctl(vcpu, KVM_SET_SREGS, &s, "KVM_SET_SREGS");
    struct kvm_regs r = { .rip = 0, .rsp = 0xFFFE, .rflags = 2 };
    xioctl(vcpu, KVM_SET_REGS, &r, "KVM_SET_REGS");
    *vcpu_out = vcpu;
    return run;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: raw-loop GUEST.bin\n");
        return 2;
    }
    int vcpu;
    struct kvm_run *run = setup(argv[1], &vcpu);
    for (;;) {
        xioctl(vcpu, KVM_RUN, 0, "KVM_RUN");
        if (run->exit_reason != KVM_EXIT_IO)
            break;
        if (*((uint8_t *)run + run->io.data_offset) == 0)
            return 0;   /* EXIT */
    }
    fprintf(stderr, "raw-loop: unexpected exit %u\n", run->exit_reason);
    return 1;
}
