/* store_fleet_policy.c - an attempt's life after dispatch and the failure
 * policy when it ends (store_fleet.h: store_attempt_set_state, _renew,
 * _end). */
#include "store/store_fleet_int.h"

#include <stdio.h>
#include <string.h>

/* The live attempt's state, printer and job; STORE_CONFLICT if final. */
static int attempt_live(struct store *st, long long id,
                        struct fleet_attempt *a)
{
    int rc = store_attempt_get(st, id, a);

    if (rc)
        return rc;
    return attempt_state_live(a->state) ? 0 : STORE_CONFLICT;
}

static int set_state_tx(struct store *st, long long id, enum attempt_state to,
                        const struct fleet_policy *pol, double now)
{
    struct fleet_attempt a;
    enum attempt_state from;
    int rc = attempt_live(st, id, &a);

    if (rc)
        return rc;
    from = a.state;
    if (to == from)
        goto renew;
    switch (to) {
    case ATTEMPT_UPLOADING:
        if (from != ATTEMPT_DISPATCHING)
            return STORE_CONFLICT;
        rc = sf_exec(st, "UPDATE attempts SET state = 1, upload_at = ?2 "
                     "WHERE id = ?1", "id", id, now);
        break;
    case ATTEMPT_PRINTING:
        if (from == ATTEMPT_PAUSED) {
            rc = sf_exec(st, "UPDATE attempts SET state = 2 WHERE id = ?1",
                         "i", id);
            break;
        }
        /* A print=true upload may start printing before we saw
         * "uploading": the upload began when printing did at the latest. */
        rc = sf_exec(st, "UPDATE attempts SET state = 2, started = ?2, "
                     "upload_at = CASE WHEN upload_at = 0 THEN ?2 ELSE "
                     "upload_at END WHERE id = ?1", "id", id, now);
        if (rc >= 0)
            rc = sf_exec(st, "UPDATE printers SET last_material = (SELECT "
                         "CASE WHEN j.material != '' THEN j.material ELSE "
                         "printers.material END FROM jobs j WHERE j.id = ?2), "
                         "last_colour = (SELECT CASE WHEN j.colour != '' THEN "
                         "j.colour ELSE printers.colour END FROM jobs j WHERE "
                         "j.id = ?2) WHERE id = ?1", "ii", a.printer_id,
                         a.job_id);
        if (rc >= 0)
            rc = sf_event(st, now, "print_start", a.printer_id, a.job_id, id,
                          a.filename);
        break;
    case ATTEMPT_PAUSED:
        if (from != ATTEMPT_PRINTING)
            return STORE_CONFLICT;
        rc = sf_exec(st, "UPDATE attempts SET state = 3 WHERE id = ?1", "i",
                     id);
        break;
    default:
        return STORE_CONFLICT;   /* ending goes through store_attempt_end */
    }
    if (rc < 0 || sf_printer_recompute(st, a.printer_id, now, NULL) < 0)
        return -1;
renew:
    return sf_exec(st, "UPDATE attempts SET lease_until = ?2 WHERE id = ?1",
                   "id", id, now + pol->lease) < 0 ? -1 : 0;
}

int store_attempt_set_state(struct store *st, long long id,
                            enum attempt_state state,
                            const struct fleet_policy *pol, double now)
{
    SF_TX(st, set_state_tx(st, id, state, pol, now));
}

int store_attempt_renew(struct store *st, long long id,
                        const struct fleet_policy *pol, double now)
{
    long long one;
    int rc = sf_exec(st, "UPDATE attempts SET lease_until = ?2 WHERE id = ?1 "
                     "AND state < 4", "id", id, now + pol->lease);

    if (rc < 0)
        return -1;
    if (rc > 0)
        return 0;
    rc = sf_ll(st, &one, "SELECT 1 FROM attempts WHERE id = ?1", "i", id);
    return rc ? rc : STORE_CONFLICT;
}

/* ---- ending ---------------------------------------------------------------- */

