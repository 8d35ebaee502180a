/* test_ide.c - the IDE controller's commands and data transfers, driven
 * through its ports like a guest driver would, on temporary images. */
#include "ide_driver.h"
#include "fake_vm.h"

/* ---- tests ---- */

static void test_identify(void **state)
{
    struct fixture *f = *state;
    uint16_t w[256];
    cmd28(f, 0, 0, 0, 0xEC);
    assert_int_equal(f->edges, 1);
    assert_int_equal(status(f), READY | IDE_DRQ);
    pio_in(f, (uint8_t *)w, 2);
    assert_int_equal(status(f), READY);         /* one block, no more data */
    assert_int_equal(f->edges, 1);
    char model[41];
    for (int i = 0; i < 20; i++) {
        model[2 * i] = (char)(w[27 + i] >> 8);
        model[2 * i + 1] = (char)w[27 + i];
    }
    model[40] = 0;
    assert_string_equal(model, "MINI-KVM HARDDISK                       ");
    assert_int_not_equal(w[10], 0x2020);        /* a serial number */
    assert_int_equal(w[0], 0x0040);
    assert_true(w[49] & (1 << 9));              /* LBA */
    assert_int_equal(w[60] | (uint32_t)w[61] << 16, SECTORS);
    assert_true(w[83] & (1 << 10));             /* LBA48 */
    assert_int_equal(w[100], SECTORS);
    assert_int_equal(w[101] | w[102] | w[103], 0);
    assert_true(w[1] >= 1 && w[3] >= 1 && w[3] <= 16 && w[6] >= 1 && w[6] <= 63);
    assert_true((uint32_t)w[1] * w[3] * w[6] <= SECTORS);
    assert_int_equal((uint32_t)w[57] | (uint32_t)w[58] << 16, (uint32_t)w[1] * w[3] * w[6]);
    assert_int_equal(w[47] & 0xFF, 16);
    uint8_t sum = 0;
    for (int i = 0; i < 512; i++)
        sum = (uint8_t)(sum + ((uint8_t *)w)[i]);
    assert_int_equal(w[255] & 0xFF, 0xA5);
    assert_int_equal(sum, 0);                   /* the integrity word checks */
    assert_int_equal(status(f), READY);
}

static void test_read_one_16bit(void **state)
{
    struct fixture *f = *state;
    cmd28(f, 0, 5, 1, 0x20);
    read_sectors(f, 0, 5, 1, 2);
    assert_int_equal(f->edges, 1);
    assert_int_equal(in(f, CMD(IDE_ERROR), 1), 0);
}

static void test_read_several_32bit(void **state)
{
    struct fixture *f = *state;
    cmd28(f, 0, 17, 3, 0x20);
    read_sectors(f, 0, 17, 3, 4);
    assert_int_equal(f->edges, 3);
    cmd28(f, 0, SECTORS - 1, 1, 0x21);          /* the last sector */
    read_sectors(f, 0, SECTORS - 1, 1, 2);
}

static void test_read_8bit(void **state)
{
    struct fixture *f = *state;
    cmd28(f, 0, 2, 1, 0x20);
    read_sectors(f, 0, 2, 1, 1);
}

static void test_count_zero_is_256(void **state)
{
    struct fixture *f = *state;
    cmd28(f, 0, 40, 0, 0x20);
    read_sectors(f, 0, 40, 256, 4);
    assert_int_equal(f->edges, 256);
}

static void test_write_several(void **state)
{
    struct fixture *f = *state;
    write_sectors(f, 100, 3, 2, 0x30);
    assert_written(f, 100, 3);                  /* in the file before the status read */
    assert_int_equal(status(f), READY);
    assert_int_equal(f->level, 0);
}

static void test_write_32bit_then_read_back(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[512];
    write_sectors(f, 7, 2, 4, 0x31);
    assert_int_equal(status(f), READY);
    assert_written(f, 7, 2);
    cmd28(f, 0, 8, 1, 0x20);
    assert_int_equal(status(f), READY | IDE_DRQ);
    pio_in(f, buf, 4);
    for (unsigned i = 0; i < 512; i++)
        assert_int_equal(buf[i], (uint8_t)(0xC3 ^ (31 + i)));
}

