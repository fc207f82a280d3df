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

/* Staffed hours for a site (parsed, or the test fails). */
static void set_hours(const char *site, const char *text)
{
    struct fleet_hours h;
    char err[256];

    ck_assert_msg(fleet_hours_parse(text, &h, err, sizeof(err)) == 0, "%s",
                  err);
    ck_assert_int_eq(sched_set_hours(&in, S(site), &h), 0);
}

/* What copy c's file of its first profile needs. */
static void set_need(struct sched_copy *c, double time_s, double grams)
{
    c->has_needs = 1;
    c->need_off = in.nneeds;
    ck_assert_int_eq(sched_add_need(&in, time_s, grams), 0);
}

/* 1970-01-05 was a Monday: MON + hours, in UTC. */
#define MON (4 * 86400.0)

START_TEST(spool_keeps_a_printer_out)
{
    struct sched_hold *held = NULL;
    size_t nheld = 0;
    char text[256];

    add_printer(1, "q", "", "")->spool_g = 5;      /* served first */
    add_printer(2, "q", "", "")->spool_g = 500;
    set_need(add_copy(10, 0, "q", "", "", 0, 1), 3600, 12.5);
    run();
    ck_assert_int_eq(nout, 1);
    ck_assert_int_eq(job_of(2), 10);
    /* With only the empty spool: held, and why. */
    in.printers[1].spool_g = 4;
    free(out);
    ck_assert_int_eq(sched_run_why(&in, &prm, &out, &nout, &held, &nheld), 0);
    ck_assert_int_eq(nout, 0);
    ck_assert_int_eq(nheld, 1);
    ck_assert_int_eq(held[0].job_id, 10);
    ck_assert_int_eq(held[0].printer_id, 1);
    ck_assert_int_eq(held[0].why, SCHED_HOLD_SPOOL);
    sched_hold_text(&in, &held[0], text, sizeof(text));
    ck_assert_str_eq(text, "waits for filament: it needs 12.5 g, printer "
                     "1's spool has 5.0 g");
    free(held);
    /* Unknown on either side is no limit. */
    in.printers[0].spool_g = -1;
    free(out);
    run();
    ck_assert_int_eq(job_of(1), 10);
    in.printers[0].spool_g = 1;
    in.needs[in.copies[0].need_off].grams = SCHED_UNKNOWN;
    free(out);
    run();
    ck_assert_int_eq(job_of(1), 10);
}
END_TEST

START_TEST(spool_per_profile_file)
{
    struct sched_copy *c;

    add_printer(1, "q", "big", "")->spool_g = 50;
    add_printer(2, "q", "small", "")->spool_g = 50;
    c = add_copy(10, 0, "q", "big", "", 0, 1);
    c->profiles[1] = S("small");
    c->nprofiles = 2;
    c->has_needs = 1;
    c->need_off = in.nneeds;
    ck_assert_int_eq(sched_add_need(&in, 60, 80), 0);    /* big: 80 g */
    ck_assert_int_eq(sched_add_need(&in, 60, 20), 0);    /* small: 20 g */
    run();
    ck_assert_int_eq(nout, 1);
    ck_assert_int_eq(job_of(2), 10);
}
END_TEST

START_TEST(hours_hold_a_long_print)
{
    struct sched_hold *held = NULL;
    size_t nheld = 0;
    char text[256];

    prm.now = MON + 17 * 3600.0;                 /* Monday 17:00 */
    add_printer(1, "q", "", "")->site = S("lab");
    set_hours("lab", "Mon-Fri 08:00-18:00, UTC");
    set_need(add_copy(10, 0, "q", "", "", 5, 1), 2 * 3600.0 + 1800, -1);
    ck_assert_int_eq(sched_run_why(&in, &prm, &out, &nout, &held, &nheld), 0);
    ck_assert_int_eq(nout, 0);
    ck_assert_int_eq(nheld, 1);
    ck_assert_int_eq(held[0].why, SCHED_HOLD_HOURS);
    sched_hold_text(&in, &held[0], text, sizeof(text));
    ck_assert_str_eq(text, "waits for staffed hours: its 2h 30m print on "
                     "printer 1 would end outside site lab's staffed hours "
                     "(Mon-Fri 08:00-18:00, UTC)");
    free(held);
    /* A short one that ends in the window goes first, past the long one's
     * priority. */
    set_need(add_copy(11, 0, "q", "", "", 0, 2), 1800, -1);
    free(out);
    run();
    ck_assert_int_eq(job_of(1), 11);
    /* So does one with no estimate. */
    in.copies[1].has_needs = 0;
    in.copies[1].priority = 0;
    free(out);
    run();
    ck_assert_int_eq(job_of(1), 11);
    /* Past 06:00 the next morning the long one ends at 08:30: it starts. */
    in.copies[1].job_id = 0;
    in.ncopies = 1;
    prm.now = MON + 86400.0 + 6 * 3600.0;
    free(out);
    run();
    ck_assert_int_eq(job_of(1), 10);
    /* An auto-ejecting printer never waits; nor one at a site without
     * hours. */
    prm.now = MON + 17 * 3600.0;
    in.printers[0].auto_eject = 1;
    free(out);
    run();
    ck_assert_int_eq(job_of(1), 10);
    in.printers[0].auto_eject = 0;
    in.printers[0].hours = NULL;
    free(out);
    run();
    ck_assert_int_eq(job_of(1), 10);
}
END_TEST

