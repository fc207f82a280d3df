/* test_store_sites.c - src/store/store_sites.c on a temporary database:
 * sites' hours, a spool that keeps a printer out of a round and the
 * "job_held" event noted once, a job's held_reason kept current by each
 * round (the heat-up-limited round of store_fleet_relay.c too, also when
 * another connection commits during it) and released by a printer PATCH
 * of what a round weighs, and a completed print debiting its filament
 * exactly once. */
#include "fleet/gcode_meta.h"
#include "fleet/model.h"
#include "store/store_fleet.h"
#include "store/store_fleet_relay.h"
#include "store/store_sites.h"
#include "suites.h"
#include "tmpstore.h"

#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"

static char dir[256];
static struct store *st;
static struct fleet_policy pol;

static void setup(void)
{
    st = tmpstore_open("sites", dir, sizeof(dir));
    memset(&pol, 0, sizeof(pol));
    pol.fail_per_printer = 1;
    pol.fail_printers = 2;
    pol.lease = 300;
    pol.frontend_capacity = 150;
}

static void teardown(void)
{
    tmpstore_close(st, dir);
}

/* A ready printer at site, serving "default", with grams on its spool. */
static long long printer(const char *site, double grams)
{
    struct fleet_printer p;
    struct fleet_frontend fe;
    char tok[FLEET_TOKEN_MAX];
    long long id;

    fleet_printer_init(&p);
    snprintf(p.site, sizeof(p.site), "%s", site);
    ck_assert_int_eq(store_printer_enroll(st, &p, &pol, 100, &id, tok,
                                          sizeof(tok), &fe, NULL, 0), 0);
    ck_assert_int_eq(store_printer_observe(st, id, PRINTER_READY, "ready",
                                           101, NULL), 0);
    ck_assert_int_eq(store_printer_spool_set(st, id, grams, NULL, NULL, 102),
                     0);
    return id;
}

/* A job of one copy whose G-code says it needs 40 g and 20 minutes. */
static long long job(void)
{
    struct fleet_job_file f;
    struct fleet_job_spec spec;
    struct gcode_meta m;
    long long id;

    memset(&f, 0, sizeof(f));
    snprintf(f.sha256, sizeof(f.sha256), SHA_A);
    snprintf(f.filename, sizeof(f.filename), "cube.gcode");
    ck_assert_int_eq(store_blob_put(st, SHA_A, 123, 50), 0);
    gcode_meta_parse("", 0, NULL, 0, &m);
    m.filament_g = 40;
    m.time_s = 1200;
    ck_assert_int_eq(store_blob_meta_set(st, SHA_A, &m), 0);
    memset(&spec, 0, sizeof(spec));
    spec.queue = "default";
    spec.copies = 1;
    spec.files = &f;
    spec.nfiles = 1;
    ck_assert_int_eq(store_job_create(st, &spec, 110, &id), 0);
    return id;
}

static double spool_of(long long id)
{
    struct fleet_printer p;

    ck_assert_int_eq(store_printer_get(st, id, &p), 0);
    return p.spool_g;
}

struct held {
    int n, unheld;
    char last[512];
};

static int held_event(void *arg, const struct fleet_event *e)
{
    struct held *h = arg;

    if (!strcmp(e->kind, "job_held")) {
        h->n++;
        snprintf(h->last, sizeof(h->last), "%s", e->message);
    }
    if (!strcmp(e->kind, "job_unheld"))
        h->unheld++;
    return 0;
}

static struct held held_events(void)
{
    struct held h = { 0, 0, "" };

    ck_assert_int_eq(store_event_list(st, 0, 1000, held_event, &h), 0);
    return h;
}

/* Job id's held_reason as the API shows it: "" when NULL. */
static const char *held_reason(long long id, char *buf, size_t len)
{
    struct fleet_job j;

    ck_assert_int_eq(store_job_get(st, id, &j), 0);
    snprintf(buf, len, "%s", j.held_reason ? j.held_reason : "");
    fleet_job_clear(&j);
    return buf;
}

