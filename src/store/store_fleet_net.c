/* store_fleet_net.c - frontends, rebalancing and queues (store_fleet.h). */
#include "store/store_fleet_int.h"

#include "common/conf.h"
#include "common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- frontends ------------------------------------------------------------ */

#define FRONTEND_SELECT                                                      \
    "SELECT f.id, f.name, f.region, f.url, f.namespace, f.canary_url, "      \
    "f.capacity, f.enabled, f.healthy, f.from_conf, f.last_check, "          \
    "f.unhealthy_since, f.last_error, f.consecutive_failures, "              \
    "(SELECT count(*) FROM printers p WHERE p.frontend_id = f.id), "         \
    "(SELECT count(*) FROM printers p WHERE p.frontend_id = f.id AND "       \
    "p.state != 0) FROM frontends f "

static int frontend_from_row(sqlite3_stmt *s, void *obj)
{
    struct fleet_frontend *f = obj;

    fleet_frontend_init(f);
    f->id = sqlite3_column_int64(s, 0);
    sf_col(s, 1, f->name, sizeof(f->name));
    sf_col(s, 2, f->region, sizeof(f->region));
    sf_col(s, 3, f->url, sizeof(f->url));
    sf_col(s, 4, f->namespace_, sizeof(f->namespace_));
    sf_col(s, 5, f->canary_url, sizeof(f->canary_url));
    f->capacity = sqlite3_column_int(s, 6);
    f->enabled = sqlite3_column_int(s, 7);
    f->healthy = sqlite3_column_int(s, 8);
    f->from_conf = sqlite3_column_int(s, 9);
    f->last_check = sqlite3_column_double(s, 10);
    f->unhealthy_since = sqlite3_column_double(s, 11);
    sf_col(s, 12, f->last_error, sizeof(f->last_error));
    f->consecutive_failures = sqlite3_column_int(s, 13);
    f->assigned = sqlite3_column_int64(s, 14);
    f->online = sqlite3_column_int64(s, 15);
    return 0;
}

static int frontend_one(struct store *st, sqlite3_stmt *s,
                        struct fleet_frontend *out)
{
    fleet_frontend_init(out);
    return sf_one(st, s, frontend_from_row, out, "frontend get");
}

int store_frontend_get(struct store *st, const char *name,
                       struct fleet_frontend *out)
{
    return frontend_one(st, sf_bind(st, FRONTEND_SELECT "WHERE f.name = ?1",
                                    "t", name), out);
}

int store_frontend_get_id(struct store *st, long long id,
                          struct fleet_frontend *out)
{
    return frontend_one(st, sf_bind(st, FRONTEND_SELECT "WHERE f.id = ?1",
                                    "i", id), out);
}

int store_frontend_list(struct store *st, store_frontend_cb cb, void *arg)
{
    sqlite3_stmt *s = sf_bind(st, FRONTEND_SELECT "ORDER BY f.name", NULL);
    struct fleet_frontend f;
    int rc;

    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        frontend_from_row(s, &f);
        if (cb(arg, &f))
            break;
    }
    sf_done(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0
                                                 : sf_fail(st, "frontends");
}

int store_frontend_load_all(struct store *st, struct fleet_frontend **out,
                            size_t *n)
{
    void *v;
    int rc = sf_load(st, sf_bind(st, FRONTEND_SELECT "ORDER BY f.id", NULL),
                     frontend_from_row, sizeof(**out), &v, n, "frontends");

    *out = v;
    return rc;
}

int store_frontend_add(struct store *st, const struct fleet_frontend *f,
                       double now, long long *id)
{
    int rc = sf_exec(st,
                     "INSERT INTO frontends (name, region, url, namespace, "
                     "canary_url, capacity, enabled, from_conf, created) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                     "tttttiiid", f->name, f->region, f->url,
                     f->namespace_[0] ? f->namespace_ : f->name,
                     f->canary_url, (long long)f->capacity,
                     (long long)(f->enabled != 0),
                     (long long)(f->from_conf != 0), now);

    if (rc == -2)
        return STORE_CONFLICT;
    if (rc < 0)
        return -1;
    if (id)
        *id = sqlite3_last_insert_rowid(store_db(st));
    return 0;
}

