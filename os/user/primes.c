/* primes.c - the sieve of Eratosthenes up to N (default 100), in a static
 * array: it lives in the program's .bss pages. Usage: primes [N] */
#include "ulib.h"

#define MAX 100000
static char composite[MAX + 1];

int main(char *args)
{
    long n = *args ? atol(args) : 100, count = 0;
    if (n > MAX)
        n = MAX;
    for (long i = 2; i <= n; i++) {
        if (composite[i])
            continue;
        printf("%s%ld", count == 0 ? "" : count % 10 ? " " : "\n", i);
        count++;
        for (long j = i * i; j <= n; j += i)
            composite[j] = 1;
    }
    printf("\n%ld primes up to %ld\n", count, n);
    return 0;
}
