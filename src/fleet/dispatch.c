/*
 * dispatch.c - getting copies onto printers: one scheduling round in the
 * store, then for each new attempt an upload streamed from the blob spool
 * and a print/start (never print=true: see fleet.c); plus the operators'
 * pause/resume/cancel commands.
 *
 * A printer has at most one such request in flight (p->xfer); while it
 * is, poll answers do not judge the attempt (poller.c).  What a failed
 * request means:
 *   not delivered (connect, tunnel,  -> LOST: the copy goes back and
 *   401), refused as busy or with       nobody is blamed; what the answer
 *   Klippy down (503, 404)              says about the printer (offline,
 *                                       error, busy) is written at once,
 *                                       so it gets no copy before a poll
 *                                       sees it ready again
 *   413/422 on upload                -> FAILED (this printer cannot take
 *                                       this file: K/M policy)
 *   any other error answer           -> FAILED (Moonraker misbehaves: the
 *                                       printer's fault, so the quarantine
 *                                       streak stops a loop)
 *   start without an answer          -> unknown: the next fresh poll looks
 *                                       at print_stats.filename
 */
#include "fleet/fleet_int.h"

#include "common/log.h"
#include "common/util.h"
#include "fleet/blob.h"
#include "store/store_fleet.h"
#include "store/store_fleet_relay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STAGE(p) ((p)->stage)
#define STAGE_NONE FLEET_STAGE_NONE
#define STAGE_UPLOAD FLEET_STAGE_UPLOAD
#define STAGE_START FLEET_STAGE_START
#define STAGE_COMMAND FLEET_STAGE_COMMAND

/* Uploads (with their print/start) at once.  A cold start makes every
 * printer ready together; unbounded, that is thousands of transfers with
 * their buffers at once.  The rest wait in dispatch order. */
#define UPLOADS_MAX 256

static void upload_next(struct fleet *f);

/* Forgets p's request in flight and frees its upload slot, if any. */
static void stage_done(struct fleet *f, struct fleet_pr *p)
{
    if (STAGE(p) == STAGE_UPLOAD || STAGE(p) == STAGE_START)
        f->uploads--;
    STAGE(p) = STAGE_NONE;
    p->xfer = NULL;
}

void fleet_stage_done(struct fleet *f, struct fleet_pr *p)
{
    stage_done(f, p);
    upload_next(f);
}

/* ---- upload and start -------------------------------------------------- */

/* Ends p's attempt after its upload or start failed with rep: LOST when
 * the answer says the printer cannot take a print now (and that is
 * written as its observation, ahead of the next round), FAILED when
 * Moonraker answered wrongly (blame_file: this file, 413/422). */
static void end_request(struct fleet *f, struct fleet_pr *p,
                        const struct mr_reply *rep, int blame_file,
                        const char *why)
{
    int obs = -1;
    const char *klippy = NULL;

    switch (rep->err) {
    case MR_ERR_OFFLINE:
        obs = PRINTER_OFFLINE;
        klippy = "unreachable";
        break;
    case MR_ERR_TUNNEL:
        obs = PRINTER_OFFLINE;
        klippy = "tunnel_broken";
        break;
    case MR_ERR_AUTH:
        obs = PRINTER_OFFLINE;
        klippy = "unauthorized";
        break;
    case MR_ERR_KLIPPY:
    case MR_ERR_NOTFOUND:       /* 404 on /printer/: Klippy not connected */
        obs = PRINTER_ERROR;
        klippy = "disconnected";
        break;
    case MR_ERR_BUSY:
        if (blame_file)
            break;
        obs = PRINTER_PRINTING; /* something else is on it */
        klippy = "ready";
        break;
    case MR_ERR_LOCAL:
        break;                  /* ours: LOST, no observation */
    default:
        blame_file = 1;
        break;
    }
    if (obs == PRINTER_OFFLINE)
        p->reachable = 0;
    fleet_end_attempt(f, p, blame_file ? ATTEMPT_FAILED : ATTEMPT_LOST, why);
    /* (Answers to polls sent before the end are not written: they may
     * show it ready.) */
    if (obs >= 0)
        fleet_queue_obs(f, p, obs, klippy, rr_now());
}

