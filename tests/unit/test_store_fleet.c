/* test_store_fleet.c - unit tests for src/store/store_fleet*.c on a
 * temporary database: enrollment and tokens, the one-live-attempt rule,
 * the K/M failure policy, quarantine, blob reference counts, a dispatch
 * round, cancel, feasibility and print tasks following their jobs. */
#include "common/conf.h"
#include "common/util.h"
#include "fleet/model.h"
#include "store/store.h"
#include "store/store_fleet.h"

#include <check.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

Suite *store_fleet_suite(void);

static char dir[256];
static struct store *st;
static struct fleet_policy pol;

#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static void setup(void)
{
    char path[300], err[256];

    snprintf(dir, sizeof(dir), "/tmp/rr-sf-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/t.db", dir);
    st = store_open(path, err, sizeof(err));
    ck_assert_msg(st != NULL, "%s", err);
    memset(&pol, 0, sizeof(pol));
    pol.fail_per_printer = 1;
    pol.fail_printers = 2;
    pol.quarantine_after = 3;
    pol.lease = 300;
    pol.frontend_capacity = 150;
    pol.frontend_fail_threshold = 2;
    pol.frontend_grace = 60;
}

static void teardown(void)
{
    store_close(st);
    rr_rmtree(dir);
}

/* Enrolls a ready printer serving queue "default". */
static long long printer(const char *profile, const char *material)
{
    struct fleet_printer p;
    struct fleet_frontend fe;
    char tok[FLEET_TOKEN_MAX];
    long long id;

    fleet_printer_init(&p);
    snprintf(p.profile, sizeof(p.profile), "%s", profile);
    snprintf(p.material, sizeof(p.material), "%s", material);
    ck_assert_int_eq(store_printer_enroll(st, &p, &pol, 100, &id, tok,
                                          sizeof(tok), &fe, NULL, 0), 0);
    ck_assert_int_eq(store_printer_observe(st, id, PRINTER_READY, "ready",
                                           101, NULL), 0);
    return id;
}

static long long job(const char *material, int copies, const char *task)
{
    struct fleet_job_file f;
    struct fleet_job_spec spec;
    long long id;

    memset(&f, 0, sizeof(f));
    snprintf(f.sha256, sizeof(f.sha256), SHA_A);
    snprintf(f.filename, sizeof(f.filename), "cube.gcode");
    ck_assert_int_eq(store_blob_put(st, SHA_A, 123, 50), 0);
    memset(&spec, 0, sizeof(spec));
    spec.queue = "default";
    spec.copies = copies;
    spec.material = material;
    spec.files = &f;
    spec.nfiles = 1;
    spec.task_id = task;
    ck_assert_int_eq(store_job_create(st, &spec, 110, &id), 0);
    return id;
}

static enum printer_state pstate(long long id)
{
    struct fleet_printer p;

    ck_assert_int_eq(store_printer_get(st, id, &p), 0);
    return p.state;
}

static enum job_state job_state_of(long long id)
{
    struct fleet_job j;
    enum job_state state;

    ck_assert_int_eq(store_job_get(st, id, &j), 0);
    state = j.state;
    fleet_job_clear(&j);
    return state;
}

START_TEST(enroll_and_auth)
{
    struct fleet_printer p;
    struct fleet_frontend fe;
    char tok[FLEET_TOKEN_MAX], bad[64] = "";
    long long id, who;

    fleet_printer_init(&p);
    snprintf(p.queues, sizeof(p.queues), "default,nosuch");
    ck_assert_int_eq(store_printer_enroll(st, &p, &pol, 1, &id, tok,
                                          sizeof(tok), &fe, bad, sizeof(bad)),
                     STORE_NOTFOUND);
    ck_assert_str_eq(bad, "nosuch");
    snprintf(p.queues, sizeof(p.queues), "default");
    snprintf(p.api_key, sizeof(p.api_key), "secretkey");
    ck_assert_int_eq(store_printer_enroll(st, &p, &pol, 1, &id, tok,
                                          sizeof(tok), &fe, NULL, 0), 0);
    ck_assert_int_eq(strncmp(tok, "rrp_", 4), 0);
    ck_assert_int_eq(store_printer_auth(st, tok, &who), 0);
    ck_assert_int_eq(who, id);
    tok[10] ^= 1;
    ck_assert_int_eq(store_printer_auth(st, tok, &who), STORE_NOTFOUND);
    ck_assert_int_eq(store_printer_auth(st, "", &who), STORE_NOTFOUND);
    ck_assert_int_eq(store_printer_get(st, id, &p), 0);
    ck_assert_str_eq(p.queues, "default");
    ck_assert_str_eq(p.api_key, "secretkey");
    ck_assert_int_eq(p.state, PRINTER_OFFLINE);
    ck_assert_str_eq(p.name, "printer-1");
    {
        struct fleet_printer_patch pp;

        fleet_printer_patch_init(&pp);
        pp.material = "abs";
        pp.auto_eject = 1;
        pp.queues = "nosuch";
        ck_assert_int_eq(store_printer_update(st, id, &pp, 2, bad,
                                              sizeof(bad)), STORE_NOTFOUND);
        ck_assert_str_eq(bad, "nosuch");
        pp.queues = NULL;
        ck_assert_int_eq(store_printer_update(st, id, &pp, 2, bad,
                                              sizeof(bad)), 0);
        ck_assert_int_eq(store_printer_get(st, id, &p), 0);
        ck_assert_str_eq(p.material, "abs");
        ck_assert_int_eq(p.auto_eject, 1);
        ck_assert_str_eq(p.api_key, "secretkey");     /* untouched */
        ck_assert_int_eq(store_printer_update(st, 99, &pp, 2, bad,
                                              sizeof(bad)), STORE_NOTFOUND);
    }
}
END_TEST

