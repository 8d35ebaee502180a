/* hypercall.h - the teaching hypercall device on port 0x500 (ABI version 1,
 * docs/hypercalls.md): exit, putchar, getchar, write, readline... */
#ifndef MINI_KVM_HYPERCALL_H
#define MINI_KVM_HYPERCALL_H

#include <stdint.h>

struct vm;

#define HC_PORT 0x500
#define HC_ABI_VERSION 1

enum hc_func {
    HC_EXIT = 0, HC_PUTCHAR = 1, HC_GETCHAR = 2, HC_EXIT_CODE = 3,
    HC_WRITE = 4, HC_READLINE = 5, HC_VERSION = 6, HC_NOP = 7,
};

/* Name of a function for messages, or NULL when unknown. */
const char *hc_name(unsigned func);

int hypercall_create(struct vm *vm);

#endif
