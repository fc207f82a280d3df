/* store_fleet_attempts.c - scheduling input, attempts and the failure
 * policy (store_fleet.h). */
#include "store/store_fleet_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- scheduling input ----------------------------------------------------- */

/* One job with waiting copies, as the loader builds it. */
struct sl_job {
    long long id;
    int queue, material, colour, priority;
    long long target;
    double created, position;
    int profiles[FLEET_PROFILES_MAX];
    struct sched_need needs[FLEET_PROFILES_MAX];  /* of each file */
    int nprofiles;
    size_t excl_off, nexcl;
    int has_needs;               /* needs added to the input (need_off) */
    size_t need_off;
    int held;                    /* held_reason is set */
};

static int intern_col(struct sched_input *in, sqlite3_stmt *s, int i)
{
    const unsigned char *v = sqlite3_column_text(s, i);

    return sched_intern(in, v ? (const char *)v : "");
}

static struct sl_job *sl_find(struct sl_job *v, size_t n, long long id)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v[mid].id == id)
            return &v[mid];
        if (v[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int load_printers(struct store *st, struct sched_input *in)
{
    sqlite3_stmt *s = sf_bind(st, "SELECT id, site, profile, material, "
                              "colour, last_material, last_colour, "
                              "ready_since, auto_eject, coalesce(spool_g, "
                              "-1) FROM printers WHERE state = 1 AND "
                              "attempt_id = 0 ORDER BY id", NULL);
    size_t k = 0;
    int rc;

    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct sched_printer *p = sched_add_printer(in);
        if (!p)
            break;
        p->id = sqlite3_column_int64(s, 0);
        p->site = intern_col(in, s, 1);
        p->profile = intern_col(in, s, 2);
        p->material = intern_col(in, s, 3);
        p->colour = intern_col(in, s, 4);
        p->last_material = intern_col(in, s, 5);
        p->last_colour = intern_col(in, s, 6);
        p->ready_since = sqlite3_column_double(s, 7);
        p->auto_eject = sqlite3_column_int(s, 8);
        p->spool_g = sqlite3_column_double(s, 9);
        if (p->site < 0 || p->profile < 0 || p->material < 0 ||
            p->colour < 0 || p->last_material < 0 || p->last_colour < 0)
            break;
    }
    sf_done(s);
    if (rc != SQLITE_DONE)
        return sf_fail(st, "sched printers");
    /* Queues, merged by printer id (both sorted). */
    s = sf_bind(st, "SELECT pq.printer_id, pq.queue FROM printer_queues pq "
                "JOIN printers p ON p.id = pq.printer_id WHERE p.state = 1 "
                "AND p.attempt_id = 0 ORDER BY pq.printer_id", NULL);
    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        long long pid = sqlite3_column_int64(s, 0);
        struct sched_printer *p;
        while (k < in->nprinters && in->printers[k].id < pid)
            k++;
        if (k >= in->nprinters || in->printers[k].id != pid)
            continue;
        p = &in->printers[k];
        if (p->nqueues < FLEET_QUEUES_MAX &&
            (p->queues[p->nqueues++] = intern_col(in, s, 1)) < 0)
            break;
    }
    sf_done(s);
    return rc == SQLITE_DONE ? 0 : sf_fail(st, "sched queues");
}

static int load_jobs(struct store *st, struct sched_input *in,
                     struct sl_job **out, size_t *n)
{
    sqlite3_stmt *s = sf_bind(st,
                              "SELECT id, queue, printer_id, material, "
                              "colour, priority, created, position, "
                              "held_reason IS NOT NULL FROM jobs "
                              "j WHERE state < 2 AND cancelling = 0 AND "
                              "EXISTS (SELECT 1 FROM job_copies c WHERE "
                              "c.job_id = j.id AND c.state = 0) ORDER BY id",
                              NULL);
    struct sl_job *v = NULL, *j;
    size_t cap = 0;
    int rc;

