/* test_serial.c - the 16550A through its ports, without KVM: reset values,
 * divisor latch, loopback, FIFO, IIR priorities and THRE/RX interrupts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "fake_vm.h"

#include "core/bus.h"
#include "core/console.h"
#include "core/vm.h"
#include "devices/serial.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define B SERIAL_COM1_BASE

struct fixture {
    struct vm vm;
    struct console con;
    struct console_port port;
    struct serial *s;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    fake_vm_init(&f->vm, 0);
    fake_vm_console(&f->vm, &f->con, &f->port);     /* the test feeds input */
    f->s = serial_create(&f->vm, B, SERIAL_COM1_IRQ);
    assert_non_null(f->s);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    fake_vm_fini(&f->vm);
    free(f);
    return 0;
}

static uint8_t in8(struct fixture *f, unsigned reg)
{
    uint8_t d = 0;
    struct io_req r = { .addr = B + reg, .data = &d, .len = 1, .write = false };
    assert_int_equal(bus_access(&f->vm.pio, &r), IO_OK);
    return d;
}

static void out8(struct fixture *f, unsigned reg, uint8_t v)
{
    struct io_req r = { .addr = B + reg, .data = &v, .len = 1, .write = true };
    assert_int_equal(bus_access(&f->vm.pio, &r), IO_OK);
}

/* What the stdin reader thread does: put bytes in the ring, then notify. */
static void type(struct fixture *f, const char *s)
{
    pthread_mutex_lock(&f->con.in_lock);
    for (; *s; s++)
        f->con.in_buf[f->con.in_tail++ % CONSOLE_INBUF] = (uint8_t)*s;
    pthread_mutex_unlock(&f->con.in_lock);
    f->con.notify(f->con.notify_dev);
}

static bool irq(struct fixture *f)
{
    return serial_irq_level(f->s);
}

