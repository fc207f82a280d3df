/*
 * metrics.c - GET /metrics in the Prometheus text format (0.0.4).
 *
 *   rrcloud_printers{state,frontend}            gauge
 *   rrcloud_queue_depth{queue}                  gauge, copies waiting
 *   rrcloud_attempts_total{result}              counter, ended attempts
 *   rrcloud_attempts_live{state}                gauge
 *   rrcloud_dispatch_latency_seconds            histogram: printer ready
 *       (ready_since when the scheduler picked it) to upload started,
 *       from the attempts table (ready_at, upload_at; the data plane sets
 *       upload_at through store_attempt_set_state)
 *   rrcloud_frontend_load{frontend}             gauge, assigned / capacity
 *   rrcloud_frontend_up{frontend}               gauge, 1 healthy
 *   rrcloud_frontend_printers{frontend,kind}    gauge, assigned / online
 *   rrcloud_tasks{status}                       gauge
 *   rrcloud_notifications{state}                gauge
 *
 * Open unless metrics_public = no, then the admin token is needed.
 */
#include "fcgi/fleet_api.h"

#include "fcgi/fleet_api_int.h"
#include "fcgi/worker.h"
#include "store/store.h"

#include <string.h>

static const double lat_bounds[] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
                                     30, 60, 300 };
#define NBOUNDS (sizeof(lat_bounds) / sizeof(lat_bounds[0]))

/* A label value with \ " and newline escaped. */
static int label(struct buf *b, const char *v)
{
    for (; *v; v++) {
        int rc = *v == '\\' ? buf_puts(b, "\\\\")
               : *v == '"' ? buf_puts(b, "\\\"")
               : *v == '\n' ? buf_puts(b, "\\n") : buf_putc(b, *v);
        if (rc < 0)
            return -1;
    }
    return 0;
}

struct m_ctx {
    struct buf *b;
    const char *metric;
    const char *la, *lb;       /* label names; lb NULL = one label */
    int failed;
};

static int m_line(void *arg, const char *a, const char *bv, long long n)
{
    struct m_ctx *x = arg;

    if (buf_printf(x->b, "%s{%s=\"", x->metric, x->la) < 0 ||
        label(x->b, a) < 0)
        goto fail;
    if (x->lb && (buf_printf(x->b, "\",%s=\"", x->lb) < 0 ||
                  label(x->b, bv) < 0))
        goto fail;
    if (buf_printf(x->b, "\"} %lld\n", n) < 0)
        goto fail;
    return 0;
fail:
    x->failed = 1;
    return 1;
}

static int m_attempt(void *arg, const char *state, const char *unused,
                     long long n)
{
    struct m_ctx *x = arg;
    enum attempt_state s;

    (void)unused;
    if (attempt_state_parse(state, &s) < 0)
        return 0;
    x->metric = attempt_state_live(s) ? "rrcloud_attempts_live"
                                      : "rrcloud_attempts_total";
    x->la = attempt_state_live(s) ? "state" : "result";
    return m_line(x, state, "", n);
}

static int m_frontend(void *arg, const struct fleet_frontend *f)
{
    struct m_ctx *x = arg;
    struct buf *b = x->b;

    if (buf_puts(b, "rrcloud_frontend_load{frontend=\"") < 0 ||
        label(b, f->name) < 0 ||
        buf_printf(b, "\"} %g\n", f->capacity > 0 ? (double)f->assigned /
                                                        f->capacity : 1.0) < 0 ||
        buf_puts(b, "rrcloud_frontend_up{frontend=\"") < 0 ||
        label(b, f->name) < 0 ||
        buf_printf(b, "\"} %d\n", f->healthy && f->enabled) < 0 ||
        buf_puts(b, "rrcloud_frontend_printers{frontend=\"") < 0 ||
        label(b, f->name) < 0 ||
        buf_printf(b, "\",kind=\"assigned\"} %lld\n", f->assigned) < 0 ||
        buf_puts(b, "rrcloud_frontend_printers{frontend=\"") < 0 ||
        label(b, f->name) < 0 ||
        buf_printf(b, "\",kind=\"online\"} %lld\n", f->online) < 0) {
        x->failed = 1;
        return 1;
    }
    return 0;
}

