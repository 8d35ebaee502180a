/* gdb_proto.c - decode each remote-protocol command, check every number it
 * carries, call the target, encode the answer. No sockets, no KVM here. */
#include "gdb_proto.h"
#include "gdb_packet.h"

#include <stdio.h>
#include <string.h>

#define ERR(code) reply_str(reply, cap, rlen, "E" code)

/* Errors answered: E01 malformed packet, E02 no such thread, E03 bad
 * register, E14 memory not mapped (EFAULT), E22 invalid value (EINVAL). */

static enum gdb_result reply_str(char *reply, size_t cap, size_t *rlen, const char *s)
{
    *rlen = (size_t)snprintf(reply, cap, "%s", s);
    if (*rlen >= cap)
        *rlen = cap - 1;
    return GDB_REPLY;
}

void gdb_session_init(struct gdb_session *s, const struct gdb_target *t)
{
    memset(s, 0, sizeof(*s));
    s->t = t;
    s->g_tid = 1;
    s->c_tid = -1;
    gdb_format_stop(s->stop, sizeof(s->stop), 5, 1, NULL, 0);
}

void gdb_format_stop(char *out, size_t cap, int sig, int tid, const char *wkind,
                     uint64_t waddr)
{
    if (wkind)
        snprintf(out, cap, "T%02xthread:%x;%s:%llx;", sig & 0xff, tid, wkind,
                 (unsigned long long)waddr);
    else
        snprintf(out, cap, "T%02xthread:%x;", sig & 0xff, tid);
}

/* A thread id on the wire: hex, "-1" (all) or "0" (any). */
static int parse_tid(const char **p, const char *end, int *tid)
{
    if (*p + 2 <= end && (*p)[0] == '-' && (*p)[1] == '1') {
        *p += 2;
        *tid = -1;
        return 0;
    }
    uint64_t v;
    if (gdb_parse_hex(p, end, &v) || v > GDB_MAX_THREADS)
        return -1;
    *tid = (int)v;
    return 0;
}

static bool tid_ok(const struct gdb_session *s, int tid)
{
    return tid >= 1 && tid <= s->t->nthreads;
}

/* "ADDR,LEN" followed by `term` (or the end when term is 0). */
static int parse_addr_len(const char **p, const char *end, char term, uint64_t *addr,
                          uint64_t *len)
{
    if (gdb_parse_hex(p, end, addr) || *p >= end || **p != ',')
        return -1;
    (*p)++;
    if (gdb_parse_hex(p, end, len))
        return -1;
    if (term ? (*p >= end || **p != term) : *p != end)
        return -1;
    if (term)
        (*p)++;
    return 0;
}

static enum gdb_result read_mem(struct gdb_session *s, const char *p, const char *end,
                                char *reply, size_t cap, size_t *rlen)
{
    uint64_t addr, len;
    uint8_t buf[GDB_MEM_MAX];
    if (parse_addr_len(&p, end, 0, &addr, &len))
        return ERR("01");
    if (len > GDB_MEM_MAX)
        len = GDB_MEM_MAX;  /* a short answer is allowed; gdb asks for the rest */
    if (len == 0)
        return reply_str(reply, cap, rlen, "");
    long n = s->t->read_mem(s->t->ctx, s->g_tid, addr, buf, (size_t)len);
    if (n <= 0)
        return ERR("14");
    gdb_hex_encode(buf, (size_t)n, reply);
    *rlen = 2 * (size_t)n;
    return GDB_REPLY;
}

static enum gdb_result write_mem(struct gdb_session *s, char *p, char *end, bool binary,
                                 char *reply, size_t cap, size_t *rlen)
{
    uint64_t addr, len;
    uint8_t buf[GDB_MEM_MAX];
    const char *q = p;
    if (parse_addr_len(&q, end, ':', &addr, &len) || len > GDB_MEM_MAX)
        return ERR("01");
    char *data = p + (q - p);
    size_t avail = (size_t)(end - data);
    if (binary) {
        long n = gdb_unescape(data, avail);
        if (n < 0 || (uint64_t)n != len)
            return ERR("01");
        memcpy(buf, data, (size_t)len);
    } else if (avail != 2 * len || gdb_hex_decode(data, (size_t)len, buf)) {
        return ERR("01");
    }
    if (len == 0)
        return reply_str(reply, cap, rlen, "OK");
    long n = s->t->write_mem(s->t->ctx, s->g_tid, addr, buf, (size_t)len);
    return n == (long)len ? reply_str(reply, cap, rlen, "OK") : ERR("14");
}

