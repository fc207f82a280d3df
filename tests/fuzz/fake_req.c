/*
 * fake_req.c - fcgi/request.h for the fuzz harnesses: the body comes from
 * memory, answers are formatted (so their format strings run on the
 * fuzzed values) and dropped.  One request at a time (no threads).
 */
#include "fake_req.h"

#include "fcgi/request.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t *body;
static size_t body_len, body_off, body_chunk;
static int last_status;

void fake_req_init(struct req *r, struct worker *w, const char *method,
                   const char *ctype, const uint8_t *data, size_t len,
                   size_t chunk)
{
    memset(r, 0, sizeof(*r));
    r->w = w;
    r->method = method;
    r->path = "/";
    r->query = "";
    r->content_type = ctype;
    r->content_length = (long long)len;
    r->remote_addr = "127.0.0.1";
    r->user_agent = "fuzz";
    r->accept = "";
    r->prefer = "";
    r->host = "localhost";
    r->server = "nginx";
    r->format = FMT_JSON;
    r->api = 1;
    buf_init(&r->out, 0);
    body = data;
    body_len = len;
    body_off = 0;
    body_chunk = chunk;
    last_status = 0;
}

int fake_req_status(void)
{
    return last_status;
}

int req_is(const struct req *r, const char *m)
{
    return strcmp(r->method, m) == 0;
}

void req_free(struct req *r)
{
    buf_free(&r->out);
}

void req_set_format(struct req *r, const char *value)
{
    (void)r;
    (void)value;
}

long req_read(struct req *r, char *data, size_t len)
{
    size_t n = body_len - body_off;

    (void)r;
    if (body_chunk && n > body_chunk)
        n = body_chunk;
    if (n > len)
        n = len;
    memcpy(data, body + body_off, n);
    body_off += n;
    return (long)n;
}

int req_send(struct req *r, int status, const char *ctype, const char *extra)
{
    (void)ctype;
    (void)extra;
    last_status = status;
    buf_reset(&r->out);
    return 0;
}

int req_send_json(struct req *r, int status, json_t *o, const char *extra)
{
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;

    free(s);
    json_decref(o);
    return req_send(r, o ? status : 500, "application/json", extra);
}

static int fake_verror(struct req *r, int status, const char *field,
                       const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static int fake_verror(struct req *r, int status, const char *field,
                       const char *fmt, va_list ap)
{
    char msg[1024];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (field)
        snprintf(msg, sizeof(msg), "%s", field);
    req_send(r, status, "application/json", NULL);
    return status;
}

int req_error(struct req *r, int status, const char *field, const char *fmt,
              ...)
{
    va_list ap;
    int rc;

    va_start(ap, fmt);
    rc = fake_verror(r, status, field, fmt, ap);
    va_end(ap);
    return rc;
}

int req_error_hdr(struct req *r, int status, const char *extra,
                  const char *field, const char *fmt, ...)
{
    va_list ap;
    int rc;

    (void)extra;
    va_start(ap, fmt);
    rc = fake_verror(r, status, field, fmt, ap);
    va_end(ap);
    return rc;
}

int req_send_file(struct req *r, const char *rel, const char *ctype,
                  const char *download_name)
{
    (void)download_name;
    return req_send(r, rel && ctype ? 200 : 500, ctype, NULL);
}

/* Only the holder's thread makes requests from FastCGI ones; the
 * harnesses never start it. */
void req_init(struct req *r, FCGX_Request *f, struct worker *w)
{
    (void)r;
    (void)f;
    (void)w;
    abort();
}
