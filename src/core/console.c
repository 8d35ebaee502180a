/* console.c - stdout line discipline for one or many guests, a stdin reader
 * thread with a ring buffer, and the raw-terminal mode with Ctrl-A keys. */
#include "console.h"
#include "sandbox.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

/* Can fd take bytes now? (A full pipe whose reader has stopped cannot.) */
static bool writable_now(int fd)
{
    struct pollfd pf = { .fd = fd, .events = POLLOUT };
    return poll(&pf, 1, 0) == 1 && (pf.revents & POLLOUT);
}

/* Write everything, unless `stop` (the guest's console port) is set: a
 * stopping guest's output must never keep mini-kvm alive when stdout is a
 * pipe nobody reads (--timeout, Ctrl-A x). vm_stop sets it, then kicks the
 * vCPU (SIGUSR1, no SA_RESTART), which ends a blocked write with EINTR or a
 * short count; from then on only what fits at once is written. A kick that
 * lands just before write() is entered is repeated by vm_wait. */
static void write_all(int fd, const void *buf, size_t n, const atomic_bool *stop)
{
    const char *p = buf;
    while (n) {
        if (stop && atomic_load(stop) && !writable_now(fd))
            return;     /* stopping, stdout full: the rest is dropped */
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return;     /* stdout closed: nothing useful to do */
        p += w;
        n -= (size_t)w;
    }
}

void console_init(struct console *c, bool several_guests)
{
    memset(c, 0, sizeof(*c));
    pthread_mutex_init(&c->out_lock, NULL);
    pthread_mutex_init(&c->in_lock, NULL);
    pthread_mutex_init(&c->notify_lock, NULL);
    pthread_cond_init(&c->in_cond, NULL);
    c->prefix = several_guests;
    const char *nc = getenv("NO_COLOR");
    c->colour = isatty(1) && !(nc && *nc);
}

void console_port_init(struct console_port *p, struct console *c,
                       const char *name, int index, bool owns_stdin)
{
    memset(p, 0, sizeof(*p));
    p->con = c;
    p->name = name;
    p->index = index;
    p->owns_stdin = owns_stdin;
    atomic_init(&p->stopped, false);
    pthread_mutex_init(&p->lock, NULL);
}

/* Follow the guest's output through escape sequences and UTF-8 characters
 * (out_lock held), so that --top draws only between them. */
static void track(struct console *c, const uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = b[i];
        if (c->out_esc == 1)
            c->out_esc = ch == '[' ? 2 : 0;
        else if (c->out_esc == 2)
            c->out_esc = ch >= 0x40 && ch <= 0x7E ? 0 : 2;
        else if (ch == 0x1B)
            c->out_esc = 1;
        else if (c->out_utf8 && (ch & 0xC0) == 0x80)
            c->out_utf8--;
        else
            c->out_utf8 = ch >= 0xF0 ? 3 : ch >= 0xE0 ? 2 : ch >= 0xC0 ? 1 : 0;
    }
}

/* Write p->line as "[name] line\n" under the shared lock. */
static void emit_line(struct console_port *p)
{
    static const int colours[] = { 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96 };
    char head[96];
    int hn;
    if (p->con->colour)
        hn = snprintf(head, sizeof(head), "\033[%dm[%s]\033[0m ",
                      colours[p->index % 11], p->name);
    else
        hn = snprintf(head, sizeof(head), "[%s] ", p->name);
    if (hn >= (int)sizeof(head))
        hn = (int)sizeof(head) - 1;
    char out[sizeof(head) + CONSOLE_LINE + 1];
    memcpy(out, head, (size_t)hn);
    memcpy(out + hn, p->line, p->n);
    size_t len = (size_t)hn + p->n;
    if (len == 0 || out[len - 1] != '\n')
        out[len++] = '\n';
    pthread_mutex_lock(&p->con->out_lock);
    track(p->con, (const uint8_t *)out, len);
    write_all(1, out, len, &p->stopped);
    pthread_mutex_unlock(&p->con->out_lock);
    p->n = 0;
}

