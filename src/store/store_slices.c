/* store_slices.c - model jobs, their slices and the G-code cache
 * (store_slices.h). */
#include "store/store_slices.h"
#include "store/store_fleet_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const slice_names[] = { "pending", "slicing", "ready",
                                           "excluded" };
_Static_assert(sizeof(slice_names) / sizeof(slice_names[0]) ==
               SLICE_STATE_COUNT, "a name for every slice state");

const char *slice_state_name(enum slice_state s)
{
    return (unsigned)s < SLICE_STATE_COUNT ? slice_names[s] : "unknown";
}

/* ---- model jobs ------------------------------------------------------------ */

#define MODEL_SELECT                                                         \
    "SELECT id, queue, printer_id, material, model_sha256, model_name, "     \
    "overrides, slice_profiles FROM jobs "

static int read_model(sqlite3_stmt *s, void *obj)
{
    struct store_model_job *m = obj;

    memset(m, 0, sizeof(*m));
    m->id = sqlite3_column_int64(s, 0);
    sf_col(s, 1, m->queue, sizeof(m->queue));
    m->printer_id = sqlite3_column_int64(s, 2);
    sf_col(s, 3, m->material, sizeof(m->material));
    sf_col(s, 4, m->model_sha256, sizeof(m->model_sha256));
    sf_col(s, 5, m->model_name, sizeof(m->model_name));
    sf_col(s, 6, m->overrides, sizeof(m->overrides));
    sf_col(s, 7, m->slice_profiles, sizeof(m->slice_profiles));
    return 0;
}

int store_model_jobs_unplanned(struct store *st, int limit,
                               struct store_model_job **out, size_t *n)
{
    return sf_load(st, sf_bind(st, MODEL_SELECT "WHERE model_sha256 != '' "
                               "AND slice_planned = 0 AND state < 2 AND "
                               "(render = 0 OR render_sha256 != '') ORDER BY "
                               "id LIMIT ?1", "i", (long long)limit),
                   read_model, sizeof(**out), (void **)out, n,
                   "model jobs");
}

int store_model_job_get(struct store *st, long long id,
                        struct store_model_job *out)
{
    return sf_one(st, sf_bind(st, MODEL_SELECT "WHERE id = ?1 AND "
                              "model_sha256 != ''", "i", id),
                  read_model, out, "model job");
}

static int read_name(sqlite3_stmt *s, void *obj)
{
    sf_col(s, 0, obj, FLEET_NAME_MAX);
    return 0;
}

int store_model_job_profiles(struct store *st, long long job_id,
                             char (**out)[FLEET_NAME_MAX], size_t *n)
{
    return sf_load(st, sf_bind(st, "SELECT DISTINCT p.profile FROM jobs j "
                               "JOIN printers p ON (j.printer_id = p.id OR "
                               "(j.printer_id = 0 AND p.id IN (SELECT "
                               "q.printer_id FROM printer_queues q WHERE "
                               "q.queue = j.queue))) WHERE j.id = ?1 AND "
                               "p.profile != '' ORDER BY p.profile", "i",
                               job_id),
                   read_name, FLEET_NAME_MAX, (void **)out, n,
                   "model job profiles");
}

/* ---- rows ---------------------------------------------------------------- */

/* The job j (of a row) still wants its slices: not final, not being
 * cancelled.  (A job whose copies are all placed still does: a copy may
 * fail and come back, and the slice fills the cache for the next job.) */
#define JOB_WANTS "(j.state < 2 AND j.cancelling = 0)"

#define SLICE_SELECT                                                         \
    "SELECT s.job_id, s.profile, s.material, s.state, s.cache_key, "        \
    "s.task_id, s.reason, s.updated FROM job_slices s "

static int read_slice(sqlite3_stmt *s, void *obj)
{
    struct store_slice *r = obj;

    memset(r, 0, sizeof(*r));
    r->job_id = sqlite3_column_int64(s, 0);
    sf_col(s, 1, r->profile, sizeof(r->profile));
    sf_col(s, 2, r->material, sizeof(r->material));
    r->state = (enum slice_state)sqlite3_column_int(s, 3);
    sf_col(s, 4, r->key, sizeof(r->key));
    sf_col(s, 5, r->task_id, sizeof(r->task_id));
    sf_col(s, 6, r->reason, sizeof(r->reason));
    r->updated = sqlite3_column_double(s, 7);
    return 0;
}

int store_slices_in_state(struct store *st, enum slice_state state,
                          int limit, struct store_slice **out, size_t *n)
{
    /* A pending row starts only while its job wants it. */
    return sf_load(st, sf_bind(st, SLICE_SELECT "JOIN jobs j ON j.id = "
                               "s.job_id WHERE s.state = ?1 AND (s.state != 0 OR "
                               JOB_WANTS ") "
                               "ORDER BY s.job_id, s.profile LIMIT ?2", "ii",
                               (long long)state, (long long)limit),
                   read_slice, sizeof(**out), (void **)out, n,
                   "slices in state");
}

