/* relay.c - see relay.h. */
#include "config.h"

#include "fcgi/relay.h"

#include "common/log.h"
#include "common/util.h"
#include "common/wake.h"
#include "fcgi/auth.h"
#include "fcgi/submit.h"
#include "fcgi/taskcache.h"
#include "fcgi/worker.h"
#include "http/form.h"
#include "http/reply.h"
#include "services/service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INFO_DEFAULT_LIMIT 100
#define INFO_MAX_LIMIT 1000

static enum reply_fmt reply_fmt_of(const struct req *r)
{
    return r->format == FMT_JSON ? REPLY_JSON
         : r->format == FMT_HTML ? REPLY_HTML : REPLY_TEXT;
}

static const char *ctype_of(const struct req *r)
{
    return r->format == FMT_JSON ? "application/json"
         : r->format == FMT_HTML ? "text/html; charset=utf-8"
                                 : "text/plain; charset=utf-8";
}

static int relay_answer_task_as_is(struct req *r, const struct task *t,
                                   int status, unsigned flags);

const char *relay_server_name(const struct req *r)
{
    const struct app *app = r->w->app;

    if (app->conf.server_name[0])
        return app->conf.server_name;
    return r->host[0] ? r->host : app->hostname;
}

int relay_answer_task(struct req *r, const struct task *t, int status,
                      unsigned flags)
{
    struct task_stage *stages = NULL;
    struct task view;
    int rc, n = 0;

    /* A pipeline stage shows its whole chain, read now: the record of an
     * ended stage may come from the cache while later stages move on. */
    if (t->chain[0] && !t->stages &&
        store_chain_stages(r->w->st, t->chain, &stages, &n) == 0 && n > 0) {
        view = *t;
        view.stages = stages;
        view.nstages = n;
        t = &view;
    }
    rc = relay_answer_task_as_is(r, t, status, flags);
    free(stages);
    return rc;
}

/* relay_answer_task without looking anything up. */
static int relay_answer_task_as_is(struct req *r, const struct task *t,
                                   int status, unsigned flags)
{
    int rc;

    buf_reset(&r->out);
    if (r->api) {
        rc = reply_task_api(&r->out, t, relay_server_name(r));
        if (rc == 0)
            rc = buf_putc(&r->out, '\n');
    } else {
        rc = reply_task(&r->out, reply_fmt_of(r), t, relay_server_name(r),
                        flags);
    }
    if (rc < 0)
        return req_error(r, 500, NULL, "response too large");
    if (r->api && status == 201) {
        char loc[96];
        snprintf(loc, sizeof(loc), "Location: /api/v1/tasks/%s\r\n", t->id);
        req_send(r, status, ctype_of(r), loc);
    } else {
        req_send(r, status, ctype_of(r), NULL);
    }
    return status;
}

int relay_task_get(struct req *r, const char *id, struct task *t)
{
    int rc = store_task_get(r->w->st, id, t);

    /* Another caller's task is not there for this one: ids do not leak. */
    if (rc == 0 && r->caller &&
        !auth_owns_task(r->caller, t, r->w->app->conf.info_all_clients)) {
        task_clear(t);
        rc = STORE_NOTFOUND;
    }
    return rc;
}

int relay_check_id(struct req *r, const char *id)
{
    if (rr_id_valid(id))
        return 0;
    /* RepRapCloud's README shows "1361982308-837500": an id of that shape
     * names no task here, it is not a malformed request. */
    if (rr_id_shaped(id))
        return req_error(r, 404, "id", "no task %s (unknown, or purged "
                         "after maxDataRetention)", id);
    return req_error(r, 400, "id", "'%.40s' is not a task id (expected "
                     "digits-digits-digits)", id);
}

struct list_ctx {
    struct req *r;
    int n;
    int failed;
};

static int list_one(void *arg, const struct task *t)
{
    struct list_ctx *c = arg;

    if (reply_list_item(&c->r->out, reply_fmt_of(c->r), t,
                        relay_server_name(c->r), c->n) < 0) {
        c->failed = 1;
        return 1;
    }
    c->n++;
    return 0;
}

/* info of one task.  An ended task comes from the worker's cache when it
 * was read within the last second; who may see it is checked all the
 * same. */
static int relay_info_one(struct req *r, const char *id)
{
    double now = rr_now();
    const struct task *t = taskcache_get(r->w->tasks, id, now);
    struct task own;
    int rc;

    memset(&own, 0, sizeof(own));
    if (t && r->caller &&
        !auth_owns_task(r->caller, t, r->w->app->conf.info_all_clients))
        return req_error(r, 404, "id", "no task %s (unknown, or purged "
                         "after maxDataRetention)", id);
    if (!t) {
        rc = relay_task_get(r, id, &own);
        if (rc == STORE_NOTFOUND)
            return req_error(r, 404, "id", "no task %s (unknown, or purged "
                             "after maxDataRetention)", id);
        if (rc < 0)
            return req_error(r, 500, NULL, "store error");
        if (!(t = taskcache_put(r->w->tasks, &own, now)))
            t = &own;
    }
    rc = relay_answer_task(r, t, 200, 0);
    task_clear(&own);
    return rc;
}

