/* reply.c - see reply.h. */
#include "http/reply.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* Fields of a task record in RepRapCloud's sorted order. */
enum { F_CLIENT, F_CMD, F_CTIME, F_ERROR, F_ETIME, F_EXIT, F_ID, F_IN, F_JOB,
       F_LOG, F_NOTIFIER, F_OUT, F_PID, F_SERVER, F_SERVICE, F_SIZEIN,
       F_SIZEOUT, F_STATE, F_STATUS, F_STIME, F_COUNT };

static const char *const field_names[F_COUNT] = {
    "client", "cmd", "ctime", "error", "etime", "exitCode", "id", "in",
    "job", "log", "notifier", "out", "pid", "server", "service", "sizeIn",
    "sizeOut", "state", "status", "stime",
};

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

int reply_cmd(struct buf *b, const char *argv_json)
{
    json_t *argv = json_loads(argv_json ? argv_json : "[]", 0, NULL);
    size_t i;
    json_t *v;
    int rc = 0;

    if (!argv)
        return 0;
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
    for (; *v; v++) {
        char c = (unsigned char)*v < 0x20 ? ' ' : *v;
        if (buf_putc(b, c) < 0)
            return -1;
    }
    return 0;
}

static void fmt_time(char *out, size_t len, double t)
{
    if (t > 0)
        snprintf(out, len, "%.5f", t);
    else
        out[0] = '\0';
}

/* Computes the string value of field f; returns 0 if the field is absent
 * for this task in format fmt.  cmd is passed in pre-joined. */
static int field_value(int f, enum reply_fmt fmt, unsigned flags,
                       const struct task *t, const char *server,
                       const char *cmd, char *v, size_t len)
{
    v[0] = '\0';
    switch (f) {
    case F_CLIENT: snprintf(v, len, "%s", t->client); return 1;
    case F_CMD: snprintf(v, len, "%s", cmd); return 1;
    case F_CTIME: fmt_time(v, len, t->ctime); return 1;
    case F_ERROR:
        if (!t->reason || !*t->reason)
            return 0;
        snprintf(v, len, "%s", t->reason);
        return 1;
    case F_ETIME:
        if (t->etime <= 0)
            return 0;
        fmt_time(v, len, t->etime);
        return 1;
    case F_EXIT:
        if (t->exit_code < 0)
            return 0;
        snprintf(v, len, "%d", t->exit_code);
        return 1;
    case F_ID: snprintf(v, len, "%s", t->id); return 1;
    case F_IN: snprintf(v, len, "%s", t->inputs ? t->inputs : ""); return 1;
    case F_JOB:
        if (t->job_id <= 0)
            return 0;
        snprintf(v, len, "%lld", t->job_id);
        return 1;
    case F_LOG: snprintf(v, len, "tasks/log/%s", t->id); return 1;
    case F_NOTIFIER:
        if (!t->notifier)
            return 0;
        snprintf(v, len, "%s", t->notifier);
        return 1;
    case F_OUT:
        if (!t->out_name[0])
            return 0;
        snprintf(v, len, "tasks/out/%s", t->out_name);
        return 1;
    case F_PID:
        if (t->pid <= 0)
            return 0;
        snprintf(v, len, "%ld", t->pid);
        return 1;
    case F_SERVER: snprintf(v, len, "%s", server); return 1;
    case F_SERVICE: snprintf(v, len, "%s", t->service); return 1;
    case F_SIZEIN: snprintf(v, len, "%lld", t->size_in); return 1;
    case F_SIZEOUT:
        if (t->size_out >= 0)
            snprintf(v, len, "%lld", t->size_out);
        return 1;
    case F_STATE:
        /* the true state beside RepRapCloud's word; JSON and HTML carry
         * it in status itself */
        if (fmt != REPLY_TEXT)
            return 0;
        snprintf(v, len, "%s", task_status_name(t->status));
        return 1;
    case F_STATUS:
        snprintf(v, len, "%s", fmt == REPLY_TEXT
                 ? reply_text_status(t->status, flags)
                 : task_status_name(t->status));
        return 1;
    case F_STIME:
        if (t->stime <= 0)
            return 0;
        fmt_time(v, len, t->stime);
        return 1;
    }
    return 0;
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
    struct buf cmd;
    char v[4096];
    int rc = 0, first = 1;

    buf_init(&cmd, 64 * 1024);
    if (reply_cmd(&cmd, t->argv_json) < 0) {
        buf_free(&cmd);
        return -1;
    }
    if (fmt == REPLY_HTML) {
        rc |= reply_html_head(b, t->id);
        rc |= buf_puts(b, "<table class=\"task\">\n");
    } else if (fmt == REPLY_JSON) {
        rc |= buf_puts(b, "{");
    }
    for (int f = 0; f < F_COUNT; f++) {
        if (!field_value(f, fmt, flags, t, server, cmd.data ? cmd.data : "",
                         v, sizeof(v)))
            continue;
        switch (fmt) {
        case REPLY_TEXT:
            rc |= buf_printf(b, "%s: ", field_names[f]);
            rc |= put_text_value(b, v);
            rc |= buf_putc(b, '\n');
            break;
        case REPLY_JSON:
            rc |= buf_printf(b, "%s\n\t\"%s\": \"", first ? "" : ",",
                             field_names[f]);
            rc |= buf_json_escape(b, v);
            rc |= buf_putc(b, '"');
            break;
        case REPLY_HTML:
            rc |= buf_printf(b, "<tr><th>%s</th><td>", field_names[f]);
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
    return rc ? -1 : 0;
}

static int put_json_str(struct buf *b, const char *key, const char *v)
{
    int rc = buf_printf(b, ",\"%s\":", key);

    if (!v)
        return rc | buf_puts(b, "null");
    rc |= buf_putc(b, '"');
    rc |= buf_json_escape(b, v);
    return rc | buf_putc(b, '"');
}

static int put_json_time(struct buf *b, const char *key, double t)
{
    return t > 0 ? buf_printf(b, ",\"%s\":%.5f", key, t)
                 : buf_printf(b, ",\"%s\":null", key);
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
    snprintf(out, sizeof(out), "/tasks/out/%s", t->out_name);
    snprintf(log, sizeof(log), "/tasks/log/%s", t->id);
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
    rc |= buf_printf(b, ",\"sizeIn\":%lld", t->size_in);
    rc |= t->size_out >= 0 ? buf_printf(b, ",\"sizeOut\":%lld", t->size_out)
                           : buf_puts(b, ",\"sizeOut\":null");
    rc |= t->exit_code >= 0 ? buf_printf(b, ",\"exitCode\":%d", t->exit_code)
                            : buf_puts(b, ",\"exitCode\":null");
    rc |= t->pid > 0 ? buf_printf(b, ",\"pid\":%ld", t->pid)
                     : buf_puts(b, ",\"pid\":null");
    rc |= t->job_id > 0 ? buf_printf(b, ",\"job\":%lld", t->job_id)
                        : buf_puts(b, ",\"job\":null");
    rc |= buf_printf(b, ",\"timeout\":%lld,\"runs\":%d}", t->timeout, t->runs);
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
