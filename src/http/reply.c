/* reply.c - see reply.h. */
#include "http/reply.h"

#include "common/util.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* Fields of a task record in RepRapCloud's sorted order. */
enum { F_CHAIN, F_CHAINSTATUS, F_CLIENT, F_CMD, F_CTIME, F_ERROR, F_ETIME,
       F_EXIT, F_ID, F_IN, F_JOB, F_LOG, F_NOTIFIER, F_OUT, F_PID, F_SERVER,
       F_SERVICE, F_SIZEIN, F_SIZEOUT, F_STAGE, F_STATE, F_STATUS, F_STIME,
       F_COUNT };

static const char *const field_names[F_COUNT] = {
    "chain", "chainStatus", "client", "cmd", "ctime", "error", "etime",
    "exitCode", "id", "in", "job", "log", "notifier", "out", "pid", "server",
    "service", "sizeIn", "sizeOut", "stage", "state", "status", "stime",
};

enum task_status reply_chain_status(const struct task_stage *g, int n)
{
    int complete = 0, started = 0, cancelled = 0;

    for (int i = 0; i < n; i++) {
        if (g[i].status == TASK_FAILED)
            return TASK_FAILED;
        cancelled += g[i].status == TASK_CANCELLED;
        complete += g[i].status == TASK_COMPLETE;
        started += g[i].status != TASK_QUEUED;
    }
    if (cancelled)
        return TASK_CANCELLED;
    if (n > 0 && complete == n)
        return TASK_COMPLETE;
    return started ? TASK_BUSY : TASK_QUEUED;
}

/* "ID service status, ID service status, ..." for the chain field. */
static int chain_text(struct buf *b, const struct task *t)
{
    int rc = 0;

    for (int i = 0; i < t->nstages; i++) {
        const struct task_stage *g = &t->stages[i];

        rc |= buf_printf(b, "%s%s %s %s", i ? ", " : "", g->id, g->service,
                         task_status_name(g->status));
    }
    return rc ? -1 : 0;
}

const char *reply_text_status(enum task_status st, unsigned flags)
{
    /* RepRapCloud's client polls a task (and downloads its result and log)
     * only while it stored "busy", and it stores the answer to its POST;
     * its CGI printed that answer as the task started.  queued is a word
     * it does not know, and its kill set "failed". */
    if (flags & REPLY_SUBMITTED)
        return "busy";
    switch (st) {
    case TASK_QUEUED:
    case TASK_BUSY:
        return "busy";
    case TASK_CANCELLED:
        return "failed";
    case TASK_COMPLETE:
    case TASK_FAILED:
        break;
    }
    return task_status_name(st);
}

/* The common case of reply_cmd without a JSON parser: an array of
 * strings with only the two-character escapes.  1 if done, 0 to leave it
 * to jansson (b as it was), -1 out of memory. */
static int cmd_plain(struct buf *b, const char *p)
{
    static const char esc_in[] = "\"\\/bfnrt", esc_out[] = "\"\\/\b\f\n\r\t";
    size_t start = b->len;
    int n = 0;

    if (*p++ != '[')
        return 0;
    while (*p == ' ')
        p++;
    while (*p == '"') {
        const char *run = ++p;

        if (n++ && buf_putc(b, ' ') < 0)
            return -1;
        for (; *p != '"'; p++) {
            const char *e = NULL;

            if ((unsigned char)*p < 0x20 || (*p == '\\' && (!p[1] ||
                !(e = strchr(esc_in, p[1])))))
                goto other;
            if (*p != '\\')
                continue;
            if (buf_append(b, run, (size_t)(p - run)) < 0 ||
                buf_putc(b, esc_out[e - esc_in]) < 0)
                return -1;
            run = ++p + 1;
        }
        if (buf_append(b, run, (size_t)(p - run)) < 0)
            return -1;
        p++;
        while (*p == ' ')
            p++;
        if (*p == ',')
            for (p++; *p == ' '; p++)
                ;
        else if (*p != ']')
            goto other;
    }
    if (*p == ']' && p[1] == '\0')
        return 1;
other:
    b->len = start;
    if (b->data)
        b->data[start] = '\0';
    return 0;
}

