/*
 * store_fleet.c - see store_fleet.h: printers (the SQL helpers are in
 * store_sf.c).
 * Frontends and queues are in store_fleet_net.c, jobs and blobs in
 * store_fleet_jobs.c, attempts and scheduling in store_fleet_attempts.c,
 * events, keys, metrics and purging in store_fleet_misc.c.
 */
#include "store/store_fleet_int.h"

#include "common/log.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- printers ------------------------------------------------------------ */

#define PRINTER_SELECT                                                       \
    "SELECT p.id, p.name, p.region, p.site, p.frontend_id, "                 \
    "COALESCE(f.name, ''), p.share_url, p.share_auth, p.api_key, "           \
    "p.profile, p.material, p.colour, p.last_material, p.last_colour, "      \
    "(SELECT group_concat(queue, ',') FROM (SELECT queue FROM "              \
    "printer_queues WHERE printer_id = p.id ORDER BY queue)), p.tags, "      \
    "p.auto_eject, p.state, p.observed, p.klippy_state, "                    \
    "p.moonraker_version, p.needs_clearing, p.maintenance, p.quarantined, "  \
    "p.hold_reason, p.consecutive_failures, p.attempt_id, p.pending_cmd, "   \
    "p.move_pending, p.enrolled_at, p.last_seen, p.last_heartbeat, "         \
    "p.state_since, p.ready_since, p.prints_ok, p.prints_failed, "           \
    "p.print_seconds, COALESCE(ps.updated, 0), ps.print_state, ps.file, "    \
    "ps.progress, ps.print_duration, ps.ext_temp, ps.ext_target, "           \
    "ps.bed_temp, ps.bed_target, coalesce(p.spool_g, -1), p.spool_set "     \
    "FROM printers p LEFT JOIN frontends f ON "                              \
    "f.id = p.frontend_id LEFT JOIN printer_status ps ON "                   \
    "ps.printer_id = p.id "

static int printer_from_row(sqlite3_stmt *s, void *obj)
{
    struct fleet_printer *p = obj;

    fleet_printer_init(p);
    p->id = sqlite3_column_int64(s, 0);
    sf_col(s, 1, p->name, sizeof(p->name));
    sf_col(s, 2, p->region, sizeof(p->region));
    sf_col(s, 3, p->site, sizeof(p->site));
    p->frontend_id = sqlite3_column_int64(s, 4);
    sf_col(s, 5, p->frontend, sizeof(p->frontend));
    sf_col(s, 6, p->share_url, sizeof(p->share_url));
    sf_col(s, 7, p->share_auth, sizeof(p->share_auth));
    sf_col(s, 8, p->api_key, sizeof(p->api_key));
    sf_col(s, 9, p->profile, sizeof(p->profile));
    sf_col(s, 10, p->material, sizeof(p->material));
    sf_col(s, 11, p->colour, sizeof(p->colour));
    sf_col(s, 12, p->last_material, sizeof(p->last_material));
    sf_col(s, 13, p->last_colour, sizeof(p->last_colour));
    sf_col(s, 14, p->queues, sizeof(p->queues));
    sf_col(s, 15, p->tags, sizeof(p->tags));
    p->auto_eject = sqlite3_column_int(s, 16);
    p->state = (enum printer_state)sqlite3_column_int(s, 17);
    p->observed = (enum printer_state)sqlite3_column_int(s, 18);
    sf_col(s, 19, p->klippy_state, sizeof(p->klippy_state));
    sf_col(s, 20, p->moonraker_version, sizeof(p->moonraker_version));
    p->needs_clearing = sqlite3_column_int(s, 21);
    p->maintenance = sqlite3_column_int(s, 22);
    p->quarantined = sqlite3_column_int(s, 23);
    sf_col(s, 24, p->hold_reason, sizeof(p->hold_reason));
    p->consecutive_failures = sqlite3_column_int(s, 25);
    p->attempt_id = sqlite3_column_int64(s, 26);
    p->pending_cmd = (enum printer_cmd)sqlite3_column_int(s, 27);
    p->move_pending = sqlite3_column_int(s, 28);
    p->enrolled_at = sqlite3_column_double(s, 29);
    p->last_seen = sqlite3_column_double(s, 30);
    p->last_heartbeat = sqlite3_column_double(s, 31);
    p->state_since = sqlite3_column_double(s, 32);
    p->ready_since = sqlite3_column_double(s, 33);
    p->prints_ok = sqlite3_column_int64(s, 34);
    p->prints_failed = sqlite3_column_int64(s, 35);
    p->print_seconds = sqlite3_column_double(s, 36);
    p->live.updated = sqlite3_column_double(s, 37);
    sf_col(s, 38, p->live.print_state, sizeof(p->live.print_state));
    sf_col(s, 39, p->live.file, sizeof(p->live.file));
    p->live.progress = sqlite3_column_double(s, 40);
    p->live.print_duration = sqlite3_column_double(s, 41);
    p->live.ext_temp = sqlite3_column_double(s, 42);
    p->live.ext_target = sqlite3_column_double(s, 43);
    p->live.bed_temp = sqlite3_column_double(s, 44);
    p->live.bed_target = sqlite3_column_double(s, 45);
    p->spool_g = sqlite3_column_double(s, 46);
    p->spool_set = sqlite3_column_double(s, 47);
    return 0;
}

