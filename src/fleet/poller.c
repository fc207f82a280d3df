/*
 * poller.c - status polling: a binary min-heap of printers on their next
 * poll time behind one timerfd (O(log n) per printer and poll, no timer
 * per printer), exponential backoff for printers that do not answer, and
 * the state machine that turns each objects/query answer into the store's
 * printer and attempt states (fleet.c explains the choices).
 */
#include "fleet/fleet_int.h"

#include "common/log.h"
#include "common/util.h"
#include "daemon/loop.h"
#include "store/store_fleet.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define HEAT_MARGIN 3.0        /* deg C below target counts as heating */

/* ---- heap -------------------------------------------------------------- */

static void heap_swap(struct fleet *f, size_t a, size_t b)
{
    struct fleet_pr *t = f->heap[a];

    f->heap[a] = f->heap[b];
    f->heap[b] = t;
    f->heap[a]->heap_idx = (int)a;
    f->heap[b]->heap_idx = (int)b;
}

static void heap_up(struct fleet *f, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;

        if (f->heap[parent]->due_ms <= f->heap[i]->due_ms)
            break;
        heap_swap(f, i, parent);
        i = parent;
    }
}

static void heap_down(struct fleet *f, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;

        if (l < f->nheap && f->heap[l]->due_ms < f->heap[m]->due_ms)
            m = l;
        if (r < f->nheap && f->heap[r]->due_ms < f->heap[m]->due_ms)
            m = r;
        if (m == i)
            break;
        heap_swap(f, i, m);
        i = m;
    }
}

static void heap_remove(struct fleet *f, struct fleet_pr *p)
{
    size_t i = (size_t)p->heap_idx, last = f->nheap - 1;

    if (p->heap_idx < 0)
        return;
    if (i != last) {
        heap_swap(f, i, last);
        f->nheap--;
        heap_down(f, i);
        heap_up(f, i);
    } else {
        f->nheap--;
    }
    p->heap_idx = -1;
}

/* Keeps the timerfd on the heap's head. */
static void poll_rearm(struct fleet *f)
{
    long long at = f->nheap ? f->heap[0]->due_ms : 0;

    if (at == f->poll_armed)
        return;
    if (fleet_arm(f->poll_tfd, at) == 0)
        f->poll_armed = at;
}

void fleet_poll_at(struct fleet *f, struct fleet_pr *p, long long due_ms)
{
    p->due_ms = due_ms;
    if (p->heap_idx >= 0) {
        heap_down(f, (size_t)p->heap_idx);
        heap_up(f, (size_t)p->heap_idx);
    } else {
        if (f->nheap == f->heap_cap) {
            size_t n = f->heap_cap ? f->heap_cap * 2 : 1024;
            struct fleet_pr **h = realloc(f->heap, n * sizeof(*h));

            if (!h) {
                log_err("fleet: out of memory for the poll heap");
                return;
            }
            f->heap = h;
            f->heap_cap = n;
        }
        p->heap_idx = (int)f->nheap;
        f->heap[f->nheap++] = p;
        heap_up(f, (size_t)p->heap_idx);
    }
    poll_rearm(f);
}

void fleet_poll_forget(struct fleet *f, struct fleet_pr *p)
{
    heap_remove(f, p);
    if (p->poll) {
        mr_cancel(f->mr, p->poll);
        p->poll = NULL;
        f->inflight--;
    }
    poll_rearm(f);
}

/* ---- one answer -------------------------------------------------------- */

/* When to poll next: keep the printer's phase so the fleet stays spread
 * over the interval; back off exponentially (with jitter) while it does
 * not answer. */
static long long next_due(struct fleet *f, struct fleet_pr *p, int answered)
{
    long long now = rr_mono_ms(), next, back;

    if (answered) {
        next = p->due_ms + f->interval_ms;
        if (next <= now)
            next = now + f->interval_ms / 2 +
                   (long long)(p->id % 97) * f->interval_ms / 200;
        return next;
    }
    back = f->interval_ms;
    for (int i = 1; i < p->fails && back < f->backoff_max_ms; i++)
        back *= 2;
    if (back > f->backoff_max_ms)
        back = f->backoff_max_ms;
    /* +-12% so printers that vanished together do not return together */
    back += (back / 8) * ((long long)((p->id * 7919 + p->fails) % 17) - 8) / 8;
    return now + back;
}

