/*
 * fleet_int.h - private header of the fleet loop (fleet.h) and its module
 * map.  Each file's exports are listed under a banner:
 *
 *   fleet.c     the loop: printer table, the work timer (sync, scheduling
 *               rounds, housekeeping), start and stop
 *   ledger.c    the store side: batched observations and renewals,
 *               attempt steps, leases, print tasks, retention
 *   poller.c    the poll heap, status -> printer state, reconciliation
 *   dispatch.c  dispatch rounds, upload + start, operator commands
 *   health.c    frontend canaries and the load manager's rebalance
 *
 * Everything runs on rrcloudd's loop thread; nothing here locks.
 */
#ifndef RR_FLEET_INT_H
#define RR_FLEET_INT_H

#include <stddef.h>
#include <stdint.h>

#include "common/conf.h"
#include "common/util.h"
#include "fleet/fleet.h"
#include "fleet/model.h"
#include "fleet/moonraker.h"
#include "http/netcheck.h"
#include "store/store.h"

struct loop;
struct loop_timer;

/* Room for a reason with a Moonraker message and a file name in it (the
 * store keeps what fits its column). */
#define FLEET_WHY_MAX (MR_MESSAGE_MAX + MR_FILENAME_MAX + 128)

/* One printer as the data plane keeps it: small, since there may be
 * 10,000 of them (about 200 bytes plus its URL and secrets). */
struct fleet_pr {
    struct fleet *fleet;        /* back pointer for callbacks */
    long long id;
    char *url;                  /* owned share URL; NULL = not reported */
    char *api_key;              /* owned, NULL = none */
    char *auth;                 /* owned "user:pass", NULL = none */
    char *site;                 /* owned, "" = its own site */
    long long frontend_id;
    uint8_t observed;           /* enum printer_state last written */
    uint8_t state;              /* effective state the store computed */
    uint8_t auto_eject;
    uint8_t fails;              /* unreachable polls in a row (backoff) */
    uint8_t heating;            /* a print of ours heating up (counts
                                   against fleet_heatup_max per site) */
    uint8_t heated;             /* its heaters were seen at target */
    uint8_t obs_queued;         /* an observation waits in the batch */
    uint8_t reachable;          /* last poll got an answer */
    uint8_t ext_print;          /* seen printing something not ours */
    uint32_t gen;               /* reload generation that saw it */
    int heap_idx;               /* in the poll heap, -1 = not queued */
    long long due_ms;           /* next poll (monotonic ms) */
    long long sent_ms;          /* when the poll in flight was sent */
    struct mr_xfer *poll;       /* status query in flight */
    struct mr_xfer *xfer;       /* upload, start or command in flight */
    double seen_written;        /* wall time of the last observe write */
    char klippy[32];            /* klippy_state of the last write */
    /* the live attempt, if any (att_id 0 = none) */
    long long att_id;
    char *att_file;             /* owned: rr-J-C-A.gcode */
    uint8_t att_state;          /* enum attempt_state */
    uint8_t att_verify;         /* outcome of a request unknown: the
                                   next fresh poll decides */
    uint8_t stage;              /* what p->xfer is: enum fleet_stage */
    uint8_t upq;                /* its upload waits for a free slot */
    long long att_epoch_ms;     /* polls sent before this are stale */
    double lease_written;       /* wall time of the last lease write */
    /* progress of our print, to know how long it may still run when the
     * printer goes out of sight (wall times; prog_t0 0 = unknown) */
    double prog_t0, seen_at;
    double heat_since;          /* wall time the attempt was dispatched */
    float prog0, prog1;
    char *orphan;               /* owned: foreign rr- file already handled */
    /* live status as last queued for the store, rounded (ledger.c) */
    double live_written;        /* wall time, 0 = never */
    uint32_t live_file;         /* hash of print_stats.filename */
    uint16_t live_prog;         /* progress in 0.1 % */
    uint8_t live_pstate;        /* enum mr_pstate */
    int16_t live_ext, live_ext_t, live_bed, live_bed_t;  /* in 0.5 deg C */
};

/* What a printer's request in flight is (fleet_pr.stage). */
enum fleet_stage {
    FLEET_STAGE_NONE = 0,
    FLEET_STAGE_UPLOAD,         /* holds an upload slot ... */
    FLEET_STAGE_START,          /* ... until its print/start is answered */
    FLEET_STAGE_COMMAND,        /* pause, resume or cancel */
};