static enum gdb_result regs(struct gdb_session *s, char op, const char *p, const char *end,
                            char *reply, size_t cap, size_t *rlen)
{
    uint8_t buf[GDB_MEM_MAX];
    uint64_t regno = 0;
    int n;
    switch (op) {
    case 'g':
        n = s->t->read_regs(s->t->ctx, s->g_tid, buf, sizeof(buf));
        break;
    case 'p':
        if (gdb_parse_hex(&p, end, &regno) || p != end || regno > 4096)
            return ERR("01");
        n = s->t->read_reg(s->t->ctx, s->g_tid, (int)regno, buf, sizeof(buf));
        break;
    case 'G': {
        size_t hex = (size_t)(end - p);
        if (hex % 2 || hex / 2 > sizeof(buf) || gdb_hex_decode(p, hex / 2, buf))
            return ERR("01");
        n = s->t->write_regs(s->t->ctx, s->g_tid, buf, hex / 2);
        return n ? ERR("22") : reply_str(reply, cap, rlen, "OK");
    }
    default: {  /* 'P' n=value */
        if (gdb_parse_hex(&p, end, &regno) || p >= end || *p != '=' || regno > 4096)
            return ERR("01");
        p++;
        size_t hex = (size_t)(end - p);
        if (hex % 2 || hex == 0 || hex / 2 > sizeof(buf) || gdb_hex_decode(p, hex / 2, buf))
            return ERR("01");
        n = s->t->write_reg(s->t->ctx, s->g_tid, (int)regno, buf, hex / 2);
        return n ? ERR("03") : reply_str(reply, cap, rlen, "OK");
    }
    }
    if (n < 0)
        return ERR("03");
    gdb_hex_encode(buf, (size_t)n, reply);
    *rlen = 2 * (size_t)n;
    return GDB_REPLY;
}

static enum gdb_result breakpoint(struct gdb_session *s, bool insert, const char *p,
                                  const char *end, char *reply, size_t cap, size_t *rlen)
{
    uint64_t type, addr, kind;
    if (gdb_parse_hex(&p, end, &type) || type > GDB_WP_ACCESS || p >= end || *p++ != ',')
        return ERR("01");
    /* conditions and commands (";X...") are optional extras: ignored */
    const char *semi = memchr(p, ';', (size_t)(end - p));
    if (parse_addr_len(&p, semi ? semi : end, 0, &addr, &kind))
        return ERR("01");
    int r = s->t->set_bp(s->t->ctx, insert, (int)type, addr, kind);
    if (r > 0)
        return reply_str(reply, cap, rlen, "");
    return r ? ERR("22") : reply_str(reply, cap, rlen, "OK");
}

/* vCont;ACTION[:TID];... - per thread, the leftmost matching action wins. */
static enum gdb_result vcont(struct gdb_session *s, const char *p, const char *end,
                             char *reply, size_t cap, size_t *rlen)
{
    uint8_t act[GDB_MAX_THREADS + 1];
    bool set[GDB_MAX_THREADS + 1] = { false };
    memset(act, GDB_ACT_STAY, sizeof(act));
    int n = s->t->nthreads;
    while (p < end) {
        if (*p++ != ';' || p >= end)
            return ERR("01");
        char a = *p++;
        uint8_t what;
        if (a == 'c' || a == 'C')
            what = GDB_ACT_CONT;
        else if (a == 's' || a == 'S')
            what = GDB_ACT_STEP;
        else if (a == 't')
            what = GDB_ACT_STAY;
        else
            return ERR("01");
        uint64_t sig;   /* C/S signals are not delivered to a guest: parsed, dropped */
        if ((a == 'C' || a == 'S') && gdb_parse_hex(&p, end, &sig))
            return ERR("01");
        int tid = -1;
        if (p < end && *p == ':') {
            p++;
            if (parse_tid(&p, end, &tid) || (tid > 0 && !tid_ok(s, tid)))
                return ERR("02");
        }
        for (int t = 1; t <= n; t++) {
            if (!set[t] && (tid <= 0 || tid == t)) {
                act[t] = what;
                set[t] = true;
            }
        }
    }
    s->t->resume(s->t->ctx, act);
    return GDB_RESUMED;
}

