/* test_virtqueue.c - the split virtqueue walk on its own (no transport): ring
 * mapping, chains, indirect tables, EVENT_IDX, hostile values, iov copies. */
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

/* The used_event / avail_event slots after each ring. */
static uint16_t *used_event(struct fx *f) { return &f->a->ring[QSIZE]; }
static uint16_t *avail_event(struct fx *f) { return (uint16_t *)&f->u->ring[QSIZE]; }

static void push_n(struct fx *f, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        vq_push(&f->q, 0, 0);
}

/* Without EVENT_IDX: an interrupt per signal unless the driver set
 * NO_INTERRUPT; nothing pushed, nothing to say. */
static void test_signal_without_event_idx(void **state)
{
    struct fx *f = *state;
    vq_set_features(&f->q, 0);
    assert_false(vq_need_signal(&f->q));
    push_n(f, 1);
    assert_true(vq_need_signal(&f->q));
    assert_false(vq_need_signal(&f->q));        /* said once */
    f->a->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    push_n(f, 1);
    assert_false(vq_need_signal(&f->q));
    f->a->flags = 0xFFFF;                       /* other bits: ignored, the flag counts */
    push_n(f, 1);
    assert_false(vq_need_signal(&f->q));
}

/* EVENT_IDX: an interrupt only when used.idx passes used_event since the
 * last one (vring_need_event), across the 16-bit wrap too. */
static void test_signal_with_event_idx(void **state)
{
    struct fx *f = *state;
    vq_set_features(&f->q, 1ULL << VIRTIO_RING_F_EVENT_IDX);
    f->a->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;   /* ignored with EVENT_IDX */
    *used_event(f) = 0;
    push_n(f, 1);                               /* idx 1: the first one always */
    assert_true(vq_need_signal(&f->q));
    *used_event(f) = 4;                         /* "tell me once entry 4 is used" */
    push_n(f, 3);                               /* idx 4: entry 4 not yet */
    assert_false(vq_need_signal(&f->q));
    push_n(f, 1);                               /* idx 5: passed */
    assert_true(vq_need_signal(&f->q));
    push_n(f, 2);                               /* idx 7: 4 is behind us */
    assert_false(vq_need_signal(&f->q));
    *used_event(f) = 6;                         /* stale: passed before the last check */
    push_n(f, 1);
    assert_false(vq_need_signal(&f->q));
    *used_event(f) = 8;                         /* the driver catches up: entry 8 */
    push_n(f, 1);
    assert_true(vq_need_signal(&f->q));
    f->q.used_idx = f->q.signalled = 0xFFFE;    /* the wrap */
    *used_event(f) = 0xFFFF;
    push_n(f, 3);                               /* 0xFFFE -> 1 passes 0xFFFF */
    assert_true(vq_need_signal(&f->q));
}

/* Hostile used_event values only decide the guest's own interrupts: far
 * ahead = none, the current index = the next push, all without effect on
 * the rings (nothing but used_event is read). */
static void test_signal_hostile_used_event(void **state)
{
    struct fx *f = *state;
    vq_set_features(&f->q, 1ULL << VIRTIO_RING_F_EVENT_IDX);
    push_n(f, 1);
    assert_true(vq_need_signal(&f->q));
    for (unsigned v = 0; v < 0x10000; v += 0x1111) {
        *used_event(f) = (uint16_t)(f->q.used_idx + 0x8000 + v % 0x7000);   /* far ahead */
        push_n(f, 1);
        assert_false(vq_need_signal(&f->q));
    }
    *used_event(f) = f->q.used_idx;             /* the next entry */
    push_n(f, 1);
    assert_true(vq_need_signal(&f->q));
    assert_int_equal(f->u->idx, f->q.used_idx);
}

/* EVENT_IDX, the other way: finding the ring empty, the device asks to be
 * notified at the next entry (avail_event = last_avail); without EVENT_IDX
 * it never writes there. */
static void test_avail_event(void **state)
{
    struct fx *f = *state;
    *avail_event(f) = 0xAAAA;
    assert_int_equal(next(f), 0);
    assert_int_equal(*avail_event(f), 0xAAAA);
    vq_set_features(&f->q, 1ULL << VIRTIO_RING_F_EVENT_IDX);
    desc(f, 0, BUF, 8, 0, 0);
    offer(f, 0);
    offer(f, 0);
    assert_int_equal(next(f), 1);
    assert_int_equal(*avail_event(f), 0xAAAA);  /* not while there is work */
    assert_int_equal(next(f), 1);
    assert_int_equal(next(f), 0);
    assert_int_equal(*avail_event(f), 2);       /* notify me when entry 2 comes */
}

