/* store_sites.c - sites' staffed hours and printers' spools
 * (store_sites.h), and their parts of a scheduling round and of a print's
 * end (store_fleet_int.h). */
#include "store/store_sites.h"

#include "common/log.h"
#include "store/store_fleet_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- sites -------------------------------------------------------------- */

static int site_tx(struct store *st, const char *name, const char *hours,
                   double now)
{
    char why[FLEET_NAME_MAX + 80];
    int rc;

    if (!hours[0])
        rc = sf_exec(st, "DELETE FROM sites WHERE name = ?1", "t", name);
    else
        rc = sf_exec(st, "INSERT INTO sites (name, staffed_hours, updated) "
                     "VALUES (?1, ?2, ?3) ON CONFLICT (name) DO UPDATE SET "
                     "staffed_hours = ?2, updated = ?3", "ttd", name, hours,
                     now);
    if (rc < 0)
        return -1;
    /* The jobs its printers held for hours are weighed again. */
    snprintf(why, sizeof(why), "site %s's staffed hours set: weighed again "
             "at the next round", name[0] ? name : "(default)");
    return sf_held_release(st, 0, name, why, now);
}

int store_site_set(struct store *st, const char *name, const char *hours,
                   double now)
{
    SF_TX(st, site_tx(st, name, hours, now));
}

/* Named sites: rows of sites and names printers give. */
#define SITE_SELECT                                                          \
    "SELECT n.name, coalesce(s.staffed_hours, ''), coalesce(s.updated, 0), " \
    "(SELECT count(*) FROM printers p WHERE p.site = n.name) FROM (SELECT "  \
    "name FROM sites UNION SELECT site FROM printers WHERE site != '') n "   \
    "LEFT JOIN sites s ON s.name = n.name "

static int site_from_row(sqlite3_stmt *s, void *obj)
{
    struct store_site *o = obj;

    memset(o, 0, sizeof(*o));
    sf_col(s, 0, o->name, sizeof(o->name));
    sf_col(s, 1, o->staffed_hours, sizeof(o->staffed_hours));
    o->updated = sqlite3_column_double(s, 2);
    o->printers = sqlite3_column_int(s, 3);
    return 0;
}

int store_site_list(struct store *st, store_site_cb cb, void *arg)
{
    struct store_site *v = NULL;
    size_t n = 0;

    if (sf_load(st, sf_bind(st, SITE_SELECT "ORDER BY n.name", NULL),
                site_from_row, sizeof(*v), (void **)&v, &n, "sites") < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (cb(arg, &v[i]))
            break;
    }
    free(v);
    return 0;
}

int store_site_get(struct store *st, const char *name,
                   struct store_site *out)
{
    memset(out, 0, sizeof(*out));
    return sf_one(st, sf_bind(st, SITE_SELECT "WHERE n.name = ?1", "t", name),
                  site_from_row, out, "site get");
}

/* Every site's hours into a round's input (texts the API checked; one
 * that no longer parses is logged and counts as always staffed). */
int sf_sched_hours(struct store *st, struct sched_input *in)
{
    sqlite3_stmt *s = sf_bind(st, "SELECT name, staffed_hours FROM sites "
                              "WHERE staffed_hours != ''", NULL);
    struct fleet_hours h;
    char err[256];
    int rc;

    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *name = (const char *)sqlite3_column_text(s, 0);
        const char *text = (const char *)sqlite3_column_text(s, 1);
        int site = sched_intern(in, name);

        if (site < 0)
            break;
        if (fleet_hours_parse(text, &h, err, sizeof(err)) < 0) {
            log_warn("site %s: staffed_hours ignored: %s", name, err);
            continue;
        }
        if (sched_set_hours(in, site, &h) < 0)
            break;
    }
    sf_done(s);
    return rc == SQLITE_DONE ? 0 : sf_fail(st, "sched hours");
}

/* ---- spools ------------------------------------------------------------- */

static int spool_tx(struct store *st, long long id, double grams,
                    const char *material, const char *colour, double now)
{
    char msg[200];
    int rc;

    rc = sf_exec(st, "UPDATE printers SET spool_g = CASE WHEN ?2 < 0 THEN "
                 "NULL ELSE ?2 END, spool_set = ?3, material = coalesce(?4, "
                 "material), colour = coalesce(?5, colour) WHERE id = ?1",
                 "iddtt", id, grams, now, material, colour);
    if (rc <= 0)
        return rc < 0 ? -1 : STORE_NOTFOUND;
    if (grams < 0)
        snprintf(msg, sizeof(msg), "spool set: grams unknown");
    else
        snprintf(msg, sizeof(msg), "spool set: %.1f g", grams);
    if (sf_event(st, now, "spool", id, 0, 0, msg) < 0)
        return -1;
    snprintf(msg, sizeof(msg), "printer %lld's spool set: weighed again at "
             "the next round", id);
    return sf_held_release(st, id, NULL, msg, now);
}

int store_printer_spool_set(struct store *st, long long id, double grams,
                            const char *material, const char *colour,
                            double now)
{
    SF_TX(st, spool_tx(st, id, grams, material, colour, now));
}