void console_write(struct console_port *p, const void *buf, size_t n)
{
    if (!p->con->prefix) {
        pthread_mutex_lock(&p->con->out_lock);
        track(p->con, buf, n);
        write_all(1, buf, n, &p->stopped);
        pthread_mutex_unlock(&p->con->out_lock);
        return;
    }
    const char *s = buf;
    pthread_mutex_lock(&p->lock);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\r')
            continue;   /* lines are rejoined with our own newlines */
        p->line[p->n++] = s[i];
        if (s[i] == '\n' || p->n == CONSOLE_LINE)
            emit_line(p);
    }
    pthread_mutex_unlock(&p->lock);
}

void console_flush(struct console_port *p)
{
    pthread_mutex_lock(&p->lock);
    if (p->n)
        emit_line(p);
    pthread_mutex_unlock(&p->lock);
}

/* ---- input ---- */

static size_t in_count(const struct console *c)
{
    return c->in_tail - c->in_head;
}

static void notify(struct console *c)
{
    pthread_mutex_lock(&c->notify_lock);
    if (c->notify)
        c->notify(c->notify_dev);
    pthread_mutex_unlock(&c->notify_lock);
}

/* Queue input for the guest. From a pipe or file a full ring makes the
 * reader wait (scripted input is never lost). On a raw terminal it must keep
 * reading so that Ctrl-A x always works, so bytes that do not fit are
 * dropped, as a real UART drops them on overrun. */
static void push_input(struct console *c, const uint8_t *b, size_t n, bool may_drop)
{
    pthread_mutex_lock(&c->in_lock);
    for (size_t i = 0; i < n; i++) {
        while (in_count(c) == CONSOLE_INBUF && !may_drop)   /* wait, do not spin */
            pthread_cond_wait(&c->in_cond, &c->in_lock);
        if (in_count(c) < CONSOLE_INBUF)
            c->in_buf[c->in_tail++ % CONSOLE_INBUF] = b[i];
    }
    pthread_cond_broadcast(&c->in_cond);
    pthread_mutex_unlock(&c->in_lock);
    notify(c);
}

static const char escape_help[] =
    "\r\nC-a h    print this help\r\n"
    "C-a x    exit mini-kvm\r\n"
    "C-a v    print the guest's CGA text screen\r\n"
    "C-a t    show or hide the exits per second (--top)\r\n"
    "C-a C-a  send C-a to the guest\r\n";

/* Ctrl-A commands; returns how many bytes of b to pass on to the guest. */
static size_t filter_escapes(struct console *c, uint8_t *b, size_t n, bool *pending)
{
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        if (*pending) {
            *pending = false;
            if (b[i] == 'x' || b[i] == 'X') {
                console_restore();
                pthread_mutex_lock(&c->notify_lock);
                if (c->quit)
                    c->quit(c->quit_arg);
                pthread_mutex_unlock(&c->notify_lock);
                continue;
            }
            if (b[i] == 'v' || b[i] == 'V') {
                pthread_mutex_lock(&c->notify_lock);
                if (c->screen)
                    c->screen(c->screen_arg);
                pthread_mutex_unlock(&c->notify_lock);
                continue;
            }
            if (b[i] == 't' || b[i] == 'T') {
                pthread_mutex_lock(&c->notify_lock);
                if (c->top)
                    c->top(c->top_arg);
                pthread_mutex_unlock(&c->notify_lock);
                continue;
            }
            if (b[i] == 'h' || b[i] == 'H' || b[i] == '?') {
                write_all(2, escape_help, sizeof(escape_help) - 1, NULL);
                continue;
            }
            if (b[i] != 1)
                continue;   /* unknown command: dropped, like QEMU */
        } else if (b[i] == 1) {
            *pending = true;
            continue;
        }
        b[out++] = b[i];
    }
    return out;
}

/* Bytes read from stdin: Ctrl-A commands out, the rest to the guest. */
static void take_input(struct console *c, uint8_t *b, size_t n)
{
    pthread_mutex_lock(&c->notify_lock);    /* set by console_raw */
    bool escapes = c->escapes;
    pthread_mutex_unlock(&c->notify_lock);
    if (escapes)
        n = filter_escapes(c, b, n, &c->esc_pending);
    if (n)
        push_input(c, b, n, escapes);
}

/* Input typed ahead, or written into a pipe before we started, would
 * otherwise wait for the reader thread to wake after the gate: on a busy
 * host a thread woken on an idle CPU can take a millisecond, while the
 * guest (a restored one answers in ~2 ms) waits for it. Only what is there
 * already: poll first, one read; the reader takes the rest, and EOF. */