int store_printer_get(struct store *st, long long id, struct fleet_printer *out)
{
    fleet_printer_init(out);
    return sf_one(st, sf_bind(st, PRINTER_SELECT "WHERE p.id = ?1", "i", id),
                  printer_from_row, out, "printer get");
}

int store_printer_list(struct store *st, const struct store_printer_filter *f,
                       int limit, int offset, store_printer_cb cb, void *arg)
{
    struct store_printer_filter none = { -1, 0, NULL };
    struct fleet_printer *p;
    sqlite3_stmt *s;
    int rc;

    if (!f)
        f = &none;
    s = sf_bind(st, PRINTER_SELECT
                "WHERE (?1 < 0 OR p.state = ?1) AND (?2 = 0 OR "
                "p.frontend_id = ?2) AND (?3 IS NULL OR EXISTS (SELECT 1 "
                "FROM printer_queues q WHERE q.printer_id = p.id AND "
                "q.queue = ?3)) ORDER BY p.id LIMIT ?4 OFFSET ?5",
                "iitii", (long long)f->state, f->frontend_id, f->queue,
                (long long)(limit > 0 ? limit : -1),
                (long long)(offset > 0 ? offset : 0));
    if (!s)
        return -1;
    p = malloc(sizeof(*p));   /* ~3 KiB: keep it off small thread stacks */
    if (!p) {
        sf_done(s);
        return -1;
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        printer_from_row(s, p);
        if (cb(arg, p))
            break;
    }
    free(p);
    sf_done(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0
                                                 : sf_fail(st, "printer list");
}

/* Checks each queue of a comma list exists; names a missing one. */
static int queues_exist(struct store *st, const char *list, char *bad,
                        size_t badlen)
{
    char copy[FLEET_LIST_MAX], *save = NULL, *q;
    long long one;
    int rc;

    snprintf(copy, sizeof(copy), "%s", list);
    for (q = strtok_r(copy, ",", &save); q; q = strtok_r(NULL, ",", &save)) {
        rc = sf_ll(st, &one, "SELECT 1 FROM queues WHERE name = ?1", "t", q);
        if (rc == STORE_NOTFOUND && bad)
            snprintf(bad, badlen, "%s", q);
        if (rc)
            return rc;
    }
    return 0;
}

static int queues_set(struct store *st, long long id, const char *list)
{
    char copy[FLEET_LIST_MAX], *save = NULL, *q;

    if (sf_exec(st, "DELETE FROM printer_queues WHERE printer_id = ?1", "i",
                id) < 0)
        return -1;
    snprintf(copy, sizeof(copy), "%s", list);
    for (q = strtok_r(copy, ",", &save); q; q = strtok_r(NULL, ",", &save)) {
        if (sf_exec(st, "INSERT OR IGNORE INTO printer_queues (printer_id, "
                    "queue) VALUES (?1, ?2)", "it", id, q) < 0)
            return -1;
    }
    return 0;
}

static int enroll_tx(struct store *st, const struct fleet_printer *p,
                     const struct fleet_policy *pol, double now,
                     long long *id, const char *token,
                     struct fleet_frontend *fe, char *bad, size_t badlen)
{
    const char *queues = p->queues[0] ? p->queues : "default";
    struct fleet_frontend *all = NULL;
    char hash[FLEET_SHA256_HEX];
    size_t n = 0;
    int rc, pick = -1;

    if ((rc = queues_exist(st, queues, bad, badlen)) != 0)
        return rc;
    if (store_frontend_load_all(st, &all, &n) < 0)
        return -1;
    /* No frontend at all is a LAN fleet reached directly: allowed. */
    if (n) {
        pick = loadmgr_choose(all, n, p->region, pol->region_fallback, 0);
        if (pick < 0) {
            free(all);
            return STORE_CONFLICT;
        }
        *fe = all[pick];
    }
    free(all);
    sf_hash_secret(token, hash);
    rc = sf_exec(st,
                 "INSERT INTO printers (name, token_hash, region, site, "
                 "frontend_id, share_url, share_auth, api_key, profile, "
                 "material, colour, tags, auto_eject, enrolled_at, "
                 "state_since) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
                 "?10, ?11, ?12, ?13, ?14, ?14)",
                 "ttttitttttttid", p->name, hash, p->region, p->site,
                 pick >= 0 ? fe->id : 0LL, p->share_url, p->share_auth,
                 p->api_key, p->profile, p->material, p->colour, p->tags,
                 (long long)(p->auto_eject != 0), now);
    if (rc < 0)
        return -1;
    *id = sqlite3_last_insert_rowid(store_db(st));
    if (!p->name[0] && sf_exec(st, "UPDATE printers SET name = 'printer-' "
                               "|| id WHERE id = ?1", "i", *id) < 0)
        return -1;
    if (queues_set(st, *id, queues) < 0)
        return -1;
    if (pick >= 0)
        fe->assigned++;
    return sf_event(st, now, "enrolled", *id, 0, 0,
                    pick >= 0 ? fe->name : "(no frontend)");
}

int store_printer_enroll(struct store *st, const struct fleet_printer *p,
                         const struct fleet_policy *pol, double now,
                         long long *id, char *token, size_t token_len,
                         struct fleet_frontend *fe, char *bad_queue,
                         size_t bad_queue_len)
{
    char hex[49];

    fleet_frontend_init(fe);
    fe->enabled = fe->healthy = 0;
    if (token_len < 4 + sizeof(hex) || rr_random_hex(hex, sizeof(hex), 24) < 0)
        return -1;
    snprintf(token, token_len, "rrp_%s", hex);
    SF_TX(st, enroll_tx(st, p, pol, now, id, token, fe, bad_queue,
                        bad_queue_len));
}

int store_printer_auth(struct store *st, const char *token, long long *id)
{
    char hash[FLEET_SHA256_HEX];

    if (!token || strncmp(token, "rrp_", 4) != 0)
        return STORE_NOTFOUND;
    sf_hash_secret(token, hash);
    return sf_ll(st, id, "SELECT id FROM printers WHERE token_hash = ?1", "t",
                 hash);
}

static int heartbeat_tx(struct store *st, long long id, const char *share_url,
                        const char *version, const char *agent_fe, double now,
                        struct fleet_printer *p, struct fleet_frontend *fe)
{
    int rc = store_printer_get(st, id, p);

    if (rc)
        return rc;
    if (share_url && strcmp(share_url, p->share_url) != 0) {
        if (sf_exec(st, "UPDATE printers SET share_url = ?2, move_pending = "
                    "0 WHERE id = ?1", "it", id, share_url) < 0)
            return -1;
        sf_event(st, now, "share", id, 0, 0, share_url);
    }
    if (agent_fe && p->frontend[0] && strcmp(agent_fe, p->frontend) == 0 &&
        sf_exec(st, "UPDATE printers SET move_pending = 0 WHERE id = ?1", "i",
                id) < 0)
        return -1;
    if (sf_exec(st, "UPDATE printers SET last_heartbeat = ?2, "
                "moonraker_version = COALESCE(?3, moonraker_version) "
                "WHERE id = ?1", "idt", id, now, version) < 0)
        return -1;
    if ((rc = store_printer_get(st, id, p)) != 0)
        return rc;
    fleet_frontend_init(fe);
    fe->enabled = fe->healthy = 0;
    if (p->frontend_id && store_frontend_get_id(st, p->frontend_id, fe) < 0)
        return -1;
    return 0;
}

int store_printer_heartbeat(struct store *st, long long id,
                            const char *share_url,
                            const char *moonraker_version,
                            const char *agent_frontend, double now,
                            struct fleet_printer *p, struct fleet_frontend *fe)
{
    SF_TX(st, heartbeat_tx(st, id, share_url, moonraker_version,
                           agent_frontend, now, p, fe));
}

static int set_share_tx(struct store *st, long long id, const char *url,
                        const char *auth, double now)
{
    int rc = sf_exec(st, "UPDATE printers SET share_url = ?2, share_auth = "
                     "COALESCE(?3, share_auth), move_pending = CASE WHEN "
                     "share_url = ?2 THEN move_pending ELSE 0 END WHERE "
                     "id = ?1", "itt", id, url, auth);

    if (rc < 0)
        return -1;
    if (rc == 0)
        return STORE_NOTFOUND;
    return sf_event(st, now, "share", id, 0, 0, url);
}

int store_printer_set_share(struct store *st, long long id, const char *url,
                            const char *share_auth, double now)
{
    SF_TX(st, set_share_tx(st, id, url, share_auth, now));
}

void fleet_printer_patch_init(struct fleet_printer_patch *pp)
{
    memset(pp, 0, sizeof(*pp));
    pp->auto_eject = -1;
}

static int text_from_row(sqlite3_stmt *s, void *obj)
{
    return (*(char **)obj = sf_col_dup(s, 0)) ? 0 : -1;
}

/* What a round weighs of printer id beside its state and spool (site,
 * profile, material, colour, auto-eject, queues) as one text, into *out
 * (malloc'd): 0, STORE_NOTFOUND or -1. */
static int printer_weighed(struct store *st, long long id, char **out)
{
    *out = NULL;
    return sf_one(st, sf_bind(st, "SELECT quote(site) || ',' || "
                              "quote(profile) || ',' || quote(material) || "
                              "',' || quote(colour) || ',' || "
                              "quote(auto_eject) || ',' || quote((SELECT "
                              "group_concat(queue, ',') FROM (SELECT queue "
                              "FROM printer_queues WHERE printer_id = ?1 "
                              "ORDER BY queue))) FROM printers WHERE id = ?1",
                              "i", id), text_from_row, out, "printer get");
}

static int update_write(struct store *st, long long id,
                        const struct fleet_printer_patch *pp, char *bad,
                        size_t badlen)
{
    int rc;

    if (pp->queues && (rc = queues_exist(st, pp->queues, bad, badlen)) != 0)
        return rc;
    if (sf_exec(st,
                "UPDATE printers SET name = COALESCE(?2, name), region = "
                "COALESCE(?3, region), site = COALESCE(?4, site), profile = "
                "COALESCE(?5, profile), material = COALESCE(?6, material), "
                "colour = COALESCE(?7, colour), tags = COALESCE(?8, tags), "
                "api_key = COALESCE(?9, api_key), share_auth = COALESCE(?10, "
                "share_auth), auto_eject = CASE WHEN ?11 < 0 THEN auto_eject "
                "ELSE ?11 END WHERE id = ?1",
                "ittttttttti", id, pp->name, pp->region, pp->site,
                pp->profile, pp->material, pp->colour, pp->tags, pp->api_key,
                pp->share_auth, (long long)pp->auto_eject) < 0)
        return -1;
    if (pp->queues && queues_set(st, id, pp->queues[0] ? pp->queues
                                                       : "default") < 0)
        return -1;
    return 0;
}

static int update_tx(struct store *st, long long id,
                     const struct fleet_printer_patch *pp, double now,
                     char *bad, size_t badlen)
{
    char *before = NULL, *after = NULL, why[120];
    int rc;

    if ((rc = printer_weighed(st, id, &before)) != 0 ||
        (rc = update_write(st, id, pp, bad, badlen)) != 0 ||
        (rc = printer_weighed(st, id, &after)) != 0)
        goto out;
    /* What held a job on this printer may hold it no more (a busy
     * printer's hold stands until a round weighs it again). */
    snprintf(why, sizeof(why), "printer %lld's settings changed: weighed "
             "again at the next round", id);
    if (strcmp(before, after) && sf_held_release(st, id, NULL, why, now) < 0)
        rc = -1;
    else
        rc = sf_event(st, now, "updated", id, 0, 0,
                      "printer settings changed");
out:
    free(before);
    free(after);
    return rc;
}

int store_printer_update(struct store *st, long long id,
                         const struct fleet_printer_patch *pp, double now,
                         char *bad_queue, size_t bad_queue_len)
{
    SF_TX(st, update_tx(st, id, pp, now, bad_queue, bad_queue_len));
}

static int remove_tx(struct store *st, long long id, double now)
{
    long long att;
    int rc = sf_ll(st, &att, "SELECT attempt_id FROM printers WHERE id = ?1",
                   "i", id);
    sqlite3_stmt *s;

    if (rc)
        return rc;
    if (att)
        return STORE_CONFLICT;
    if (sf_held_release(st, id, NULL, "the printer whose limits held it was "
                        "removed", now) < 0 ||
        sf_exec(st, "DELETE FROM printers WHERE id = ?1", "i", id) < 0)
        return -1;
    /* Copies aimed at this printer can never print now. */
    if (sf_exec(st, "UPDATE job_copies SET state = 3, reason = 'target "
                "printer removed' WHERE state = 0 AND job_id IN (SELECT id "
                "FROM jobs WHERE printer_id = ?1 AND state < 2)", "i", id) < 0)
        return -1;
    s = sf_bind(st, "SELECT id FROM jobs WHERE printer_id = ?1 AND state < 2",
                "i", id);
    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (sf_job_settle(st, sqlite3_column_int64(s, 0), now,
                          "target printer removed", NULL, NULL) < 0) {
            sf_done(s);
            return -1;
        }
    }
    sf_done(s);
    if (rc != SQLITE_DONE)
        return sf_fail(st, "printer remove");
    return sf_event(st, now, "removed", id, 0, 0, "printer removed");
}

