/* test_loadmgr.c - unit tests for src/fleet/loadmgr.c: frontend choice by
 * region, load, health and fallback order; rebalancing off drained and
 * failed frontends. */
#include "fleet/loadmgr.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Suite *loadmgr_suite(void);

static struct fleet_frontend fe[8];
static size_t nfe;

static void add(const char *name, const char *region, int cap, long long n)
{
    struct fleet_frontend *f = &fe[nfe];

    fleet_frontend_init(f);
    f->id = (long long)++nfe;
    snprintf(f->name, sizeof(f->name), "%s", name);
    snprintf(f->region, sizeof(f->region), "%s", region);
    f->capacity = cap;
    f->assigned = n;
}

static void setup(void)
{
    memset(fe, 0, sizeof(fe));
    nfe = 0;
}

static const char *pick(const char *region, const char *fallback)
{
    int i = loadmgr_choose(fe, nfe, region, fallback, 0);

    return i < 0 ? "-" : fe[i].name;
}

START_TEST(lowest_load_in_region)
{
    add("eu1", "eu", 100, 60);
    add("eu2", "eu", 200, 100);     /* 0.5 < 0.6 */
    add("us1", "us", 100, 0);
    ck_assert_str_eq(pick("eu", NULL), "eu2");
    ck_assert_str_eq(pick("us", NULL), "us1");
    fe[1].assigned = 130;           /* 0.65 > 0.6 */
    ck_assert_str_eq(pick("eu", NULL), "eu1");
    ck_assert_str_eq(pick("", NULL), "us1");   /* no region: anywhere */
}
END_TEST

START_TEST(unhealthy_full_or_disabled_skipped)
{
    add("eu1", "eu", 100, 0);
    add("eu2", "eu", 100, 50);
    fe[0].healthy = 0;
    ck_assert_str_eq(pick("eu", NULL), "eu2");
    fe[1].assigned = 100;           /* full */
    ck_assert_str_eq(pick("eu", NULL), "-");
    fe[1].assigned = 10;
    fe[1].enabled = 0;
    ck_assert_str_eq(pick("eu", NULL), "-");
    ck_assert_int_eq(loadmgr_choose(fe, nfe, "eu", NULL, 2), -1);
}
END_TEST

START_TEST(fallback_order)
{
    const char *fb = "eu: us, asia; us:eu ; asia:*";

    add("us1", "us", 100, 90);
    add("asia1", "asia", 100, 0);
    add("eu1", "eu", 10, 10);       /* full */
    add("sa1", "sa", 100, 0);
    ck_assert_str_eq(pick("eu", fb), "us1");   /* nearest first, not least */
    fe[0].healthy = 0;
    ck_assert_str_eq(pick("eu", fb), "asia1");
    ck_assert_str_eq(pick("us", fb), "-");     /* eu full, nothing else */
    fe[1].healthy = 0;
    ck_assert_str_eq(pick("asia", fb), "sa1"); /* "*" = any other */
    ck_assert_str_eq(pick("sa", fb), "sa1");
    ck_assert_str_eq(pick("mars", fb), "-");   /* unlisted: nowhere */
    ck_assert_str_eq(pick("e", fb), "-");      /* no prefix matches */
}
END_TEST

START_TEST(rebalance_after_grace)
{
    struct loadmgr_printer p[5];
    struct loadmgr_move *mv = NULL;
    size_t n = 0;

    add("eu1", "eu", 100, 3);
    add("eu2", "eu", 100, 10);
    add("eu3", "eu", 100, 11);
    memset(p, 0, sizeof(p));
    for (int i = 0; i < 5; i++) {
        p[i].id = i + 1;
        p[i].frontend_id = i < 3 ? 1 : 2;
        snprintf(p[i].region, sizeof(p[i].region), "eu");
    }
    p[4].frontend_id = 0;           /* never got one */
    fe[0].healthy = 0;
    fe[0].unhealthy_since = 100;
    ck_assert_int_eq(loadmgr_rebalance(fe, nfe, p, 5, NULL, 130, 60, &mv, &n),
                     0);
    ck_assert_int_eq(n, 1);         /* only the one without a frontend */
    ck_assert_int_eq(mv[0].printer_id, 5);
    free(mv);
    fe[1].assigned = 10;
    ck_assert_int_eq(loadmgr_rebalance(fe, nfe, p, 5, NULL, 161, 60, &mv, &n),
                     0);
    ck_assert_int_eq(n, 4);
    /* Spread by load: eu2 (10) takes until it passes eu3 (11). */
    ck_assert_int_eq(mv[0].to_id, 2);
    ck_assert_int_eq(mv[1].to_id, 2);
    ck_assert_int_eq(mv[2].to_id, 3);
    ck_assert_int_eq(fe[0].assigned, 0);
    for (size_t i = 0; i < n; i++)
        ck_assert_int_ne(mv[i].to_id, 1);
    free(mv);
}
END_TEST

