/* vsock.c - a tiny AF_VSOCK tool for the vsock tests (busybox has none):
 *   vsock listen PORT            accept one connection, print what arrives,
 *                                answer "hello-from-guest\n", exit
 *   vsock connect CID PORT MSG   connect (retrying while the listener is not
 *                                up yet), send MSG, print the answer
 * Every step is bounded by alarm(SECS) (VSOCK_TIMEOUT, default 120 s). */
#include <errno.h>
#include <linux/vm_sockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int die(const char *what)
{
    fprintf(stderr, "vsock: %s: %s\n", what, strerror(errno));
    return 1;
}

/* Copy the peer's bytes to stdout until it shuts down its side. */
static int drain(int fd)
{
    char buf[4096];
    ssize_t n;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        if (fwrite(buf, 1, (size_t)n, stdout) != (size_t)n)
            return -1;
    fflush(stdout);
    return n < 0 ? -1 : 0;
}

static int do_listen(unsigned port)
{
    int s = socket(AF_VSOCK, SOCK_STREAM, 0);
    struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port };
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 1) < 0)
        return die("listen");
    int c = accept(s, NULL, NULL);
    if (c < 0)
        return die("accept");
    if (drain(c) < 0)
        return die("read");
    const char reply[] = "hello-from-guest\n";
    if (write(c, reply, sizeof(reply) - 1) != (ssize_t)sizeof(reply) - 1)
        return die("write");
    close(c);
    return 0;
}

static int do_connect(unsigned cid, unsigned port, const char *msg)
{
    struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };
    int s;
    for (;;) {          /* bounded by the alarm: the guest may still be booting */
        s = socket(AF_VSOCK, SOCK_STREAM, 0);
        if (s < 0)
            return die("socket");
        if (connect(s, (struct sockaddr *)&a, sizeof(a)) == 0)
            break;
        if (errno != ECONNRESET && errno != ENODEV && errno != ECONNREFUSED &&
            errno != ETIMEDOUT && errno != EHOSTUNREACH)
            return die("connect");
        close(s);
        nanosleep(&(struct timespec){ 0, 200000000 }, NULL);
    }
    size_t len = strlen(msg);
    if (write(s, msg, len) != (ssize_t)len || write(s, "\n", 1) != 1)
        return die("write");
    shutdown(s, SHUT_WR);
    return drain(s) < 0 ? die("read") : 0;
}

int main(int argc, char **argv)
{
    const char *t = getenv("VSOCK_TIMEOUT");
    alarm(t ? (unsigned)atoi(t) : 120);
    if (argc == 3 && !strcmp(argv[1], "listen"))
        return do_listen((unsigned)atoi(argv[2]));
    if (argc == 5 && !strcmp(argv[1], "connect"))
        return do_connect((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]), argv[4]);
    fprintf(stderr, "usage: vsock listen PORT | vsock connect CID PORT MSG\n");
    return 2;
}
