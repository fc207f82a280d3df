/* store_fleet_jobs.c - blobs and jobs (store_fleet.h). */
#include "store/store_fleet_int.h"

#include "fleet/gcode_meta.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- blobs ---------------------------------------------------------------- */

int store_blob_put(struct store *st, const char *sha256, long long size,
                   double now)
{
    return sf_exec(st, "INSERT INTO blobs (sha256, size, created, zero_since) "
                   "VALUES (?1, ?2, ?3, ?3) ON CONFLICT(sha256) DO UPDATE SET "
                   "zero_since = CASE WHEN refcount = 0 THEN ?3 ELSE "
                   "zero_since END, evicted = 0", "tid", sha256, size,
                   now) < 0 ? -1 : 0;
}

int store_blob_meta_todo(struct store *st, char (*sha256)[FLEET_SHA256_HEX],
                         int max)
{
    sqlite3_stmt *s = sf_bind(st, "SELECT sha256 FROM blobs WHERE "
                              "meta_read = 0 LIMIT ?1", "i", (long long)max);
    int n = 0, rc;

    if (!s)
        return -1;
    while (n < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
        sf_col(s, 0, sha256[n++], FLEET_SHA256_HEX);
    if (n < max && rc != SQLITE_DONE) {
        sf_done(s);
        return sf_fail(st, "blobs to read");
    }
    sf_done(s);
    return n;
}

int store_blob_meta_set(struct store *st, const char *sha256,
                        const struct gcode_meta *m)
{
    /* -1 is "not said": NULL in the row */
    return sf_exec(st, "UPDATE blobs SET meta_read = 1, est_time = "
                   "nullif(?2, -1), filament_mm = nullif(?3, -1), "
                   "filament_cm3 = nullif(?4, -1), filament_g = nullif(?5, "
                   "-1), generator = ?6 WHERE sha256 = ?1", "tddddt",
                   sha256, m->time_s < 0 ? -1.0 : m->time_s,
                   m->filament_mm < 0 ? -1.0 : m->filament_mm,
                   m->filament_cm3 < 0 ? -1.0 : m->filament_cm3,
                   m->filament_g < 0 ? -1.0 : m->filament_g,
                   m->generator) < 0 ? -1 : 0;
}

int store_blob_get(struct store *st, const char *sha256, long long *size,
                   long long *refcount)
{
    sqlite3_stmt *s = sf_bind(st, "SELECT size, refcount FROM blobs WHERE "
                              "sha256 = ?1", "t", sha256);
    int rc;

    if (!s)
        return -1;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        if (size)
            *size = sqlite3_column_int64(s, 0);
        if (refcount)
            *refcount = sqlite3_column_int64(s, 1);
    }
    sf_done(s);
    if (rc == SQLITE_ROW)
        return 0;
    return rc == SQLITE_DONE ? STORE_NOTFOUND : sf_fail(st, "blob get");
}

/* ---- reading jobs ------------------------------------------------------------ */

#define JOB_SELECT                                                           \
    "SELECT j.id, j.queue, j.printer_id, j.name, j.priority, j.copies, "     \
    "j.material, j.colour, j.state, j.position, j.created, j.started, "      \
    "j.ended, COALESCE(j.task_id, ''), j.owner, j.notifier, j.reason, "      \
    "(SELECT count(*) FROM job_copies c WHERE c.job_id = j.id AND "          \
    "c.state = 0), (SELECT count(*) FROM job_copies c WHERE c.job_id = "     \
    "j.id AND c.state = 1), (SELECT count(*) FROM job_copies c WHERE "       \
    "c.job_id = j.id AND c.state = 2), (SELECT count(*) FROM job_copies c "  \
    "WHERE c.job_id = j.id AND c.state = 3), (SELECT count(*) FROM "         \
    "job_copies c WHERE c.job_id = j.id AND c.state = 4), "                  \
    "j.waiting_reason, j.waiting_since, j.held_reason FROM jobs j "