int fleet_file_matches(const char *shown, const char *ours)
{
    size_t n = strlen(shown), m = strlen(ours);

    if (strcmp(shown, ours) == 0)
        return 1;
    /* Moonraker may name it with a folder in front. */
    return n > m && shown[n - m - 1] == '/' &&
           strcmp(shown + n - m, ours) == 0;
}

/* Progress of our print over time: how long it may run out of sight. */
static void track_progress(struct fleet_pr *p, const struct mr_status *s,
                           double now)
{
    if (s->progress <= 0)
        return;
    if (!p->prog_t0 || s->progress < p->prog0) {
        p->prog_t0 = now;
        p->prog0 = (float)s->progress;
    }
    p->prog1 = (float)s->progress;
    p->seen_at = now;
}

/* The printer answered while it holds a live attempt in a print state:
 * reconcile the attempt by print_stats.filename. */
static void reconcile_printing(struct fleet *f, struct fleet_pr *p,
                               const struct mr_status *s, double now)
{
    char why[FLEET_WHY_MAX];

    if (s->klippy == MR_KLIPPY_SHUTDOWN || s->klippy == MR_KLIPPY_ERROR) {
        snprintf(why, sizeof(why), "klippy %s: %s",
                 mr_klippy_name(s->klippy), s->message);
        fleet_end_attempt(f, p, ATTEMPT_FAILED, why);
        return;
    }
    if (s->klippy != MR_KLIPPY_READY)
        return;                     /* starting up: look again later */
    if (!fleet_file_matches(s->filename, p->att_file)) {
        snprintf(why, sizeof(why), "printer lost the job (it shows %s '%s')",
                 mr_pstate_name(s->pstate), s->filename);
        fleet_end_attempt(f, p, ATTEMPT_FAILED, why);
        return;
    }
    switch (s->pstate) {
    case MR_PS_PRINTING:
        if (p->att_state == ATTEMPT_PAUSED)
            fleet_set_attempt(f, p, ATTEMPT_PRINTING);
        track_progress(p, s, now);
        fleet_queue_renew(f, p, now);
        break;
    case MR_PS_PAUSED:
        if (p->att_state == ATTEMPT_PRINTING)
            fleet_set_attempt(f, p, ATTEMPT_PAUSED);
        fleet_queue_renew(f, p, now);
        break;
    case MR_PS_COMPLETE:
    case MR_PS_CANCELLED:
    case MR_PS_ERROR:
        fleet_end_by_print_state(f, p, s);
        break;
    default:
        snprintf(why, sizeof(why), "printer lost the job (print_stats %s)",
                 mr_pstate_name(s->pstate));
        fleet_end_attempt(f, p, ATTEMPT_FAILED, why);
        break;
    }
}

/* A print of ours runs on a printer that holds no live attempt in our
 * table: adopt it if the store still has it live, stop it if its attempt
 * already ended (its copy may be printing elsewhere: never twice). */
static void handle_orphan(struct fleet *f, struct fleet_pr *p,
                          const struct mr_status *s)
{
    struct fleet_attempt a;
    long long job, att;
    int copy, rc;

    if (s->klippy != MR_KLIPPY_READY ||
        (s->pstate != MR_PS_PRINTING && s->pstate != MR_PS_PAUSED) ||
        fleet_attempt_filename_parse(s->filename, &job, &copy, &att) < 0 ||
        (p->orphan && strcmp(p->orphan, s->filename) == 0) || p->xfer)
        return;
    free(p->orphan);
    p->orphan = strdup(s->filename);
    rc = store_attempt_by_filename(f->st, p->id, s->filename, &a);
    if (rc != 0 || a.printer_id != p->id) {
        log_warn("fleet: printer %lld prints %s, unknown here", p->id,
                 s->filename);
        return;
    }
    if (attempt_state_live(a.state)) {
        if (!(p->att_file = strdup(a.filename))) {
            free(p->orphan);    /* out of memory: the next poll tries again */
            p->orphan = NULL;
            return;
        }
        p->att_id = a.id;
        p->att_state = (uint8_t)a.state;
        p->att_epoch_ms = 0;
        p->att_verify = a.state < ATTEMPT_PRINTING;
        log_info("fleet: printer %lld: adopted live attempt %lld", p->id,
                 a.id);
        return;
    }
    log_warn("fleet: printer %lld still prints %s of %s attempt %lld: "
             "cancelling it so the copy is not printed twice", p->id,
             s->filename, attempt_state_name(a.state), a.id);
    store_event_add(f->st, rr_now(), "orphan_cancel", p->id, a.job_id, a.id,
                    "printer returned printing %s after its attempt ended "
                    "(%s); print cancelled", s->filename,
                    attempt_state_name(a.state));
    if (store_printer_command(f->st, p->id, PCMD_CANCEL, rr_now()) != 0) {
        struct mr_target t;

        /* No live attempt to hang the command on: send it directly. */
        fleet_pr_target(p, &t);
        mr_command(f->mr, &t, MR_CANCEL, NULL, NULL);
    }
}

