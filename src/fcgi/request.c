/* request.c - see request.h. */
#include "fcgi/request.h"

#include "common/log.h"
#include "common/util.h"
#include "fcgi/bodyread.h"
#include "fcgi/worker.h"
#include "http/form.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Cap of one response body built in memory (listings are paged). */
#define REQ_OUT_MAX (16u << 20)

/* The parameters a request is read from, taken in one pass over the
 * FastCGI environment: FCGX_GetParam walks all of it for each name, and
 * those walks were a tenth of an info request. */
enum { P_METHOD, P_DOC_URI, P_REQ_URI, P_QUERY, P_CTYPE, P_CLEN, P_ADDR,
       P_UA, P_ACCEPT, P_PREFER, P_HOST, P_SERVER, P_AUTH, P_API_KEY,
       P_BEHALF, P_COUNT };

#define PARAM(s) { s, sizeof(s) - 1 }
static const struct {
    const char *name;
    size_t len;
} params[P_COUNT] = {
    PARAM("REQUEST_METHOD"), PARAM("DOCUMENT_URI"), PARAM("REQUEST_URI"),
    PARAM("QUERY_STRING"), PARAM("CONTENT_TYPE"), PARAM("CONTENT_LENGTH"),
    PARAM("REMOTE_ADDR"), PARAM("HTTP_USER_AGENT"), PARAM("HTTP_ACCEPT"),
    PARAM("HTTP_PREFER"), PARAM("HTTP_HOST"), PARAM("SERVER_SOFTWARE"),
    PARAM("HTTP_AUTHORIZATION"), PARAM("HTTP_X_API_KEY"),
    PARAM("HTTP_X_ON_BEHALF_OF"),
};
#undef PARAM

/* v[i] = the value of params[i] in envp, or NULL; the first one wins, as
 * with FCGX_GetParam. */
static void read_params(FCGX_ParamArray envp, const char **v)
{
    for (int i = 0; i < P_COUNT; i++)
        v[i] = NULL;
    for (; envp && *envp; envp++) {
        const char *eq = strchr(*envp, '=');
        size_t n = eq ? (size_t)(eq - *envp) : 0;

        for (int i = 0; eq && i < P_COUNT; i++) {
            if (params[i].len == n && !v[i] &&
                memcmp(params[i].name, *envp, n) == 0) {
                v[i] = eq + 1;
                break;
            }
        }
    }
}

static const char *or_default(const char *v, const char *def)
{
    return v ? v : def;
}

void req_set_format(struct req *r, const char *v)
{
    if (strcmp(v, "json") == 0)
        r->format = FMT_JSON;
    else if (strcmp(v, "html") == 0)
        r->format = FMT_HTML;
    else if (strcmp(v, "text") == 0)
        r->format = FMT_TEXT;
}

static void req_pick_format(struct req *r)
{
    char fmt[16];

    if (r->api) {
        r->format = FMT_JSON;
        return;
    }
    /* RepRapCloud: browsers (Mozilla in the UA) get a page, the rest text;
     * format=json wins, and we honour Accept for API clients. */
    if (strstr(r->accept, "application/json"))
        r->format = FMT_JSON;
    else if (strstr(r->user_agent, "Mozilla") && strstr(r->accept, "text/html"))
        r->format = FMT_HTML;
    else
        r->format = FMT_TEXT;
    if (form_get(r->query, "format", fmt, sizeof(fmt)) == 0)
        req_set_format(r, fmt);
}

void req_init(struct req *r, FCGX_Request *f, struct worker *w)
{
    const char *v[P_COUNT];
    char *end;

    memset(r, 0, offsetof(struct req, pathbuf));
    r->pathbuf[0] = '\0';
    r->fcgi = f;
    r->w = w;
    read_params(f->envp, v);
    r->method = or_default(v[P_METHOD], "GET");
    /* nginx passes the decoded path as DOCUMENT_URI; lighttpd has only
     * REQUEST_URI, whose path part is enough to route (ids are checked
     * character by character anyway). */
    r->path = v[P_DOC_URI];
    if (!r->path) {
        const char *uri = or_default(v[P_REQ_URI], "/");
        size_t n = strcspn(uri, "?");
        if (n >= sizeof(r->pathbuf))
            n = sizeof(r->pathbuf) - 1;
        memcpy(r->pathbuf, uri, n);
        r->pathbuf[n] = '\0';
        r->path = r->pathbuf;
    }
    r->query = or_default(v[P_QUERY], "");
    r->content_type = or_default(v[P_CTYPE], "");
    r->remote_addr = or_default(v[P_ADDR], "localhost");
    r->user_agent = or_default(v[P_UA], "");
    r->accept = or_default(v[P_ACCEPT], "");
    r->prefer = or_default(v[P_PREFER], "");
    r->authorization = v[P_AUTH];
    r->api_key = v[P_API_KEY];
    r->on_behalf_of = v[P_BEHALF];
    /* RepRapCloud's serverName is the Host header's host. */
    r->host = or_default(v[P_HOST], "");
    {
        size_t n = strcspn(r->host, ":");
        if (n < sizeof(r->hostbuf) && r->host[n]) {
            memcpy(r->hostbuf, r->host, n);
            r->hostbuf[n] = '\0';
            r->host = r->hostbuf;
        }
    }
    r->server = or_default(v[P_SERVER], "");
    r->content_length = -1;
    if (v[P_CLEN] && *v[P_CLEN]) {
        long long n = strtoll(v[P_CLEN], &end, 10);
        if (*end == '\0' && n >= 0)
            r->content_length = n;
    }
    r->api = strncmp(r->path, "/api/", 5) == 0;
    req_pick_format(r);
    buf_init(&r->out, REQ_OUT_MAX);
}

