/* test_virtqueue.c - the split virtqueue walk on its own (no transport): ring
 * mapping, chains, hostile indices and loops, the used ring, iovec copies. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/mem.h"
#include "devices/virtqueue.h"

#include <stdlib.h>
#include <string.h>

#define RAM   (1u << 20)
#define DESC  0x1000
#define AVAIL 0x2000
#define USED  0x3000
#define BUF   0x10000
#define QSIZE 8

struct fx {
    struct guest_mem mem;
    struct virtqueue q;
    struct virtq_desc *d;
    struct virtq_avail *a;
    struct virtq_used *u;
    struct vq_chain c;
    char why[160];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    assert_int_equal(mem_init(&f->mem, RAM), 0);
    vq_reset(&f->q, QSIZE);
    f->q.desc_gpa = DESC, f->q.avail_gpa = AVAIL, f->q.used_gpa = USED;
    assert_int_equal(vq_map(&f->q, &f->mem, f->why, sizeof(f->why)), 0);
    f->d = guest_ptr(&f->mem, DESC, 16 * QSIZE);
    f->a = guest_ptr(&f->mem, AVAIL, 6 + 2 * QSIZE);
    f->u = guest_ptr(&f->mem, USED, 6 + 8 * QSIZE);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    mem_free(&f->mem);
    free(f);
    return 0;
}

static void desc(struct fx *f, unsigned i, uint64_t addr, uint32_t len, uint16_t flags,
                 uint16_t next)
{
    f->d[i] = (struct virtq_desc){ addr, len, flags, next };
}

/* Make head available as the next entry. */
static void offer(struct fx *f, uint16_t head)
{
    f->a->ring[f->a->idx % QSIZE] = head;
    f->a->idx++;
}

static int next(struct fx *f)
{
    f->why[0] = 0;
    return vq_next(&f->q, &f->mem, &f->c, f->why, sizeof(f->why));
}

static void test_map_refuses_bad_rings(void **state)
{
    struct fx *f = *state;
    struct virtqueue q;
    vq_reset(&q, QSIZE);
    q.num = 6;                                  /* not a power of 2 */
    assert_int_equal(vq_map(&q, &f->mem, f->why, sizeof(f->why)), -1);
    assert_non_null(strstr(f->why, "invalid size 6"));
    q.num = QSIZE, q.desc_gpa = DESC + 8;
    assert_int_equal(vq_map(&q, &f->mem, f->why, sizeof(f->why)), -1);
    assert_string_equal(f->why, "misaligned ring address");
    q.desc_gpa = RAM - 16 * QSIZE + 16;         /* across the end of RAM */
    assert_int_equal(vq_map(&q, &f->mem, f->why, sizeof(f->why)), -1);
    assert_non_null(strstr(f->why, "ring outside guest RAM"));
}

/* A readable header then two writable buffers: iovecs and totals. */
static void test_chain_parts(void **state)
{
    struct fx *f = *state;
    assert_int_equal(next(f), 0);               /* nothing offered */
    desc(f, 3, BUF, 16, VIRTQ_DESC_F_NEXT, 5);
    desc(f, 5, BUF + 100, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
    desc(f, 1, BUF + 1000, 1, VIRTQ_DESC_F_WRITE, 0);
    offer(f, 3);
    assert_int_equal(next(f), 1);
    assert_int_equal(f->c.head, 3);
    assert_int_equal(f->c.nr_rd, 1);
    assert_int_equal(f->c.nr_wr, 2);
    assert_int_equal(f->c.rd_len, 16);
    assert_int_equal(f->c.wr_len, 513);
    assert_ptr_equal(f->c.iov[1].iov_base, guest_ptr(&f->mem, BUF + 100, 512));
    assert_int_equal(next(f), 0);
}

/* vq_unpop gives the same chain back; vq_push fills the used ring in order. */
static void test_unpop_and_push(void **state)
{
    struct fx *f = *state;
    desc(f, 0, BUF, 64, VIRTQ_DESC_F_WRITE, 0);
    desc(f, 1, BUF + 64, 64, VIRTQ_DESC_F_WRITE, 0);
    offer(f, 0);
    offer(f, 1);
    assert_int_equal(next(f), 1);
    vq_unpop(&f->q);
    assert_int_equal(next(f), 1);
    assert_int_equal(f->c.head, 0);
    vq_push(&f->q, 0, 60);
    assert_int_equal(next(f), 1);
    assert_int_equal(f->c.head, 1);
    vq_push(&f->q, 1, 7);
    assert_int_equal(f->u->idx, 2);
    assert_int_equal(f->u->ring[0].id, 0);
    assert_int_equal(f->u->ring[0].len, 60);
    assert_int_equal(f->u->ring[1].id, 1);
    assert_int_equal(f->u->ring[1].len, 7);
    assert_true(f->q.pushed);
}

/* Hostile rings: each is refused with its reason, never walked past. */
static void test_hostile_chains(void **state)
{
    struct fx *f = *state;
    desc(f, 0, BUF, 8, VIRTQ_DESC_F_NEXT, 1);   /* 0 -> 1 -> 0 ... */
    desc(f, 1, BUF, 8, VIRTQ_DESC_F_NEXT, 0);
    offer(f, 0);
    assert_int_equal(next(f), -1);
    assert_non_null(strstr(f->why, "longer than the queue (loop?)"));

    f->q.last_avail = f->a->idx;                /* a failed queue is reset */
    desc(f, 4, BUF, 8, VIRTQ_DESC_F_NEXT, QSIZE);
    offer(f, 4);
    assert_int_equal(next(f), -1);
    assert_non_null(strstr(f->why, "next 8 out of range"));

    f->q.last_avail = f->a->idx;
    offer(f, QSIZE + 3);
    assert_int_equal(next(f), -1);
    assert_non_null(strstr(f->why, "avail ring entry 11 out of range"));

    f->q.last_avail = f->a->idx;
    f->a->idx += QSIZE + 1;
    assert_int_equal(next(f), -1);
    assert_non_null(strstr(f->why, "entries ahead"));

    f->q.last_avail = f->a->idx;
    desc(f, 2, RAM - 4, 8, 0, 0);               /* buffer across the end of RAM */
    offer(f, 2);
    assert_int_equal(next(f), -1);
    assert_non_null(strstr(f->why, "outside guest RAM"));

    f->q.last_avail = f->a->idx;
    desc(f, 2, BUF, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 3);
    desc(f, 3, BUF, 8, 0, 0);
    offer(f, 2);
    assert_int_equal(next(f), -1);
    assert_non_null(strstr(f->why, "device-readable after device-writable"));
}

static void test_iov_copies(void **state)
{
    (void)state;
    uint8_t a[3], b[5], out[8];
    struct iovec iov[2] = { { a, sizeof(a) }, { b, sizeof(b) } };
    assert_int_equal(iov_from_buf(iov, 2, 2, "ABCDEFGHIJ", 10), 6);   /* ends first */
    assert_memory_equal(a + 2, "A", 1);
    assert_memory_equal(b, "BCDEF", 5);
    assert_int_equal(iov_to_buf(iov, 2, 1, out, 8), 7);
    assert_memory_equal(out + 1, "ABCDEF", 6);
    assert_int_equal(iov_to_buf(iov, 2, 8, out, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_map_refuses_bad_rings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_parts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unpop_and_push, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_chains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iov_copies, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
