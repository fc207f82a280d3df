/*
 * fleet.c - the fleet loop: rrcloudd's data plane for printers (fleet.h).
 *
 * Design, and why:
 *
 * - One thread, one loop.  Everything (polls, uploads, commands, canaries)
 *   is an HTTP request on the fleet's libcurl client, driven by rrcloudd's
 *   epoll loop with the socket-action pattern (moonraker.c).  10,000
 *   printers at a 2 s interval are 5,000 small requests a second: cheap
 *   for one thread that never blocks, and there is nothing to lock.  The
 *   only blocking calls are SQLite writes, kept few and batched (below).
 *   (The client spreads hosts over a few multi handles on the same loop:
 *   libcurl 7.88 walks a multi's whole connection pool for every finished
 *   transfer, and we keep one kept-alive connection per printer.)
 *
 * - Memory is the table, the store is the truth.  The loop keeps a small
 *   record per printer (fleet_int.h: URL, secrets, last observation, the
 *   live attempt, poll bookkeeping; about 250 bytes) in an array sorted by
 *   id, reloaded from the store every 10 s and soon after a WAKE_FLEET
 *   (enrolments, moves, holds).  Every step that matters (an attempt made,
 *   started, ended) is in the store before the loop acts on it, so a crash
 *   at any point leaves the store right and the next start reconciles.
 *
 * - Polling: a binary min-heap on each printer's next poll time behind a
 *   single timerfd (poller.c), O(log n) per poll, no timer per printer.
 *   First polls are spread over one interval by printer id; each answer
 *   schedules the next a full interval after the previous due time, so the
 *   spread holds and the load stays flat.  Printers that do not answer
 *   back off exponentially (with jitter) up to fleet_offline_backoff, so a
 *   region that is down costs little; a new share URL (a move) resets it.
 *   A cap on polls in flight bounds sockets and memory.
 *
 * - Batched writes: an answer that changes nothing is not written.  A
 *   changed observation (offline/ready/printing/paused/error, Klippy
 *   state), a last_seen refresh every 15 s, lease renewals (at most every
 *   lease/4, a minute apart at most), "upload started" marks and what the
 *   printer shows of its print (progress, print time, heaters, file:
 *   rounded to 0.1 % and 0.5 deg C, a new file, print state or target at
 *   once, other changes at most every fleet_status_interval, so 10,000
 *   printing printers cost at most 1,000 small row writes a second) are
 *   queued and written in one transaction per loop round (ledger.c,
 *   store_fleet_relay.c), on the work timer armed "now" by the first one.
 *
 * - Event-driven dispatch: a batch that makes a printer effectively READY
 *   asks for a scheduling round in the same work pass (at most one round
 *   per SCHED_GAP_MS, or twice the last round's time, so a burst of ready
 *   printers is one round and rounds cannot starve the polls).  The store
 *   makes the attempts (it holds "one live attempt per copy"); each upload
 *   starts at once, at most 256 at a time (a cold start readies the whole
 *   fleet at once; the rest wait in order), and its start time is the end
 *   of the "ready -> upload started" latency the store reports.  Uploads
 *   go without print=true and are followed by print/start, so a busy
 *   printer can never park our file in Moonraker's own queue and print it
 *   later behind our back.  With fleet_heatup_max, the scheduler gets the
 *   heating printers per site as seen (dispatched, or heaters still below
 *   target) rather than guessed from start times.
 *
 * - Leases and reconciliation: an attempt's lease is renewed while the
 *   printer is seen printing our file (unique name rr-J-C-A.gcode).  When
 *   a printer comes back, print_stats.filename decides (poller.c): ours
 *   and printing -> go on; complete -> complete; error/cancelled ->
 *   failed/cancelled (the store applies K/M); anything else -> "printer
 *   lost the job".  "Never free a copy while it may still print": a lease
 *   that runs out while the printer is out of sight is extended as long as
 *   the print it was last seen running may still be going (from the
 *   progress rate it showed, with a margin); only then is the attempt LOST
 *   and the copy free to go elsewhere.  An answer to a poll sent before
 *   the attempt's last step is ignored for the attempt, so a stale
 *   "standby" never fails a print that just started; a request whose
 *   outcome is unknown (start timed out) is settled by the next fresh
 *   poll.  A printer found printing the file of an attempt that already
 *   ended is told to cancel: its copy may be printing elsewhere.
 *
 * - Housekeeping on the same work timer: operators' commands
 *   (pause/resume/cancel) on wake and every 2 s; print tasks cancelled
 *   through the relay API cancel their jobs; jobs that ended finish their
 *   print task with the job as the notifier's JSON body (one transaction);
 *   expired leases every 5 s; frontend canaries every
 *   frontend_check_interval, then the load manager's rebalance (health.c);
 *   retention of final jobs and unreferenced G-code blobs.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "fleet/fleet_int.h"

#include "common/log.h"
#include "common/util.h"
#include "daemon/loop.h"
#include "fleet/blob.h"
#include "store/store_fleet.h"
#include "store/store_fleet_relay.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define SCHED_GAP_MS 40        /* between event-driven scheduling rounds */
#define SCHED_IDLE_MS 2000     /* periodic round while printers are ready */
#define SCHED_SLOW_MS 10000    /* periodic round otherwise */
#define SYNC_MS 2000           /* commands, cancelled tasks */
#define RELOAD_MS 10000        /* printer table refresh */
#define RELOAD_GAP_MS 500      /* at most this often on wakes */
#define LEASE_MS 5000          /* expired lease check */
#define TASKS_MS 1000          /* ended jobs -> tasks */
#define FLUSH_RETRY_MS 1000
#define MAY_PRINT_MAX 172800.0 /* s: longest print time believed */
#define STATS_MS 10000         /* a line of numbers in the log */
#define SLOW_STEP_MS 100       /* a work step holding the loop this long is logged */

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