int store_printer_remove(struct store *st, long long id, double now)
{
    SF_TX(st, remove_tx(st, id, now));
}

/* The effective state rule of model.h. */
static enum printer_state effective(enum printer_state observed,
                                    int quarantined, int maintenance,
                                    int needs_clearing, int attempt_state)
{
    if (quarantined)
        return PRINTER_QUARANTINED;
    if (observed == PRINTER_OFFLINE)
        return PRINTER_OFFLINE;
    if (observed == PRINTER_ERROR)
        return PRINTER_ERROR;
    if (attempt_state >= 0 && attempt_state_live(attempt_state)) {
        if (attempt_state <= ATTEMPT_UPLOADING)
            return PRINTER_UPLOADING;
        if (attempt_state == ATTEMPT_PAUSED || observed == PRINTER_PAUSED)
            return PRINTER_PAUSED;
        return PRINTER_PRINTING;
    }
    if (observed == PRINTER_PRINTING || observed == PRINTER_PAUSED)
        return observed;   /* busy with something we did not start */
    if (maintenance)
        return PRINTER_MAINTENANCE;
    if (needs_clearing)
        return PRINTER_NEEDS_CLEARING;
    return PRINTER_READY;
}

int sf_printer_recompute(struct store *st, long long id, double now,
                         enum printer_state *state)
{
    sqlite3_stmt *s = sf_bind(st,
                              "SELECT p.observed, p.quarantined, "
                              "p.maintenance, p.needs_clearing, p.state, "
                              "COALESCE(a.state, -1) FROM printers p LEFT "
                              "JOIN attempts a ON a.id = p.attempt_id "
                              "WHERE p.id = ?1", "i", id);
    enum printer_state now_state, old;
    int rc;