static int latency(struct req *r, struct buf *b)
{
    long long counts[NBOUNDS], total;
    double sum;

    if (store_fleet_latency_hist(r->w->st, lat_bounds, NBOUNDS, counts,
                                 &total, &sum) < 0)
        return -1;
    buf_puts(b, "# HELP rrcloud_dispatch_latency_seconds Printer ready to "
             "upload started.\n# TYPE rrcloud_dispatch_latency_seconds "
             "histogram\n");
    for (size_t i = 0; i < NBOUNDS; i++)
        buf_printf(b, "rrcloud_dispatch_latency_seconds_bucket{le=\"%g\"} "
                   "%lld\n", lat_bounds[i], counts[i]);
    buf_printf(b, "rrcloud_dispatch_latency_seconds_bucket{le=\"+Inf\"} "
               "%lld\nrrcloud_dispatch_latency_seconds_sum %.6f\n"
               "rrcloud_dispatch_latency_seconds_count %lld\n", total, sum,
               total);
    return 0;
}

static int tasks(struct req *r, struct buf *b)
{
    long long n, pend, done, gave_up;

    buf_puts(b, "# HELP rrcloud_tasks Tasks by status.\n"
             "# TYPE rrcloud_tasks gauge\n");
    for (int s = TASK_QUEUED; s <= TASK_CANCELLED; s++) {
        if (store_task_count(r->w->st, s, &n) < 0)
            return -1;
        buf_printf(b, "rrcloud_tasks{status=\"%s\"} %lld\n",
                   task_status_name((enum task_status)s), n);
    }
    if (store_notify_counts(r->w->st, &pend, &done, &gave_up) < 0)
        return -1;
    buf_printf(b, "# HELP rrcloud_notifications Notifier deliveries by "
               "state.\n# TYPE rrcloud_notifications gauge\n"
               "rrcloud_notifications{state=\"pending\"} %lld\n"
               "rrcloud_notifications{state=\"delivered\"} %lld\n"
               "rrcloud_notifications{state=\"failed\"} %lld\n", pend, done,
               gave_up);
    return 0;
}

int metrics_handle(struct req *r)
{
    struct buf *b = &r->out;
    struct m_ctx x = { b, NULL, NULL, NULL, 0 };
    struct fa_caller c;
    int rc;

    if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD"))
        return req_error(r, 405, NULL, "use GET");
    if (!r->w->app->conf.metrics_public) {
        fa_identify(r, &c);
        if ((rc = fa_require_admin(r, &c)) != 0)
            return rc;
    }
    buf_reset(b);
    buf_puts(b, "# HELP rrcloud_printers Printers by state and frontend.\n"
             "# TYPE rrcloud_printers gauge\n");
    x.metric = "rrcloud_printers";
    x.la = "state";
    x.lb = "frontend";
    if (store_fleet_count_printers(r->w->st, m_line, &x) < 0)
        goto fail;
    buf_puts(b, "# HELP rrcloud_queue_depth Copies waiting for a printer.\n"
             "# TYPE rrcloud_queue_depth gauge\n");
    x.metric = "rrcloud_queue_depth";
    x.la = "queue";
    x.lb = NULL;
    if (store_fleet_count_queues(r->w->st, m_line, &x) < 0)
        goto fail;
    buf_puts(b, "# HELP rrcloud_attempts_total Ended attempts by result.\n"
             "# TYPE rrcloud_attempts_total counter\n"
             "# HELP rrcloud_attempts_live Live attempts by state.\n"
             "# TYPE rrcloud_attempts_live gauge\n");
    if (store_fleet_count_attempts(r->w->st, m_attempt, &x) < 0 ||
        latency(r, b) < 0)
        goto fail;
    buf_puts(b, "# HELP rrcloud_frontend_load Assigned printers / "
             "capacity.\n# TYPE rrcloud_frontend_load gauge\n"
             "# HELP rrcloud_frontend_up 1 if the frontend is healthy and "
             "enabled.\n# TYPE rrcloud_frontend_up gauge\n"
             "# TYPE rrcloud_frontend_printers gauge\n");
    if (store_frontend_list(r->w->st, m_frontend, &x) < 0 || tasks(r, b) < 0)
        goto fail;
    if (x.failed)
        goto fail;
    req_send(r, 200, "text/plain; version=0.0.4; charset=utf-8", NULL);
    return 200;
fail:
    return req_error(r, 500, NULL, "cannot collect metrics");
}
