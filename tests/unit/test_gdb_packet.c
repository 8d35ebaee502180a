/* test_gdb_packet.c - the GDB stub's pure layers: framing and checksums, every
 * command against a fake target, hostile packets, x86 register layouts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "debug/gdb_packet.h"
#include "debug/gdb_proto.h"
#include "debug/gdb_x86.h"
#include "gdb_fake.h"

/* Feed a byte string; return the last event other than NONE. */
static enum gdb_rx_event feed(struct gdb_rx *rx, const char *s, size_t n)
{
    enum gdb_rx_event last = GDB_RX_NONE;
    for (size_t i = 0; i < n; i++) {
        enum gdb_rx_event e = gdb_rx_byte(rx, (uint8_t)s[i]);
        if (e != GDB_RX_NONE)
            last = e;
    }
    return last;
}

static void test_framing(void **state)
{
    (void)state;
    static struct gdb_rx rx;
    gdb_rx_init(&rx);
    assert_int_equal(feed(&rx, "$g#67", 5), GDB_RX_PACKET);
    assert_int_equal(rx.len, 1);
    assert_string_equal(rx.buf, "g");
    assert_int_equal(feed(&rx, "$g#68", 5), GDB_RX_BADSUM);
    assert_int_equal(feed(&rx, "$g#zz", 5), GDB_RX_BADSUM);
    assert_int_equal(feed(&rx, "\x03", 1), GDB_RX_INTERRUPT);
    assert_int_equal(feed(&rx, "+", 1), GDB_RX_ACK);
    assert_int_equal(feed(&rx, "-", 1), GDB_RX_NAK);
    /* a packet cut off by a new '$' is dropped; the second one counts */
    assert_int_equal(feed(&rx, "$m1,2$qC#b4", 11), GDB_RX_PACKET);
    assert_string_equal(rx.buf, "qC");
    /* 0x03 inside a packet is data, not an interrupt */
    assert_int_equal(feed(&rx, "$\x03#03", 5), GDB_RX_PACKET);
    assert_int_equal(rx.len, 1);

    /* too long: swallowed whole, reported once, the checksum still checked */
    size_t n = GDB_PKT_MAX + 100;
    char *big = malloc(n + 4);
    big[0] = '$';
    memset(big + 1, 'a', n - 1);
    uint8_t sum = gdb_checksum(big + 1, n - 1);
    snprintf(big + n, 4, "#%02x", sum);
    assert_int_equal(feed(&rx, big, n + 3), GDB_RX_TOOLONG);
    assert_int_equal(rx.len, GDB_PKT_MAX);
    free(big);
}

static void test_frame_escape_hex(void **state)
{
    (void)state;
    char out[64];
    size_t n = gdb_frame(out, sizeof(out), "OK", 2);
    assert_int_equal(n, 6);
    assert_memory_equal(out, "$OK#9a", 6);
    n = gdb_frame(out, sizeof(out), "a#b$}*", 6);
    out[n] = 0;
    assert_memory_equal(out, "$a}\x03" "b}\x04}]}\x0a#", n - 2);
    /* escaped bytes come back through gdb_unescape */
    char esc[] = "a}\x03" "b}\x04}]}\x0a";
    long m = gdb_unescape(esc, strlen(esc));
    assert_int_equal(m, 6);
    assert_memory_equal(esc, "a#b$}*", 6);
    char bad[] = "ab}";
    assert_int_equal(gdb_unescape(bad, 3), -1);
    assert_int_equal(gdb_frame(out, 5, "OK", 2), 0);    /* does not fit */

    uint8_t b[4];
    assert_int_equal(gdb_hex_decode("00fFa5", 3, b), 0);
    assert_int_equal(b[1], 0xff);
    assert_int_equal(gdb_hex_decode("0g", 1, b), -1);
    char h[16];
    gdb_hex_encode((const uint8_t *)"\x01\xab", 2, h);
    assert_string_equal(h, "01ab");
    const char *p = "ffffffffffffffff,", *e = p + strlen(p);
    uint64_t v;
    assert_int_equal(gdb_parse_hex(&p, e, &v), 0);
    assert_true(v == UINT64_MAX);
    assert_int_equal(*p, ',');
    p = "10000000000000000";
    assert_int_equal(gdb_parse_hex(&p, p + strlen(p), &v), -1);     /* 65 bits */
    p = ",";
    assert_int_equal(gdb_parse_hex(&p, p + 1, &v), -1);
}

struct ctx {
    struct fake f;
    struct gdb_target t;
    struct gdb_session s;
    char reply[2 * GDB_MEM_MAX + 64];
    size_t rlen;
};