    *out = NULL;
    *n = 0;
    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n >= cap) {
            size_t ncap = cap ? cap * 2 : 256;
            struct sl_job *nv = realloc(v, ncap * sizeof(*v));
            if (!nv)
                break;
            v = nv;
            cap = ncap;
        }
        j = &v[(*n)++];
        memset(j, 0, sizeof(*j));
        j->id = sqlite3_column_int64(s, 0);
        j->queue = intern_col(in, s, 1);
        j->target = sqlite3_column_int64(s, 2);
        j->material = intern_col(in, s, 3);
        j->colour = intern_col(in, s, 4);
        j->priority = sqlite3_column_int(s, 5);
        j->created = sqlite3_column_double(s, 6);
        j->position = sqlite3_column_double(s, 7);
        j->held = sqlite3_column_int(s, 8);
        if (j->queue < 0 || j->material < 0 || j->colour < 0)
            break;
    }
    sf_done(s);
    *out = v;
    return rc == SQLITE_DONE ? 0 : sf_fail(st, "sched jobs");
}

/* Each job's profiles and exclusions (printers where it failed K times). */
static int load_job_details(struct store *st, struct sched_input *in,
                            const struct fleet_policy *pol, struct sl_job *v,
                            size_t n)
{
    struct sl_job *j;
    sqlite3_stmt *s;
    int rc;

    /* Each file's estimates: pending until rrcloudd read them. */
    s = sf_bind(st, "SELECT f.job_id, f.profile, coalesce(b.meta_read, 1), "
                "coalesce(b.est_time, -1), coalesce(b.filament_g, -1) FROM "
                "job_files f JOIN jobs j ON j.id = f.job_id LEFT JOIN blobs b "
                "ON b.sha256 = f.sha256 WHERE j.state < 2 ORDER BY f.job_id",
                NULL);
    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct sched_need *nd;
        int read;

        j = sl_find(v, n, sqlite3_column_int64(s, 0));
        if (!j || j->nprofiles >= FLEET_PROFILES_MAX)
            continue;
        nd = &j->needs[j->nprofiles];
        read = sqlite3_column_int(s, 2);
        nd->time_s = read ? sqlite3_column_double(s, 3) : SCHED_PENDING;
        nd->grams = read ? sqlite3_column_double(s, 4) : SCHED_PENDING;
        if ((j->profiles[j->nprofiles++] = intern_col(in, s, 1)) < 0)
            break;
    }
    sf_done(s);
    if (rc != SQLITE_DONE)
        return sf_fail(st, "sched files");
    /* Exclusions: printers where the job failed K times (failures an
     * operator forgave aside). */
    s = sf_bind(st, "SELECT a.job_id, a.printer_id FROM attempts a JOIN jobs "
                "j ON j.id = a.job_id WHERE j.state < 2 AND a.state = 5 AND "
                "a.forgiven = 0 GROUP BY a.job_id, a.printer_id HAVING "
                "count(*) >= ?1 ORDER BY a.job_id", "i",
                (long long)pol->fail_per_printer);
    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        j = sl_find(v, n, sqlite3_column_int64(s, 0));
        if (!j)
            continue;
        if (!j->nexcl)
            j->excl_off = in->nexcluded;
        if (sched_add_excluded(in, sqlite3_column_int64(s, 1)) < 0)
            break;
        j->nexcl++;
    }
    sf_done(s);
    return rc == SQLITE_DONE ? 0 : sf_fail(st, "sched exclusions");
}

static int load_copies(struct store *st, struct sched_input *in,
                       struct sl_job *jobs, size_t njobs)
{
    sqlite3_stmt *s = sf_bind(st, "SELECT c.job_id, c.idx FROM job_copies c "
                              "JOIN jobs j ON j.id = c.job_id WHERE c.state "
                              "= 0 AND j.state < 2 AND j.cancelling = 0 "
                              "ORDER BY c.job_id, c.idx", NULL);
    int rc;

    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct sl_job *j = sl_find(jobs, njobs, sqlite3_column_int64(s, 0));
        struct sched_copy *c;

        if (!j || !j->nprofiles)
            continue;
        if (!j->has_needs) {      /* once per job, shared by its copies */
            j->need_off = in->nneeds;
            for (int i = 0; i < j->nprofiles; i++) {
                if (sched_add_need(in, j->needs[i].time_s,
                                   j->needs[i].grams) < 0)
                    goto out;
            }
            j->has_needs = 1;
        }
        if (!(c = sched_add_copy(in)))
            break;
        c->job_id = j->id;
        c->copy = sqlite3_column_int(s, 1);
        c->queue = j->target ? 0 : j->queue;
        c->target = j->target;
        c->material = j->material;
        c->colour = j->colour;
        memcpy(c->profiles, j->profiles, sizeof(c->profiles));
        c->nprofiles = j->nprofiles;
        c->priority = j->priority;
        c->created = j->created;
        c->position = j->position;
        c->excl_off = j->excl_off;
        c->nexcl = j->nexcl;
        c->has_needs = 1;
        c->need_off = j->need_off;
        c->held = j->held;
    }