static int job_from_row(sqlite3_stmt *s, void *obj)
{
    struct fleet_job *j = obj;

    fleet_job_init(j);
    j->id = sqlite3_column_int64(s, 0);
    sf_col(s, 1, j->queue, sizeof(j->queue));
    j->printer_id = sqlite3_column_int64(s, 2);
    sf_col(s, 3, j->name, sizeof(j->name));
    j->priority = sqlite3_column_int(s, 4);
    j->copies = sqlite3_column_int(s, 5);
    sf_col(s, 6, j->material, sizeof(j->material));
    sf_col(s, 7, j->colour, sizeof(j->colour));
    j->state = (enum job_state)sqlite3_column_int(s, 8);
    j->position = sqlite3_column_double(s, 9);
    j->created = sqlite3_column_double(s, 10);
    j->started = sqlite3_column_double(s, 11);
    j->ended = sqlite3_column_double(s, 12);
    sf_col(s, 13, j->task_id, sizeof(j->task_id));
    sf_col(s, 14, j->owner, sizeof(j->owner));
    j->copies_queued = sqlite3_column_int(s, 17);
    j->copies_live = sqlite3_column_int(s, 18);
    j->copies_complete = sqlite3_column_int(s, 19);
    j->copies_failed = sqlite3_column_int(s, 20);
    j->copies_cancelled = sqlite3_column_int(s, 21);
    j->waiting_since = sqlite3_column_double(s, 23);
    if ((sqlite3_column_type(s, 15) != SQLITE_NULL &&
         !(j->notifier = sf_col_dup(s, 15))) ||
        (sqlite3_column_type(s, 16) != SQLITE_NULL &&
         !(j->reason = sf_col_dup(s, 16))) ||
        (sqlite3_column_type(s, 22) != SQLITE_NULL &&
         !(j->waiting_reason = sf_col_dup(s, 22))) ||
        (sqlite3_column_type(s, 24) != SQLITE_NULL &&
         !(j->held_reason = sf_col_dup(s, 24)))) {
        fleet_job_clear(j);
        return -1;
    }
    return 0;
}

static int job_one(struct store *st, sqlite3_stmt *s, struct fleet_job *out)
{
    fleet_job_init(out);
    return sf_one(st, s, job_from_row, out, "job get");
}

int store_job_get(struct store *st, long long id, struct fleet_job *out)
{
    return job_one(st, sf_bind(st, JOB_SELECT "WHERE j.id = ?1", "i", id),
                   out);
}

int store_job_by_task(struct store *st, const char *task_id,
                      struct fleet_job *out)
{
    return job_one(st, sf_bind(st, JOB_SELECT "WHERE j.task_id = ?1", "t",
                               task_id), out);
}

/* Walks the rows of s as jobs. */
static int job_walk(struct store *st, sqlite3_stmt *s, store_job_cb cb,
                    void *arg)
{
    struct fleet_job j;
    int rc = SQLITE_DONE, stop = 0;

    if (!s)
        return -1;
    while (!stop && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (job_from_row(s, &j) < 0) {
            rc = SQLITE_NOMEM;
            break;
        }
        stop = cb(arg, &j);
        fleet_job_clear(&j);
    }
    sf_done(s);
    return stop || rc == SQLITE_DONE ? 0 : sf_fail(st, "job list");
}

int store_job_list(struct store *st, const char *queue, int state, int limit,
                   int offset, store_job_cb cb, void *arg)
{
    return store_job_list_owner(st, queue, NULL, state, limit, offset, cb,
                                arg);
}

int store_job_list_owner(struct store *st, const char *queue,
                         const char *owner, int state, int limit, int offset,
                         store_job_cb cb, void *arg)
{
    return job_walk(st, sf_bind(st, JOB_SELECT
                                "WHERE (?1 IS NULL OR j.queue = ?1) AND (?2 "
                                "< 0 OR j.state = ?2) AND (?5 IS NULL OR "
                                "j.owner = ?5) ORDER BY j.state >= 2, "
                                "CASE WHEN j.state < 2 THEN -j.priority ELSE "
                                "0 END, CASE WHEN j.state < 2 THEN "
                                "j.position ELSE -j.ended END, j.id LIMIT ?3 "
                                "OFFSET ?4", "tiiit", queue, (long long)state,
                                (long long)(limit > 0 ? limit : -1),
                                (long long)(offset > 0 ? offset : 0), owner),
                    cb, arg);
}