/* A print failed (or was stopped at the printer): K and M for the job,
 * the streak for the printer.  Sets the copy's next state. */
static int blame_job(struct store *st, const struct fleet_attempt *a,
                     const struct fleet_policy *pol,
                     struct fleet_attempt_outcome *o, char *why, size_t len)
{
    long long here, printers;

    if (sf_ll(st, &here, "SELECT count(*) FROM attempts WHERE job_id = ?1 "
              "AND printer_id = ?2 AND state = 5 AND forgiven = 0", "ii",
              a->job_id, a->printer_id) < 0 ||
        sf_ll(st, &printers, "SELECT count(DISTINCT printer_id) FROM "
              "attempts WHERE job_id = ?1 AND state = 5", "i", a->job_id) < 0)
        return -1;
    o->printer_excluded = here >= pol->fail_per_printer;
    if (printers < pol->fail_printers) {
        o->copy_state = COPY_QUEUED;
        return 0;
    }
    /* Failed on M printers: the print itself is the likely culprit. */
    o->copy_state = COPY_FAILED;
    snprintf(why, len, "failed on %lld printers (fleet_fail_printers = %d)",
             printers, pol->fail_printers);
    return sf_exec(st, "UPDATE job_copies SET state = 3, reason = ?2 WHERE "
                   "job_id = ?1 AND state = 0", "it", a->job_id, why) < 0
               ? -1 : 0;
}

/* The printer's side of an ended attempt. */
static int printer_after(struct store *st, const struct fleet_attempt *a,
                         enum attempt_state result,
                         const struct fleet_policy *pol, double now,
                         struct fleet_attempt_outcome *o)
{
    int started = a->started > 0 || a->state >= ATTEMPT_PRINTING;
    /* Only the printer's own failures make a streak: a lost attempt
     * (unreachable, refused while busy, the dispatcher's own reasons) and
     * an operator's cancel are not its fault. */
    int failure = result == ATTEMPT_FAILED;
    long long streak = 0;

    if (sf_exec(st, "UPDATE printers SET attempt_id = 0, pending_cmd = 0, "
                "needs_clearing = CASE WHEN ?2 = 0 THEN needs_clearing WHEN "
                "?3 = 7 THEN 1 WHEN auto_eject THEN 0 ELSE 1 END, "
                "consecutive_failures = CASE WHEN ?3 = 4 THEN 0 WHEN ?4 THEN "
                "consecutive_failures + 1 ELSE consecutive_failures END, "
                "prints_ok = prints_ok + (?3 = 4), prints_failed = "
                "prints_failed + (?3 = 5), print_seconds = print_seconds + "
                "CASE WHEN ?3 = 4 AND ?5 > 0 THEN ?6 - ?5 ELSE 0 END WHERE "
                "id = ?1 AND attempt_id = ?7", "iiiiddi", a->printer_id,
                (long long)started, (long long)result, (long long)failure,
                a->started, now, a->id) < 0)
        return -1;
    if (failure && pol->quarantine_after > 0) {
        int rc = sf_ll(st, &streak, "SELECT consecutive_failures FROM "
                       "printers WHERE id = ?1 AND quarantined = 0", "i",
                       a->printer_id);
        if (rc < 0)
            return -1;
        if (rc == 0 && streak >= pol->quarantine_after) {
            char why[128];
            snprintf(why, sizeof(why), "%lld failures in a row "
                     "(fleet_quarantine_after = %d)", streak,
                     pol->quarantine_after);
            if (sf_exec(st, "UPDATE printers SET quarantined = 1, hold_reason "
                        "= ?2 WHERE id = ?1", "it", a->printer_id, why) < 0 ||
                sf_event(st, now, "quarantine", a->printer_id, a->job_id,
                         a->id, why) < 0)
                return -1;
            o->printer_quarantined = 1;
        }
    }
    /* The printer may be gone (removed): then there is nothing to derive. */
    return sf_printer_recompute(st, a->printer_id, now, &o->printer_state) < 0
               ? -1 : 0;
}