out:
    sf_done(s);
    return rc == SQLITE_DONE ? 0 : sf_fail(st, "sched copies");
}

static int load_heating(struct store *st, struct sched_input *in,
                        const struct fleet_policy *pol, double now)
{
    sqlite3_stmt *s = sf_bind(st, "SELECT p.site, count(*) FROM attempts a "
                              "JOIN printers p ON p.id = a.printer_id WHERE "
                              "a.state < 2 OR (a.state IN (2, 3) AND "
                              "a.started > ?1) GROUP BY p.site", "d",
                              now - pol->heatup_time);
    int rc;

    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int site = intern_col(in, s, 0);
        if (site < 0 || sched_set_heating(in, site,
                                          sqlite3_column_int(s, 1)) < 0)
            break;
    }
    sf_done(s);
    return rc == SQLITE_DONE ? 0 : sf_fail(st, "sched heating");
}

int store_fleet_sched_load(struct store *st, const struct fleet_policy *pol,
                           double now, struct sched_input *in)
{
    struct sl_job *jobs = NULL;
    size_t njobs = 0;
    int rc = -1;

    if (load_printers(st, in) < 0 || sf_sched_hours(st, in) < 0)
        goto out;
    if (!in->nprinters) {
        rc = 0;   /* nobody to give work to: skip the rest */
        goto out;
    }
    if (load_jobs(st, in, &jobs, &njobs) < 0 ||
        load_job_details(st, in, pol, jobs, njobs) < 0 ||
        load_copies(st, in, jobs, njobs) < 0 ||
        (pol->heatup_max > 0 && load_heating(st, in, pol, now) < 0))
        goto out;
    rc = 0;
out:
    free(jobs);
    return rc;
}

/* ---- attempts ----------------------------------------------------------- */

#define ATTEMPT_SELECT                                                       \
    "SELECT id, job_id, copy, printer_id, state, sha256, filename, "         \
    "ready_at, created, upload_at, started, ended, lease_until, reason "     \
    "FROM attempts "

static int attempt_from_row(sqlite3_stmt *s, void *obj)
{
    struct fleet_attempt *a = obj;

    fleet_attempt_init(a);
    a->id = sqlite3_column_int64(s, 0);
    a->job_id = sqlite3_column_int64(s, 1);
    a->copy = sqlite3_column_int(s, 2);
    a->printer_id = sqlite3_column_int64(s, 3);
    a->state = (enum attempt_state)sqlite3_column_int(s, 4);
    sf_col(s, 5, a->sha256, sizeof(a->sha256));
    sf_col(s, 6, a->filename, sizeof(a->filename));
    a->ready_at = sqlite3_column_double(s, 7);
    a->created = sqlite3_column_double(s, 8);
    a->upload_at = sqlite3_column_double(s, 9);
    a->started = sqlite3_column_double(s, 10);
    a->ended = sqlite3_column_double(s, 11);
    a->lease_until = sqlite3_column_double(s, 12);
    sf_col(s, 13, a->reason, sizeof(a->reason));
    return 0;
}

static int attempt_one(struct store *st, sqlite3_stmt *s,
                       struct fleet_attempt *out)
{
    fleet_attempt_init(out);
    return sf_one(st, s, attempt_from_row, out, "attempt get");
}

static int attempt_walk(struct store *st, sqlite3_stmt *s,
                        store_attempt_cb cb, void *arg)
{
    struct fleet_attempt a;
    int rc;

    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        attempt_from_row(s, &a);
        if (cb(arg, &a))
            break;
    }
    sf_done(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0
                                                 : sf_fail(st, "attempts");
}

int store_attempt_get(struct store *st, long long id, struct fleet_attempt *out)
{
    return attempt_one(st, sf_bind(st, ATTEMPT_SELECT "WHERE id = ?1", "i",
                                   id), out);
}

int store_attempt_by_filename(struct store *st, long long printer_id,
                              const char *filename, struct fleet_attempt *out)
{
    const char *base = strrchr(filename, '/');

    return attempt_one(st, sf_bind(st, ATTEMPT_SELECT "WHERE printer_id = ?1 "
                                   "AND filename = ?2 ORDER BY id DESC LIMIT "
                                   "1", "it", printer_id,
                                   base ? base + 1 : filename), out);
}

