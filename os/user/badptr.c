/* badptr.c - hands the kernel bad pointers in system calls: each call must
 * fail with -1 instead of crashing the kernel or reaching its memory. */
#include "ulib.h"

static const char *const kernel = (const char *)0x100000;  /* kernel text */
static const char *const unmapped = (const char *)0x8000800000;

int main(char *args)
{
    (void)args;
    char *text = (char *)main;  /* user memory, but read-only */
    char name[] = "hello.txt";
    int r[] = {
        (int)write(kernel, 16),
        (int)write(unmapped, 16),
        (int)write(name, 1ULL << 40),
        (int)read((void *)kernel, 16),
        (int)read(text, 16),
        readfile(kernel, name, 16),
        readfile(name, (void *)kernel, 16),
        readfile(name, text, 16),
        writefile(name, unmapped, 16),
        spawn(unmapped, 0),
        ps((struct procinfo *)kernel, 1),
        sysinfo((struct sysinfo *)text),
    };
    printf("badptr:");
    for (unsigned i = 0; i < sizeof r / sizeof r[0]; i++)
        printf(" %d", r[i]);
    printf("\n");
    return 0;
}
