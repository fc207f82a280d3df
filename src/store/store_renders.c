/* store_renders.c - the render stage of SCAD model jobs
 * (store_renders.h). */
#include "store/store_renders.h"
#include "store/store_fleet_int.h"

#include <stdio.h>
#include <string.h>

#define RENDER_SELECT                                                        \
    "SELECT id, model_sha256, model_name, render_key, render_task, "        \
    "render_sha256, slice_planned, state >= 2, render_defines FROM jobs "

static int read_render(sqlite3_stmt *s, void *obj)
{
    struct store_render *r = obj;

    memset(r, 0, sizeof(*r));
    r->job_id = sqlite3_column_int64(s, 0);
    sf_col(s, 1, r->model_sha256, sizeof(r->model_sha256));
    sf_col(s, 2, r->model_name, sizeof(r->model_name));
    sf_col(s, 3, r->key, sizeof(r->key));
    sf_col(s, 4, r->task_id, sizeof(r->task_id));
    sf_col(s, 5, r->sha256, sizeof(r->sha256));
    r->planned = sqlite3_column_int(s, 6);
    r->job_final = sqlite3_column_int(s, 7);
    sf_col(s, 8, r->defines, sizeof(r->defines));
    return 0;
}

int store_renders_waiting(struct store *st, int limit,
                          struct store_render **out, size_t *n)
{
    return sf_load(st, sf_bind(st, RENDER_SELECT "WHERE model_sha256 != '' "
                               "AND slice_planned = 0 AND render = 1 AND "
                               "render_sha256 = '' AND state < 2 ORDER BY "
                               "id LIMIT ?1", "i", (long long)limit),
                   read_render, sizeof(**out), (void **)out, n,
                   "renders waiting");
}

int store_render_get(struct store *st, long long job_id,
                     struct store_render *out)
{
    return sf_one(st, sf_bind(st, RENDER_SELECT "WHERE id = ?1 AND "
                              "model_sha256 != '' AND render = 1", "i",
                              job_id),
                  read_render, out, "render");
}

/* A job's render task is queued or running (tasks.status 0 or 1). */
#define RENDERING                                                            \
    "j.render_task != '' AND j.render_sha256 = '' AND EXISTS (SELECT 1 "     \
    "FROM tasks t WHERE t.id = j.render_task AND t.status < 2)"

/* Tasks, not jobs: twins share one (store_render_share). */
int store_render_busy(struct store *st, long long *count)
{
    return sf_ll(st, count, "SELECT count(DISTINCT j.render_task) FROM jobs "
                 "j WHERE " RENDERING, "");
}

static int read_id(sqlite3_stmt *s, void *obj)
{
    sf_col(s, 0, obj, RR_ID_LEN);
    return 0;
}

int store_render_twin_task(struct store *st, const char *key,
                           long long job_id, char *task_id)
{
    task_id[0] = '\0';
    /* Not a task already asked to stop (its job was cancelled): it would
     * end cancelled and fail the twin that took it. */
    return sf_one(st, sf_bind(st, "SELECT j.render_task FROM jobs j WHERE "
                              "j.render_key = ?1 AND j.id != ?2 AND "
                              RENDERING " AND NOT EXISTS (SELECT 1 FROM "
                              "tasks t WHERE t.id = j.render_task AND "
                              "t.cancel_requested != 0) LIMIT 1", "ti", key,
                              job_id),
                  read_id, task_id, "render twin");
}

static int share_tx(struct store *st, long long job_id, const char *key,
                    const char *task_id, double now)
{
    char msg[160];
    int rc = sf_exec(st, "UPDATE jobs SET render_key = ?2, render_task = ?3 "
                     "WHERE id = ?1 AND render = 1 AND render_sha256 = '' "
                     "AND render_task = '' AND state < 2 AND EXISTS (SELECT "
                     "1 FROM tasks WHERE id = ?3 AND status < 2 AND "
                     "cancel_requested = 0)", "itt", job_id, key, task_id);

    if (rc <= 0)
        return rc < 0 ? -1 : STORE_NOTFOUND;
    snprintf(msg, sizeof(msg), "waiting for task %s, which renders the same "
             "model for another job", task_id);
    return sf_event(st, now, "render_started", 0, job_id, 0, msg);
}

int store_render_share(struct store *st, long long job_id, const char *key,
                       const char *task_id, double now)
{
    SF_TX(st, share_tx(st, job_id, key, task_id, now));
}