    if (!s)
        return -1;
    rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        sf_done(s);
        return rc == SQLITE_DONE ? STORE_NOTFOUND : sf_fail(st, "recompute");
    }
    now_state = effective((enum printer_state)sqlite3_column_int(s, 0),
                          sqlite3_column_int(s, 1), sqlite3_column_int(s, 2),
                          sqlite3_column_int(s, 3), sqlite3_column_int(s, 5));
    old = (enum printer_state)sqlite3_column_int(s, 4);
    sf_done(s);
    if (state)
        *state = now_state;
    if (now_state == old)
        return 0;
    return sf_exec(st, "UPDATE printers SET state = ?2, state_since = ?3, "
                   "ready_since = CASE WHEN ?2 = 1 THEN ?3 ELSE ready_since "
                   "END WHERE id = ?1", "iid", id, (long long)now_state,
                   now) < 0 ? -1 : 0;
}

/* Sets a hold column (a fixed SQL per hold) then recomputes. */
static int hold_tx(struct store *st, long long id, const char *sql,
                   const char *arg, const char *kind, const char *msg,
                   double now)
{
    long long one;
    int rc = sf_exec(st, sql, "it", id, arg);

    if (rc < 0)
        return -1;
    if (rc == 0) {
        rc = sf_ll(st, &one, "SELECT 1 FROM printers WHERE id = ?1", "i", id);
        return rc ? rc : STORE_CONFLICT;
    }
    if (sf_printer_recompute(st, id, now, NULL) < 0)
        return -1;
    return sf_event(st, now, kind, id, 0, 0, msg);
}