static enum gdb_result cmd(struct ctx *c, const char *pkt)
{
    char buf[GDB_PKT_MAX + 1];
    size_t n = strlen(pkt);
    memcpy(buf, pkt, n + 1);
    enum gdb_result r = gdb_dispatch(&c->s, buf, n, c->reply, sizeof(c->reply), &c->rlen);
    c->reply[c->rlen] = '\0';
    return r;
}

static void expect(struct ctx *c, const char *pkt, const char *reply)
{
    assert_int_equal(cmd(c, pkt), GDB_REPLY);
    if (strcmp(c->reply, reply))
        fail_msg("'%s' answered '%s', expected '%s'", pkt, c->reply, reply);
}

static struct ctx *setup(void)
{
    static struct ctx c;
    fake_target(&c.t, &c.f);
    gdb_session_init(&c.s, &c.t);
    return &c;
}

static void test_queries(void **state)
{
    (void)state;
    struct ctx *c = setup();
    assert_int_equal(cmd(c, "qSupported:multiprocess+;swbreak+"), GDB_REPLY);
    assert_non_null(strstr(c->reply, "PacketSize=4000"));
    assert_non_null(strstr(c->reply, "qXfer:features:read+"));
    expect(c, "?", "T05thread:1;");
    expect(c, "qAttached", "1");
    expect(c, "qC", "QC1");
    expect(c, "qfThreadInfo", "m1,2");
    expect(c, "qsThreadInfo", "l");
    expect(c, "Hg2", "OK");
    expect(c, "qC", "QC2");
    expect(c, "Hg3", "E02");            /* no such thread */
    expect(c, "Hgzz", "E01");
    expect(c, "Hc-1", "OK");
    expect(c, "T2", "OK");
    expect(c, "T5", "E02");
    expect(c, "T0", "E02");
    expect(c, "qThreadExtraInfo,2", "764350552031");    /* "vCPU 1" */
    expect(c, "vMustReplyEmpty", "");
    expect(c, "qTStatus", "");
    expect(c, "!", "");
    expect(c, "vCont?", "vCont;c;C;s;S;t");
    expect(c, "QStartNoAckMode", "OK");
    assert_true(c->s.noack);
    expect(c, "qXfer:features:read:target.xml:0,10", "m<?xml version=\"1");
    expect(c, "qXfer:features:read:target.xml:0,fff", "l<?xml version=\"1.0\"?><target>"
           "<architecture>i386</architecture></target>");
    expect(c, "qXfer:features:read:target.xml:fff,10", "l");
    expect(c, "qXfer:features:read:other.xml:0,10", "E00");
    expect(c, "qXfer:features:read:target.xml:0", "E01");
    expect(c, "qRcmd,68656c70", "72616e2068656c700a");  /* "help" -> "ran help\n" */
    assert_string_equal(c->f.last_monitor, "help");
    expect(c, "qRcmd,6", "E01");
    expect(c, "qRcmd,0068", "E01");                     /* embedded NUL */
    assert_int_equal(cmd(c, "k"), GDB_KILL);
    assert_int_equal(cmd(c, "D"), GDB_DETACH);
    assert_string_equal(c->reply, "OK");
}

static void test_registers(void **state)
{
    (void)state;
    struct ctx *c = setup();
    c->f.regs[1][0] = 0x78;
    expect(c, "g", "78000000000000000000000000000000");
    expect(c, "G112233440000000000000000aabbccdd", "OK");
    assert_int_equal(c->f.regs[1][12], 0xaa);
    expect(c, "G1122", "E22");          /* wrong size: the target refuses */
    expect(c, "G112", "E01");           /* odd hex */
    expect(c, "Gzz", "E01");
    expect(c, "p3", "aabbccdd");
    expect(c, "p4", "E03");             /* out of range */
    expect(c, "pffffffffff", "E01");
    expect(c, "p", "E01");
    expect(c, "P1=01020304", "OK");
    expect(c, "p1", "01020304");
    expect(c, "P1=0102", "E03");
    expect(c, "P1=", "E01");
    expect(c, "P1", "E01");
    expect(c, "P9=01020304", "E03");
    expect(c, "gx", "E01");
}