int store_job_files(struct store *st, long long id, store_job_file_cb cb,
                    void *arg)
{
    sqlite3_stmt *s = sf_bind(st, "SELECT f.profile, f.sha256, f.filename, "
                              "f.size, b.meta_read, coalesce(b.est_time, -1), "
                              "coalesce(b.filament_mm, -1), "
                              "coalesce(b.filament_g, -1), b.generator FROM "
                              "job_files f LEFT JOIN blobs b ON b.sha256 = "
                              "f.sha256 WHERE f.job_id = ?1 ORDER BY "
                              "f.profile", "i", id);
    struct fleet_job_file f;
    int rc;

    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        memset(&f, 0, sizeof(f));
        sf_col(s, 0, f.profile, sizeof(f.profile));
        sf_col(s, 1, f.sha256, sizeof(f.sha256));
        sf_col(s, 2, f.filename, sizeof(f.filename));
        f.size = sqlite3_column_int64(s, 3);
        f.meta_read = sqlite3_column_int(s, 4);
        f.est_time = sqlite3_column_double(s, 5);
        f.filament_mm = sqlite3_column_double(s, 6);
        f.filament_g = sqlite3_column_double(s, 7);
        sf_col(s, 8, f.generator, sizeof(f.generator));
        if (cb(arg, &f))
            break;
    }
    sf_done(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0
                                                 : sf_fail(st, "job files");
}

/* ---- feasibility ------------------------------------------------------------- */

struct feas {
    int printers, profile_ok, material_ok, colour_ok;
    char seen_profiles[256], seen_materials[256], seen_colours[256];
};

static void seen_add(char *list, size_t len, const char *v)
{
    size_t n = strlen(list);

    if (fleet_list_has(list, v[0] ? v : "(any)") || n + strlen(v) + 8 >= len)
        return;
    snprintf(list + n, len - n, "%s%s", n ? "," : "", v[0] ? v : "(any)");
}

static int has_profile(const struct fleet_job_spec *spec, const char *prof)
{
    for (size_t i = 0; i < spec->nfiles; i++) {
        if (!spec->files[i].profile[0] ||
            (prof[0] && strcmp(spec->files[i].profile, prof) == 0))
            return 1;
    }
    return 0;
}

static int fits(const char *job_v, const char *printer_v)
{
    return !job_v || !job_v[0] || !printer_v[0] || !strcmp(job_v, printer_v);
}

static void feas_one(struct feas *f, const struct fleet_job_spec *spec,
                     const char *prof, const char *mat, const char *col)
{
    f->printers++;
    seen_add(f->seen_profiles, sizeof(f->seen_profiles), prof);
    if (!has_profile(spec, prof))
        return;
    f->profile_ok++;
    seen_add(f->seen_materials, sizeof(f->seen_materials), mat);
    if (!fits(spec->material, mat))
        return;
    f->material_ok++;
    seen_add(f->seen_colours, sizeof(f->seen_colours), col);
    if (fits(spec->colour, col))
        f->colour_ok++;
}

int store_job_feasible(struct store *st, const struct fleet_job_spec *spec,
                       char *field, size_t field_len, char *msg,
                       size_t msg_len)
{
    struct feas f;
    sqlite3_stmt *s;
    int rc;
    const char *where = spec->printer_id ? "printer" : "queue";
    char what[96];

    memset(&f, 0, sizeof(f));
    if (spec->printer_id)
        s = sf_bind(st, "SELECT profile, material, colour FROM printers "
                    "WHERE id = ?1", "i", spec->printer_id);
    else
        s = sf_bind(st, "SELECT p.profile, p.material, p.colour FROM "
                    "printers p JOIN printer_queues q ON q.printer_id = p.id "
                    "WHERE q.queue = ?1", "t", spec->queue ? spec->queue : "");
    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        char prof[FLEET_NAME_MAX], mat[FLEET_NAME_MAX], col[FLEET_NAME_MAX];
        sf_col(s, 0, prof, sizeof(prof));
        sf_col(s, 1, mat, sizeof(mat));
        sf_col(s, 2, col, sizeof(col));
        feas_one(&f, spec, prof, mat, col);
    }
    sf_done(s);
    if (rc != SQLITE_DONE)
        return sf_fail(st, "feasible");
    if (f.colour_ok)
        return 0;
    if (spec->printer_id)
        snprintf(what, sizeof(what), "printer %lld", spec->printer_id);
    else
        snprintf(what, sizeof(what), "no printer of queue %.63s",
                 spec->queue ? spec->queue : "");
    if (!f.printers) {
        snprintf(field, field_len, "%s", where);
        if (msg)
            snprintf(msg, msg_len, spec->printer_id ? "%s does not exist"
                     : "%s: no enrolled printer serves it", what);
    } else if (!f.profile_ok) {
        snprintf(field, field_len, "profile");
        if (msg)
            snprintf(msg, msg_len, "%s%s has a profile the job has a file "
                     "for (printer profiles: %s)", what,
                     spec->printer_id ? " never" : "", f.seen_profiles);
    } else if (!f.material_ok) {
        snprintf(field, field_len, "material");
        if (msg)
            snprintf(msg, msg_len, "%s%s loads material %s (loaded: %s)",
                     what, spec->printer_id ? " never" : "", spec->material,
                     f.seen_materials);
    } else {
        snprintf(field, field_len, "colour");
        if (msg)
            snprintf(msg, msg_len, "%s%s loads colour %s (loaded: %s)", what,
                     spec->printer_id ? " never" : "", spec->colour,
                     f.seen_colours);
    }
    return STORE_CONFLICT;
}

