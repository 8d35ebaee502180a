/* crash.c - writes to address N (default 0, a NULL pointer): the page fault
 * kills this process only; the kernel and the shell carry on. */
#include "ulib.h"

int main(char *args)
{
    volatile int *p = (volatile int *)atol(args);
    printf("crash: writing to %p\n", (void *)p);
    *p = 42;
    printf("crash: still alive?\n");
    return 1;
}