static void test_memory(void **state)
{
    (void)state;
    struct ctx *c = setup();
    c->f.mem[0] = 0xde;
    c->f.mem[1] = 0xad;
    expect(c, "m1000,2", "dead");
    expect(c, "m0,2", "E14");                   /* unmapped */
    expect(c, "m10fff,4", "00");                /* short at the end */
    expect(c, "mffffffffffffffff,ffffffffffffffff", "E14");
    expect(c, "m1000,0", "");
    expect(c, "m1000", "E01");
    expect(c, "m1000,2x", "E01");
    expect(c, "m,2", "E01");
    assert_int_equal(cmd(c, "m1000,ffffffff"), GDB_REPLY);  /* huge: capped */
    assert_int_equal(c->rlen, 2 * GDB_MEM_MAX);
    expect(c, "M1002,2:beef", "OK");
    assert_int_equal(c->f.mem[3], 0xef);
    expect(c, "M1002,2:bee", "E01");
    expect(c, "M1002,3:beef", "E01");
    expect(c, "M1002,2:zzzz", "E01");
    expect(c, "M0,1:00", "E14");
    expect(c, "M1002,ffffffff:00", "E01");
    /* the biggest M that fits PacketSize is taken whole */
    static char big[GDB_PKT_MAX + 1];
    size_t n = (size_t)snprintf(big, sizeof(big), "M2000,%x:", 8000);
    memset(big + n, 'a', 16000);
    big[n + 16000] = '\0';
    expect(c, big, "OK");
    assert_int_equal(c->f.mem[0x1000 + 7999], 0xaa);
    expect(c, "X1004,2:}\x03" "a", "OK");       /* '#' escaped, then 'a' */
    assert_int_equal(c->f.mem[4], '#');
    assert_int_equal(c->f.mem[5], 'a');
    expect(c, "X1004,3:ab", "E01");
    expect(c, "X1004,0:", "OK");
}

static void test_breakpoints(void **state)
{
    (void)state;
    struct ctx *c = setup();
    expect(c, "Z0,1000,1", "OK");
    assert_int_equal(c->f.last_bp_type, GDB_BP_SW);
    assert_int_equal(c->f.last_bp_addr, 0x1000);
    expect(c, "Z1,ffffffff81000000,1", "OK");
    expect(c, "Z2,2000,4;X1,0", "OK");          /* a condition: ignored */
    expect(c, "Z4,2000,4", "OK");
    expect(c, "Z0,1,1", "E22");                 /* the target is full */
    expect(c, "z0,1000,1", "OK");
    assert_int_equal(c->f.bps, 3);
    expect(c, "Z3,2000,4", "");                 /* unsupported: empty */
    expect(c, "Z5,2000,4", "E01");
    expect(c, "Z1,2000", "E01");
    expect(c, "Z", "E01");
    expect(c, "Z1x", "E01");
}

static void test_resume(void **state)
{
    (void)state;
    struct ctx *c = setup();
    assert_int_equal(cmd(c, "c"), GDB_RESUMED);
    assert_int_equal(c->f.act[1], GDB_ACT_CONT);
    assert_int_equal(c->f.act[2], GDB_ACT_CONT);
    expect(c, "Hc2", "OK");
    assert_int_equal(cmd(c, "s"), GDB_RESUMED);
    assert_int_equal(c->f.act[1], GDB_ACT_STAY);
    assert_int_equal(c->f.act[2], GDB_ACT_STEP);
    /* gdb's stepi with scheduler-locking off: step 2, continue the rest */
    assert_int_equal(cmd(c, "vCont;s:2;c"), GDB_RESUMED);
    assert_int_equal(c->f.act[1], GDB_ACT_CONT);
    assert_int_equal(c->f.act[2], GDB_ACT_STEP);
    assert_int_equal(cmd(c, "vCont;s:1"), GDB_RESUMED);
    assert_int_equal(c->f.act[1], GDB_ACT_STEP);
    assert_int_equal(c->f.act[2], GDB_ACT_STAY);
    assert_int_equal(cmd(c, "vCont;C05:1;c:2"), GDB_RESUMED);
    assert_int_equal(c->f.act[1], GDB_ACT_CONT);
    int before = c->f.resumed;
    expect(c, "vCont;s:3", "E02");
    expect(c, "vCont;x", "E01");
    expect(c, "vCont;", "E01");
    expect(c, "vCont;C", "E01");
    expect(c, "vCont;s:", "E02");
    assert_int_equal(c->f.resumed, before);     /* nothing resumed by a bad packet */
    char stop[96];
    gdb_format_stop(stop, sizeof(stop), 5, 2, "watch", 0x135370);
    assert_string_equal(stop, "T05thread:2;watch:135370;");
}