/* ---- creating and changing jobs ------------------------------------------ */

/* A model job's model (a blob reference, like a file's) and slicing
 * choices. */
static int model_tx(struct store *st, const struct fleet_job_spec *spec,
                    long long id)
{
    int rc = sf_exec(st, "UPDATE blobs SET refcount = refcount + 1, "
                     "zero_since = 0 WHERE sha256 = ?1", "t",
                     spec->model->sha256);

    if (rc <= 0)
        return rc < 0 ? -1 : STORE_NOTFOUND;
    return sf_exec(st, "UPDATE jobs SET model_sha256 = ?2, model_name = ?3, "
                   "overrides = ?4, slice_profiles = ?5, render = ?6, "
                   "render_defines = ?7 WHERE id = ?1", "ittttit", id,
                   spec->model->sha256, spec->model->filename,
                   spec->overrides ? spec->overrides : "",
                   spec->slice_profiles ? spec->slice_profiles : "",
                   (long long)(spec->render != 0),
                   spec->defines ? spec->defines : "") < 0
               ? -1 : 0;
}

int store_job_create_tx(struct store *st, const struct fleet_job_spec *spec,
                        double now, long long *id)
{
    const char *queue = spec->queue && *spec->queue ? spec->queue : "";
    long long one;
    int rc;

    if (spec->copies < 1 || (spec->nfiles < 1 && !spec->model) ||
        spec->nfiles > FLEET_PROFILES_MAX || (!*queue && !spec->printer_id))
        return -1;
    if (*queue && (rc = sf_ll(st, &one, "SELECT 1 FROM queues WHERE name = "
                              "?1", "t", queue)) != 0)
        return rc;
    if (spec->printer_id && (rc = sf_ll(st, &one, "SELECT 1 FROM printers "
                                        "WHERE id = ?1", "i",
                                        spec->printer_id)) != 0)
        return rc;
    rc = sf_exec(st, "INSERT INTO jobs (queue, printer_id, name, priority, "
                 "copies, material, colour, position, created, task_id, "
                 "notifier, owner) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, "
                 "?8, ?9, ?10, ?11)", "titiittdttt", queue, spec->printer_id,
                 spec->name ? spec->name
                            : spec->model ? spec->model->filename
                                          : spec->files[0].filename,
                 (long long)spec->priority, (long long)spec->copies,
                 spec->material ? spec->material : "",
                 spec->colour ? spec->colour : "", now, spec->task_id,
                 spec->notifier, spec->owner ? spec->owner : "");
    if (rc < 0)
        return -1;
    *id = sqlite3_last_insert_rowid(store_db(st));
    if (sf_exec(st, "UPDATE jobs SET position = id WHERE id = ?1", "i",
                *id) < 0 ||
        sf_exec(st, "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 "
                "FROM n WHERE i + 1 < ?2) INSERT INTO job_copies (job_id, "
                "idx) SELECT ?1, i FROM n", "ii", *id,
                (long long)spec->copies) < 0)
        return -1;
    if (spec->model && (rc = model_tx(st, spec, *id)) != 0)
        return rc;
    for (size_t i = 0; i < spec->nfiles; i++) {
        const struct fleet_job_file *f = &spec->files[i];
        rc = sf_exec(st, "UPDATE blobs SET refcount = refcount + 1, "
                     "zero_since = 0 WHERE sha256 = ?1", "t", f->sha256);
        if (rc <= 0)
            return rc < 0 ? -1 : STORE_NOTFOUND;
        rc = sf_exec(st, "INSERT INTO job_files (job_id, profile, sha256, "
                     "filename, size) SELECT ?1, ?2, ?3, ?4, size FROM blobs "
                     "WHERE sha256 = ?3", "ittt", *id, f->profile, f->sha256,
                     f->filename);
        if (rc < 0)
            return rc == -2 ? STORE_CONFLICT : -1;
    }
    return sf_event(st, now, "job_created", spec->printer_id, *id, 0,
                    queue[0] ? queue : "(aimed at one printer)");
}