void fleet_frontend_patch_init(struct fleet_frontend_patch *fp)
{
    memset(fp, 0, sizeof(*fp));
    fp->capacity = -1;
    fp->enabled = -1;
}

int store_frontend_update(struct store *st, const char *name,
                          const struct fleet_frontend_patch *fp)
{
    int rc = sf_exec(st,
                     "UPDATE frontends SET region = COALESCE(?2, region), "
                     "url = COALESCE(?3, url), namespace = COALESCE(?4, "
                     "namespace), canary_url = COALESCE(?5, canary_url), "
                     "capacity = CASE WHEN ?6 < 0 THEN capacity ELSE ?6 END, "
                     "enabled = CASE WHEN ?7 < 0 THEN enabled ELSE ?7 END "
                     "WHERE name = ?1", "tttttii", name, fp->region, fp->url,
                     fp->namespace_, fp->canary_url, (long long)fp->capacity,
                     (long long)fp->enabled);

    return rc < 0 ? -1 : rc == 0 ? STORE_NOTFOUND : 0;
}

static int frontend_remove_tx(struct store *st, const char *name)
{
    long long id, n;
    int rc = sf_ll(st, &id, "SELECT id FROM frontends WHERE name = ?1", "t",
                   name);

    if (rc)
        return rc;
    if (sf_ll(st, &n, "SELECT count(*) FROM printers WHERE frontend_id = ?1",
              "i", id) < 0)
        return -1;
    if (n > 0)
        return STORE_CONFLICT;
    return sf_exec(st, "DELETE FROM frontends WHERE id = ?1", "i", id) < 0
               ? -1 : 0;
}

int store_frontend_remove(struct store *st, const char *name)
{
    SF_TX(st, frontend_remove_tx(st, name));
}

static int health_tx(struct store *st, long long id, int ok, const char *err,
                     const struct fleet_policy *pol, double now, int *changed)
{
    sqlite3_stmt *s = sf_bind(st, "SELECT healthy, consecutive_failures, "
                              "name FROM frontends WHERE id = ?1", "i", id);
    char name[FLEET_NAME_MAX], msg[FLEET_REASON_MAX + 80];
    int healthy, fails, rc, now_healthy;

    if (!s)
        return -1;
    rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        sf_done(s);
        return rc == SQLITE_DONE ? STORE_NOTFOUND : sf_fail(st, "health");
    }
    healthy = sqlite3_column_int(s, 0);
    fails = sqlite3_column_int(s, 1);
    sf_col(s, 2, name, sizeof(name));
    sf_done(s);
    fails = ok ? 0 : fails + 1;
    now_healthy = ok || (healthy && fails < pol->frontend_fail_threshold);
    if (sf_exec(st, "UPDATE frontends SET healthy = ?2, "
                "consecutive_failures = ?3, last_check = ?4, last_error = "
                "?5, unhealthy_since = CASE WHEN ?2 THEN 0 WHEN "
                "unhealthy_since = 0 THEN ?4 ELSE unhealthy_since END WHERE "
                "id = ?1", "iiidt", id, (long long)now_healthy,
                (long long)fails, now, ok ? "" : (err ? err : "check failed"))
        < 0)
        return -1;
    if (changed)
        *changed = now_healthy != healthy;
    if (now_healthy == healthy)
        return 0;
    snprintf(msg, sizeof(msg), "frontend %s %s%s%.200s", name,
             now_healthy ? "is up" : "is down", ok ? "" : ": ",
             ok ? "" : (err ? err : "check failed"));
    return sf_event(st, now, now_healthy ? "frontend_up" : "frontend_down", 0,
                    0, 0, msg);
}

