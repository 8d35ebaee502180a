/* fuzz/gdb_packet.c - libFuzzer target for the GDB stub's wire side: bytes ->
 * framing -> every command against a fake target -> framed replies (`make fuzz`). */
#include "debug/gdb_packet.h"
#include "debug/gdb_proto.h"
#include "debug/gdb_x86.h"
#include "gdb_fake.h"

#include <stdint.h>
#include <string.h>

struct world {
    struct gdb_rx rx;
    struct fake f;
    struct gdb_target t;
    struct gdb_session s;
    char reply[2 * GDB_MEM_MAX + 256];
    char frame[2 * (2 * GDB_MEM_MAX + 256) + 8];
};

/* The register tables: any register number and any bytes, both layouts. */
static void fuzz_x86(const uint8_t *data, size_t size)
{
    struct gdb_x86_state st;
    uint8_t buf[1024];
    memset(&st, 0, sizeof(st));
    memcpy(&st, data, size < sizeof(st) ? size : sizeof(st));
    int regno = size ? (int)(int8_t)data[0] : 0;
    for (int l = GDB_X86_I8086; l <= GDB_X86_AMD64; l++) {
        gdb_x86_read_reg((enum gdb_x86_layout)l, &st, regno, buf, sizeof(buf));
        gdb_x86_write_reg((enum gdb_x86_layout)l, &st, regno, data, size < 16 ? size : 16);
        int n = gdb_x86_read_all((enum gdb_x86_layout)l, &st, buf, sizeof(buf));
        if (n > 0)
            gdb_x86_write_all((enum gdb_x86_layout)l, &st, buf, (size_t)n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct world w;
    gdb_rx_init(&w.rx);
    fake_target(&w.t, &w.f);
    gdb_session_init(&w.s, &w.t);
    for (size_t i = 0; i < size; i++) {
        if (gdb_rx_byte(&w.rx, data[i]) != GDB_RX_PACKET)
            continue;
        size_t rlen;
        gdb_dispatch(&w.s, w.rx.buf, w.rx.len, w.reply, sizeof(w.reply), &rlen);
        if (rlen >= sizeof(w.reply))
            __builtin_trap();       /* a reply must fit its buffer */
        if (!gdb_frame(w.frame, sizeof(w.frame), w.reply, rlen))
            __builtin_trap();       /* and its frame */
    }
    /* The checksum stops most random packets: also hand every line to the
     * dispatcher as if it had arrived with a good one. */
    gdb_session_init(&w.s, &w.t);
    for (size_t i = 0; i < size;) {
        size_t n = 0;
        while (i + n < size && data[i + n] != '\n' && n < GDB_PKT_MAX)
            n++;
        memcpy(w.rx.buf, data + i, n);
        w.rx.buf[n] = '\0';
        size_t rlen;
        gdb_dispatch(&w.s, w.rx.buf, n, w.reply, sizeof(w.reply), &rlen);
        if (rlen >= sizeof(w.reply) || !gdb_frame(w.frame, sizeof(w.frame), w.reply, rlen))
            __builtin_trap();
        i += n + 1;
    }
    fuzz_x86(data, size);
    return 0;
}
