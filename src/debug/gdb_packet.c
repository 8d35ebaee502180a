/* gdb_packet.c - framing, checksums and hex for the GDB remote protocol. No
 * I/O here: gdbstub.c feeds bytes in and writes what gdb_frame builds. */
#include "gdb_packet.h"

#include <string.h>

enum { ST_IDLE, ST_DATA, ST_SUM1, ST_SUM2 };

void gdb_rx_init(struct gdb_rx *rx)
{
    rx->len = 0;
    rx->state = ST_IDLE;
    rx->sum = 0;
    rx->got = 0;
    rx->overflow = false;
    rx->buf[0] = '\0';
}

int gdb_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

uint8_t gdb_checksum(const char *p, size_t len)
{
    uint8_t s = 0;
    for (size_t i = 0; i < len; i++)
        s = (uint8_t)(s + (uint8_t)p[i]);
    return s;
}

enum gdb_rx_event gdb_rx_byte(struct gdb_rx *rx, uint8_t b)
{
    switch (rx->state) {
    case ST_IDLE:
        if (b == '$') {
            rx->len = 0;
            rx->sum = 0;
            rx->overflow = false;
            rx->state = ST_DATA;
            return GDB_RX_NONE;
        }
        if (b == 0x03)
            return GDB_RX_INTERRUPT;
        if (b == '+')
            return GDB_RX_ACK;
        if (b == '-')
            return GDB_RX_NAK;
        return GDB_RX_NONE;     /* noise between packets is ignored, as gdbserver does */
    case ST_DATA:
        if (b == '#') {
            rx->state = ST_SUM1;
            return GDB_RX_NONE;
        }
        if (b == '$') {         /* a new packet started: the old one was cut off */
            rx->len = 0;
            rx->sum = 0;
            rx->overflow = false;
            return GDB_RX_NONE;
        }
        rx->sum = (uint8_t)(rx->sum + b);
        if (rx->len < GDB_PKT_MAX)
            rx->buf[rx->len++] = (char)b;
        else
            rx->overflow = true;
        return GDB_RX_NONE;
    case ST_SUM1:
        rx->got = b;
        rx->state = ST_SUM2;
        return GDB_RX_NONE;
    default: {
        rx->state = ST_IDLE;
        rx->buf[rx->len] = '\0';
        int hi = gdb_hexval(rx->got), lo = gdb_hexval(b);
        if (hi < 0 || lo < 0 || (uint8_t)(hi << 4 | lo) != rx->sum)
            return GDB_RX_BADSUM;
        return rx->overflow ? GDB_RX_TOOLONG : GDB_RX_PACKET;
    }
    }
}

size_t gdb_frame(char *out, size_t cap, const char *payload, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    uint8_t sum = 0;
    if (cap < 4)
        return 0;
    out[o++] = '$';
    for (size_t i = 0; i < len; i++) {
        char c = payload[i];
        if (c == '$' || c == '#' || c == '}' || c == '*') {
            if (o + 2 > cap - 3)
                return 0;
            out[o++] = '}';
            sum = (uint8_t)(sum + '}');
            c = (char)(c ^ 0x20);
        } else if (o + 1 > cap - 3) {
            return 0;
        }
        out[o++] = c;
        sum = (uint8_t)(sum + (uint8_t)c);
    }
    out[o++] = '#';
    out[o++] = hex[sum >> 4];
    out[o++] = hex[sum & 15];
    return o;
}

int gdb_hex_decode(const char *s, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        int hi = gdb_hexval((unsigned char)s[2 * i]);
        int lo = hi < 0 ? -1 : gdb_hexval((unsigned char)s[2 * i + 1]);
        if (lo < 0)
            return -1;
        out[i] = (uint8_t)(hi << 4 | lo);
    }
    return 0;
}

void gdb_hex_encode(const uint8_t *in, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[in[i] >> 4];
        out[2 * i + 1] = hex[in[i] & 15];
    }
    out[2 * n] = '\0';
}

int gdb_parse_hex(const char **p, const char *end, uint64_t *v)
{
    const char *s = *p;
    uint64_t x = 0;
    int n = 0;
    for (; s < end && gdb_hexval((unsigned char)*s) >= 0; s++, n++) {
        if (n == 16)
            return -1;
        x = x << 4 | (uint64_t)gdb_hexval((unsigned char)*s);
    }
    if (n == 0)
        return -1;
    *p = s;
    *v = x;
    return 0;
}

long gdb_unescape(char *p, size_t len)
{
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '}') {
            if (++i == len)
                return -1;
            p[o++] = (char)(p[i] ^ 0x20);
        } else {
            p[o++] = p[i];
        }
    }
    return (long)o;
}
