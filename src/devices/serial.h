/* serial.h - a 16550A UART (COM1 at 0x3F8, IRQ 4): interrupt-driven with an
 * in-kernel irqchip, polled otherwise; output to the VM's console port. */
#ifndef MINI_KVM_SERIAL_H
#define MINI_KVM_SERIAL_H

#include "arch/layout.h"    /* ports, addresses, IRQs */

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct serial;

#define SERIAL_PORTS     8
#define SERIAL_FIFO      16     /* the 16550A receive FIFO */

/* Register offsets from the base port. */
enum serial_reg {
    UART_RBR = 0, UART_THR = 0, UART_DLL = 0,
    UART_IER = 1, UART_DLM = 1,
    UART_IIR = 2, UART_FCR = 2,
    UART_LCR = 3, UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,
};

/* Bits used by the device and its tests. */
#define UART_IER_RDI   0x01     /* received data available */
#define UART_IER_THRI  0x02     /* transmitter holding register empty */
#define UART_IER_RLSI  0x04     /* receiver line status */
#define UART_IER_MSI   0x08     /* modem status */

#define UART_IIR_NONE  0x01     /* no interrupt pending */
#define UART_IIR_MSI   0x00
#define UART_IIR_THRI  0x02
#define UART_IIR_RDI   0x04
#define UART_IIR_RLSI  0x06
#define UART_IIR_ID    0x0F
#define UART_IIR_FIFO  0xC0     /* FIFOs enabled */

#define UART_FCR_ENABLE   0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_FCR_CLEAR_TX 0x04

#define UART_LCR_DLAB  0x80

#define UART_MCR_DTR   0x01
#define UART_MCR_RTS   0x02
#define UART_MCR_OUT1  0x04
#define UART_MCR_OUT2  0x08
#define UART_MCR_LOOP  0x10

#define UART_LSR_DR    0x01
#define UART_LSR_OE    0x02
#define UART_LSR_THRE  0x20
#define UART_LSR_TEMT  0x40

#define UART_MSR_DELTA 0x0F     /* DCTS, DDSR, TERI, DDCD */
#define UART_MSR_CTS   0x10
#define UART_MSR_DSR   0x20
#define UART_MSR_RI    0x40
#define UART_MSR_DCD   0x80

/* Create the UART at ports [base, base+8), registered on vm->pio and owned
 * by the VM. Output goes to vm->con; input comes from it when that port owns
 * stdin. With vm->irqchip the line `irq` follows "an interrupt is pending";
 * without it the guest polls LSR. Returns NULL after printing an error. */
struct serial *serial_create(struct vm *vm, uint16_t base, unsigned irq);
/* The same UART for a machine without interrupts (flat guests): no IRQ, and
 * console input is pulled only when the guest polls LSR or reads RBR. */
struct serial *serial_create_polled(struct vm *vm, uint16_t base);

/* The level last driven on the IRQ line (tracked in polled mode too), and
 * how many rising edges it has had (for tests). */
bool serial_irq_level(struct serial *s);
unsigned serial_irq_edges(struct serial *s);

#endif