int store_frontend_health(struct store *st, long long id, int ok,
                          const char *error, const struct fleet_policy *pol,
                          double now, int *changed)
{
    SF_TX(st, health_tx(st, id, ok, error, pol, now, changed));
}

static int movable_from_row(sqlite3_stmt *s, void *obj)
{
    struct loadmgr_printer *p = obj;

    p->id = sqlite3_column_int64(s, 0);
    p->frontend_id = sqlite3_column_int64(s, 1);
    sf_col(s, 2, p->region, sizeof(p->region));
    return 0;
}

/* Printers that may have to move: on no frontend, or on one that is not
 * both enabled and healthy (the grace rule is loadmgr's). */
static int movable_load(struct store *st, struct loadmgr_printer **out,
                        size_t *n)
{
    void *v;
    int rc = sf_load(st, sf_bind(st, "SELECT p.id, p.frontend_id, p.region "
                                 "FROM printers p LEFT JOIN frontends f ON "
                                 "f.id = p.frontend_id WHERE f.id IS NULL OR "
                                 "f.enabled = 0 OR f.healthy = 0 ORDER BY "
                                 "p.id", NULL),
                     movable_from_row, sizeof(**out), &v, n,
                     "rebalance load");

    *out = v;
    return rc;
}

static const char *fe_name(const struct fleet_frontend *fe, size_t n,
                           long long id)
{
    for (size_t i = 0; i < n; i++) {
        if (fe[i].id == id)
            return fe[i].name;
    }
    return "(none)";
}

static int rebalance_tx(struct store *st, const struct fleet_policy *pol,
                        double now, int *moved)
{
    struct fleet_frontend *fe = NULL;
    struct loadmgr_printer *p = NULL;
    struct loadmgr_move *mv = NULL;
    size_t nfe = 0, np = 0, nmv = 0;
    char msg[256];
    int rc = -1;

    if (store_frontend_load_all(st, &fe, &nfe) < 0 ||
        movable_load(st, &p, &np) < 0)
        goto out;
    if (nfe && np &&
        loadmgr_rebalance(fe, nfe, p, np, pol->region_fallback, now,
                          pol->frontend_grace, &mv, &nmv) < 0)
        goto out;
    for (size_t i = 0; i < nmv; i++) {
        if (sf_exec(st, "UPDATE printers SET frontend_id = ?2, move_pending "
                    "= 1 WHERE id = ?1", "ii", mv[i].printer_id,
                    mv[i].to_id) < 0)
            goto out;
        snprintf(msg, sizeof(msg), "moved from frontend %s to %s",
                 fe_name(fe, nfe, mv[i].from_id), fe_name(fe, nfe, mv[i].to_id));
        if (sf_event(st, now, "moved", mv[i].printer_id, 0, 0, msg) < 0)
            goto out;
    }
    if (moved)
        *moved = (int)nmv;
    rc = 0;
out:
    free(fe);
    free(p);
    free(mv);
    return rc;
}

int store_fleet_rebalance(struct store *st, const struct fleet_policy *pol,
                          double now, int *moved)
{
    if (moved)
        *moved = 0;
    SF_TX(st, rebalance_tx(st, pol, now, moved));
}

