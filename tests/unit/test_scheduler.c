/* test_scheduler.c - unit tests for src/fleet/scheduler.c: each rule on a
 * small hand-made round, then the fast path against the brute-force
 * reference on random rounds, then 10,000 x 10,000 against the clock. */
#include "fleet/scheduler.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

Suite *scheduler_suite(void);

static struct sched_input in;
static struct sched_params prm;
static struct sched_assignment *out;
static size_t nout;

static void setup(void)
{
    sched_input_init(&in);
    memset(&prm, 0, sizeof(prm));
    prm.now = 1000;
    prm.change_penalty = 1;
    out = NULL;
    nout = 0;
}

static void teardown(void)
{
    free(out);
    sched_input_free(&in);
}

static int S(const char *s)
{
    int id = sched_intern(&in, s);

    ck_assert_int_ge(id, 0);
    return id;
}

static struct sched_printer *add_printer(long long id, const char *queue,
                                         const char *profile,
                                         const char *material)
{
    struct sched_printer *p = sched_add_printer(&in);

    ck_assert_ptr_nonnull(p);
    p->id = id;
    p->queues[0] = S(queue);
    p->nqueues = 1;
    p->profile = S(profile);
    p->material = S(material);
    p->ready_since = (double)id;
    return p;
}

static struct sched_copy *add_copy(long long job, int copy, const char *queue,
                                   const char *profile, const char *material,
                                   int priority, double created)
{
    struct sched_copy *c = sched_add_copy(&in);

    ck_assert_ptr_nonnull(c);
    c->job_id = job;
    c->copy = copy;
    c->queue = S(queue);
    c->profiles[0] = S(profile);
    c->nprofiles = 1;
    c->material = S(material);
    c->priority = priority;
    c->created = created;
    c->position = created;       /* queue order = submission order */
    return c;
}

static void run(void)
{
    ck_assert_int_eq(sched_run(&in, &prm, &out, &nout), 0);
}

/* The job given to printer pid, or 0. */
static long long job_of(long long pid)
{
    for (size_t i = 0; i < nout; i++) {
        if (out[i].printer_id == pid)
            return out[i].job_id;
    }
    return 0;
}

START_TEST(material_and_profile_must_match)
{
    add_printer(1, "q", "mk3s", "pla");
    add_printer(2, "q", "mini", "petg");
    add_printer(3, "other", "mk3s", "pla");
    add_copy(10, 0, "q", "mk3s", "petg", 9, 0);    /* no printer fits */
    add_copy(11, 0, "q", "mini", "petg", 0, 0);
    add_copy(12, 0, "q", "mk3s", "", 0, 0);        /* any material */
    run();
    ck_assert_int_eq(nout, 2);
    ck_assert_int_eq(job_of(1), 12);
    ck_assert_int_eq(job_of(2), 11);
    ck_assert_int_eq(job_of(3), 0);                /* other queue */
}
END_TEST

START_TEST(any_profile_file_and_choice)
{
    struct sched_copy *c;

    add_printer(1, "q", "mk3s", "");
    add_printer(2, "q", "", "");
    c = add_copy(10, 0, "q", "mk3s", "", 0, 0);
    c->profiles[1] = S("");
    c->nprofiles = 2;
    add_copy(10, 1, "q", "", "", 0, 0)->profiles[1] = S("mk3s");
    in.copies[1].nprofiles = 2;
    run();
    ck_assert_int_eq(nout, 2);
    ck_assert_int_eq(out[0].printer_id, 1);
    ck_assert_int_eq(out[0].profile, S("mk3s"));   /* its own file */
    ck_assert_int_eq(out[1].printer_id, 2);
    ck_assert_int_eq(out[1].profile, 0);           /* the any file */
    ck_assert_int_eq(out[0].copy, 0);
    ck_assert_int_eq(out[1].copy, 1);
}
END_TEST

START_TEST(priority_then_age)
{
    add_printer(1, "q", "", "");
    add_printer(2, "q", "", "");
    add_copy(10, 0, "q", "", "", 0, 100);
    add_copy(11, 0, "q", "", "", 5, 900);
    add_copy(12, 0, "q", "", "", 0, 50);
    run();
    ck_assert_int_eq(job_of(1), 11);               /* priority first */
    ck_assert_int_eq(job_of(2), 12);               /* then the older */
}
END_TEST

