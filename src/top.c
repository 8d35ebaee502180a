/* top.c - --top: once a second, the exits each vCPU made since the last
 * frame, by reason and by device, drawn in a status area at the bottom of
 * the terminal (a scrolling region keeps the guest's output above it). */
#include "top.h"
#include "guest.h"
#include "core/sandbox.h"
#include "core/console.h"
#include "core/stats.h"
#include "core/util.h"
#include "core/vcpu.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define TOP_LINES 64            /* at most this many rows of the status area */
#define TOP_FRAME (TOP_LINES * 256)

struct top_sample {
    uint64_t reason[STATS_REASONS];
    uint64_t dev[2][BUS_MAX_RANGES + 1];
};

struct top {
    struct guest *g;
    int n, ncpus;
    struct console *con;
    bool tty;                   /* stderr is a terminal: draw in place */
    pthread_t thread;
    pthread_mutex_t lock;       /* shown, quit */
    pthread_cond_t wake;
    bool shown, quit;
    int area, rows;             /* status area lines and screen rows drawn for */
    struct top_sample *prev;    /* per vCPU, in guest order */
    struct timespec then;
    char lines[TOP_LINES][256]; /* the frame being drawn */
};

static double seconds_since(struct timespec *then)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double s = (double)(now.tv_sec - then->tv_sec) + (double)(now.tv_nsec - then->tv_nsec) / 1e9;
    *then = now;
    return s > 0 ? s : 1;
}

static void sample(const struct vcpu *c, struct top_sample *s)
{
    for (int i = 0; i < STATS_REASONS; i++)
        s->reason[i] = stats_read(&c->stats.reason[i]);
    for (int b = 0; b < 2; b++)
        for (int i = 0; i <= STATS_UNCLAIMED; i++)
            s->dev[b][i] = stats_read(&c->stats.dev[b][i]);
}

/* Device counts merged by name (the i8042 has two ranges), busiest first. */
struct named { const char *name; uint64_t n; };

static int by_rate(const void *a, const void *b)
{
    const struct named *x = a, *y = b;
    return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->name, y->name);
}

static size_t devices(const struct vm *vm, const struct top_sample *now,
                      const struct top_sample *old, struct named *out)
{
    size_t k = 0;
    for (int b = 0; b < 2; b++) {
        const struct bus *bus = b ? &vm->mmio : &vm->pio;
        for (int i = 0; i <= STATS_UNCLAIMED; i++) {
            uint64_t d = now->dev[b][i] - old->dev[b][i];
            if (!d)
                continue;
            const char *name = i == STATS_UNCLAIMED ? "unclaimed"
                             : i < bus->nr && bus->r[i].name ? bus->r[i].name : "?";
            size_t j = 0;
            while (j < k && strcmp(out[j].name, name))
                j++;
            if (j == k)
                out[k++] = (struct named){ name, 0 };
            out[j].n += d;
        }
    }
    qsort(out, k, sizeof(*out), by_rate);
    return k;
}

/* One vCPU's line: "name cpuN  total/s  REASON n ... | device n ...". */
static int cpu_line(char *p, size_t room, const struct guest *g, int cpu,
                    const struct top_sample *now, const struct top_sample *old, double secs)
{
    uint64_t total = 0;
    for (int i = 0; i < STATS_REASONS; i++)
        total += now->reason[i] - old->reason[i];
    int n = snprintf(p, room, "%-12.12s cpu%-2d %9.0f/s ", g->name, cpu, (double)total / secs);
    for (int i = 0; i < STATS_REASONS && n < (int)room; i++) {
        uint64_t d = now->reason[i] - old->reason[i];
        if (d)
            n += snprintf(p + n, room - (size_t)n, " %s %.0f", exit_reason_name((uint32_t)i),
                          (double)d / secs);
    }
    struct named dev[2 * (BUS_MAX_RANGES + 1)];
    size_t k = devices(&g->vm, now, old, dev);
    if (k && n < (int)room)
        n += snprintf(p + n, room - (size_t)n, "  |");
    for (size_t j = 0; j < k && n < (int)room; j++)
        n += snprintf(p + n, room - (size_t)n, " %s %.0f", dev[j].name, (double)dev[j].n / secs);
    return n < (int)room ? n : (int)room - 1;
}

/* The frame's lines, each NUL-terminated in lines[i]; returns how many. */
static int frame_lines(struct top *t, char lines[][256], int max)
{
    double secs = seconds_since(&t->then);
    int nl = 1, k = 0;
    snprintf(lines[0], 256, "mini-kvm --top: exits/s by reason | by device, over %.1f s%s",
             secs, t->tty ? "  (Ctrl-A t hides, for a kernel)" : "");
    for (int i = 0; i < t->n; i++) {
        struct vm *vm = &t->g[i].vm;
        for (int c = 0; c < vm->ncpus; c++, k++) {
            struct top_sample now;
            sample(vm->cpus[c], &now);
            if (nl < max)
                cpu_line(lines[nl++], 256, &t->g[i], c, &now, &t->prev[k], secs);
            t->prev[k] = now;
        }
    }
    return nl;
}