int store_job_create(struct store *st, const struct fleet_job_spec *spec,
                     double now, long long *id)
{
    SF_TX(st, store_job_create_tx(st, spec, now, id));
}

static int create_capped_tx(struct store *st,
                            const struct fleet_job_spec *spec, double now,
                            const char *owner, long long max_open,
                            long long *open, long long *id)
{
    int rc = store_owner_cap_tx(st, owner, max_open, open);

    return rc ? rc : store_job_create_tx(st, spec, now, id);
}

int store_job_create_capped(struct store *st,
                            const struct fleet_job_spec *spec, double now,
                            const char *owner, long long max_open,
                            long long *open, long long *id)
{
    SF_TX(st, create_capped_tx(st, spec, now, owner, max_open, open, id));
}

int sf_job_settle(struct store *st, long long job_id, double now,
                  const char *reason, int *ended, enum job_state *state)
{
    sqlite3_stmt *s = sf_bind(st,
                              "SELECT j.state, j.cancelling, sum(c.state = "
                              "0), sum(c.state = 1), sum(c.state = 2), "
                              "sum(c.state = 3), count(c.idx) FROM jobs j "
                              "LEFT JOIN job_copies c ON c.job_id = j.id "
                              "WHERE j.id = ?1 GROUP BY j.id", "i", job_id);
    int rc, cur, cancelling, queued, live, done, failed, total;
    enum job_state to;

    if (ended)
        *ended = 0;
    if (!s)
        return -1;
    rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        sf_done(s);
        return rc == SQLITE_DONE ? STORE_NOTFOUND : sf_fail(st, "settle");
    }
    cur = sqlite3_column_int(s, 0);
    cancelling = sqlite3_column_int(s, 1);
    queued = sqlite3_column_int(s, 2);
    live = sqlite3_column_int(s, 3);
    done = sqlite3_column_int(s, 4);
    failed = sqlite3_column_int(s, 5);
    total = sqlite3_column_int(s, 6);
    sf_done(s);
    if (state)
        *state = (enum job_state)cur;
    if (job_state_final((enum job_state)cur) || queued || live)
        return 0;
    if (done == total)
        to = JOB_COMPLETE;
    else if (cancelling)
        to = JOB_CANCELLED;
    else if (failed)
        to = JOB_FAILED;
    else
        to = JOB_CANCELLED;
    /* A job that fails as its last copy completes has no reason of this
     * end: it takes the first failed copy's. */
    if (sf_exec(st, "UPDATE jobs SET state = ?2, ended = ?3, reason = "
                "COALESCE(reason, ?4, (SELECT 'copy ' || idx || ': ' || "
                "reason FROM job_copies WHERE job_id = ?1 AND state = 3 AND "
                "reason IS NOT NULL ORDER BY idx LIMIT 1)) WHERE id = ?1",
                "iidt", job_id, (long long)to, now,
                to == JOB_COMPLETE ? NULL : reason) < 0)
        return -1;
    if (ended)
        *ended = 1;
    if (state)
        *state = to;
    return sf_event(st, now, "job_end", 0, job_id, 0, job_state_name(to));
}