static void test_past_the_end(void **state)
{
    struct fixture *f = *state;
    cmd28(f, 0, SECTORS - 1, 2, 0x30);          /* one sector in, one out */
    assert_error(f, IDE_IDNF);
    assert_int_equal(altstatus(f) & IDE_DRQ, 0);
    pio_out(f, (const uint8_t[512]){ 0 }, 2);   /* the guest writes anyway */
    cmd28(f, 0, SECTORS, 1, 0x20);
    assert_error(f, IDE_IDNF);
    cmd28(f, 0, 0x0FFFFFFF, 0, 0x30);
    assert_error(f, IDE_IDNF);
    cmd28(f, 0, SECTORS - 200, 0, 0xC5);        /* 256 sectors, MULTIPLE */
    assert_error(f, IDE_IDNF);
    cmd28(f, 0, SECTORS, 1, 0x40);              /* READ VERIFY */
    assert_error(f, IDE_IDNF);
    assert_pattern_except(f->path[0], 0, 0, 0);
}

static void test_read_only_drive(void **state)
{
    struct fixture *f = *state;
    ide_free(f->c);
    make(f, 1, true);
    cmd28(f, 0, 3, 2, 0x30);
    assert_error(f, IDE_ABRT);
    pio_out(f, (const uint8_t[512]){ 0 }, 4);
    cmd28(f, 0, 3, 2, 0xC5);
    assert_error(f, IDE_ABRT);
    assert_pattern_except(f->path[0], 0, 0, 0);
    cmd28(f, 0, 3, 2, 0x20);                    /* reading still works */
    read_sectors(f, 0, 3, 2, 2);
    cmd28(f, 0, 0, 0, 0xE7);                    /* flush: nothing to do */
    assert_int_equal(status(f), READY);
}

static void test_unknown_commands_abort(void **state)
{
    struct fixture *f = *state;
    const uint8_t cmds[] = { 0xA1, 0x00, 0xFF, 0xA0, 0xC8, 0x25 };
    for (size_t i = 0; i < sizeof(cmds); i++) {
        cmd28(f, 0, 0, 1, cmds[i]);
        assert_error(f, IDE_ABRT);
    }
    cmd28(f, 0, 0, 1, 0xEF);                    /* SET FEATURES: accepted */
    assert_int_equal(status(f), READY);
    assert_int_equal(in(f, CMD(IDE_ERROR), 1), 0);
}

static void test_absent_slave(void **state)
{
    struct fixture *f = *state;
    out(f, CMD(IDE_SELECT), 1, 0xF0);           /* xv6's ideinit probe */
    assert_int_equal(status(f), 0);
    assert_int_equal(altstatus(f), 0);
    cmd28(f, 1, 0, 1, 0xEC);                    /* ignored */
    assert_int_equal(f->edges, 0);
    assert_int_equal(status(f), 0);
    assert_int_equal(in(f, CMD(IDE_DATA), 2), 0);
    out(f, CMD(IDE_SELECT), 1, 0xE0);
    assert_int_equal(status(f), READY);
}

static void test_two_drives(void **state)
{
    struct fixture *f = *state;
    cmd28(f, 1, 9, 2, 0x20);
    read_sectors(f, 1, 9, 2, 4);
    cmd28(f, 0, 9, 2, 0x20);
    read_sectors(f, 0, 9, 2, 4);
    out(f, CMD(IDE_SELECT), 1, 0xF0);
    assert_int_equal(status(f), READY);
}