static void on_start(void *arg, const struct mr_reply *rep)
{
    struct fleet_pr *p = arg;
    struct fleet *f = p->fleet;
    char why[FLEET_WHY_MAX];

    stage_done(f, p);
    upload_next(f);
    if (!p->att_id)
        return;
    switch (rep->err) {
    case MR_OK:
        if (fleet_set_attempt(f, p, ATTEMPT_PRINTING) == 0)
            log_debug("fleet: printer %lld printing %s", p->id, p->att_file);
        break;
    case MR_ERR_BUSY:
    case MR_ERR_NOTFOUND:
    case MR_ERR_KLIPPY:
    case MR_ERR_AUTH:
        snprintf(why, sizeof(why), "printer refused to start (%s, HTTP %ld):"
                 " %s", mr_err_name(rep->err), rep->http, rep->message);
        end_request(f, p, rep, 0, why);
        break;
    default:
        /* It may have started: the next fresh poll decides. */
        log_info("fleet: printer %lld: start of %s unconfirmed (%s); "
                 "checking", p->id, p->att_file, rep->message);
        p->att_verify = 1;
        p->att_epoch_ms = rr_mono_ms();
        break;
    }
}

static void on_upload(void *arg, const struct mr_reply *rep)
{
    struct fleet_pr *p = arg;
    struct fleet *f = p->fleet;
    struct mr_target t;
    char why[FLEET_WHY_MAX];

    if (!p->att_id || rep->err != MR_OK) {
        stage_done(f, p);
        upload_next(f);
    }
    if (!p->att_id)
        return;
    if (rep->err != MR_OK) {
        snprintf(why, sizeof(why), "upload failed (%s, HTTP %ld): %s",
                 mr_err_name(rep->err), rep->http, rep->message);
        end_request(f, p, rep, rep->http == 413 || rep->http == 422, why);
        return;
    }
    /* keeps its slot for the start */
    fleet_pr_target(p, &t);
    p->xfer = mr_start(f->mr, &t, p->att_file, on_start, p);
    if (!p->xfer) {
        stage_done(f, p);
        upload_next(f);
        snprintf(why, sizeof(why), "cannot send print/start: %s",
                 strerror(errno));
        fleet_end_attempt(f, p, ATTEMPT_LOST, why);
        return;
    }
    STAGE(p) = STAGE_START;
}

/* Sends p's upload of the G-code blob sha256 (a slot is free) and marks
 * the attempt UPLOADING. */
static void send_upload(struct fleet *f, struct fleet_pr *p,
                        const char *sha256)
{
    char path[4096], why[FLEET_REASON_MAX];
    struct mr_target t;

    if (fleet_blob_path(f->conf->spool_dir, sha256, path,
                        sizeof(path)) < 0) {
        fleet_end_attempt(f, p, ATTEMPT_FAILED, "bad blob name");
        return;
    }
    fleet_pr_target(p, &t);
    p->xfer = mr_upload(f->mr, &t, path, p->att_file, sha256, 0,
                        on_upload, p);
    if (!p->xfer) {
        int e = errno;

        snprintf(why, sizeof(why), "cannot upload %s: %s", sha256,
                 strerror(e));
        /* A missing blob will not come back: blame the job, not the
         * printer; anything else is ours. */
        fleet_end_attempt(f, p, e == ENOENT ? ATTEMPT_FAILED : ATTEMPT_LOST,
                          why);
        return;
    }
    STAGE(p) = STAGE_UPLOAD;
    f->uploads++;
    p->att_state = ATTEMPT_UPLOADING;
    p->att_epoch_ms = rr_mono_ms();
    fleet_queue_uploading(f, p, rr_now());
    f->n_dispatched++;
}