/* A pending observation for the batched write. */
struct fleet_obs {
    long long printer_id;
    double when;
    uint8_t observed;
    char klippy[32];
};

/* A pending lease renewal for the batched write. */
struct fleet_renew {
    long long attempt_id;
    double when;
};

/* An upload that started (attempt -> UPLOADING), for the batched write. */
struct fleet_upmark {
    long long attempt_id, printer_id;
    double when;
};

/* An upload waiting for a free slot (dispatch.c). */
struct fleet_upq {
    long long printer_id, attempt_id;
    char sha256[FLEET_SHA256_HEX];
};

struct fleet_health;
struct store_relay_status;

struct fleet {
    const struct rr_conf *conf;
    struct store *st;
    struct loop *loop;
    struct mr_client *mr;
    struct fleet_policy pol;
    struct netcheck_allow share_allow; /* conf fleet_share_allow */
    int stopping;
    double started;             /* rr_now() at fleet_new */

    /* printers, sorted by id */
    struct fleet_pr **prs;
    size_t npr, prs_cap;
    uint32_t gen;

    /* poll heap on due_ms */
    struct fleet_pr **heap;
    size_t nheap, heap_cap;
    int poll_tfd;
    long long poll_armed;       /* deadline the timerfd holds, 0 = none */
    int inflight, max_inflight;
    long long interval_ms, backoff_max_ms;

    /* batched writes */
    struct fleet_obs *obs;
    size_t nobs, obs_cap;
    struct fleet_renew *renew;
    size_t nrenew, renew_cap;
    struct fleet_upmark *upmark;
    size_t nupmark, upmark_cap;
    struct store_relay_status *live;
    size_t nlive, live_cap;
    double status_interval;     /* s: fleet_status_interval */

    /* uploads: at most FLEET_UPLOADS_MAX at once, the rest wait in order */
    int uploads;                /* printers in the upload or start stage */
    struct fleet_upq *upq;      /* ring */
    size_t upq_head, nupq, upq_cap;

    /* the work timer: flush, sync, scheduling, housekeeping */
    int work_tfd;
    long long work_armed;
    int want_flush, want_sync, want_sched;
    long long next_sched_ms, next_sync_ms, next_reload_ms, next_lease_ms,
              next_tasks_ms, next_health_ms, last_reload_ms, next_stats_ms,
              next_purge_ms;
    int sched_again;            /* a round assigned everything it could */

    struct fleet_health *health;

    void (*notify_fn)(void *);
    void *notify_arg;

    /* counters for logs and the benchmark */
    unsigned long long n_polls, n_poll_errors, n_dispatched, n_rounds;
    double round_ms_max, round_ms_sum;
    long long stats_ms;
    unsigned long long stats_polls, stats_errors;
};

/* ---- fleet.c ----------------------------------------------------------- */

/* Arms fd (a timerfd) for the monotonic deadline at_ms (<= now: at once;
 * 0 disarms).  0 or -1. */
int fleet_arm(int fd, long long at_ms);

/* Printer by id (binary search), or NULL. */
struct fleet_pr *fleet_pr_find(struct fleet *f, long long id);
/* The target to reach p with. */
void fleet_pr_target(const struct fleet_pr *p, struct mr_target *t);
/* Forgets p's live attempt (after it ended). */
void fleet_pr_drop_attempt(struct fleet_pr *p);
/* Until when p's print may still be running (wall time, from the
 * progress rate it showed while in sight), or 0 if unknown. */
double fleet_pr_may_print_until(const struct fleet_pr *p);
/* Frees a printer that is out of the table and has nothing in flight. */
void fleet_pr_free(struct fleet_pr *p);
/* Arms the work timer for the monotonic deadline at (if earlier than the
 * one armed); 1 = on the next loop round. */
void fleet_work_at(struct fleet *f, long long at);
/* Asks for a scheduling round (event driven: a printer became ready). */
void fleet_want_sched(struct fleet *f);

/* ---- ledger.c ---------------------------------------------------------- */

/* Queues an observation / lease renewal for the next batched write (only
 * when it changes something or last_seen is stale) and makes sure the
 * write happens on the next loop round. */