/* An estimate no date can end (one in the store from before estimates
 * were capped when read): held, as not staffed then, and said without
 * an overflowing cast. */
START_TEST(hours_huge_estimate)
{
    struct sched_hold *held = NULL;
    size_t nheld = 0;
    char text[256];

    prm.now = MON + 9 * 3600.0;
    add_printer(1, "q", "", "")->site = S("lab");
    set_hours("lab", "daily 00:00-24:00, UTC");
    set_need(add_copy(10, 0, "q", "", "", 0, 1), 1e300, -1);
    ck_assert_int_eq(sched_run_why(&in, &prm, &out, &nout, &held, &nheld), 0);
    ck_assert_int_eq(nout, 0);
    ck_assert_int_eq(nheld, 1);
    ck_assert_int_eq(held[0].why, SCHED_HOLD_HOURS);
    sched_hold_text(&in, &held[0], text, sizeof(text));
    ck_assert_str_eq(text, "waits for staffed hours: its 2.78e+296h print "
                     "on printer 1 would end outside site lab's staffed "
                     "hours (daily 00:00-24:00, UTC)");
    free(held);
    /* A day's print fits the all-day window and goes. */
    in.needs[in.copies[0].need_off].time_s = 86400;
    free(out);
    run();
    ck_assert_int_eq(job_of(1), 10);
}
END_TEST

START_TEST(estimates_not_read_wait_silently)
{
    struct sched_hold *held = NULL;
    size_t nheld = 0;

    add_printer(1, "q", "", "")->spool_g = 100;
    add_printer(2, "q", "", "");                  /* no limits */
    set_need(add_copy(10, 0, "q", "", "", 0, 1), SCHED_PENDING,
             SCHED_PENDING);
    ck_assert_int_eq(sched_run_why(&in, &prm, &out, &nout, &held, &nheld), 0);
    ck_assert_int_eq(job_of(2), 10);
    ck_assert_int_eq(nheld, 0);
    in.nprinters = 1;
    free(out);
    ck_assert_int_eq(sched_run_why(&in, &prm, &out, &nout, &held, &nheld), 0);
    ck_assert_int_eq(nout, 0);
    ck_assert_int_eq(nheld, 0);
}
END_TEST

/* Runs a round asking why; *held replaced (the old one freed). */
static void run_why(struct sched_hold **held, size_t *nheld)
{
    free(out);
    free(*held);
    ck_assert_int_eq(sched_run_why(&in, &prm, &out, &nout, held, nheld), 0);
}

START_TEST(held_only_when_every_ready_printer_bars_it)
{
    struct sched_hold *held = NULL;
    size_t nheld = 0;

    add_printer(1, "q", "", "")->spool_g = 5;      /* served first */
    add_printer(2, "q", "", "")->spool_g = 500;
    set_need(add_copy(11, 0, "q", "", "", 9, 1), 60, 40);
    set_need(add_copy(10, 0, "q", "", "", 0, 2), 60, 40);
    /* Printer 1's spool bars both; printer 2 takes the better one: job 10
     * waits for its turn, not for filament. */
    run_why(&held, &nheld);
    ck_assert_int_eq(nout, 1);
    ck_assert_int_eq(job_of(2), 11);
    ck_assert_int_eq(nheld, 0);
    /* Printer 2 gone: every ready printer bars job 10, and job 11 too. */
    in.nprinters = 1;
    run_why(&held, &nheld);
    ck_assert_int_eq(nout, 0);
    ck_assert_int_eq(nheld, 2);
    ck_assert_int_eq(held[0].job_id, 10);
    ck_assert_int_eq(held[0].why, SCHED_HOLD_SPOOL);
    ck_assert_int_eq(held[0].printer_id, 1);
    ck_assert_int_eq(held[1].job_id, 11);
    free(held);
}
END_TEST

