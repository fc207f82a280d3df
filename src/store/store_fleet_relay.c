/*
 * store_fleet_relay.c - see store_fleet_relay.h.  Uses the fleet store's
 * internal helpers (store_fleet_int.h) so the effective printer state is
 * derived by the same code as store_printer_observe().
 */
#include "store/store_fleet_relay.h"

#include "store/store_fleet_int.h"

static int relay_observe(struct store *st, struct store_relay_obs *o)
{
    int rc;

    o->found = 0;
    o->state = o->observed;
    rc = sf_exec(st, "UPDATE printers SET observed = ?2, klippy_state = "
                 "COALESCE(?3, klippy_state), last_seen = CASE WHEN ?2 "
                 "!= 0 THEN ?4 ELSE last_seen END WHERE id = ?1", "iitd",
                 o->printer_id, (long long)o->observed, o->klippy_state,
                 o->now);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return 0;               /* removed meanwhile: nothing to do */
    o->found = 1;
    return sf_printer_recompute(st, o->printer_id, o->now, &o->state) < 0 ?
           -1 : 0;
}

int store_relay_flush(struct store *st, struct store_relay_obs *obs,
                      size_t nobs, const struct store_relay_renew *rn,
                      size_t nrn, const struct fleet_policy *pol)
{
    if (nobs == 0 && nrn == 0)
        return 0;
    if (store_begin(st) < 0)
        return -1;
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
    if (store_commit(st) < 0)
        goto fail;
    return 0;
fail:
    store_rollback(st);
    return -1;
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