void console_take_waiting_input(struct console *c)
{
    pthread_mutex_lock(&c->in_lock);
    bool reader = c->reader_started && !c->in_eof;
    pthread_mutex_unlock(&c->in_lock);
    struct pollfd pf = { .fd = 0, .events = POLLIN };
    if (!reader || poll(&pf, 1, 0) != 1 || !(pf.revents & POLLIN))
        return;
    uint8_t b[256];
    ssize_t r = read(0, b, sizeof(b));
    if (r > 0)
        take_input(c, b, (size_t)r);
}

static void *reader_thread(void *arg)
{
    struct console *c = arg;
    uint8_t b[256];
    sandbox_enter(c->sandbox, SANDBOX_CONSOLE);
    for (;;) {
        ssize_t r = read(0, b, sizeof(b));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        take_input(c, b, (size_t)r);
    }
    pthread_mutex_lock(&c->in_lock);
    c->in_eof = true;   /* the thread ends here: nothing polls stdin again */
    pthread_cond_broadcast(&c->in_cond);
    pthread_mutex_unlock(&c->in_lock);
    notify(c);
    return NULL;
}

static void start_reader(struct console *c)
{
    pthread_mutex_lock(&c->in_lock);
    if (!c->reader_started) {
        c->reader_started = true;
        int e = pthread_create(&c->reader, NULL, reader_thread, c);
        if (e) {
            errorf("stdin: cannot start reader thread: %s", strerror(e));
            c->in_eof = true;
        } else {
            pthread_detach(c->reader);
        }
    }
    pthread_mutex_unlock(&c->in_lock);
}

/* stdin is /dev/null (or closed): every read is end of input at once. */
static bool stdin_is_null(void)
{
    struct stat st;
    if (fstat(0, &st) < 0)
        return errno == EBADF;
    return S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 && minor(st.st_rdev) == 3;
}

void console_start_reader(struct console *c)
{
    pthread_mutex_lock(&c->in_lock);
    if (!c->reader_started && stdin_is_null()) {
        c->reader_started = c->in_eof = true;   /* no thread needed (start-up cost) */
        pthread_cond_broadcast(&c->in_cond);
    }
    pthread_mutex_unlock(&c->in_lock);
    start_reader(c);
}

void console_start_input(struct console_port *p, void (*notify)(void *), void *dev)
{
    if (!p->owns_stdin)
        return;
    pthread_mutex_lock(&p->con->notify_lock);
    p->con->notify = notify;
    p->con->notify_dev = dev;
    pthread_mutex_unlock(&p->con->notify_lock);
    start_reader(p->con);
}

void console_stop_input(struct console *c)
{
    pthread_mutex_lock(&c->notify_lock);
    c->notify = NULL;
    c->notify_dev = NULL;
    c->quit = NULL;
    c->quit_arg = NULL;
    c->screen = NULL;
    c->screen_arg = NULL;
    c->top = NULL;
    c->top_arg = NULL;
    pthread_mutex_unlock(&c->notify_lock);
}

void console_set_top(struct console *c, void (*top)(void *), void *arg)
{
    pthread_mutex_lock(&c->notify_lock);
    c->top = top;
    c->top_arg = arg;
    pthread_mutex_unlock(&c->notify_lock);
}

bool console_draw(struct console *c, const char *buf, size_t n)
{
    pthread_mutex_lock(&c->out_lock);
    bool between = c->out_esc == 0 && c->out_utf8 == 0;
    if (between)
        write_all(2, buf, n, NULL);
    pthread_mutex_unlock(&c->out_lock);
    return between;
}

void console_set_screen(struct console *c, void (*screen)(void *), void *arg)
{
    pthread_mutex_lock(&c->notify_lock);
    c->screen = screen;
    c->screen_arg = arg;
    pthread_mutex_unlock(&c->notify_lock);
}

void console_port_stop(struct console_port *p)
{
    struct console *c = p->con;
    pthread_mutex_lock(&c->in_lock);
    atomic_store(&p->stopped, true);
    pthread_cond_broadcast(&c->in_cond);
    pthread_mutex_unlock(&c->in_lock);
}