int store_job_slices(struct store *st, long long job_id,
                     struct store_slice **out, size_t *n)
{
    return sf_load(st, sf_bind(st, SLICE_SELECT "WHERE s.job_id = ?1 ORDER "
                               "BY s.profile", "i", job_id),
                   read_slice, sizeof(**out), (void **)out, n, "job slices");
}

int store_slice_busy(struct store *st, long long *count)
{
    return sf_ll(st, count, "SELECT count(*) FROM job_slices WHERE state = "
                 "1", "");
}

int store_slice_twin_busy(struct store *st, const char *key, int *busy)
{
    long long n = 0;
    int rc = sf_ll(st, &n, "SELECT count(*) FROM job_slices WHERE state = 1 "
                   "AND cache_key = ?1", "t", key);

    *busy = n > 0;
    return rc;
}

int store_slices_unneeded(struct store *st, int limit,
                          struct store_slice **out, size_t *n)
{
    /* Slicing rows that no pending or slicing row of the same key (its
     * own included) of a job that still wants it needs. */
    return sf_load(st, sf_bind(st, SLICE_SELECT "WHERE s.state = 1 AND NOT "
                               "EXISTS (SELECT 1 FROM job_slices o JOIN jobs "
                               "j ON j.id = o.job_id WHERE o.state IN (0, 1) "
                               "AND o.cache_key = s.cache_key AND " JOB_WANTS
                               ") ORDER BY s.job_id, s.profile LIMIT ?1", "i",
                               (long long)limit),
                   read_slice, sizeof(**out), (void **)out, n,
                   "unneeded slices");
}

int store_slice_cache_get(struct store *st, const char *key, char *sha256,
                          long long *size)
{
    sqlite3_stmt *s = sf_bind(st, "SELECT sha256, size FROM slice_cache "
                              "WHERE key = ?1", "t", key);
    int rc;

    if (!s)
        return -1;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        sf_col(s, 0, sha256, FLEET_SHA256_HEX);
        if (size)
            *size = sqlite3_column_int64(s, 1);
    }
    sf_done(s);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? STORE_NOTFOUND : sf_fail(st, "slice cache");
}

/* ---- changes ------------------------------------------------------------- */

/* The job takes the blob as its file for profile (a blob reference). */
static int add_file_tx(struct store *st, long long job_id,
                       const char *profile, const char *sha256,
                       const char *filename)
{
    int rc = sf_exec(st, "INSERT INTO job_files (job_id, profile, sha256, "
                     "filename, size) SELECT ?1, ?2, ?3, ?4, size FROM blobs "
                     "WHERE sha256 = ?3 ON CONFLICT DO NOTHING", "ittt",
                     job_id, profile, sha256, filename);

    if (rc <= 0)
        return rc < 0 ? -1 : 0;
    return sf_exec(st, "UPDATE blobs SET refcount = refcount + 1, "
                   "zero_since = 0 WHERE sha256 = ?1", "t", sha256) < 0
               ? -1 : 0;
}

/* Fails the job's queued copies with reason when every row is excluded. */
static int settle_tx(struct store *st, long long job_id, const char *reason,
                     double now, int *failed)
{
    long long open = 0;

    *failed = 0;
    if (sf_ll(st, &open, "SELECT count(*) FROM job_slices WHERE job_id = ?1 "
              "AND state != 3", "i", job_id) < 0)
        return -1;
    if (open > 0)
        return 0;
    if (sf_exec(st, "UPDATE job_copies SET state = 3, reason = ?2 WHERE "
                "job_id = ?1 AND state = 0", "it", job_id, reason) < 0)
        return -1;
    *failed = 1;
    return sf_job_settle(st, job_id, now, reason, NULL, NULL) < 0 ? -1 : 0;
}

static int exclude_event(struct store *st, long long job_id,
                         const char *profile, const char *reason, double now)
{
    char msg[512];

    snprintf(msg, sizeof(msg), "profile %s excluded: %s", profile, reason);
    return sf_event(st, now, "slice_excluded", 0, job_id, 0, msg);
}