static enum gdb_result resume_legacy(struct gdb_session *s, bool step)
{
    uint8_t act[GDB_MAX_THREADS + 1];
    int n = s->t->nthreads;
    /* An address argument (c ADDR) is not used by gdb any more: ignored. */
    int tid = tid_ok(s, s->c_tid) ? s->c_tid : s->g_tid;
    for (int t = 0; t <= n; t++)
        act[t] = step ? (t == tid ? GDB_ACT_STEP : GDB_ACT_STAY) : GDB_ACT_CONT;
    s->t->resume(s->t->ctx, act);
    return GDB_RESUMED;
}

static enum gdb_result set_thread(struct gdb_session *s, const char *p, const char *end,
                                  char *reply, size_t cap, size_t *rlen)
{
    if (p >= end)
        return ERR("01");
    char which = *p++;
    int tid;
    if ((which != 'g' && which != 'c') || parse_tid(&p, end, &tid) || p != end)
        return ERR("01");
    if (tid > 0 && !tid_ok(s, tid))
        return ERR("02");
    if (which == 'g' && tid > 0)
        s->g_tid = tid;     /* 0 / -1: keep the current one */
    else if (which == 'c')
        s->c_tid = tid;
    return reply_str(reply, cap, rlen, "OK");
}

static enum gdb_result thread_list(struct gdb_session *s, char *reply, size_t cap,
                                   size_t *rlen)
{
    size_t o = 0;
    reply[o++] = 'm';
    for (int t = 1; t <= s->t->nthreads && o + 8 < cap; t++)
        o += (size_t)snprintf(reply + o, cap - o, "%s%x", t > 1 ? "," : "", t);
    *rlen = o;
    return GDB_REPLY;
}

/* qXfer:features:read:ANNEX:OFF,LEN */
static enum gdb_result xfer(struct gdb_session *s, char *p, const char *end, char *reply,
                            size_t cap, size_t *rlen)
{
    char *colon = memchr(p, ':', (size_t)(end - p));
    if (!colon)
        return ERR("01");
    *colon = '\0';
    const char *q = colon + 1;
    uint64_t off, len;
    if (parse_addr_len(&q, end, 0, &off, &len))
        return ERR("01");
    size_t doclen;
    const char *doc = s->t->xml(s->t->ctx, p, &doclen);
    if (!doc)
        return ERR("00");
    if (off >= doclen)
        return reply_str(reply, cap, rlen, "l");
    if (len > cap / 2)
        len = cap / 2;      /* the framer may need to escape some bytes */
    size_t n = doclen - off < len ? doclen - (size_t)off : (size_t)len;
    reply[0] = off + n < doclen ? 'm' : 'l';
    memcpy(reply + 1, doc + off, n);
    *rlen = n + 1;
    return GDB_REPLY;
}

static enum gdb_result monitor(struct gdb_session *s, const char *p, const char *end,
                               char *reply, size_t cap, size_t *rlen)
{
    char cmd[256], out[GDB_MEM_MAX];
    size_t n = (size_t)(end - p) / 2;
    if ((size_t)(end - p) % 2 || n >= sizeof(cmd) || gdb_hex_decode(p, n, (uint8_t *)cmd))
        return ERR("01");
    cmd[n] = '\0';
    if (strlen(cmd) != n)
        return ERR("01");
    out[0] = '\0';
    s->t->monitor(s->t->ctx, cmd, out, sizeof(out));
    size_t olen = strlen(out);
    if (olen == 0)
        return reply_str(reply, cap, rlen, "OK");
    if (2 * olen + 1 > cap)
        olen = (cap - 1) / 2;
    gdb_hex_encode((const uint8_t *)out, olen, reply);
    *rlen = 2 * olen;
    return GDB_REPLY;
}