int store_renders_unneeded(struct store *st, int limit,
                           char (**ids)[RR_ID_LEN], size_t *n)
{
    /* A task already asked to stop is not picked again each tick; an
     * open job that has its STL already (from the cache) needs none. */
    return sf_load(st, sf_bind(st, "SELECT DISTINCT j.render_task FROM jobs "
                               "j WHERE "
                               RENDERING " AND j.state >= 2 AND NOT EXISTS "
                               "(SELECT 1 FROM tasks t WHERE t.id = "
                               "j.render_task AND t.cancel_requested != 0) "
                               "AND NOT EXISTS (SELECT 1 FROM jobs k WHERE "
                               "k.render_key = j.render_key AND k.id != j.id "
                               "AND k.state < 2 AND k.render_sha256 = '') "
                               "LIMIT ?1", "i",
                               (long long)limit),
                   read_id, RR_ID_LEN, (void **)ids, n, "renders unneeded");
}

static int start_tx(struct store *st, long long job_id, const char *key,
                    const struct task *t, double now)
{
    char msg[128];
    int rc = sf_exec(st, "UPDATE jobs SET render_key = ?2, render_task = ?3 "
                     "WHERE id = ?1 AND render = 1 AND render_sha256 = '' "
                     "AND state < 2", "itt", job_id, key, t->id);

    if (rc <= 0)
        return rc < 0 ? -1 : STORE_NOTFOUND;
    if ((rc = store_task_insert(st, t)) != 0)
        return rc;
    snprintf(msg, sizeof(msg), "rendering the model as task %s", t->id);
    return sf_event(st, now, "render_started", 0, job_id, 0, msg);
}

int store_render_start(struct store *st, long long job_id, const char *key,
                       const struct task *t, double now)
{
    SF_TX(st, start_tx(st, job_id, key, t, now));
}

/* One more reference to the blob sha256. */
static int ref_tx(struct store *st, const char *sha256)
{
    return sf_exec(st, "UPDATE blobs SET refcount = refcount + 1, "
                   "zero_since = 0 WHERE sha256 = ?1", "t", sha256) < 0
               ? -1 : 0;
}

static int done_tx(struct store *st, long long job_id, const char *key,
                   const char *sha256, double now)
{
    char msg[160];
    int rc = 0;

    /* A new entry, or a hit: either way its last use is now, which the
     * eviction (least recently used first) goes by. */
    if (key[0])
        rc = sf_exec(st, "INSERT INTO slice_cache (key, sha256, size, "
                     "created, used) SELECT ?1, sha256, size, ?3, ?3 FROM "
                     "blobs WHERE sha256 = ?2 ON CONFLICT DO NOTHING", "ttd",
                     key, sha256, now);
    if (rc < 0 || (rc > 0 && ref_tx(st, sha256) < 0))
        return -1;
    if (key[0] && rc == 0 &&
        sf_exec(st, "UPDATE slice_cache SET used = ?2 WHERE key = ?1", "td",
                key, now) < 0)
        return -1;
    /* A job cancelled meanwhile takes nothing (no render_ready). */
    rc = sf_exec(st, "UPDATE jobs SET render_sha256 = ?2, render_key = ?3 "
                 "WHERE id = ?1 AND render = 1 AND render_sha256 = '' AND "
                 "state < 2 AND EXISTS (SELECT 1 FROM blobs WHERE sha256 = "
                 "?2)", "itt",
                 job_id, sha256, key);
    if (rc <= 0)
        return rc < 0 ? -1 : STORE_NOTFOUND;
    snprintf(msg, sizeof(msg), "the model is rendered (STL %.64s)", sha256);
    if (ref_tx(st, sha256) < 0)
        return -1;
    return sf_event(st, now, "render_ready", 0, job_id, 0, msg);
}

int store_render_done(struct store *st, long long job_id, const char *key,
                      const char *sha256, double now)
{
    SF_TX(st, done_tx(st, job_id, key, sha256, now));
}

static int fail_tx(struct store *st, long long job_id, const char *reason,
                   double now)
{
    int rc = sf_exec(st, "UPDATE jobs SET slice_planned = 1 WHERE id = ?1 "
                     "AND render = 1 AND render_sha256 = '' AND state < 2",
                     "i", job_id);

    if (rc <= 0)
        return rc < 0 ? -1 : STORE_NOTFOUND;
    if (sf_exec(st, "UPDATE job_copies SET state = 3, reason = ?2 WHERE "
                "job_id = ?1 AND state = 0", "it", job_id, reason) < 0 ||
        sf_event(st, now, "render_failed", 0, job_id, 0, reason) < 0)
        return -1;
    return sf_job_settle(st, job_id, now, reason, NULL, NULL) < 0 ? -1 : 0;
}

int store_render_fail(struct store *st, long long job_id, const char *reason,
                      double now)
{
    SF_TX(st, fail_tx(st, job_id, reason, now));
}
