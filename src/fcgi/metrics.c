/*
 * metrics.c - GET /metrics in the Prometheus text format (0.0.4).  Each
 * family's HELP and TYPE come once, directly followed by all its samples
 * (promtool check metrics passes it; tests/integration/test_status.sh).
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
 *   per printer (id in the printer label), from its last status while it
 *   is not offline (fleet_printer_live):
 *   rrcloud_printer_info{printer,name}          gauge, 1
 *   rrcloud_printer_progress_ratio{printer}     gauge 0..1, a file loaded
 *   rrcloud_printer_print_duration_seconds{printer}
 *   rrcloud_printer_time_left_seconds{printer}  gauge, printing or paused
 *   rrcloud_printer_temperature_celsius{printer,heater}
 *   rrcloud_printer_target_temperature_celsius{printer,heater}
 *
 * Needs an operator or admin key unless metrics_public = yes.
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

/* A family's HELP and TYPE lines. */
static int family(struct buf *b, const char *name, const char *type,
                  const char *help)
{
    return buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
                      type);
}

struct m_ctx {
    struct buf *b;
    const char *metric;
    const char *la, *lb;       /* label names; lb NULL = one label */
    int live;                  /* m_attempt: the live states, or the ended */
    int which;                 /* m_frontend: the family */
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
    if (attempt_state_parse(state, &s) < 0 ||
        !attempt_state_live(s) != !x->live)
        return 0;
    return m_line(x, state, "", n);
}

static int attempts(struct req *r, struct m_ctx *x)
{
    x->lb = NULL;
    x->metric = "rrcloud_attempts_total";
    x->la = "result";
    x->live = 0;
    if (family(x->b, x->metric, "counter", "Ended attempts by result.") < 0 ||
        store_fleet_count_attempts(r->w->st, m_attempt, x) < 0)
        return -1;
    x->metric = "rrcloud_attempts_live";
    x->la = "state";
    x->live = 1;
    if (family(x->b, x->metric, "gauge", "Live attempts by state.") < 0 ||
        store_fleet_count_attempts(r->w->st, m_attempt, x) < 0)
        return -1;
    return 0;
}

enum { FE_LOAD, FE_UP, FE_PRINTERS };

/* "METRIC{frontend=\"NAME" (the caller closes the labels); 0 or -1. */
static int fe_open(struct buf *b, const char *metric, const char *name)
{
    return buf_printf(b, "%s{frontend=\"", metric) < 0 ||
           label(b, name) < 0 ? -1 : 0;
}

static int m_frontend(void *arg, const struct fleet_frontend *f)
{
    struct m_ctx *x = arg;
    struct buf *b = x->b;
    int bad;

    switch (x->which) {
    case FE_LOAD:
        bad = fe_open(b, x->metric, f->name) < 0 ||
              buf_printf(b, "\"} %g\n", f->capacity > 0 ?
                         (double)f->assigned / f->capacity : 1.0) < 0;
        break;
    case FE_UP:
        bad = fe_open(b, x->metric, f->name) < 0 ||
              buf_printf(b, "\"} %d\n", f->healthy && f->enabled) < 0;
        break;
    default:
        bad = fe_open(b, x->metric, f->name) < 0 ||
              buf_printf(b, "\",kind=\"assigned\"} %lld\n", f->assigned) < 0 ||
              fe_open(b, x->metric, f->name) < 0 ||
              buf_printf(b, "\",kind=\"online\"} %lld\n", f->online) < 0;
        break;
    }
    if (bad)
        x->failed = 1;
    return bad;
}

