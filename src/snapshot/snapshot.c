/* snapshot.c - a paused VM to two files and back: the state file (shape,
 * KVM state, each device's record) and the guest RAM, mapped copy-on-write
 * on restore so that clones share every page they do not write. */
#include "snapshot/snapshot.h"
#include "snapshot/kvmstate.h"
#include "snapshot/snapfile.h"
#include "cli.h"
#include "core/util.h"
#include "core/virtio_table.h"
#include "core/vm.h"
#include "devices/virtio_net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(sizeof("dev.") - 1 + DEVSTATE_NAME <= SNAP_NAME,
               "a device's record name \"dev.<kind@index>\" fits its field");

/* The guest's shape: what the restoring process must build before the
 * state goes in (the kernel is not needed: it is in guest RAM). */
struct snap_config {
    uint64_t mem;
    uint32_t ncpus, ndisks;
    uint32_t rng, nnets;        /* the kernel platform's virtio-rng (Linux); NICs */
    char name[64];
    char disks[CLI_MAX_DISKS][CLI_PATH_MAX];
    struct {                    /* re-opened by name on restore, like the disks */
        char tap[CLI_IFNAME_MAX];
        uint8_t mac[6], pad[2];
    } nets[VIRTIO_MMIO_MAX];
};

/* A NIC on the userspace datapath is state we hold (the transport's record,
 * re-activated on restore); with vhost-net the kernel holds the rings'
 * positions, and vsock's connections live in vhost-vsock (docs/snapshot.md). */
static int nets_snapshottable(const struct vm *vm, const struct options *opt)
{
    if (opt->vsock_cid) {
        errorf("%s: virtio-vsock cannot be snapshotted yet (its connections are the "
               "host kernel's vhost-vsock state)", vm->name);
        return -1;
    }
    for (int i = 0; i < opt->nnets; i++) {
        if (!opt->nets[i].no_vhost) {
            errorf("%s: %s: virtio-net on the vhost-net datapath cannot be snapshotted yet "
                   "(the userspace datapath, --net tap=%s,vhost=off, can)", vm->name,
                   opt->nets[i].tap, opt->nets[i].tap);
            return -1;
        }
    }
    return 0;
}

static int save_config(const struct vm *vm, const struct options *opt, struct snap_writer *w)
{
    if (opt->nide) {
        errorf("%s: IDE disks cannot be snapshotted yet (virtio disks can)", vm->name);
        return -1;
    }
    if (nets_snapshottable(vm, opt))
        return -1;
    bool rng = false;
    for (int i = 0; i < vm->virtio.n; i++) {
        uint32_t id = vm->virtio.slot[i].device_id;
        rng |= id == VIRTIO_ID_RNG;     /* no state beyond its transport's record */
        if (id != VIRTIO_ID_BLOCK && id != VIRTIO_ID_RNG && id != VIRTIO_ID_NET) {
            errorf("%s: virtio device type %u cannot be snapshotted yet (virtio-blk, "
                   "-rng and -net can)", vm->name, id);
            return -1;
        }
    }
    struct snap_config *c = xcalloc(1, sizeof(*c));
    c->mem = vm->mem.ram_size;
    c->ncpus = (uint32_t)vm->ncpus;
    c->ndisks = (uint32_t)opt->ndisks;
    c->rng = rng;
    snprintf(c->name, sizeof(c->name), "%s", vm->name);
    for (int i = 0; i < opt->ndisks; i++) {
        /* absolute, so a restore from another directory opens the same file */
        char *abs = realpath(opt->disks[i], NULL);
        snprintf(c->disks[i], sizeof(c->disks[i]), "%s", abs ? abs : opt->disks[i]);
        free(abs);
    }
    c->nnets = (uint32_t)opt->nnets;
    for (int i = 0; i < opt->nnets; i++) {
        const struct cli_net *n = &opt->nets[i];
        memcpy(c->nets[i].tap, n->tap, sizeof(c->nets[i].tap));
        if (n->has_mac)
            memcpy(c->nets[i].mac, n->mac, 6);
        else
            virtio_net_default_mac(n->tap, c->nets[i].mac);
    }
    snapw_add(w, "config", c, sizeof(*c));
    free(c);
    return 0;
}

