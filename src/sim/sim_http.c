/*
 * sim_http.c - libmicrohttpd glue: one listening port for every printer.
 *
 * A request goes through these phases, one access-handler call or more each:
 *   first call   route (/p/ID/..., /sim/...), count it, apply the printer's
 *                offline fault (drop / hang / 502) and added latency
 *                (suspend + sim_delay, never a sleep);
 *   prepare      X-Api-Key check, early 413 on Content-Length, then a post
 *                processor (multipart or urlencoded) or a capped JSON buffer;
 *   body         stream the body: upload files are only counted and hashed;
 *   final call   dispatch to sim_moonraker / sim_ctl and queue the answer.
 */
#include "sim/sim.h"
#include "common/log.h"

#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define SIM_BODY_MAX (64 * 1024)        /* JSON / form bodies */
#define SIM_FIELD_MAX 1024              /* one non-file form field */
#define SIM_PP_BUF (32 * 1024)

struct sim_upload {
    char filename[SIM_PATH_MAX];
    char root[32], path[SIM_PATH_MAX], print[16], checksum[80];
    uint8_t have_root, have_path, have_print, have_checksum;
    struct sim_sha256 sha;
    uint64_t size;
    int n_files, too_big, bad_field;
    uint8_t digest[32];
};

enum sim_phase { PH_WAIT, PH_HANG, PH_BODY, PH_DONE };
enum sim_route { RT_PRINTER, RT_SIM, RT_ROOT, RT_NONE };

struct sim_ctx {
    struct sim_req req;         /* first: sim_req_arg casts back */
    enum sim_phase phase;
    enum sim_route route;
    char base[24];
    struct MHD_PostProcessor *pp;
    char *body;                 /* raw body when not form data */
    size_t body_len;
    int body_too_big, body_bad;
    json_t *form;               /* form fields as strings */
    json_t *strs;               /* strings made by sim_req_arg */
    json_t *json;               /* parsed JSON body */
    int is_upload;
};

static struct MHD_Daemon *http_daemon;
static MHD_socket http_listen_fd = MHD_INVALID_SOCKET;
static uint64_t http_jitter_seq;

/* ------------------------------------------------------------ responses */

void sim_resp_raw(struct sim_resp *out, unsigned status, json_t *json)
{
    json_decref(out->body);
    out->status = status;
    out->body = json;
}

void sim_resp_result(struct sim_resp *out, json_t *json)
{
    sim_resp_raw(out, MHD_HTTP_OK, json_pack("{s:o}", "result", json));
}

void sim_resp_ok(struct sim_resp *out)
{
    sim_resp_result(out, json_string("ok"));
}

void sim_resp_error(struct sim_resp *out, unsigned status, const char *msg,
                    const char *detail)
{
    char tb[512];

    /* Moonraker sends a Python traceback with every handler exception */
    snprintf(tb, sizeof(tb),
             "Traceback (most recent call last):\n"
             "  File \"moonraker/common.py\", line 1, in request\n"
             "server.ServerError: %s\n", detail ? detail : msg);
    /* a message quoting client input may not be UTF-8: fall back */
    sim_resp_raw(out, status,
                 json_pack("{s:{s:i,s:s,s:s}}", "error", "code", (int)status,
                           "message", msg, "traceback", tb));
    if (!out->body)
        sim_resp_raw(out, status,
                     json_pack("{s:{s:i,s:s}}", "error", "code", (int)status,
                               "message", "Unknown"));
}

