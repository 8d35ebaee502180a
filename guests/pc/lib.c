/* lib.c - the kernel's small library: polled COM1 output (as xv6's uartputc),
 * a printf with %d %u %x %s %c and widths, mem* for gcc, and the exit. */
#include "pc.h"
#include "../../src/abi/mkvm_abi.h"   /* the exit hypercall */

#define COM1 0x3F8

static int nfails;
static const char *failed[16];      /* the steps that failed, once each */
static int nfailed;

static void putc(char c)
{
    /* LSR bit 5 = THR empty; bounded like xv6 (a missing UART reads 0xFF). */
    for (int i = 0; i < 128 && !(inb(COM1 + 5) & 0x20); i++)
        pause();
    outb(COM1, (uint8_t)c);
}

static void putnum(uint32_t v, unsigned base, int width, char pad, int neg)
{
    char buf[12];
    int n = 0;
    do {
        buf[n++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    if (neg)
        buf[n++] = '-';
    while (width-- > n)
        putc(pad);
    while (n)
        putc(buf[--n]);
}

static void vprint(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            putc(*fmt);
            continue;
        }
        char pad = ' ';
        int width = 0;
        if (*++fmt == '0')
            pad = '0', fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        switch (*fmt) {
        case 'd': {
            int v = va_arg(ap, int);
            putnum(v < 0 ? -(uint32_t)v : (uint32_t)v, 10, width, pad, v < 0);
            break;
        }
        case 'u': putnum(va_arg(ap, uint32_t), 10, width, pad, 0); break;
        case 'x': putnum(va_arg(ap, uint32_t), 16, width, pad, 0); break;
        case 'c': putc((char)va_arg(ap, int)); break;
        case 's':
            for (const char *s = va_arg(ap, const char *); *s; s++)
                putc(*s);
            break;
        case '%': putc('%'); break;
        default: putc('%'); putc(*fmt); break;
        case 0: return;
        }
    }
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprint(fmt, ap);
    va_end(ap);
}

static int streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/* A failed check: one line naming the step; the run goes on to the next step
 * so that one report shows everything that is wrong. */
int fail(const char *step, const char *fmt, ...)
{
    va_list ap;
    kprintf("FAIL %s: ", step);
    va_start(ap, fmt);
    vprint(fmt, ap);
    va_end(ap);
    kprintf("\n");
    nfails++;
    for (int i = 0; i < nfailed; i++)
        if (streq(failed[i], step))
            return -1;
    if (nfailed < 16)
        failed[nfailed++] = step;
    return -1;
}

/* The last line a test looks for, and the guest's exit status. */
void finish(void)
{
    if (!nfails) {
        kprintf("PC-TEST PASS\n");
        exit_guest(0);
    }
    kprintf("PC-TEST FAIL:");
    for (int i = 0; i < nfailed; i++)
        kprintf(" %s", failed[i]);
    kprintf(" (%d check(s) failed)\n", nfails);
    exit_guest(1);
}

void exit_guest(int status)
{
    __asm__ volatile("outb %%al, %%dx" : : "a"(MKVM_HC_EXIT_CODE), "b"(status), "d"(MKVM_HC_PORT));
    for (;;)
        __asm__ volatile("cli; hlt");
}

void *memcpy(void *d, const void *s, uint32_t n)
{
    uint8_t *dp = d;
    const uint8_t *sp = s;
    while (n--)
        *dp++ = *sp++;
    return d;
}

void *memset(void *d, int c, uint32_t n)
{
    uint8_t *dp = d;
    while (n--)
        *dp++ = (uint8_t)c;
    return d;
}

int memcmp(const void *a, const void *b, uint32_t n)
{
    const uint8_t *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y)
            return *x - *y;
    return 0;
}
