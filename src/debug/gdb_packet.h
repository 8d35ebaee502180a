/* gdb_packet.h - the GDB remote serial protocol's byte level: $...#cs framing,
 * acks, Ctrl-C, checksums, hex, binary escapes. Pure code, unit- and fuzz-tested. */
#ifndef MINI_KVM_GDB_PACKET_H
#define MINI_KVM_GDB_PACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest packet we accept or send (advertised as PacketSize): a 'G' of the
 * biggest register file or an X of a few KiB fits. */
#define GDB_PKT_MAX 16384

/* What one received byte completed. */
enum gdb_rx_event {
    GDB_RX_NONE,        /* nothing yet */
    GDB_RX_PACKET,      /* rx->buf[0..len) holds a packet with a good checksum */
    GDB_RX_BADSUM,      /* a packet ended with a wrong checksum (or bad digits): NAK it */
    GDB_RX_TOOLONG,     /* a packet longer than GDB_PKT_MAX ended: ack, answer E */
    GDB_RX_INTERRUPT,   /* 0x03 between packets: Ctrl-C */
    GDB_RX_ACK,         /* '+' */
    GDB_RX_NAK,         /* '-' */
};

struct gdb_rx {
    char buf[GDB_PKT_MAX + 1];  /* NUL-terminated payload (may hold NULs: use len) */
    size_t len;
    int state;                  /* internal */
    uint8_t sum;                /* running checksum of the payload */
    uint8_t got;                /* the first checksum digit */
    bool overflow;
};

void gdb_rx_init(struct gdb_rx *rx);
enum gdb_rx_event gdb_rx_byte(struct gdb_rx *rx, uint8_t b);

/* Frame payload[0..len) as "$...#xx" into out (binary-safe: '$', '#', '}'
 * and '*' are escaped). Returns the framed length, or 0 if it does not fit. */
size_t gdb_frame(char *out, size_t cap, const char *payload, size_t len);

/* Checksum: sum of the bytes modulo 256. */
uint8_t gdb_checksum(const char *p, size_t len);

/* Hex digit value, or -1. */
int gdb_hexval(int c);

/* Decode 2*n hex digits from s into out[0..n). -1 on a bad digit. */
int gdb_hex_decode(const char *s, size_t n, uint8_t *out);

/* Encode n bytes as 2*n lowercase hex digits plus a NUL into out. */
void gdb_hex_encode(const uint8_t *in, size_t n, char *out);

/* Parse a hex number (1 to 16 digits) at *p, advancing *p past it.
 * -1 if there is no digit or it overflows 64 bits. */
int gdb_parse_hex(const char **p, const char *end, uint64_t *v);

/* Undo the '}' escapes of binary data (X packet) in place; returns the new
 * length, or -1 for a '}' at the very end. */
long gdb_unescape(char *p, size_t len);

#endif
