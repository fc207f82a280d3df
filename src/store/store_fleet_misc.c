/* store_fleet_misc.c - events, metrics and purging
 * (store_fleet.h). */
#include "store/store_fleet_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- events ----------------------------------------------------------------- */

int sf_event(struct store *st, double now, const char *kind,
             long long printer_id, long long job_id, long long attempt_id,
             const char *msg)
{
    return sf_exec(st, "INSERT INTO events (time, kind, printer_id, job_id, "
                   "attempt_id, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                   "dtiiit", now, kind, printer_id, job_id, attempt_id,
                   msg ? msg : "") < 0 ? -1 : 0;
}

int store_event_add(struct store *st, double now, const char *kind,
                    long long printer_id, long long job_id,
                    long long attempt_id, const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return sf_event(st, now, kind, printer_id, job_id, attempt_id, msg);
}

int store_event_list(struct store *st, long long since_id, int limit,
                     store_event_cb cb, void *arg)
{
    sqlite3_stmt *s = sf_bind(st, "SELECT id, time, kind, printer_id, "
                              "job_id, attempt_id, message FROM events WHERE "
                              "id > ?1 ORDER BY id LIMIT ?2", "ii", since_id,
                              (long long)(limit > 0 ? limit : -1));
    struct fleet_event e;
    int rc;

    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&e, 0, sizeof(e));
        e.id = sqlite3_column_int64(s, 0);
        e.time = sqlite3_column_double(s, 1);
        sf_col(s, 2, e.kind, sizeof(e.kind));
        e.printer_id = sqlite3_column_int64(s, 3);
        e.job_id = sqlite3_column_int64(s, 4);
        e.attempt_id = sqlite3_column_int64(s, 5);
        sf_col(s, 6, e.message, sizeof(e.message));
        if (cb(arg, &e))
            break;
    }
    sf_done(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sf_fail(st, "events");
}

int store_event_purge(struct store *st, double before, int limit)
{
    return sf_exec(st, "DELETE FROM events WHERE id IN (SELECT id FROM "
                   "events WHERE time < ?1 ORDER BY time LIMIT ?2)", "di",
                   before, (long long)limit);
}

/* ---- metrics ------------------------------------------------------------------ */

static int count_walk(struct store *st, sqlite3_stmt *s, int name_a_state,
                      store_count2_cb cb, void *arg)
{
    int rc;

    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const unsigned char *a = sqlite3_column_text(s, 0);
        const unsigned char *b = sqlite3_column_text(s, 1);
        const char *an = a ? (const char *)a : "";

        if (name_a_state == 1)
            an = printer_state_name(
                (enum printer_state)sqlite3_column_int(s, 0));
        else if (name_a_state == 2)
            an = attempt_state_name(
                (enum attempt_state)sqlite3_column_int(s, 0));
        if (cb(arg, an, b ? (const char *)b : "",
               sqlite3_column_int64(s, 2)))
            break;
    }
    sf_done(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sf_fail(st, "counts");
}

int store_fleet_count_printers(struct store *st, store_count2_cb cb, void *arg)
{
    return count_walk(st, sf_bind(st, "SELECT p.state, COALESCE(f.name, ''), "
                                  "count(*) FROM printers p LEFT JOIN "
                                  "frontends f ON f.id = p.frontend_id GROUP "
                                  "BY p.state, f.name ORDER BY 2, 1", NULL),
                      1, cb, arg);
}

int store_fleet_count_queues(struct store *st, store_count2_cb cb, void *arg)
{
    return count_walk(st, sf_bind(st, "SELECT q.name, '', (SELECT count(*) "
                                  "FROM jobs j JOIN job_copies c ON c.job_id "
                                  "= j.id WHERE j.queue = q.name AND j.state "
                                  "< 2 AND c.state = 0) FROM queues q ORDER "
                                  "BY q.name", NULL),
                      0, cb, arg);
}

int store_fleet_count_attempts(struct store *st, store_count2_cb cb, void *arg)
{
    return count_walk(st, sf_bind(st, "SELECT state, '', count(*) FROM "
                                  "attempts GROUP BY state ORDER BY state",
                                  NULL),
                      2, cb, arg);
}

int store_fleet_latency_hist(struct store *st, const double *bounds,
                             size_t nbounds, long long *counts,
                             long long *total, double *sum)
{
    sqlite3_stmt *s = sf_bind(st, "SELECT upload_at - ready_at FROM attempts "
                              "WHERE upload_at > 0 AND ready_at > 0", NULL);
    int rc;

    memset(counts, 0, nbounds * sizeof(*counts));
    *total = 0;
    *sum = 0;
    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        double v = sqlite3_column_double(s, 0);
        if (v < 0)
            v = 0;
        for (size_t i = 0; i < nbounds; i++) {
            if (v <= bounds[i])
                counts[i]++;
        }
        (*total)++;
        *sum += v;
    }
    sf_done(s);
    return rc == SQLITE_DONE ? 0 : sf_fail(st, "latency");
}

/* ---- purging ------------------------------------------------------------------- */

struct sha_list {
    char (*v)[FLEET_SHA256_HEX];
    size_t n, cap;
};

static int unref_tx(struct store *st, double grace_before, int evicted,
                    struct sha_list *gone);

static int purge_tx(struct store *st, double before, double grace_before,
                    struct sha_list *gone)
{