/* An operator looked at printer id: the failures there of jobs that wait
 * because no printer can take them no longer exclude it. */
static int forgive(struct store *st, long long id, double now)
{
    int n = sf_exec(st, "UPDATE attempts SET forgiven = 1 WHERE printer_id = "
                    "?1 AND state = 5 AND forgiven = 0 AND job_id IN (SELECT "
                    "id FROM jobs WHERE state < 2 AND waiting_reason IS NOT "
                    "NULL)", "i", id);
    char msg[96];

    if (n <= 0)
        return n;
    snprintf(msg, sizeof(msg), "%d failure%s of waiting jobs forgiven: they "
             "may print here again", n, n == 1 ? "" : "s");
    return sf_event(st, now, "forgiven", id, 0, 0, msg);
}

static int cleared_tx(struct store *st, long long id, double now)
{
    int rc = hold_tx(st, id, "UPDATE printers SET needs_clearing = 0 WHERE "
                     "id = ?1 AND needs_clearing = 1 AND ?2 IS NULL", NULL,
                     "cleared", "bed cleared by operator", now);

    return rc ? rc : forgive(st, id, now) < 0 ? -1 : 0;
}

int store_printer_cleared(struct store *st, long long id, double now)
{
    SF_TX(st, cleared_tx(st, id, now));
}

