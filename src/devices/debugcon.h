/* debugcon.h - the QEMU/Bochs debug console (port 0xE9): a byte written is
 * printed on the guest's console; a read answers 0xE9 ("present"). */
#ifndef MINI_KVM_DEBUGCON_H
#define MINI_KVM_DEBUGCON_H

#include "arch/layout.h"    /* ports, addresses, IRQs */

struct vm;


int debugcon_create(struct vm *vm);

#endif