/* Takes on attempt a for p: its upload starts now, or when a slot frees. */
static void start_upload(struct fleet *f, struct fleet_pr *p,
                         const struct fleet_attempt *a)
{
    struct fleet_upq *q;

    p->att_id = a->id;
    p->att_file = strdup(a->filename);
    p->att_state = ATTEMPT_DISPATCHING;
    p->att_verify = 0;
    p->att_epoch_ms = rr_mono_ms();
    p->heating = 1;
    p->heated = 0;
    p->heat_since = rr_now();
    p->lease_written = rr_now();
    p->state = PRINTER_UPLOADING;
    if (!p->att_file) {
        fleet_end_attempt(f, p, ATTEMPT_LOST, "out of memory");
        return;
    }
    if (!p->url) {
        fleet_end_attempt(f, p, ATTEMPT_LOST, "printer has no share URL");
        return;
    }
    if (f->uploads < UPLOADS_MAX && f->nupq == 0) {
        send_upload(f, p, a->sha256);
        return;
    }
    if (f->nupq == f->upq_cap) {
        size_t n = f->upq_cap ? f->upq_cap * 2 : 256;
        struct fleet_upq *v = malloc(n * sizeof(*v));

        if (!v) {
            fleet_end_attempt(f, p, ATTEMPT_LOST, "out of memory");
            return;
        }
        for (size_t i = 0; i < f->nupq; i++)
            v[i] = f->upq[(f->upq_head + i) % f->upq_cap];
        free(f->upq);
        f->upq = v;
        f->upq_head = 0;
        f->upq_cap = n;
    }
    q = &f->upq[(f->upq_head + f->nupq++) % f->upq_cap];
    q->printer_id = p->id;
    q->attempt_id = a->id;
    snprintf(q->sha256, sizeof(q->sha256), "%s", a->sha256);
    p->upq = 1;
}

/* Starts waiting uploads while slots are free. */
static void upload_next(struct fleet *f)
{
    while (f->nupq > 0 && f->uploads < UPLOADS_MAX && !f->stopping) {
        struct fleet_upq q = f->upq[f->upq_head];
        struct fleet_pr *p;

        f->upq_head = (f->upq_head + 1) % f->upq_cap;
        f->nupq--;
        p = fleet_pr_find(f, q.printer_id);
        if (!p || !p->upq || p->att_id != q.attempt_id)
            continue;           /* ended or gone meanwhile */
        p->upq = 0;
        send_upload(f, p, q.sha256);
    }
}

void fleet_dispatch_clear(struct fleet *f)
{
    free(f->upq);
    f->upq = NULL;
    f->nupq = f->upq_cap = f->upq_head = 0;
}

struct round {
    struct fleet_attempt *v;
    size_t n, cap;
};

static int round_row(void *arg, const struct fleet_attempt *a)
{
    struct round *r = arg;

    if (r->n == r->cap) {
        size_t n = r->cap ? r->cap * 2 : 32;
        struct fleet_attempt *v = realloc(r->v, n * sizeof(*v));

        if (!v)
            return 1;
        r->v = v;
        r->cap = n;
    }
    r->v[r->n++] = *a;
    return 0;
}

/* Printers heating per site as seen (only with a heat-up limit): the
 * scheduler starts no more there than fleet_heatup_max allows.  Site
 * names point into the printers.  0 or -1. */
static int heat_counts(struct fleet *f, struct store_relay_heat **out,
                       size_t *n)
{
    struct store_relay_heat *h;
    size_t k;

    *out = NULL;
    *n = 0;
    if (f->pol.heatup_max <= 0 || f->npr == 0)
        return 0;
    if (!(h = calloc(f->npr, sizeof(*h))))
        return -1;
    for (size_t i = 0; i < f->npr; i++) {
        const struct fleet_pr *p = f->prs[i];
        const char *site = p->site ? p->site : "";

        if (!p->heating)
            continue;
        for (k = 0; k < *n && strcmp(h[k].site, site); k++)
            ;
        if (k == *n)
            h[(*n)++].site = site;
        h[k].heating++;
    }
    *out = h;
    return 0;
}