int reply_cmd(struct buf *b, const char *argv_json)
{
    json_t *argv;
    size_t i;
    json_t *v;
    int rc;

    /* Every info answer carries cmd: jansson's parse of it was a third
     * of the cost of one.  Others (\u escapes, not an array) go to it. */
    if ((rc = cmd_plain(b, argv_json ? argv_json : "[]")) != 0)
        return rc < 0 ? -1 : 0;
    if (!(argv = json_loads(argv_json ? argv_json : "[]", 0, NULL)))
        return 0;
    rc = 0;
    json_array_foreach(argv, i, v) {
        if (i && buf_putc(b, ' ') < 0)
            rc = -1;
        if (json_is_string(v) && buf_puts(b, json_string_value(v)) < 0)
            rc = -1;
    }
    json_decref(argv);
    return rc;
}

/* Text values must stay on one line: a newline would forge a field. */
static int put_text_value(struct buf *b, const char *v)
{
    const char *run = v;
    int rc = 0;

    for (; *v; v++) {
        if ((unsigned char)*v >= 0x20)
            continue;
        rc |= buf_append(b, run, (size_t)(v - run));
        rc |= buf_putc(b, ' ');
        run = v + 1;
    }
    return rc | buf_append(b, run, (size_t)(v - run));
}

/* The replies format numbers without printf: an info request formats a
 * dozen, and vsnprintf was most of its cost. */

/* A Unix time t > 0 as seconds with five decimals ("%.5f"; a tie may
 * round the other way, 10 us off); "" if t <= 0.  out: 32 bytes. */
static char *fmt_time(char *out, double t)
{
    unsigned long long u;
    unsigned frac;
    size_t n;

    if (!(t > 0)) {
        out[0] = '\0';
        return out;
    }
    if (t >= 1e12) {   /* no Unix time of ours: keep printf's answer */
        snprintf(out, 32, "%.5f", t);
        return out;
    }
    u = (unsigned long long)(t * 100000.0 + 0.5);
    n = strlen(rr_lltoa(out, (long long)(u / 100000)));
    out[n] = '.';
    frac = (unsigned)(u % 100000);
    for (int d = 5; d >= 1; d--) {
        out[n + (size_t)d] = (char)('0' + frac % 10);
        frac /= 10;
    }
    out[n + 6] = '\0';
    return out;
}

/* a then b into out (len bytes), cut to fit.  Returns out. */
static char *join2(char *out, size_t len, const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);

    if (na >= len)
        na = len - 1;
    if (nb >= len - na)
        nb = len - na - 1;
    memcpy(out, a, na);
    memcpy(out + na, b, nb);
    out[na + nb] = '\0';
    return out;
}

/* The string value of field f, or NULL if the field is absent for this
 * task in format fmt.  cmd is passed in pre-joined; numbers and joined
 * paths are made in tmp (len >= 64). */
static const char *field_value(int f, enum reply_fmt fmt, unsigned flags,
                               const struct task *t, const char *server,
                               const char *cmd, const char *chain, char *tmp,
                               size_t len)
{
    switch (f) {
    case F_CHAIN: return t->nstages > 0 ? chain : NULL;
    case F_CHAINSTATUS:
        return t->nstages > 0
                   ? task_status_name(reply_chain_status(t->stages,
                                                         t->nstages))
                   : NULL;
    case F_CLIENT: return t->client;
    case F_CMD: return cmd;
    case F_CTIME: return fmt_time(tmp, t->ctime);
    case F_ERROR: return t->reason && *t->reason ? t->reason : NULL;
    case F_ETIME: return t->etime > 0 ? fmt_time(tmp, t->etime) : NULL;
    case F_EXIT: return t->exit_code >= 0 ? rr_lltoa(tmp, t->exit_code) : NULL;
    case F_ID: return t->id;
    case F_IN: return t->inputs ? t->inputs : "";
    case F_JOB: return t->job_id > 0 ? rr_lltoa(tmp, t->job_id) : NULL;
    case F_LOG: return join2(tmp, len, "tasks/log/", t->id);
    case F_NOTIFIER: return t->notifier;
    case F_OUT:
        return t->out_name[0] ? join2(tmp, len, "tasks/out/", t->out_name)
                              : NULL;
    case F_PID: return t->pid > 0 ? rr_lltoa(tmp, t->pid) : NULL;
    case F_SERVER: return server;
    case F_SERVICE: return t->service;
    case F_SIZEIN: return rr_lltoa(tmp, t->size_in);
    case F_SIZEOUT: return t->size_out >= 0 ? rr_lltoa(tmp, t->size_out) : "";
    case F_STAGE: return t->chain[0] ? rr_lltoa(tmp, t->stage) : NULL;
    case F_STATE:
        /* the true state beside RepRapCloud's word; JSON and HTML carry
         * it in status itself */
        return fmt == REPLY_TEXT ? task_status_name(t->status) : NULL;
    case F_STATUS:
        return fmt == REPLY_TEXT ? reply_text_status(t->status, flags)
                                 : task_status_name(t->status);
    case F_STIME: return t->stime > 0 ? fmt_time(tmp, t->stime) : NULL;
    }
    return NULL;
}