/* Guest RAM, regions back to back, as a sparse file: all-zero pages are
 * holes (never touched, or cleared), so the file costs what the guest used. */
static int save_memory(const struct vm *vm, const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        errorf("%s: cannot create the memory file: %s", path, strerror(errno));
        return -1;
    }
    static const uint8_t zero[4096];
    uint64_t off = 0;
    int r = ftruncate(fd, (off_t)vm->mem.ram_size);
    for (int i = 0; r == 0 && i < vm->mem.nr; i++) {
        const struct mem_region *m = &vm->mem.r[i];
        for (uint64_t p = 0; r == 0 && p < m->size; p += 4096) {
            if (memcmp(m->host + p, zero, 4096) == 0)
                continue;
            r = pwrite(fd, m->host + p, 4096, (off_t)(off + p)) == 4096 ? 0 : -1;
        }
        off += m->size;
    }
    if (r == 0)
        r = fsync(fd);
    if (r)
        errorf("%s: cannot write the memory file: %s", path, strerror(errno));
    close(fd);
    if (r)
        unlink(path);
    return r;
}

int snapshot_save(struct vm *vm, const struct options *opt, const char *snap,
                  const char *mem)
{
    struct snap_writer w = { 0 };
    struct snap_header h = {
        .cpuid_hash = kvmstate_cpuid_hash(vm), .mem_size = vm->mem.ram_size,
        .ncpus = (uint32_t)vm->ncpus,
    };
    snprintf(h.version, sizeof(h.version), "%s", MINI_KVM_VERSION);
    if (save_config(vm, opt, &w) || kvmstate_save(vm, &w)) {
        free(w.buf);
        return -1;
    }
    for (int i = 0; i < vm->nstates; i++) {
        void *rec = xcalloc(1, vm->states[i].ops->size);
        vm->states[i].ops->save(vm->states[i].dev, rec);
        char name[SNAP_NAME];
        snprintf(name, sizeof(name), "dev.%s", vm->states[i].name);
        snapw_add(&w, name, rec, vm->states[i].ops->size);
        free(rec);
    }
    if (save_memory(vm, mem)) {
        free(w.buf);
        return -1;
    }
    if (snapw_write(&w, &h, snap)) {
        unlink(mem);
        return -1;
    }
    return 0;
}

int snapshot_open(struct snap_reader *r, const char *path, struct options *shape)
{
    if (snapr_open(r, path, MINI_KVM_VERSION))
        return -1;
    const struct snap_config *c = snapr_get(r, "config", sizeof(*c));
    if (!c) {
        snapr_close(r);
        return -1;
    }
    if (c->mem != r->h.mem_size || c->ncpus != r->h.ncpus || c->ncpus == 0 ||
        c->ncpus > CLI_MAX_CPUS || c->ndisks > CLI_MAX_DISKS || c->mem % 4096 || !c->mem ||
        c->nnets > VIRTIO_MMIO_MAX) {
        errorf("%s: the snapshot's VM shape is inconsistent", path);
        snapr_close(r);
        return -1;
    }
    /* The strings stay in r->buf: valid until snapr_close. */
    memset(shape, 0, sizeof(*shape));
    shape->mem = c->mem;
    shape->cpus = c->ncpus;
    shape->ndisks = (int)c->ndisks;
    shape->no_rng = !c->rng;
    for (uint32_t i = 0; i < c->ndisks; i++) {
        if (!memchr(c->disks[i], 0, sizeof(c->disks[i]))) {
            errorf("%s: a disk path in the snapshot is not terminated", path);
            snapr_close(r);
            return -1;
        }
        shape->disks[i] = c->disks[i];
    }
    shape->nnets = (int)c->nnets;
    for (uint32_t i = 0; i < c->nnets; i++) {
        struct cli_net *n = &shape->nets[i];
        if (!memchr(c->nets[i].tap, 0, sizeof(c->nets[i].tap)) || !c->nets[i].tap[0]) {
            errorf("%s: a network interface name in the snapshot is not terminated", path);
            snapr_close(r);
            return -1;
        }
        memcpy(n->tap, c->nets[i].tap, sizeof(n->tap));
        memcpy(n->mac, c->nets[i].mac, 6);
        n->has_mac = true;
        n->no_vhost = true;         /* only the userspace datapath is snapshotted */
    }
    shape->kernel = memchr(c->name, 0, sizeof(c->name)) ? c->name : "guest";
    return 0;
}