void req_free(struct req *r)
{
    buf_free(&r->out);
}

int req_is(const struct req *r, const char *m)
{
    return strcmp(r->method, m) == 0;
}

/* The gate cuts a body when body_timeout has passed or the body stalled:
 * say so, once, instead of "could not be read". */
static void req_body_cut(struct req *r)
{
    const struct rr_conf *c = &r->w->app->conf;
    int cut = r->watch ? __atomic_load_n(&r->watch->cut, __ATOMIC_RELAXED)
                       : REQ_CUT_NONE;

    if (r->answered || cut == REQ_CUT_NONE)
        return;
    if (cut == REQ_CUT_DEADLINE)
        req_error(r, 408, "body_timeout", "request body not complete "
                  "within %lld s (body_timeout)", c->body_timeout);
    else
        req_error(r, 408, "body_threads", "request body stalled (under "
                  "%d KiB in %d s) while other uploads waited for one of "
                  "the body_threads (%d)", REQ_STALL_BYTES / 1024,
                  REQ_STALL_SECONDS, c->body_threads);
    r->answered = 1;
    /* The handler logs its own view next ("could not be read"). */
    log_info("%s %s from %s cut after %llu body bytes: 408, %s", r->method,
             r->path, r->remote_addr,
             __atomic_load_n(&r->watch->bytes, __ATOMIC_RELAXED),
             cut == REQ_CUT_DEADLINE ? "body_timeout" : "stalled");
}

/* One read of the body, by bodyread when the gate handed it the
 * connection, else by libfcgi.  -1 on error. */
static long req_read_body(struct req *r, char *data, size_t len)
{
    long n;

    if (!r->body) {
        n = FCGX_GetStr(data, (int)(len > 1u << 30 ? 1u << 30 : len),
                        r->fcgi->in);
        return n < 0 || FCGX_GetError(r->fcgi->in) != 0 ? -1 : n;
    }
    /* A signal interrupts the read only to cut the body (gate.c). */
    while ((n = bodyread_read(r->body, data, len)) < 0 && errno == EINTR &&
           !(r->watch && __atomic_load_n(&r->watch->cut, __ATOMIC_RELAXED)))
        ;
    return n;
}

long req_read(struct req *r, char *data, size_t len)
{
    long n;

    if (r->watch && __atomic_load_n(&r->watch->cut, __ATOMIC_RELAXED)) {
        req_body_cut(r);
        return -1;
    }
    /* The gate interrupts a read only while this is set (gate.c). */
    if (r->watch)
        __atomic_store_n(&r->watch->in_read, 1, __ATOMIC_SEQ_CST);
    n = req_read_body(r, data, len);
    if (r->watch)
        __atomic_store_n(&r->watch->in_read, 0, __ATOMIC_SEQ_CST);
    if (n < 0) {
        req_body_cut(r);
        return -1;
    }
    if (r->watch)
        __atomic_fetch_add(&r->watch->bytes, (unsigned long long)n,
                           __ATOMIC_RELAXED);
    return n;
}

static const char *status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 411: return "Length Required";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

/* Appends s to the header being built at p (end: the end of its buffer);
 * NULL once it did not fit. */
static char *head_put(char *p, const char *end, const char *s)
{
    size_t n = strlen(s);

    if (!p || n >= (size_t)(end - p))
        return NULL;
    memcpy(p, s, n);
    return p + n;
}