    /* Drop the references of the jobs about to go, then the jobs (copies,
     * files and attempts go with them: ON DELETE CASCADE).  A blob that
     * loses its last reference now is kept for the grace period: an upload
     * of the same content may be about to reference it again. */
    if (sf_exec(st, "UPDATE blobs SET refcount = refcount - (SELECT count(*) "
                "FROM job_files f JOIN jobs j ON j.id = f.job_id WHERE "
                "f.sha256 = blobs.sha256 AND j.state >= 2 AND j.ended < ?1) "
                "WHERE sha256 IN (SELECT f.sha256 FROM job_files f JOIN jobs "
                "j ON j.id = f.job_id WHERE j.state >= 2 AND j.ended < ?1)",
                "d", before) < 0 ||
        sf_exec(st, "UPDATE blobs SET refcount = refcount - (SELECT count(*) "
                "FROM jobs j WHERE j.model_sha256 = blobs.sha256 AND j.state "
                ">= 2 AND j.ended < ?1) WHERE sha256 IN (SELECT model_sha256 "
                "FROM jobs WHERE state >= 2 AND ended < ?1)", "d",
                before) < 0 ||
        /* a SCAD job's STL (store_renders.h) */
        sf_exec(st, "UPDATE blobs SET refcount = refcount - (SELECT count(*) "
                "FROM jobs j WHERE j.render_sha256 = blobs.sha256 AND "
                "j.state >= 2 AND j.ended < ?1) WHERE sha256 IN (SELECT "
                "render_sha256 FROM jobs WHERE state >= 2 AND ended < ?1)",
                "d", before) < 0 ||
        sf_exec(st, "UPDATE blobs SET zero_since = ?1 WHERE refcount <= 0 "
                "AND zero_since = 0", "d", rr_now()) < 0 ||
        sf_exec(st, "DELETE FROM jobs WHERE state >= 2 AND ended < ?1", "d",
                before) < 0 ||
        sf_exec(st, "DELETE FROM events WHERE time < ?1", "d", before) < 0)
        return -1;
    return unref_tx(st, grace_before, 0, gone);
}

/* The blobs with no reference since before grace_before (evicted: only
 * those the slice cache let go of, by when it did). */
#define UNREF_WHERE "refcount <= 0 AND CASE WHEN ?2 THEN evicted > 0 AND " \
    "evicted < ?1 ELSE zero_since > 0 AND zero_since < ?1 END"

/* Deletes the blobs UNREF_WHERE picks, their sha256 into gone (the
 * caller removes the files). */
static int unref_tx(struct store *st, double grace_before, int evicted,
                    struct sha_list *gone)
{
    sqlite3_stmt *s;
    int rc;

    s = sf_bind(st, "SELECT sha256 FROM blobs WHERE " UNREF_WHERE, "di",
                grace_before, (long long)evicted);
    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (gone->n >= gone->cap) {
            size_t ncap = gone->cap ? gone->cap * 2 : 64;
            void *m = realloc(gone->v, ncap * sizeof(*gone->v));
            if (!m) {
                rc = SQLITE_NOMEM;
                break;
            }
            gone->v = m;
            gone->cap = ncap;
        }
        sf_col(s, 0, gone->v[gone->n++], FLEET_SHA256_HEX);
    }
    sf_done(s);
    if (rc != SQLITE_DONE)
        return sf_fail(st, "purge");
    return sf_exec(st, "DELETE FROM blobs WHERE " UNREF_WHERE, "di",
                   grace_before, (long long)evicted) < 0 ? -1 : 0;
}

static int purge_run(struct store *st, double before, double grace_before,
                     struct sha_list *gone)
{
    SF_TX(st, purge_tx(st, before, grace_before, gone));
}

/* Files go only once their rows are gone for good: cb on each of gone
 * when rc is 0.  Frees gone; rc, or the number of blobs when 0 and
 * count. */
static int gone_files(int rc, struct sha_list *gone, int count,
                      int (*cb)(void *arg, const char *sha256), void *arg)
{
    for (size_t i = 0; rc == 0 && cb && i < gone->n; i++) {
        if (cb(arg, gone->v[i]))
            break;
    }
    if (rc == 0 && count)
        rc = (int)gone->n;
    free(gone->v);
    return rc;
}

int store_fleet_purge(struct store *st, double before, double grace_before,
                      int (*cb)(void *arg, const char *sha256), void *arg)
{
    struct sha_list gone = { NULL, 0, 0 };

    return gone_files(purge_run(st, before, grace_before, &gone), &gone, 0,
                      cb, arg);
}

static int unref_run(struct store *st, double now, double grace_before,
                     int evicted, struct sha_list *gone)
{
    SF_TX(st, sf_exec(st, "UPDATE blobs SET zero_since = ?1 WHERE refcount "
                      "<= 0 AND zero_since = 0", "d", now) < 0
                  ? -1 : unref_tx(st, grace_before, evicted, gone));
}

int store_blob_purge(struct store *st, double now, double grace_before,
                     int evicted, int (*cb)(void *arg, const char *sha256),
                     void *arg)
{
    struct sha_list gone = { NULL, 0, 0 };

    return gone_files(unref_run(st, now, grace_before, evicted, &gone),
                      &gone, 1, cb, arg);
}

int store_blob_unref_bytes(struct store *st, long long *bytes)
{
    return sf_ll(st, bytes, "SELECT coalesce(sum(size), 0) FROM blobs WHERE "
                 "refcount <= 0", "") < 0 ? -1 : 0;
}
