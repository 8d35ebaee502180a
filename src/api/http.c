/* http.c - request framing for the API socket on Debian's http-parser: the
 * library checks the syntax, we cap URL, header and body sizes. */
#include "http.h"

#include <stdio.h>
#include <string.h>

static struct http_conn *conn(http_parser *p)
{
    return p->data;
}

static int refuse(struct http_conn *c, const char *why)
{
    snprintf(c->err, sizeof(c->err), "%s", why);
    return -1;  /* stops the parser (HPE_CB_*); 1 or 2 would mean "no body" in
                 * on_headers_complete */
}

static int on_url(http_parser *p, const char *at, size_t n)
{
    struct http_conn *c = conn(p);
    if (n > HTTP_MAX_URL - c->url_len)
        return refuse(c, "request URL longer than 1024 bytes");
    memcpy(c->req.path + c->url_len, at, n);
    c->url_len += n;
    c->req.path[c->url_len] = '\0';
    return 0;
}

/* Header names and values count against one budget; we need none of them
 * (http-parser itself reads Content-Length and Connection). */
static int on_header_bytes(http_parser *p, size_t n)
{
    struct http_conn *c = conn(p);
    c->header_bytes += n;
    if (c->header_bytes > HTTP_MAX_HEADER_BYTES)
        return refuse(c, "request headers larger than 8192 bytes");
    return 0;
}

/* A field may arrive in several pieces: a new header starts with the first
 * field piece after a value (or after the request line). */
static int on_field(http_parser *p, const char *at, size_t n)
{
    (void)at;
    struct http_conn *c = conn(p);
    if (!c->in_field && ++c->nheaders > HTTP_MAX_HEADERS)
        return refuse(c, "more than 32 request headers");
    c->in_field = true;
    return on_header_bytes(p, n);
}

static int on_value(http_parser *p, const char *at, size_t n)
{
    (void)at;
    conn(p)->in_field = false;
    return on_header_bytes(p, n);
}

static int on_headers_complete(http_parser *p)
{
    struct http_conn *c = conn(p);
    if (p->content_length != (uint64_t)-1 && p->content_length > HTTP_MAX_BODY)
        return refuse(c, "request body larger than 51200 bytes");
    snprintf(c->req.method, sizeof(c->req.method), "%s",
             http_method_str((enum http_method)p->method));
    c->req.path[strcspn(c->req.path, "?#")] = '\0';
    return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
    struct http_conn *c = conn(p);
    if (n > HTTP_MAX_BODY - c->req.body_len)
        return refuse(c, "request body larger than 51200 bytes");
    memcpy(c->req.body + c->req.body_len, at, n);
    c->req.body_len += n;
    c->req.body[c->req.body_len] = '\0';
    return 0;
}

static int on_complete(http_parser *p)
{
    struct http_conn *c = conn(p);
    c->complete = true;
    c->req.keep_alive = http_should_keep_alive(p) != 0;
    http_parser_pause(p, 1);    /* one request at a time */
    return 0;
}

static int on_begin(http_parser *p)
{
    conn(p)->started = true;
    return 0;
}

static const http_parser_settings settings = {
    .on_message_begin = on_begin,
    .on_url = on_url,
    .on_header_field = on_field,
    .on_header_value = on_value,
    .on_headers_complete = on_headers_complete,
    .on_body = on_body,
    .on_message_complete = on_complete,
};

static void reset_request(struct http_conn *c)
{
    memset(&c->req, 0, sizeof(c->req));
    c->url_len = c->header_bytes = 0;
    c->nheaders = 0;
    c->in_field = c->complete = c->started = false;
    c->err[0] = '\0';
}

void http_conn_init(struct http_conn *c)
{
    reset_request(c);
    http_parser_init(&c->p, HTTP_REQUEST);
    c->p.data = c;
}

void http_next(struct http_conn *c)
{
    reset_request(c);
    http_parser_pause(&c->p, 0);
}

enum http_feed http_feed(struct http_conn *c, const char *data, size_t len, size_t *used)
{
    if (len == 0 && !c->started) {     /* the client closed between requests */
        *used = 0;
        return HTTP_NEED_MORE;
    }
    *used = http_parser_execute(&c->p, &settings, data, len);
    if (*used > len)                    /* http-parser counts an unexpected EOF as 1 */
        *used = len;
    if (c->complete)
        return HTTP_READY;
    enum http_errno e = HTTP_PARSER_ERRNO(&c->p);
    if (e == HPE_OK && *used == len && len > 0)
        return HTTP_NEED_MORE;
    if (!c->err[0])
        snprintf(c->err, sizeof(c->err), "malformed HTTP request: %s",
                 len == 0 ? "connection closed mid-request" : http_errno_description(e));
    return HTTP_BAD;
}

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 500: return "Internal Server Error";
    default:  return "Unknown";
    }
}

int http_format_response(char *out, size_t cap, int status, const char *body)
{
    size_t blen = body ? strlen(body) : 0;
    int n = snprintf(out, cap, "HTTP/1.1 %d %s\r\nServer: mini-kvm\r\n%sContent-Length: %zu\r\n\r\n%s",
                     status, reason(status), body ? "Content-Type: application/json\r\n" : "",
                     blen, body ? body : "");
    return n < 0 || (size_t)n >= cap ? -1 : n;
}