START_TEST(enroll_picks_frontend)
{
    struct fleet_frontend f, fe;
    struct fleet_printer p;
    char tok[FLEET_TOKEN_MAX];
    long long id;
    int changed = 0;

    fleet_frontend_init(&f);
    snprintf(f.name, sizeof(f.name), "eu1");
    snprintf(f.region, sizeof(f.region), "eu");
    f.capacity = 1;
    ck_assert_int_eq(store_frontend_add(st, &f, 1, NULL), 0);
    ck_assert_int_eq(store_frontend_add(st, &f, 1, NULL), STORE_CONFLICT);
    snprintf(f.name, sizeof(f.name), "us1");
    snprintf(f.region, sizeof(f.region), "us");
    f.capacity = 10;
    ck_assert_int_eq(store_frontend_add(st, &f, 1, NULL), 0);
    fleet_printer_init(&p);
    snprintf(p.region, sizeof(p.region), "eu");
    ck_assert_int_eq(store_printer_enroll(st, &p, &pol, 1, &id, tok,
                                          sizeof(tok), &fe, NULL, 0), 0);
    ck_assert_str_eq(fe.name, "eu1");
    /* eu1 is full and eu has no fallback: refused. */
    ck_assert_int_eq(store_printer_enroll(st, &p, &pol, 1, &id, tok,
                                          sizeof(tok), &fe, NULL, 0),
                     STORE_CONFLICT);
    snprintf(pol.region_fallback, sizeof(pol.region_fallback), "eu:us");
    ck_assert_int_eq(store_printer_enroll(st, &p, &pol, 1, &id, tok,
                                          sizeof(tok), &fe, NULL, 0), 0);
    ck_assert_str_eq(fe.name, "us1");
    /* eu1 goes down past the grace: its printer moves to us1. */
    ck_assert_int_eq(store_frontend_get(st, "eu1", &f), 0);
    ck_assert_int_eq(f.assigned, 1);
    ck_assert_int_eq(store_frontend_health(st, f.id, 0, "refused", &pol, 10,
                                           &changed), 0);
    ck_assert_int_eq(changed, 0);
    ck_assert_int_eq(store_frontend_health(st, f.id, 0, "refused", &pol, 11,
                                           &changed), 0);
    ck_assert_int_eq(changed, 1);
    ck_assert_int_eq(store_fleet_rebalance(st, &pol, 20, &changed), 0);
    ck_assert_int_eq(changed, 0);        /* still inside the grace */
    ck_assert_int_eq(store_fleet_rebalance(st, &pol, 80, &changed), 0);
    ck_assert_int_eq(changed, 1);
    ck_assert_int_eq(store_printer_get(st, 1, &p), 0);
    ck_assert_str_eq(p.frontend, "us1");
    ck_assert_int_eq(p.move_pending, 1);
    /* The agent reports its new URL: the move is acknowledged. */
    ck_assert_int_eq(store_printer_heartbeat(st, 1, "https://prn-1.us1.x",
                                             NULL, NULL, 81, &p, &fe), 0);
    ck_assert_int_eq(p.move_pending, 0);
    ck_assert_str_eq(fe.name, "us1");
}
END_TEST

START_TEST(one_live_attempt_per_copy)
{
    long long p1 = printer("", "pla"), p2 = printer("", "pla");
    long long j = job("", 1, NULL);
    struct fleet_attempt a;
    char *err = NULL;
    int rc;

    ck_assert_int_eq(store_attempt_create(st, j, 0, p1, &pol, 120, &a), 0);
    ck_assert_int_eq(a.state, ATTEMPT_DISPATCHING);
    ck_assert_str_eq(a.sha256, SHA_A);
    ck_assert_int_eq(store_attempt_create(st, j, 0, p2, &pol, 121, NULL),
                     STORE_CONFLICT);
    ck_assert_int_eq(pstate(p1), PRINTER_UPLOADING);
    ck_assert_int_eq(pstate(p2), PRINTER_READY);
    /* The index holds even against SQL that skips the checks. */
    rc = sqlite3_exec((sqlite3 *)store_db(st),
                      "INSERT INTO attempts (job_id, copy, printer_id, "
                      "state, sha256, created, lease_until) VALUES (1, 0, 2, "
                      "1, 'x', 0, 0)", NULL, NULL, &err);
    ck_assert_int_ne(rc, SQLITE_OK);
    sqlite3_free(err);
    /* A final attempt frees the copy for a new one. */
    ck_assert_int_eq(store_attempt_end(st, a.id, ATTEMPT_LOST, "gone", &pol,
                                       130, NULL), 0);
    ck_assert_int_eq(store_attempt_end(st, a.id, ATTEMPT_LOST, "gone", &pol,
                                       130, NULL), STORE_CONFLICT);
    ck_assert_int_eq(store_attempt_create(st, j, 0, p2, &pol, 131, &a), 0);
}
END_TEST

START_TEST(two_connections_race)
{
    long long p1 = printer("", ""), p2 = printer("", "");
    long long j = job("", 1, NULL);
    struct store *st2;
    char path[300], err[256];

    snprintf(path, sizeof(path), "%s/t.db", dir);
    st2 = store_open(path, err, sizeof(err));
    ck_assert_ptr_nonnull(st2);
    ck_assert_int_eq(store_attempt_create(st2, j, 0, p2, &pol, 120, NULL), 0);
    ck_assert_int_eq(store_attempt_create(st, j, 0, p1, &pol, 120, NULL),
                     STORE_CONFLICT);
    store_close(st2);
}
END_TEST