int store_job_attempts(struct store *st, long long id, store_attempt_cb cb,
                       void *arg)
{
    return attempt_walk(st, sf_bind(st, ATTEMPT_SELECT "WHERE job_id = ?1 "
                                    "ORDER BY id", "i", id), cb, arg);
}

int store_attempt_live(struct store *st, store_attempt_cb cb, void *arg)
{
    return attempt_walk(st, sf_bind(st, ATTEMPT_SELECT "WHERE state < 4 "
                                    "ORDER BY id", NULL), cb, arg);
}

int store_attempt_expired(struct store *st, double now, store_attempt_cb cb,
                          void *arg)
{
    return attempt_walk(st, sf_bind(st, ATTEMPT_SELECT "WHERE state < 4 AND "
                                    "lease_until < ?1 ORDER BY id", "d", now),
                        cb, arg);
}

/* store_attempt_create's checks: job active, copy queued, printer ready
 * and free; then the file for the printer's profile.  0 or
 * STORE_CONFLICT (or an error). */
static int create_check(struct store *st, long long job_id, int copy,
                        long long printer_id, double *ready_since,
                        char sha[FLEET_SHA256_HEX])
{
    char prof[FLEET_NAME_MAX];
    sqlite3_stmt *s;
    long long v;
    int rc;

    rc = sf_ll(st, &v, "SELECT state + 10 * cancelling FROM jobs WHERE id = "
               "?1", "i", job_id);
    if (rc || v >= JOB_COMPLETE)
        return rc ? rc : STORE_CONFLICT;
    rc = sf_ll(st, &v, "SELECT state FROM job_copies WHERE job_id = ?1 AND "
               "idx = ?2", "ii", job_id, (long long)copy);
    if (rc || v != COPY_QUEUED)
        return rc ? rc : STORE_CONFLICT;
    s = sf_bind(st, "SELECT profile, ready_since FROM printers WHERE id = ?1 "
                "AND state = 1 AND attempt_id = 0", "i", printer_id);
    if (!s)
        return -1;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        sf_col(s, 0, prof, sizeof(prof));
        *ready_since = sqlite3_column_double(s, 1);
    }
    sf_done(s);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? STORE_CONFLICT : sf_fail(st, "create");
    /* The printer's own file, else the any-profile one. */
    s = sf_bind(st, "SELECT sha256 FROM job_files WHERE job_id = ?1 AND "
                "(profile = ?2 OR profile = '') ORDER BY profile = '' LIMIT "
                "1", "it", job_id, prof);
    if (!s)
        return -1;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        sf_col(s, 0, sha, FLEET_SHA256_HEX);
    sf_done(s);
    if (rc != SQLITE_ROW)
        return rc == SQLITE_DONE ? STORE_CONFLICT : sf_fail(st, "create");
    return 0;
}

/* The checks and writes of store_attempt_create, inside a transaction. */
static int create_tx(struct store *st, long long job_id, int copy,
                     long long printer_id, const struct fleet_policy *pol,
                     double now, struct fleet_attempt *out)
{
    char sha[FLEET_SHA256_HEX], fname[FLEET_FILENAME_MAX];
    double ready_since = 0;
    long long aid;
    int rc;

    if ((rc = create_check(st, job_id, copy, printer_id, &ready_since,
                           sha)) != 0)
        return rc;
    rc = sf_exec(st, "INSERT INTO attempts (job_id, copy, printer_id, state, "
                 "sha256, ready_at, created, lease_until) VALUES (?1, ?2, "
                 "?3, 0, ?4, ?5, ?6, ?7)", "iiitddd", job_id, (long long)copy,
                 printer_id, sha, ready_since, now, now + pol->lease);
    if (rc == -2)
        return STORE_CONFLICT;    /* the partial UNIQUE index said no */
    if (rc < 0)
        return -1;
    aid = sqlite3_last_insert_rowid(store_db(st));
    fleet_attempt_filename(job_id, copy, aid, fname, sizeof(fname));
    if (sf_exec(st, "UPDATE attempts SET filename = ?2 WHERE id = ?1", "it",
                aid, fname) < 0 ||
        sf_exec(st, "UPDATE job_copies SET state = 1 WHERE job_id = ?1 AND "
                "idx = ?2", "ii", job_id, (long long)copy) < 0 ||
        sf_exec(st, "UPDATE printers SET attempt_id = ?2, pending_cmd = 0 "
                "WHERE id = ?1", "ii", printer_id, aid) < 0 ||
        sf_printer_recompute(st, printer_id, now, NULL) < 0 ||
        sf_exec(st, "UPDATE jobs SET state = 1, held_reason = NULL, "
                "held_printer = 0, started = CASE WHEN started = 0 THEN ?2 "
                "ELSE started END WHERE id = ?1", "id", job_id, now) < 0 ||
        sf_exec(st, "UPDATE tasks SET status = 1, stime = ?2 WHERE status = 0 "
                "AND id = (SELECT task_id FROM jobs WHERE id = ?1)", "id",
                job_id, now) < 0 ||
        sf_event(st, now, "dispatch", printer_id, job_id, aid, fname) < 0)
        return -1;
    if (out) {
        /* What the row now holds, without reading it back. */
        fleet_attempt_init(out);
        out->id = aid;
        out->job_id = job_id;
        out->copy = copy;
        out->printer_id = printer_id;
        memcpy(out->sha256, sha, sizeof(out->sha256));
        snprintf(out->filename, sizeof(out->filename), "%s", fname);
        out->ready_at = ready_since;
        out->created = now;
        out->lease_until = now + pol->lease;
    }
    return 0;
}