START_TEST(drained_by_operator)
{
    struct loadmgr_printer p;
    struct loadmgr_move *mv = NULL;
    size_t n = 0;

    add("a", "eu", 10, 1);
    add("b", "us", 10, 0);
    memset(&p, 0, sizeof(p));
    p.id = 7;
    p.frontend_id = 1;
    snprintf(p.region, sizeof(p.region), "eu");
    fe[0].enabled = 0;
    ck_assert_int_eq(loadmgr_must_drain(&fe[0], 0, 1e9), 1);
    ck_assert_int_eq(loadmgr_rebalance(fe, nfe, &p, 1, NULL, 0, 60, &mv, &n),
                     0);
    ck_assert_int_eq(n, 0);         /* no eu frontend and no fallback */
    ck_assert_int_eq(loadmgr_rebalance(fe, nfe, &p, 1, "eu:us", 0, 60, &mv,
                                       &n), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(mv[0].to_id, 2);
    free(mv);
}
END_TEST

/* The conf lines and names the load manager and the API rely on
 * (fleet/model.c). */
START_TEST(model_conf_lines)
{
    struct fleet_frontend f;
    struct fleet_apikey k;
    char err[256], name[64];
    long long j, a;
    int c;

    ck_assert_int_eq(fleet_frontend_parse_conf("eu1 eu https://eu1.x "
                                               "capacity=120 canary="
                                               "https://c.eu1.x", &f, err,
                                               sizeof(err)), 0);
    ck_assert_str_eq(f.name, "eu1");
    ck_assert_int_eq(f.capacity, 120);
    ck_assert_str_eq(f.namespace_, "eu1");
    ck_assert_str_eq(f.canary_url, "https://c.eu1.x");
    ck_assert_int_eq(fleet_frontend_parse_conf("eu1 eu ftp://x", &f, err,
                                               sizeof(err)), -1);
    ck_assert_int_eq(fleet_frontend_parse_conf("eu1 eu http://x capacity=0",
                                               &f, err, sizeof(err)), -1);
    ck_assert_int_eq(fleet_frontend_parse_conf("eu1 eu http://x size=3", &f,
                                               err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "size=3"));
    ck_assert_int_eq(fleet_octoprint_key_find("aaa queue=q1\nbbb queue=q2 "
                                              "material=PLA priority=5",
                                              "bbb", &k, err, sizeof(err)),
                     0);
    ck_assert_str_eq(k.queue, "q2");
    ck_assert_str_eq(k.material, "pla");
    ck_assert_int_eq(k.priority, 5);
    ck_assert_int_eq(fleet_octoprint_key_find("aaa queue=q1", "aa", &k, err,
                                              sizeof(err)), 1);
    ck_assert_int_eq(fleet_octoprint_key_find("aaa queue=q1", "", &k, err,
                                              sizeof(err)), 1);
    ck_assert_int_eq(fleet_octoprint_key_find("aaa nope=1", "aaa", &k, err,
                                              sizeof(err)), -1);
    ck_assert_int_eq(fleet_secret_in_list("one, two", "two"), 1);
    ck_assert_int_eq(fleet_secret_in_list("one, two", "tw"), 0);
    ck_assert_int_eq(fleet_secret_in_list("", ""), 0);
    fleet_attempt_filename(12, 3, 45, name, sizeof(name));
    ck_assert_str_eq(name, "rr-12-3-45.gcode");
    ck_assert_int_eq(fleet_attempt_filename_parse("fleet/rr-12-3-45.gcode",
                                                  &j, &c, &a), 0);
    ck_assert(j == 12 && c == 3 && a == 45);
    ck_assert_int_eq(fleet_attempt_filename_parse("rr-12-3-45.gcode.bak", &j,
                                                  &c, &a), -1);
    ck_assert_int_eq(fleet_name_valid("mk3s+"), 1);
    ck_assert_int_eq(fleet_name_valid("a b"), 0);
    ck_assert_int_eq(fleet_name_valid(""), 0);
}
END_TEST

Suite *loadmgr_suite(void)
{
    Suite *s = suite_create("loadmgr");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, lowest_load_in_region);
    tcase_add_test(tc, unhealthy_full_or_disabled_skipped);
    tcase_add_test(tc, fallback_order);
    tcase_add_test(tc, rebalance_after_grace);
    tcase_add_test(tc, drained_by_operator);
    tcase_add_test(tc, model_conf_lines);
    suite_add_tcase(s, tc);
    return s;
}