/* A print rrcloud did not start (from the printer's screen, Mainsail, or
 * Moonraker's API) leaves a part on the bed like ours: once it is seen
 * printing and then ends, the printer needs clearing (unless it ejects by
 * itself), so the next copy does not land on an occupied bed.  A Klippy
 * that shut down or restarted meanwhile ends it too. */
static void watch_external(struct fleet *f, struct fleet_pr *p,
                           const struct mr_status *s)
{
    int rc;

    if (p->att_id || p->sent_ms < p->att_epoch_ms)
        return;                 /* ours, or a view from before it ended */
    if (s->klippy == MR_KLIPPY_READY &&
        (s->pstate == MR_PS_PRINTING || s->pstate == MR_PS_PAUSED)) {
        p->ext_print = 1;
        return;
    }
    if (!p->ext_print || s->klippy != MR_KLIPPY_READY)
        return;
    p->ext_print = 0;
    if (p->auto_eject)
        return;
    rc = store_printer_print_ended(f->st, p->id, s->filename, rr_now());
    if (rc < 0)
        log_err("fleet: printer %lld: %s", p->id, store_errmsg(f->st));
    else if (rc == 0)
        log_info("fleet: printer %lld: a print not started here ended (%s "
                 "'%s'): the bed needs clearing", p->id,
                 mr_pstate_name(s->pstate), s->filename);
}

/* Heating, for the per-site heat-up limit (fleet_heatup_max): a print of
 * ours counts from dispatch until its heaters were seen at their targets,
 * at most fleet_heatup_time (a print that never sets a target). */
static void update_heating(struct fleet *f, struct fleet_pr *p,
                           const struct mr_status *s, double now)
{
    if (!p->att_id) {
        p->heating = p->heated = 0;
        return;
    }
    if (s && !p->heated && p->att_state >= ATTEMPT_PRINTING &&
        (s->ext_target > 0 || s->bed_target > 0) &&
        !(s->ext_target > 0 && s->ext_temp < s->ext_target - HEAT_MARGIN) &&
        !(s->bed_target > 0 && s->bed_temp < s->bed_target - HEAT_MARGIN))
        p->heated = 1;
    p->heating = !p->heated && (f->pol.heatup_time <= 0 ||
                                now - p->heat_since < f->pol.heatup_time);
}

/* What an answer says about the printer (store_printer_observe). */
static int observe(const struct mr_reply *rep, char *klippy, size_t len)
{
    const struct mr_status *s = rep->status;

    switch (rep->err) {
    case MR_OK:
        if (s->klippy != MR_KLIPPY_READY) {
            snprintf(klippy, len, "%s", mr_klippy_name(s->klippy));
            return PRINTER_ERROR;
        }
        snprintf(klippy, len, "ready");
        if (s->pstate == MR_PS_PRINTING)
            return PRINTER_PRINTING;
        if (s->pstate == MR_PS_PAUSED)
            return PRINTER_PAUSED;
        return PRINTER_READY;
    case MR_ERR_KLIPPY:
        snprintf(klippy, len, "disconnected");
        return PRINTER_ERROR;
    case MR_ERR_TUNNEL:
        snprintf(klippy, len, "tunnel_broken");
        return PRINTER_OFFLINE;
    case MR_ERR_AUTH:
        snprintf(klippy, len, "unauthorized");
        return PRINTER_OFFLINE;
    default:
        snprintf(klippy, len, "%s", rep->err == MR_ERR_OFFLINE ?
                 "unreachable" : mr_err_name(rep->err));
        return PRINTER_OFFLINE;
    }
}

