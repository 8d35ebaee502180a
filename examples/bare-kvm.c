/* bare-kvm.c - the first program of docs/tutorial.md: the least a KVM program
 * does to run one real-mode teaching guest (hello.bin) and print its output.
 *
 * Open /dev/kvm, create a VM with 1 MiB of RAM and one vCPU, load the flat
 * binary at 0x10000 with CS=DS=ES=SS=0x1000, IP=0, SP=0xFFFE, and run it
 * until the EXIT hypercall. Handles PUTCHAR, WRITE, EXIT, EXIT_CODE and NOP
 * on port 0x500 (docs/hypercalls.md) and nothing else. mini-kvm does the
 * same work behind its bus, devices and loaders; bench/startup.sh uses this
 * program as its baseline. Build: `make bare-kvm`. Usage: bare-kvm GUEST.bin */
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define RAM_SIZE   (1u << 20)
#define LOAD_ADDR  0x10000u
#define MAX_IMAGE  (60u << 10)
#define HC_PORT    0x500

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

static void load(const char *path, uint8_t *ram)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        die(path);
    ssize_t n = read(fd, ram + LOAD_ADDR, MAX_IMAGE);
    if (n <= 0)
        die(path);
    close(fd);
}

static void set_real_mode(int vcpu)
{
    struct kvm_sregs s;
    xioctl(vcpu, KVM_GET_SREGS, &s, "KVM_GET_SREGS");
    struct kvm_segment *segs[] = { &s.cs, &s.ds, &s.es, &s.ss };
    for (size_t i = 0; i < sizeof(segs) / sizeof(segs[0]); i++) {
        segs[i]->selector = LOAD_ADDR >> 4;
        segs[i]->base = LOAD_ADDR;
    }
    xioctl(vcpu, KVM_SET_SREGS, &s, "KVM_SET_SREGS");
    struct kvm_regs r = { .rip = 0, .rsp = 0xFFFE, .rflags = 2 };
    xioctl(vcpu, KVM_SET_REGS, &r, "KVM_SET_REGS");
}

/* One hypercall; returns -1 to keep running or the exit status. */
static int hypercall(int vcpu, uint8_t fn, uint8_t *ram)
{
    struct kvm_regs r;
    struct kvm_sregs s;
    switch (fn) {
    case 0x00: return 0;                                    /* EXIT */
    case 0x07: return -1;                                   /* NOP */
    case 0x01:                                              /* PUTCHAR */
    case 0x03:                                              /* EXIT_CODE */
        xioctl(vcpu, KVM_GET_REGS, &r, "KVM_GET_REGS");
        if (fn == 0x03)
            return r.rbx & 0xFF;
        if (write(1, &(char){ (char)r.rbx }, 1) < 0)
            die("write");
        return -1;
    case 0x04: {                                            /* WRITE */
        xioctl(vcpu, KVM_GET_REGS, &r, "KVM_GET_REGS");
        xioctl(vcpu, KVM_GET_SREGS, &s, "KVM_GET_SREGS");
        uint64_t addr = s.ds.base + (r.rsi & 0xFFFF), len = r.rcx & 0xFFFF;
        if (addr + len > RAM_SIZE) {
            fprintf(stderr, "bare-kvm: WRITE outside RAM\n");
            return 1;
        }
        if (write(1, ram + addr, len) < 0)
            die("write");
        return -1;
    }
    default:
        fprintf(stderr, "bare-kvm: unknown hypercall 0x%02x\n", fn);
        return 1;
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bare-kvm GUEST.bin\n");
        return 2;
    }
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
    load(argv[1], ram);

    int vcpu = xioctl(vm, KVM_CREATE_VCPU, 0, "KVM_CREATE_VCPU");
    int run_size = xioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0, "KVM_GET_VCPU_MMAP_SIZE");
    struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE,
                               MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED)
        die("mmap kvm_run");
    set_real_mode(vcpu);

    for (;;) {
        xioctl(vcpu, KVM_RUN, 0, "KVM_RUN");
        if (run->exit_reason != KVM_EXIT_IO || run->io.port != HC_PORT) {
            fprintf(stderr, "bare-kvm: unexpected exit %u\n", run->exit_reason);
            return 1;
        }
        if (run->io.direction != KVM_EXIT_IO_OUT)
            continue;       /* `in` from the port: no input, reads 0 */
        uint8_t fn = *((uint8_t *)run + run->io.data_offset);
        int status = hypercall(vcpu, fn, ram);
        if (status >= 0)
            return status;
    }
}
