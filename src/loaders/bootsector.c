/* bootsector.c - booting a raw disk image like a PC without firmware: the
 * 512-byte boot sector goes to 0x7C00 and runs in real mode, DL = 0x80. */
#include "loader.h"
#include "arch/layout.h"
#include "core/util.h"
#include "core/vm.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The first sector of the file, or -1 after one line. Only 512 bytes are
 * read: the image's size and locking are the IDE device's business. */
static int read_sector0(const char *path, uint8_t *sec, size_t *got)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);   /* never block on a FIFO */
    if (fd < 0) {
        errorf("%s: cannot open disk image: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    const char *bad = NULL;
    if (fstat(fd, &st) < 0)
        bad = strerror(errno);
    else if (S_ISDIR(st.st_mode))
        bad = "is a directory";
    else if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
        bad = "is not a regular file or block device";
    *got = 0;
    while (!bad && *got < BOOTSECT_SIZE) {
        ssize_t r = pread(fd, sec + *got, BOOTSECT_SIZE - *got, (off_t)*got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            bad = strerror(errno);
        if (r <= 0)
            break;
        *got += (size_t)r;
    }
    close(fd);
    if (bad) {
        errorf("%s: cannot read the boot sector: %s", path, bad);
        return -1;
    }
    return 0;
}

int bootsector_load(struct vm *vm, const char *path, struct boot_entry *e)
{
    uint8_t sec[BOOTSECT_SIZE];
    size_t got;
    if (read_sector0(path, sec, &got))
        return -1;
    if (got < BOOTSECT_SIZE) {
        errorf("%s: not a boot disk (%s)", path,
               got ? "shorter than one 512-byte sector" : "the image is empty");
        return -1;
    }
    if (sec[510] != 0x55 || sec[511] != 0xAA) {
        errorf("%s: not a boot disk (no 0x55AA signature at byte 510)", path);
        return -1;
    }
    /* The stack grows down from 0x7C00, so the whole first 32 KiB must be RAM. */
    if (!guest_ptr(&vm->mem, 0, BOOTSECT_ADDR + BOOTSECT_SIZE) ||
        guest_write(&vm->mem, BOOTSECT_ADDR, sec, BOOTSECT_SIZE)) {
        errorf("%s: a disk boot needs at least 32K of guest RAM", path);
        return -1;
    }
    *e = (struct boot_entry){
        .long_mode = false, .seg = 0, .ip = BOOTSECT_ADDR, .sp = BOOTSECT_ADDR,
        .dx = BOOT_DRIVE_HD0,
    };
    return 0;
}