static enum MHD_Result http_send(struct MHD_Connection *c,
                                 struct sim_resp *out)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;
    char *txt = NULL;

    if (out->body) {
        txt = json_dumps(out->body, JSON_COMPACT | JSON_REAL_PRECISION(15));
        if (!txt)
            return MHD_NO;
        resp = MHD_create_response_from_buffer(strlen(txt), txt,
                                               MHD_RESPMEM_MUST_FREE);
    } else {
        resp = MHD_create_response_from_buffer(0, NULL,
                                               MHD_RESPMEM_PERSISTENT);
    }
    if (!resp) {
        free(txt);
        return MHD_NO;
    }
    if (txt)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                                "application/json; charset=UTF-8");
    if (out->location[0])
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION,
                                out->location);
    ret = MHD_queue_response(c, out->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

/* Queues an error now (in a call where MHD allows it). */
static enum MHD_Result http_fail(struct sim_ctx *x, unsigned status,
                                 const char *msg)
{
    struct sim_resp out = { 0 };
    enum MHD_Result ret;

    sim_resp_error(&out, status, msg, NULL);
    ret = http_send(x->req.conn, &out);
    json_decref(out.body);
    x->phase = PH_DONE;
    return ret;
}

/* ------------------------------------------------------------ arguments */

struct arg_find {
    const char *name;
    size_t len;
    const char *value;
};

static enum MHD_Result arg_find_cb(void *cls, enum MHD_ValueKind kind,
                                   const char *key, const char *value)
{
    struct arg_find *af = cls;

    if (strncmp(key, af->name, af->len) == 0 && key[af->len] == ':') {
        af->value = value ? value : "";
        return MHD_NO;
    }
    return MHD_YES;
}

json_t *sim_req_body_arg(struct sim_req *r, const char *name)
{
    return r->args ? json_object_get(r->args, name) : NULL;
}

const char *sim_req_arg(struct sim_req *r, const char *name)
{
    struct sim_ctx *x = (struct sim_ctx *)r;
    json_t *v = sim_req_body_arg(r, name);
    struct arg_find af = { name, strlen(name), NULL };
    const char *q;
    char buf[64];

    if (v && json_is_string(v))
        return json_string_value(v);
    if (v && !json_is_null(v)) {
        if (json_is_true(v) || json_is_false(v))
            return json_is_true(v) ? "true" : "false";
        if (json_is_integer(v))
            snprintf(buf, sizeof(buf), "%lld",
                     (long long)json_integer_value(v));
        else if (json_is_real(v))
            snprintf(buf, sizeof(buf), "%.17g", json_real_value(v));
        else
            return NULL;
        if (!x->strs)
            x->strs = json_object();
        if (!x->strs || json_object_set_new(x->strs, name, json_string(buf)))
            return NULL;
        return json_string_value(json_object_get(x->strs, name));
    }
    q = MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
    if (q)
        return q;
    if (MHD_lookup_connection_value_n(r->conn, MHD_GET_ARGUMENT_KIND, name,
                                      af.len, NULL, NULL) == MHD_YES)
        return "";              /* "?name" without a value */
    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, arg_find_cb,
                              &af);
    return af.value;
}

