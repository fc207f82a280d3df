/*
 * store_fleet_relay.c - see store_fleet_relay.h.  Uses the fleet store's
 * internal helpers (store_fleet_int.h) so the effective printer state is
 * derived by the same code as store_printer_observe().
 */
#include "store/store_fleet_relay.h"

#include "store/store_fleet_int.h"

#include <stdlib.h>
#include <string.h>

static int relay_observe(struct store *st, struct store_relay_obs *o)
{
    int rc;

    o->found = 0;
    o->state = o->observed;
    rc = sf_printer_observed(st, o->printer_id, o->observed, o->klippy_state,
                             o->now, &o->state);
    if (rc == STORE_NOTFOUND)
        return 0;               /* removed meanwhile: nothing to do */
    if (rc < 0)
        return -1;
    o->found = 1;
    return 0;
}

static int relay_uploading(struct store *st, struct store_relay_upload *u,
                           const struct fleet_policy *pol)
{
    long long printer;
    int rc = sf_exec(st, "UPDATE attempts SET state = 1, upload_at = ?2, "
                     "lease_until = ?3 WHERE id = ?1 AND state = 0", "idd",
                     u->attempt_id, u->when, u->when + pol->lease);

    u->moved = rc > 0;
    if (rc <= 0)
        return rc;
    if (sf_ll(st, &printer, "SELECT printer_id FROM attempts WHERE id = ?1",
              "i", u->attempt_id) != 0)
        return -1;
    return sf_printer_recompute(st, printer, u->when, NULL) < 0 ? -1 : 0;
}

static int relay_status(struct store *st, const struct store_relay_status *s)
{
    const struct fleet_printer_live *l = &s->live;

    /* The SELECT skips a printer removed since the poll (no FK error). */
    return sf_exec(st, "INSERT INTO printer_status (printer_id, updated, "
                   "print_state, file, progress, print_duration, ext_temp, "
                   "ext_target, bed_temp, bed_target) SELECT ?1, ?2, ?3, ?4, "
                   "?5, ?6, ?7, ?8, ?9, ?10 FROM printers WHERE id = ?1 "
                   "ON CONFLICT (printer_id) DO UPDATE SET updated = "
                   "excluded.updated, print_state = excluded.print_state, "
                   "file = excluded.file, progress = excluded.progress, "
                   "print_duration = excluded.print_duration, ext_temp = "
                   "excluded.ext_temp, ext_target = excluded.ext_target, "
                   "bed_temp = excluded.bed_temp, bed_target = "
                   "excluded.bed_target", "idttdddddd", s->printer_id,
                   l->updated, l->print_state, l->file, l->progress,
                   l->print_duration, l->ext_temp, l->ext_target,
                   l->bed_temp, l->bed_target) < 0 ? -1 : 0;
}

int store_relay_flush(struct store *st, struct store_relay_obs *obs,
                      size_t nobs, const struct store_relay_renew *rn,
                      size_t nrn, struct store_relay_upload *up, size_t nup,
                      const struct store_relay_status *ls, size_t nls,
                      const struct fleet_policy *pol)
{
    if (nobs == 0 && nrn == 0 && nup == 0 && nls == 0)
        return 0;
    if (store_begin(st) < 0)
        return -1;
    for (size_t i = 0; i < nup; i++) {
        if (relay_uploading(st, &up[i], pol) < 0)
            goto fail;
    }
    for (size_t i = 0; i < nobs; i++) {
        if (obs[i].observed != PRINTER_OFFLINE &&
            obs[i].observed != PRINTER_READY &&
            obs[i].observed != PRINTER_PRINTING &&
            obs[i].observed != PRINTER_PAUSED &&
            obs[i].observed != PRINTER_ERROR)
            continue;
        if (relay_observe(st, &obs[i]) < 0)
            goto fail;
    }
    for (size_t i = 0; i < nrn; i++) {
        if (sf_exec(st, "UPDATE attempts SET lease_until = ?2 WHERE id = ?1 "
                    "AND state < 4", "id", rn[i].attempt_id,
                    rn[i].now + pol->lease) < 0)
            goto fail;
    }
    for (size_t i = 0; i < nls; i++) {
        if (relay_status(st, &ls[i]) < 0)
            goto fail;
    }
    if (store_commit(st) < 0)
        goto fail;
    return 0;
fail:
    store_rollback(st);
    for (size_t i = 0; i < nup; i++)
        up[i].moved = 0;
    return -1;
}

/* One weighing of a round: its input, what it assigns and holds. */
struct relay_round {
    struct sched_input in;
    struct sched_assignment *as;
    struct sched_hold *held;
    size_t nas, nheld;
    long long version;           /* PRAGMA data_version of its snapshot */
};