void fleet_queue_obs(struct fleet *f, struct fleet_pr *p, int observed,
                     const char *klippy, double now);
void fleet_queue_renew(struct fleet *f, struct fleet_pr *p, double now);
/* Queues what an answer shows of p's print and heaters for the batched
 * write when it changed (rounded); a change of file, print state or heater
 * target at once, other changes at most every status_interval. */
void fleet_queue_live(struct fleet *f, struct fleet_pr *p,
                      const struct mr_status *s, double now);
/* Takes what the store has of p's live status as written (a restart does
 * not write every printer's unchanged status again). */
void fleet_live_seed(struct fleet_pr *p, const struct fleet_printer_live *l);
/* Queues "upload of p's attempt started at when" (the dispatch latency's
 * end) for the batched write. */
void fleet_queue_uploading(struct fleet *f, struct fleet_pr *p, double when);
/* Writes what is queued in one transaction (kept for a retry on error). */
void fleet_flush(struct fleet *f);
/* Ends p's live attempt now (its own transaction) with result and reason,
 * logs, and forgets it.  Returns 0 or -1. */
int fleet_end_attempt(struct fleet *f, struct fleet_pr *p,
                      enum attempt_state result, const char *reason);
/* Ends p's attempt as print_stats says its print ended (complete,
 * cancelled, or error with Moonraker's message as the reason); other
 * states are left alone. */
void fleet_end_by_print_state(struct fleet *f, struct fleet_pr *p,
                              const struct mr_status *s);
/* Moves p's live attempt to state (its own transaction).  0 or -1. */
int fleet_set_attempt(struct fleet *f, struct fleet_pr *p,
                      enum attempt_state state);
/* Ends attempts whose lease ran out (LOST), unless we still talk to the
 * printer about them. */
void fleet_leases(struct fleet *f);
/* Ends the print tasks of jobs that ended; kicks the notifier. */
void fleet_end_tasks(struct fleet *f);
/* Jobs with queued copies that no printer can take: their
 * waiting_reason (an event once per change), cleared when one can again;
 * failed after fleet_unplaceable_timeout (0 = they wait). */
void fleet_unplaced(struct fleet *f);
/* Drops final jobs past max_data_retention and unreferenced blobs. */
void fleet_purge(struct fleet *f);

/* ---- poller.c ---------------------------------------------------------- */

int fleet_poller_init(struct fleet *f);
void fleet_poller_free(struct fleet *f);
/* 1 if the file a printer shows (print_stats.filename, maybe with a
 * folder in front) is ours. */
int fleet_file_matches(const char *shown, const char *ours);
/* Puts p in the heap (or moves it) to be polled at due_ms. */
void fleet_poll_at(struct fleet *f, struct fleet_pr *p, long long due_ms);
/* Takes p out of the heap and cancels its poll in flight. */
void fleet_poll_forget(struct fleet *f, struct fleet_pr *p);
/* Sends the polls that are due (as far as the in-flight cap allows). */
void fleet_poll_due(struct fleet *f);

/* ---- dispatch.c -------------------------------------------------------- */

/* One scheduling round: the store assigns copies to ready printers, each
 * new attempt's upload starts at once.  Returns the attempts started
 * (not those the table had to refuse) or -1. */
int fleet_dispatch_round(struct fleet *f);
/* Sends the operators' pending pause/resume/cancel commands. */
void fleet_commands(struct fleet *f);
/* p's request in flight is over (or was cancelled): forgets it, frees its
 * upload slot if it held one and starts a waiting upload. */
void fleet_stage_done(struct fleet *f, struct fleet_pr *p);
/* Drops the uploads waiting for a slot (stop). */
void fleet_dispatch_clear(struct fleet *f);
/* The attempt was adopted in dispatching/uploading without a transfer
 * (restart): the next fresh poll decides (called by the poller). */
void fleet_dispatch_verify(struct fleet *f, struct fleet_pr *p,
                           const struct mr_status *s);

/* ---- health.c ---------------------------------------------------------- */

int fleet_health_init(struct fleet *f);
void fleet_health_free(struct fleet *f);
/* Starts a round of canary checks unless one is running.  0 or -1. */
int fleet_health_round(struct fleet *f);

#endif