/* Indirect tables (2.7.5.3): a chain of a table's entries, unaligned allowed. */
static void test_indirect_chain(void **state)
{
    struct fx *f = *state;
    uint64_t table = BUF + 0x4008;              /* 8-aligned only */
    struct virtq_desc t[3] = {
        { BUF, 16, VIRTQ_DESC_F_NEXT, 2 },
        { BUF + 0x800, 1, VIRTQ_DESC_F_WRITE, 0 },
        { BUF + 0x100, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1 },
    };
    memcpy(guest_ptr(&f->mem, table, sizeof(t)), t, sizeof(t));
    desc(f, 2, table, sizeof(t), VIRTQ_DESC_F_INDIRECT, 0);
    offer(f, 2);
    assert_int_equal(next(f), -1);              /* not negotiated */
    assert_non_null(strstr(f->why, "indirect descriptors not negotiated"));
    vq_set_features(&f->q, 1ULL << VIRTIO_RING_F_INDIRECT_DESC);
    assert_int_equal(next(f), 1);
    assert_int_equal(f->c.head, 2);
    assert_int_equal(f->c.nr_rd, 1);
    assert_int_equal(f->c.nr_wr, 2);
    assert_int_equal(f->c.rd_len, 16);
    assert_int_equal(f->c.wr_len, 513);
    assert_ptr_equal(f->c.iov[2].iov_base, guest_ptr(&f->mem, BUF + 0x800, 1));
}

/* Hostile indirect tables: each refused with its reason. */
static void test_indirect_hostile(void **state)
{
    struct fx *f = *state;
    vq_set_features(&f->q, 1ULL << VIRTIO_RING_F_INDIRECT_DESC);
    struct virtq_desc *t = guest_ptr(&f->mem, BUF + 0x4000, 16 * 16);
    const struct { uint64_t addr; uint32_t len; uint16_t flags; const char *why; } cases[] = {
        { BUF + 0x4000, 24, 0, "indirect table length" },
        { BUF + 0x4000, 0, 0, "indirect table length" },
        { BUF + 0x4000, 32, VIRTQ_DESC_F_NEXT, "indirect descriptor with NEXT" },
        { RAM - 16, 32, 0, "indirect table outside guest RAM" },
        { BUF + 0x4000, 32, 0, "indirect chain loops" },
        { BUF + 0x4020, 16, 0, "indirect inside indirect" },
        { BUF + 0x4030, 16, 0, "indirect next 1 out of range" },
        { BUF + 0x4040, 16 * 9, 0, "longer than the queue" },
    };
    t[0] = (struct virtq_desc){ BUF, 8, VIRTQ_DESC_F_NEXT, 1 };     /* 0 <-> 1 */
    t[1] = (struct virtq_desc){ BUF, 8, VIRTQ_DESC_F_NEXT, 0 };
    t[2] = (struct virtq_desc){ BUF, 16, VIRTQ_DESC_F_INDIRECT, 0 };
    t[3] = (struct virtq_desc){ BUF, 8, VIRTQ_DESC_F_NEXT, 1 };
    for (unsigned i = 4; i < 13; i++)           /* 9 entries in a queue of 8 */
        t[i] = (struct virtq_desc){ BUF, 8, VIRTQ_DESC_F_NEXT, (uint16_t)(i - 3) };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        f->q.last_avail = f->a->idx;
        desc(f, 1, cases[i].addr, cases[i].len, VIRTQ_DESC_F_INDIRECT | cases[i].flags, 2);
        offer(f, 1);
        assert_int_equal(next(f), -1);
        if (!strstr(f->why, cases[i].why))
            fail_msg("case %u: '%s' is not '%s'", i, f->why, cases[i].why);
    }
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
        cmocka_unit_test_setup_teardown(test_signal_without_event_idx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signal_with_event_idx, setup, teardown),
        cmocka_unit_test_setup_teardown(test_signal_hostile_used_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_avail_event, setup, teardown),
        cmocka_unit_test_setup_teardown(test_indirect_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_indirect_hostile, setup, teardown),
        cmocka_unit_test_setup_teardown(test_iov_copies, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
