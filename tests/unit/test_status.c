/*
 * test_status.c - a printer's live status (fleet_printer_live): the time
 * left estimate, the data plane's write gate (rounded values; a change of
 * file, print state or heater target at once, others at most every
 * fleet_status_interval), the store's printer_status row written in the
 * batched flush and joined into the printer, its JSON (null while offline),
 * and OctoPrint's current job.
 */
#include "fleet/fleet_int.h"

#include "common/util.h"
#include "store/store_fleet.h"
#include "store/store_fleet_relay.h"
#include "store/store_fleet_status.h"
#include "tmpstore.h"

#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Suite *status_suite(void);

START_TEST(eta)
{
    ck_assert(fleet_eta(0, 100) < 0);
    ck_assert(fleet_eta(0.5, 0) < 0);
    ck_assert_double_eq_tol(fleet_eta(0.25, 100), 300, 1e-9);
    ck_assert_double_eq_tol(fleet_eta(1, 900), 0, 1e-9);
}
END_TEST

static struct mr_status printing_at(double progress, double ext)
{
    struct mr_status s;

    memset(&s, 0, sizeof(s));
    s.klippy = MR_KLIPPY_READY;
    s.pstate = MR_PS_PRINTING;
    snprintf(s.filename, sizeof(s.filename), "rr-1-0-1.gcode");
    s.progress = progress;
    s.print_duration = 100.4;
    s.ext_temp = ext;
    s.ext_target = 215;
    s.bed_temp = 59.8;
    s.bed_target = 60;
    return s;
}

START_TEST(write_gate)
{
    struct fleet f;
    struct fleet_pr p;
    struct mr_status s = printing_at(0.4231, 214.6);

    memset(&f, 0, sizeof(f));
    memset(&p, 0, sizeof(p));
    f.work_tfd = f.poll_tfd = -1;
    f.status_interval = 10;
    p.id = 7;
    fleet_queue_live(&f, &p, &s, 100);
    ck_assert_uint_eq(f.nlive, 1);
    ck_assert_int_eq(f.live[0].printer_id, 7);
    ck_assert_double_eq_tol(f.live[0].live.progress, 0.423, 1e-9);
    ck_assert_double_eq_tol(f.live[0].live.ext_temp, 214.5, 1e-9);
    ck_assert_double_eq_tol(f.live[0].live.bed_temp, 60, 1e-9);
    ck_assert_double_eq_tol(f.live[0].live.print_duration, 100, 1e-9);
    ck_assert_str_eq(f.live[0].live.print_state, "printing");
    ck_assert_str_eq(f.live[0].live.file, "rr-1-0-1.gcode");
    /* the same, rounded: nothing */
    s = printing_at(0.4233, 214.7);
    fleet_queue_live(&f, &p, &s, 101);
    ck_assert_uint_eq(f.nlive, 1);
    /* a change that shows, within the interval: later */
    s = printing_at(0.43, 214.6);
    fleet_queue_live(&f, &p, &s, 105);
    ck_assert_uint_eq(f.nlive, 1);
    fleet_queue_live(&f, &p, &s, 110.5);
    ck_assert_uint_eq(f.nlive, 2);
    ck_assert_double_eq_tol(f.live[1].live.progress, 0.43, 1e-9);
    /* a target, the print state, the file: at once */
    s.ext_target = 0;
    fleet_queue_live(&f, &p, &s, 111);
    ck_assert_uint_eq(f.nlive, 3);
    s.pstate = MR_PS_PAUSED;
    fleet_queue_live(&f, &p, &s, 111.5);
    ck_assert_uint_eq(f.nlive, 4);
    ck_assert_str_eq(f.live[3].live.print_state, "paused");
    snprintf(s.filename, sizeof(s.filename), "other.gcode");
    fleet_queue_live(&f, &p, &s, 112);
    ck_assert_uint_eq(f.nlive, 5);
    /* interval 0: every change */
    f.status_interval = 0;
    s.progress = 0.5;
    fleet_queue_live(&f, &p, &s, 112.1);
    ck_assert_uint_eq(f.nlive, 6);
    /* after a restart, what the store has counts as written */
    memset(&p, 0, sizeof(p));
    p.id = 7;
    fleet_live_seed(&p, &f.live[5].live);
    fleet_queue_live(&f, &p, &s, 113);
    ck_assert_uint_eq(f.nlive, 6);
    s.progress = 0.6;
    fleet_queue_live(&f, &p, &s, 113.5);
    ck_assert_uint_eq(f.nlive, 7);
    free(f.live);
}
END_TEST

static char dir[256];
static struct store *st;

static void setup(void)
{
    st = tmpstore_open("st", dir, sizeof(dir));
}

static void teardown(void)
{
    tmpstore_close(st, dir);
}

static long long enroll(const struct fleet_policy *pol)
{
    struct fleet_printer p;
    struct fleet_frontend fe;
    char tok[FLEET_TOKEN_MAX];
    long long id;

    fleet_printer_init(&p);
    snprintf(p.name, sizeof(p.name), "desk");
    ck_assert_int_eq(store_printer_enroll(st, &p, pol, 100, &id, tok,
                                          sizeof(tok), &fe, NULL, 0), 0);
    return id;
}