static int cancel_tx(struct store *st, long long id, const char *reason,
                     double now, int *live)
{
    long long state;
    long long n = 0;
    int rc = sf_ll(st, &state, "SELECT state FROM jobs WHERE id = ?1", "i",
                   id);

    if (rc)
        return rc;
    if (job_state_final((enum job_state)state))
        return STORE_CONFLICT;
    if (!reason)
        reason = "cancelled";
    if (sf_exec(st, "UPDATE jobs SET cancelling = 1, reason = COALESCE("
                "reason, ?2) WHERE id = ?1", "it", id, reason) < 0 ||
        sf_exec(st, "UPDATE job_copies SET state = 4, reason = ?2 WHERE "
                "job_id = ?1 AND state = 0", "it", id, reason) < 0 ||
        sf_exec(st, "UPDATE printers SET pending_cmd = 3 WHERE attempt_id IN "
                "(SELECT id FROM attempts WHERE job_id = ?1 AND state < 4)",
                "i", id) < 0 ||
        sf_ll(st, &n, "SELECT count(*) FROM attempts WHERE job_id = ?1 AND "
              "state < 4", "i", id) < 0)
        return -1;
    if (live)
        *live = (int)n;
    if (sf_event(st, now, "job_cancel", 0, id, 0, reason) < 0)
        return -1;
    return sf_job_settle(st, id, now, reason, NULL, NULL) < 0 ? -1 : 0;
}

int store_job_cancel(struct store *st, long long id, const char *reason,
                     double now, int *live)
{
    if (live)
        *live = 0;
    SF_TX(st, cancel_tx(st, id, reason, now, live));
}

static int move_tx(struct store *st, long long id, int has_position,
                   int position, int has_priority, int priority)
{
    char queue[FLEET_NAME_MAX];
    sqlite3_stmt *s = sf_bind(st, "SELECT state, queue FROM jobs WHERE id = "
                              "?1", "i", id);
    int rc, state;

    if (!s)
        return -1;
    rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        sf_done(s);
        return rc == SQLITE_DONE ? STORE_NOTFOUND : sf_fail(st, "move");
    }
    state = sqlite3_column_int(s, 0);
    sf_col(s, 1, queue, sizeof(queue));
    sf_done(s);
    if (job_state_final((enum job_state)state))
        return STORE_CONFLICT;
    if (has_priority && sf_exec(st, "UPDATE jobs SET priority = ?2 WHERE id "
                                "= ?1", "ii", id, (long long)priority) < 0)
        return -1;
    if (!has_position)
        return 0;
    /* The job now at that index (itself excluded) gives priority and
     * position; past the end means last. */
    s = sf_bind(st, "SELECT priority, position FROM jobs WHERE queue = ?1 AND "
                "state < 2 AND id != ?2 ORDER BY priority DESC, position, id "
                "LIMIT 1 OFFSET ?3", "tii", queue, id, (long long)position);
    if (!s)
        return -1;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        long long p = sqlite3_column_int64(s, 0);
        double pos = sqlite3_column_double(s, 1);
        sf_done(s);
        /* Just before it: halfway to the previous position (positions are
         * REAL, so repeated moves keep fitting in between). */
        return sf_exec(st, "UPDATE jobs SET priority = ?2, position = "
                       "COALESCE((SELECT (max(position) + ?3) / 2 FROM jobs "
                       "WHERE queue = ?4 AND state < 2 AND id != ?1 AND "
                       "priority = ?2 AND position < ?3), ?3 - 1) WHERE id = "
                       "?1", "iidt", id, p, pos, queue) < 0 ? -1 : 0;
    }
    sf_done(s);
    if (rc != SQLITE_DONE)
        return sf_fail(st, "move");
    return sf_exec(st, "UPDATE jobs SET priority = COALESCE((SELECT "
                   "min(priority) FROM jobs WHERE queue = ?2 AND state < 2 AND "
                   "id != ?1), priority), position = (SELECT max(position) + 1 "
                   "FROM jobs WHERE queue = ?2) WHERE id = ?1", "it", id,
                   queue) < 0 ? -1 : 0;
}

int store_job_move(struct store *st, long long id, int has_position,
                   int position, int has_priority, int priority)
{
    if (has_position && position < 0)
        return -1;
    SF_TX(st, move_tx(st, id, has_position, position, has_priority,
                      priority));
}

