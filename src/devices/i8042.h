/* i8042.h - a PS/2 controller with nothing plugged in: enough for status
 * polling, the self-test and the 0xFE "pulse reset line" reboot. */
#ifndef MINI_KVM_I8042_H
#define MINI_KVM_I8042_H

#include <stdint.h>

struct vm;

#define I8042_DATA_PORT 0x60
#define I8042_CMD_PORT  0x64

int i8042_create(struct vm *vm);

#endif