static void test_data_port_without_drq(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(in(f, CMD(IDE_DATA), 2), 0);
    assert_int_equal(in(f, CMD(IDE_DATA), 4), 0);
    for (int i = 0; i < 300; i++)
        out(f, CMD(IDE_DATA), 4, 0xDEADBEEF);
    assert_int_equal(status(f), READY);
    assert_int_equal(f->edges, 0);
    cmd28(f, 0, 4, 1, 0x20);                    /* writes during a read are dropped */
    out(f, CMD(IDE_DATA), 2, 0xFFFF);
    read_sectors(f, 0, 4, 1, 2);
    assert_pattern_except(f->path[0], 0, 0, 0);
}

static void test_chs(void **state)
{
    struct fixture *f = *state;
    uint16_t w[256];
    cmd28(f, 0, 0, 0, 0xEC);
    pio_in(f, (uint8_t *)w, 2);
    unsigned heads = w[3], spt = w[6];
    /* cylinder 0, head 1, sector 3 */
    out(f, CMD(IDE_NSECT), 1, 2);
    out(f, CMD(IDE_LBAL), 1, 3);
    out(f, CMD(IDE_LBAM), 1, 0);
    out(f, CMD(IDE_LBAH), 1, 0);
    out(f, CMD(IDE_SELECT), 1, 0xA1);
    out(f, CMD(IDE_COMMAND), 1, 0x20);
    read_sectors(f, 0, spt + 2, 2, 2);
    out(f, CMD(IDE_LBAL), 1, 0);                /* sector 0 does not exist */
    out(f, CMD(IDE_COMMAND), 1, 0x20);
    assert_error(f, IDE_IDNF);
    out(f, CMD(IDE_LBAL), 1, 1);
    out(f, CMD(IDE_SELECT), 1, 0xA0 | heads);   /* nor does that head */
    out(f, CMD(IDE_COMMAND), 1, 0x20);
    assert_error(f, IDE_IDNF);
    /* INITIALIZE DEVICE PARAMETERS: 4 heads, 17 sectors; then C/H/S 1/2/5 */
    out(f, CMD(IDE_NSECT), 1, 17);
    out(f, CMD(IDE_SELECT), 1, 0xA3);
    out(f, CMD(IDE_COMMAND), 1, 0x91);
    assert_int_equal(status(f), READY);
    out(f, CMD(IDE_NSECT), 1, 1);
    out(f, CMD(IDE_LBAL), 1, 5);
    out(f, CMD(IDE_LBAM), 1, 1);
    out(f, CMD(IDE_SELECT), 1, 0xA2);
    out(f, CMD(IDE_COMMAND), 1, 0x20);
    read_sectors(f, 0, (1 * 4 + 2) * 17 + 4, 1, 2);
    cmd28(f, 0, 0, 0, 0xEC);
    pio_in(f, (uint8_t *)w, 2);
    assert_int_equal(w[55], 4);
    assert_int_equal(w[56], 17);
    assert_int_equal(w[54], SECTORS / (4 * 17));
    assert_int_equal(w[3], heads);              /* the default stays */
}

static void test_multiple(void **state)
{
    struct fixture *f = *state;
    uint8_t buf[512];
    cmd28(f, 0, 0, 4, 0xC6);                    /* SET MULTIPLE 4 */
    assert_int_equal(status(f), READY);
    cmd28(f, 0, 20, 10, 0xC4);                  /* READ MULTIPLE: blocks 4, 4, 2 */
    for (int b = 0; b < 3; b++) {
        assert_int_equal(f->edges, 2 + b);
        assert_int_equal(status(f), READY | IDE_DRQ);
        for (int s = 0; s < (b < 2 ? 4 : 2); s++) {
            pio_in(f, buf, 4);
            for (unsigned i = 0; i < 512; i++)
                assert_int_equal(buf[i], pattern(0, (20 + b * 4 + s) * 512 + i));
        }
    }
    assert_int_equal(status(f), READY);
    cmd28(f, 0, 0, 3, 0xC6);                    /* not a power of two */
    assert_error(f, IDE_ABRT);
    cmd28(f, 0, 0, 0, 0xC6);                    /* off */
    cmd28(f, 0, 20, 1, 0xC4);
    assert_error(f, IDE_ABRT);
}