/* Takes printer id out of rounds (as if busy) or back (ready). */
static void printer_ready(long long id, int ready, double now)
{
    ck_assert_int_eq(store_printer_observe(st, id, ready ? PRINTER_READY
                                                         : PRINTER_OFFLINE,
                                           ready ? "ready" : "shutdown", now,
                                           NULL), 0);
}

static int first_attempt(void *arg, const struct fleet_attempt *a)
{
    *(struct fleet_attempt *)arg = *a;
    return 1;
}

START_TEST(spool_keeps_out_and_is_debited_once)
{
    long long low = printer("", 5), full, j = job();
    struct fleet_attempt a;
    struct held h = { 0, 0, "" };
    char want[256];
    int n = -1;

    ck_assert_int_eq(store_fleet_dispatch(st, &pol, 200, NULL, NULL, &n), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(store_fleet_dispatch(st, &pol, 201, NULL, NULL, &n), 0);
    ck_assert_int_eq(store_event_list(st, 0, 1000, held_event, &h), 0);
    ck_assert_int_eq(h.n, 1);                  /* once per reason */
    snprintf(want, sizeof(want), "waits for filament: it needs 40.0 g, "
             "printer %lld's spool has 5.0 g", low);
    ck_assert_str_eq(h.last, want);
    full = printer("", 500);
    memset(&a, 0, sizeof(a));
    ck_assert_int_eq(store_fleet_dispatch(st, &pol, 300, first_attempt, &a,
                                          &n), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(a.printer_id, full);
    ck_assert_int_eq(a.job_id, j);
    ck_assert_str_eq(held_reason(j, want, sizeof(want)), "");  /* dispatched */
    ck_assert_int_eq(store_attempt_end(st, a.id, ATTEMPT_COMPLETE, NULL,
                                       &pol, 400, NULL), 0);
    ck_assert_double_eq(spool_of(full), 460);
    ck_assert_int_eq(store_attempt_end(st, a.id, ATTEMPT_COMPLETE, NULL,
                                       &pol, 401, NULL), STORE_CONFLICT);
    ck_assert_double_eq(spool_of(full), 460);
    ck_assert_double_eq(spool_of(low), 5);
    /* Unknown again: no limit, nothing debited. */
    ck_assert_int_eq(store_printer_spool_set(st, low, -1, "pla", NULL, 402),
                     0);
    ck_assert_double_eq(spool_of(low), -1);
    ck_assert_int_eq(store_printer_spool_set(st, 999, 5, NULL, NULL, 403),
                     STORE_NOTFOUND);
}
END_TEST

START_TEST(hours_hold_in_a_round)
{
    struct held h = { 0, 0, "" };
    struct store_site s;
    char got[512];
    long long j;
    int n = -1;

    printer("lab", -1);
    /* 1970-01-05 was a Monday: Monday 17:00 UTC, a 20 min print ends
     * 17:20, after the window. */
    ck_assert_int_eq(store_site_set(st, "lab", "Mon 08:00-17:10, UTC", 150),
                     0);
    j = job();
    ck_assert_int_eq(store_fleet_dispatch(st, &pol, 4 * 86400.0 + 17 * 3600,
                                          NULL, NULL, &n), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(store_event_list(st, 0, 1000, held_event, &h), 0);
    ck_assert_int_eq(h.n, 1);
    ck_assert_ptr_nonnull(strstr(h.last, "would end outside site lab's "
                                 "staffed hours (Mon 08:00-17:10, UTC)"));
    ck_assert_int_eq(store_site_get(st, "lab", &s), 0);
    ck_assert_str_eq(s.staffed_hours, "Mon 08:00-17:10, UTC");
    ck_assert_int_eq(s.printers, 1);
    ck_assert_ptr_nonnull(strstr(held_reason(j, got, sizeof(got)),
                                 "staffed hours (Mon 08:00-17:10, UTC)"));
    /* Cleared: always staffed, and the site stays (a printer names it);
     * the job it held is released at once. */
    ck_assert_int_eq(store_site_set(st, "lab", "", 160), 0);
    ck_assert_str_eq(held_reason(j, got, sizeof(got)), "");
    ck_assert_int_eq(held_events().unheld, 1);
    ck_assert_int_eq(store_site_get(st, "lab", &s), 0);
    ck_assert_str_eq(s.staffed_hours, "");
    ck_assert_int_eq(store_site_get(st, "attic", &s), STORE_NOTFOUND);
    ck_assert_int_eq(store_fleet_dispatch(st, &pol, 4 * 86400.0 + 17 * 3600,
                                          NULL, NULL, &n), 0);
    ck_assert_int_eq(n, 1);
}
END_TEST

START_TEST(held_reason_kept_current)
{
    long long low = printer("", 5), j = job(), k;
    char want[256], got[512];
    struct held h;
    int n = -1;

    snprintf(want, sizeof(want), "waits for filament: it needs 40.0 g, "
             "printer %lld's spool has 5.0 g", low);
    ck_assert_int_eq(store_fleet_dispatch(st, &pol, 200, NULL, NULL, &n), 0);
    ck_assert_str_eq(held_reason(j, got, sizeof(got)), want);
    /* The printer busy: no news, what held the job still stands. */
    printer_ready(low, 0, 210);
    ck_assert_int_eq(store_fleet_dispatch(st, &pol, 211, NULL, NULL, &n), 0);
    ck_assert_str_eq(held_reason(j, got, sizeof(got)), want);
    printer_ready(low, 1, 220);
    ck_assert_int_eq(store_fleet_dispatch(st, &pol, 221, NULL, NULL, &n), 0);
    h = held_events();
    ck_assert_int_eq(h.n, 1);
    ck_assert_int_eq(h.unheld, 0);
    /* Its spool set (still short, the printer busy): released at once,
     * held again by the next round that weighs it, with the new grams. */
    printer_ready(low, 0, 222);
    ck_assert_int_eq(store_printer_spool_set(st, low, 6, NULL, NULL, 223),
                     0);
    ck_assert_str_eq(held_reason(j, got, sizeof(got)), "");
    ck_assert_int_eq(held_events().unheld, 1);
    printer_ready(low, 1, 224);
    ck_assert_int_eq(store_fleet_dispatch(st, &pol, 225, NULL, NULL, &n), 0);
    ck_assert_ptr_nonnull(strstr(held_reason(j, got, sizeof(got)),
                                 "spool has 6.0 g"));
    ck_assert_int_eq(held_events().n, 2);
    /* A second printer with a full spool takes a better job: the first
     * waits for its turn, not for filament. */
    printer("", 500);
    k = job();
    ck_assert_int_eq(store_job_move(st, k, 0, 0, 1, 9), 0);
    ck_assert_int_eq(store_fleet_dispatch(st, &pol, 230, NULL, NULL, &n), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_str_eq(held_reason(j, got, sizeof(got)), "");
    ck_assert_int_eq(held_events().unheld, 2);
    /* Held again; its printer removed: released. */
    ck_assert_int_eq(store_fleet_dispatch(st, &pol, 240, NULL, NULL, &n), 0);
    ck_assert_int_eq(held_events().n, 3);
    ck_assert_int_eq(store_printer_remove(st, low, 241), 0);
    ck_assert_str_eq(held_reason(j, got, sizeof(got)), "");
    ck_assert_int_eq(held_events().unheld, 3);
    /* Held by a third printer's spool (the second one prints), then
     * cancelled: the next round clears it, without an event. */
    printer("", 1);
    ck_assert_int_eq(store_fleet_dispatch(st, &pol, 244, NULL, NULL, &n), 0);
    ck_assert_ptr_nonnull(strstr(held_reason(j, got, sizeof(got)),
                                 "spool has 1.0 g"));
    ck_assert_int_eq(store_job_cancel(st, j, "test", 245, NULL), 0);
    ck_assert_int_eq(store_fleet_dispatch(st, &pol, 246, NULL, NULL, &n), 0);
    ck_assert_str_eq(held_reason(j, got, sizeof(got)), "");
    ck_assert_int_eq(held_events().unheld, 3);
}
END_TEST

/* Field i of a printer PATCH, as a change (after the earlier ones) or
 * as the value it has already (noop). */
static void patch_field(struct fleet_printer_patch *pp, int i, int noop)
{
    fleet_printer_patch_init(pp);
    pp->name = noop ? "renamed" : NULL;     /* never weighed */
    switch (i) {
    case 0: pp->auto_eject = 1; break;
    case 1: pp->site = "lab"; break;
    case 2: pp->material = "pla"; break;
    case 3: pp->colour = "red"; break;
    case 4: pp->queues = noop ? "farm,default" : "default,farm"; break;
    case 5: pp->profile = "mk4"; break;
    }
}

/* A PATCH of what a round weighs (auto_eject, site, material, colour,
 * queues, profile) releases the hold of its busy printer's job at once;
 * one that changes none of it (a name, a value it has already) does
 * not. */
START_TEST(printer_update_releases_holds)
{
    long long low = printer("", 5), j = job();
    struct fleet_printer_patch pp;
    char want[256], got[512];
    double t = 200;
    int n = -1;

    ck_assert_int_eq(store_queue_add(st, "farm", 150), 0);
    for (int i = 0; i < 6; i++) {
        printer_ready(low, 1, t++);
        ck_assert_int_eq(store_fleet_dispatch(st, &pol, t++, NULL, NULL,
                                              &n), 0);
        ck_assert_int_eq(n, 0);
        held_reason(j, want, sizeof(want));
        ck_assert_str_ne(want, "");
        printer_ready(low, 0, t++);
        patch_field(&pp, i ? i - 1 : 0, 1);
        if (i == 0)
            pp.auto_eject = -1;
        ck_assert_int_eq(store_printer_update(st, low, &pp, t++, NULL, 0),
                         0);
        ck_assert_str_eq(held_reason(j, got, sizeof(got)), want);
        ck_assert_int_eq(held_events().unheld, i);
        patch_field(&pp, i, 0);
        ck_assert_int_eq(store_printer_update(st, low, &pp, t++, NULL, 0),
                         0);
        ck_assert_msg(!strcmp(held_reason(j, got, sizeof(got)), ""),
                      "field %d: still held: %s", i, got);
        ck_assert_int_eq(held_events().unheld, i + 1);
    }
}
END_TEST

/* The heat-up-limited round (store_relay_dispatch with heatup_max > 0)
 * loads, weighs and writes holds in transactions of its own. */
START_TEST(heatup_round_writes_holds)
{
    struct store_relay_heat heat = { "", 0 };
    long long low = printer("", 5), j = job(), k;
    struct fleet_attempt a;
    char want[256], got[512];
    int n = -1;

    pol.heatup_max = 1;
    snprintf(want, sizeof(want), "waits for filament: it needs 40.0 g, "
             "printer %lld's spool has 5.0 g", low);
    ck_assert_int_eq(store_relay_dispatch(st, &pol, 200, &heat, 1, NULL,
                                          NULL, &n), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(store_relay_dispatch(st, &pol, 201, &heat, 1, NULL,
                                          NULL, &n), 0);
    ck_assert_str_eq(held_reason(j, got, sizeof(got)), want);
    ck_assert_int_eq(held_events().n, 1);
    /* The site full of heating printers: the limit still bars the job,
     * so it stays held, with no new event. */
    heat.heating = 1;
    ck_assert_int_eq(store_relay_dispatch(st, &pol, 202, &heat, 1, NULL,
                                          NULL, &n), 0);
    ck_assert_str_eq(held_reason(j, got, sizeof(got)), want);
    ck_assert_int_eq(held_events().n, 1);
    /* Refilled: released at once; the site still full, it waits for a
     * heat-up slot and is not held again; then the slot frees and it
     * goes. */
    ck_assert_int_eq(store_printer_spool_set(st, low, 500, NULL, NULL, 203),
                     0);
    ck_assert_int_eq(store_relay_dispatch(st, &pol, 204, &heat, 1, NULL,
                                          NULL, &n), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_str_eq(held_reason(j, got, sizeof(got)), "");
    ck_assert_int_eq(held_events().unheld, 1);
    heat.heating = 0;
    memset(&a, 0, sizeof(a));
    ck_assert_int_eq(store_relay_dispatch(st, &pol, 205, &heat, 1,
                                          first_attempt, &a, &n), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(a.job_id, j);
    ck_assert_int_eq(a.printer_id, low);
    /* Another job, held by a second printer's short spool, cancelled: the
     * next round, with nothing held, still clears it. */
    printer("", 1);
    k = job();
    ck_assert_int_eq(store_relay_dispatch(st, &pol, 206, &heat, 1, NULL,
                                          NULL, &n), 0);
    ck_assert_ptr_nonnull(strstr(held_reason(k, got, sizeof(got)),
                                 "spool has 1.0 g"));
    ck_assert_int_eq(store_job_cancel(st, k, "test", 207, NULL), 0);
    ck_assert_str_ne(held_reason(k, got, sizeof(got)), "");
    ck_assert_int_eq(store_relay_dispatch(st, &pol, 208, &heat, 1, NULL,
                                          NULL, &n), 0);
    ck_assert_str_eq(held_reason(k, got, sizeof(got)), "");
}
END_TEST

/* A second connection refills a printer's spool at the moment the
 * heat-up-limited round ends its read snapshot (its first COMMIT). */
static struct store *race_other;
static long long race_printer;
static int race_armed;

static int race_trace(unsigned type, void *ctx, void *p, void *x)
{
    const char *sql = sqlite3_sql(p);

    if (race_armed && sql && !strcmp(sql, "COMMIT")) {
        race_armed = 0;
        ck_assert_int_eq(store_printer_spool_set(race_other, race_printer,
                                                 500, NULL, NULL, 203), 0);
    }
    return 0;
}

/* The refill released the hold; the round weighed before it must not set
 * the hold again with the old grams (nor note job_held again): it weighs
 * again in its write transaction, and the job goes. */
START_TEST(heatup_round_holds_not_stale)
{
    struct store_relay_heat heat = { "", 0 };
    long long low = printer("", 5), j = job();
    char path[512], err[256], got[512];
    struct held h;
    int n = -1;

    pol.heatup_max = 1;
    ck_assert_int_eq(store_relay_dispatch(st, &pol, 200, &heat, 1, NULL,
                                          NULL, &n), 0);
    ck_assert_str_ne(held_reason(j, got, sizeof(got)), "");
    snprintf(path, sizeof(path), "%s/t.db", dir);
    race_other = store_open(path, err, sizeof(err));
    ck_assert_msg(race_other != NULL, "%s", err);
    race_printer = low;
    race_armed = 1;
    sqlite3_trace_v2(store_db(st), SQLITE_TRACE_STMT, race_trace, NULL);
    ck_assert_int_eq(store_relay_dispatch(st, &pol, 204, &heat, 1, NULL,
                                          NULL, &n), 0);
    sqlite3_trace_v2(store_db(st), 0, NULL, NULL);
    ck_assert_int_eq(race_armed, 0);            /* the refill happened */
    store_close(race_other);
    ck_assert_double_eq(spool_of(low), 500);
    ck_assert_str_eq(held_reason(j, got, sizeof(got)), "");
    h = held_events();
    ck_assert_int_eq(h.n, 1);
    ck_assert_int_eq(h.unheld, 1);
    ck_assert_int_eq(n, 1);
}
END_TEST

Suite *store_sites_suite(void)
{
    Suite *s = suite_create("store_sites");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, spool_keeps_out_and_is_debited_once);
    tcase_add_test(tc, hours_hold_in_a_round);
    tcase_add_test(tc, held_reason_kept_current);
    tcase_add_test(tc, printer_update_releases_holds);
    tcase_add_test(tc, heatup_round_writes_holds);
    tcase_add_test(tc, heatup_round_holds_not_stale);
    suite_add_tcase(s, tc);
    return s;
}