static int plan_tx(struct store *st, long long job_id,
                   const struct store_slice *rows, size_t n,
                   const char *fail_reason, double now, int *failed)
{
    for (size_t i = 0; i < n; i++) {
        const struct store_slice *r = &rows[i];

        if (sf_exec(st, "INSERT INTO job_slices (job_id, profile, material, "
                    "state, cache_key, reason, updated) VALUES (?1, ?2, ?3, "
                    "?4, ?5, ?6, ?7)", "ittittd", job_id, r->profile,
                    r->material, (long long)r->state, r->key,
                    r->reason[0] ? r->reason : NULL, now) < 0)
            return -1;
        if (r->state == SLICE_EXCLUDED &&
            exclude_event(st, job_id, r->profile, r->reason, now) < 0)
            return -1;
    }
    if (sf_exec(st, "UPDATE jobs SET slice_planned = 1 WHERE id = ?1", "i",
                job_id) < 0)
        return -1;
    return settle_tx(st, job_id, fail_reason, now, failed);
}

int store_slice_plan(struct store *st, long long job_id,
                     const struct store_slice *rows, size_t n,
                     const char *fail_reason, double now, int *failed)
{
    SF_TX(st, plan_tx(st, job_id, rows, n, fail_reason, now, failed));
}

static int start_tx(struct store *st, long long job_id, const char *profile,
                    const struct task *t, double now)
{
    int rc = store_task_insert(st, t);

    if (rc != 0)
        return rc;
    rc = sf_exec(st, "UPDATE job_slices SET state = 1, task_id = ?3, "
                 "updated = ?4 WHERE job_id = ?1 AND profile = ?2 AND state "
                 "= 0", "ittd", job_id, profile, t->id, now);
    if (rc <= 0)
        return rc < 0 ? -1 : STORE_NOTFOUND;
    return sf_event(st, now, "slice_started", 0, job_id, 0, profile);
}

int store_slice_start(struct store *st, long long job_id,
                      const char *profile, const struct task *t, double now)
{
    SF_TX(st, start_tx(st, job_id, profile, t, now));
}

static int ready_tx(struct store *st, const char *key, const char *sha256,
                    const char *filename, double now, int *jobs)
{
    struct store_slice *rows = NULL;
    size_t n = 0;
    int rc = sf_exec(st, "UPDATE slice_cache SET used = ?2 WHERE key = ?1",
                     "td", key, now);

    /* A hit is a use (eviction goes by the last); a new entry holds one
     * blob reference. */
    if (rc == 0)
        rc = sf_exec(st, "INSERT INTO slice_cache (key, sha256, size, "
                     "created, used) SELECT ?1, sha256, size, ?3, ?3 FROM "
                     "blobs WHERE sha256 = ?2 ON CONFLICT DO NOTHING", "ttd",
                     key, sha256, now);
    else if (rc > 0)
        rc = 0;
    if (rc < 0)
        return -1;
    if (rc > 0 && sf_exec(st, "UPDATE blobs SET refcount = refcount + 1, "
                          "zero_since = 0 WHERE sha256 = ?1", "t",
                          sha256) < 0)
        return -1;
    if (sf_load(st, sf_bind(st, SLICE_SELECT "WHERE s.cache_key = ?1 AND "
                            "s.state < 2", "t", key),
                read_slice, sizeof(*rows), (void **)&rows, &n,
                "ready slices") < 0)
        return -1;
    rc = 0;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        char msg[256];

        snprintf(msg, sizeof(msg), "G-code for profile %s is ready",
                 rows[i].profile);
        if (add_file_tx(st, rows[i].job_id, rows[i].profile, sha256,
                        filename) < 0 ||
            sf_exec(st, "UPDATE job_slices SET state = 2, updated = ?3 "
                    "WHERE job_id = ?1 AND profile = ?2", "itd",
                    rows[i].job_id, rows[i].profile, now) < 0 ||
            sf_event(st, now, "slice_ready", 0, rows[i].job_id, 0, msg) < 0)
            rc = -1;
    }
    if (jobs)
        *jobs = (int)n;
    free(rows);
    return rc;
}

int store_slice_ready(struct store *st, const char *key, const char *sha256,
                      const char *filename, double now, int *jobs)
{
    SF_TX(st, ready_tx(st, key, sha256, filename, now, jobs));
}

static int exclude_tx(struct store *st, long long job_id,
                      const char *profile, const char *reason,
                      const char *fail_reason, double now, int *failed)
{
    int rc = sf_exec(st, "UPDATE job_slices SET state = 3, reason = ?3, "
                     "updated = ?4 WHERE job_id = ?1 AND profile = ?2 AND "
                     "state < 2", "ittd", job_id, profile, reason, now);

    *failed = 0;
    if (rc <= 0)
        return rc < 0 ? -1 : 0;
    if (exclude_event(st, job_id, profile, reason, now) < 0)
        return -1;
    return settle_tx(st, job_id, fail_reason, now, failed);
}

int store_slice_exclude(struct store *st, long long job_id,
                        const char *profile, const char *reason,
                        const char *fail_reason, double now, int *failed)
{
    SF_TX(st, exclude_tx(st, job_id, profile, reason, fail_reason, now,
                         failed));
}