int store_attempt_create(struct store *st, long long job_id, int copy,
                         long long printer_id,
                         const struct fleet_policy *pol, double now,
                         struct fleet_attempt *out)
{
    SF_TX(st, create_tx(st, job_id, copy, printer_id, pol, now, out));
}

struct dispatch_round {
    struct fleet_attempt *made;
    size_t n, cap;
};

static int dispatch_tx(struct store *st, const struct fleet_policy *pol,
                       double now, struct dispatch_round *r)
{
    struct sched_params prm = { now, pol->age_boost, pol->change_penalty,
                                pol->heatup_max };
    struct sched_assignment *as = NULL;
    struct sched_hold *held = NULL;
    struct sched_input in;
    size_t nas = 0, nheld = 0;
    int rc = -1;

    sched_input_init(&in);
    if (store_fleet_sched_load(st, pol, now, &in) < 0 ||
        sched_run_why(&in, &prm, &as, &nas, &held, &nheld) < 0 ||
        sf_sched_held(st, &in, held, nheld, now) < 0)
        goto out;
    for (size_t i = 0; i < nas; i++) {
        struct fleet_attempt a;
        int c;

        /* No savepoint needed: create_tx checks everything before its
         * first write, and a conflict of that write (the unique index)
         * undoes only its own statement. */
        c = create_tx(st, as[i].job_id, as[i].copy, as[i].printer_id, pol,
                      now, &a);
        if (c < 0)
            goto out;
        if (c != 0)
            continue;
        if (r->n >= r->cap) {
            size_t ncap = r->cap ? r->cap * 2 : 64;
            struct fleet_attempt *m = realloc(r->made, ncap * sizeof(*m));
            if (!m)
                goto out;
            r->made = m;
            r->cap = ncap;
        }
        r->made[r->n++] = a;
    }
    rc = 0;
out:
    free(as);
    free(held);
    sched_input_free(&in);
    return rc;
}

static int dispatch_run(struct store *st, const struct fleet_policy *pol,
                        double now, struct dispatch_round *r)
{
    SF_TX(st, dispatch_tx(st, pol, now, r));
}

int store_fleet_dispatch(struct store *st, const struct fleet_policy *pol,
                         double now, store_attempt_cb cb, void *arg,
                         int *created)
{
    struct dispatch_round r = { NULL, 0, 0 };
    int rc, cached = sf_cache_on();

    /* Reuse statements for the round, unless the caller keeps a cache of
     * its own on (then leave it to the caller to end). */
    if (!cached)
        sf_cache_begin();
    rc = dispatch_run(st, pol, now, &r);
    if (!cached)
        sf_cache_end();
    if (rc == 0) {
        /* Only after the commit: the caller acts on attempts that exist. */
        for (size_t i = 0; cb && i < r.n; i++) {
            if (cb(arg, &r.made[i]))
                break;
        }
    }
    if (created)
        *created = rc == 0 ? (int)r.n : 0;
    free(r.made);
    return rc;
}