static void on_status(void *arg, const struct mr_reply *rep)
{
    struct fleet_pr *p = arg;
    struct fleet *f = p->fleet;
    const struct mr_status *s = rep->status;
    double now = rr_now();
    char klippy[32];
    int obs, fresh;

    p->poll = NULL;
    f->inflight--;
    f->n_polls++;
    obs = observe(rep, klippy, sizeof(klippy));
    p->reachable = obs != PRINTER_OFFLINE;
    if (obs == PRINTER_OFFLINE) {
        f->n_poll_errors++;
        if (p->fails < 255)
            p->fails++;
        if (p->fails == 1 || p->fails % 16 == 0)
            log_info("fleet: printer %lld %s: %s", p->id, klippy,
                     rep->message);
    } else {
        p->fails = 0;
    }
    /* An answer to a poll sent before the attempt's last step may show the
     * world before that step: only the next one counts for the attempt. */
    fresh = p->sent_ms >= p->att_epoch_ms && !p->xfer && !p->upq;
    if (fresh || (!p->att_id && p->sent_ms >= p->att_epoch_ms))
        fleet_queue_obs(f, p, obs, klippy, now);
    if (rep->err == MR_OK) {
        if (p->att_id && fresh) {
            if (p->att_verify || p->att_state < ATTEMPT_PRINTING)
                fleet_dispatch_verify(f, p, s);
            else
                reconcile_printing(f, p, s, now);
        } else if (p->att_id && (p->xfer || p->upq)) {
            /* an upload in flight or waiting: the printer is there */
            fleet_queue_renew(f, p, now);
        } else if (!p->att_id) {
            handle_orphan(f, p, s);
            if (p->att_id)
                p->ext_print = 0;   /* adopted: ours after all */
            else
                watch_external(f, p, s);
        }
        update_heating(f, p, s, now);
        fleet_queue_live(f, p, s, now);
    }
    if (!f->stopping)
        fleet_poll_at(f, p, next_due(f, p, obs != PRINTER_OFFLINE));
    /* Replies free slots: send what waited for them. */
    if (f->nheap && f->heap[0]->due_ms <= rr_mono_ms())
        fleet_poll_due(f);
}

void fleet_poll_due(struct fleet *f)
{
    long long now = rr_mono_ms();

    while (!f->stopping && f->nheap && f->heap[0]->due_ms <= now &&
           f->inflight < f->max_inflight) {
        struct fleet_pr *p = f->heap[0];
        struct mr_target t;

        heap_remove(f, p);
        if (p->poll || !p->url)
            continue;           /* re-queued by its answer / no URL yet */
        if (p->xfer) {
            /* An upload or command in flight says more than a poll would,
             * and must not wait behind one on the printer's connection. */
            fleet_poll_at(f, p, now + f->interval_ms);
            continue;
        }
        fleet_pr_target(p, &t);
        p->sent_ms = now;
        p->poll = mr_query(f->mr, &t, on_status, p);
        if (!p->poll) {
            log_warn("fleet: printer %lld: cannot poll %s: %s", p->id,
                     p->url, strerror(errno));
            p->due_ms = now;
            fleet_poll_at(f, p, now + f->backoff_max_ms);
            continue;
        }
        f->inflight++;
    }
    poll_rearm(f);
}

static void on_poll_timer(struct loop *l, int fd, uint32_t events, void *arg)
{
    struct fleet *f = arg;
    uint64_t ticks;

    if (read(fd, &ticks, sizeof(ticks)) != (ssize_t)sizeof(ticks))
        return;
    f->poll_armed = 0;
    fleet_poll_due(f);
}

int fleet_poller_init(struct fleet *f)
{
    f->poll_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (f->poll_tfd < 0)
        return -1;
    if (loop_add_fd(f->loop, f->poll_tfd, EPOLLIN, on_poll_timer, f) < 0) {
        close(f->poll_tfd);
        f->poll_tfd = -1;
        return -1;
    }
    return 0;
}

void fleet_poller_free(struct fleet *f)
{
    if (f->poll_tfd >= 0) {
        loop_del_fd(f->loop, f->poll_tfd);
        close(f->poll_tfd);
        f->poll_tfd = -1;
    }
    free(f->heap);
    f->heap = NULL;
    f->nheap = f->heap_cap = 0;
}