int sf_spool_debit(struct store *st, const struct fleet_attempt *a,
                   double now)
{
    char msg[200];
    double g, left;
    sqlite3_stmt *s;
    int rc;

    s = sf_bind(st, "SELECT b.filament_g, max(p.spool_g - b.filament_g, 0) "
                "FROM printers p JOIN blobs b ON b.sha256 = ?2 WHERE p.id = "
                "?1 AND p.spool_g IS NOT NULL AND b.filament_g IS NOT NULL",
                "it", a->printer_id, a->sha256);
    if (!s)
        return -1;
    rc = sqlite3_step(s);
    g = rc == SQLITE_ROW ? sqlite3_column_double(s, 0) : 0;
    left = rc == SQLITE_ROW ? sqlite3_column_double(s, 1) : 0;
    sf_done(s);
    if (rc == SQLITE_DONE)
        return 0;               /* unknown spool or filament: nothing to do */
    if (rc != SQLITE_ROW)
        return sf_fail(st, "spool debit");
    snprintf(msg, sizeof(msg), "spool debited %.1f g: %.1f g left", g, left);
    if (sf_exec(st, "UPDATE printers SET spool_g = ?2 WHERE id = ?1", "id",
                a->printer_id, left) < 0)
        return -1;
    return sf_event(st, now, "spool", a->printer_id, a->job_id, a->id, msg);
}

/* ---- jobs held ---------------------------------------------------------- */

int sf_job_held(struct store *st, long long job_id, long long printer_id,
                const char *reason, double now)
{
    int rc = sf_exec(st, "UPDATE jobs SET held_reason = ?2, held_printer = "
                     "?3 WHERE id = ?1 AND state < 2 AND held_reason IS NOT "
                     "?2", "iti", job_id, reason, printer_id);

    if (rc <= 0)
        return rc < 0 ? -1 : 0;
    return sf_event(st, now, "job_held", printer_id, job_id, 0, reason);
}

/* A job no limit is known to hold any more: its reason cleared, with a
 * "job_unheld" event (why) if it had one. */
static int job_unheld(struct store *st, long long job_id, const char *why,
                      double now)
{
    int rc = sf_exec(st, "UPDATE jobs SET held_reason = NULL, held_printer "
                     "= 0 WHERE id = ?1 AND held_reason IS NOT NULL", "i",
                     job_id);

    if (rc <= 0)
        return rc < 0 ? -1 : 0;
    return sf_event(st, now, "job_unheld", 0, job_id, 0, why);
}

static int id_from_row(sqlite3_stmt *s, void *obj)
{
    *(long long *)obj = sqlite3_column_int64(s, 0);
    return 0;
}

/* Releases the held jobs of s's rows (job ids), saying why. */
static int unheld_rows(struct store *st, sqlite3_stmt *s, const char *why,
                       double now)
{
    long long *ids = NULL;
    size_t n = 0;
    int rc = 0;

    if (sf_load(st, s, id_from_row, sizeof(*ids), (void **)&ids, &n,
                "jobs held") < 0)
        return -1;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = job_unheld(st, ids[i], why, now);
    free(ids);
    return rc;
}

int sf_held_release(struct store *st, long long printer_id, const char *site,
                    const char *why, double now)
{
    if (site)
        return unheld_rows(st, sf_bind(st, "SELECT j.id FROM jobs j INDEXED "
                                       "BY jobs_held JOIN printers p ON p.id "
                                       "= j.held_printer WHERE j.held_reason "
                                       "IS NOT NULL AND p.site = ?1", "t",
                                       site), why, now);
    return unheld_rows(st, sf_bind(st, "SELECT id FROM jobs INDEXED BY "
                                   "jobs_held WHERE held_reason IS NOT NULL "
                                   "AND held_printer = ?1", "i", printer_id),
                       why, now);
}

/* Held jobs that wait no more (ended, cancelling, no queued copy); the
 * partial index jobs_held reads only the rows that have a reason. */
#define HELD_DONE                                                            \
    "held_reason IS NOT NULL AND (state >= 2 OR cancelling != 0 OR NOT "     \
    "EXISTS (SELECT 1 FROM job_copies c WHERE c.job_id = jobs.id AND "       \
    "c.state = 0))"

int sf_sched_held(struct store *st, const struct sched_input *in,
                  const struct sched_hold *held, size_t n, double now)
{
    char why[FLEET_REASON_MAX];

    for (size_t i = 0; i < n; i++) {
        int rc;

        if (held[i].why == SCHED_OK) {
            rc = job_unheld(st, held[i].job_id, "a ready printer's spool and "
                            "staffed hours let it print now", now);
        } else {
            sched_hold_text(in, &held[i], why, sizeof(why));
            rc = sf_job_held(st, held[i].job_id, held[i].printer_id, why,
                             now);
        }
        if (rc < 0)
            return -1;
    }
    /* Jobs that wait no more: their end or dispatch says why. */
    return sf_exec(st, "UPDATE jobs INDEXED BY jobs_held SET held_reason = "
                   "NULL, held_printer = 0 WHERE " HELD_DONE, NULL) < 0 ? -1
                                                                     : 0;
}

int sf_held_done(struct store *st)
{
    long long v = 0;

    if (sf_ll(st, &v, "SELECT EXISTS (SELECT 1 FROM jobs INDEXED BY "
              "jobs_held WHERE " HELD_DONE ")", NULL) != 0)
        return -1;
    return v ? 1 : 0;
}
