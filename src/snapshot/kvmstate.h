/* kvmstate.h - the VM's and each vCPU's state that lives inside KVM, read
 * into snapshot sections and written back, one ioctl pair per piece. */
#ifndef MINI_KVM_KVMSTATE_H
#define MINI_KVM_KVMSTATE_H

#include <stdint.h>

struct vm;
struct snap_writer;
struct snap_reader;

/* Sections "vm.*" and "cpuN.*". Return 0, or -1 after errorf naming the
 * ioctl that failed (docs/snapshot.md lists what kvm_pvm refuses). */
int kvmstate_save(struct vm *vm, struct snap_writer *w);
int kvmstate_restore(struct vm *vm, const struct snap_reader *r);

/* FNV-1a over KVM_GET_SUPPORTED_CPUID without the APIC IDs: "the same CPU
 * feature set". */
uint64_t kvmstate_cpuid_hash(struct vm *vm);

#endif