START_TEST(held_before_is_weighed_again)
{
    struct sched_hold *held = NULL;
    size_t nheld = 0;
    struct sched_copy *c;

    add_printer(1, "q", "", "")->spool_g = 5;
    add_printer(2, "r", "", "")->spool_g = 500;    /* another queue */
    c = add_copy(10, 0, "q", "", "", 0, 1);
    set_need(c, 60, 40);
    c->held = 1;
    /* Still barred by printer 1's spool: held again, the same reason. */
    run_why(&held, &nheld);
    ck_assert_int_eq(nheld, 1);
    ck_assert_int_eq(held[0].why, SCHED_HOLD_SPOOL);
    ck_assert_int_eq(held[0].printer_id, 1);
    /* Printer 1 busy (not in the round): no ready printer fits it, no
     * news: not listed (what held it still stands). */
    in.printers[0].queues[0] = S("r");
    run_why(&held, &nheld);
    ck_assert_int_eq(nout, 0);
    ck_assert_int_eq(nheld, 0);
    /* A higher job takes the one printer whose spool would do: job 10
     * waits for its turn: released. */
    in.printers[0].queues[0] = S("q");
    in.printers[0].spool_g = 500;
    set_need(add_copy(11, 0, "q", "", "", 9, 2), 60, 40);
    run_why(&held, &nheld);
    ck_assert_int_eq(job_of(1), 11);
    ck_assert_int_eq(nheld, 1);
    ck_assert_int_eq(held[0].job_id, 10);
    ck_assert_int_eq(held[0].why, SCHED_OK);
    /* Placed: in neither list (the dispatch clears it). */
    in.copies[1].queue = S("r");
    run_why(&held, &nheld);
    ck_assert_int_eq(job_of(1), 10);
    ck_assert_int_eq(nheld, 0);
    /* Not held before and placed nowhere but for its turn: not listed. */
    in.copies[1].queue = S("q");
    c = &in.copies[0];
    c->held = 0;
    run_why(&held, &nheld);
    ck_assert_int_eq(nheld, 0);
    free(held);
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
        p->spool_g = rand() % 3 ? (double)(rand() % 200) : -1;
        p->auto_eject = rand() % 2;
    }
    set_hours("s1", "daily 08:00-12:00, UTC");
    for (int j = 0; j < nj; j++) {
        int copies = 1 + rand() % 3;
        size_t excl_off = in.nexcluded, nexcl = (size_t)(rand() % 4);
        size_t need_off = in.nneeds;
        for (size_t e = 0; e < nexcl; e++)
            sched_add_excluded(&in, 1 + rand() % (np < 8 ? np : 8));
        for (int k = 0; k < 2; k++)
            ck_assert_int_eq(sched_add_need(&in, rand() % 4 ?
                                            (double)(rand() % 20000) :
                                            SCHED_UNKNOWN, rand() % 4 ?
                                            (double)(rand() % 150) :
                                            SCHED_UNKNOWN), 0);
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
            c->has_needs = j % 5 != 0;
            c->need_off = need_off;
        }
        srand(seed * 31u + (unsigned)j * 17u);
    }
    prm.age_boost = 300;
    prm.change_penalty = 2;
    prm.heatup_max = (int)(seed % 3) * 3;
    prm.now = 7 * 3600.0 + seed * 60;   /* before and in s1's hours */
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
    tcase_add_test(tc, spool_keeps_a_printer_out);
    tcase_add_test(tc, spool_per_profile_file);
    tcase_add_test(tc, hours_hold_a_long_print);
    tcase_add_test(tc, hours_huge_estimate);
    tcase_add_test(tc, estimates_not_read_wait_silently);
    tcase_add_test(tc, held_only_when_every_ready_printer_bars_it);
    tcase_add_test(tc, held_before_is_weighed_again);
    tcase_add_test(tc, fast_equals_reference);
    tcase_add_test(tc, ten_thousand_squared_fast);
    suite_add_tcase(s, tc);
    return s;
}
