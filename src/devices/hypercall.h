/* hypercall.h - the teaching hypercall device on port 0x500 (ABI version 1,
 * docs/hypercalls.md): exit, putchar, getchar, write, readline... */
#ifndef MINI_KVM_HYPERCALL_H
#define MINI_KVM_HYPERCALL_H

#include "abi/mkvm_abi.h"     /* MKVM_HC_PORT, the function numbers */

#include <stdint.h>

struct vm;

int hypercall_create(struct vm *vm);

#endif