int store_job_ended_tasks(struct store *st, int limit, store_job_cb cb,
                          void *arg)
{
    return job_walk(st, sf_bind(st, JOB_SELECT
                                "JOIN tasks t ON t.id = j.task_id WHERE "
                                "j.state >= 2 AND t.status < 2 ORDER BY j.id "
                                "LIMIT ?1", "i",
                                (long long)(limit > 0 ? limit : -1)),
                    cb, arg);
}

/* Jobs whose print task was cancelled, at most 256: their ids into ids,
 * the count, or -1. */
static int tasks_cancelled(struct store *st, long long *ids)
{
    sqlite3_stmt *s = sf_bind(st, "SELECT j.id FROM jobs j JOIN tasks t ON "
                              "t.id = j.task_id WHERE j.state < 2 AND "
                              "j.cancelling = 0 AND (t.status = 4 OR "
                              "t.cancel_requested = 1) LIMIT 256", NULL);
    int n = 0, rc;

    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
        ids[n++] = sqlite3_column_int64(s, 0);
    sf_done(s);
    return rc == SQLITE_DONE ? n : sf_fail(st, "cancelled tasks");
}

static int cancel_tasks_tx(struct store *st, const long long *ids, int n,
                           double now)
{
    for (int i = 0; i < n; i++) {
        /* A job that ended meanwhile is a conflict: nothing to do. */
        if (cancel_tx(st, ids[i], "its task was cancelled", now, NULL) < 0)
            return -1;
    }
    return 0;
}

int store_job_cancel_by_tasks(struct store *st, double now, int *cancelled)
{
    long long ids[256];
    int n;

    if (cancelled)
        *cancelled = 0;
    /* Looked for outside a transaction: most of the time there is none,
     * and the write lock is not taken for nothing. */
    if ((n = tasks_cancelled(st, ids)) <= 0)
        return n;
    if (cancelled)
        *cancelled = n;
    SF_TX(st, cancel_tasks_tx(st, ids, n, now));
}

/* ---- jobs no printer can take -------------------------------------------- */

/* Printer p serves job j (its own printer, or one of its queue's). */
#define SERVES                                                               \
    "(j.printer_id = p.id OR (j.printer_id = 0 AND p.id IN (SELECT "         \
    "q.printer_id FROM printer_queues q WHERE q.queue = j.queue)))"
/* p fits j's profile, material and colour (store_job_feasible's rule). */
#define FITS                                                                 \
    "((j.material = '' OR p.material = '' OR p.material = j.material) AND "  \
    "(j.colour = '' OR p.colour = '' OR p.colour = j.colour) AND EXISTS "    \
    "(SELECT 1 FROM job_files f WHERE f.job_id = j.id AND (f.profile = '' "  \
    "OR f.profile = p.profile)))"
/* j failed K (?1) times on p (forgiven failures aside). */
#define FAILED_ON                                                            \
    "((SELECT count(*) FROM attempts a WHERE a.job_id = j.id AND "           \
    "a.printer_id = p.id AND a.state = 5 AND a.forgiven = 0) >= ?1)"
#define USABLE "p.quarantined = 0 AND " FITS " AND NOT " FAILED_ON
/* Driven from the job's printer or its queue's index, so the first
 * printer that can take it ends the look (cheap for the usual job). */
/* A model job whose G-code is still being made (store_slices.h) waits
 * for its slices, not for a printer. */
#define SLICING                                                              \
    "(j.model_sha256 != '' AND (j.slice_planned = 0 OR EXISTS (SELECT 1 "    \
    "FROM job_slices s WHERE s.job_id = j.id AND s.state < 2)))"
#define STUCK                                                                \
    "(j.cancelling = 0 AND NOT " SLICING " AND EXISTS (SELECT 1 FROM "       \
    "job_copies c WHERE c.job_id = j.id AND c.state = 0) AND NOT CASE WHEN " \
    "j.printer_id != 0 "                                                     \
    "THEN EXISTS (SELECT 1 FROM printers p WHERE p.id = j.printer_id AND "   \
    USABLE ") ELSE EXISTS (SELECT 1 FROM printer_queues q JOIN printers p "  \
    "ON p.id = q.printer_id WHERE q.queue = j.queue AND " USABLE ") END)"