static int reply_task_html_row(struct buf *b, const struct task *t)
{
    int rc = 0;

    rc |= buf_puts(b, "<tr><td><a href=\"?service=info&amp;id=");
    rc |= buf_html_escape(b, t->id);
    rc |= buf_puts(b, "\">");
    rc |= buf_html_escape(b, t->id);
    rc |= buf_puts(b, "</a></td><td>");
    rc |= buf_html_escape(b, t->service);
    rc |= buf_printf(b, "</td><td class=\"st-%s\">%s</td><td>",
                     task_status_name(t->status),
                     task_status_name(t->status));
    if (t->out_name[0] && t->status == TASK_COMPLETE) {
        rc |= buf_puts(b, "<a href=\"tasks/out/");
        rc |= buf_html_escape(b, t->out_name);
        rc |= buf_puts(b, "\">");
        rc |= buf_html_escape(b, t->out_name);
        rc |= buf_puts(b, "</a>");
    }
    rc |= buf_puts(b, "</td><td><a href=\"tasks/log/");
    rc |= buf_html_escape(b, t->id);
    rc |= buf_puts(b, "\">log</a></td><td>");
    rc |= buf_html_escape(b, t->reason ? t->reason : "");
    rc |= buf_puts(b, "</td></tr>\n");
    return rc ? -1 : 0;
}

int reply_html_head(struct buf *b, const char *title)
{
    int rc = buf_puts(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                      "<meta name=\"viewport\" content=\"width=device-width\">"
                      "<title>");
    rc |= buf_html_escape(b, title);
    rc |= buf_puts(b, "</title><link rel=\"stylesheet\" href=\"/www/rrcloud.css\">"
                   "</head><body><header><a href=\"/\">rrcloud</a></header>"
                   "<main><h1>");
    rc |= buf_html_escape(b, title);
    rc |= buf_puts(b, "</h1>\n");
    return rc ? -1 : 0;
}

int reply_html_foot(struct buf *b)
{
    return buf_puts(b, "</main></body></html>\n");
}

int reply_task(struct buf *b, enum reply_fmt fmt, const struct task *t,
               const char *server, unsigned flags)
{
    struct buf cmd, chain;
    char tmp[256];
    int rc = 0, first = 1;

    buf_init(&cmd, 64 * 1024);
    buf_init(&chain, 64 * 1024);
    if (reply_cmd(&cmd, t->argv_json) < 0 || chain_text(&chain, t) < 0) {
        buf_free(&cmd);
        buf_free(&chain);
        return -1;
    }
    /* a record is about 500 bytes and its cmd: one allocation (only a
     * help: near the cap the appends below still fit what fits) */
    (void)buf_reserve(b, 1024 + cmd.len);
    if (fmt == REPLY_HTML) {
        rc |= reply_html_head(b, t->id);
        rc |= buf_puts(b, "<table class=\"task\">\n");
    } else if (fmt == REPLY_JSON) {
        rc |= buf_puts(b, "{");
    }
    for (int f = 0; f < F_COUNT; f++) {
        const char *v = field_value(f, fmt, flags, t, server,
                                    cmd.data ? cmd.data : "",
                                    chain.data ? chain.data : "", tmp,
                                    sizeof(tmp));

        if (!v)
            continue;
        switch (fmt) {
        case REPLY_TEXT:
            rc |= buf_puts(b, field_names[f]);
            rc |= buf_puts(b, ": ");
            rc |= put_text_value(b, v);
            rc |= buf_putc(b, '\n');
            break;
        case REPLY_JSON:
            rc |= buf_puts(b, first ? "\n\t\"" : ",\n\t\"");
            rc |= buf_puts(b, field_names[f]);
            rc |= buf_puts(b, "\": \"");
            rc |= buf_json_escape(b, v);
            rc |= buf_putc(b, '"');
            break;
        case REPLY_HTML:
            rc |= buf_puts(b, "<tr><th>");
            rc |= buf_puts(b, field_names[f]);
            rc |= buf_puts(b, "</th><td>");
            if ((f == F_OUT && t->status == TASK_COMPLETE) || f == F_LOG) {
                rc |= buf_puts(b, "<a href=\"/");
                rc |= buf_html_escape(b, v);
                rc |= buf_puts(b, "\">");
                rc |= buf_html_escape(b, v);
                rc |= buf_puts(b, "</a>");
            } else {
                rc |= buf_html_escape(b, v);
            }
            rc |= buf_puts(b, "</td></tr>\n");
            break;
        }
        first = 0;
    }
    if (fmt == REPLY_JSON)
        rc |= buf_puts(b, "\n}\n");
    else if (fmt == REPLY_HTML)
        rc |= buf_puts(b, "</table>\n") | reply_html_foot(b);
    buf_free(&cmd);
    buf_free(&chain);
    return rc ? -1 : 0;
}

