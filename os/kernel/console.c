/* console.c - the COM1 16550 UART: output in 16-byte bursts, interrupt-driven
 * input into a ring buffer; kprintf, panic and the hypercall ending the VM. */
#include "kernel.h"
#include "../../src/abi/mkvm_abi.h"   /* the exit hypercall */

#define COM1 0x3F8
enum { RBR = 0, IER = 1, FCR = 2, LCR = 3, MCR = 4, LSR = 5 };
#define LSR_DATA 0x01           /* a received byte is waiting */
#define LSR_THRE 0x20           /* the transmit FIFO is empty */
#define UART_FIFO 16            /* a 16550's transmit FIFO */

/* Bytes typed but not yet read. The interrupt handler is the only writer
 * and a sleeping reader is woken through &rx; the kernel runs with
 * interrupts off, so no lock is needed on one CPU. */
static struct {
    char buf[256];
    uint32_t r, w;              /* free-running; index with % sizeof buf */
} rx;

void uart_init(void)
{
    outb(COM1 + IER, 0);        /* no interrupts while we set it up */
    outb(COM1 + LCR, 0x80);     /* DLAB: the next two are the divisor */
    outb(COM1 + 0, 1);          /* 115200 baud */
    outb(COM1 + 1, 0);
    outb(COM1 + LCR, 0x03);     /* 8 bits, no parity, 1 stop bit */
    outb(COM1 + FCR, 0x05);     /* FIFOs on; clear TX but keep typed-ahead RX */
    outb(COM1 + MCR, 0x0B);     /* DTR, RTS, and OUT2, which gates the IRQ */
    outb(COM1 + IER, 0x01);     /* interrupt when a byte arrives */
}

/* Send up to 16 bytes. With the FIFOs on, THRE means the whole 16-byte
 * transmit FIFO is empty, so one LSR read covers a burst: in a VM each port
 * access is an exit (~30 us on a software KVM), and polling LSR before
 * every byte doubled the cost of output. (`rep outsb` was slower still on
 * kvm_pvm, which emulates it a byte at a time.) */
static void uart_burst(const char *p, uint64_t n)
{
    while (!(inb(COM1 + LSR) & LSR_THRE))
        ;
    for (uint64_t i = 0; i < n; i++)
        outb(COM1, (uint8_t)p[i]);
}

/* A terminal needs "\r\n" to start a new line (like a tty's onlcr). */
void cons_write(const char *s, uint64_t len)
{
    char burst[UART_FIFO];
    uint64_t n = 0;
    for (uint64_t i = 0; i < len; i++) {
        if (s[i] == '\n')
            burst[n++] = '\r';
        burst[n++] = s[i];
        if (n >= UART_FIFO - 1) {   /* room for one more "\r\n" */
            uart_burst(burst, n);
            n = 0;
        }
    }
    if (n)
        uart_burst(burst, n);
}

void cons_putc(char c)
{
    cons_write(&c, 1);
}

/* Move waiting bytes from the UART into the ring while it has room. A byte
 * that does not fit stays in the UART, which holds further input back. */
static void uart_drain(void)
{
    while (rx.w - rx.r < sizeof rx.buf && (inb(COM1 + LSR) & LSR_DATA))
        rx.buf[rx.w++ % sizeof rx.buf] = (char)inb(COM1 + RBR);
}

/* IRQ 4: a byte arrived. */
void uart_intr(void)
{
    uart_drain();
    wakeup(&rx);
}

/* Block until a byte arrives, then take every byte waiting, up to n: one
 * system call per burst of typing rather than per byte (a system call is
 * hundreds of emulated kernel instructions on a software KVM). The number
 * of bytes, or -1 if the process is killed meanwhile. The check and the
 * sleep cannot race with uart_intr: interrupts are off. If the ring was
 * full, the UART may hold more: the interrupt is edge-triggered and will
 * not fire again for it, so drain here too. */
int cons_read(char *dst, int n)
{
    uart_drain();
    while (n > 0 && rx.r == rx.w) {
        if (cur->killed)
            return -1;
        sleep(&rx);
    }
    int k = 0;
    while (k < n && rx.r != rx.w)
        dst[k++] = rx.buf[rx.r++ % sizeof rx.buf];
    return k;
}

static void kputc(char c, void *arg)
{
    (void)arg;
    cons_putc(c);
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vformat(kputc, 0, fmt, ap);
    va_end(ap);
}

/* mini-kvm's hypercall port (docs/hypercalls.md): AL=3 ends the VM with
 * status BL. This is how the OS powers off, and how a panic reports. */
void hcall_exit(int status)
{
    asm volatile("outb %%al, %%dx" : : "a"(MKVM_HC_EXIT_CODE), "b"(status), "d"(MKVM_HC_PORT));
    for (;;)
        asm volatile("cli; hlt");
}

void kpanic(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    kprintf("\npanic: %s:%d: ", file, line);
    va_start(ap, fmt);
    vformat(kputc, 0, fmt, ap);
    va_end(ap);
    kprintf("\n");
    hcall_exit(3);
}
