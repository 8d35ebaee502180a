/* i8042.h - a PS/2 controller with nothing plugged in: enough for status
 * polling, the self-test and the 0xFE "pulse reset line" reboot. */
#ifndef MINI_KVM_I8042_H
#define MINI_KVM_I8042_H

#include "arch/layout.h"    /* ports, addresses, IRQs */

#include <stdint.h>

struct vm;


int i8042_create(struct vm *vm);

#endif
