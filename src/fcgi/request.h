/*
 * request.h - one FastCGI request as the handlers see it: its parameters,
 * the output format it asked for, and the ways to answer it.
 *
 * Strings point into libfcgi's parameter block and die with the request
 * (FCGX_Finish_r); copy what must outlive it.
 */
#ifndef RR_REQUEST_H
#define RR_REQUEST_H

#include <fcgiapp.h>
#include <jansson.h>
#include <stddef.h>

#include "common/buf.h"

struct worker;
struct auth_caller;
struct bodyread;

/* While uploads wait for a body thread, one being read that brought less
 * than REQ_STALL_BYTES in the last REQ_STALL_SECONDS is cut (gate.c). */
#define REQ_STALL_BYTES (32 * 1024)
#define REQ_STALL_SECONDS 2

/* A body being read by a body thread, as the gate watches it (gate.c). */
enum req_cut { REQ_CUT_NONE, REQ_CUT_DEADLINE, REQ_CUT_STALLED };
struct req_watch {
    unsigned long long bytes;   /* read so far (atomic) */
    int cut;                    /* enum req_cut, set by the gate (atomic) */
    int in_read;                /* blocked in libfcgi's read (atomic) */
};

enum req_format {
    FMT_TEXT,   /* RepRapCloud's "key: value" lines, for curl and wget */
    FMT_JSON,
    FMT_HTML,   /* browsers */
};

struct req {
    FCGX_Request *fcgi;
    struct worker *w;         /* the thread's resources (store, magic) */
    const char *method;       /* "GET", "POST", ... */
    const char *path;         /* DOCUMENT_URI, else REQUEST_URI's path */
    const char *query;        /* QUERY_STRING, "" if none */
    const char *content_type; /* "" if none */
    long long content_length; /* -1 if not given (chunked) */
    const char *remote_addr;
    const char *user_agent;
    const char *accept;
    const char *prefer;       /* Prefer header (respond-async) */
    const char *host;         /* Host header's host, "" if none */
    const char *server;       /* SERVER_SOFTWARE, picks accel vs sendfile */
    const char *authorization; /* Authorization header, or NULL */
    const char *api_key;      /* X-Api-Key header, or NULL */
    const char *on_behalf_of; /* X-On-Behalf-Of header, or NULL */
    enum req_format format;
    int api;                  /* under /api/v1: typed JSON, JSON errors */
    const struct auth_caller *caller; /* who is asking (route.c), or NULL */
    struct buf out;           /* response body being built */
    struct req_watch *watch;  /* the gate's view of its body, or NULL */
    struct bodyread *body;    /* reads the body instead of libfcgi, or NULL;
                               * the body thread's, valid while it routes */
    int answered;             /* a response went out: send no other */
    char pathbuf[1024];       /* path cut from REQUEST_URI when needed */
    char hostbuf[256];        /* Host header without its port */
};

/* 1 if the request's method is m ("GET", "POST", ...). */
int req_is(const struct req *r, const char *m);

/* Fills r from the FastCGI parameters.  The format is decided by
 * format=json|text|html in the query, then Accept, then User-Agent. */
void req_init(struct req *r, FCGX_Request *f, struct worker *w);
void req_free(struct req *r);
/* Re-decides the format after a body field format=... was read. */
void req_set_format(struct req *r, const char *value);

/* Reads up to len body bytes; returns bytes read, 0 at EOF, -1 on error.
 * A read that fails because the gate cut the body (its body_timeout
 * passed, or it stalled while other uploads waited) has answered 408
 * saying why; the handler's own answer is then dropped. */
long req_read(struct req *r, char *data, size_t len);

/* Sends status line, the standard headers (CORS, content type,
 * Cache-Control) plus extra (already "\r\n"-terminated lines, or NULL) and
 * r->out as the body.  Returns 0 or -1 if the client went away. */
int req_send(struct req *r, int status, const char *ctype, const char *extra);
/* Sends o (stolen; NULL means out of memory) as the JSON body, one line,
 * reals to 16 digits (0.423 stays 0.423, a time keeps its microseconds).
 * Returns status, or the status of the error sent instead. */
int req_send_json(struct req *r, int status, json_t *o, const char *extra);
/* Sends an error in the request's format: JSON
 * {"error":{"code":N,"field":F,"message":M}} or text "error: M".  field may
 * be NULL.  Always returns status so handlers can "return req_error(...)". */
int req_error(struct req *r, int status, const char *field, const char *fmt,
              ...) __attribute__((format(printf, 4, 5)));
/* req_error with extra header lines ("\r\n"-terminated), for the answers
 * that must carry one: 405 with Allow, 429 with Retry-After. */
int req_error_hdr(struct req *r, int status, const char *extra,
                  const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Hands a file under the spool to the web server (X-Accel-Redirect for
 * nginx, X-Sendfile for lighttpd).  rel is relative to the spool. */
int req_send_file(struct req *r, const char *rel, const char *ctype,
                  const char *download_name);

#endif
