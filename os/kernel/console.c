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

/* Room left in the transmit FIFO since the last LSR read said it was
 * empty. Time only drains a FIFO, so what was free then is free still: one
 * LSR read (an exit) per 16 bytes, however the bytes come (kprintf sends
 * one character per call). Interrupts are off in the kernel: no lock. */
static uint64_t tx_room;

/* Send n bytes: a run of `outsb`, one instruction per byte, entered at the
 * right place in 16 of them. Each port access is an exit and the kernel's
 * own instructions are emulated one by one on a software KVM (~1.5 us
 * each), so the old copy-and-loop (17 instructions a byte) cost more than
 * the exits themselves. (`rep outsb` was slower on kvm_pvm, which restarts
 * it after every byte's exit.) */
static void uart_send(const char *p, uint64_t n)
{
    while (n) {
        if (!tx_room) {
            while (!(inb(COM1 + LSR) & LSR_THRE))
                ;
            tx_room = UART_FIFO;
        }
        uint64_t k = n < tx_room ? n : tx_room;
        tx_room -= k;
        n -= k;
        asm volatile("lea 2f(%%rip), %%rax\n\t"
                     "sub %[k], %%rax\n\t"
                     "jmp *%%rax\n\t"
                     ".rept 16\n\toutsb\n\t.endr\n"
                     "2:"
                     : "+S"(p) : [k] "r"(k), "d"(COM1) : "rax", "memory");
    }
}

/* A terminal needs "\r\n" to start a new line (like a tty's onlcr): the
 * text between newlines goes out as it is, found with memchr (`repne
 * scasb`, one instruction). */
void cons_write(const char *s, uint64_t len)
{
    while (len) {
        const char *nl = memchr(s, '\n', len);
        uint64_t n = nl ? (uint64_t)(nl - s) : len;
        uart_send(s, n);
        if (!nl)
            return;
        uart_send("\r\n", 2);
        s = nl + 1;
        len -= n + 1;
    }
}

void cons_putc(char c)
{
    cons_write(&c, 1);
}

/* Move waiting bytes from the UART into the ring while it has room. A byte
 * that does not fit stays in the UART, which holds further input back. */
static void uart_drain(void)
{
    for (;;) {
        /* the free part of the ring up to its end, filled by `insb`:
         * 7 instructions a byte, half of what C made of it */
        uint32_t at = rx.w % sizeof rx.buf;
        uint64_t room = sizeof rx.buf - (rx.w - rx.r), left;
        if (room > sizeof rx.buf - at)
            room = sizeof rx.buf - at;
        if (!room)
            return;
        char *p = rx.buf + at;
        asm volatile("1: mov %[lsr], %%dx\n\t"
                     "in (%%dx), %%al\n\t"
                     "test %[data], %%al\n\t"
                     "jz 2f\n\t"
                     "mov %[rbr], %%dx\n\t"
                     "insb\n\t"
                     "dec %%rcx\n\t"
                     "jnz 1b\n"
                     "2:"
                     : "+D"(p), "=c"(left)
                     : "1"(room), [lsr] "i"(COM1 + LSR), [rbr] "i"(COM1 + RBR),
                       [data] "i"(LSR_DATA)
                     : "rax", "rdx", "cc", "memory");
        rx.w += (uint32_t)(room - left);
        if (left)
            return;     /* the UART is empty */
    }
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
    /* at most two pieces of the ring, each one `rep movsb` */
    int k = 0;
    while (k < n && rx.r != rx.w) {
        uint32_t at = rx.r % sizeof rx.buf, w = rx.w % sizeof rx.buf;
        uint32_t piece = w > at ? w - at : (uint32_t)sizeof rx.buf - at;
        if (piece > (uint32_t)(n - k))
            piece = (uint32_t)(n - k);
        memcpy(dst + k, rx.buf + at, piece);
        k += (int)piece;
        rx.r += piece;
    }
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