int store_printer_print_ended(struct store *st, long long id,
                              const char *filename, double now)
{
    char msg[FLEET_FILENAME_MAX + 96];

    snprintf(msg, sizeof(msg), "a print not started by rrcloud ended (%.*s): "
             "bed needs clearing", FLEET_FILENAME_MAX, filename ? filename :
             "");
    SF_TX(st, hold_tx(st, id, "UPDATE printers SET needs_clearing = 1 WHERE "
                      "id = ?1 AND needs_clearing = 0 AND attempt_id = 0 AND "
                      "?2 IS NULL", NULL, "external_print", msg, now));
}

int store_printer_maintenance(struct store *st, long long id, int on,
                              const char *reason, double now)
{
    if (on)
        SF_TX(st, hold_tx(st, id, "UPDATE printers SET maintenance = 1, "
                          "hold_reason = COALESCE(?2, 'maintenance') WHERE "
                          "id = ?1", reason, "maintenance",
                          reason ? reason : "maintenance on", now));
    SF_TX(st, hold_tx(st, id, "UPDATE printers SET maintenance = 0, "
                      "hold_reason = CASE WHEN quarantined THEN hold_reason "
                      "ELSE '' END WHERE id = ?1 AND ?2 IS NULL", NULL,
                      "maintenance", "maintenance off", now));
}

static int release_tx(struct store *st, long long id, double now)
{
    int rc = hold_tx(st, id, "UPDATE printers SET quarantined = 0, "
                     "consecutive_failures = 0, hold_reason = CASE WHEN "
                     "maintenance THEN hold_reason ELSE '' END WHERE id = ?1 "
                     "AND quarantined = 1 AND ?2 IS NULL", NULL, "released",
                     "quarantine released by operator", now);

    return rc ? rc : forgive(st, id, now) < 0 ? -1 : 0;
}

