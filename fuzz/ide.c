/* fuzz/ide.c - libFuzzer target for the IDE (ATA PIO) controller: command
 * block and control register sequences with data, on one or two images. */
#include "fuzz_vm.h"
#include "core/image.h"
#include "devices/ide.h"

#include <sys/stat.h>
#include <unistd.h>

#define SECTORS 40      /* not a multiple of a CHS cylinder: odd geometry */

static void count_irq(void *opaque, int level)
{
    (void)level;
    ++*(unsigned *)opaque;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Byte 0: bit 0 = two drives, bit 1 = the second read-only. */
    struct fuzz_in in = { data, size };
    uint8_t cfg = fuzz_u8(&in);
    int n = cfg & 1 ? 2 : 1;
    /* The images are made and opened once (image_open's open, fstat and
     * locks were a good part of every run): drive 0, drive 1 read-write,
     * drive 1 read-only, each its own file (a kept writer's lock would
     * refuse the reader). Each input gets dups of the kept descriptors
     * (ide_free closes those; the kept one holds the lock). What earlier
     * inputs wrote there steers nothing in the controller. */
    static char path[3][64];
    static struct image kept[3] = { { .fd = -1 }, { .fd = -1 }, { .fd = -1 } };
    static int fd[3] = { -1, -1, -1 };
    struct image img[2];
    for (int i = 0; i < n; i++) {
        int k = i == 1 && (cfg & 2) ? 2 : i;
        if (fd[k] < 0)
            fd[k] = fuzz_scratch_file(path[k], (SECTORS + 24 * i) * 512, NULL, 0);
        if (fd[k] < 0 || (kept[k].fd < 0 && image_open(path[k], k == 2, &kept[k])))
            __builtin_trap();
        img[i] = kept[k];
        if ((img[i].fd = dup(kept[k].fd)) < 0)
            __builtin_trap();
    }
    unsigned irqs = 0;
    struct ide *c = ide_new(img, n, count_irq, &irqs);
    struct fuzz_op op;
    while (fuzz_op_next(&in, &op)) {
        unsigned reg = op.off % 9, len = fuzz_op_len(&op) > 4 ? 4 : fuzz_op_len(&op);
        unsigned count = fuzz_op_kind(&op) == FUZZ_OP_REP ? 1u + op.arg : fuzz_op_count(&op);
        for (unsigned i = count; i; i--)
            ide_port_io(c, reg == 8 ? IDE_CTL_PORT : (uint16_t)(IDE_CMD_BASE + reg), len,
                        fuzz_op_write(&op), op.val);
    }
    ide_free(c);
    for (int i = 0; i < 3; i++) {
        struct stat st;
        if (fd[i] >= 0 && (fstat(fd[i], &st) || st.st_size != (SECTORS + 24 * !!i) * 512))
            __builtin_trap();       /* the controller wrote outside the image */
    }
    return 0;
}