/* Every device this VM has must have its record, and no other may be in
 * the file: the same devices in the same order of creation. */
static int check_devices(const struct vm *vm, const struct snap_reader *r)
{
    int n = snapr_count(r, "dev.");
    for (int i = 0; i < vm->nstates; i++) {
        char name[SNAP_NAME];
        snprintf(name, sizeof(name), "dev.%s", vm->states[i].name);
        if (!snapr_get(r, name, vm->states[i].ops->size))
            return -1;
    }
    if (n != vm->nstates) {
        errorf("%s: the snapshot has %d device records, this VM %d devices (another VM "
               "shape)", r->path, n, vm->nstates);
        return -1;
    }
    return 0;
}

/* Replace the anonymous RAM by a private (copy-on-write) mapping of the
 * memory file at the same host addresses, which KVM's memory slots use.
 * Nothing is prefaulted: the guest faults in what it touches. Mapping all
 * the file's data ahead (MADV_POPULATE_READ over its extents) cost a Linux
 * guest in the lab 0.07 s for 92 MiB it mostly does not touch to answer a
 * shell (restore to the answer 0.22 s with, 0.15 s without, 3 interleaved
 * rounds), maps read-only what the guest then writes (a second fault each),
 * and made no difference to our OS (220 KiB of data) on this host
 * (docs/benchmarks.md). */
static int map_memory(struct vm *vm, const char *path)
{
    /* O_NONBLOCK: a FIFO must be refused by fstat, not block open(2). */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        errorf("%s: cannot open the memory file: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != vm->mem.ram_size) {
        errorf("%s: not the snapshot's memory file (%s; expected %llu bytes)", path,
               S_ISREG(st.st_mode) ? "another size" : "not a regular file",
               (unsigned long long)vm->mem.ram_size);
        close(fd);
        return -1;
    }
    uint64_t off = 0;
    for (int i = 0; i < vm->mem.nr; i++) {
        struct mem_region *m = &vm->mem.r[i];
        void *p = mmap(m->host, m->size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_FIXED | MAP_NORESERVE, fd, (off_t)off);
        if (p == MAP_FAILED) {
            errorf("%s: cannot map the memory file: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        off += m->size;
    }
    close(fd);      /* the mappings keep the file */
    return 0;
}

int snapshot_apply(struct vm *vm, const struct snap_reader *r, const char *mem)
{
    if (r->h.cpuid_hash != kvmstate_cpuid_hash(vm)) {
        errorf("%s: the snapshot was made on a host with another CPU feature set "
               "(KVM's CPUID differs)", r->path);
        return -1;
    }
    if (check_devices(vm, r) || map_memory(vm, mem) || kvmstate_restore(vm, r))
        return -1;
    for (int i = 0; i < vm->nstates; i++) {
        char name[SNAP_NAME];
        snprintf(name, sizeof(name), "dev.%s", vm->states[i].name);
        if (vm->states[i].ops->restore(vm->states[i].dev,
                                       snapr_get(r, name, vm->states[i].ops->size)))
            return -1;
    }
    return 0;
}
