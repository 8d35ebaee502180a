/* lib.c - string helpers and the printf engine, linked into the kernel and
 * into every user program (each gets its own copy: no shared libraries). */
#include "lib.h"

/* `rep stosb`/`rep movsb` are one instruction each: the kernel's ring-0 code
 * is emulated instruction by instruction on some hosts, so this matters. */
void *memset(void *dst, int c, size_t n)
{
    void *d = dst;
    asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return dst;
}

void *memcpy(void *dst, const void *src, size_t n)
{
    void *d = dst;
    asm volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
    return dst;
}

/* `repne scasb`: one instruction, like the two above. */
void *memchr(const void *s, int c, size_t n)
{
    const unsigned char *p = s;
    if (!n)
        return 0;
    asm volatile("repne scasb" : "+D"(p), "+c"(n) : "a"(c) : "cc", "memory");
    return p[-1] == (unsigned char)c ? (void *)(p - 1) : 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

int strncmp(const char *a, const char *b, size_t n)
{
    for (; n > 0; n--, a++, b++) {
        if (*a != *b || *a == 0)
            return (unsigned char)*a - (unsigned char)*b;
    }
    return 0;
}

int strcmp(const char *a, const char *b)
{
    return strncmp(a, b, (size_t)-1);
}

/* Copy at most size-1 bytes and always terminate (unlike strncpy). */
void strlcopy(char *dst, const char *src, size_t size)
{
    size_t i = 0;
    for (; i + 1 < size && src[i]; i++)
        dst[i] = src[i];
    if (size > 0)
        dst[i] = 0;
}

static void pad(void (*out)(char, void *), void *arg, int n, char c)
{
    while (n-- > 0)
        out(c, arg);
}

/* Supports %c %s %d %u %x %p, the l modifier, and a width with - or 0. */
void vformat(void (*out)(char, void *), void *arg, const char *fmt, va_list ap)
{
    char num[24];
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            out(*fmt, arg);
            continue;
        }
        int left = 0, zero = 0, width = 0, islong = 0;
        if (*++fmt == '-')
            left = 1, fmt++;
        if (*fmt == '0')
            zero = 1, fmt++;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        if (*fmt == 'l')
            islong = 1, fmt++;
        const char *s = num;
        char c = *fmt;
        if (c == 's') {
            s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
        } else if (c == 'c') {
            num[0] = (char)va_arg(ap, int), num[1] = 0;
        } else if (c == 'd' || c == 'u' || c == 'x' || c == 'p') {
            uint64_t v = (c == 'p' || islong) ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
            int neg = c == 'd' && (islong ? (int64_t)v < 0 : (int)v < 0);
            if (neg)
                v = islong ? -v : (uint64_t)-(int64_t)(int)v;
            unsigned base = (c == 'x' || c == 'p') ? 16 : 10;
            int i = sizeof num - 1;
            num[i] = 0;
            do {
                num[--i] = "0123456789abcdef"[v % base];
                v /= base;
            } while (v);
            if (c == 'p')
                num[--i] = 'x', num[--i] = '0';
            if (neg)
                num[--i] = '-';
            s = num + i;
        } else {
            num[0] = c, num[1] = 0;         /* %% and unknown: print it */
        }
        int len = (int)strlen(s);
        if (!left)
            pad(out, arg, width - len, zero ? '0' : ' ');
        while (*s)
            out(*s++, arg);
        if (left)
            pad(out, arg, width - len, ' ');
        if (!*fmt)
            break;
    }
}
