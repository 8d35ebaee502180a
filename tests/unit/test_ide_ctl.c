/* test_ide_ctl.c - the IDE controller's interrupt line, reset and bad
 * guests, and ide_create on a port bus with good and bad images. */
#include "ide_driver.h"
#include "fake_vm.h"

#include "core/bus.h"
#include "core/vm.h"

#include <pthread.h>
#include <stdatomic.h>

static void test_nien_and_ack(void **state)
{
    struct fixture *f = *state;
    out(f, CTL, 1, IDE_CTL_NIEN);
    cmd28(f, 0, 1, 2, 0x20);
    assert_int_equal(f->edges, 0);              /* masked: no edge */
    assert_int_equal(altstatus(f), READY | IDE_DRQ);
    out(f, CTL, 1, 0);                          /* unmasking delivers nothing stale */
    assert_int_equal(f->edges, 0);
    uint8_t buf[512];
    pio_in(f, buf, 4);
    assert_int_equal(f->edges, 1);              /* sector 2 ready, now unmasked */
    assert_int_equal(altstatus(f), READY | IDE_DRQ);
    assert_int_equal(f->level, 1);              /* alternate status does not ack */
    out(f, CTL, 1, IDE_CTL_NIEN);               /* masking drops the line */
    assert_int_equal(f->level, 0);
    out(f, CTL, 1, 0);                          /* unmasking a pending one raises it */
    assert_int_equal(f->level, 1);
    assert_int_equal(f->edges, 2);
    assert_int_equal(status(f), READY | IDE_DRQ);
    assert_int_equal(f->level, 0);              /* the status read acks */
}

static void test_fresh_edge_without_ack(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[512];
    cmd28(f, 0, 1, 3, 0x20);
    for (int s = 0; s < 3; s++) {
        assert_int_equal(f->edges, s + 1);      /* one edge per sector ... */
        assert_int_equal(altstatus(f), READY | IDE_DRQ);
        pio_in(f, buf, 2);                      /* ... though never acknowledged */
    }
    cmd28(f, 0, 1, 1, 0x20);                    /* a new command lowers, then raises */
    assert_int_equal(f->edges, 4);
}

static void test_soft_reset(void **state)
{
    struct fixture *f = *state;
    cmd28(f, 0, 50, 4, 0x20);                   /* leave a transfer half done */
    out(f, CTL, 1, IDE_CTL_SRST);
    assert_int_equal(f->level, 0);
    assert_int_equal(status(f), IDE_BSY | IDE_DSC);
    cmd28(f, 0, 0, 1, 0xEC);                    /* ignored while in reset */
    assert_int_equal(f->edges, 1);
    out(f, CTL, 1, 0);
    assert_int_equal(status(f), READY);
    assert_int_equal(in(f, CMD(IDE_ERROR), 1), 1);
    assert_int_equal(in(f, CMD(IDE_NSECT), 1), 1);
    assert_int_equal(in(f, CMD(IDE_LBAL), 1), 1);
    assert_int_equal(in(f, CMD(IDE_LBAM), 1), 0);
    assert_int_equal(in(f, CMD(IDE_LBAH), 1), 0);
    assert_int_equal(in(f, CMD(IDE_SELECT), 1), 0xA0);
    assert_int_equal(in(f, CMD(IDE_DATA), 4), 0);   /* the transfer is gone */
    cmd28(f, 0, 50, 1, 0x20);                   /* and the drive works */
    read_sectors(f, 0, 50, 1, 4);
}

/* Another vCPU polling the side-effect-free registers while this one reads
 * sectors: the data stays intact (one mutex serialises the accesses). */
struct poller {
    struct ide *c;
    atomic_bool stop;
    atomic_ulong polls;
};

static void *poll_registers(void *arg)
{
    struct poller *p = arg;
    while (!atomic_load(&p->stop)) {
        ide_port_io(p->c, IDE_CTL_PORT, 1, false, 0);
        ide_port_io(p->c, IDE_CMD_BASE + IDE_ERROR, 1, false, 0);
        ide_port_io(p->c, IDE_CMD_BASE + IDE_LBAL, 1, false, 0);
        atomic_fetch_add(&p->polls, 1);
    }
    return NULL;
}

static void test_concurrent_vcpus(void **state)
{
    struct fixture *f = *state;
    struct poller p = { .c = f->c };
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, poll_registers, &p), 0);
    while (atomic_load(&p.polls) == 0)
        ;                                       /* the poller is running */
    /* Read until the poller has had many turns (it runs freely, so this
     * ends quickly); every sector must still arrive intact. */
    for (unsigned round = 0; round < 20 || atomic_load(&p.polls) < 1000; round++) {
        uint32_t lba = round * 10 % (SECTORS - 10);
        cmd28(f, 0, lba, 10, 0x20);
        read_sectors(f, 0, lba, 10, round & 1 ? 2 : 4);
    }
    atomic_store(&p.stop, true);
    assert_int_equal(pthread_join(t, NULL), 0);
}

/* A guest writing nonsense: nothing crashes, nothing lands outside the
 * image, the read-only drive is untouched, and the controller recovers. */