static enum gdb_result query(struct gdb_session *s, char *p, char *end, char *reply,
                             size_t cap, size_t *rlen)
{
    if (!strncmp(p, "qSupported", 10)) {
        *rlen = (size_t)snprintf(reply, cap, "PacketSize=%x;qXfer:features:read+;"
                                 "QStartNoAckMode+;vContSupported+", GDB_PKT_MAX);
        return GDB_REPLY;
    }
    if (!strcmp(p, "qAttached"))
        return reply_str(reply, cap, rlen, "1");
    if (!strcmp(p, "qC")) {
        *rlen = (size_t)snprintf(reply, cap, "QC%x", s->g_tid);
        return GDB_REPLY;
    }
    if (!strcmp(p, "qfThreadInfo"))
        return thread_list(s, reply, cap, rlen);
    if (!strcmp(p, "qsThreadInfo"))
        return reply_str(reply, cap, rlen, "l");
    if (!strncmp(p, "qThreadExtraInfo,", 17)) {
        const char *q = p + 17;
        int tid;
        if (parse_tid(&q, end, &tid) || q != end || !tid_ok(s, tid))
            return ERR("02");
        char text[32];
        int n = snprintf(text, sizeof(text), "vCPU %d", tid - 1);
        gdb_hex_encode((const uint8_t *)text, (size_t)n, reply);
        *rlen = 2 * (size_t)n;
        return GDB_REPLY;
    }
    if (!strncmp(p, "qXfer:features:read:", 20))
        return xfer(s, p + 20, end, reply, cap, rlen);
    if (!strncmp(p, "qRcmd,", 6))
        return monitor(s, p + 6, end, reply, cap, rlen);
    return reply_str(reply, cap, rlen, "");
}

enum gdb_result gdb_dispatch(struct gdb_session *s, char *pkt, size_t len,
                             char *reply, size_t cap, size_t *rlen)
{
    char *end = pkt + len;
    *rlen = 0;
    reply[0] = '\0';
    if (len == 0)
        return GDB_REPLY;
    switch (pkt[0]) {
    case '?':
        return reply_str(reply, cap, rlen, s->stop);
    case 'g':
    case 'G':
    case 'p':
    case 'P':
        if (pkt[0] == 'g' && len != 1)
            return ERR("01");
        return regs(s, pkt[0], pkt + 1, end, reply, cap, rlen);
    case 'm':
        return read_mem(s, pkt + 1, end, reply, cap, rlen);
    case 'M':
    case 'X':
        return write_mem(s, pkt + 1, end, pkt[0] == 'X', reply, cap, rlen);
    case 'c':
    case 'C':
    case 's':
    case 'S':
        return resume_legacy(s, pkt[0] == 's' || pkt[0] == 'S');
    case 'Z':
    case 'z':
        return breakpoint(s, pkt[0] == 'Z', pkt + 1, end, reply, cap, rlen);
    case 'H':
        return set_thread(s, pkt + 1, end, reply, cap, rlen);
    case 'T': {
        const char *q = pkt + 1;
        int tid;
        if (parse_tid(&q, end, &tid) || q != end || !tid_ok(s, tid))
            return ERR("02");
        return reply_str(reply, cap, rlen, "OK");
    }
    case 'k':
        return GDB_KILL;
    case 'D':
        reply_str(reply, cap, rlen, "OK");
        return GDB_DETACH;
    case 'v':
        if (!strcmp(pkt, "vCont?"))
            return reply_str(reply, cap, rlen, "vCont;c;C;s;S;t");
        if (!strncmp(pkt, "vCont;", 6))
            return vcont(s, pkt + 5, end, reply, cap, rlen);
        return reply_str(reply, cap, rlen, "");
    case 'q':
        return query(s, pkt, end, reply, cap, rlen);
    case 'Q':
        if (!strcmp(pkt, "QStartNoAckMode")) {
            s->noack = true;
            return reply_str(reply, cap, rlen, "OK");
        }
        return reply_str(reply, cap, rlen, "");
    default:
        return reply_str(reply, cap, rlen, "");
    }
}