static void test_lba48(void **state)
{
    struct fixture *f = *state;
    const uint8_t regs[] = { IDE_NSECT, IDE_LBAL, IDE_LBAM, IDE_LBAH };
    const uint8_t hi[] = { 0, 0, 0, 0 }, lo[] = { 2, 7, 0, 0 };
    for (int i = 0; i < 4; i++) {
        out(f, CMD(regs[i]), 1, hi[i]);
        out(f, CMD(regs[i]), 1, lo[i]);
    }
    out(f, CMD(IDE_SELECT), 1, 0x40);
    out(f, CMD(IDE_COMMAND), 1, 0x24);          /* READ SECTORS EXT */
    read_sectors(f, 0, 7, 2, 4);
    out(f, CMD(IDE_LBAL), 1, 1);                /* high byte: LBA 1<<24 | 7 */
    out(f, CMD(IDE_LBAL), 1, 7);
    out(f, CTL, 1, IDE_CTL_HOB);
    assert_int_equal(in(f, CMD(IDE_LBAL), 1), 1);
    out(f, CTL, 1, 0);
    assert_int_equal(in(f, CMD(IDE_LBAL), 1), 7);
    out(f, CMD(IDE_COMMAND), 1, 0x34);          /* WRITE SECTORS EXT, past the end */
    assert_error(f, IDE_IDNF);
    cmd28(f, 0, 0, 0, 0xEA);                    /* FLUSH CACHE EXT */
    assert_int_equal(status(f), READY);
}

static void test_flush_and_diagnostic(void **state)
{
    struct fixture *f = *state;
    cmd28(f, 0, 0, 0, 0xE7);
    assert_int_equal(f->edges, 1);
    assert_int_equal(status(f), READY);
    cmd28(f, 0, 0x123456, 9, 0x90);             /* EXECUTE DEVICE DIAGNOSTIC */
    assert_int_equal(f->edges, 2);
    assert_int_equal(status(f), READY);
    assert_int_equal(in(f, CMD(IDE_ERROR), 1), 1);
    assert_int_equal(in(f, CMD(IDE_NSECT), 1), 1);
    assert_int_equal(in(f, CMD(IDE_LBAL), 1), 1);
    assert_int_equal(in(f, CMD(IDE_LBAH), 1), 0);
}

/* A host I/O error: the guest sees ERR|ABRT, stderr gets one line, once. */
static void test_host_io_error(void **state)
{
    struct fixture *f = *state;
    char msg[512];
    struct image img = { .path = "/dev/full", .fd = open("/dev/full", O_RDWR),
                         .size = SECTORS * 512 };
    assert_true(img.fd >= 0);
    f->c = ide_new(&img, 1, on_irq, f);
    struct capture cap;
    capture_begin(&cap);
    for (int i = 0; i < 2; i++) {
        write_sectors(f, 0, 1, 4, 0x30);        /* pwrite: ENOSPC */
        assert_int_equal(status(f), READY | IDE_ERR);
        assert_int_equal(in(f, CMD(IDE_ERROR), 1), IDE_ABRT);
        f->edges = 0;
    }
    capture_end(&cap, msg, sizeof(msg));
    assert_string_equal(msg,
                        "mini-kvm: /dev/full: write error at byte 0: No space left on device\n");
    cmd28(f, 0, 1, 1, 0x20);                    /* reads still work (zeros) */
    assert_int_equal(status(f), READY | IDE_DRQ);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_identify, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_one_16bit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_several_32bit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_8bit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_count_zero_is_256, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_several, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_32bit_then_read_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_past_the_end, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_drive, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_commands_abort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_absent_slave, setup, teardown),
        cmocka_unit_test_setup_teardown(test_two_drives, setup2, teardown),
        cmocka_unit_test_setup_teardown(test_data_port_without_drq, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multiple, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lba48, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flush_and_diagnostic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_host_io_error, setup_files, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
