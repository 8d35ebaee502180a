/* pm.h - ACPI fixed hardware: PM1a event/control blocks (poweroff via S5),
 * the 3.579545 MHz PM timer, and the reset register (port 0xCF9). */
#ifndef MINI_KVM_PM_H
#define MINI_KVM_PM_H

#include <stdint.h>

struct vm;

#define PM_BASE         0x600
#define PM_LEN          0x10
#define PM1A_EVT_BLK    0x600   /* PM1_STS (2 bytes), PM1_EN (2 bytes) */
#define PM1A_CNT_BLK    0x604   /* PM1_CNT (2 bytes) */
#define PM_TMR_BLK      0x608   /* PM_TMR (4 bytes, 32-bit counter) */
#define PM1_EVT_LEN     4
#define PM1_CNT_LEN     2
#define PM_TMR_LEN      4
#define PM_TMR_HZ       3579545ULL

#define PM_RESET_PORT   0xCF9   /* FADT RESET_REG */
#define PM_RESET_VALUE  0x06    /* SYS_RST | RST_CPU */

/* PM1_CNT bits */
#define PM1_SCI_EN      0x0001
#define PM1_SLP_TYP(v)  (((v) >> 10) & 7)
#define PM1_SLP_EN      0x2000

int pm_create(struct vm *vm);

#endif
