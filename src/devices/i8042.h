/* i8042.h - a PS/2 controller and a keyboard that answers commands: status
 * polling, self-test, the 0xFE reboot, and Ctrl+Alt+Del typed on request. */
#ifndef MINI_KVM_I8042_H
#define MINI_KVM_I8042_H

#include "arch/layout.h"    /* ports, addresses, IRQs */

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct i8042;

/* The controller, owned by vm; NULL after one errorf line. */
struct i8042 *i8042_create(struct vm *vm);

/* Type Ctrl+Alt+Del (pressed, then released) with the keyboard interrupt,
 * Firecracker's SendCtrlAltDel. -1 when the output queue has no room (the
 * guest is not reading its keyboard). Any thread. */
int i8042_ctrl_alt_del(struct i8042 *k);

/* The level it drives on IRQ 1 (tests). */
bool i8042_irq_level(struct i8042 *k);

#endif