START_TEST(aging_prevents_starvation)
{
    add_printer(1, "q", "", "");
    add_copy(10, 0, "q", "", "", 0, 0);            /* waited 1000 s */
    add_copy(11, 0, "q", "", "", 3, 990);          /* fresh, priority 3 */
    run();
    ck_assert_int_eq(job_of(1), 11);
    free(out);
    prm.age_boost = 200;                           /* 1000 s = +5 */
    run();
    ck_assert_int_eq(job_of(1), 10);
}
END_TEST

START_TEST(prefers_no_material_change)
{
    struct sched_printer *p = add_printer(1, "q", "", "");

    p->last_material = S("petg");
    add_copy(10, 0, "q", "", "pla", 0, 0);         /* older, needs a swap */
    add_copy(11, 0, "q", "", "petg", 0, 500);
    run();
    ck_assert_int_eq(job_of(1), 11);
    free(out);
    in.copies[0].priority = 2;                     /* worth the swap now */
    run();
    ck_assert_int_eq(job_of(1), 10);
}
END_TEST

START_TEST(never_where_it_failed)
{
    struct sched_copy *c;

    add_printer(1, "q", "", "");
    add_printer(2, "q", "", "");
    c = add_copy(10, 0, "q", "", "", 9, 0);
    c->excl_off = in.nexcluded;
    ck_assert_int_eq(sched_add_excluded(&in, 1), 0);
    c->nexcl = 1;
    add_copy(11, 0, "q", "", "", 0, 0);
    run();
    ck_assert_int_eq(job_of(1), 11);
    ck_assert_int_eq(job_of(2), 10);
}
END_TEST

START_TEST(heatup_stagger_per_site)
{
    for (int i = 1; i <= 5; i++)
        add_printer(i, "q", "", "")->site = S(i <= 4 ? "barn" : "shed");
    for (int i = 0; i < 10; i++)
        add_copy(10 + i, 0, "q", "", "", 0, 0);
    prm.heatup_max = 2;
    ck_assert_int_eq(sched_set_heating(&in, S("barn"), 1), 0);
    run();
    ck_assert_int_eq(nout, 2);                     /* one barn, one shed */
    ck_assert_int_ne(job_of(1), 0);
    ck_assert_int_eq(job_of(2), 0);
    ck_assert_int_ne(job_of(5), 0);
}
END_TEST

START_TEST(targeted_job_only_there)
{
    struct sched_copy *c;

    add_printer(1, "q", "", "");
    add_printer(2, "", "", "");                    /* serves no queue */
    c = add_copy(10, 0, "", "", "", 9, 0);
    c->queue = 0;
    c->target = 2;
    add_copy(11, 0, "q", "", "", 0, 0);
    run();
    ck_assert_int_eq(job_of(1), 11);
    ck_assert_int_eq(job_of(2), 10);
}
END_TEST

START_TEST(copies_spread_over_printers)
{
    for (int i = 1; i <= 3; i++)
        add_printer(i, "q", "", "");
    for (int k = 0; k < 5; k++)
        add_copy(10, k, "q", "", "", 0, 0);
    run();
    ck_assert_int_eq(nout, 3);
    for (size_t i = 0; i < nout; i++) {
        ck_assert_int_eq(out[i].job_id, 10);
        ck_assert_int_eq(out[i].copy, (int)i);
    }
}
END_TEST