static void round_reset(struct relay_round *r)
{
    free(r->as);
    free(r->held);
    sched_input_free(&r->in);
    r->as = NULL;
    r->held = NULL;
    r->nas = r->nheld = 0;
    sched_input_init(&r->in);
}

/* Loads and weighs a round inside the caller's transaction, with the
 * caller's heat-up counts, noting the snapshot's data version. */
static int round_weigh(struct store *st, const struct fleet_policy *pol,
                       double now, const struct store_relay_heat *heat,
                       size_t nheat, struct relay_round *r)
{
    struct sched_params prm = { now, pol->age_boost, pol->change_penalty,
                                pol->heatup_max };

    round_reset(r);
    if (store_fleet_sched_load(st, pol, now, &r->in) < 0 ||
        sf_ll(st, &r->version, "PRAGMA data_version", NULL) != 0)
        return -1;
    for (size_t i = 0; i < r->in.nsites; i++)
        r->in.sites[i].heating = 0;
    for (size_t i = 0; i < nheat; i++) {
        int site = sched_intern(&r->in, heat[i].site);

        if (site < 0 || sched_set_heating(&r->in, site, heat[i].heating) < 0)
            return -1;
    }
    return sched_run_why(&r->in, &prm, &r->as, &r->nas, &r->held,
                         &r->nheld) < 0 ? -1 : 0;
}

/* Writes r's holds.  Another connection may have committed since r's
 * snapshot (an operator's spool or hours releasing a hold): then r is
 * weighed again inside this write transaction, so a hold is never set
 * from text older than what released it. */
static int held_tx(struct store *st, const struct fleet_policy *pol,
                   double now, const struct store_relay_heat *heat,
                   size_t nheat, struct relay_round *r)
{
    long long v;

    if (sf_ll(st, &v, "PRAGMA data_version", NULL) != 0)
        return -1;
    if (v != r->version &&
        round_weigh(st, pol, now, heat, nheat, r) < 0)
        return -1;
    return sf_sched_held(st, &r->in, r->held, r->nheld, now);
}

static int held_run(struct store *st, const struct fleet_policy *pol,
                    double now, const struct store_relay_heat *heat,
                    size_t nheat, struct relay_round *r)
{
    SF_TX(st, held_tx(st, pol, now, heat, nheat, r));
}

int store_relay_dispatch(struct store *st, const struct fleet_policy *pol,
                         double now, const struct store_relay_heat *heat,
                         size_t nheat, store_attempt_cb cb, void *arg,
                         int *created)
{
    struct relay_round r;
    int rc = -1, made = 0, stale;

    if (pol->heatup_max <= 0)
        return store_fleet_dispatch(st, pol, now, cb, arg, created);
    memset(&r, 0, sizeof(r));
    sched_input_init(&r.in);
    /* one snapshot for the whole load */
    if (sf_exec(st, "BEGIN", NULL) < 0)
        goto out;
    rc = round_weigh(st, pol, now, heat, nheat, &r);
    if (sf_exec(st, "COMMIT", NULL) < 0 || rc < 0) {
        store_rollback(st);
        rc = -1;
        goto out;
    }
    rc = -1;
    /* A write transaction only when there is something to write. */
    stale = r.nheld ? 1 : sf_held_done(st);
    if (stale < 0 ||
        (stale && held_run(st, pol, now, heat, nheat, &r) < 0))
        goto out;
    for (size_t i = 0; i < r.nas; i++) {
        struct fleet_attempt a;
        int c = store_attempt_create(st, r.as[i].job_id, r.as[i].copy,
                                     r.as[i].printer_id, pol, now, &a);

        if (c < 0)
            goto out;
        if (c != 0)
            continue;           /* overtaken since the load */
        made++;
        if (cb && cb(arg, &a))
            cb = NULL;
    }
    rc = 0;
out:
    if (created)
        *created = made;
    free(r.as);
    free(r.held);
    sched_input_free(&r.in);
    return rc;
}

int store_relay_task_end(struct store *st, const char *task_id,
                         enum task_status status, int exit_code,
                         const char *reason, const char *url,
                         const char *body)
{
    int rc;

    if (store_begin(st) < 0)
        return -1;
    rc = store_task_finish(st, task_id, status, exit_code, reason, -1);
    if (rc == 0 && url && *url &&
        store_notify_add(st, task_id, url, body) < 0)
        rc = -1;
    if (rc != 0) {
        store_rollback(st);
        return rc;
    }
    if (store_commit(st) < 0) {
        store_rollback(st);
        return -1;
    }
    return 0;
}

void store_relay_cache(int on)
{
    if (on)
        sf_cache_begin();
    else
        sf_cache_end();
}