/* ,"key": then the raw JSON value v, or null if v is NULL */
static int put_json_raw(struct buf *b, const char *key, const char *v)
{
    int rc = buf_puts(b, ",\"");

    rc |= buf_puts(b, key);
    rc |= buf_puts(b, "\":");
    return rc | buf_puts(b, v ? v : "null");
}

static int put_json_str(struct buf *b, const char *key, const char *v)
{
    int rc;

    if (!v)
        return put_json_raw(b, key, NULL);
    rc = put_json_raw(b, key, "\"");
    rc |= buf_json_escape(b, v);
    return rc | buf_putc(b, '"');
}

static int put_json_time(struct buf *b, const char *key, double t)
{
    char v[32];

    return put_json_raw(b, key, t > 0 ? fmt_time(v, t) : NULL);
}

/* ,"key":N, or null when !present */
static int put_json_ll(struct buf *b, const char *key, long long n,
                       int present)
{
    char v[24];

    return put_json_raw(b, key, present ? rr_lltoa(v, n) : NULL);
}

/* ,"chain":{"id":..,"stage":N,"status":..,"stages":[{"id","service",
 * "status"}..]} for a pipeline stage (stages only when the relay loaded
 * them), else ,"chain":null */
static int put_json_chain(struct buf *b, const struct task *t)
{
    int rc;

    if (!t->chain[0])
        return put_json_raw(b, "chain", NULL);
    rc = put_json_raw(b, "chain", "{\"id\":\"");
    rc |= buf_json_escape(b, t->chain);
    rc |= buf_putc(b, '"');
    rc |= put_json_ll(b, "stage", t->stage, 1);
    if (t->nstages > 0) {
        rc |= put_json_str(b, "status", task_status_name(
                               reply_chain_status(t->stages, t->nstages)));
        rc |= put_json_raw(b, "stages", "[");
        for (int i = 0; i < t->nstages; i++) {
            rc |= buf_puts(b, i ? ",{\"id\":\"" : "{\"id\":\"");
            rc |= buf_json_escape(b, t->stages[i].id);
            rc |= buf_putc(b, '"');
            rc |= put_json_str(b, "service", t->stages[i].service);
            rc |= put_json_str(b, "status",
                               task_status_name(t->stages[i].status));
            rc |= buf_putc(b, '}');
        }
        rc |= buf_putc(b, ']');
    }
    return rc | buf_putc(b, '}');
}