static int end_tx(struct store *st, long long id, enum attempt_state result,
                  const char *reason, const struct fleet_policy *pol,
                  double now, struct fleet_attempt_outcome *o)
{
    struct fleet_attempt a;
    long long cancelling;
    char why[FLEET_REASON_MAX], msg[FLEET_REASON_MAX + 64];
    int rc = attempt_live(st, id, &a);

    if (rc)
        return rc;
    if ((rc = sf_ll(st, &cancelling, "SELECT cancelling FROM jobs WHERE id = "
                    "?1", "i", a.job_id)) != 0)
        return rc < 0 ? -1 : STORE_CONFLICT;
    snprintf(why, sizeof(why), "%s", reason ? reason : "");
    /* Stopped at the printer (its screen, or POST /printers/ID/cancel)
     * while the job still wants it: an operator's decision about this
     * print, not a failure of the printer or of the job.  The copy goes
     * back to the queue; cancelling the job is how a copy is dropped. */
    if (result == ATTEMPT_CANCELLED && !cancelling)
        snprintf(why, sizeof(why), "cancelled at the printer%s%.200s",
                 reason && strcmp(reason, "cancelled") ? ": " : "",
                 reason && strcmp(reason, "cancelled") ? reason : "");
    if (sf_exec(st, "UPDATE attempts SET state = ?2, ended = ?3, reason = ?4 "
                "WHERE id = ?1", "iidt", id, (long long)result, now,
                why[0] ? why : NULL) < 0)
        return -1;
    o->copy_state = COPY_QUEUED;
    switch (result) {
    case ATTEMPT_COMPLETE:
        o->copy_state = COPY_COMPLETE;
        /* Here, once: attempt_live() above refuses an attempt ended. */
        if (sf_spool_debit(st, &a, now) < 0)
            return -1;
        break;
    case ATTEMPT_FAILED: {
        char jwhy[128] = "";
        if (blame_job(st, &a, pol, o, jwhy, sizeof(jwhy)) < 0)
            return -1;
        if (jwhy[0])
            snprintf(why, sizeof(why), "%s", jwhy);
        break;
    }
    case ATTEMPT_LOST:
        break;
    default:
        if (cancelling)
            o->copy_state = COPY_CANCELLED;
    }
    if (cancelling && o->copy_state == COPY_QUEUED)
        o->copy_state = COPY_CANCELLED;
    if (sf_exec(st, "UPDATE job_copies SET state = ?3, printer_id = CASE "
                "WHEN ?3 = 2 THEN ?4 ELSE printer_id END, reason = ?5 WHERE "
                "job_id = ?1 AND idx = ?2", "iiiit", a.job_id,
                (long long)a.copy, (long long)o->copy_state, a.printer_id,
                why[0] ? why : NULL) < 0)
        return -1;
    if (printer_after(st, &a, result, pol, now, o) < 0)
        return -1;
    snprintf(msg, sizeof(msg), "%s%s%s", attempt_state_name(result),
             why[0] ? ": " : "", why);
    if (sf_event(st, now, "attempt_end", a.printer_id, a.job_id, id, msg) < 0)
        return -1;
    return sf_job_settle(st, a.job_id, now, why[0] ? why : NULL,
                         &o->job_ended, &o->job_state) < 0 ? -1 : 0;
}

int store_attempt_end(struct store *st, long long id,
                      enum attempt_state result, const char *reason,
                      const struct fleet_policy *pol, double now,
                      struct fleet_attempt_outcome *out)
{
    struct fleet_attempt_outcome o;

    memset(&o, 0, sizeof(o));
    if (attempt_state_live(result) || result >= ATTEMPT_STATE_COUNT)
        return -1;
    if (!out)
        out = &o;
    memset(out, 0, sizeof(*out));
    SF_TX(st, end_tx(st, id, result, reason, pol, now, out));
}