static void fleet_reload(struct fleet *f);

int fleet_arm(int fd, long long at_ms)
{
    struct itimerspec its;

    memset(&its, 0, sizeof(its));
    if (at_ms > 0) {
        long long now = rr_mono_ms(), d = at_ms - now;

        if (d <= 0) {
            its.it_value.tv_nsec = 1;   /* zero would disarm */
        } else {
            its.it_value.tv_sec = d / 1000;
            its.it_value.tv_nsec = (d % 1000) * 1000000L;
        }
    }
    return timerfd_settime(fd, 0, &its, NULL);
}

/* ---- printer table ----------------------------------------------------- */

struct fleet_pr *fleet_pr_find(struct fleet *f, long long id)
{
    size_t lo = 0, hi = f->npr;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;

        if (f->prs[mid]->id == id)
            return f->prs[mid];
        if (f->prs[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void fleet_pr_target(const struct fleet_pr *p, struct mr_target *t)
{
    t->base = p->url;
    t->api_key = p->api_key;
    t->userpwd = p->auth;
}

double fleet_pr_may_print_until(const struct fleet_pr *p)
{
    double rate, eta, slack = p->fleet->pol.lease / 2;

    if (!p->prog_t0 || p->seen_at <= p->prog_t0 || p->prog1 <= p->prog0)
        return 0;
    rate = (p->prog1 - p->prog0) / (p->seen_at - p->prog_t0);
    eta = (1.0 - p->prog1) / rate;
    if (eta > MAY_PRINT_MAX)
        eta = MAY_PRINT_MAX;
    /* a margin for slow layers and short pauses */
    return p->seen_at + eta * 1.25 + (slack < 60 ? slack : 60);
}

void fleet_pr_drop_attempt(struct fleet_pr *p)
{
    p->att_id = 0;
    free(p->att_file);
    p->att_file = NULL;
    p->att_state = 0;
    p->att_verify = 0;
    p->heating = p->heated = 0;
    p->upq = 0;
    p->lease_written = 0;
    p->prog_t0 = 0;
}

void fleet_pr_free(struct fleet_pr *p)
{
    if (!p)
        return;
    free(p->url);
    free(p->api_key);
    free(p->auth);
    free(p->site);
    free(p->att_file);
    free(p->orphan);
    free(p);
}

/* Replaces *dst with a copy of src ("" = NULL when empty_null).
 * 0, or -1 if out of memory (then *dst is unchanged). */
static int set_str(char **dst, const char *src, int empty_null)
{
    char *c;

    if (empty_null && (!src || !*src)) {
        free(*dst);
        *dst = NULL;
        return 0;
    }
    if (*dst && src && strcmp(*dst, src) == 0)
        return 0;
    c = strdup(src ? src : "");
    if (!c)
        return -1;
    free(*dst);
    *dst = c;
    return 0;
}

/* Inserts p into the sorted table.  0 or -1. */
static int table_insert(struct fleet *f, struct fleet_pr *p)
{
    size_t i = f->npr;

    if (f->npr == f->prs_cap) {
        size_t n = f->prs_cap ? f->prs_cap * 2 : 256;
        struct fleet_pr **a = realloc(f->prs, n * sizeof(*a));

        if (!a)
            return -1;
        f->prs = a;
        f->prs_cap = n;
    }
    while (i > 0 && f->prs[i - 1]->id > p->id)
        i--;
    memmove(f->prs + i + 1, f->prs + i, (f->npr - i) * sizeof(*f->prs));
    f->prs[i] = p;
    f->npr++;
    return 0;
}

struct adopt {
    long long printer_id, attempt_id;
};

struct reload_ctx {
    struct fleet *f;
    struct adopt *adopt;
    size_t nadopt, cap;
    int ready;
};

/* A printer new to the table. */
static struct fleet_pr *pr_new(struct fleet *f,
                               const struct fleet_printer *row)
{
    struct fleet_pr *p = calloc(1, sizeof(*p));

    if (p) {
        p->fleet = f;
        p->id = row->id;
        p->heap_idx = -1;
        p->observed = (uint8_t)row->observed;
        snprintf(p->klippy, sizeof(p->klippy), "%s", row->klippy_state);
        fleet_live_seed(p, &row->live);
    }
    if (!p || table_insert(f, p) < 0) {
        free(p);
        log_err("fleet: out of memory loading printer %lld", row->id);
        return NULL;
    }
    return p;
}

static int reload_row(void *arg, const struct fleet_printer *row)
{
    struct reload_ctx *c = arg;
    struct fleet *f = c->f;
    struct fleet_pr *p = fleet_pr_find(f, row->id);
    int had_url, moved;

    if (!p && !(p = pr_new(f, row)))
        return 0;
    had_url = p->url != NULL;
    moved = had_url && (!row->share_url[0] || strcmp(p->url, row->share_url));
    if (set_str(&p->url, row->share_url, 1) < 0 ||
        set_str(&p->api_key, row->api_key, 1) < 0 ||
        set_str(&p->auth, row->share_auth, 1) < 0 ||
        set_str(&p->site, row->site, 0) < 0)
        log_err("fleet: out of memory loading printer %lld", row->id);
    p->frontend_id = row->frontend_id;
    p->auto_eject = (uint8_t)row->auto_eject;
    p->state = (uint8_t)row->state;
    p->gen = f->gen;
    if (p->state == PRINTER_READY && !row->attempt_id)
        c->ready = 1;
    if (p->url && !had_url && !f->stopping) {
        /* Spread first polls over one interval by id (Knuth's hash). */
        long long now = rr_mono_ms();

        fleet_poll_at(f, p, now + (long long)((unsigned long long)row->id *
                      2654435761ULL % (unsigned long long)f->interval_ms));
    } else if (!p->url) {
        fleet_poll_forget(f, p);
    } else if (moved && !f->stopping) {
        /* A new share URL (moved to another frontend): whatever backoff
         * the old one earned does not apply; look at once. */
        p->fails = 0;
        fleet_poll_at(f, p, rr_mono_ms() + (row->id % 16) * 10);
    }
    if (row->attempt_id != p->att_id && !p->xfer) {
        if (c->nadopt == c->cap) {
            size_t n = c->cap ? c->cap * 2 : 64;
            struct adopt *a = realloc(c->adopt, n * sizeof(*a));

            if (!a)
                return 0;
            c->adopt = a;
            c->cap = n;
        }
        c->adopt[c->nadopt++] = (struct adopt){ row->id, row->attempt_id };
    }
    return 0;
}

/* Takes over a live attempt the store knows and the table did not (start,
 * or another process changed it): the next fresh poll reconciles it. */
static void adopt_attempt(struct fleet *f, struct fleet_pr *p, long long id)
{
    struct fleet_attempt a;

    fleet_pr_drop_attempt(p);
    if (id == 0)
        return;
    if (store_attempt_get(f->st, id, &a) != 0 ||
        !attempt_state_live(a.state))
        return;
    p->att_id = a.id;
    p->att_file = strdup(a.filename);
    if (!p->att_file) {
        p->att_id = 0;
        return;
    }
    p->att_state = (uint8_t)a.state;
    p->att_verify = a.state < ATTEMPT_PRINTING;
    p->att_epoch_ms = rr_mono_ms();
    p->heating = 1;             /* until a poll shows it at temperature */
    p->heated = 0;
    p->heat_since = a.started > 0 ? a.started : a.created;
    log_info("fleet: printer %lld holds attempt %lld (%s, %s)", p->id, a.id,
             attempt_state_name(a.state), a.filename);
}

static void fleet_reload(struct fleet *f)
{
    struct reload_ctx c = { .f = f };
    size_t j = 0;

    f->gen++;
    if (store_printer_list(f->st, NULL, 0, 0, reload_row, &c) < 0) {
        log_err("fleet: cannot load printers: %s", store_errmsg(f->st));
        free(c.adopt);
        return;
    }
    for (size_t i = 0; i < c.nadopt; i++) {
        struct fleet_pr *p = fleet_pr_find(f, c.adopt[i].printer_id);

        if (p)
            adopt_attempt(f, p, c.adopt[i].attempt_id);
    }
    free(c.adopt);
    /* Printers the store no longer has leave the table. */
    for (size_t i = 0; i < f->npr; i++) {
        struct fleet_pr *p = f->prs[i];

        if (p->gen == f->gen) {
            f->prs[j++] = p;
            continue;
        }
        log_info("fleet: printer %lld removed", p->id);
        fleet_poll_forget(f, p);
        if (p->xfer) {
            mr_cancel(f->mr, p->xfer);
            fleet_stage_done(f, p);
        }
        fleet_pr_free(p);
    }
    f->npr = j;
    if (c.ready)
        fleet_want_sched(f);
}

void fleet_work_at(struct fleet *f, long long at)
{
    if (f->work_armed && f->work_armed <= at)
        return;
    if (fleet_arm(f->work_tfd, at) == 0)
        f->work_armed = at;
}

void fleet_want_sched(struct fleet *f)
{
    f->want_sched = 1;
    fleet_work_at(f, f->next_sched_ms > 0 ? f->next_sched_ms : 1);
}

/* ---- the work timer ---------------------------------------------------- */

static int any_ready(const struct fleet *f)
{
    for (size_t i = 0; i < f->npr; i++) {
        if (f->prs[i]->state == PRINTER_READY && !f->prs[i]->att_id)
            return 1;
    }
    return 0;
}

static void fleet_sync(struct fleet *f, long long now)
{
    int n = 0;

    if (store_job_cancel_by_tasks(f->st, rr_now(), &n) < 0)
        log_err("fleet: cancelled tasks: %s", store_errmsg(f->st));
    else if (n > 0)
        log_info("fleet: %d job(s) cancelled through their print task", n);
    if (now >= f->next_reload_ms) {
        fleet_reload(f);
        f->last_reload_ms = now;
        f->next_reload_ms = now + RELOAD_MS;
    }
    fleet_commands(f);
}

static void fleet_log_stats(struct fleet *f, long long now)
{
    double secs = f->stats_ms ? (double)(now - f->stats_ms) / 1000 : 0;

    if (secs > 0)
        log_info("fleet: %zu printers, %.0f polls/s (%.0f%% unanswered), "
                 "%d in flight, %llu dispatched, %llu rounds (%.1f ms "
                 "average, slowest %.0f ms)", f->npr,
                 (double)(f->n_polls - f->stats_polls) / secs,
                 f->n_polls > f->stats_polls ?
                 100.0 * (double)(f->n_poll_errors - f->stats_errors) /
                 (double)(f->n_polls - f->stats_polls) : 0.0,
                 mr_client_active(f->mr), f->n_dispatched, f->n_rounds,
                 f->n_rounds ? f->round_ms_sum / (double)f->n_rounds : 0.0,
                 f->round_ms_max);
    f->stats_ms = now;
    f->stats_polls = f->n_polls;
    f->stats_errors = f->n_poll_errors;
}

/* A scheduling round if one is wanted (event) or due (periodic). */
static void fleet_sched_maybe(struct fleet *f, long long now)
{
    long long t0, spent;

    if (!((f->want_sched && now >= f->next_sched_ms) ||
          now >= f->next_sched_ms + SCHED_SLOW_MS ||
          (now >= f->next_sched_ms + SCHED_IDLE_MS && any_ready(f))))
        return;
    t0 = rr_mono_ms();
    f->want_sched = 0;
    /* The round's spool and hours limits use the files' estimates: read
     * new files' first (an indexed look at unread blobs), so a job
     * submitted just now is not held a round for want of them. */
    if (fleet_blob_read_meta(f->st, f->conf->spool_dir, 16) < 0)
        log_warn("fleet: reading G-code estimates: %s", store_errmsg(f->st));
    if (fleet_dispatch_round(f) > 0)
        f->want_sched = 1;      /* the world moved: look once more */
    /* Rounds get dearer with the queue: leave the loop at least twice a
     * round's time for polls, so a burst of ready printers cannot starve
     * them. */
    spent = rr_mono_ms() - t0;
    f->next_sched_ms = t0 + spent + (2 * spent > SCHED_GAP_MS ?
                                     2 * spent : SCHED_GAP_MS);
}

/* The earliest thing the work timer has to do. */
static long long fleet_next_deadline(const struct fleet *f, long long now)
{
    long long d[] = {
        f->next_sync_ms, f->next_reload_ms, f->next_lease_ms,
        f->next_tasks_ms, f->next_health_ms, f->next_stats_ms,
        f->next_purge_ms, f->next_sched_ms + SCHED_IDLE_MS,
        f->want_sched ? f->next_sched_ms : LLONG_MAX,
        f->want_flush ? now + FLUSH_RETRY_MS : LLONG_MAX,
    };
    long long next = LLONG_MAX;

    for (size_t i = 0; i < sizeof(d) / sizeof(*d); i++) {
        if (d[i] < next)
            next = d[i];
    }
    return next > now ? next : now + 1;
}

/* Ends a timed work step: one that held the loop (polls, uploads and the
 * next round all wait) for SLOW_STEP_MS or more is worth a log line. */
static void step_end(const char *what, long long t0)
{
    long long ms = rr_mono_ms() - t0;

    if (ms >= SLOW_STEP_MS)
        log_info("fleet: %s held the loop %lld ms", what, ms);
}

static void flush_timed(struct fleet *f)
{
    long long t0 = rr_mono_ms();

    if (f->want_flush) {
        fleet_flush(f);
        step_end("writing observations", t0);
    }
}

static void fleet_work(struct fleet *f)
{
    long long now = rr_mono_ms(), t0;

    flush_timed(f);
    if (f->stopping)
        return;
    if (f->want_sync || now >= f->next_sync_ms || now >= f->next_reload_ms) {
        f->want_sync = 0;
        t0 = rr_mono_ms();
        fleet_sync(f, now);
        step_end("syncing commands and printers", t0);
        f->next_sync_ms = now + SYNC_MS;
    }
    if (now >= f->next_lease_ms) {
        t0 = rr_mono_ms();
        fleet_leases(f);
        fleet_unplaced(f);
        step_end("the lease check and jobs no printer can take", t0);
        f->next_lease_ms = now + LEASE_MS;
    }
    if (now >= f->next_health_ms) {
        fleet_health_round(f);
        f->next_health_ms = now + (f->conf->frontend_check_interval > 0 ?
                                   f->conf->frontend_check_interval * 1000 :
                                   15000);
    }
    flush_timed(f);             /* so the round sees every observation */
    t0 = rr_mono_ms();
    fleet_sched_maybe(f, now);
    step_end("a scheduling round", t0);
    if (now >= f->next_tasks_ms) {
        t0 = rr_mono_ms();
        fleet_end_tasks(f);
        if (fleet_blob_read_meta(f->st, f->conf->spool_dir, 8) < 0)
            log_warn("fleet: reading G-code estimates: %s",
                     store_errmsg(f->st));
        step_end("ending print tasks and reading G-code estimates", t0);
        f->next_tasks_ms = now + TASKS_MS;
    }
    if (now >= f->next_stats_ms) {
        fleet_log_stats(f, now);
        f->next_stats_ms = now + STATS_MS;
    }
    if (now >= f->next_purge_ms) {
        t0 = rr_mono_ms();
        fleet_purge(f);
        step_end("the retention purge", t0);
        f->next_purge_ms = now + (f->conf->purge_interval > 0 ?
                                  f->conf->purge_interval * 1000 : 300000);
    }
    flush_timed(f);
    f->work_armed = 0;
    fleet_work_at(f, fleet_next_deadline(f, now));
}

static void on_work(struct loop *l, int fd, uint32_t events, void *arg)
{
    struct fleet *f = arg;
    uint64_t ticks;

    if (read(fd, &ticks, sizeof(ticks)) != (ssize_t)sizeof(ticks))
        return;
    f->work_armed = 0;
    fleet_work(f);
}

/* ---- public ------------------------------------------------------------ */

/* Sockets: one per printer connection kept alive plus the frontends; the
 * default soft limit (often 1024) is far below a big fleet's needs. */
static void raise_nofile(size_t want)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        log_warn("fleet: cannot raise the open files limit: %s",
                 strerror(errno));
}

/* The Moonraker client's limits from rrcloud.conf, and the polls to keep
 * in flight. */
static void client_opts(const struct rr_conf *conf, struct mr_opts *o,
                        int *max_inflight)
{
    long long cap = conf->fleet_max_connections;

    memset(o, 0, sizeof(*o));
    o->connect_timeout_ms = 3000;
    o->query_timeout_ms = conf->fleet_request_timeout * 1000;
    o->command_timeout_ms = conf->fleet_request_timeout * 1000;
    o->upload_timeout_ms = conf->fleet_upload_timeout * 1000;
    o->max_body = 256 * 1024;
    /* Idle connections kept: one per printer when the cap allows (0 = no
     * cap: up to 20,000). */
    o->max_connects = cap > 0 ? cap : 20000;
    o->host_connections = 2;
    o->total_connections = cap;
    o->user_agent = "rrcloud/" PACKAGE_VERSION;
    /* Polls in flight: 10,000 printers every 2 s at 200 ms a request need
     * 1,000; at most half the connection cap, so curl never queues
     * transfers behind its limits (queued ones spend their timeout
     * waiting). */
    *max_inflight = 1024;
    if (cap > 0 && cap / 2 < *max_inflight)
        *max_inflight = cap / 2 > 8 ? (int)(cap / 2) : 8;
}

struct fleet *fleet_new(const struct rr_conf *conf, struct store *st,
                        struct loop *l, char *err, size_t errlen)
{
    struct fleet *f = calloc(1, sizeof(*f));
    struct mr_opts o;

    if (!f) {
        snprintf(err, errlen, "fleet: out of memory");
        return NULL;
    }
    f->conf = conf;
    f->st = st;
    f->loop = l;
    f->started = rr_now();
    f->poll_tfd = f->work_tfd = -1;
    fleet_policy_from_conf(&f->pol, conf);
    f->interval_ms = conf->fleet_poll_interval > 0 ?
                     conf->fleet_poll_interval * 1000 : 2000;
    f->backoff_max_ms = conf->fleet_offline_backoff * 1000;
    f->status_interval = (double)conf->fleet_status_interval;
    if (f->backoff_max_ms < f->interval_ms)
        f->backoff_max_ms = f->interval_ms;
    client_opts(conf, &o, &f->max_inflight);
    if (netcheck_allow_parse(&f->share_allow, conf->fleet_share_allow, err,
                             errlen) < 0) {
        fleet_free(f);
        return NULL;
    }
    /* Share URLs were checked when reported; a name can be re-pointed
     * since, so every connection's peer is checked again. */
    o.netcheck = &f->share_allow;
    f->mr = mr_client_new(l, &o);
    f->work_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (!f->mr || f->work_tfd < 0 || fleet_poller_init(f) < 0 ||
        fleet_health_init(f) < 0 ||
        loop_add_fd(l, f->work_tfd, EPOLLIN, on_work, f) < 0) {
        snprintf(err, errlen, "fleet: cannot start: %s", strerror(errno));
        fleet_free(f);
        return NULL;
    }
    raise_nofile((size_t)o.max_connects * 2 + 1024);
    if (store_fleet_sync_conf(st, conf, &f->pol, rr_now()) < 0) {
        snprintf(err, errlen, "fleet: frontends from %s: %s", "rrcloud.conf",
                 store_errmsg(st));
        fleet_free(f);
        return NULL;
    }
    store_relay_cache(1);
    fleet_reload(f);
    f->last_reload_ms = rr_mono_ms();
    f->next_reload_ms = f->last_reload_ms + RELOAD_MS;
    f->next_health_ms = rr_mono_ms() + 1000;
    f->want_sync = f->want_sched = 1;
    fleet_work_at(f, 1);
    log_info("fleet: %zu printers, poll every %lld ms, lease %.0f s",
             f->npr, f->interval_ms, f->pol.lease);
    return f;
}

void fleet_stop(struct fleet *f)
{
    if (!f || f->stopping)
        return;
    f->stopping = 1;
    if (f->want_flush)
        fleet_flush(f);
    for (size_t i = 0; i < f->npr; i++) {
        struct fleet_pr *p = f->prs[i];

        fleet_poll_forget(f, p);
        if (p->xfer) {
            mr_cancel(f->mr, p->xfer);
            p->xfer = NULL;
            p->stage = FLEET_STAGE_NONE;
        }
        p->upq = 0;
    }
    f->uploads = 0;
    fleet_dispatch_clear(f);
    fleet_health_free(f);
    if (f->work_tfd >= 0)
        fleet_arm(f->work_tfd, 0);
}

void fleet_free(struct fleet *f)
{
    if (!f)
        return;
    if (f->mr)
        fleet_stop(f);
    fleet_health_free(f);
    mr_client_free(f->mr);
    fleet_poller_free(f);
    if (f->work_tfd >= 0) {
        loop_del_fd(f->loop, f->work_tfd);
        close(f->work_tfd);
    }
    store_relay_cache(0);
    for (size_t i = 0; i < f->npr; i++)
        fleet_pr_free(f->prs[i]);
    free(f->prs);
    free(f->obs);
    free(f->renew);
    free(f->upmark);
    free(f->live);
    fleet_dispatch_clear(f);
    free(f);
}

int fleet_poll(struct fleet *f)
{
    if (!f)
        return -1;
    if (f->stopping)
        return 0;
    f->want_sync = 1;
    /* Coalesce: a burst of wakes reloads the table once. */
    if (f->next_reload_ms > f->last_reload_ms + RELOAD_GAP_MS)
        f->next_reload_ms = f->last_reload_ms + RELOAD_GAP_MS;
    f->want_sched = 1;
    fleet_work_at(f, 1);
    return 0;
}

void fleet_set_notify(struct fleet *f, void (*fn)(void *), void *arg)
{
    f->notify_fn = fn;
    f->notify_arg = arg;
}

void fleet_get_stats(const struct fleet *f, struct fleet_stats *out)
{
    memset(out, 0, sizeof(*out));
    out->printers = f->npr;
    out->inflight = mr_client_active(f->mr);
    out->polls = f->n_polls;
    out->poll_errors = f->n_poll_errors;
    out->dispatched = f->n_dispatched;
    out->rounds = f->n_rounds;
    out->round_ms_max = f->round_ms_max;
}
