/* sh.c - the shell: reads a line with echo and backspace, runs a built-in
 * command or starts a program (in the background with a trailing &). */
#include "ulib.h"

static char filebuf[16384];

/* Typed bytes not used yet: one read takes a whole burst of typing (a line
 * pasted or typed ahead), and its echo goes out in one write, because each
 * system call costs hundreds of emulated kernel instructions on a software
 * KVM (docs/teaching-os.md: a character per call made an `echo` 10 ms). */
static struct {
    char buf[128];
    int r, n;
} in;

/* One byte of input: its echo (at most "\b \b") goes to echo + *e. Returns
 * 1 when the line is complete. */
static int edit(char c, char *buf, int size, int *n, char *echo, int *e)
{
    static int prev;
    if (c == '\n' && prev == '\r') {
        prev = c;               /* "\r\n" is one Enter, not two */
        return 0;
    }
    prev = c;
    if (c == '\r' || c == '\n') {
        echo[(*e)++] = '\n';
        buf[*n] = 0;
        return 1;
    }
    if ((c == 0x7F || c == '\b') && *n > 0) {
        (*n)--;
        memcpy(echo + *e, "\b \b", 3);  /* back, blank it out, back again */
        *e += 3;
    } else if (c >= ' ' && c <= '~' && *n < size - 1) {
        buf[(*n)++] = c;
        echo[(*e)++] = c;
    }
    return 0;
}

/* Read one line into buf, echoing as we go (the console does not echo). */
static int readline(char *buf, int size)
{
    char echo[3 * sizeof in.buf];
    int n = 0;
    for (;;) {
        if (in.r == in.n) {
            long got = read(in.buf, sizeof in.buf);
            if (got <= 0)
                return -1;
            in.r = 0;
            in.n = (int)got;
        }
        int e = 0, done = 0;
        while (in.r < in.n && !done)
            done = edit(in.buf[in.r++], buf, size, &n, echo, &e);
        write(echo, (size_t)e);
        if (done)
            return n;
    }
}

/* Split "word rest": terminate the first word, return the rest. */
static char *split(char *s)
{
    while (*s && *s != ' ')
        s++;
    if (*s)
        *s++ = 0;
    while (*s == ' ')
        s++;
    return s;
}

static void ls(void)
{
    struct dirent d;
    for (int i = 0; readdir(i, &d) == 0; i++)
        printf("%6lu  %s\n", d.size, d.name);
}

static void cat(const char *name)
{
    int n = readfile(name, filebuf, sizeof filebuf);
    if (n < 0) {
        printf("cat: %s: no such file\n", name);
        return;
    }
    write(filebuf, n);
    if (n > 0 && filebuf[n - 1] != '\n')
        putchar('\n');
}

static void write_cmd(char *args)
{
    char *text = split(args);
    size_t len = strlen(text);
    text[len] = '\n';           /* files hold lines; readline left room */
    if (!*args || writefile(args, text, len + 1) < 0)
        printf("write: cannot write '%s' (usage: write NAME TEXT)\n", args);
}

static void ps_cmd(void)
{
    static const char *const states[] = { "unused", "ready", "running", "sleeping", "zombie" };
    struct procinfo p[16];
    int n = ps(p, 16);
    printf("PID  PPID  STATE     TICKS  NAME\n");
    for (int i = 0; i < n; i++)
        printf("%-4d %-5d %-9s %5lu  %s%s\n", p[i].pid, p[i].ppid, states[p[i].state],
               p[i].ticks, p[i].name, p[i].background && p[i].ppid ? " &" : "");
    struct sysinfo si;
    sysinfo(&si);
    printf("memory: %lu pages in use; uptime: %lu ticks\n"
           "system calls: %lu by the IDT gate, %lu by #UD\n",
           si.pages, si.ticks, si.sys_gate, si.sys_ud);
}

/* Anything else is a program: NAME ARGS, or NAME ARGS & to not wait. */
static void run(char *line)
{
    size_t len = strlen(line);
    int bg = line[len - 1] == '&';
    if (bg) {
        while (len > 0 && (line[len - 1] == '&' || line[len - 1] == ' '))
            line[--len] = 0;
    }
    int pid = spawn(line, bg);
    if (pid < 0) {
        split(line);
        printf("sh: %s: no such program, or no free process slot or memory\n", line);
    } else if (bg) {
        printf("[%d] running in the background\n", pid);
    } else {
        int status = wait(pid);
        if (status != 0)
            printf("[%d] exit status %d\n", pid, status);
    }
}

static void help(void)
{
    printf("built-in commands:\n"
           "  help | echo TEXT | ls | cat NAME | write NAME TEXT | rm NAME\n"
           "  ps | kill PID | sleep TICKS (100 = 1 s) | sync | shutdown\n"
           "programs (add & to run in the background):\n"
           "  hello | fib [N] | primes [N] | spin [ROUNDS] | crash [ADDRESS] | badptr\n");
}

int main(char *args)
{
    static char line[128];
    (void)args;
    hold_output(1);             /* a line's echo, answer and next prompt: one write */
    printf("\nmini-os shell: type 'help' for commands\n");
    for (;;) {
        printf("$ ");
        if (readline(line, sizeof line - 1) < 0)
            return 1;
        char *cmd = line;
        while (*cmd == ' ')
            cmd++;
        if (!*cmd)
            continue;
        char full[128];
        strlcopy(full, cmd, sizeof full);
        char *arg = split(cmd);
        if (!strcmp(cmd, "help"))
            help();
        else if (!strcmp(cmd, "echo"))
            printf("%s\n", arg);
        else if (!strcmp(cmd, "ls"))
            ls();
        else if (!strcmp(cmd, "cat"))
            cat(arg);
        else if (!strcmp(cmd, "write"))
            write_cmd(arg);
        else if (!strcmp(cmd, "rm") && removefile(arg) < 0)
            printf("rm: %s: no such file\n", arg);
        else if (!strcmp(cmd, "ps"))
            ps_cmd();
        else if (!strcmp(cmd, "kill") && kill((int)atol(arg)) < 0)
            printf("kill: %s: no such process\n", arg);
        else if (!strcmp(cmd, "kill"))
            yield();            /* let the victim run, and so die, first */
        else if (!strcmp(cmd, "sleep"))
            sleep(atol(arg));
        else if (!strcmp(cmd, "sync")) {
            if (sync() < 0)
                printf("sync: the disk reported an error (or there is no disk)\n");
        }
        else if (!strcmp(cmd, "shutdown"))
            shutdown();
        else if (strcmp(cmd, "rm"))
            run(full);
    }
}
