/*
 * ledger.c - the fleet loop's side of the store: observations and lease
 * renewals batched into one transaction per loop round, attempt steps
 * written at once (each its own transaction), expired leases, the print
 * tasks of jobs that ended (with the job as the notifier's JSON body), and
 * retention of jobs and G-code blobs.  fleet.c explains why.
 */
#include "fleet/fleet_int.h"

#include "common/log.h"
#include "common/util.h"
#include "fleet/blob.h"
#include "store/store_fleet.h"
#include "store/store_fleet_relay.h"

#include <errno.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SEEN_REFRESH 15.0      /* s between last_seen writes when steady */
#define BATCH_MAX 200000       /* queued writes kept while the store fails */

/* ---- batched writes ---------------------------------------------------- */

void fleet_queue_obs(struct fleet *f, struct fleet_pr *p, int observed,
                     const char *klippy, double now)
{
    struct fleet_obs *o;

    if (p->observed == observed && strcmp(p->klippy, klippy) == 0 &&
        (observed == PRINTER_OFFLINE || now - p->seen_written < SEEN_REFRESH))
        return;
    if (f->nobs == f->obs_cap) {
        size_t n = f->obs_cap ? f->obs_cap * 2 : 256;
        struct fleet_obs *a;

        if (n > BATCH_MAX || !(a = realloc(f->obs, n * sizeof(*a))))
            return;             /* written again at the next change */
        f->obs = a;
        f->obs_cap = n;
    }
    o = &f->obs[f->nobs++];
    o->printer_id = p->id;
    o->when = now;
    o->observed = (uint8_t)observed;
    snprintf(o->klippy, sizeof(o->klippy), "%s", klippy);
    p->observed = (uint8_t)observed;
    snprintf(p->klippy, sizeof(p->klippy), "%s", klippy);
    p->seen_written = now;
    f->want_flush = 1;
    fleet_work_at(f, 1);
}

void fleet_queue_renew(struct fleet *f, struct fleet_pr *p, double now)
{
    double every = f->pol.lease / 4;

    if (every > 60)
        every = 60;
    if (every < 1)
        every = 1;
    if (!p->att_id || now - p->lease_written < every)
        return;
    if (f->nrenew == f->renew_cap) {
        size_t n = f->renew_cap ? f->renew_cap * 2 : 64;
        struct fleet_renew *a;

        if (n > BATCH_MAX || !(a = realloc(f->renew, n * sizeof(*a))))
            return;
        f->renew = a;
        f->renew_cap = n;
    }
    f->renew[f->nrenew++] = (struct fleet_renew){ p->att_id, now };
    p->lease_written = now;
    f->want_flush = 1;
    fleet_work_at(f, 1);
}