/* Dispatches j's copy 0 to p and fails it. */
static struct fleet_attempt_outcome fail_on(long long j, long long p,
                                            double t)
{
    struct fleet_attempt a;
    struct fleet_attempt_outcome o;

    ck_assert_int_eq(store_printer_observe(st, p, PRINTER_READY, NULL, t,
                                           NULL), 0);
    store_printer_cleared(st, p, t);
    ck_assert_int_eq(store_attempt_create(st, j, 0, p, &pol, t, &a), 0);
    ck_assert_int_eq(store_attempt_set_state(st, a.id, ATTEMPT_PRINTING, &pol,
                                             t + 1), 0);
    ck_assert_int_eq(store_attempt_end(st, a.id, ATTEMPT_FAILED, "spaghetti",
                                       &pol, t + 2, &o), 0);
    return o;
}

static int count_excl(struct store *s, long long printer_id)
{
    struct sched_input in;
    int n = 0;

    sched_input_init(&in);
    ck_assert_int_eq(store_fleet_sched_load(s, &pol, 1000, &in), 0);
    for (size_t i = 0; i < in.ncopies; i++) {
        for (size_t k = 0; k < in.copies[i].nexcl; k++)
            n += in.excluded[in.copies[i].excl_off + k] == printer_id;
    }
    sched_input_free(&in);
    return n;
}

START_TEST(failure_policy_k_m)
{
    long long p1 = printer("", ""), p2 = printer("", ""), p3 = printer("", "");
    long long j;
    struct fleet_attempt_outcome o;
    struct fleet_job jb;

    pol.fail_per_printer = 2;
    pol.fail_printers = 2;
    pol.quarantine_after = 0;
    j = job("", 2, NULL);
    o = fail_on(j, p1, 200);
    ck_assert_int_eq(o.copy_state, COPY_QUEUED);
    ck_assert_int_eq(o.printer_excluded, 0);       /* 1 < K */
    ck_assert_int_eq(o.printer_state, PRINTER_NEEDS_CLEARING);
    ck_assert_int_eq(count_excl(st, p1), 0);
    o = fail_on(j, p1, 210);
    ck_assert_int_eq(o.printer_excluded, 1);       /* K reached */
    ck_assert_int_eq(o.copy_state, COPY_QUEUED);
    store_printer_cleared(st, p1, 215);
    ck_assert_int_eq(count_excl(st, p1), 2);        /* both copies avoid it */
    ck_assert_int_eq(count_excl(st, p3), 0);
    o = fail_on(j, p2, 220);                        /* M printers: fails */
    ck_assert_int_eq(o.copy_state, COPY_FAILED);
    ck_assert_int_eq(o.job_ended, 1);
    ck_assert_int_eq(o.job_state, JOB_FAILED);
    ck_assert_int_eq(store_job_get(st, j, &jb), 0);
    ck_assert_int_eq(jb.copies_failed, 2);
    ck_assert_ptr_nonnull(jb.reason);
    ck_assert_ptr_nonnull(strstr(jb.reason, "2 printers"));
    fleet_job_clear(&jb);
}
END_TEST

/* The last copy to settle completes, an earlier one failed: the job fails
 * and says why (the failed copy's reason, not the last end's none). */
START_TEST(job_fails_with_reason_when_last_copy_completes)
{
    long long p1 = printer("", ""), p2 = printer("", ""), j;
    struct fleet_attempt_outcome o;
    struct fleet_attempt a;
    struct fleet_job jb;

    pol.fail_per_printer = 1;
    pol.fail_printers = 1;
    pol.quarantine_after = 0;
    j = job("", 2, NULL);
    ck_assert_int_eq(store_printer_observe(st, p2, PRINTER_READY, NULL, 200,
                                           NULL), 0);
    ck_assert_int_eq(store_attempt_create(st, j, 1, p2, &pol, 200, &a), 0);
    o = fail_on(j, p1, 210);                        /* copy 0: M = 1 */
    ck_assert_int_eq(o.copy_state, COPY_FAILED);
    ck_assert_int_eq(o.job_ended, 0);               /* copy 1 still prints */
    ck_assert_int_eq(store_attempt_end(st, a.id, ATTEMPT_COMPLETE, NULL, &pol,
                                       220, &o), 0);
    ck_assert_int_eq(o.job_ended, 1);
    ck_assert_int_eq(o.job_state, JOB_FAILED);
    ck_assert_int_eq(store_job_get(st, j, &jb), 0);
    ck_assert_ptr_nonnull(jb.reason);
    ck_assert_ptr_nonnull(strstr(jb.reason, "copy 0: "));
    fleet_job_clear(&jb);
}
END_TEST

START_TEST(quarantine_and_release)
{
    long long p1 = printer("", "");
    struct fleet_attempt_outcome o;

    pol.fail_printers = 100;
    pol.quarantine_after = 2;
    o = fail_on(job("", 1, NULL), p1, 200);
    ck_assert_int_eq(o.printer_quarantined, 0);
    o = fail_on(job("", 1, NULL), p1, 210);
    ck_assert_int_eq(o.printer_quarantined, 1);
    ck_assert_int_eq(pstate(p1), PRINTER_QUARANTINED);
    ck_assert_int_eq(store_printer_cleared(st, p1, 211), 0);
    ck_assert_int_eq(pstate(p1), PRINTER_QUARANTINED);
    ck_assert_int_eq(store_printer_release(st, p1, 212), 0);
    ck_assert_int_eq(pstate(p1), PRINTER_READY);
    ck_assert_int_eq(store_printer_release(st, p1, 213), STORE_CONFLICT);
    ck_assert_int_eq(store_printer_release(st, 999, 213), STORE_NOTFOUND);
}
END_TEST

