/*
 * store_fleet_relay.h - batched writes for the fleet's data plane
 * (fleet/fleet.c).  Polling thousands of printers yields many small
 * facts per second (an observation changed, a lease was renewed); written
 * one transaction each they would cost a commit apiece, so the data plane
 * collects them during one loop round and writes them here in a single
 * BEGIN IMMEDIATE .. COMMIT.  Same conventions as store_fleet.h.
 */
#ifndef RR_STORE_FLEET_RELAY_H
#define RR_STORE_FLEET_RELAY_H

#include <stddef.h>

#include "fleet/model.h"
#include "store/store.h"

/* One observation, as store_printer_observe() takes it. */
struct store_relay_obs {
    long long printer_id;
    enum printer_state observed;   /* OFFLINE, READY, PRINTING, PAUSED,
                                      ERROR */
    const char *klippy_state;      /* may be NULL */
    double now;
    enum printer_state state;      /* out: effective state afterwards */
    int found;                     /* out: 0 if the printer is gone */
};

/* One lease renewal, as store_attempt_renew() does it. */
struct store_relay_renew {
    long long attempt_id;
    double now;
};

/* Applies every observation (like store_printer_observe: last_seen,
 * klippy_state, effective state, ready_since) and every renewal
 * (lease_until = now + pol->lease for a live attempt; final ones are
 * skipped) in one transaction.  Returns 0, or -1 with nothing written. */
int store_relay_flush(struct store *st, struct store_relay_obs *obs,
                      size_t nobs, const struct store_relay_renew *rn,
                      size_t nrn, const struct fleet_policy *pol);

/* Ends a print task and queues its notifier call with a JSON body (a
 * POST) in one transaction, so a crash cannot lose the call.  url and body
 * may be NULL (no call).  Returns 0, STORE_NOTFOUND if the task was final
 * already (nothing queued), or -1. */
int store_relay_task_end(struct store *st, const char *task_id,
                         enum task_status status, int exit_code,
                         const char *reason, const char *url,
                         const char *body);

#endif
