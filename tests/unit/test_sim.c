/* test_sim.c - unit tests for rrcloud-printersim's printer state machine
 * (src/sim/sim_printer.c) and SHA-256 (src/sim/sim_sha256.c).  Simulated
 * time is passed explicitly, so nothing here sleeps. */
#include "sim/sim.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

Suite *sim_suite(void);

static const uint8_t zero_sha[32];

static void setup(void)
{
    sim_cfg.printers = 3;
    sim_cfg.print_seconds = 100;
    sim_cfg.jitter = 0;
    sim_cfg.fail_rate = 0;
    sim_cfg.shutdown_rate = 0;
    sim_cfg.offline_rate = 0;
    sim_cfg.restart_seconds = 2;
    sim_cfg.max_files = 100;
    sim_cfg.history_max = 100;
    sim_cfg.seed = 1;
    ck_assert_int_eq(sim_fleet_init(3), 0);
}

static void teardown(void)
{
    sim_fleet_free();
}

/* Uploads name to p at time t (no lock needed: single-threaded test). */
static void put(struct sim_printer *p, const char *name, double t)
{
    int created;

    ck_assert_ptr_nonnull(sim_printer_file_put(p, SIM_ROOT_GCODES, name, 1000,
                                               zero_sha, t, &created));
}

static void snap(struct sim_printer *p, double t, struct sim_snap *s)
{
    sim_printer_snap(p, t, s);
}