int fleet_dispatch_round(struct fleet *f)
{
    struct round r = { 0 };
    long long t0 = rr_mono_ms();
    struct store_relay_heat *heat = NULL;
    size_t nheat = 0;
    double ms;
    int created = 0, started = 0, rc;

    rc = heat_counts(f, &heat, &nheat) < 0 ? -1 :
         store_relay_dispatch(f->st, &f->pol, rr_now(), heat, nheat,
                              round_row, &r, &created);
    free(heat);
    store_relay_cache(1);       /* the round ended the statement cache */
    if (rc < 0) {
        /* Attempts it committed before failing (one per transaction with
         * a heat-up limit) are in r.v and start below; any it could not
         * hand over come back with the next reload. */
        log_err("fleet: scheduling round: %s", store_errmsg(f->st));
        f->next_reload_ms = 0;
    } else if ((size_t)created > r.n) {
        f->next_reload_ms = 0;  /* out of memory handing them over */
    }
    ms = (double)(rr_mono_ms() - t0);
    f->n_rounds++;
    f->round_ms_sum += ms;
    if (ms > f->round_ms_max)
        f->round_ms_max = ms;
    for (size_t i = 0; i < r.n; i++) {
        struct fleet_attempt *a = &r.v[i];
        struct fleet_pr *p = fleet_pr_find(f, a->printer_id);

        if (p && (p->att_id || p->xfer)) {
            /* our table thought otherwise: let the store's word stand
             * after the in-flight request is done */
            log_warn("fleet: printer %lld busy here, attempt %lld lost",
                     p->id, a->id);
            store_attempt_end(f->st, a->id, ATTEMPT_LOST,
                              "dispatcher busy with this printer", &f->pol,
                              rr_now(), NULL);
            continue;
        }
        if (!p) {
            store_attempt_end(f->st, a->id, ATTEMPT_LOST,
                              "printer unknown to the dispatcher", &f->pol,
                              rr_now(), NULL);
            f->next_reload_ms = 0;
            continue;
        }
        start_upload(f, p, a);
        started++;
    }
    if (r.n)
        log_debug("fleet: round: %zu attempts in %.1f ms (%zu waiting for "
                  "an upload slot)", r.n, ms, f->nupq);
    free(r.v);
    /* Attempts lost at once for our own reasons cost nobody a failure
     * now: they must not ask for the next round at once either. */
    return rc < 0 ? -1 : started;
}

/* ---- a fresh poll settles an attempt whose start is unknown ------------ */

void fleet_dispatch_verify(struct fleet *f, struct fleet_pr *p,
                           const struct mr_status *s)
{
    char why[FLEET_WHY_MAX];

    if (s->klippy == MR_KLIPPY_SHUTDOWN || s->klippy == MR_KLIPPY_ERROR) {
        snprintf(why, sizeof(why), "klippy %s before the print started: %s",
                 mr_klippy_name(s->klippy), s->message);
        fleet_end_attempt(f, p, ATTEMPT_LOST, why);
        return;
    }
    if (s->klippy != MR_KLIPPY_READY)
        return;
    p->att_verify = 0;
    if (!fleet_file_matches(s->filename, p->att_file) ||
        s->pstate == MR_PS_STANDBY || s->pstate == MR_PS_UNKNOWN) {
        snprintf(why, sizeof(why), "the print did not start (printer shows "
                 "%s '%s')", mr_pstate_name(s->pstate), s->filename);
        fleet_end_attempt(f, p, ATTEMPT_LOST, why);
        return;
    }
    /* It did start: bring the attempt up to date, then to its end. */
    if (p->att_state < ATTEMPT_PRINTING &&
        fleet_set_attempt(f, p, ATTEMPT_PRINTING) < 0)
        return;
    switch (s->pstate) {
    case MR_PS_PAUSED:
        fleet_set_attempt(f, p, ATTEMPT_PAUSED);
        break;
    case MR_PS_COMPLETE:
    case MR_PS_CANCELLED:
    case MR_PS_ERROR:
        fleet_end_by_print_state(f, p, s);
        break;
    default:
        break;
    }
}