static void test_garbage(void **state)
{
    struct fixture *f = *state;
    ide_free(f->c);
    make(f, 2, true);
    unsigned seed = 12345;
    static const unsigned lens[] = { 1, 2, 4 };
    for (int i = 0; i < 200000; i++) {
        seed = seed * 1103515245 + 12345;
        unsigned r = seed >> 8;
        uint16_t port = (r & 15) < 9 ? (uint16_t)(IDE_CMD_BASE + (r & 15) % 8) : CTL;
        unsigned len = port == CTL ? 1 : lens[(r >> 4) % 3];
        bool write = (r >> 6) & 3;
        uint32_t v = seed * 2654435761u;
        if ((r >> 8 & 15) == 0 && port == CMD(IDE_COMMAND))
            v = 0x30;                           /* a real write now and then */
        if (port == CTL)
            v &= ~IDE_CTL_SRST | (r >> 9 & IDE_CTL_SRST);
        ide_port_io(f->c, port, len, write, v);
    }
    assert_pattern_except(f->path[0], 0, 0, 0);
    struct stat st;
    assert_int_equal(stat(f->path[1], &st), 0);
    assert_int_equal(st.st_size, SECTORS * 512);
    out(f, CTL, 1, IDE_CTL_SRST);
    out(f, CTL, 1, 0);
    status(f);
    assert_int_equal(f->level, 0);
    cmd28(f, 0, 33, 1, 0x20);
    read_sectors(f, 0, 33, 1, 2);
    assert_int_equal(ide_port_io(f->c, 0x1F8, 1, false, 0), 0);     /* not ours */
}

/* ---- the VM face: ports on the bus ---- */

static void test_create_on_bus(void **state)
{
    struct fixture *f = *state;
    struct vm vm;
    fake_vm_init(&vm, 0);
    struct ide_drive_cfg cfg[2] = { { f->path[0], false }, { f->path[1], true } };
    assert_int_equal(ide_create(&vm, cfg, 2), 0);
    const struct bus_range *r = bus_find(&vm.pio, 0x1F7, 1);
    assert_non_null(r);
    assert_string_equal(r->name, "ide");
    assert_string_equal(bus_find(&vm.pio, 0x3F6, 1)->name, "ide-ctl");
    uint8_t d[4] = { 0 };
    struct io_req req = { .addr = 0x1F7, .data = d, .len = 1 };
    assert_int_equal(bus_access(&vm.pio, &req), IO_OK);
    assert_int_equal(d[0], READY);
    req = (struct io_req){ .addr = 0x3F6, .data = d, .len = 1 };
    assert_int_equal(bus_access(&vm.pio, &req), IO_OK);
    assert_int_equal(d[0], READY);
    vm_release_devices(&vm);                   /* closes the images: locks gone */
    struct image img;
    assert_int_equal(image_open(f->path[0], false, &img), 0);
    image_close(&img);
}

/* Run ide_create on bad input and return its stderr. */
static char *create_error(const struct ide_drive_cfg *cfg, int n, char *buf, size_t size)
{
    struct vm vm;
    fake_vm_init(&vm, 0);
    struct capture c;
    capture_begin(&c);
    int r = ide_create(&vm, cfg, n);
    capture_end(&c, buf, size);
    assert_int_equal(r, -1);
    assert_int_equal(vm.pio.nr, 0);             /* nothing registered */
    assert_int_equal(vm.nowned, 0);
    return buf;
}

/* Bad files are core/image.c's (test_image.c); here: they stop ide_create
 * cleanly, and the same image as master and slave is refused. */
static void test_create_bad_input(void **state)
{
    struct fixture *f = *state;
    char msg[512], want[512];
    write_image(f->path[0], 0, 1000);
    struct ide_drive_cfg cfg[2] = { { f->path[1], false }, { f->path[0], false } };
    snprintf(want, sizeof(want),
             "mini-kvm: %s: disk image size 1000 is not a multiple of 512\n", f->path[0]);
    assert_string_equal(create_error(cfg, 2, msg, sizeof(msg)), want);
    cfg[1].path = f->path[1];
    snprintf(want, sizeof(want),
             "mini-kvm: %s: disk image is in use (by another process, or given twice)\n",
             f->path[1]);
    assert_string_equal(create_error(cfg, 2, msg, sizeof(msg)), want);
    cfg[1].ro = true;                           /* read-only beside read-write: still no */
    assert_string_equal(create_error(cfg, 2, msg, sizeof(msg)), want);
    assert_non_null(strstr(create_error(cfg, 0, msg, sizeof(msg)), "1 or 2 disks, not 0"));
    assert_non_null(strstr(create_error(cfg, 3, msg, sizeof(msg)), "1 or 2 disks, not 3"));
    struct image img;                           /* the first image was closed again */
    assert_int_equal(image_open(f->path[1], false, &img), 0);
    image_close(&img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_nien_and_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fresh_edge_without_ack, setup, teardown),
        cmocka_unit_test_setup_teardown(test_soft_reset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_vcpus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_on_bus, setup_files, teardown),
        cmocka_unit_test_setup_teardown(test_create_bad_input, setup_files, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
