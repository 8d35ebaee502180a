/* debug_exit.h - QEMU's isa-debug-exit at port 0xF4: writing v stops the VM
 * with exit status (v << 1) | 1, as the OS reports it: the low 8 bits. */
#ifndef MINI_KVM_DEBUG_EXIT_H
#define MINI_KVM_DEBUG_EXIT_H

#include "arch/layout.h"    /* ports, addresses, IRQs */

#include <stdint.h>

struct vm;

#define DEBUG_EXIT_LEN  4       /* so that 2- and 4-byte writes at 0xF4 reach it */

/* The process exit status for a written value: ((v << 1) | 1) & 0xFF,
 * always odd, never 0 (0x31 -> 99, 0x7F -> 255, 0x80 -> 1). */
int debug_exit_status(uint64_t v);

int debug_exit_create(struct vm *vm);

#endif