START_TEST(stored_and_shown)
{
    struct fleet_policy pol;
    struct store_relay_status ls[2];
    struct store_relay_obs obs;
    struct fleet_printer *p = malloc(sizeof(*p));
    json_t *o;
    long long id, gone;

    ck_assert_ptr_nonnull(p);
    memset(&pol, 0, sizeof(pol));
    pol.lease = 300;
    pol.frontend_capacity = 150;
    id = enroll(&pol);
    gone = enroll(&pol);
    ck_assert_int_eq(store_printer_remove(st, gone, 100), 0);
    memset(ls, 0, sizeof(ls));
    ls[0].printer_id = id;
    ls[0].live.updated = 200;
    snprintf(ls[0].live.print_state, sizeof(ls[0].live.print_state),
             "printing");
    snprintf(ls[0].live.file, sizeof(ls[0].live.file), "rr-1-0-1.gcode");
    ls[0].live.progress = 0.25;
    ls[0].live.print_duration = 100;
    ls[0].live.ext_temp = 214.5;
    ls[0].live.ext_target = 215;
    ls[0].live.bed_temp = 60;
    ls[0].live.bed_target = 60;
    ls[1] = ls[0];
    ls[1].printer_id = gone;        /* removed meanwhile: skipped */
    memset(&obs, 0, sizeof(obs));
    obs.printer_id = id;
    obs.observed = PRINTER_PRINTING;
    obs.klippy_state = "ready";
    obs.now = 200;
    ck_assert_int_eq(store_relay_flush(st, &obs, 1, NULL, 0, NULL, 0, ls, 2,
                                       &pol), 0);
    ck_assert_int_eq(store_printer_get(st, id, p), 0);
    ck_assert_double_eq_tol(p->live.progress, 0.25, 1e-9);
    ck_assert_str_eq(p->live.file, "rr-1-0-1.gcode");
    ck_assert_double_eq_tol(p->live.bed_target, 60, 1e-9);
    o = fleet_printer_json(p);
    ck_assert_double_eq_tol(json_real_value(json_object_get(o, "progress")),
                            0.25, 1e-9);
    ck_assert_double_eq_tol(json_real_value(json_object_get(o, "time_left")),
                            300, 1e-9);
    ck_assert_double_eq_tol(json_number_value(json_object_get(
        json_object_get(o, "extruder"), "temperature")), 214.5, 1e-9);
    json_decref(o);
    /* a second write replaces the row */
    ls[0].live.progress = 0.5;
    ck_assert_int_eq(store_relay_flush(st, NULL, 0, NULL, 0, NULL, 0, ls, 1,
                                       &pol), 0);
    ck_assert_int_eq(store_printer_get(st, id, p), 0);
    ck_assert_double_eq_tol(p->live.progress, 0.5, 1e-9);
    /* offline: nothing shown, the time of the last status kept */
    p->state = PRINTER_OFFLINE;
    o = fleet_printer_json(p);
    ck_assert(json_is_null(json_object_get(o, "progress")));
    ck_assert(json_is_null(json_object_get(o, "extruder")));
    ck_assert(json_is_null(json_object_get(o, "time_left")));
    ck_assert(json_is_number(json_object_get(o, "status_at")));
    json_decref(o);
    /* idle with a finished file: progress, no time left */
    p->state = PRINTER_READY;
    snprintf(p->live.print_state, sizeof(p->live.print_state), "complete");
    o = fleet_printer_json(p);
    ck_assert(json_is_number(json_object_get(o, "progress")));
    ck_assert(json_is_null(json_object_get(o, "time_left")));
    json_decref(o);
    free(p);
}
END_TEST

static long long job_of(const char *owner, double now)
{
    struct fleet_job_file f;
    struct fleet_job_spec spec;
    long long id;

    memset(&f, 0, sizeof(f));
    snprintf(f.sha256, sizeof(f.sha256), "%064d", 0);
    snprintf(f.filename, sizeof(f.filename), "cube.gcode");
    ck_assert_int_eq(store_blob_put(st, f.sha256, 123, 50), 0);
    memset(&spec, 0, sizeof(spec));
    spec.queue = "default";
    spec.copies = 1;
    spec.owner = owner;
    spec.files = &f;
    spec.nfiles = 1;
    ck_assert_int_eq(store_job_create(st, &spec, now, &id), 0);
    return id;
}

START_TEST(current_job)
{
    struct fleet_policy pol;
    long long job, printer, pr, j1, j2, j3;

    memset(&pol, 0, sizeof(pol));
    pol.lease = 300;
    pol.frontend_capacity = 150;
    pol.fail_per_printer = 1;
    pol.fail_printers = 2;
    ck_assert_int_eq(store_job_current(st, "slicer", &job, &printer),
                     STORE_NOTFOUND);
    pr = enroll(&pol);
    ck_assert_int_eq(store_printer_observe(st, pr, PRINTER_READY, "ready",
                                           101, NULL), 0);
    j1 = job_of("slicer", 110);
    j2 = job_of("slicer", 111);
    j3 = job_of("other", 112);
    /* nothing printing: the newest of the owner's */
    ck_assert_int_eq(store_job_current(st, "slicer", &job, &printer), 0);
    ck_assert_int_eq(job, j2);
    ck_assert_int_eq(printer, 0);
    /* one being printed wins over a newer one waiting */
    ck_assert_int_eq(store_attempt_create(st, j1, 0, pr, &pol, 120, NULL), 0);
    ck_assert_int_eq(store_job_current(st, "slicer", &job, &printer), 0);
    ck_assert_int_eq(job, j1);
    ck_assert_int_eq(printer, pr);
    /* anybody's (the admin token) */
    ck_assert_int_eq(store_job_current(st, NULL, &job, &printer), 0);
    ck_assert_int_eq(job, j1);
    ck_assert_int_eq(store_job_current(st, "other", &job, &printer), 0);
    ck_assert_int_eq(job, j3);
    ck_assert_int_eq(printer, 0);
}
END_TEST

Suite *status_suite(void)
{
    Suite *s = suite_create("status");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, eta);
    tcase_add_test(tc, write_gate);
    tcase_add_test(tc, stored_and_shown);
    tcase_add_test(tc, current_job);
    suite_add_tcase(s, tc);
    return s;
}
