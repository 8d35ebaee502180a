/* port92.h - system control port A (0x92, "fast A20"): A20 gate bit and a
 * reset bit, as PS/2-era and later PCs have it. */
#ifndef MINI_KVM_PORT92_H
#define MINI_KVM_PORT92_H

#include "arch/layout.h"    /* ports, addresses, IRQs */

struct vm;

#define PORT92_RESET    0x01    /* write 1: reset the machine */
#define PORT92_A20      0x02    /* A20 gate */

int port92_create(struct vm *vm);

#endif