/* Why each printer serving job u->job_id cannot take it. */
static int unplaced_counts(struct store *st, int k, struct store_unplaced *u)
{
    sqlite3_stmt *s = sf_bind(st, "SELECT count(*), COALESCE(sum("
                              "p.quarantined), 0), COALESCE(sum(" FAILED_ON
                              "), 0), COALESCE(sum(NOT " FITS "), 0) FROM "
                              "jobs j JOIN printers p ON " SERVES " WHERE "
                              "j.id = ?2", "ii", (long long)k, u->job_id);
    int rc;

    if (!s)
        return -1;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        u->serving = sqlite3_column_int(s, 0);
        u->quarantined = sqlite3_column_int(s, 1);
        u->failed = sqlite3_column_int(s, 2);
        u->unfit = sqlite3_column_int(s, 3);
    }
    sf_done(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0
                                                 : sf_fail(st, "unplaced");
}

int store_job_unplaceable(struct store *st, int fail_per_printer,
                          store_unplaced_cb cb, void *arg)
{
    struct store_unplaced *v = calloc(256, sizeof(*v));
    sqlite3_stmt *s;
    size_t n = 0;
    int rc;

    if (!v)
        return sf_fail(st, "unplaced: out of memory");
    s = sf_bind(st, "SELECT j.id, " STUCK ", j.waiting_reason IS NOT NULL, "
                "j.waiting_since, j.printer_id, j.queue FROM jobs j WHERE "
                "j.state < 2 AND (j.waiting_reason IS NOT NULL OR " STUCK ") "
                "ORDER BY j.id LIMIT 256", "i", (long long)fail_per_printer);
    if (!s) {
        free(v);
        return -1;
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct store_unplaced *u = &v[n++];

        u->job_id = sqlite3_column_int64(s, 0);
        u->stuck = sqlite3_column_int(s, 1);
        u->marked = sqlite3_column_int(s, 2);
        u->waiting_since = sqlite3_column_double(s, 3);
        u->printer_id = sqlite3_column_int64(s, 4);
        sf_col(s, 5, u->queue, sizeof(u->queue));
    }
    sf_done(s);
    if (rc != SQLITE_DONE) {
        free(v);
        return sf_fail(st, "unplaced");
    }
    for (size_t i = 0; i < n; i++) {
        if (v[i].stuck && unplaced_counts(st, fail_per_printer, &v[i]) < 0)
            break;
        if (cb(arg, &v[i]))
            break;
    }
    free(v);
    return 0;
}

static int waiting_tx(struct store *st, long long id, const char *reason,
                      double now)
{
    int rc;

    if (!reason)
        rc = sf_exec(st, "UPDATE jobs SET waiting_reason = NULL, "
                     "waiting_since = 0 WHERE id = ?1 AND waiting_reason IS "
                     "NOT NULL", "i", id);
    else
        rc = sf_exec(st, "UPDATE jobs SET waiting_reason = ?2, waiting_since "
                     "= CASE WHEN waiting_since > 0 THEN waiting_since ELSE "
                     "?3 END WHERE id = ?1 AND state < 2 AND (waiting_reason "
                     "IS NULL OR waiting_reason != ?2)", "itd", id, reason,
                     now);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return STORE_CONFLICT;
    return sf_event(st, now, reason ? "job_waiting" : "job_placeable", 0, id,
                    0, reason ? reason : "a printer can take it again");
}

int store_job_waiting(struct store *st, long long id, const char *reason,
                      double now)
{
    SF_TX(st, waiting_tx(st, id, reason, now));
}

static int fail_queued_tx(struct store *st, long long id, const char *reason,
                          double now, int *ended)
{
    if (sf_exec(st, "UPDATE job_copies SET state = 3, reason = ?2 WHERE "
                "job_id = ?1 AND state = 0", "it", id, reason) < 0)
        return -1;
    return sf_job_settle(st, id, now, reason, ended, NULL) < 0 ? -1 : 0;
}

int store_job_fail_queued(struct store *st, long long id, const char *reason,
                          double now, int *ended)
{
    SF_TX(st, fail_queued_tx(st, id, reason, now, ended));
}
