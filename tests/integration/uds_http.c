/* uds_http.c - a minimal HTTP/1.1 client over a Unix socket, for the lab only:
 * L1's busybox has no curl (the direct tests use curl, a real client). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* uds-http SOCKET METHOD PATH [JSON]: prints "STATUS BODY", exit 0 on 2xx. */
int main(int argc, char **argv)
{
    if (argc < 4 || argc > 5 || strlen(argv[1]) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        fprintf(stderr, "usage: uds-http SOCKET METHOD PATH [JSON]\n");
        return 2;
    }
    const char *body = argc == 5 ? argv[4] : "";
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    strcpy(sa.sun_path, argv[1]);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        perror(argv[1]);
        return 1;
    }
    char req[8192];
    int n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: localhost\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
                     argv[2], argv[3], strlen(body), body);
    if (n < 0 || (size_t)n >= sizeof(req) || write(fd, req, (size_t)n) != n) {
        perror("write");
        return 1;
    }
    static char reply[65536];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof(reply) - 1 && (r = read(fd, reply + got, sizeof(reply) - 1 - got)) > 0)
        got += (size_t)r;
    reply[got] = '\0';
    int status = 0;
    const char *b = strstr(reply, "\r\n\r\n");
    if (sscanf(reply, "HTTP/1.1 %d", &status) != 1 || !b) {
        fprintf(stderr, "uds-http: no HTTP reply\n");
        return 1;
    }
    printf("%d %s\n", status, b + 4);
    return status / 100 == 2 ? 0 : 1;
}
