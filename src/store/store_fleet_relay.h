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
#include "store/store_fleet.h"

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

/* An attempt whose upload began at `when`. */
struct store_relay_upload {
    long long attempt_id;
    double when;
    int moved;                     /* out: 1 if it went to UPLOADING */
};

/* What a printer's polls showed (fleet_printer_live), to be stored. */
struct store_relay_status {
    long long printer_id;
    struct fleet_printer_live live;
};

/* In one transaction: every observation (like store_printer_observe:
 * last_seen, klippy_state, effective state, ready_since), every renewal
 * (lease_until = now + pol->lease for a live attempt; final ones are
 * skipped), and every upload start (a dispatching attempt goes to
 * UPLOADING with upload_at = when and its lease renewed, like
 * store_attempt_set_state(UPLOADING); one no longer dispatching is left
 * alone, moved = 0), and every live status (the printer_status row
 * replaced; a printer removed meanwhile is skipped).  Returns 0, or -1
 * with nothing written. */
int store_relay_flush(struct store *st, struct store_relay_obs *obs,
                      size_t nobs, const struct store_relay_renew *rn,
                      size_t nrn, struct store_relay_upload *up, size_t nup,
                      const struct store_relay_status *ls, size_t nls,
                      const struct fleet_policy *pol);

/* Printers heating up now at one site, as the data plane saw them. */
struct store_relay_heat {
    const char *site;              /* "" = printers without a site */
    int heating;
};

/* One scheduling round like store_fleet_dispatch(), except that the
 * per-site heat-up counts are the caller's (printers whose heaters are
 * still below target) instead of the store's estimate from start times;
 * sites not listed count 0.  With pol->heatup_max 0 it is
 * store_fleet_dispatch() itself.  Otherwise the round is loaded in one
 * read transaction; its holds (held_reason), if any change, are written
 * in one write transaction, weighed again there if another connection
 * committed since the load; and each attempt is made by
 * store_attempt_create() in its own (an assignment the world overtook
 * meanwhile is skipped).  cb
 * (may be NULL) gets each attempt made, *created (may be NULL) how many.
 * Returns 0 or -1. */
int store_relay_dispatch(struct store *st, const struct fleet_policy *pol,
                         double now, const struct store_relay_heat *heat,
                         size_t nheat, store_attempt_cb cb, void *arg,
                         int *created);

/* Ends a print task and queues its notifier call with a JSON body (a
 * POST) in one transaction, so a crash cannot lose the call.  url and body
 * may be NULL (no call).  Returns 0, STORE_NOTFOUND if the task was final
 * already (nothing queued), or -1. */
int store_relay_task_end(struct store *st, const char *task_id,
                         enum task_status status, int exit_code,
                         const char *reason, const char *url,
                         const char *body);

/* Keeps the fleet store's prepared statements for reuse on this thread
 * (on = 1) or finalizes them (on = 0; call it before store_close).  The
 * data plane makes the same few writes thousands of times; preparing each
 * one anew would cost more than the write.  store_fleet_dispatch() ends
 * the cache when it returns, so turn it on again after a round. */
void store_relay_cache(int on);

#endif