/* A random round with every feature in play. */
static void random_round(unsigned seed, int np, int nj)
{
    static const char *const q[] = { "a", "b", "c" };
    static const char *const prof[] = { "", "mk3s", "mini", "x1" };
    static const char *const mat[] = { "", "pla", "petg", "abs" };
    static const char *const site[] = { "", "s1", "s2" };

    srand(seed);
    for (int i = 0; i < np; i++) {
        struct sched_printer *p = add_printer(i + 1, q[rand() % 3],
                                              prof[rand() % 4],
                                              mat[rand() % 4]);
        if (rand() % 3 == 0)
            p->queues[p->nqueues++] = S(q[rand() % 3]);
        p->last_material = S(mat[rand() % 4]);
        p->colour = S(rand() % 4 ? "" : "red");
        p->last_colour = S(rand() % 2 ? "red" : "blue");
        p->site = S(site[rand() % 3]);
        p->ready_since = (double)(rand() % 50);
    }
    for (int j = 0; j < nj; j++) {
        int copies = 1 + rand() % 3;
        size_t excl_off = in.nexcluded, nexcl = (size_t)(rand() % 4);
        for (size_t e = 0; e < nexcl; e++)
            sched_add_excluded(&in, 1 + rand() % (np < 8 ? np : 8));
        for (int k = 0; k < copies; k++) {
            struct sched_copy *c = add_copy(j + 1, k, q[rand() % 3], "",
                                            mat[rand() % 4], rand() % 4,
                                            (double)(rand() % 1000));
            srand(seed * 7919u + (unsigned)j);   /* same for all copies */
            c->queue = S(q[rand() % 3]);
            c->material = S(mat[rand() % 4]);
            c->colour = S(rand() % 3 ? "" : (rand() % 2 ? "red" : "blue"));
            c->priority = rand() % 4;
            c->created = (double)(rand() % 1000);
            c->position = (double)(rand() % 100);
            c->profiles[0] = S(prof[rand() % 4]);
            c->nprofiles = 1 + rand() % 2;
            c->profiles[1] = S(prof[rand() % 4]);
            if (c->nprofiles == 2 && c->profiles[1] == c->profiles[0])
                c->nprofiles = 1;
            c->target = rand() % 10 == 0 ? 1 + rand() % np : 0;
            if (c->target)
                c->queue = 0;
            c->excl_off = excl_off;
            c->nexcl = nexcl;
        }
        srand(seed * 31u + (unsigned)j * 17u);
    }
    prm.age_boost = 300;
    prm.change_penalty = 2;
    prm.heatup_max = (int)(seed % 3) * 3;
    sched_set_heating(&in, S("s1"), 1);
}

START_TEST(fast_equals_reference)
{
    for (unsigned seed = 1; seed <= 100; seed++) {
        struct sched_assignment *ref = NULL;
        size_t nref = 0;

        sched_input_free(&in);
        sched_input_init(&in);
        random_round(seed, 5 + (int)(seed % 40), 5 + (int)(seed * 3 % 60));
        free(out);
        out = NULL;
        run();
        ck_assert_int_eq(sched_run_naive(&in, &prm, &ref, &nref), 0);
        ck_assert_msg(nout == nref, "seed %u: %zu vs %zu", seed, nout, nref);
        for (size_t i = 0; i < nout; i++) {
            ck_assert_msg(out[i].printer_id == ref[i].printer_id &&
                          out[i].job_id == ref[i].job_id &&
                          out[i].copy == ref[i].copy &&
                          out[i].profile == ref[i].profile,
                          "seed %u, #%zu: printer %lld job %lld/%d vs "
                          "printer %lld job %lld/%d", seed, i,
                          out[i].printer_id, out[i].job_id, out[i].copy,
                          ref[i].printer_id, ref[i].job_id, ref[i].copy);
        }
        free(ref);
    }
}
END_TEST

START_TEST(ten_thousand_squared_fast)
{
    static const char *const mat[] = { "pla", "petg", "abs", "tpu" };
    struct timespec a, b;
    double ms;
    char name[16];

    for (int i = 0; i < 10000; i++) {
        snprintf(name, sizeof(name), "q%d", i % 8);
        add_printer(i + 1, name, i % 2 ? "mk3s" : "mini", mat[i % 4]);
    }
    for (int j = 0; j < 10000; j++) {
        snprintf(name, sizeof(name), "q%d", j % 8);
        add_copy(j + 1, 0, name, j % 3 ? "mk3s" : "mini", mat[j % 4], j % 5,
                 (double)j);
    }
    clock_gettime(CLOCK_MONOTONIC, &a);
    run();
    clock_gettime(CLOCK_MONOTONIC, &b);
    ms = (double)(b.tv_sec - a.tv_sec) * 1e3 +
         (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    ck_assert_int_ge(nout, 4000);
    ck_assert_msg(ms < 1000, "took %.1f ms", ms);
}
END_TEST

Suite *scheduler_suite(void)
{
    Suite *s = suite_create("scheduler");
    TCase *tc = tcase_create("rules");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, material_and_profile_must_match);
    tcase_add_test(tc, any_profile_file_and_choice);
    tcase_add_test(tc, priority_then_age);
    tcase_add_test(tc, aging_prevents_starvation);
    tcase_add_test(tc, prefers_no_material_change);
    tcase_add_test(tc, never_where_it_failed);
    tcase_add_test(tc, heatup_stagger_per_site);
    tcase_add_test(tc, targeted_job_only_there);
    tcase_add_test(tc, copies_spread_over_printers);
    tcase_add_test(tc, fast_equals_reference);
    tcase_add_test(tc, ten_thousand_squared_fast);
    suite_add_tcase(s, tc);
    return s;
}