int relay_info(struct req *r, const struct fields *f)
{
    const char *id = fields_get(f, "id");
    const char *client, *owner;
    struct list_ctx c = { .r = r };
    long long limit, offset;
    int rc;

    if (id && *id) {
        if ((rc = relay_check_id(r, id)) != 0)
            return rc;
        return relay_info_one(r, id);
    }
    limit = fields_get_uint(f, "limit", INFO_MAX_LIMIT);
    offset = fields_get_uint(f, "offset", 1LL << 40);
    if (limit == -2)
        return req_error(r, 400, "limit", "limit: must be 0..%d",
                         INFO_MAX_LIMIT);
    if (offset == -2)
        return req_error(r, 400, "offset", "offset: must be a non-negative "
                         "integer");
    auth_task_filter(r->caller, r->w->app->conf.info_all_clients, &client,
                     &owner);
    buf_reset(&r->out);
    reply_list_begin(&r->out, reply_fmt_of(r), "Tasks");
    rc = store_task_list(r->w->st, client, owner,
                         -1, limit < 0 ? INFO_DEFAULT_LIMIT : (int)limit,
                         offset < 0 ? 0 : (int)offset, list_one, &c);
    if (rc < 0 || c.failed)
        return req_error(r, 500, NULL, "cannot list tasks");
    reply_list_end(&r->out, reply_fmt_of(r));
    req_send(r, 200, ctype_of(r), NULL);
    return 200;
}

static void fmt_uptime(char *out, size_t len, long long s)
{
    snprintf(out, len, "%lldd %02lldh %02lldm %02llds", s / 86400,
             s / 3600 % 24, s / 60 % 60, s % 60);
}

int relay_meta(struct req *r)
{
    const struct app *app = r->w->app;
    struct reply_kv kv[10];
    long long all = 0, queued = 0, busy = 0;
    char load[64] = "0";
    FILE *f;
    int n = 0;

    if (store_task_count(r->w->st, -1, &all) < 0 ||
        store_task_count(r->w->st, TASK_QUEUED, &queued) < 0 ||
        store_task_count(r->w->st, TASK_BUSY, &busy) < 0)
        return req_error(r, 500, NULL, "store error");
    f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%63s", load) != 1)
            strcpy(load, "0");
        fclose(f);
    }
    memset(kv, 0, sizeof(kv));
    kv[n].key = "busy";
    snprintf(kv[n++].value, sizeof(kv[0].value), "%lld", busy);
    kv[n].key = "cpuLoad";
    snprintf(kv[n++].value, sizeof(kv[0].value), "%s", load);
    kv[n].key = "maxDataRetention";
    snprintf(kv[n++].value, sizeof(kv[0].value), "%lld",
             app->conf.max_data_retention / 3600);
    kv[n].key = "queued";
    snprintf(kv[n++].value, sizeof(kv[0].value), "%lld", queued);
    kv[n].key = "serverName";
    snprintf(kv[n++].value, sizeof(kv[0].value), "%s", relay_server_name(r));
    kv[n].key = "services";
    service_names_csv(app->services, kv[n++].value, sizeof(kv[0].value));
    kv[n].key = "tasks";
    snprintf(kv[n++].value, sizeof(kv[0].value), "%lld", all);
    kv[n].key = "timeout";
    snprintf(kv[n++].value, sizeof(kv[0].value), "%lld",
             app->conf.default_timeout);
    kv[n].key = "uptime";
    fmt_uptime(kv[n++].value, sizeof(kv[0].value),
               (long long)(rr_now() - app->start_time));
    kv[n].key = "version";
    snprintf(kv[n++].value, sizeof(kv[0].value),
             "rrcloud %s (RepRapCloud 0.019 compatible)", PACKAGE_VERSION);
    buf_reset(&r->out);
    if (reply_kvs(&r->out, reply_fmt_of(r), kv, n, "Server") < 0)
        return req_error(r, 500, NULL, "response too large");
    req_send(r, 200, ctype_of(r), NULL);
    return 200;
}

/* Cancelling any stage of a pipeline cancels every stage not yet ended:
 * the waiting ones now, the busy one through rrcloudd (whose record of
 * its end calls the chain's notifier); *now is the busy state while one
 * still runs, else the state t is in now. */