static void screen_size(int *rows, int *cols)
{
    struct winsize ws;
    *rows = 24, *cols = 80;
    if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_row >= 4 && ws.ws_col >= 20)
        *rows = ws.ws_row, *cols = ws.ws_col;
}

/* Reserve h lines at the bottom: scroll the screen's content up by h lines
 * (newlines at the bottom row), bring the cursor back to the same place in
 * that content (same column), then confine scrolling to the rows above. */
static int reserve(char *p, int rows, int h)
{
    int n = sprintf(p, "\0337\033[%d;1H", rows);
    for (int i = 0; i < h; i++)
        p[n++] = '\n';
    return n + sprintf(p + n, "\0338\033[%dA\0337\033[1;%dr\0338", h, rows - h);
}

static void draw(struct top *t)
{
    char (*lines)[256] = t->lines;
    char out[TOP_FRAME + 1024];
    int rows, cols, n = 0;
    screen_size(&rows, &cols);
    int max = t->tty ? (rows / 2 < TOP_LINES ? rows / 2 : TOP_LINES) : TOP_LINES;
    int nl = frame_lines(t, lines, max);
    if (!t->tty) {      /* a log, not a screen: one block of lines per second */
        for (int i = 0; i < nl; i++)
            n += snprintf(out + n, sizeof(out) - (size_t)n, "%s\n", lines[i]);
        ssize_t w = write(2, out, (size_t)n);
        (void)w;
        return;
    }
    if (t->area && (t->area != nl || t->rows != rows)) {
        console_status_area(0);         /* the size changed: set it up again */
        t->area = 0;
    }
    if (!t->area)
        n += reserve(out, rows, nl);
    n += sprintf(out + n, "\0337");
    for (int i = 0; i < nl; i++)
        n += snprintf(out + n, sizeof(out) - (size_t)n, "\033[%d;1H\033[2K%s%.*s\033[0m",
                      rows - nl + 1 + i, i == 0 ? "\033[7m" : "", cols - 1, lines[i]);
    n += sprintf(out + n, "\0338");
    /* between two pieces of guest output; retry soon rather than cut into one */
    for (int tries = 0; !console_draw(t->con, out, (size_t)n) && tries < 50; tries++)
        nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
    if (!t->area) {
        t->area = nl;
        t->rows = rows;
        console_status_area(nl);
    }
}

static void hide(struct top *t)
{
    if (t->area)
        console_status_area(0);
    t->area = 0;
}

static void *top_thread(void *arg)
{
    struct top *t = arg;
    sandbox_enter(t->con->sandbox, SANDBOX_TOP);
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    pthread_mutex_lock(&t->lock);
    while (!t->quit) {
        next.tv_sec += 1;
        while (!t->quit && pthread_cond_timedwait(&t->wake, &t->lock, &next) != ETIMEDOUT)
            ;
        if (t->quit)
            break;
        bool shown = t->shown;
        pthread_mutex_unlock(&t->lock);
        if (shown)
            draw(t);
        else
            hide(t);
        pthread_mutex_lock(&t->lock);
    }
    pthread_mutex_unlock(&t->lock);
    hide(t);
    return NULL;
}

/* Ctrl-A t, on the stdin reader thread. */
static void toggle(void *arg)
{
    struct top *t = arg;
    pthread_mutex_lock(&t->lock);
    t->shown = !t->shown;
    pthread_mutex_unlock(&t->lock);
}

struct top *top_start(struct guest *g, int n, struct console *con, bool shown, bool kernel)
{
    bool tty = isatty(2);
    if (!shown && !(kernel && tty && isatty(0)))
        return NULL;
    struct top *t = xcalloc(1, sizeof(*t));
    *t = (struct top){ .g = g, .n = n, .con = con, .tty = tty, .shown = shown };
    for (int i = 0; i < n; i++)
        t->ncpus += g[i].vm.ncpus;
    t->prev = xcalloc((size_t)t->ncpus, sizeof(*t->prev));
    clock_gettime(CLOCK_MONOTONIC, &t->then);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->wake, &attr);
    pthread_condattr_destroy(&attr);
    int e = pthread_create(&t->thread, NULL, top_thread, t);
    if (e) {
        errorf("--top: cannot start its thread: %s", strerror(e));
        free(t->prev);
        free(t);
        return NULL;
    }
    console_set_top(con, toggle, t);
    return t;
}

void top_stop(struct top *t)
{
    if (!t)
        return;
    console_set_top(t->con, NULL, NULL);
    pthread_mutex_lock(&t->lock);
    t->quit = true;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    int e = pthread_join(t->thread, NULL);
    if (e)
        errorf("--top: cannot join its thread: %s", strerror(e));
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->wake);
    free(t->prev);
    free(t);
}
