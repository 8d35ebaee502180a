/* spin.c - burns CPU without ever making a system call, so only the timer
 * interrupt can take the CPU back: run `spin &` to watch preemption. */
#include "ulib.h"

int main(char *args)
{
    long rounds = *args ? atol(args) : -1;      /* default: forever */
    for (long r = 0; r != rounds; r++)
        for (volatile long i = 0; i < 10000000; i++)
            ;
    printf("spin: done\n");
    return 0;
}