static int frontends(struct req *r, struct m_ctx *x)
{
    static const char *const fam[][2] = {
        { "rrcloud_frontend_load", "Assigned printers / capacity." },
        { "rrcloud_frontend_up", "1 if the frontend is healthy and "
                                 "enabled." },
        { "rrcloud_frontend_printers", "Printers assigned to the frontend, "
                                       "and of those online." },
    };

    for (int i = FE_LOAD; i <= FE_PRINTERS; i++) {
        x->which = i;
        x->metric = fam[i][0];
        if (family(x->b, fam[i][0], "gauge", fam[i][1]) < 0 ||
            store_frontend_list(r->w->st, m_frontend, x) < 0)
            return -1;
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
    family(b, "rrcloud_dispatch_latency_seconds", "histogram",
           "Printer ready to upload started.");
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

    family(b, "rrcloud_tasks", "gauge", "Tasks by status.");
    for (int s = TASK_QUEUED; s <= TASK_CANCELLED; s++) {
        if (store_task_count(r->w->st, s, &n) < 0)
            return -1;
        buf_printf(b, "rrcloud_tasks{status=\"%s\"} %lld\n",
                   task_status_name((enum task_status)s), n);
    }
    if (store_notify_counts(r->w->st, &pend, &done, &gave_up) < 0)
        return -1;
    family(b, "rrcloud_notifications", "gauge",
           "Notifier deliveries by state.");
    buf_printf(b, "rrcloud_notifications{state=\"pending\"} %lld\n"
               "rrcloud_notifications{state=\"delivered\"} %lld\n"
               "rrcloud_notifications{state=\"failed\"} %lld\n", pend, done,
               gave_up);
    return 0;
}

/* ---- per printer: one pass over the printers, one buffer per family --- */

enum { PF_INFO, PF_PROGRESS, PF_DURATION, PF_LEFT, PF_TEMP, PF_TARGET,
       PF_COUNT };

static const char *const pf_fam[PF_COUNT][2] = {
    { "rrcloud_printer_info", "Printer names by id (always 1)." },
    { "rrcloud_printer_progress_ratio", "Progress of the loaded file, 0 to "
                                        "1 (virtual_sdcard.progress)." },
    { "rrcloud_printer_print_duration_seconds", "Time spent printing the "
                                                "loaded file, pauses "
                                                "excluded." },
    { "rrcloud_printer_time_left_seconds", "Estimated printing time left: "
                                           "print duration / progress - "
                                           "print duration." },
    { "rrcloud_printer_temperature_celsius", "Heater temperature." },
    { "rrcloud_printer_target_temperature_celsius", "Heater target "
                                                    "temperature." },
};

struct pf_ctx {
    struct buf fam[PF_COUNT];
    int failed;
};

/* "NAME{printer=\"ID\"" into family i; the caller closes the labels. */
static int pf_open(struct pf_ctx *x, int i, long long id)
{
    return buf_printf(&x->fam[i], "%s{printer=\"%lld\"", pf_fam[i][0], id);
}

static int pf_heaters(struct pf_ctx *x, const struct fleet_printer *p)
{
    const struct fleet_printer_live *l = &p->live;

    return pf_open(x, PF_TEMP, p->id) < 0 ||
           buf_printf(&x->fam[PF_TEMP], ",heater=\"extruder\"} %g\n",
                      l->ext_temp) < 0 ||
           pf_open(x, PF_TEMP, p->id) < 0 ||
           buf_printf(&x->fam[PF_TEMP], ",heater=\"bed\"} %g\n",
                      l->bed_temp) < 0 ||
           pf_open(x, PF_TARGET, p->id) < 0 ||
           buf_printf(&x->fam[PF_TARGET], ",heater=\"extruder\"} %g\n",
                      l->ext_target) < 0 ||
           pf_open(x, PF_TARGET, p->id) < 0 ||
           buf_printf(&x->fam[PF_TARGET], ",heater=\"bed\"} %g\n",
                      l->bed_target) < 0 ? -1 : 0;
}

static int pf_printer(void *arg, const struct fleet_printer *p)
{
    struct pf_ctx *x = arg;
    const struct fleet_printer_live *l = &p->live;
    double left = fleet_live_printing(l) ? fleet_eta(l->progress,
                                                     l->print_duration) : -1;

    if (pf_open(x, PF_INFO, p->id) < 0 ||
        buf_puts(&x->fam[PF_INFO], ",name=\"") < 0 ||
        label(&x->fam[PF_INFO], p->name) < 0 ||
        buf_puts(&x->fam[PF_INFO], "\"} 1\n") < 0)
        goto fail;
    if (!fleet_live_shown(p))
        return 0;
    if (l->file[0] &&
        (pf_open(x, PF_PROGRESS, p->id) < 0 ||
         buf_printf(&x->fam[PF_PROGRESS], "} %.10g\n", l->progress) < 0 ||
         pf_open(x, PF_DURATION, p->id) < 0 ||
         buf_printf(&x->fam[PF_DURATION], "} %.10g\n", l->print_duration) < 0))
        goto fail;
    if (left >= 0 && (pf_open(x, PF_LEFT, p->id) < 0 ||
                      buf_printf(&x->fam[PF_LEFT], "} %.0f\n", left) < 0))
        goto fail;
    if (pf_heaters(x, p) < 0)
        goto fail;
    return 0;
fail:
    x->failed = 1;
    return 1;
}

static int printers(struct req *r, struct buf *b)
{
    struct pf_ctx x;
    int rc = -1;

    memset(&x, 0, sizeof(x));
    for (int i = 0; i < PF_COUNT; i++)
        buf_init(&x.fam[i], b->max);
    if (store_printer_list(r->w->st, NULL, 0, 0, pf_printer, &x) < 0 ||
        x.failed)
        goto out;
    for (int i = 0; i < PF_COUNT; i++) {
        if (family(b, pf_fam[i][0], "gauge", pf_fam[i][1]) < 0 ||
            (x.fam[i].len &&
             buf_append(b, x.fam[i].data, x.fam[i].len) < 0))
            goto out;
    }
    rc = 0;
out:
    for (int i = 0; i < PF_COUNT; i++)
        buf_free(&x.fam[i]);
    return rc;
}

int metrics_handle(struct req *r)
{
    struct buf *b = &r->out;
    struct m_ctx x = { b, NULL, NULL, NULL, 0, 0, 0 };
    int rc;

    if (strcmp(r->method, "GET") && strcmp(r->method, "HEAD"))
        return req_error(r, 405, NULL, "use GET");
    if (!r->w->app->conf.metrics_public) {
        if ((rc = auth_require(r, r->caller, AUTH_METRICS)) != 0)
            return rc;
    }
    buf_reset(b);
    family(b, "rrcloud_printers", "gauge", "Printers by state and "
           "frontend.");
    x.metric = "rrcloud_printers";
    x.la = "state";
    x.lb = "frontend";
    if (store_fleet_count_printers(r->w->st, m_line, &x) < 0)
        goto fail;
    family(b, "rrcloud_queue_depth", "gauge", "Copies waiting for a "
           "printer.");
    x.metric = "rrcloud_queue_depth";
    x.la = "queue";
    x.lb = NULL;
    if (store_fleet_count_queues(r->w->st, m_line, &x) < 0 ||
        attempts(r, &x) < 0 || latency(r, b) < 0 || frontends(r, &x) < 0 ||
        tasks(r, b) < 0 || printers(r, b) < 0)
        goto fail;
    if (x.failed)
        goto fail;
    req_send(r, 200, "text/plain; version=0.0.4; charset=utf-8", NULL);
    return 200;
fail:
    return req_error(r, 500, NULL, "cannot collect metrics");
}