/* ---- operator commands ------------------------------------------------- */

struct cmd {
    long long printer_id;
    enum printer_cmd cmd;
};

struct cmds {
    struct cmd *v;
    size_t n, cap;
};

static int cmd_row(void *arg, const struct fleet_printer *row)
{
    struct cmds *c = arg;

    if (c->n == c->cap) {
        size_t n = c->cap ? c->cap * 2 : 16;
        struct cmd *v = realloc(c->v, n * sizeof(*v));

        if (!v)
            return 1;
        c->v = v;
        c->cap = n;
    }
    c->v[c->n++] = (struct cmd){ row->id, row->pending_cmd };
    return 0;
}

static void on_command(void *arg, const struct mr_reply *rep)
{
    struct fleet_pr *p = arg;
    struct fleet *f = p->fleet;
    const char *what = mr_kind_name(rep->kind);

    stage_done(f, p);
    if (rep->err == MR_ERR_OFFLINE || rep->err == MR_ERR_TUNNEL) {
        log_info("fleet: printer %lld: %s not delivered (%s); will retry",
                 p->id, what, rep->message);
        return;                 /* still pending in the store */
    }
    if (store_printer_command_done(f->st, p->id) < 0)
        log_err("fleet: printer %lld: %s", p->id, store_errmsg(f->st));
    store_event_add(f->st, rr_now(), "command", p->id, 0, p->att_id,
                    "%s %s%s%s", what, rep->err == MR_OK ? "sent" : "failed",
                    rep->err == MR_OK ? "" : ": ",
                    rep->err == MR_OK ? "" : rep->message);
    /* What the printer does now shows in the next poll, not older ones. */
    p->att_epoch_ms = rr_mono_ms();
    log_info("fleet: printer %lld: %s %s", p->id, what,
             rep->err == MR_OK ? "sent" : rep->message);
}

/* A cancel that arrives before the print could start (upload waiting or
 * still streaming): stop it there; nothing was printed. */
static int cancel_upload(struct fleet *f, struct fleet_pr *p)
{
    if (p->upq) {
        p->upq = 0;             /* its queue entry is skipped */
    } else if (STAGE(p) == STAGE_UPLOAD && p->att_state < ATTEMPT_PRINTING) {
        mr_cancel(f->mr, p->xfer);
        stage_done(f, p);
        upload_next(f);
    } else {
        return 0;
    }
    fleet_end_attempt(f, p, ATTEMPT_CANCELLED,
                      "cancelled before the print started");
    store_printer_command_done(f->st, p->id);
    return 1;
}

void fleet_commands(struct fleet *f)
{
    struct cmds c = { 0 };

    if (store_printer_commands(f->st, cmd_row, &c) < 0) {
        log_err("fleet: commands: %s", store_errmsg(f->st));
        free(c.v);
        return;
    }
    for (size_t i = 0; i < c.n; i++) {
        struct fleet_pr *p = fleet_pr_find(f, c.v[i].printer_id);
        enum mr_kind kind = c.v[i].cmd == PCMD_PAUSE ? MR_PAUSE :
                            c.v[i].cmd == PCMD_RESUME ? MR_RESUME : MR_CANCEL;
        struct mr_target t;

        if (!p || !p->url)
            continue;
        if (p->xfer || p->upq) {
            if (c.v[i].cmd == PCMD_CANCEL)
                cancel_upload(f, p);
            continue;           /* after the request in flight */
        }
        if (!p->reachable)
            continue;           /* sent once it answers again */
        if (!p->att_id && c.v[i].cmd != PCMD_CANCEL) {
            store_printer_command_done(f->st, p->id);
            continue;
        }
        fleet_pr_target(p, &t);
        p->xfer = mr_command(f->mr, &t, kind, on_command, p);
        if (p->xfer)
            STAGE(p) = STAGE_COMMAND;
    }
    free(c.v);
}
