/* fair.c - see fair.h. */
#include "fcgi/fair.h"

#include "common/util.h"
#include "common/wake.h"
#include "fcgi/auth.h"
#include "fcgi/hold.h"
#include "fcgi/worker.h"
#include "spool/spool.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* statvfs once per this many bytes of a body: at most this much past the
 * floor per upload in flight, for a syscall per MiB. */
#define FAIR_LOOK_EVERY (1ULL << 20)

static int fair_fail(struct fair_err *e, int status, const char *field,
                     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fair_fail(struct fair_err *e, int status, const char *field,
                     const char *fmt, ...)
{
    va_list ap;

    snprintf(e->field, sizeof(e->field), "%s", field);
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return status;
}

void fair_client_key(const struct req *r, char *buf, size_t len)
{
    if (r->caller && r->caller->who == AUTH_KEY)
        snprintf(buf, len, "%s", auth_family(r->caller));
    else
        snprintf(buf, len, "ip:%s", r->remote_addr);
}

static int queued_refusal(const struct req *r, long long n,
                          struct fair_err *e)
{
    return fair_fail(e, 429, "client_max_queued", "client_max_queued: "
                     "this client has %lld tasks queued, its limit of %d; "
                     "try again when one has started", n,
                     r->w->app->conf.client_max_queued);
}

int fair_admit(struct req *r, const char *key, struct fair_err *e)
{
    long long queued, running;

    if (r->w->app->conf.client_max_queued <= 0)
        return 0;
    if (store_client_tasks(r->w->st, key, &queued, &running) < 0)
        return fair_fail(e, 500, "", "store error");
    if (queued < r->w->app->conf.client_max_queued)
        return 0;
    return queued_refusal(r, queued, e);
}

int fair_hold_check(struct req *r, const char *key, struct fair_err *e)
{
    int max = r->w->app->conf.client_max_held, n;

    if (max <= 0 || !r->w->app->holder)
        return 0;
    n = holder_client_count(r->w->app->holder, key);
    if (n < max)
        return 0;
    return fair_fail(e, 429, "client_max_held", "client_max_held: this "
                     "client has %d requests waiting for their tasks, its "
                     "limit of %d; send async=1 or try again when one has "
                     "ended", n, max);
}

void fair_caps(const struct req *r, struct store_task_caps *caps)
{
    const struct rr_conf *conf = &r->w->app->conf;

    memset(caps, 0, sizeof(*caps));
    caps->client_queued = conf->client_max_queued;
    caps->spool_quota = (long long)conf->spool_quota;
    if (r->caller && r->caller->who == AUTH_KEY &&
        r->caller->key.max_queued > 0) {
        caps->family = auth_family(r->caller);
        caps->family_open = r->caller->key.max_queued;
    }
}

/* want: the whole request's bytes, -1 if not known (a chunked body). */
static int quota_refusal(const struct fair_spool *g, long long held,
                         long long more, long long want, struct fair_err *e)
{
    /* rrcloudd evicts cached slices no job needs (G-code it can make
     * again), so that a retry may fit: only one that can (a request
     * larger than the quota itself, or of a size not known, would flush
     * the cache for nothing). */
    if (g->wake && want >= 0 && (unsigned long long)want <= g->quota)
        wake_send(g->wake, WAKE_SPOOL);
    return fair_fail(e, 507, "spool_quota", "spool_quota: the spool holds "
                     "%lld bytes of its quota of %llu; %lld more do not "
                     "fit", held, g->quota, more);
}

int fair_cap_refusal(const struct req *r, const struct task *t,
                     enum store_cap which, long long found,
                     struct fair_err *e)
{
    struct fair_spool g = { .quota = r->w->app->conf.spool_quota,
                            .wake = r->w->app->conf.wake_socket };

    switch (which) {
    case STORE_CAP_CLIENT_QUEUED:
        return queued_refusal(r, found, e);
    case STORE_CAP_FAMILY_OPEN:
        return auth_max_queued_refusal(found, e->field, sizeof(e->field),
                                       e->msg, sizeof(e->msg));
    case STORE_CAP_SPOOL_QUOTA:
        return quota_refusal(&g, found, t->size_in, t->size_in, e);
    case STORE_CAP_NONE:
        break;
    }
    return fair_fail(e, 500, "", "store error");
}

/* Free space against min_free_space with more bytes still to come. */
static int floor_check(struct fair_spool *g, unsigned long long more,
                       struct fair_err *e)
{
    unsigned long long avail;

    if (!g->floor)
        return 0;
    if (spool_free_space(g->spool, &avail) < 0)
        return fair_fail(e, 500, "", "spool: %s", strerror(errno));
    if (avail >= more && avail - more >= g->floor)
        return 0;
    return fair_fail(e, 507, "min_free_space", "min_free_space: the spool's "
                     "disk has %llu bytes free, %llu more would leave less "
                     "than %llu", avail, more, g->floor);
}

int fair_spool_init(struct fair_spool *g, struct req *r, struct fair_err *e)
{
    const struct rr_conf *conf = &r->w->app->conf;

    memset(g, 0, sizeof(*g));
    g->spool = conf->spool_dir;
    g->wake = conf->wake_socket;
    g->quota = conf->spool_quota;
    g->floor = conf->min_free_space;
    g->next_look = FAIR_LOOK_EVERY;
    g->total = r->content_length;
    if (g->quota && store_spool_bytes(r->w->st, &g->held) < 0)
        return fair_fail(e, 500, "", "store error");
    return 0;
}

int fair_spool_fits(struct fair_spool *g, unsigned long long more,
                    struct fair_err *e)
{
    if (g->quota && (unsigned long long)g->held + more > g->quota)
        return quota_refusal(g, g->held, (long long)more, (long long)more,
                             e);
    return floor_check(g, more, e);
}

int fair_spool_check(struct fair_spool *g, unsigned long long received,
                     int force, struct fair_err *e)
{
    if (g->quota && (unsigned long long)g->held + received > g->quota)
        return quota_refusal(g, g->held, (long long)received, g->total, e);
    if (!force && received < g->next_look)
        return 0;
    g->next_look = received + FAIR_LOOK_EVERY;
    return floor_check(g, 0, e);
}