static int unstart_tx(struct store *st, const struct store_slice *row,
                      const char *why, double now)
{
    int rc = sf_exec(st, "UPDATE job_slices SET state = 0, task_id = NULL, "
                     "updated = ?4 WHERE job_id = ?1 AND profile = ?2 AND "
                     "state = 1 AND task_id = ?3", "ittd", row->job_id,
                     row->profile, row->task_id, now);

    if (rc <= 0)
        return rc < 0 ? -1 : STORE_NOTFOUND;
    return sf_event(st, now, "slice_cancelled", 0, row->job_id, 0, why);
}

int store_slice_unstart(struct store *st, const struct store_slice *row,
                        const char *why, double now)
{
    SF_TX(st, unstart_tx(st, row, why, now));
}

/* ---- eviction ------------------------------------------------------------ */

int store_slice_cache_bytes(struct store *st, long long *bytes,
                            long long *entries)
{
    sqlite3_stmt *s = sf_bind(st, "SELECT coalesce(sum(size), 0), count(*) "
                              "FROM slice_cache", "");
    int rc;

    if (!s)
        return -1;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *bytes = sqlite3_column_int64(s, 0);
        if (entries)
            *entries = sqlite3_column_int64(s, 1);
    }
    sf_done(s);
    return rc == SQLITE_ROW ? 0 : sf_fail(st, "slice cache size");
}

struct victim {
    char key[FLEET_SHA256_HEX];
    char sha256[FLEET_SHA256_HEX];
    long long size;
};

static int read_victim(sqlite3_stmt *s, void *obj)
{
    struct victim *v = obj;

    sf_col(s, 0, v->key, sizeof(v->key));
    sf_col(s, 1, v->sha256, sizeof(v->sha256));
    v->size = sqlite3_column_int64(s, 2);
    return 0;
}

/* Entries no row of a job that is not final names (pending, slicing or
 * ready: a queued or printing job may still take it), least recently
 * used first: those used before used_before, then those beyond max_bytes
 * (< 0: no limit) counting the needed ones and the more recent first. */
#define EVICT_SELECT                                                         \
    "WITH c AS (SELECT key, sha256, size, used, EXISTS (SELECT 1 FROM "      \
    "job_slices s JOIN jobs j ON j.id = s.job_id WHERE s.state IN (0, 1, "   \
    "2) AND s.cache_key = slice_cache.key AND j.state < 2) AS needed FROM "  \
    "slice_cache), r AS (SELECT key, sha256, size, used, (SELECT "           \
    "coalesce(sum(size), 0) FROM c WHERE needed) + sum(size) OVER (ORDER "   \
    "BY used DESC, key DESC) AS held FROM c WHERE NOT needed) SELECT key, "  \
    "sha256, size FROM r WHERE used < ?1 OR (?2 >= 0 AND held > ?2) ORDER "  \
    "BY used, key LIMIT ?3"

/* Drops v's entry and its blob reference.  A blob left with none stays
 * (zero_since = now) for store_blob_purge after a grace period: an upload
 * of the same content may have found its file and be about to reference
 * it (fleet/blob.h), which a file removed now would lose. */
static int evict_one(struct store *st, const struct victim *v, double now,
                     struct store_evicted *gone)
{
    if (sf_exec(st, "DELETE FROM slice_cache WHERE key = ?1", "t",
                v->key) < 0 ||
        sf_exec(st, "UPDATE blobs SET refcount = refcount - 1, zero_since = "
                "CASE WHEN refcount <= 1 THEN ?2 ELSE zero_since END, "
                "evicted = CASE WHEN refcount <= 1 THEN ?2 ELSE evicted END "
                "WHERE sha256 = ?1", "td", v->sha256, now) < 0)
        return -1;
    gone->entries++;
    gone->bytes += v->size;
    return 0;
}

static int evict_tx(struct store *st, double used_before, long long max_bytes,
                    double now, struct store_evicted *gone)
{
    struct victim *v = NULL;
    size_t n = 0;
    int rc = 0;

    if (sf_load(st, sf_bind(st, EVICT_SELECT, "dii", used_before, max_bytes,
                            (long long)STORE_EVICT_BATCH),
                read_victim, sizeof(*v), (void **)&v, &n,
                "slice cache victims") < 0)
        return -1;
    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = evict_one(st, &v[i], now, gone);
    free(v);
    return rc;
}

int store_slice_cache_evict(struct store *st, double used_before,
                            long long max_bytes, double now,
                            struct store_evicted *gone)
{
    memset(gone, 0, sizeof(*gone));
    SF_TX(st, evict_tx(st, used_before, max_bytes, now, gone));
}