int req_send(struct req *r, int status, const char *ctype, const char *extra)
{
    char head[1024], num[24], *p = head;
    const char *end = head + sizeof(head);

    if (r->answered)
        return 0;
    /* built by hand: snprintf was a tenth of an info answer's cost */
    p = head_put(p, end, "Status: ");
    p = head_put(p, end, rr_lltoa(num, status));
    p = head_put(p, end, " ");
    p = head_put(p, end, status_text(status));
    p = head_put(p, end, "\r\nContent-Type: ");
    p = head_put(p, end, ctype);
    p = head_put(p, end, "\r\nContent-Length: ");
    p = head_put(p, end, rr_lltoa(num, (long long)r->out.len));
    p = head_put(p, end, "\r\nAccess-Control-Allow-Origin: *\r\n"
                 "Cache-Control: no-store\r\n");
    p = head_put(p, end, extra ? extra : "");
    p = head_put(p, end, "\r\n");
    if (!p)
        return -1;
    if (FCGX_PutStr(head, (int)(p - head), r->fcgi->out) < 0)
        return -1;
    if (r->out.len &&
        FCGX_PutStr(r->out.data, (int)r->out.len, r->fcgi->out) < 0)
        return -1;
    return 0;
}

int req_send_json(struct req *r, int status, json_t *o, const char *extra)
{
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(16))
                : NULL;

    json_decref(o);
    if (!s)
        return req_error(r, 500, NULL, "out of memory");
    buf_reset(&r->out);
    if (buf_puts(&r->out, s) < 0 || buf_putc(&r->out, '\n') < 0) {
        free(s);
        return req_error(r, 500, NULL, "response too large: use limit");
    }
    free(s);
    req_send(r, status, "application/json", extra);
    return status;
}

static int req_verror(struct req *r, int status, const char *extra,
                      const char *field, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

static int req_verror(struct req *r, int status, const char *extra,
                      const char *field, const char *fmt, va_list ap)
{
    char msg[1024];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    buf_reset(&r->out);
    if (r->format == FMT_JSON) {
        buf_printf(&r->out, "{\"error\":{\"code\":%d,\"field\":", status);
        if (field) {
            buf_putc(&r->out, '"');
            buf_json_escape(&r->out, field);
            buf_putc(&r->out, '"');
        } else {
            buf_puts(&r->out, "null");
        }
        buf_puts(&r->out, ",\"message\":\"");
        buf_json_escape(&r->out, msg);
        buf_puts(&r->out, "\"}}\n");
        req_send(r, status, "application/json", extra);
    } else if (r->format == FMT_HTML) {
        buf_printf(&r->out, "<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
                   "<title>%d %s</title></head><body><h1>%d %s</h1><p>",
                   status, status_text(status), status, status_text(status));
        buf_html_escape(&r->out, msg);
        buf_puts(&r->out, "</p></body></html>\n");
        req_send(r, status, "text/html; charset=utf-8", extra);
    } else {
        buf_printf(&r->out, "error: %s\n", msg);
        req_send(r, status, "text/plain; charset=utf-8", extra);
    }
    return status;
}

int req_error(struct req *r, int status, const char *field, const char *fmt,
              ...)
{
    va_list ap;

    va_start(ap, fmt);
    req_verror(r, status, NULL, field, fmt, ap);
    va_end(ap);
    return status;
}

int req_error_hdr(struct req *r, int status, const char *extra,
                  const char *field, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    req_verror(r, status, extra, field, fmt, ap);
    va_end(ap);
    return status;
}

int req_send_file(struct req *r, const char *rel, const char *ctype,
                  const char *download_name)
{
    const struct rr_conf *c = &r->w->app->conf;
    char extra[2048];
    int n;

    if (r->answered)
        return 200;
    buf_reset(&r->out);
    /* nginx resolves X-Accel-Redirect against an internal location; lighttpd
     * wants an absolute path below x-sendfile-docroot. */
    if (strcmp(c->sendfile_mode, "sendfile") == 0 ||
        strncmp(r->server, "lighttpd", 8) == 0)
        n = snprintf(extra, sizeof(extra), "X-Sendfile: %s/%s\r\n",
                     c->spool_dir, rel);
    else
        n = snprintf(extra, sizeof(extra), "X-Accel-Redirect: %s/%s\r\n",
                     c->accel_prefix, rel);
    if (n < 0 || (size_t)n >= sizeof(extra))
        return req_error(r, 500, NULL, "path too long");
    if (download_name) {
        size_t used = (size_t)n;
        n = snprintf(extra + used, sizeof(extra) - used,
                     "Content-Disposition: inline; filename=\"%s\"\r\n",
                     download_name);
        if (n < 0 || (size_t)n >= sizeof(extra) - used)
            return req_error(r, 500, NULL, "name too long");
    }
    /* Content-Length 0 would be wrong for the real file: the web server
     * fills in the headers of the file it sends. */
    {
        char head[2400];
        int h = snprintf(head, sizeof(head),
                         "Status: 200 OK\r\nContent-Type: %s\r\n"
                         "Access-Control-Allow-Origin: *\r\n%s\r\n",
                         ctype, extra);
        if (h < 0 || (size_t)h >= sizeof(head) ||
            FCGX_PutStr(head, h, r->fcgi->out) < 0)
            return -1;
    }
    return 200;
}