static void test_x86_layouts(void **state)
{
    (void)state;
    struct gdb_x86_state st;
    memset(&st, 0, sizeof(st));
    /* real mode: CS=0x1000, IP=5 -> $pc is the linear 0x10005 */
    st.sregs.cs.selector = 0x1000;
    st.sregs.cs.base = 0x10000;
    st.regs.rip = 5;
    st.regs.rax = 0x11223344;
    st.regs.rflags = 2;
    assert_int_equal(gdb_x86_layout_of(&st.sregs), GDB_X86_I8086);
    uint8_t buf[1024];
    assert_int_equal(gdb_x86_read_reg(GDB_X86_I8086, &st, 8, buf, sizeof(buf)), 4);
    uint32_t v;
    memcpy(&v, buf, 4);
    assert_int_equal(v, 0x10005);
    v = 0x10009;    /* writing $pc sets IP = linear - CS.base */
    assert_int_equal(gdb_x86_write_reg(GDB_X86_I8086, &st, 8, (uint8_t *)&v, 4),
                     GDB_X86_DIRTY_REGS);
    assert_int_equal(st.regs.rip, 9);
    uint16_t sel[2] = { 0x2000, 0 };    /* a real-mode ds load sets its base */
    assert_int_equal(gdb_x86_write_reg(GDB_X86_I8086, &st, 12, (uint8_t *)sel, 4),
                     GDB_X86_DIRTY_SREGS);
    assert_int_equal(st.sregs.ds.base, 0x20000);
    assert_int_equal(gdb_x86_read_reg(GDB_X86_I8086, &st, 10, buf, 3), -1);  /* no room */
    assert_int_equal(gdb_x86_read_reg(GDB_X86_I8086, &st, 999, buf, sizeof(buf)), -1);
    assert_int_equal(gdb_x86_read_reg(GDB_X86_I8086, &st, -1, buf, sizeof(buf)), -1);
    assert_int_equal(gdb_x86_write_reg(GDB_X86_I8086, &st, 0, buf, 8), -1);  /* wrong size */

    /* long mode */
    st.sregs.cr0 = 0x80000011;
    st.sregs.efer = 0x500;
    st.sregs.cs.l = 1;
    st.sregs.cr3 = 0x1000;
    st.regs.rip = 0xffffffff81000000ull;
    assert_int_equal(gdb_x86_layout_of(&st.sregs), GDB_X86_AMD64);
    int n = gdb_x86_read_all(GDB_X86_AMD64, &st, buf, sizeof(buf));
    assert_true(n > 0);
    uint64_t rip;
    memcpy(&rip, buf + 16 * 8, 8);
    assert_true(rip == 0xffffffff81000000ull);
    assert_int_equal(gdb_x86_read_all(GDB_X86_AMD64, &st, buf, 16), -1);
    /* G with the same bytes changes nothing; with a new cr3 only sregs */
    assert_int_equal(gdb_x86_write_all(GDB_X86_AMD64, &st, buf, (size_t)n), 0);
    assert_int_equal(gdb_x86_write_all(GDB_X86_AMD64, &st, buf, (size_t)n - 1), -1);
    int cr3 = gdb_x86_nregs(GDB_X86_AMD64) - 3;     /* ... cr3, cr4, efer */
    uint64_t newcr3 = 0x5000;
    size_t off = 0;
    for (int i = 0; i < cr3; i++)
        off += (size_t)gdb_x86_read_reg(GDB_X86_AMD64, &st, i, buf + 900, 100);
    memcpy(buf + off, &newcr3, 8);
    assert_int_equal(gdb_x86_write_all(GDB_X86_AMD64, &st, buf, (size_t)n), GDB_X86_DIRTY_SREGS);
    assert_int_equal(st.sregs.cr3, 0x5000);

    /* 32-bit protected mode */
    st.sregs.efer = 0;
    st.sregs.cs.l = 0;
    st.sregs.cr0 = 1;
    assert_int_equal(gdb_x86_layout_of(&st.sregs), GDB_X86_I386);

    static char xml[8192];
    for (int l = GDB_X86_I8086; l <= GDB_X86_AMD64; l++) {
        size_t len = gdb_x86_xml((enum gdb_x86_layout)l, xml, sizeof(xml));
        assert_true(len > 0 && len < sizeof(xml));
        assert_non_null(strstr(xml, "org.gnu.gdb.i386.core"));
        assert_non_null(strstr(xml, "name=\"efer\""));
        assert_non_null(strstr(xml, "name=\"cs_base\""));
    }
    assert_non_null(strstr(xml, "i386:x86-64"));
    assert_int_equal(gdb_x86_xml(GDB_X86_AMD64, xml, 100), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_framing),
        cmocka_unit_test(test_frame_escape_hex),
        cmocka_unit_test(test_queries),
        cmocka_unit_test(test_registers),
        cmocka_unit_test(test_memory),
        cmocka_unit_test(test_breakpoints),
        cmocka_unit_test(test_resume),
        cmocka_unit_test(test_x86_layouts),
    };
    return cmocka_run_group_tests_name("gdb_packet", tests, NULL, NULL);
}