/* Take one byte from the ring (in_lock held); -1 when empty. */
static int pop_locked(struct console *c)
{
    if (!in_count(c))
        return -1;
    int ch = c->in_buf[c->in_head++ % CONSOLE_INBUF];
    pthread_cond_broadcast(&c->in_cond);    /* room for the reader */
    return ch;
}

int console_getchar(struct console_port *p)
{
    struct console *c = p->con;
    if (!p->owns_stdin)
        return -1;
    start_reader(c);
    pthread_mutex_lock(&c->in_lock);
    while (!in_count(c) && !c->in_eof && !atomic_load(&p->stopped))
        pthread_cond_wait(&c->in_cond, &c->in_lock);
    int ch = atomic_load(&p->stopped) ? -1 : pop_locked(c);
    pthread_mutex_unlock(&c->in_lock);
    return ch;
}

int console_poll(struct console_port *p)
{
    struct console *c = p->con;
    if (!p->owns_stdin)
        return -1;
    start_reader(c);    /* a polling guest (COM1 of a flat guest) reads stdin too */
    pthread_mutex_lock(&c->in_lock);
    int ch = pop_locked(c);
    pthread_mutex_unlock(&c->in_lock);
    return ch;
}

/* ---- raw terminal ----
 * The saved termios must be reachable from a signal handler, so it is the
 * one piece of process-global state here. */
static struct termios saved_tio;
static volatile sig_atomic_t tio_saved;
static volatile sig_atomic_t area_rows;     /* --top's status area, 0 = none */

/* Async-signal-safe: write only. */
static void area_restore(void)
{
    if (area_rows) {
        /* save cursor, full-screen scrolling region, clear the area's lines
         * from the bottom up, restore cursor */
        static const char head[] = "\0337\033[r\033[999;1H", line[] = "\033[2K\033[A";
        char buf[sizeof(head) + 64 * sizeof(line) + 2];
        int rows = area_rows;
        size_t n = sizeof(head) - 1;
        area_rows = 0;
        memcpy(buf, head, n);
        for (int i = 0; i < rows && i < 64; i++) {
            memcpy(buf + n, line, sizeof(line) - 1);
            n += sizeof(line) - 1;
        }
        memcpy(buf + n, "\0338", 2);
        write_all(2, buf, n + 2, NULL);
    }
}

/* Async-signal-safe: tcsetattr and write only. */
void console_restore(void)
{
    if (tio_saved) {
        tcsetattr(0, TCSANOW, &saved_tio);
        tio_saved = 0;
    }
    area_restore();
}

static void on_fatal_signal(int sig)
{
    console_restore();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void catch_fatal_signals(void)
{
    int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGABRT, SIGSEGV, SIGBUS };
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        struct sigaction sa = { 0 };
        sa.sa_handler = on_fatal_signal;
        if (sigaction(sigs[i], &sa, NULL) < 0)
            errorf("stdin: sigaction %d: %s", sigs[i], strerror(errno));
    }
}

void console_status_area(int rows)
{
    static bool handlers;       /* installed once, like console_raw's */
    if (rows == 0) {            /* the whole screen back now; raw stays raw */
        area_restore();
        return;
    }
    area_rows = rows;
    if (!handlers && !tio_saved) {
        handlers = true;
        catch_fatal_signals();
        if (atexit(console_restore) != 0)
            errorf("--top: cannot register the terminal restore at exit");
    }
}

void console_raw(struct console *c, void (*quit)(void *), void *arg)
{
    pthread_mutex_lock(&c->notify_lock);    /* the reader may already run */
    c->quit = quit;
    c->quit_arg = arg;
    pthread_mutex_unlock(&c->notify_lock);
    if (!isatty(0) || tcgetattr(0, &saved_tio) < 0)
        return;     /* pipe or file: scripted session, no escapes */
    struct termios raw = saved_tio;
    cfmakeraw(&raw);
    tio_saved = 1;
    if (atexit(console_restore) != 0)
        errorf("stdin: cannot register the terminal restore at exit");
    catch_fatal_signals();
    if (tcsetattr(0, TCSANOW, &raw) < 0) {
        errorf("stdin: cannot set raw mode: %s", strerror(errno));
        tio_saved = 0;
        return;
    }
    pthread_mutex_lock(&c->notify_lock);
    c->escapes = true;
    pthread_mutex_unlock(&c->notify_lock);
}
