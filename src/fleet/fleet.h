/*
 * fleet.h - the fleet's data plane inside rrcloudd: polls every printer's
 * Moonraker through its zrok share, keeps the store's view of printers and
 * attempts true, dispatches the copies the scheduler assigns (upload +
 * start), sends operators' pause/resume/cancel, checks the frontends and
 * lets the load manager move printers, and ends the print tasks of jobs
 * that finished (with a JSON notifier body).
 *
 * It lives on rrcloudd's loop (loop.h) and uses its store connection from
 * that thread only.  See fleet.c for the design.
 */
#ifndef RR_FLEET_H
#define RR_FLEET_H

#include <stddef.h>

#include "common/conf.h"
#include "store/store.h"

struct loop;
struct fleet;

/* Creates the fleet on loop l: loads printers and live attempts from st,
 * spreads the first polls over one poll interval, and registers its
 * timers and the Moonraker client with l.  conf, st and l are borrowed and
 * must outlive it.  Call curl_global_init() first.  Returns NULL with err
 * set. */
struct fleet *fleet_new(const struct rr_conf *conf, struct store *st,
                        struct loop *l, char *err, size_t errlen);
/* Stops (as fleet_stop) and frees everything.  NULL is a no-op. */
void fleet_free(struct fleet *f);

/* The WAKE_FLEET handler: printers, queues, jobs or commands changed, so
 * look at the store again soon (coalesced: many wakes, one look).
 * Returns 0 (-1 only if the fleet is NULL). */
int fleet_poll(struct fleet *f);

/* fn(arg) is called whenever a notifier delivery was queued (a job's
 * print task ended), e.g. notify_kick. */
void fleet_set_notify(struct fleet *f, void (*fn)(void *), void *arg);

/* Graceful stop: no new dispatches, polls or checks; pending store writes
 * are flushed; transfers in flight are abandoned (their attempts stay live
 * and the next start reconciles them by print_stats.filename). */
void fleet_stop(struct fleet *f);

/* Numbers for logs and the benchmark. */
struct fleet_stats {
    size_t printers;            /* in the table */
    int inflight;               /* Moonraker requests in flight */
    unsigned long long polls, poll_errors, dispatched, rounds;
    double round_ms_max;        /* slowest scheduling round */
};
void fleet_get_stats(const struct fleet *f, struct fleet_stats *out);

#endif
