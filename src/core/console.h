/* console.h - guest output and input: whole lines prefixed [name] when
 * several guests run, stdin fed to one guest, raw terminal for kernels. */
#ifndef MINI_KVM_CONSOLE_H
#define MINI_KVM_CONSOLE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CONSOLE_LINE 1024
#define CONSOLE_INBUF 65536    /* typed-ahead input waiting for the guest */

/* Shared by every guest of the process. */
struct console {
    pthread_mutex_t out_lock;   /* one line at a time on stdout (L4, after port.lock; vm.h) */
    bool prefix;                /* several guests: "[name] " before lines */
    bool colour;                /* stdout is a TTY and NO_COLOR is unset */

    /* stdin, owned by one guest */
    pthread_mutex_t in_lock;    /* lock order L3 (core/vm.h) */
    pthread_cond_t in_cond;
    uint8_t in_buf[CONSOLE_INBUF];
    size_t in_head, in_tail;    /* ring: head = next to read */
    bool in_eof, reader_started;
    bool escapes;               /* Ctrl-A commands (raw TTY) */
    bool esc_pending;           /* a Ctrl-A was the last byte read (the reader's;
                                 * main's before the gate opens) */
    pthread_t reader;
    pthread_mutex_t notify_lock; /* held while notify/quit run or change,
                                  * and for escapes: lock order L1 (vm.h) */
    void (*notify)(void *dev);  /* called when input arrives */
    void *notify_dev;
    void (*quit)(void *arg);    /* Ctrl-A x */
    void *quit_arg;
    void (*screen)(void *arg);  /* Ctrl-A v: print the guest's screen */
    void *screen_arg;
    struct sandbox *sandbox;    /* the reader waits at its gate, then seals */
    void (*top)(void *arg);     /* Ctrl-A t: toggle --top */
    void *top_arg;
    /* Where the guest's output stream is (under out_lock): inside an escape
     * sequence or a UTF-8 character, --top must not draw (console_draw). */
    uint8_t out_esc;            /* 0 text, 1 after ESC, 2 in a CSI sequence */
    uint8_t out_utf8;           /* continuation bytes still to come */
};

/* One guest's end of the console. */
struct console_port {
    struct console *con;
    const char *name;
    int index;                  /* picks the prefix colour */
    bool owns_stdin;
    atomic_bool stopped;        /* the guest is stopping: getchar returns -1,
                                 * output no longer waits for stdout */
    pthread_mutex_t lock;       /* lock order L4, before con->out_lock (vm.h) */
    char line[CONSOLE_LINE];
    size_t n;
};

void console_init(struct console *c, bool several_guests);
void console_port_init(struct console_port *p, struct console *c,
                       const char *name, int index, bool owns_stdin);

/* Guest output. Complete lines are written whole; with one guest the bytes
 * go straight out (a shell prompt has no newline). */
void console_write(struct console_port *p, const void *buf, size_t n);
/* Emit a pending partial line (guest stopped). */
void console_flush(struct console_port *p);

/* Input. console_getchar blocks for one byte and returns -1 at end of input
 * (or when this guest does not own stdin, or has stopped). console_poll
 * returns -1 when no byte is waiting, never blocking. */
int console_getchar(struct console_port *p);
int console_poll(struct console_port *p);

/* Start reading stdin on a thread; notify(dev) runs whenever input arrives
 * (the UART raises its interrupt). */
void console_start_input(struct console_port *p, void (*notify)(void *), void *dev);
/* Start the stdin reader now if a guest owns stdin (before the sandbox is
 * sealed: a sealed vCPU thread may not create threads). */
void console_start_reader(struct console *c);
/* Hand input already waiting on stdin to the guest's device now, on the
 * calling thread, before the guest's first instruction: called by main just
 * before the gate opens, while the reader thread still waits at it. */
void console_take_waiting_input(struct console *c);
/* Detach the notify and quit callbacks (before devices and VMs are freed). */
void console_stop_input(struct console *c);
/* The guest is stopping: wake a vCPU blocked in console_getchar (-1). */
void console_port_stop(struct console_port *p);

/* Kernels on a terminal: raw mode with Ctrl-A commands; quit(arg) runs on
 * Ctrl-A x. The terminal is restored at exit and on fatal signals. */
void console_raw(struct console *c, void (*quit)(void *), void *arg);
void console_restore(void);

/* Ctrl-A v runs screen(arg) on the reader thread (raw terminal only); it
 * prints on stderr with "\r\n" line ends. Cleared by console_stop_input. */
void console_set_screen(struct console *c, void (*screen)(void *), void *arg);

/* Ctrl-A t runs top(arg) on the reader thread (raw terminal only). */
void console_set_top(struct console *c, void (*top)(void *), void *arg);

/* --top: write buf to stderr between two pieces of guest output, never
 * inside an escape sequence or a UTF-8 character of the guest's. Returns
 * false (nothing written) when the guest's stream is in the middle of one. */
bool console_draw(struct console *c, const char *buf, size_t n);

/* --top's status area of `rows` lines: while set, console_restore() (at
 * exit and on fatal signals, which this installs handlers for) also resets
 * the terminal's scrolling region and clears those lines. rows = 0 does
 * that now (and leaves a raw terminal raw). */
void console_status_area(int rows);

#endif
