/* pm.h - ACPI fixed hardware: PM1a event/control blocks (poweroff via S5),
 * the 3.579545 MHz PM timer, and the reset register (port 0xCF9). */
#ifndef MINI_KVM_PM_H
#define MINI_KVM_PM_H

#include "arch/layout.h"    /* ports, addresses, IRQs */

#include <stdint.h>

struct vm;

#define PM_TMR_HZ       3579545ULL


/* PM1_CNT bits */
#define PM1_SCI_EN      0x0001
#define PM1_SLP_TYP(v)  (((v) >> 10) & 7)
#define PM1_SLP_EN      0x2000

int pm_create(struct vm *vm);

#endif
