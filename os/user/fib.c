/* fib.c - prints the first N Fibonacci numbers (default 20): pure user-mode
 * computation with 64-bit arithmetic. Usage: fib [N] */
#include "ulib.h"

int main(char *args)
{
    long n = *args ? atol(args) : 20;
    uint64_t a = 0, b = 1;
    if (n > 93)
        n = 93;                 /* fib(93) is the last that fits in 64 bits */
    for (long i = 0; i < n; i++) {
        printf("%lu%c", a, i + 1 < n ? ' ' : '\n');
        uint64_t t = a + b;
        a = b, b = t;
    }
    return 0;
}
