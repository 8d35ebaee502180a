/* x86.h - x86 CPU state at guest entry: real mode, long mode with VMM-built
 * GDT and identity page tables, and CPUID/MSR setup for kernels. */
#ifndef MINI_KVM_X86_H
#define MINI_KVM_X86_H

#include "arch/layout.h"

#include <stdint.h>

struct vm;
struct vcpu;

/* Segment selectors of the VMM-built GDT (X86_GDT_ADDR in layout.h). */
#define X86_CS64       0x10     /* the Linux boot protocol's __BOOT_CS */
#define X86_CS32       0x10     /* the same slot, 32-bit, for x86_enter_prot32 */
#define X86_DS         0x18     /* __BOOT_DS */

/* Real mode: CS=DS=ES=SS=FS=GS=seg, IP=ip, SP=sp, DX=dx. */
int x86_enter_real(struct vcpu *c, uint16_t seg, uint16_t ip, uint16_t sp, uint16_t dx);

/* Write the GDT and identity page tables (first 4 GiB, 2 MiB pages) into
 * guest RAM. Needs at least X86_PT_END bytes of RAM. */
int x86_build_long_mode_tables(struct vm *vm);

/* Long mode entry on one vCPU (tables must exist): RIP, RSP, RSI, RDI. */
int x86_enter_long(struct vcpu *c, uint64_t rip, uint64_t rsp, uint64_t rsi, uint64_t rdi);

/* 32-bit protected mode without paging (Multiboot): writes a flat GDT at
 * X86_GDT_ADDR (CS = X86_CS32, DS..SS = X86_DS), CR0 = PE|ET, EFLAGS = 0x2. */
int x86_enter_prot32(struct vcpu *c, uint32_t eip, uint32_t esp, uint32_t eax, uint32_t ebx);

/* Before the VM's first vCPU: its default TSC rate set to the host's current
 * one (VM-wide KVM_SET_TSC_KHZ, Linux 6.0+; cpu.c says why). */
void x86_setup_tsc_rate(struct vm *vm);

/* CPUID from KVM_GET_SUPPORTED_CPUID (host features only, never forced on)
 * shaped by cpuid_transform(): one package of vm->ncpus cores, this vCPU's
 * APIC id, brand string, TSC-deadline timer, timing leaf (docs/linux-boot.md). */
int x86_setup_cpuid(struct vcpu *c);

/* MSRs a kernel expects at reset (SYSENTER, TSC, MISC_ENABLE...). */
int x86_setup_msrs(struct vcpu *c);

/* Let the in-kernel LAPIC deliver ExtINT/NMI the way a PC wires LINT0/1. */
int x86_setup_lapic(struct vcpu *c);

#endif
