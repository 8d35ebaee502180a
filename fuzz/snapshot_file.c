/* fuzz/snapshot_file.c - libFuzzer target for the snapshot state file (--restore,
 * PUT /snapshot/load): hostile bytes -> header, length and CRC checks -> sections. */
#include "snapshot/snapfile.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Half the inputs get a correct CRC, so the section walk is reached too. */
static void fix_crc(uint8_t *b, size_t n)
{
    if (n >= sizeof(struct snap_header) + 8) {
        uint32_t crc = snap_crc32(b, n - 8);
        memcpy(b + n - 8, &crc, 4);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t buf[1 << 20];
    if (size < 1 || size > sizeof(buf))
        return 0;
    memcpy(buf, data + 1, size - 1);
    size--;
    if (data[0] & 1)
        fix_crc(buf, size);
    if (data[0] & 2 && size >= 32)      /* and the right version, past that check */
        memcpy(buf + 16, "0.1.0\0\0\0\0\0\0\0\0\0\0\0", 16), fix_crc(buf, size);
    /* One memfd for the run, refilled with each input (made and closed per
     * input, with stderr sent to /dev/null and back, it was half the time;
     * `fuzz/run.sh` runs with -close_fd_mask=3, so refusals are quiet). */
    static int fd = -1;
    static char path[64];
    if (fd < 0) {
        fd = memfd_create("snap", MFD_CLOEXEC);
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
    }
    if (fd < 0 || ftruncate(fd, 0) || pwrite(fd, buf, size, 0) != (ssize_t)size)
        __builtin_trap();
    struct snap_reader r;
    if (snapr_open(&r, path, "0.1.0") == 0) {
        static const char *const names[] = { "config", "cpu0.regs", "vm.clock", "dev.serial@0" };
        for (size_t i = 0; i < 4; i++)
            for (size_t len = 0; len < 64; len += 8)
                (void)snapr_get(&r, names[i], len);
        (void)snapr_count(&r, "dev.");
        snapr_close(&r);
    }
    return 0;
}