int reply_task_api(struct buf *b, const struct task *t, const char *server)
{
    struct buf cmd;
    char out[160], log[64];
    int rc = 0;

    buf_init(&cmd, 64 * 1024);
    if (reply_cmd(&cmd, t->argv_json) < 0) {
        buf_free(&cmd);
        return -1;
    }
    join2(out, sizeof(out), "/tasks/out/", t->out_name);
    join2(log, sizeof(log), "/tasks/log/", t->id);
    rc |= buf_puts(b, "{\"id\":\"");
    rc |= buf_json_escape(b, t->id);
    rc |= buf_putc(b, '"');
    rc |= put_json_str(b, "service", t->service);
    rc |= put_json_str(b, "status", task_status_name(t->status));
    rc |= put_json_str(b, "client", t->client);
    rc |= put_json_str(b, "server", server);
    rc |= put_json_str(b, "cmd", cmd.data ? cmd.data : "");
    rc |= put_json_str(b, "inputs", t->inputs);
    rc |= put_json_str(b, "output", t->out_name[0] ? out : NULL);
    rc |= put_json_str(b, "log", log);
    rc |= put_json_str(b, "notifier", t->notifier);
    rc |= put_json_str(b, "error", t->reason);
    rc |= put_json_time(b, "created", t->ctime);
    rc |= put_json_time(b, "started", t->stime);
    rc |= put_json_time(b, "ended", t->etime);
    rc |= put_json_ll(b, "sizeIn", t->size_in, 1);
    rc |= put_json_ll(b, "sizeOut", t->size_out, t->size_out >= 0);
    rc |= put_json_ll(b, "exitCode", t->exit_code, t->exit_code >= 0);
    rc |= put_json_ll(b, "pid", t->pid, t->pid > 0);
    rc |= put_json_ll(b, "job", t->job_id, t->job_id > 0);
    rc |= put_json_ll(b, "timeout", t->timeout, 1);
    rc |= put_json_ll(b, "runs", t->runs, 1);
    rc |= put_json_chain(b, t);
    rc |= buf_putc(b, '}');
    buf_free(&cmd);
    return rc ? -1 : 0;
}

int reply_list_begin(struct buf *b, enum reply_fmt fmt, const char *title)
{
    switch (fmt) {
    case REPLY_JSON:
        return buf_puts(b, "[\n");
    case REPLY_HTML:
        return reply_html_head(b, title) |
               buf_puts(b, "<table class=\"tasks\"><tr><th>id</th>"
                        "<th>service</th><th>status</th><th>output</th>"
                        "<th>log</th><th>error</th></tr>\n");
    default:
        return 0;
    }
}

int reply_list_item(struct buf *b, enum reply_fmt fmt, const struct task *t,
                    const char *server, int index)
{
    switch (fmt) {
    case REPLY_JSON:
        if (index && buf_puts(b, ",\n") < 0)
            return -1;
        return reply_task(b, REPLY_JSON, t, server, 0);
    case REPLY_HTML:
        return reply_task_html_row(b, t);
    default:
        if (index && buf_putc(b, '\n') < 0)
            return -1;
        return reply_task(b, REPLY_TEXT, t, server, 0);
    }
}

int reply_list_end(struct buf *b, enum reply_fmt fmt)
{
    switch (fmt) {
    case REPLY_JSON:
        return buf_puts(b, "]\n");
    case REPLY_HTML:
        return buf_puts(b, "</table>\n") | reply_html_foot(b);
    default:
        return 0;
    }
}

int reply_kvs(struct buf *b, enum reply_fmt fmt, const struct reply_kv *kv,
              int n, const char *title)
{
    int rc = 0;

    if (fmt == REPLY_JSON)
        rc |= buf_puts(b, "{");
    else if (fmt == REPLY_HTML)
        rc |= reply_html_head(b, title) | buf_puts(b, "<table class=\"meta\">\n");
    for (int i = 0; i < n; i++) {
        switch (fmt) {
        case REPLY_JSON:
            rc |= buf_printf(b, "%s\n\t\"%s\": \"", i ? "," : "", kv[i].key);
            rc |= buf_json_escape(b, kv[i].value);
            rc |= buf_putc(b, '"');
            break;
        case REPLY_HTML:
            rc |= buf_printf(b, "<tr><th>%s</th><td>", kv[i].key);
            rc |= buf_html_escape(b, kv[i].value);
            rc |= buf_puts(b, "</td></tr>\n");
            break;
        default:
            rc |= buf_printf(b, "%s: ", kv[i].key);
            rc |= put_text_value(b, kv[i].value);
            rc |= buf_putc(b, '\n');
        }
    }
    if (fmt == REPLY_JSON)
        rc |= buf_puts(b, "\n}\n");
    else if (fmt == REPLY_HTML)
        rc |= buf_puts(b, "</table>\n") | reply_html_foot(b);
    return rc ? -1 : 0;
}