/* FNV-1a: enough to notice that a printer's file changed. */
static uint32_t name_hash(const char *s)
{
    uint32_t h = 2166136261u;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* deg C in steps of 0.5, within int16_t */
static int16_t half_degrees(double t)
{
    double v = t * 2 + (t < 0 ? -0.5 : 0.5);

    return (int16_t)(v > 32000 ? 32000 : v < -32000 ? -32000 : v);
}

void fleet_live_seed(struct fleet_pr *p, const struct fleet_printer_live *l)
{
    if (l->updated <= 0)
        return;
    p->live_written = l->updated;
    p->live_file = name_hash(l->file);
    p->live_pstate = MR_PS_UNKNOWN;
    for (int i = MR_PS_STANDBY; i <= MR_PS_ERROR; i++) {
        if (!strcmp(l->print_state, mr_pstate_name((enum mr_pstate)i)))
            p->live_pstate = (uint8_t)i;
    }
    p->live_prog = (uint16_t)(l->progress * 1000 + 0.5);
    p->live_ext = half_degrees(l->ext_temp);
    p->live_ext_t = half_degrees(l->ext_target);
    p->live_bed = half_degrees(l->bed_temp);
    p->live_bed_t = half_degrees(l->bed_target);
}

void fleet_queue_live(struct fleet *f, struct fleet_pr *p,
                      const struct mr_status *s, double now)
{
    uint32_t file = name_hash(s->filename);
    double pg = s->progress < 0 ? 0 : s->progress > 1 ? 1 : s->progress;
    uint16_t prog = (uint16_t)(pg * 1000 + 0.5);
    int16_t ext = half_degrees(s->ext_temp), bed = half_degrees(s->bed_temp);
    int16_t ext_t = half_degrees(s->ext_target);
    int16_t bed_t = half_degrees(s->bed_target);
    struct store_relay_status *q;
    int sig;

    sig = !p->live_written || file != p->live_file ||
          s->pstate != p->live_pstate || ext_t != p->live_ext_t ||
          bed_t != p->live_bed_t;
    if (!sig && (prog == p->live_prog && ext == p->live_ext &&
                 bed == p->live_bed))
        return;                 /* nothing that shows changed */
    if (!sig && now - p->live_written < f->status_interval)
        return;                 /* written at the next poll past it */
    if (f->nlive == f->live_cap) {
        size_t n = f->live_cap ? f->live_cap * 2 : 64;
        struct store_relay_status *a;

        if (n > BATCH_MAX || !(a = realloc(f->live, n * sizeof(*a))))
            return;             /* the next answer tries again */
        f->live = a;
        f->live_cap = n;
    }
    q = &f->live[f->nlive++];
    memset(q, 0, sizeof(*q));
    q->printer_id = p->id;
    q->live.updated = now;
    snprintf(q->live.print_state, sizeof(q->live.print_state), "%s",
             s->pstate == MR_PS_UNKNOWN ? "" : mr_pstate_name(s->pstate));
    snprintf(q->live.file, sizeof(q->live.file), "%s", s->filename);
    q->live.progress = prog / 1000.0;
    q->live.print_duration = (double)(long long)(s->print_duration + 0.5);
    q->live.ext_temp = ext / 2.0;
    q->live.ext_target = ext_t / 2.0;
    q->live.bed_temp = bed / 2.0;
    q->live.bed_target = bed_t / 2.0;
    p->live_written = now;
    p->live_file = file;
    p->live_pstate = (uint8_t)s->pstate;
    p->live_prog = prog;
    p->live_ext = ext;
    p->live_ext_t = ext_t;
    p->live_bed = bed;
    p->live_bed_t = bed_t;
    f->want_flush = 1;
    fleet_work_at(f, 1);
}

void fleet_queue_uploading(struct fleet *f, struct fleet_pr *p, double when)
{
    if (f->nupmark == f->upmark_cap) {
        size_t n = f->upmark_cap ? f->upmark_cap * 2 : 64;
        struct fleet_upmark *a;

        if (n > BATCH_MAX || !(a = realloc(f->upmark, n * sizeof(*a))))
            return;             /* the next fresh poll settles it */
        f->upmark = a;
        f->upmark_cap = n;
    }
    f->upmark[f->nupmark++] = (struct fleet_upmark){ p->att_id, p->id,
                                                      when };
    f->want_flush = 1;
    fleet_work_at(f, 1);
}

/* An upload whose attempt ended before it was marked (e.g. its job was
 * cancelled meanwhile): stop sending it. */
static void upload_orphaned(struct fleet *f, const struct fleet_upmark *m)
{
    struct fleet_pr *p = fleet_pr_find(f, m->printer_id);

    if (p && p->att_id == m->attempt_id && p->xfer) {
        log_info("fleet: printer %lld: attempt %lld ended before its upload "
                 "did; stopping it", p->id, m->attempt_id);
        mr_cancel(f->mr, p->xfer);
        fleet_pr_drop_attempt(p);
        fleet_stage_done(f, p);
    }
}

/* Writes the queued observations, renewals and upload starts in one
 * transaction and takes the effective states the store derived. */
/* What the store made of a flushed batch: effective states (a printer
 * that became READY asks for a round) and uploads it did not mark. */
static void flush_apply(struct fleet *f, const struct store_relay_obs *o,
                        size_t nobs, const struct store_relay_upload *u,
                        const struct fleet_upmark *m, size_t nup)
{
    for (size_t i = 0; i < nup; i++) {
        if (!u[i].moved)
            upload_orphaned(f, &m[i]);
    }
    for (size_t i = 0; i < nobs; i++) {
        struct fleet_pr *p = fleet_pr_find(f, o[i].printer_id);

        if (!p || !o[i].found)
            continue;
        if (o[i].state == PRINTER_READY && p->state != PRINTER_READY &&
            !p->att_id)
            fleet_want_sched(f);
        p->state = (uint8_t)o[i].state;
    }
}

void fleet_flush(struct fleet *f)
{
    size_t n = f->nobs + f->nrenew + f->nupmark + f->nlive;
    struct store_relay_obs *o;
    struct store_relay_renew *r;
    struct store_relay_upload *u;
    void *mem;

    f->want_flush = 0;
    if (n == 0)
        return;
    /* one block for the three arrays the store takes */
    mem = calloc(n, sizeof(*o) + sizeof(*r) + sizeof(*u));
    if (!mem) {
        f->want_flush = 1;
        return;
    }
    o = mem;
    u = (struct store_relay_upload *)(o + n);
    r = (struct store_relay_renew *)(u + n);
    for (size_t i = 0; i < f->nobs; i++)
        o[i] = (struct store_relay_obs){ .printer_id = f->obs[i].printer_id,
            .observed = (enum printer_state)f->obs[i].observed,
            .klippy_state = f->obs[i].klippy, .now = f->obs[i].when };
    for (size_t i = 0; i < f->nrenew; i++)
        r[i] = (struct store_relay_renew){ f->renew[i].attempt_id,
                                           f->renew[i].when };
    for (size_t i = 0; i < f->nupmark; i++)
        u[i] = (struct store_relay_upload){ f->upmark[i].attempt_id,
                                            f->upmark[i].when, 0 };
    if (store_relay_flush(f->st, o, f->nobs, r, f->nrenew, u, f->nupmark,
                          f->live, f->nlive, &f->pol) < 0) {
        /* Kept for the next try (the store may be busy a moment). */
        log_err("fleet: cannot write %zu observations: %s", f->nobs,
                store_errmsg(f->st));
        f->want_flush = 1;
    } else {
        /* Applying may queue new writes (a freed upload slot starts the
         * next upload): the batch leaves the queues first. */
        size_t nobs = f->nobs, nup = f->nupmark;
        struct fleet_upmark *m = nup ? malloc(nup * sizeof(*m)) : NULL;

        if (m)
            memcpy(m, f->upmark, nup * sizeof(*m));
        f->nobs = f->nrenew = f->nupmark = f->nlive = 0;
        flush_apply(f, o, nobs, u, m, m ? nup : 0);
        free(m);
    }
    free(mem);
}

/* ---- attempts ---------------------------------------------------------- */

static void on_file_deleted(void *arg, const struct mr_reply *rep)
{
    long long printer_id = (long long)(intptr_t)arg;

    if (rep->err == MR_OK || rep->err == MR_ERR_NOTFOUND)
        log_debug("fleet: printer %lld: file deleted", printer_id);
    else
        log_info("fleet: printer %lld: cannot delete a finished file (%s, "
                 "HTTP %ld): %s", printer_id, mr_err_name(rep->err),
                 rep->http, rep->message);
}

/* The attempt's file is of no more use on the printer once the attempt
 * ended: delete it (fleet_delete_files), once, whatever comes of it.  A
 * failure is logged and never touches the attempt's outcome. */
static void delete_file(struct fleet *f, struct fleet_pr *p)
{
    struct mr_target t;

    if (!f->conf->fleet_delete_files || !p->url || !p->att_file ||
        p->att_state < ATTEMPT_UPLOADING || !p->reachable)
        return;
    fleet_pr_target(p, &t);
    if (!mr_delete(f->mr, &t, p->att_file, on_file_deleted,
                   (void *)(intptr_t)p->id))
        log_info("fleet: printer %lld: cannot delete %s: %s", p->id,
                 p->att_file, strerror(errno));
}

int fleet_end_attempt(struct fleet *f, struct fleet_pr *p,
                      enum attempt_state result, const char *reason)
{
    struct fleet_attempt_outcome out;
    long long id = p->att_id;
    int rc;

    if (!id)
        return 0;
    memset(&out, 0, sizeof(out));
    rc = store_attempt_end(f->st, id, result, reason, &f->pol, rr_now(),
                           &out);
    if (rc == 0)
        delete_file(f, p);
    fleet_pr_drop_attempt(p);
    /* Answers to polls sent before this end show the attempt's world. */
    p->att_epoch_ms = rr_mono_ms();
    if (rc < 0) {
        log_err("fleet: printer %lld: cannot end attempt %lld: %s", p->id,
                id, store_errmsg(f->st));
        f->next_reload_ms = 0;   /* re-adopt from the store */
        return -1;
    }
    if (rc == STORE_CONFLICT)
        return 0;               /* ended elsewhere already */
    p->state = (uint8_t)out.printer_state;
    log_info("fleet: printer %lld attempt %lld %s%s%s%s", p->id, id,
             attempt_state_name(result), reason ? ": " : "",
             reason ? reason : "",
             out.copy_state == COPY_QUEUED ? " (copy requeued)" : "");
    if (out.printer_quarantined)
        log_warn("fleet: printer %lld quarantined after repeated failures",
                 p->id);
    if (out.job_ended)
        f->next_tasks_ms = 0;
    if (out.copy_state == COPY_QUEUED || out.printer_state == PRINTER_READY)
        fleet_want_sched(f);
    fleet_work_at(f, 1);
    return 0;
}

int fleet_set_attempt(struct fleet *f, struct fleet_pr *p,
                      enum attempt_state state)
{
    int rc;

    if (!p->att_id)
        return 0;
    rc = store_attempt_set_state(f->st, p->att_id, state, &f->pol, rr_now());
    if (rc < 0) {
        log_err("fleet: printer %lld: attempt %lld -> %s: %s", p->id,
                p->att_id, attempt_state_name(state), store_errmsg(f->st));
        return -1;
    }
    if (rc == STORE_CONFLICT) {
        /* final already (e.g. the job was failed meanwhile) */
        fleet_pr_drop_attempt(p);
        return -1;
    }
    p->att_state = (uint8_t)state;
    p->att_epoch_ms = rr_mono_ms();
    p->lease_written = rr_now();
    if (state == ATTEMPT_PRINTING)
        p->state = PRINTER_PRINTING;
    else if (state == ATTEMPT_PAUSED)
        p->state = PRINTER_PAUSED;
    return 0;
}

/* Ends leases that ran out: the printer has not been seen printing our
 * file for pol.lease seconds, so its copy may go elsewhere. */

/* ---- print tasks of ended jobs ----------------------------------------- */

struct ended {
    long long job_id;
};

struct ended_ctx {
    struct ended *v;
    size_t n, cap;
};

static int ended_row(void *arg, const struct fleet_job *j)
{
    struct ended_ctx *c = arg;

    if (c->n == c->cap) {
        size_t n = c->cap ? c->cap * 2 : 16;
        struct ended *a = realloc(c->v, n * sizeof(*a));

        if (!a)
            return 1;
        c->v = a;
        c->cap = n;
    }
    c->v[c->n++].job_id = j->id;
    return 0;
}

struct att_list {
    struct fleet_attempt *v;
    size_t n, cap;
};

static int att_row(void *arg, const struct fleet_attempt *a)
{
    struct att_list *l = arg;

    if (l->n == l->cap) {
        size_t n = l->cap ? l->cap * 2 : 16;
        struct fleet_attempt *v = realloc(l->v, n * sizeof(*v));

        if (!v)
            return 1;
        l->v = v;
        l->cap = n;
    }
    l->v[l->n++] = *a;
    return 0;
}

/* Finishes the print task of one ended job: status from the job, and the
 * job summary (with its attempts) as the notifier's JSON body. */
static void end_task(struct fleet *f, long long job_id)
{
    struct fleet_job j;
    struct att_list atts = { 0 };
    struct task t;
    enum task_status ts;
    json_t *js = NULL;
    char *body = NULL;
    const char *url;
    int rc;

    fleet_job_init(&j);
    memset(&t, 0, sizeof(t));
    if (store_job_get(f->st, job_id, &j) != 0 || !j.task_id[0])
        goto out;
    if (store_job_attempts(f->st, job_id, att_row, &atts) < 0)
        goto out;
    js = fleet_job_json(&j, NULL, 0, atts.v, atts.n);
    if (js)
        json_object_set_new(js, "task_id", json_string(j.task_id));
    body = js ? json_dumps(js, JSON_COMPACT) : NULL;
    ts = j.state == JOB_COMPLETE ? TASK_COMPLETE :
         j.state == JOB_CANCELLED ? TASK_CANCELLED : TASK_FAILED;
    url = j.notifier;
    if (store_task_get(f->st, j.task_id, &t) == 0 && t.notifier)
        url = t.notifier;       /* $id and $myip already substituted */
    rc = store_relay_task_end(f->st, j.task_id, ts,
                              ts == TASK_COMPLETE ? 0 : 1,
                              ts == TASK_COMPLETE ? NULL :
                              (j.reason ? j.reason : job_state_name(j.state)),
                              url, body);
    if (rc < 0) {
        log_err("fleet: job %lld: cannot end task %s: %s", job_id,
                j.task_id, store_errmsg(f->st));
        goto out;
    }
    log_info("fleet: job %lld %s: task %s ended%s", job_id,
             job_state_name(j.state), j.task_id,
             rc == 0 && url && *url ? ", notifier queued" : "");
    if (rc == 0 && url && *url && f->notify_fn)
        f->notify_fn(f->notify_arg);
out:
    free(body);
    json_decref(js);
    free(atts.v);
    task_clear(&t);
    fleet_job_clear(&j);
}

void fleet_end_tasks(struct fleet *f)
{
    struct ended_ctx c = { 0 };

    if (store_job_ended_tasks(f->st, 64, ended_row, &c) < 0) {
        log_err("fleet: ended jobs: %s", store_errmsg(f->st));
        free(c.v);
        return;
    }
    for (size_t i = 0; i < c.n; i++)
        end_task(f, c.v[i].job_id);
    if (c.n == 64)
        f->next_tasks_ms = 0;   /* more to do: next pass */
    free(c.v);
}

static int lease_row(void *arg, const struct fleet_attempt *a)
{
    return att_row(arg, a);
}

void fleet_leases(struct fleet *f)
{
    struct att_list l = { 0 };
    double now = rr_now();

    /* A lease is ours to judge only once we could have renewed it: after
     * a stop longer than the lease every one has run out, also of prints
     * going on.  Wait a whole lease from the start; the polls meanwhile
     * renew the attempts still printing. */
    if (now - f->started < f->pol.lease)
        return;
    if (store_attempt_expired(f->st, now, lease_row, &l) < 0) {
        log_err("fleet: expired leases: %s", store_errmsg(f->st));
        free(l.v);
        return;
    }
    for (size_t i = 0; i < l.n; i++) {
        struct fleet_attempt *a = &l.v[i];
        struct fleet_pr *p = fleet_pr_find(f, a->printer_id);
        char why[FLEET_WHY_MAX];

        if (p && p->att_id == a->id &&
            (p->xfer || p->reachable ||
             fleet_pr_may_print_until(p) > now)) {
            /* still talking to it (a long upload), or out of sight while
             * its print may still be running: the copy stays put */
            if (!p->reachable && !p->xfer)
                log_info("fleet: printer %lld out of sight; its print of "
                         "%s may run until %.0f s from now: lease extended",
                         p->id, a->filename,
                         fleet_pr_may_print_until(p) - now);
            p->lease_written = 0;
            fleet_queue_renew(f, p, now);
            continue;
        }
        snprintf(why, sizeof(why), "lease expired: printer not seen "
                 "printing %s for %.0f s", a->filename, f->pol.lease);
        if (p && p->att_id == a->id) {
            fleet_end_attempt(f, p, ATTEMPT_LOST, why);
        } else if (store_attempt_end(f->st, a->id, ATTEMPT_LOST, why, &f->pol,
                                     now, NULL) == 0) {
            log_info("fleet: attempt %lld lost: %s", a->id, why);
            fleet_want_sched(f);
        }
    }
    free(l.v);
}

/* ---- jobs no printer can take ------------------------------------------ */

/* Appends one cause to buf (at *n): "printer 3 failed it (...)" or, for
 * a queue, "..., 2 failed it (...)". */
static void unplaced_cause(char *buf, size_t len, size_t *n, int *first,
                           int count, int one, const char *verb,
                           const char *rest)
{
    int w;

    if (!count || *n >= len)
        return;
    if (one)
        w = snprintf(buf + *n, len - *n, "%s %s%s", *first ? "" : ",", verb,
                     rest);
    else
        w = snprintf(buf + *n, len - *n, ", %d %s%s", count, verb, rest);
    *n += w > 0 ? (size_t)w : 0;
    *first = 0;
}

/* Why no printer can take u's job, for an operator: "no printer can
 * take it: printer 3 failed it (fleet_fail_per_printer = 1), is
 * quarantined", or "...: of the 4 printers serving queue farm, 3 failed
 * it (...), 1 quarantined". */
static void unplaced_reason(const struct fleet *f,
                            const struct store_unplaced *u, char *buf,
                            size_t len)
{
    int one = u->printer_id != 0, first = 1, w;
    char k[64];
    size_t n;

    if (u->serving == 0) {
        if (one)
            snprintf(buf, len, "no printer can take it: printer %lld is "
                     "gone", u->printer_id);
        else
            snprintf(buf, len, "no printer can take it: no printer serves "
                     "queue %s", u->queue);
        return;
    }
    if (one)
        w = snprintf(buf, len, "no printer can take it: printer %lld",
                     u->printer_id);
    else
        w = snprintf(buf, len, "no printer can take it: of the %d printer%s "
                     "serving queue %s", u->serving,
                     u->serving == 1 ? "" : "s", u->queue);
    n = w > 0 ? (size_t)w : 0;
    snprintf(k, sizeof(k), " (fleet_fail_per_printer = %d)",
             f->pol.fail_per_printer);
    unplaced_cause(buf, len, &n, &first, u->failed, one, "failed it", k);
    unplaced_cause(buf, len, &n, &first, u->quarantined, one,
                   one ? "is quarantined" : "quarantined", "");
    unplaced_cause(buf, len, &n, &first, u->unfit, one,
                   one ? "lacks its profile, material or colour"
                       : "without its profile, material or colour", "");
}

static int unplaced_row(void *arg, const struct store_unplaced *u)
{
    struct fleet *f = arg;
    char why[FLEET_REASON_MAX], end[FLEET_REASON_MAX + 64];
    double now = rr_now(), limit = (double)f->conf->fleet_unplaceable_timeout;
    int rc, ended = 0;

    if (!u->stuck) {
        if (store_job_waiting(f->st, u->job_id, NULL, now) == 0) {
            log_info("fleet: job %lld can be placed again", u->job_id);
            fleet_want_sched(f);
        }
        return 0;
    }
    unplaced_reason(f, u, why, sizeof(why));
    rc = store_job_waiting(f->st, u->job_id, why, now);
    if (rc < 0)
        log_err("fleet: job %lld: %s", u->job_id, store_errmsg(f->st));
    else if (rc == 0)
        log_warn("fleet: job %lld waits: %s", u->job_id, why);
    /* The policy: wait for ever (0), or fail its queued copies after
     * fleet_unplaceable_timeout of waiting. */
    if (limit <= 0 || !u->marked || now - u->waiting_since < limit)
        return 0;
    snprintf(end, sizeof(end), "%s for %.0f s (fleet_unplaceable_timeout)",
             why, now - u->waiting_since);
    if (store_job_fail_queued(f->st, u->job_id, end, now, &ended) < 0)
        log_err("fleet: job %lld: %s", u->job_id, store_errmsg(f->st));
    else
        log_warn("fleet: job %lld: queued copies failed: %s", u->job_id,
                 end);
    if (ended)
        f->next_tasks_ms = 0;
    return 0;
}

void fleet_unplaced(struct fleet *f)
{
    if (store_job_unplaceable(f->st, f->pol.fail_per_printer, unplaced_row,
                              f) < 0)
        log_err("fleet: jobs no printer can take: %s", store_errmsg(f->st));
}

static int purge_blob(void *arg, const char *sha256)
{
    struct fleet *f = arg;
    char path[4096];

    if (fleet_blob_path(f->conf->spool_dir, sha256, path, sizeof(path)) == 0 &&
        unlink(path) < 0 && errno != ENOENT)
        log_warn("fleet: cannot remove blob %s: %s", path, strerror(errno));
    return 0;
}

/* Retention: final jobs (with their attempts and events) older than
 * max_data_retention go, and the G-code blobs no job needs any more. */
void fleet_purge(struct fleet *f)
{
    double now = rr_now();

    if (f->conf->max_data_retention <= 0)
        return;
    if (store_fleet_purge(f->st, now - (double)f->conf->max_data_retention,
                          now - FLEET_BLOB_GRACE, purge_blob, f) < 0)
        log_err("fleet: purge: %s", store_errmsg(f->st));
}


void fleet_end_by_print_state(struct fleet *f, struct fleet_pr *p,
                              const struct mr_status *s)
{
    char why[FLEET_WHY_MAX];

    switch (s->pstate) {
    case MR_PS_COMPLETE:
        fleet_end_attempt(f, p, ATTEMPT_COMPLETE, NULL);
        break;
    case MR_PS_CANCELLED:
        fleet_end_attempt(f, p, ATTEMPT_CANCELLED, "cancelled");
        break;
    case MR_PS_ERROR:
        snprintf(why, sizeof(why), "print error: %s",
                 s->message[0] ? s->message : "(no message)");
        fleet_end_attempt(f, p, ATTEMPT_FAILED, why);
        break;
    default:
        break;
    }
}