static int sync_tx(struct store *st, const struct rr_conf *conf,
                   const struct fleet_policy *pol, double now)
{
    const char *p = conf->frontends;
    char line[1024], err[256];
    struct fleet_frontend f;

    if (sf_exec(st, "UPDATE frontends SET from_conf = 2 WHERE from_conf = 1",
                NULL) < 0)
        return -1;
    while (*p) {
        const char *e = strchr(p, '\n');
        size_t len = e ? (size_t)(e - p) : strlen(p);

        if (len >= sizeof(line))
            len = sizeof(line) - 1;
        memcpy(line, p, len);
        line[len] = '\0';
        p = e ? e + 1 : p + strlen(p);
        if (fleet_frontend_parse_conf(line, &f, err, sizeof(err)) < 0) {
            log_err("rrcloud.conf: %s", err);
            return -1;
        }
        if (f.capacity <= 0)
            f.capacity = pol->frontend_capacity;
        if (sf_exec(st,
                    "INSERT INTO frontends (name, region, url, namespace, "
                    "canary_url, capacity, from_conf, created) VALUES (?1, "
                    "?2, ?3, ?4, ?5, ?6, 1, ?7) ON CONFLICT(name) DO UPDATE "
                    "SET region = ?2, url = ?3, namespace = ?4, canary_url = "
                    "?5, capacity = ?6, from_conf = 1, enabled = CASE WHEN "
                    "from_conf = 2 THEN 1 ELSE enabled END",
                    "tttttid", f.name, f.region, f.url, f.namespace_,
                    f.canary_url, (long long)f.capacity, now) < 0)
            return -1;
    }
    /* Gone from the conf: drain, never delete (printers may be on it). */
    return sf_exec(st, "UPDATE frontends SET enabled = 0, from_conf = 0 "
                   "WHERE from_conf = 2", NULL) < 0 ? -1 : 0;
}

int store_fleet_sync_conf(struct store *st, const struct rr_conf *conf,
                          const struct fleet_policy *pol, double now)
{
    SF_TX(st, sync_tx(st, conf, pol, now));
}

/* ---- queues --------------------------------------------------------------- */

#define QUEUE_SELECT                                                         \
    "SELECT q.name, q.created, (SELECT count(*) FROM printer_queues pq "     \
    "WHERE pq.queue = q.name), (SELECT count(*) FROM jobs j WHERE j.queue "  \
    "= q.name AND j.state < 2), (SELECT count(*) FROM jobs j JOIN "          \
    "job_copies c ON c.job_id = j.id WHERE j.queue = q.name AND j.state < "  \
    "2 AND c.state = 0), (SELECT count(*) FROM jobs j JOIN job_copies c ON " \
    "c.job_id = j.id WHERE j.queue = q.name AND j.state < 2 AND c.state = "  \
    "1) FROM queues q "

static int queue_from_row(sqlite3_stmt *s, void *obj)
{
    struct fleet_queue *q = obj;

    memset(q, 0, sizeof(*q));
    sf_col(s, 0, q->name, sizeof(q->name));
    q->created = sqlite3_column_double(s, 1);
    q->printers = sqlite3_column_int64(s, 2);
    q->jobs_active = sqlite3_column_int64(s, 3);
    q->depth = sqlite3_column_int64(s, 4);
    q->live = sqlite3_column_int64(s, 5);
    return 0;
}

int store_queue_add(struct store *st, const char *name, double now)
{
    int rc = sf_exec(st, "INSERT INTO queues (name, created) VALUES (?1, ?2)",
                     "td", name, now);

    return rc == -2 ? STORE_CONFLICT : rc < 0 ? -1 : 0;
}

int store_queue_get(struct store *st, const char *name, struct fleet_queue *out)
{
    memset(out, 0, sizeof(*out));
    return sf_one(st, sf_bind(st, QUEUE_SELECT "WHERE q.name = ?1", "t", name),
                  queue_from_row, out, "queue get");
}

int store_queue_list(struct store *st, store_queue_cb cb, void *arg)
{
    sqlite3_stmt *s = sf_bind(st, QUEUE_SELECT "ORDER BY q.name", NULL);
    struct fleet_queue q;
    int rc;

    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        queue_from_row(s, &q);
        if (cb(arg, &q))
            break;
    }
    sf_done(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sf_fail(st, "queues");
}

static int queue_remove_tx(struct store *st, const char *name)
{
    struct fleet_queue q;
    int rc = store_queue_get(st, name, &q);

    if (rc)
        return rc;
    if (q.jobs_active || q.printers)
        return STORE_CONFLICT;
    return sf_exec(st, "DELETE FROM queues WHERE name = ?1", "t", name) < 0
               ? -1 : 0;
}

int store_queue_remove(struct store *st, const char *name)
{
    SF_TX(st, queue_remove_tx(st, name));
}