static int relay_cancel_chain(struct req *r, const struct task *t,
                              enum task_status *now)
{
    int busy = 0;

    if (store_chain_cancel(r->w->st, t->chain, "cancelled by client",
                           t->notifier, &busy) < 0)
        return -1;
    /* fleet: a print stage's job is the fleet's to cancel */
    wake_send(r->w->app->conf.wake_socket, WAKE_FLEET);
    if (busy > 0) {
        *now = TASK_BUSY;
        return 0;
    }
    *now = task_status_final(t->status) ? t->status : TASK_CANCELLED;
    wake_send(r->w->app->conf.wake_socket, WAKE_NOTIFY);
    return 0;
}

int relay_cancel(struct req *r, const char *id)
{
    enum task_status now;
    struct task t;
    int rc;

    if (!id || !*id)
        return req_error(r, 400, "id", "id: missing (the task to cancel)");
    if ((rc = relay_check_id(r, id)) != 0)
        return rc;
    rc = relay_task_get(r, id, &t);
    /* rrcloudd's own (a model job's render or slice, which other users'
     * jobs may share): cancelling the job cancels it; only an admin may
     * cancel it by hand, whatever info_all_clients opens to be read. */
    if (rc == 0 && !strcmp(t.client, TASK_CLIENT_SLICER) && r->caller &&
        !auth_may(r->caller, AUTH_TASKS_ALL)) {
        task_clear(&t);
        return req_error(r, 403, "id", "task %s is rrcloudd's own, for a "
                         "model job: cancel the job instead", id);
    }
    if (rc == 0 && t.chain[0])
        rc = relay_cancel_chain(r, &t, &now);
    else if (rc == 0)
        rc = store_task_cancel(r->w->st, id, "cancelled by client", &now);
    task_clear(&t);
    if (rc == STORE_NOTFOUND)
        return req_error(r, 404, "id", "no task %s", id);
    if (rc < 0)
        return req_error(r, 500, NULL, "store error");
    rc = store_task_get(r->w->st, id, &t);
    if (rc != 0)
        return req_error(r, 404, "id", "no task %s", id);
    if (t.kind == TASK_KIND_PRINT && !task_status_final(now))
        wake_send(r->w->app->conf.wake_socket, WAKE_FLEET);
    else if (now == TASK_BUSY)
        wake_send(r->w->app->conf.wake_socket, WAKE_CANCEL);
    rc = relay_answer_task(r, &t, r->api ? 202 : 200, 0);
    task_clear(&t);
    return rc;
}

static int relay_index(struct req *r)
{
    const struct app *app = r->w->app;

    buf_reset(&r->out);
    if (!app->index_html)
        return relay_info(r, &(struct fields){ 0 });
    buf_append(&r->out, app->index_html, app->index_len);
    req_send(r, 200, "text/html; charset=utf-8", NULL);
    return 200;
}

/* RepRapCloud dispatch on the service word of a GET (or of a POST whose
 * body named one of these). */
int relay_dispatch(struct req *r, const struct fields *f)
{
    const char *service = fields_get(f, "service");

    if (!service || !*service)
        return r->format == FMT_HTML && !fields_get(f, "id")
                   ? relay_index(r) : relay_info(r, f);
    if (strcmp(service, "info") == 0 || strcmp(service, "status") == 0)
        return relay_info(r, f);
    if (strcmp(service, "meta") == 0)
        return relay_meta(r);
    /* No GET changes anything: a link, a prefetch or a crawler must not
     * cancel a task.  RepRapCloud's client never sends kill at all. */
    if (strcmp(service, "kill") == 0 || strcmp(service, "cancel") == 0)
        return req_is(r, "POST") ? relay_cancel(r, fields_get(f, "id"))
                   : req_error_hdr(r, 405, "Allow: POST\r\n", "service",
                                   "service=%s changes a task: use POST, "
                                   "not %s", service, r->method);
    if (service_find(r->w->app->services, service))
        return req_error_hdr(r, 405, "Allow: POST\r\n", "service",
                             "submit a %s task with POST", service);
    return req_error(r, 400, "service", "unknown service '%.64s' (see "
                     "service=meta for the list)", service);
}

int relay_handle(struct req *r)
{
    struct fields f;
    char err[256];
    int rc;

    if (strcmp(r->method, "POST") == 0)
        return submit_handle(r);
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
        return req_error(r, 405, NULL, "method %s not allowed", r->method);
    fields_init(&f);
    if (fields_parse_query(&f, r->query, 64, r->w->app->conf.max_field_size,
                           err, sizeof(err)) < 0) {
        fields_free(&f);
        return req_error(r, 400, NULL, "query: %s", err);
    }
    rc = relay_dispatch(r, &f);
    fields_free(&f);
    return rc;
}