static void test_reset_values(void **state)
{
    struct fixture *f = *state;
    assert_int_equal(in8(f, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
    assert_int_equal(in8(f, UART_IIR), UART_IIR_NONE);
    assert_int_equal(in8(f, UART_IER), 0);
    assert_int_equal(in8(f, UART_LCR), 0);
    assert_int_equal(in8(f, UART_MCR), 0);
    assert_int_equal(in8(f, UART_MSR), UART_MSR_CTS | UART_MSR_DSR | UART_MSR_DCD);
    assert_false(irq(f));
}

static void test_transmit(void **state)
{
    struct fixture *f = *state;
    out8(f, UART_THR, 'h');
    out8(f, UART_THR, 'i');
    assert_int_equal(f->port.n, 2);
    assert_memory_equal(f->port.line, "hi", 2);
    assert_int_equal(in8(f, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT);
    assert_false(irq(f));       /* THRI not enabled */
}

static void test_scratch_and_ier_mask(void **state)
{
    struct fixture *f = *state;
    out8(f, UART_SCR, 0xA5);
    assert_int_equal(in8(f, UART_SCR), 0xA5);
    /* Linux's probe: IER keeps the low four bits only */
    out8(f, UART_IER, 0);
    assert_int_equal(in8(f, UART_IER), 0);
    out8(f, UART_IER, 0xFF);
    assert_int_equal(in8(f, UART_IER), 0x0F);
}

static void test_dlab_divisor(void **state)
{
    struct fixture *f = *state;
    out8(f, UART_LCR, UART_LCR_DLAB | 0x03);
    out8(f, UART_DLL, 0x0C);
    out8(f, UART_DLM, 0x01);
    assert_int_equal(in8(f, UART_DLL), 0x0C);
    assert_int_equal(in8(f, UART_DLM), 0x01);
    assert_int_equal(f->port.n, 0);            /* nothing transmitted */
    out8(f, UART_LCR, 0x03);
    assert_int_equal(in8(f, UART_IER), 0);      /* IER untouched by DLM */
    out8(f, UART_IER, UART_IER_RDI);
    out8(f, UART_LCR, UART_LCR_DLAB | 0x03);
    assert_int_equal(in8(f, UART_DLL), 0x0C);
    assert_int_equal(in8(f, UART_DLM), 0x01);
    assert_int_equal(in8(f, UART_LCR), 0x83);
}

static void test_loopback(void **state)
{
    struct fixture *f = *state;
    /* Linux's 8250 probe: LOOP | OUT2 | RTS must read back CTS | DCD */
    out8(f, UART_MCR, UART_MCR_LOOP | UART_MCR_OUT2 | UART_MCR_RTS);
    assert_int_equal(in8(f, UART_MSR) & 0xF0, 0x90);
    out8(f, UART_MCR, UART_MCR_LOOP | 0x0F);
    assert_int_equal(in8(f, UART_MSR) & 0xF0, 0xF0);
    out8(f, UART_THR, 'A');
    assert_int_equal(f->port.n, 0);             /* not sent to the console */
    assert_int_equal(in8(f, UART_LSR) & UART_LSR_DR, UART_LSR_DR);
    assert_int_equal(in8(f, UART_RBR), 'A');
    assert_int_equal(in8(f, UART_LSR) & UART_LSR_DR, 0);
    /* console input stays out of a looped-back receiver */
    type(f, "x");
    assert_int_equal(in8(f, UART_LSR) & UART_LSR_DR, 0);
    out8(f, UART_MCR, UART_MCR_OUT2);
    assert_int_equal(in8(f, UART_MSR) & 0xF0, 0xB0);
    assert_int_equal(in8(f, UART_RBR), 'x');
}

static void test_fifo_identification(void **state)
{
    struct fixture *f = *state;
    out8(f, UART_FCR, UART_FCR_ENABLE);
    assert_int_equal(in8(f, UART_IIR), UART_IIR_FIFO | UART_IIR_NONE);  /* 16550A */
    out8(f, UART_FCR, 0);
    assert_int_equal(in8(f, UART_IIR), UART_IIR_NONE);
}

static void test_thre_interrupt(void **state)
{
    struct fixture *f = *state;
    out8(f, UART_FCR, UART_FCR_ENABLE);
    out8(f, UART_IER, UART_IER_THRI);           /* enabling raises THRE */
    assert_true(irq(f));
    assert_int_equal(in8(f, UART_IIR), UART_IIR_FIFO | UART_IIR_THRI);
    assert_false(irq(f));                       /* reading IIR acknowledged it */
    assert_int_equal(in8(f, UART_IIR), UART_IIR_FIFO | UART_IIR_NONE);
    /* Linux's THRE test: IER 0 then THRI again must re-assert */
    out8(f, UART_IER, 0);
    out8(f, UART_IER, UART_IER_THRI);
    assert_true(irq(f));
    assert_int_equal(in8(f, UART_IIR) & UART_IIR_ID, UART_IIR_THRI);
    /* a transmitted byte empties THR again */
    out8(f, UART_THR, 'z');
    assert_true(irq(f));
    assert_int_equal(in8(f, UART_IIR) & UART_IIR_ID, UART_IIR_THRI);
    assert_false(irq(f));
    /* disabling the source drops the line */
    out8(f, UART_THR, 'z');
    assert_true(irq(f));
    out8(f, UART_IER, 0);
    assert_false(irq(f));
}

static void test_receive_interrupt_priority(void **state)
{
    struct fixture *f = *state;
    out8(f, UART_FCR, UART_FCR_ENABLE);
    out8(f, UART_IER, UART_IER_RDI | UART_IER_THRI);
    type(f, "ab");
    assert_true(irq(f));
    /* RX data outranks THRE, and reading IIR does not clear it */
    assert_int_equal(in8(f, UART_IIR) & UART_IIR_ID, UART_IIR_RDI);
    assert_int_equal(in8(f, UART_IIR) & UART_IIR_ID, UART_IIR_RDI);
    assert_int_equal(in8(f, UART_LSR), UART_LSR_THRE | UART_LSR_TEMT | UART_LSR_DR);
    assert_int_equal(in8(f, UART_RBR), 'a');
    assert_int_equal(in8(f, UART_RBR), 'b');
    /* then the THRE that was pending all along */
    assert_true(irq(f));
    assert_int_equal(in8(f, UART_IIR) & UART_IIR_ID, UART_IIR_THRI);
    assert_int_equal(in8(f, UART_IIR) & UART_IIR_ID, UART_IIR_NONE);
    assert_false(irq(f));
}

/* xv6's uartinit() leaves MCR = 0 (OUT2 off) and still expects IRQ 4 for
 * received bytes, as QEMU gives it: the line must not be gated on OUT2. */
static void test_xv6_init_rx_irq_without_out2(void **state)
{
    struct fixture *f = *state;
    out8(f, UART_FCR, 0);                   /* FIFOs off: a 16450 */
    out8(f, UART_LCR, UART_LCR_DLAB);
    out8(f, UART_THR, 12);                  /* 9600 baud */
    out8(f, UART_IER, 0);
    out8(f, UART_LCR, 0x03);                /* 8N1, DLAB off */
    out8(f, UART_MCR, 0);
    out8(f, UART_IER, UART_IER_RDI);
    assert_int_not_equal(in8(f, UART_LSR), 0xFF);   /* "there is a UART" */
    in8(f, UART_IIR);
    in8(f, UART_RBR);
    assert_false(irq(f));
    type(f, "x");
    assert_true(irq(f));                    /* with MCR.OUT2 = 0 */
    assert_int_equal(in8(f, UART_LSR) & UART_LSR_DR, UART_LSR_DR);
    assert_int_equal(in8(f, UART_RBR), 'x');
    assert_false(irq(f));
}

/* A key pressed while the line is already high (its edge may have been lost
 * on a masked IOAPIC pin) raises a new edge, even when the one-byte holding
 * register of a FIFO-less UART has no room for it yet. */
static void test_new_input_re_asserts_the_line(void **state)
{
    struct fixture *f = *state;
    out8(f, UART_FCR, 0);
    out8(f, UART_IER, UART_IER_RDI);
    type(f, "a");
    assert_true(irq(f));
    unsigned edges = serial_irq_edges(f->s);
    type(f, "b");                           /* waits in the console ring */
    assert_true(irq(f));
    assert_int_equal(serial_irq_edges(f->s), edges + 1);
    assert_int_equal(in8(f, UART_RBR), 'a');
    assert_true(irq(f));                    /* 'b' moved in */
    assert_int_equal(in8(f, UART_RBR), 'b');
    assert_false(irq(f));
    type(f, "c");                           /* line low: one ordinary edge */
    assert_int_equal(serial_irq_edges(f->s), edges + 2);
}

static void test_line_status_priority(void **state)
{
    struct fixture *f = *state;
    /* FIFOs off (16450 mode): a second looped-back byte overruns */
    out8(f, UART_MCR, UART_MCR_LOOP);
    in8(f, UART_MSR);           /* clear the deltas of entering loopback */
    out8(f, UART_THR, '1');
    out8(f, UART_THR, '2');
    out8(f, UART_IER, UART_IER_RLSI | UART_IER_RDI | UART_IER_THRI | UART_IER_MSI);
    assert_int_equal(in8(f, UART_IIR), UART_IIR_RLSI);
    assert_int_equal(in8(f, UART_LSR) & (UART_LSR_OE | UART_LSR_DR), UART_LSR_OE | UART_LSR_DR);
    assert_int_equal(in8(f, UART_IIR), UART_IIR_RDI);   /* LSR read cleared OE */
    assert_int_equal(in8(f, UART_RBR), '1');
    assert_int_equal(in8(f, UART_IIR), UART_IIR_THRI);
    /* modem status is last: toggle RTS in loopback */
    out8(f, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
    assert_int_equal(in8(f, UART_IIR), UART_IIR_MSI);
    assert_int_equal(in8(f, UART_MSR), UART_MSR_CTS | 0x01);   /* DCTS */
    assert_int_equal(in8(f, UART_IIR), UART_IIR_NONE);
    assert_false(irq(f));
}

static void test_fifo_depth_and_refill(void **state)
{
    struct fixture *f = *state;
    out8(f, UART_FCR, UART_FCR_ENABLE);
    const char *msg = "0123456789abcdefghijKLMN";   /* 24 bytes > 16 */
    type(f, msg);
    for (size_t i = 0; i < strlen(msg); i++) {
        assert_true(in8(f, UART_LSR) & UART_LSR_DR);
        assert_int_equal(in8(f, UART_RBR), (uint8_t)msg[i]);
    }
    assert_false(in8(f, UART_LSR) & UART_LSR_DR);
    assert_false(in8(f, UART_LSR) & UART_LSR_OE);   /* nothing was dropped */
}

/* Clearing the RX FIFO drops loopback bytes but never console input. */
static void test_fifo_clear(void **state)
{
    struct fixture *f = *state;
    type(f, "ab");                  /* typed before the guest set up the UART */
    out8(f, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
    out8(f, UART_MCR, UART_MCR_LOOP);
    out8(f, UART_THR, 'x');
    out8(f, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
    out8(f, UART_MCR, 0);
    assert_int_equal(in8(f, UART_RBR), 'a');
    assert_int_equal(in8(f, UART_RBR), 'b');
    assert_false(in8(f, UART_LSR) & UART_LSR_DR);
    out8(f, UART_MCR, UART_MCR_LOOP);
    out8(f, UART_THR, 'y');
    out8(f, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
    assert_false(in8(f, UART_LSR) & UART_LSR_DR);
}

/* Clearing the receiver keeps console bytes even when the ring has wrapped. */
static void test_fifo_clear_wrapped(void **state)
{
    struct fixture *f = *state;
    out8(f, UART_FCR, UART_FCR_ENABLE);
    type(f, "0123456789");
    for (int i = 0; i < 10; i++)
        in8(f, UART_RBR);           /* the ring's head is now at 10 */
    type(f, "ABCDEFGHIJ");          /* slots 10..15, 0..3 */
    out8(f, UART_FCR, UART_FCR_ENABLE | UART_FCR_CLEAR_RX);
    char got[17] = { 0 };
    for (int n = 0; n < 16 && (in8(f, UART_LSR) & UART_LSR_DR); n++)
        got[n] = (char)in8(f, UART_RBR);
    assert_string_equal(got, "ABCDEFGHIJ");
}

static void test_wide_and_unclaimed_access(void **state)
{
    struct fixture *f = *state;
    uint8_t d[2] = { 0, 0 };
    struct io_req r = { .addr = B + UART_LSR, .data = d, .len = 2, .write = false };
    assert_int_equal(bus_access(&f->vm.pio, &r), IO_OK);
    assert_int_equal(d[0], UART_LSR_THRE | UART_LSR_TEMT);
    assert_int_equal(d[1], 0xFF);
    /* the range is exactly 8 ports */
    uint8_t v = 0;
    struct io_req r2 = { .addr = B + 8, .data = &v, .len = 1, .write = false };
    assert_int_equal(bus_access(&f->vm.pio, &r2), -1);
}

/* The stdin reader thread and a vCPU at the same time: every byte arrives,
 * in order, with the IRQ line consistent. Bounded by `make unit`'s timeout. */
#define CONCURRENT_BYTES 3000

static void *typist(void *arg)
{
    struct fixture *f = arg;
    char chunk[101];
    for (int i = 0; i < CONCURRENT_BYTES; i += 100) {
        for (int j = 0; j < 100; j++)
            chunk[j] = (char)('A' + (i + j) % 26);
        chunk[100] = 0;
        type(f, chunk);
    }
    return NULL;
}

static void test_concurrent_input(void **state)
{
    struct fixture *f = *state;
    out8(f, UART_FCR, UART_FCR_ENABLE);
    out8(f, UART_IER, UART_IER_RDI);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, typist, f), 0);
    int got = 0;
    while (got < CONCURRENT_BYTES) {
        if (!(in8(f, UART_LSR) & UART_LSR_DR))
            continue;
        assert_int_equal(in8(f, UART_IIR) & UART_IIR_ID, UART_IIR_RDI);
        assert_int_equal(in8(f, UART_RBR), 'A' + got % 26);
        got++;
    }
    pthread_join(t, NULL);
    assert_false(in8(f, UART_LSR) & UART_LSR_DR);
    assert_int_equal(in8(f, UART_IIR) & UART_IIR_ID, UART_IIR_NONE);
    assert_false(irq(f));
}

static void test_duplicate_rejected(void **state)
{
    struct fixture *f = *state;
    assert_null(serial_create(&f->vm, B + 4, SERIAL_COM1_IRQ));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reset_values, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transmit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scratch_and_ier_mask, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dlab_divisor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_loopback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_identification, setup, teardown),
        cmocka_unit_test_setup_teardown(test_thre_interrupt, setup, teardown),
        cmocka_unit_test_setup_teardown(test_receive_interrupt_priority, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xv6_init_rx_irq_without_out2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_input_re_asserts_the_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_status_priority, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_depth_and_refill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fifo_clear_wrapped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wide_and_unclaimed_access, setup, teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_rejected, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