int store_printer_release(struct store *st, long long id, double now)
{
    SF_TX(st, release_tx(st, id, now));
}

static int command_tx(struct store *st, long long id, enum printer_cmd c,
                      double now)
{
    long long one;
    int rc = sf_exec(st, "UPDATE printers SET pending_cmd = ?2 WHERE id = ?1 "
                     "AND attempt_id != 0", "ii", id, (long long)c);

    if (rc < 0)
        return -1;
    if (rc == 0) {
        rc = sf_ll(st, &one, "SELECT 1 FROM printers WHERE id = ?1", "i", id);
        return rc ? rc : STORE_CONFLICT;
    }
    return sf_event(st, now, "command", id, 0, 0, printer_cmd_name(c));
}

int store_printer_command(struct store *st, long long id, enum printer_cmd c,
                          double now)
{
    if (c <= PCMD_NONE || c >= PCMD_COUNT)
        return -1;
    SF_TX(st, command_tx(st, id, c, now));
}

int store_printer_commands(struct store *st, store_printer_cb cb, void *arg)
{
    struct fleet_printer *p = malloc(sizeof(*p));
    sqlite3_stmt *s;
    int rc;

    if (!p)
        return -1;
    s = sf_bind(st, PRINTER_SELECT "WHERE p.pending_cmd > 0 ORDER BY p.id",
                NULL);
    if (!s) {
        free(p);
        return -1;
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        printer_from_row(s, p);
        if (cb(arg, p))
            break;
    }
    free(p);
    sf_done(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0
                                                 : sf_fail(st, "commands");
}

int store_printer_command_done(struct store *st, long long id)
{
    int rc = sf_exec(st, "UPDATE printers SET pending_cmd = 0 WHERE id = ?1",
                     "i", id);

    return rc < 0 ? -1 : rc == 0 ? STORE_NOTFOUND : 0;
}

int sf_printer_observed(struct store *st, long long id,
                        enum printer_state observed, const char *klippy,
                        double now, enum printer_state *state)
{
    char old_word[64] = "", kind[32], msg[160];
    sqlite3_stmt *s = sf_bind(st, "SELECT observed, klippy_state FROM "
                              "printers WHERE id = ?1", "i", id);
    enum printer_state old;
    int rc;

    if (!s)
        return -1;
    rc = sqlite3_step(s);
    if (rc != SQLITE_ROW) {
        sf_done(s);
        return rc == SQLITE_DONE ? STORE_NOTFOUND : sf_fail(st, "observe");
    }
    old = (enum printer_state)sqlite3_column_int(s, 0);
    sf_col(s, 1, old_word, sizeof(old_word));
    sf_done(s);
    if (sf_exec(st, "UPDATE printers SET observed = ?2, klippy_state = "
                "COALESCE(?3, klippy_state), last_seen = CASE WHEN ?2 "
                "!= 0 THEN ?4 ELSE last_seen END WHERE id = ?1", "iitd",
                id, (long long)observed, klippy, now) < 0)
        return -1;
    /* Once per change of health, not per poll (an unchanged observation
     * is not written at all, or only to refresh last_seen). */
    if (fleet_health_change(old, old_word, observed, klippy ? klippy :
                            old_word, kind, sizeof(kind), msg, sizeof(msg)) &&
        sf_event(st, now, kind, id, 0, 0, msg) < 0)
        return -1;
    return sf_printer_recompute(st, id, now, state);
}

static int observe_tx(struct store *st, long long id,
                      enum printer_state observed, const char *klippy,
                      double now, enum printer_state *state)
{
    return sf_printer_observed(st, id, observed, klippy, now, state);
}

int store_printer_observe(struct store *st, long long id,
                          enum printer_state observed,
                          const char *klippy_state, double now,
                          enum printer_state *state)
{
    if (observed != PRINTER_OFFLINE && observed != PRINTER_READY &&
        observed != PRINTER_PRINTING && observed != PRINTER_PAUSED &&
        observed != PRINTER_ERROR)
        return -1;
    SF_TX(st, observe_tx(st, id, observed, klippy_state, now, state));
}
