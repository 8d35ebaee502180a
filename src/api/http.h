/* http.h - HTTP/1.1 requests on the API socket: http-parser does the syntax,
 * this module enforces our size and header limits and formats replies. */
#ifndef MINI_KVM_HTTP_H
#define MINI_KVM_HTTP_H

#include <http_parser.h>
#include <stdbool.h>
#include <stddef.h>

#define HTTP_MAX_URL          1024
#define HTTP_MAX_HEADERS      32
#define HTTP_MAX_HEADER_BYTES 8192
#define HTTP_MAX_BODY         51200     /* Firecracker's payload limit */

struct http_request {
    char method[16];
    char path[HTTP_MAX_URL + 1];        /* without a query string */
    char body[HTTP_MAX_BODY + 1];       /* NUL-terminated */
    size_t body_len;
    bool keep_alive;
};

/* One connection's parser state; reused request after request. */
struct http_conn {
    http_parser p;
    struct http_request req;
    size_t url_len, header_bytes;
    int nheaders;
    bool in_field, complete;
    bool started;                       /* bytes of a request have arrived */
    char err[192];                      /* why the request was refused */
};

enum http_feed { HTTP_NEED_MORE, HTTP_READY, HTTP_BAD };

void http_conn_init(struct http_conn *c);

/* Feed received bytes. *used says how many were consumed (on HTTP_READY the
 * rest belongs to the next request: feed it after http_next). HTTP_BAD: the
 * connection is unusable, c->err says why (answer 400 and close). len 0
 * means the peer closed: HTTP_NEED_MORE between requests, else HTTP_BAD. */
enum http_feed http_feed(struct http_conn *c, const char *data, size_t len, size_t *used);

/* Forget the request just answered and parse the next one. */
void http_next(struct http_conn *c);

/* "HTTP/1.1 <status> <reason>" with a JSON body (or none when body is NULL)
 * into out. Returns the length, or -1 when it does not fit. */
int http_format_response(char *out, size_t cap, int status, const char *body);

#endif