const char *sim_req_header(struct sim_req *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

int sim_req_upload(struct sim_req *r, struct sim_upload_info *info)
{
    struct sim_upload *up = r->up;

    memset(info, 0, sizeof(*info));
    if (!up)
        return -1;
    info->filename = up->n_files ? up->filename : NULL;
    info->root = up->have_root ? up->root : NULL;
    info->path = up->have_path ? up->path : NULL;
    info->print = up->have_print ? up->print : NULL;
    info->checksum = up->have_checksum ? up->checksum : NULL;
    info->size = up->size;
    memcpy(info->sha256, up->digest, 32);
    info->n_files = up->n_files;
    info->too_big = up->too_big;
    info->bad_field = up->bad_field;
    return 0;
}

/* ----------------------------------------------------------------- body */

/* Appends a chunk to a fixed field; marks bad_field when it overflows. */
static void field_put(char *dst, size_t cap, uint8_t *have, uint64_t off,
                      const char *data, size_t size, int *bad)
{
    size_t cur = off == 0 ? 0 : strlen(dst);

    if (cur + size >= cap) {
        *bad = 1;
        return;
    }
    memcpy(dst + cur, data, size);
    dst[cur + size] = '\0';
    *have = 1;
}

static void upload_file_chunk(struct sim_upload *up, const char *filename,
                              uint64_t off, const char *data, size_t size)
{
    if (off == 0 && (up->n_files == 0 || up->size > 0)) {
        up->n_files++;
        up->size = 0;
        sim_sha256_init(&up->sha);
        if (snprintf(up->filename, sizeof(up->filename), "%s", filename) >=
            (int)sizeof(up->filename))
            up->bad_field = 1;
    }
    up->size += size;
    if (up->size > sim_cfg.max_upload)
        up->too_big = 1;
    else
        sim_sha256_update(&up->sha, data, size);
}

static enum MHD_Result post_iter(void *cls, enum MHD_ValueKind kind,
                                 const char *key, const char *filename,
                                 const char *content_type,
                                 const char *transfer_encoding,
                                 const char *data, uint64_t off, size_t size)
{
    struct sim_ctx *x = cls;
    struct sim_upload *up = x->req.up;
    json_t *old;
    char *buf;
    size_t cur;

    if (up && filename && strcmp(key, "file") == 0) {
        upload_file_chunk(up, filename, off, data, size);
        return up->too_big ? MHD_NO : MHD_YES;
    }
    if (filename)
        return MHD_YES;         /* other file parts are ignored */
    if (up && strcmp(key, "root") == 0)
        field_put(up->root, sizeof(up->root), &up->have_root, off, data,
                  size, &up->bad_field);
    else if (up && strcmp(key, "path") == 0)
        field_put(up->path, sizeof(up->path), &up->have_path, off, data,
                  size, &up->bad_field);
    else if (up && strcmp(key, "print") == 0)
        field_put(up->print, sizeof(up->print), &up->have_print, off, data,
                  size, &up->bad_field);
    else if (up && strcmp(key, "checksum") == 0)
        field_put(up->checksum, sizeof(up->checksum), &up->have_checksum,
                  off, data, size, &up->bad_field);
    if (up)
        return MHD_YES;
    /* generic form field: keep as a string, appending continued chunks */
    old = off ? json_object_get(x->form, key) : NULL;
    cur = old ? json_string_length(old) : 0;
    if (cur + size > SIM_FIELD_MAX) {
        x->body_bad = 1;
        return MHD_NO;
    }
    buf = malloc(cur + size + 1);
    if (!buf)
        return MHD_NO;
    if (old)
        memcpy(buf, json_string_value(old), cur);
    memcpy(buf + cur, data, size);
    buf[cur + size] = '\0';
    json_object_set_new(x->form, key, json_stringn(buf, cur + size));
    free(buf);
    return MHD_YES;
}

static int content_type_is(const char *ct, const char *want)
{
    return ct && strncasecmp(ct, want, strlen(want)) == 0;
}

static int route_is_upload(struct sim_ctx *x)
{
    return x->route == RT_PRINTER && strcmp(x->req.method, "POST") == 0 &&
           (strcmp(x->req.path, "/server/files/upload") == 0 ||
            strcmp(x->req.path, "/api/files/local") == 0);
}

/* Auth and body set-up, once any added latency has passed. */
static enum MHD_Result http_prepare(struct sim_ctx *x)
{
    struct sim_req *r = &x->req;
    const char *ct, *cl, *key;

    x->phase = PH_BODY;
    if (x->route == RT_PRINTER && sim_cfg.api_key) {
        key = sim_req_header(r, "X-Api-Key");
        if (key && strcmp(key, sim_cfg.api_key) == 0) {
            r->api_key_user = 1;
        } else if (strcmp(r->path, "/access/info") != 0) {
            SIM_STAT_ADD(unauthorized, 1);
            return http_fail(x, MHD_HTTP_UNAUTHORIZED, "Unauthorized");
        }
    }
    ct = sim_req_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    cl = sim_req_header(r, MHD_HTTP_HEADER_CONTENT_LENGTH);
    x->is_upload = route_is_upload(x);
    if (x->is_upload) {
        if (cl && strtoull(cl, NULL, 10) > sim_cfg.max_upload + 64 * 1024) {
            SIM_STAT_ADD(rejected_uploads, 1);
            return http_fail(x, MHD_HTTP_CONTENT_TOO_LARGE,
                             "Request Entity Too Large");
        }
        r->up = calloc(1, sizeof(*r->up));
        if (!r->up)
            return MHD_NO;
    }
    if (content_type_is(ct, MHD_HTTP_POST_ENCODING_MULTIPART_FORMDATA) ||
        content_type_is(ct, MHD_HTTP_POST_ENCODING_FORM_URLENCODED)) {
        x->form = json_object();
        x->pp = MHD_create_post_processor(r->conn, SIM_PP_BUF, post_iter, x);
        if (!x->form || !x->pp)
            x->body_bad = 1;
    }
    return MHD_YES;
}

static void http_body(struct sim_ctx *x, const char *data, size_t size)
{
    char *nb;

    if (x->pp) {
        if (MHD_post_process(x->pp, data, size) != MHD_YES &&
            !(x->req.up && x->req.up->too_big))
            x->body_bad = 1;
        if (x->req.up)
            SIM_STAT_ADD(upload_bytes, size);
        return;
    }
    if (x->body_too_big || x->body_len + size > SIM_BODY_MAX) {
        x->body_too_big = 1;
        return;
    }
    nb = realloc(x->body, x->body_len + size + 1);
    if (!nb) {
        x->body_too_big = 1;
        return;
    }
    memcpy(nb + x->body_len, data, size);
    x->body = nb;
    x->body_len += size;
    x->body[x->body_len] = '\0';
}

/* ------------------------------------------------------------- dispatch */

static void http_root(struct sim_req *r, struct sim_resp *out)
{
    sim_resp_result(out, json_pack("{s:s,s:i,s:s,s:s}",
                                   "simulator", "rrcloud-printersim",
                                   "printers", (int)sim_cfg.printers,
                                   "printer_base", "/p/{id}",
                                   "control", "/sim/"));
}

static enum MHD_Result http_final(struct sim_ctx *x)
{
    struct sim_req *r = &x->req;
    struct sim_resp out = { 0 };
    enum MHD_Result ret;

    x->phase = PH_DONE;
    if (x->pp) {
        /* destroying flushes the last urlencoded value to post_iter */
        if (MHD_destroy_post_processor(x->pp) != MHD_YES &&
            !(r->up && r->up->too_big))
            x->body_bad = 1;
        x->pp = NULL;
    }
    if (x->body_too_big)
        return http_fail(x, MHD_HTTP_CONTENT_TOO_LARGE,
                         "Request Entity Too Large");
    if (x->body_bad && !r->up)
        return http_fail(x, MHD_HTTP_BAD_REQUEST, "Bad Request");
    if (r->up) {
        if (r->up->n_files && !r->up->too_big)
            sim_sha256_final(&r->up->sha, r->up->digest);
        if (x->body_bad)
            r->up->bad_field = 1;
    }
    if (x->body && x->body_len > 0) {
        json_error_t err;

        x->json = json_loadb(x->body, x->body_len, JSON_REJECT_DUPLICATES,
                             &err);
        if (!json_is_object(x->json))
            return http_fail(x, MHD_HTTP_BAD_REQUEST, "Bad Request");
        r->args = x->json;
    } else if (x->form) {
        r->args = x->form;
    }
    switch (x->route) {
    case RT_PRINTER: sim_moonraker_dispatch(r, &out); break;
    case RT_SIM: sim_ctl_dispatch(r, &out); break;
    case RT_ROOT: http_root(r, &out); break;
    default: sim_resp_error(&out, MHD_HTTP_NOT_FOUND, "Not Found", NULL);
    }
    if (!out.status)
        sim_resp_error(&out, MHD_HTTP_INTERNAL_SERVER_ERROR,
                       "Internal Server Error", NULL);
    ret = http_send(r->conn, &out);
    json_decref(out.body);
    return ret;
}

/* Parses "/p/ID/rest" into the request; sets x->route. */
static void http_route(struct sim_ctx *x, const char *url)
{
    struct sim_req *r = &x->req;
    unsigned long id;
    char *end;

    r->path = url;
    x->route = RT_NONE;
    if (strcmp(url, "/") == 0) {
        x->route = RT_ROOT;
    } else if (strncmp(url, "/sim/", 5) == 0 || strcmp(url, "/sim") == 0) {
        x->route = RT_SIM;
        r->path = url + 4;
    } else if (strncmp(url, "/p/", 3) == 0 && url[3] >= '1' &&
               url[3] <= '9') {
        id = strtoul(url + 3, &end, 10);
        r->p = id <= SIM_MAX_PRINTERS ? sim_printer_get((unsigned)id) : NULL;
        if (r->p && *end == '/') {
            x->route = RT_PRINTER;
            r->id = (unsigned)id;
            r->path = end;
            snprintf(x->base, sizeof(x->base), "/p/%lu", id);
            r->base = x->base;
        } else {
            r->p = NULL;
        }
    }
}

/* Offline faults and added latency: the first thing a printer "does". */
static enum MHD_Result http_first(struct sim_ctx *x)
{
    struct sim_printer *p = x->req.p;
    int off, delay;
    double now;

    SIM_STAT_ADD(requests, 1);
    if (x->route == RT_SIM)
        SIM_STAT_ADD(control_requests, 1);
    if (x->route != RT_PRINTER)
        return http_prepare(x);
    SIM_STAT_ADD(printer_requests, 1);
    now = sim_clock_now();
    sim_printer_lock(p);
    p->n_requests++;
    off = sim_printer_offline(p, now);
    delay = p->latency_ms >= 0 ? p->latency_ms : (int)sim_cfg.latency_ms;
    sim_printer_unlock(p);
    if (off == SIM_OFF_DROP) {
        SIM_STAT_ADD(offline_dropped, 1);
        return MHD_NO;          /* closes the connection: no answer */
    }
    if (off == SIM_OFF_502) {
        struct sim_resp out = { .status = MHD_HTTP_BAD_GATEWAY };

        SIM_STAT_ADD(offline_502, 1);
        x->phase = PH_DONE;
        return http_send(x->req.conn, &out);
    }
    if (off == SIM_OFF_HANG) {
        SIM_STAT_ADD(offline_hung, 1);
        x->phase = PH_HANG;
        delay = (int)sim_cfg.hang_ms;
        if (delay <= 0)
            return MHD_NO;
    } else if (p->latency_ms < 0 && sim_cfg.latency_jitter_ms) {
        uint64_t n = __atomic_fetch_add(&http_jitter_seq, 1,
                                        __ATOMIC_RELAXED);

        delay += (int)(sim_rand(n, 7, 7) * (sim_cfg.latency_jitter_ms + 1));
    }
    if (delay <= 0)
        return http_prepare(x);
    if (x->phase != PH_HANG)
        x->phase = PH_WAIT;
    SIM_STAT_ADD(delayed, 1);
    MHD_suspend_connection(x->req.conn);
    if (sim_delay_add(x->req.conn, (unsigned)delay) < 0)
        MHD_resume_connection(x->req.conn);     /* queue full: go on now */
    return MHD_YES;
}

static enum MHD_Result http_access(void *cls, struct MHD_Connection *c,
                                   const char *url, const char *method,
                                   const char *version,
                                   const char *upload_data,
                                   size_t *upload_data_size, void **req_cls)
{
    struct sim_ctx *x = *req_cls;
    const char *host;

    if (!x) {
        x = calloc(1, sizeof(*x));
        if (!x)
            return MHD_NO;
        *req_cls = x;
        x->req.conn = c;
        x->req.method = method;
        host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
        x->req.host = host ? host : "127.0.0.1";
        http_route(x, url);
        return http_first(x);
    }
    switch (x->phase) {
    case PH_HANG:
        return MHD_NO;          /* held long enough: drop it */
    case PH_WAIT:
        /* MHD repeats the header-time call after a resume: the body and
         * the final call are still to come */
        return http_prepare(x);
    case PH_DONE:
        *upload_data_size = 0;  /* answered early: discard the body */
        return MHD_YES;
    case PH_BODY:
        break;
    }
    if (*upload_data_size > 0) {
        http_body(x, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return http_final(x);
}

static void http_completed(void *cls, struct MHD_Connection *c,
                           void **req_cls, enum MHD_RequestTerminationCode t)
{
    struct sim_ctx *x = *req_cls;

    if (!x)
        return;
    if (x->pp)
        MHD_destroy_post_processor(x->pp);
    free(x->body);
    json_decref(x->form);
    json_decref(x->strs);
    json_decref(x->json);
    if (x->req.up)
        sim_sha256_free(&x->req.up->sha);
    free(x->req.up);
    free(x);
    *req_cls = NULL;
}

/* MHD's own messages: mostly clients that hung up (which faults provoke
 * on purpose), so they are debug output. */
__attribute__((format(printf, 2, 0)))
static void http_log(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    size_t n;

    vsnprintf(line, sizeof(line), fmt, ap);
    n = strlen(line);
    while (n > 0 && line[n - 1] == '\n')
        line[--n] = '\0';
    log_debug("mhd: %s", line);
}

int sim_http_start(const void *addr, int ipv6, unsigned threads,
                   unsigned max_conn, uint16_t *port)
{
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
                     MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    const union MHD_DaemonInfo *info;

    if (ipv6)
        flags |= MHD_USE_IPv6;
    http_daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, http_access, NULL,
        MHD_OPTION_EXTERNAL_LOGGER, http_log, NULL,
        MHD_OPTION_SOCK_ADDR, addr,
        MHD_OPTION_THREAD_POOL_SIZE, threads > 1 ? threads : 0,
        MHD_OPTION_CONNECTION_LIMIT, max_conn,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
        MHD_OPTION_NOTIFY_COMPLETED, http_completed, NULL,
        MHD_OPTION_END);
    if (!http_daemon) {
        log_err("cannot start the HTTP server (address in use?)");
        return -1;
    }
    info = MHD_get_daemon_info(http_daemon, MHD_DAEMON_INFO_BIND_PORT);
    if (!info || !info->port) {
        log_err("cannot read the bound port");
        MHD_stop_daemon(http_daemon);
        http_daemon = NULL;
        return -1;
    }
    *port = info->port;
    return 0;
}

void sim_http_stop(void)
{
    if (!http_daemon)
        return;
    /* stop accepting; the socket is ours to close after the stop */
    http_listen_fd = MHD_quiesce_daemon(http_daemon);
    sim_delay_stop();
    MHD_stop_daemon(http_daemon);
    http_daemon = NULL;
    if (http_listen_fd != MHD_INVALID_SOCKET)
        close(http_listen_fd);
    http_listen_fd = MHD_INVALID_SOCKET;
}