START_TEST(blob_refcount_and_purge)
{
    struct fleet_job_file f;
    struct fleet_job_spec spec;
    long long id1, id2, size, refs;
    int live;

    memset(&f, 0, sizeof(f));
    snprintf(f.sha256, sizeof(f.sha256), SHA_B);
    snprintf(f.filename, sizeof(f.filename), "b.gcode");
    memset(&spec, 0, sizeof(spec));
    spec.queue = "default";
    spec.copies = 200;
    spec.files = &f;
    spec.nfiles = 1;
    ck_assert_int_eq(store_job_create(st, &spec, 10, &id1), STORE_NOTFOUND);
    ck_assert_int_eq(store_blob_put(st, SHA_B, 77, 10), 0);
    ck_assert_int_eq(store_blob_put(st, SHA_B, 77, 10), 0);
    ck_assert_int_eq(store_job_create(st, &spec, 10, &id1), 0);
    ck_assert_int_eq(store_job_create(st, &spec, 10, &id2), 0);
    ck_assert_int_eq(store_blob_get(st, SHA_B, &size, &refs), 0);
    ck_assert_int_eq(size, 77);
    ck_assert_int_eq(refs, 2);
    ck_assert_int_eq(store_job_cancel(st, id1, NULL, 20, &live), 0);
    ck_assert_int_eq(live, 0);
    ck_assert_int_eq(store_job_cancel(st, id1, NULL, 20, &live),
                     STORE_CONFLICT);
    ck_assert_int_eq(store_fleet_purge(st, 30, 0, NULL, NULL), 0);
    ck_assert_int_eq(store_blob_get(st, SHA_B, &size, &refs), 0);
    ck_assert_int_eq(refs, 1);
    ck_assert_int_eq(store_job_cancel(st, id2, NULL, 20, NULL), 0);
    ck_assert_int_eq(store_fleet_purge(st, 30, 0, NULL, NULL), 0);
    ck_assert_int_eq(store_blob_get(st, SHA_B, &size, &refs), 0);
    ck_assert_int_eq(refs, 0);                     /* kept for the grace */
    ck_assert_int_eq(store_fleet_purge(st, 30, rr_now() + 1, NULL, NULL), 0);
    ck_assert_int_eq(store_blob_get(st, SHA_B, &size, &refs), STORE_NOTFOUND);
}
END_TEST

/* An owner's cap is checked in the transaction that creates the job, and
 * a refusal writes nothing (no job, no blob reference). */
START_TEST(job_owner_cap)
{
    struct fleet_job_file f;
    struct fleet_job_spec spec;
    long long id, e1, open = -1, refs;

    memset(&f, 0, sizeof(f));
    snprintf(f.sha256, sizeof(f.sha256), SHA_B);
    snprintf(f.filename, sizeof(f.filename), "b.gcode");
    ck_assert_int_eq(store_blob_put(st, SHA_B, 77, 10), 0);
    memset(&spec, 0, sizeof(spec));
    spec.queue = "default";
    spec.copies = 1;
    spec.files = &f;
    spec.nfiles = 1;
    spec.owner = "alice";
    ck_assert_int_eq(store_job_create_capped(st, &spec, 10, "alice", 2,
                                             &open, &id), 0);
    spec.owner = "alice/e1";    /* an end user of alice's app: her family */
    ck_assert_int_eq(store_job_create_capped(st, &spec, 10, "alice", 2,
                                             &open, &e1), 0);
    ck_assert_int_eq(store_job_create_capped(st, &spec, 10, "alice", 2,
                                             &open, &id), STORE_CAPPED);
    ck_assert_int_eq(open, 2);
    ck_assert_int_eq(store_blob_get(st, SHA_B, NULL, &refs), 0);
    ck_assert_int_eq(refs, 2);
    ck_assert_int_eq(store_owner_open(st, "alice", &open), 0);
    ck_assert_int_eq(open, 2);
    /* another owner, and no cap at all */
    spec.owner = "bob";
    ck_assert_int_eq(store_job_create_capped(st, &spec, 10, "bob", 1, &open,
                                             &id), 0);
    ck_assert_int_eq(store_job_create_capped(st, &spec, 10, NULL, 0, &open,
                                             &id), 0);
    /* an ended job frees its place */
    spec.owner = "alice";
    ck_assert_int_eq(store_job_cancel(st, e1, NULL, 20, NULL), 0);
    ck_assert_int_eq(store_job_create_capped(st, &spec, 10, "alice", 2,
                                             &open, &id), 0);
}
END_TEST

static int collect_attempt(void *arg, const struct fleet_attempt *a)
{
    struct fleet_attempt *v = arg;

    for (int i = 0; i < 8; i++) {
        if (!v[i].id) {
            v[i] = *a;
            return 0;
        }
    }
    return 1;
}

static int count_job(void *arg, const struct fleet_job *j)
{
    (void)j;
    (*(int *)arg)++;
    return 0;
}