START_TEST(test_sha256_vectors)
{
    static const char *const want[2] = {
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
    };
    const char *in[2] = {
        "", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
    };
    struct sim_sha256 s = { 0 };
    uint8_t d[32];
    char hex[65];

    for (int k = 0; k < 2; k++) {
        /* one context reused, fed byte by byte, as uploads use it */
        sim_sha256_init(&s);
        for (size_t i = 0; i < strlen(in[k]); i++)
            sim_sha256_update(&s, in[k] + i, 1);
        sim_sha256_final(&s, d);
        for (int i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", d[i]);
        ck_assert_str_eq(hex, want[k]);
    }
    sim_sha256_free(&s);
}
END_TEST

START_TEST(test_idle_printer)
{
    struct sim_snap s;

    snap(sim_printer_get(1), 10, &s);
    ck_assert_int_eq(s.klippy, SIM_KLIPPY_READY);
    ck_assert_int_eq(s.pstate, SIM_PS_STANDBY);
    ck_assert_str_eq(s.filename, "");
    ck_assert_int_eq(s.total_layer, -1);
    ck_assert(s.progress == 0 && !s.is_active && !s.file_open);
    ck_assert_ptr_null(sim_printer_get(0));
    ck_assert_ptr_null(sim_printer_get(4));
}
END_TEST

START_TEST(test_print_completes)
{
    struct sim_printer *p = sim_printer_get(1);
    struct sim_snap s;
    const struct sim_job *j;
    double heat, t0 = 50;

    put(p, "a.gcode", t0);
    ck_assert_int_eq(sim_printer_start(p, "/a.gcode", t0, 1), SIM_OK);
    heat = p->heat_time;
    ck_assert(heat > 5 && heat < 60);
    snap(p, t0 + heat / 2, &s);
    ck_assert_int_eq(s.pstate, SIM_PS_PRINTING);
    ck_assert(s.progress == 0 && s.is_active && s.file_open);
    ck_assert(s.ext_temp > 25 && s.ext_temp < 210 && s.ext_target == 210);
    snap(p, t0 + heat + 50, &s);
    ck_assert(fabs(s.progress - 0.5) < 1e-6);
    ck_assert(fabs(s.print_duration - 50) < 1e-6);
    ck_assert(s.ext_temp == 210 && s.bed_temp == 60);
    ck_assert_int_eq(sim_printer_start(p, "a.gcode", t0 + heat + 60, 1),
                     SIM_E_BUSY);
    snap(p, t0 + heat + 200, &s);
    ck_assert_int_eq(s.pstate, SIM_PS_COMPLETE);
    ck_assert(s.progress == 1 && !s.is_active && !s.file_open);
    ck_assert(fabs(s.total_duration - (heat + 100)) < 1e-3);
    ck_assert(s.ext_target == 0 && s.ext_temp < 210);
    j = sim_printer_job(p, 0);
    ck_assert_ptr_nonnull(j);
    ck_assert_int_eq(j->status, SIM_JOB_COMPLETED);
    ck_assert_str_eq(j->filename, "a.gcode");
    ck_assert(j->api_key_user);
}
END_TEST

START_TEST(test_start_errors)
{
    struct sim_printer *p = sim_printer_get(2);
    struct sim_snap s;

    ck_assert_int_eq(sim_printer_start(p, "missing.gcode", 1, 0),
                     SIM_E_NO_FILE);
    snap(p, 1, &s);
    ck_assert_int_eq(s.pstate, SIM_PS_STANDBY);
    ck_assert_int_eq(sim_printer_shutdown(p, 2, NULL), SIM_OK);
    put(p, "b.gcode", 3);
    ck_assert_int_eq(sim_printer_start(p, "b.gcode", 3, 0), SIM_E_NOT_READY);
    sim_printer_disconnect(p, 4);
    ck_assert_int_eq(sim_printer_start(p, "b.gcode", 4, 0),
                     SIM_E_KLIPPY_DOWN);
    ck_assert_int_eq(sim_printer_restart(p, 4), SIM_E_KLIPPY_DOWN);
    sim_printer_connect(p, 5);
    snap(p, 6, &s);
    ck_assert_int_eq(s.klippy, SIM_KLIPPY_STARTUP);
    snap(p, 7.5, &s);
    ck_assert_int_eq(s.klippy, SIM_KLIPPY_READY);
    ck_assert_int_eq(sim_printer_start(p, "b.gcode", 8, 0), SIM_OK);
}
END_TEST

START_TEST(test_pause_resume_cancel)
{
    struct sim_printer *p = sim_printer_get(1);
    struct sim_snap s;
    double h;

    put(p, "c.gcode", 0);
    ck_assert_int_eq(sim_printer_start(p, "c.gcode", 0, 0), SIM_OK);
    h = p->heat_time;
    ck_assert_int_eq(sim_printer_pause(p, h + 10), SIM_OK);
    snap(p, h + 1000, &s);      /* paused: nothing advances */
    ck_assert_int_eq(s.pstate, SIM_PS_PAUSED);
    ck_assert(fabs(s.print_duration - 10) < 1e-6);
    ck_assert(fabs(s.total_duration - (h + 1000)) < 1e-6);
    ck_assert_int_eq(sim_printer_resume(p, h + 1000), SIM_OK);
    snap(p, h + 1020, &s);
    ck_assert(fabs(s.print_duration - 30) < 1e-6);
    ck_assert_int_eq(sim_printer_cancel(p, h + 1020), SIM_OK);
    snap(p, h + 1030, &s);
    ck_assert_int_eq(s.pstate, SIM_PS_CANCELLED);
    ck_assert_str_eq(s.filename, "c.gcode");
    ck_assert(s.progress == 0 && s.file_size == 0);
    ck_assert_int_eq(sim_printer_job(p, 0)->status, SIM_JOB_CANCELLED);
    /* cancel with nothing printing is still ok */
    ck_assert_int_eq(sim_printer_cancel(p, h + 1040), SIM_OK);
    ck_assert_int_eq(sim_printer_eject(p, h + 1050), SIM_OK);
    snap(p, h + 1050, &s);
    ck_assert_int_eq(s.pstate, SIM_PS_STANDBY);
    ck_assert_str_eq(s.filename, "");
}
END_TEST

START_TEST(test_start_while_paused_replaces)
{
    struct sim_printer *p = sim_printer_get(1);

    put(p, "d.gcode", 0);
    put(p, "e.gcode", 0);
    ck_assert_int_eq(sim_printer_start(p, "d.gcode", 0, 0), SIM_OK);
    ck_assert_int_eq(sim_printer_pause(p, 30), SIM_OK);
    ck_assert_int_eq(sim_printer_eject(p, 31), SIM_E_BUSY);
    ck_assert_int_eq(sim_printer_start(p, "e.gcode", 40, 0), SIM_OK);
    ck_assert_str_eq(p->filename, "e.gcode");
    ck_assert_int_eq(sim_printer_job(p, 1)->status, SIM_JOB_ERROR);
    ck_assert_int_eq(sim_printer_job(p, 0)->status, SIM_JOB_IN_PROGRESS);
}
END_TEST

START_TEST(test_faults)
{
    struct sim_printer *p = sim_printer_get(3);
    struct sim_snap s;
    double h;

    put(p, "f.gcode", 0);
    p->fail_next = SIM_FAULT_ERROR;
    p->fail_next_at = 0.5f;
    ck_assert_int_eq(sim_printer_start(p, "f.gcode", 0, 0), SIM_OK);
    h = p->heat_time;
    snap(p, h + 49, &s);
    ck_assert_int_eq(s.pstate, SIM_PS_PRINTING);
    snap(p, h + 51, &s);
    ck_assert_int_eq(s.pstate, SIM_PS_ERROR);
    ck_assert(strlen(s.message) > 0);
    ck_assert(fabs(s.progress - 0.5) < 1e-6 && s.file_open);
    ck_assert_int_eq(sim_printer_job(p, 0)->status, SIM_JOB_ERROR);

    p->fail_next = SIM_FAULT_SHUTDOWN;
    p->fail_next_at = 0.25f;
    ck_assert_int_eq(sim_printer_start(p, "f.gcode", 500, 0), SIM_OK);
    snap(p, 500 + p->heat_time + 30, &s);
    ck_assert_int_eq(s.klippy, SIM_KLIPPY_SHUTDOWN);
    ck_assert_int_eq(s.pstate, SIM_PS_PAUSED);    /* Klipper's behaviour */
    ck_assert_int_eq(sim_printer_job(p, 0)->status, SIM_JOB_KLIPPY_SHUTDOWN);
    ck_assert_int_eq(sim_printer_restart(p, 700), SIM_OK);
    snap(p, 703, &s);
    ck_assert_int_eq(s.klippy, SIM_KLIPPY_READY);
    ck_assert_int_eq(s.pstate, SIM_PS_STANDBY);
}
END_TEST

START_TEST(test_random_rates)
{
    struct sim_printer *p = sim_printer_get(1);
    int errors = 0;

    sim_cfg.fail_rate = 1;
    put(p, "g.gcode", 0);
    for (int k = 0; k < 5; k++) {
        double t = k * 1000.0;
        struct sim_snap s;

        ck_assert_int_eq(sim_printer_start(p, "g.gcode", t, 0), SIM_OK);
        snap(p, t + 900, &s);
        errors += s.pstate == SIM_PS_ERROR;
    }
    ck_assert_int_eq(errors, 5);
    sim_cfg.offline_rate = 1;
    ck_assert_int_eq(sim_printer_offline(p, 5), (int)sim_cfg.offline_mode);
    sim_cfg.offline_rate = 0;
    ck_assert_int_eq(sim_printer_offline(p, 5), -1);
    p->net = SIM_NET_OFFLINE;
    p->offmode = SIM_OFF_502;
    ck_assert_int_eq(sim_printer_offline(p, 5), SIM_OFF_502);
    /* the same seed and keys give the same numbers */
    ck_assert(sim_rand(1, 2, 3) == sim_rand(1, 2, 3));
    ck_assert(sim_rand(1, 2, 3) != sim_rand(1, 2, 4));
}
END_TEST

START_TEST(test_files_and_history_bounded)
{
    struct sim_printer *p;
    char name[32];

    sim_fleet_free();
    sim_cfg.max_files = 2;
    sim_cfg.history_max = 3;
    ck_assert_int_eq(sim_fleet_init(3), 0);
    p = sim_printer_get(2);
    put(p, "h1.gcode", 0);
    put(p, "h2.gcode", 1);
    put(p, "h3.gcode", 2);
    ck_assert_uint_eq(p->n_files, 2);
    ck_assert_ptr_null(sim_printer_file_find(p, SIM_ROOT_GCODES, "h1.gcode"));
    for (int k = 0; k < 5; k++) {
        snprintf(name, sizeof(name), "h%d.gcode", 2 + k % 2);
        ck_assert_int_eq(sim_printer_start(p, name, k * 1000.0, 0), SIM_OK);
    }
    ck_assert_uint_eq(p->hist_len, 3);
    ck_assert_uint_eq(sim_printer_job(p, 0)->id, 5);
    ck_assert_uint_eq(sim_printer_job(p, 2)->id, 3);
    ck_assert_ptr_null(sim_printer_job(p, 3));
    ck_assert_int_eq(sim_printer_file_delete(p, SIM_ROOT_GCODES, "h2.gcode"),
                     SIM_E_BUSY);
    ck_assert_int_eq(sim_printer_file_delete(p, SIM_ROOT_GCODES, "h3.gcode"),
                     SIM_OK);
    ck_assert_int_eq(sim_printer_file_delete(p, SIM_ROOT_GCODES, "h3.gcode"),
                     SIM_E_NO_FILE);
}
END_TEST

START_TEST(test_history_grows_in_order)
{
    struct sim_printer *p = sim_printer_get(1);

    sim_fleet_free();
    sim_cfg.history_max = 10;
    ck_assert_int_eq(sim_fleet_init(3), 0);
    p = sim_printer_get(1);
    put(p, "k.gcode", 0);
    for (int k = 0; k < 13; k++)
        ck_assert_int_eq(sim_printer_start(p, "k.gcode", k * 1000.0, 0),
                         SIM_OK);
    ck_assert_uint_eq(p->hist_len, 10);
    ck_assert_uint_eq(p->hist_cap, 10);
    for (unsigned i = 0; i < 10; i++)
        ck_assert_uint_eq(sim_printer_job(p, i)->id, 13 - i);
}
END_TEST

Suite *sim_suite(void)
{
    Suite *s = suite_create("sim");
    TCase *tc = tcase_create("printer");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_sha256_vectors);
    tcase_add_test(tc, test_idle_printer);
    tcase_add_test(tc, test_print_completes);
    tcase_add_test(tc, test_start_errors);
    tcase_add_test(tc, test_pause_resume_cancel);
    tcase_add_test(tc, test_start_while_paused_replaces);
    tcase_add_test(tc, test_faults);
    tcase_add_test(tc, test_random_rates);
    tcase_add_test(tc, test_files_and_history_bounded);
    tcase_add_test(tc, test_history_grows_in_order);
    suite_add_tcase(s, tc);
    return s;
}
