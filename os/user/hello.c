/* hello.c - the smallest user program: one system call to print, one to
 * ask the kernel who we are. */
#include "ulib.h"

int main(char *args)
{
    (void)args;
    printf("Hello from user mode! I am process %d.\n", getpid());
    return 0;
}