START_TEST(dispatch_round_and_task)
{
    long long pa = printer("mk3s", "pla"), pb = printer("mini", "petg");
    struct fleet_attempt made[8];
    struct fleet_attempt_outcome o;
    struct task t;
    long long j;
    int n = 0, ended = 0;

    memset(&t, 0, sizeof(t));
    snprintf(t.id, sizeof(t.id), "1700000000-00001-000001");
    snprintf(t.service, sizeof(t.service), "print");
    t.kind = TASK_KIND_PRINT;
    t.timeout = 10;
    ck_assert_int_eq(store_task_insert(st, &t), 0);
    j = job("petg", 1, "1700000000-00001-000001");
    memset(made, 0, sizeof(made));
    ck_assert_int_eq(store_fleet_dispatch(st, &pol, 300, collect_attempt,
                                          made, &n), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(made[0].printer_id, pb);      /* material decides */
    ck_assert_int_eq(made[0].job_id, j);
    ck_assert_str_eq(made[0].filename, "rr-1-0-1.gcode");
    ck_assert_int_eq(pstate(pa), PRINTER_READY);
    ck_assert_int_eq(store_task_get(st, "1700000000-00001-000001", &t), 0);
    ck_assert_int_eq(t.status, TASK_BUSY);
    task_clear(&t);
    /* Nothing left: a second round makes nothing. */
    ck_assert_int_eq(store_fleet_dispatch(st, &pol, 301, NULL, NULL, &n), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(store_attempt_set_state(st, made[0].id,
                                             ATTEMPT_UPLOADING, &pol, 302), 0);
    ck_assert_int_eq(store_attempt_set_state(st, made[0].id, ATTEMPT_PRINTING,
                                             &pol, 303), 0);
    ck_assert_int_eq(store_attempt_set_state(st, made[0].id,
                                             ATTEMPT_UPLOADING, &pol, 304),
                     STORE_CONFLICT);
    ck_assert_int_eq(pstate(pb), PRINTER_PRINTING);
    ck_assert_int_eq(store_attempt_end(st, made[0].id, ATTEMPT_COMPLETE, NULL,
                                       &pol, 400, &o), 0);
    ck_assert_int_eq(o.job_ended, 1);
    ck_assert_int_eq(o.job_state, JOB_COMPLETE);
    ck_assert_int_eq(o.printer_state, PRINTER_NEEDS_CLEARING);
    ck_assert_int_eq(store_job_ended_tasks(st, 10, count_job, &ended), 0);
    ck_assert_int_eq(ended, 1);
    ck_assert_int_eq(store_printer_cleared(st, pb, 401), 0);
    ck_assert_int_eq(pstate(pb), PRINTER_READY);
    ck_assert_int_eq(store_printer_cleared(st, pb, 402), STORE_CONFLICT);
}
END_TEST

START_TEST(cancel_with_live_attempt)
{
    long long p = printer("", "");
    long long j = job("", 2, NULL);
    struct fleet_attempt a;
    struct fleet_attempt_outcome o;
    struct fleet_printer pr;
    int live;

    ck_assert_int_eq(store_attempt_create(st, j, 1, p, &pol, 120, &a), 0);
    ck_assert_int_eq(store_job_cancel(st, j, "changed my mind", 121, &live),
                     0);
    ck_assert_int_eq(live, 1);
    ck_assert_int_eq(store_printer_get(st, p, &pr), 0);
    ck_assert_int_eq(pr.pending_cmd, PCMD_CANCEL);
    ck_assert_int_eq(store_attempt_end(st, a.id, ATTEMPT_CANCELLED, NULL,
                                       &pol, 122, &o), 0);
    ck_assert_int_eq(o.copy_state, COPY_CANCELLED);
    ck_assert_int_eq(o.job_state, JOB_CANCELLED);
    ck_assert_int_eq(o.job_ended, 1);
    /* Upload never began printing: the bed is clear. */
    ck_assert_int_eq(o.printer_state, PRINTER_READY);
}
END_TEST

/* An operator's cancel at the printer is no failure: the copy goes back,
 * the printer is not excluded for the job and makes no streak. */
START_TEST(cancel_at_printer_requeues)
{
    long long p = printer("", "");
    long long j = job("", 1, NULL);
    struct fleet_attempt a;
    struct fleet_attempt_outcome o;
    struct fleet_printer pr;

    pol.quarantine_after = 1;
    ck_assert_int_eq(store_attempt_create(st, j, 0, p, &pol, 120, &a), 0);
    ck_assert_int_eq(store_attempt_set_state(st, a.id, ATTEMPT_PRINTING,
                                             &pol, 121), 0);
    ck_assert_int_eq(store_attempt_end(st, a.id, ATTEMPT_CANCELLED,
                                       "cancelled", &pol, 122, &o), 0);
    ck_assert_int_eq(o.copy_state, COPY_QUEUED);
    ck_assert_int_eq(o.printer_excluded, 0);
    ck_assert_int_eq(o.printer_quarantined, 0);
    ck_assert_int_eq(o.printer_state, PRINTER_NEEDS_CLEARING);
    ck_assert_int_eq(store_attempt_get(st, a.id, &a), 0);
    ck_assert_int_eq(a.state, ATTEMPT_CANCELLED);
    ck_assert_str_eq(a.reason, "cancelled at the printer");
    ck_assert_int_eq(store_printer_get(st, p, &pr), 0);
    ck_assert_int_eq(pr.consecutive_failures, 0);
    /* Cleared, the same printer takes the copy again. */
    ck_assert_int_eq(store_printer_cleared(st, p, 123), 0);
    ck_assert_int_eq(store_attempt_create(st, j, 0, p, &pol, 124, &a), 0);
}
END_TEST

/* Lost attempts (unreachable, refused, the dispatcher's own reasons) are
 * nobody's fault: however many, no quarantine and no exclusion; a print
 * error is the printer's. */
START_TEST(lost_is_no_failure)
{
    long long p = printer("", "");
    long long j = job("", 1, NULL);
    struct fleet_attempt a;
    struct fleet_attempt_outcome o;
    struct fleet_printer pr;

    pol.quarantine_after = 2;
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(store_attempt_create(st, j, 0, p, &pol, 120 + i,
                                              &a), 0);
        ck_assert_int_eq(store_attempt_end(st, a.id, ATTEMPT_LOST,
                                           "upload failed (offline)", &pol,
                                           120 + i, &o), 0);
        ck_assert_int_eq(o.copy_state, COPY_QUEUED);
        ck_assert_int_eq(o.printer_quarantined, 0);
        ck_assert_int_eq(o.printer_state, PRINTER_READY);
    }
    ck_assert_int_eq(store_printer_get(st, p, &pr), 0);
    ck_assert_int_eq(pr.consecutive_failures, 0);
    ck_assert_int_eq(store_attempt_create(st, j, 0, p, &pol, 130, &a), 0);
    ck_assert_int_eq(store_attempt_end(st, a.id, ATTEMPT_FAILED,
                                       "print error: x", &pol, 131, &o), 0);
    ck_assert_int_eq(o.printer_excluded, 1);
    ck_assert_int_eq(store_printer_get(st, p, &pr), 0);
    ck_assert_int_eq(pr.consecutive_failures, 1);
}
END_TEST

struct kinds {
    char v[512];
};

static int event_kind(void *arg, const struct fleet_event *e)
{
    struct kinds *k = arg;
    size_t n = strlen(k->v);

    if (strncmp(e->kind, "printer_", 8) == 0)
        snprintf(k->v + n, sizeof(k->v) - n, "%s%s=%s", n ? " " : "",
                 e->kind + 8, e->message);
    return 0;
}

/* Health changes are events once per change: offline (with why), error,
 * back online; ready <-> printing and repeated observations are not. */
START_TEST(printer_health_events)
{
    long long p = printer("", "");           /* offline -> ready: online */
    struct kinds k;

    memset(&k, 0, sizeof(k));
    ck_assert_int_eq(store_printer_observe(st, p, PRINTER_PRINTING, "ready",
                                           102, NULL), 0);
    ck_assert_int_eq(store_printer_observe(st, p, PRINTER_OFFLINE,
                                           "unreachable", 103, NULL), 0);
    ck_assert_int_eq(store_printer_observe(st, p, PRINTER_OFFLINE,
                                           "unreachable", 104, NULL), 0);
    ck_assert_int_eq(store_printer_observe(st, p, PRINTER_OFFLINE,
                                           "unauthorized", 105, NULL), 0);
    ck_assert_int_eq(store_printer_observe(st, p, PRINTER_READY, "ready",
                                           106, NULL), 0);
    ck_assert_int_eq(store_printer_observe(st, p, PRINTER_ERROR, "shutdown",
                                           107, NULL), 0);
    ck_assert_int_eq(store_printer_observe(st, p, PRINTER_ERROR, "shutdown",
                                           108, NULL), 0);
    ck_assert_int_eq(store_printer_observe(st, p, PRINTER_READY, "ready",
                                           109, NULL), 0);
    ck_assert_int_eq(store_event_list(st, 0, 100, event_kind, &k), 0);
    ck_assert_str_eq(k.v, "online=online (was offline) "
                     "offline=offline: unreachable "
                     "offline=offline: unauthorized "
                     "online=online (was offline: unauthorized) "
                     "error=klippy shutdown "
                     "online=online (was in error: shutdown)");
}
END_TEST

static int collect_unplaced(void *arg, const struct store_unplaced *u)
{
    struct store_unplaced *v = arg;

    for (int i = 0; i < 4; i++) {
        if (!v[i].job_id) {
            v[i] = *u;
            return 0;
        }
    }
    return 1;
}

/* A job whose only printer failed it is stuck: found with the printers'
 * counts, marked once (one event), placeable again once an operator
 * cleared that printer, failed on request; a job that can go somewhere is
 * not stuck. */
START_TEST(unplaceable_jobs)
{
    long long p = printer("", "");
    long long j = job("", 1, NULL), j2;
    struct store_unplaced u[4];
    struct fleet_job jb;
    int ended = 0;

    pol.fail_printers = 3;
    memset(u, 0, sizeof(u));
    ck_assert_int_eq(store_job_unplaceable(st, 1, collect_unplaced, u), 0);
    ck_assert_int_eq(u[0].job_id, 0);               /* it can go to p */
    fail_on(j, p, 200);
    j2 = job("", 1, NULL);                          /* p may take this one */
    ck_assert_int_eq(store_job_unplaceable(st, 1, collect_unplaced, u), 0);
    ck_assert_int_eq(u[0].job_id, j);
    ck_assert_int_eq(u[0].stuck, 1);
    ck_assert_int_eq(u[0].marked, 0);
    ck_assert_int_eq(u[0].serving, 1);
    ck_assert_int_eq(u[0].failed, 1);
    ck_assert_int_eq(u[0].quarantined, 0);
    ck_assert_int_eq(u[1].job_id, 0);
    ck_assert_int_ne(j2, j);
    /* K = 2: one failure does not exclude it yet */
    memset(u, 0, sizeof(u));
    ck_assert_int_eq(store_job_unplaceable(st, 2, collect_unplaced, u), 0);
    ck_assert_int_eq(u[0].job_id, 0);
    ck_assert_int_eq(store_job_waiting(st, j, "no printer", 210), 0);
    ck_assert_int_eq(store_job_waiting(st, j, "no printer", 215),
                     STORE_CONFLICT);               /* once per change */
    ck_assert_int_eq(store_job_get(st, j, &jb), 0);
    ck_assert_str_eq(jb.waiting_reason, "no printer");
    ck_assert(jb.waiting_since == 210);
    fleet_job_clear(&jb);
    memset(u, 0, sizeof(u));
    ck_assert_int_eq(store_job_unplaceable(st, 1, collect_unplaced, u), 0);
    ck_assert_int_eq(u[0].marked, 1);
    ck_assert(u[0].waiting_since == 210);
    /* marked but placeable (K = 2): listed as not stuck, then cleared */
    memset(u, 0, sizeof(u));
    ck_assert_int_eq(store_job_unplaceable(st, 2, collect_unplaced, u), 0);
    ck_assert_int_eq(u[0].job_id, j);
    ck_assert_int_eq(u[0].stuck, 0);
    /* An operator clears the printer: the waiting job may go there again
     * (K = 1 and all); a failure of it elsewhere would still count. */
    ck_assert_int_eq(store_printer_cleared(st, p, 220), 0);
    memset(u, 0, sizeof(u));
    ck_assert_int_eq(store_job_unplaceable(st, 1, collect_unplaced, u), 0);
    ck_assert_int_eq(u[0].job_id, j);
    ck_assert_int_eq(u[0].stuck, 0);
    ck_assert_int_eq(store_job_fail_queued(st, j, "waited too long", 300,
                                           &ended), 0);
    ck_assert_int_eq(ended, 1);
    ck_assert_int_eq(store_job_get(st, j, &jb), 0);
    ck_assert_int_eq(jb.state, JOB_FAILED);
    ck_assert_str_eq(jb.reason, "waited too long");
    fleet_job_clear(&jb);
}
END_TEST

/* A print task cancelled through the relay while its job waits stays
 * open: the fleet cancels the job, and the job's end ends the task (with
 * its notifier), as for a task whose job prints. */
START_TEST(relay_cancel_of_waiting_print_task)
{
    struct task t;
    enum task_status now;
    long long j;
    int n = 0, ended = 0;

    memset(&t, 0, sizeof(t));
    snprintf(t.id, sizeof(t.id), "1700000000-00001-000002");
    snprintf(t.service, sizeof(t.service), "print");
    t.kind = TASK_KIND_PRINT;
    t.timeout = 10;
    ck_assert_int_eq(store_task_insert(st, &t), 0);
    j = job("", 1, "1700000000-00001-000002");
    ck_assert_int_eq(store_task_cancel(st, t.id, "cancelled by client", &now),
                     0);
    ck_assert_int_eq(now, TASK_QUEUED);
    ck_assert_int_eq(store_job_cancel_by_tasks(st, 200, &n), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(store_job_ended_tasks(st, 10, count_job, &ended), 0);
    ck_assert_int_eq(ended, 1);
    ck_assert_int_eq(job_state_of(j), JOB_CANCELLED);
}
END_TEST

START_TEST(feasibility)
{
    struct fleet_job_file f;
    struct fleet_job_spec spec;
    char field[32], msg[256];

    memset(&f, 0, sizeof(f));
    memset(&spec, 0, sizeof(spec));
    spec.queue = "default";
    spec.copies = 1;
    spec.files = &f;
    spec.nfiles = 1;
    ck_assert_int_eq(store_job_feasible(st, &spec, field, sizeof(field), msg,
                                        sizeof(msg)), STORE_CONFLICT);
    ck_assert_str_eq(field, "queue");
    printer("mk3s", "pla");
    ck_assert_int_eq(store_job_feasible(st, &spec, field, sizeof(field), msg,
                                        sizeof(msg)), 0);
    snprintf(f.profile, sizeof(f.profile), "mini");
    ck_assert_int_eq(store_job_feasible(st, &spec, field, sizeof(field), msg,
                                        sizeof(msg)), STORE_CONFLICT);
    ck_assert_str_eq(field, "profile");
    ck_assert_ptr_nonnull(strstr(msg, "mk3s"));
    snprintf(f.profile, sizeof(f.profile), "mk3s");
    spec.material = "petg";
    ck_assert_int_eq(store_job_feasible(st, &spec, field, sizeof(field), msg,
                                        sizeof(msg)), STORE_CONFLICT);
    ck_assert_str_eq(field, "material");
    ck_assert_ptr_nonnull(strstr(msg, "pla"));
    spec.material = "pla";
    spec.queue = NULL;
    spec.printer_id = 42;
    ck_assert_int_eq(store_job_feasible(st, &spec, field, sizeof(field), msg,
                                        sizeof(msg)), STORE_CONFLICT);
    ck_assert_str_eq(field, "printer");
    spec.printer_id = 1;
    ck_assert_int_eq(store_job_feasible(st, &spec, field, sizeof(field), msg,
                                        sizeof(msg)), 0);
}
END_TEST

static int list_ids(void *arg, const struct fleet_job *j)
{
    char *s = arg;

    snprintf(s + strlen(s), 64, "%lld ", j->id);
    return 0;
}

START_TEST(reorder)
{
    char order[256] = "";
    long long a = job("", 1, NULL), b = job("", 1, NULL), c = job("", 1, NULL);

    (void)a;
    (void)b;
    ck_assert_int_eq(store_job_move(st, c, 1, 0, 0, 0), 0);
    ck_assert_int_eq(store_job_list(st, "default", -1, 0, 0, list_ids, order),
                     0);
    ck_assert_str_eq(order, "3 1 2 ");
    order[0] = '\0';
    ck_assert_int_eq(store_job_move(st, a, 1, 1, 0, 0), 0);
    ck_assert_int_eq(store_job_list(st, "default", -1, 0, 0, list_ids, order),
                     0);
    ck_assert_str_eq(order, "3 1 2 ");
    order[0] = '\0';
    ck_assert_int_eq(store_job_move(st, b, 0, 0, 1, 5), 0);
    ck_assert_int_eq(store_job_list(st, "default", -1, 0, 0, list_ids, order),
                     0);
    ck_assert_str_eq(order, "2 3 1 ");
    order[0] = '\0';
    ck_assert_int_eq(store_job_move(st, a, 1, 99, 0, 0), 0);
    ck_assert_int_eq(store_job_list(st, "default", -1, 0, 0, list_ids, order),
                     0);
    ck_assert_str_eq(order, "2 3 1 ");
}
END_TEST

static int count_attempts(void *arg, const struct fleet_attempt *a)
{
    (void)a;
    (*(int *)arg)++;
    return 0;
}

static int count_printers(void *arg, const struct fleet_printer *p)
{
    (void)p;
    (*(int *)arg)++;
    return 0;
}

START_TEST(leases_keys_conf_and_tasks)
{
    long long p = printer("", ""), j;
    struct fleet_attempt a, b;
    struct fleet_apikey k, got;
    struct fleet_frontend fe;
    struct rr_conf conf;
    struct task t;
    char key[FLEET_TOKEN_MAX];
    int n = 0, cancelled = 0;

    /* Leases: renewal moves lease_until; an expired one is listed. */
    j = job("", 1, NULL);
    ck_assert_int_eq(store_attempt_create(st, j, 0, p, &pol, 100, &a), 0);
    ck_assert_int_eq(store_attempt_renew(st, a.id, &pol, 200), 0);
    ck_assert_int_eq(store_attempt_get(st, a.id, &b), 0);
    ck_assert(b.lease_until == 200 + pol.lease);
    ck_assert_int_eq(store_attempt_live(st, count_attempts, &n), 0);
    ck_assert_int_eq(n, 1);
    n = 0;
    ck_assert_int_eq(store_attempt_expired(st, 400, count_attempts, &n), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(store_attempt_expired(st, 600, count_attempts, &n), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(store_attempt_by_filename(st, p, a.filename, &b), 0);
    ck_assert_int_eq(b.id, a.id);
    ck_assert_int_eq(store_attempt_by_filename(st, p, "rr-9-9-9.gcode", &b),
                     STORE_NOTFOUND);
    /* Commands reach the data plane once. */
    ck_assert_int_eq(store_printer_command(st, p, PCMD_PAUSE, 201), 0);
    n = 0;
    ck_assert_int_eq(store_printer_commands(st, count_printers, &n), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(store_printer_command_done(st, p), 0);
    n = 0;
    ck_assert_int_eq(store_printer_commands(st, count_printers, &n), 0);
    ck_assert_int_eq(n, 0);
    /* API keys. */
    memset(&k, 0, sizeof(k));
    k.role = ROLE_OCTOPRINT;
    snprintf(k.name, sizeof(k.name), "desk");
    snprintf(k.queue, sizeof(k.queue), "default");
    ck_assert_int_eq(store_apikey_add(st, &k, 1, key, sizeof(key)), 0);
    ck_assert_int_eq(store_apikey_add(st, &k, 1, key + 0, sizeof(key)),
                     STORE_CONFLICT);
    ck_assert_int_eq(store_apikey_auth(st, "rrk_nope", &got), STORE_NOTFOUND);
    ck_assert_int_eq(store_apikey_remove(st, "desk"), 0);
    ck_assert_int_eq(store_apikey_remove(st, "desk"), STORE_NOTFOUND);
    /* Frontends from the conf: added, then disabled when gone. */
    conf_defaults(&conf, dir);
    snprintf(conf.frontends, sizeof(conf.frontends),
             "eu1 eu https://eu1.example.com capacity=5\n"
             "us1 us https://us1.example.com namespace=us1.print");
    ck_assert_int_eq(store_fleet_sync_conf(st, &conf, &pol, 1), 0);
    ck_assert_int_eq(store_frontend_get(st, "us1", &fe), 0);
    ck_assert_str_eq(fe.namespace_, "us1.print");
    ck_assert_int_eq(fe.capacity, 150);
    snprintf(conf.frontends, sizeof(conf.frontends),
             "us1 us https://us1.example.com");
    ck_assert_int_eq(store_fleet_sync_conf(st, &conf, &pol, 2), 0);
    ck_assert_int_eq(store_frontend_get(st, "eu1", &fe), 0);
    ck_assert_int_eq(fe.enabled, 0);
    ck_assert_int_eq(store_frontend_remove(st, "eu1"), 0);
    ck_assert_int_eq(store_frontend_remove(st, "eu1"), STORE_NOTFOUND);
    /* A print task cancelled through the relay cancels its job. */
    memset(&t, 0, sizeof(t));
    snprintf(t.id, sizeof(t.id), "1700000000-00002-000002");
    snprintf(t.service, sizeof(t.service), "print");
    t.kind = TASK_KIND_PRINT;
    t.timeout = 10;
    ck_assert_int_eq(store_task_insert(st, &t), 0);
    j = job("", 1, "1700000000-00002-000002");
    {
        enum task_status ts;
        ck_assert_int_eq(store_task_cancel(st, "1700000000-00002-000002",
                                           "no", &ts), 0);
    }
    ck_assert_int_eq(store_job_cancel_by_tasks(st, 300, &cancelled), 0);
    ck_assert_int_eq(cancelled, 1);
    ck_assert_int_eq(store_queue_add(st, "farm", 1), 0);
    ck_assert_int_eq(store_queue_add(st, "farm", 1), STORE_CONFLICT);
    ck_assert_int_eq(store_queue_remove(st, "farm"), 0);
    ck_assert_int_eq(store_queue_remove(st, "default"), STORE_CONFLICT);
}
END_TEST

Suite *store_fleet_suite(void)
{
    Suite *s = suite_create("store_fleet");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, enroll_and_auth);
    tcase_add_test(tc, enroll_picks_frontend);
    tcase_add_test(tc, one_live_attempt_per_copy);
    tcase_add_test(tc, two_connections_race);
    tcase_add_test(tc, failure_policy_k_m);
    tcase_add_test(tc, job_fails_with_reason_when_last_copy_completes);
    tcase_add_test(tc, quarantine_and_release);
    tcase_add_test(tc, blob_refcount_and_purge);
    tcase_add_test(tc, dispatch_round_and_task);
    tcase_add_test(tc, cancel_with_live_attempt);
    tcase_add_test(tc, cancel_at_printer_requeues);
    tcase_add_test(tc, lost_is_no_failure);
    tcase_add_test(tc, printer_health_events);
    tcase_add_test(tc, unplaceable_jobs);
    tcase_add_test(tc, relay_cancel_of_waiting_print_task);
    tcase_add_test(tc, feasibility);
    tcase_add_test(tc, reorder);
    tcase_add_test(tc, job_owner_cap);
    tcase_add_test(tc, leases_keys_conf_and_tasks);
    suite_add_tcase(s, tc);
    return s;
}
