/*
 * test_chain.c - task pipelines below HTTP: what each shipped service
 * writes for a next stage (service_output_type), the stages as rows
 * (store_chain.c), and rrcloudd's hook at a stage's end (daemon/chain.c
 * through runner_record_end): the output passed on and the next stage
 * released, or the chain ended with its waiting stages cancelled and its
 * notifier queued once under the chain's id; and the form fields that
 * ask for one (fcgi/chainform.c).
 */
#include "common/util.h"
#include "daemon/chain.h"
#include "daemon/runner.h"
#include "fcgi/chainform.h"
#include "services/service.h"
#include "spool/spool.h"
#include "store/store.h"
#include "store/store_fair.h"
#include "suites.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64], spool[128];
static struct store *st;
static struct task stages[3];

static const char *src_root(void)
{
    const char *d = getenv("top_srcdir");

    if (d == NULL || d[0] == '\0')
        d = getenv("srcdir");
    return d != NULL && d[0] != '\0' ? d : ".";
}

/* Three stages echo -> echo -> echo of client key, their rows and
 * directories made, as submit_chain.c builds them. */
static void fill_chain(const char *notifier, const char *key)
{
    static char argv[] = "[\"cp\",\"in0.txt\",\"out\"]";
    char path[512];

    for (int i = 0; i < 3; i++) {
        struct task *t = &stages[i];

        memset(t, 0, sizeof(*t));
        ck_assert_int_eq(rr_id_new(t->id), 0);
        strcpy(t->service, "echo");
        strcpy(t->out_name, "out");
        t->argv_json = argv;
        t->inputs = (char *)"in0.txt";
        t->notifier = (char *)notifier;
        t->ctime = rr_now();
        t->timeout = 60;
        t->kind = i ? TASK_KIND_HELD : TASK_KIND_RUN;
        t->stage = i;
        memcpy(t->chain, stages[0].id, sizeof(t->chain));
        strcpy(t->client, "127.0.0.1");
        snprintf(t->client_key, sizeof(t->client_key), "%s", key);
        t->size_out = -1;
        ck_assert_int_eq(spool_task_dir(spool, t->id, path, sizeof(path)),
                         0);
        ck_assert_int_eq(mkdir(path, 0750), 0);
    }
}

/* The chain of fill_chain inserted with caps. */
static int insert_chain(const struct store_task_caps *caps,
                        enum store_cap *which)
{
    long long found;

    return store_chain_insert_capped(st, stages, 3, caps, which, &found);
}

/* A chain echo -> echo -> echo of three rows with their directories, the
 * first with its input, as submit_chain.c leaves them. */
static void make_chain(const char *notifier)
{
    static const struct store_task_caps none;
    enum store_cap which;
    char path[512];
    FILE *f;

    fill_chain(notifier, "ip:127.0.0.1");
    ck_assert_int_eq(insert_chain(&none, &which), 0);
    ck_assert_int_eq(spool_task_file(spool, stages[0].id, "out", path,
                                     sizeof(path)), 0);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("stage output\n", f);
    fclose(f);
}

static void setup(void)
{
    char path[256], err[256];

    snprintf(dir, sizeof(dir), "/tmp/rrtest-chain-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(spool, sizeof(spool), "%s/spool", dir);
    ck_assert_int_eq(spool_init(spool), 0);
    snprintf(path, sizeof(path), "%s/db", dir);
    st = store_open(path, err, sizeof(err));
    ck_assert_msg(st != NULL, "%s", err);
}

static void teardown(void)
{
    store_close(st);
    rr_rmtree(dir);
}

static struct task get(int i)
{
    struct task t;

    ck_assert_int_eq(store_task_get(st, stages[i].id, &t), 0);
    return t;
}

struct calls {
    int n;
    char id[RR_ID_LEN];
};

static int count_call(void *arg, const struct notification *n)
{
    struct calls *c = arg;

    c->n++;
    memcpy(c->id, n->task_id, sizeof(c->id));
    return 0;
}

static struct calls due_calls(void)
{
    struct calls c = { 0 };

    ck_assert_int_eq(store_notify_due(st, rr_now() + 1, 100, count_call, &c),
                     0);
    return c;
}

START_TEST(test_output_types)
{
    struct service_registry *reg;
    char path[512], err[512], ext[16];

    snprintf(path, sizeof(path), "%s/services", src_root());
    reg = service_registry_load(path, err, sizeof(err));
    ck_assert_msg(reg != NULL, "%s", err);
    ck_assert_int_eq(service_output_type(service_find(reg, "openscad"),
                                         "scad", ext, sizeof(ext)), 0);
    ck_assert_str_eq(ext, "stl");
    ck_assert_int_eq(service_output_type(service_find(reg, "slic3r"), "stl",
                                         ext, sizeof(ext)), 0);
    ck_assert_str_eq(ext, "gcode");
    /* echo's fileOut is $id: it passes its input's type on */
    ck_assert_int_eq(service_output_type(service_find(reg, "echo"), "scad",
                                         ext, sizeof(ext)), 0);
    ck_assert_str_eq(ext, "scad");
    ck_assert_int_eq(service_output_type(service_find(reg, "echo"), "",
                                         ext, sizeof(ext)), -1);
    /* no file for a next stage: printrun (noOutput), print (the fleet) */
    ck_assert_int_eq(service_output_type(service_find(reg, "printrun"),
                                         "gcode", ext, sizeof(ext)), -1);
    ck_assert_int_eq(service_output_type(service_find(reg, "print"),
                                         "gcode", ext, sizeof(ext)), -1);
    service_registry_free(reg);
}
END_TEST

static void counts_are(const char *key, long long queued, long long running)
{
    long long q = -1, r = -1;

    ck_assert_int_eq(store_client_tasks(st, key, &q, &r), 0);
    ck_assert_int_eq(q, queued);
    ck_assert_int_eq(r, running);
}

static void spool_is(long long want)
{
    long long bytes = -1;

    ck_assert_int_eq(store_spool_bytes(st, &bytes), 0);
    ck_assert_int_eq(bytes, want);
}

/* A chain goes in against the client's caps by its first stage: its held
 * stages are no queued run tasks, and a chain over the cap leaves no row. */
START_TEST(test_caps_first_stage)
{
    struct store_task_caps caps = { .client_queued = 2 };
    enum store_cap which;
    struct task one, t;

    memset(&one, 0, sizeof(one));
    ck_assert_int_eq(rr_id_new(one.id), 0);
    strcpy(one.service, "echo");
    strcpy(one.client_key, "K");
    one.size_out = -1;
    ck_assert_int_eq(store_task_insert(st, &one), 0);
    fill_chain(NULL, "K");
    ck_assert_int_eq(insert_chain(&caps, &which), 0);
    counts_are("K", 2, 0);
    fill_chain(NULL, "K");
    ck_assert_int_eq(insert_chain(&caps, &which), STORE_CONFLICT);
    ck_assert_int_eq(which, STORE_CAP_CLIENT_QUEUED);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(store_task_get(st, stages[i].id, &t),
                         STORE_NOTFOUND);
    counts_are("K", 2, 0);
}
END_TEST

/* A released stage (its kind changed, not its status) is its client's
 * queued task, picked by the round-robin; the spool's count follows its
 * output and its deletion. */
START_TEST(test_released_stage_counted)
{
    const char *key = "ip:127.0.0.1";
    struct task t;

    make_chain(NULL);
    counts_are(key, 1, 0);
    ck_assert_int_eq(store_task_claim_max(st, 1, &t), 0);
    ck_assert_str_eq(t.id, stages[0].id);
    task_clear(&t);
    counts_are(key, 0, 1);
    ck_assert_int_eq(runner_record_end(st, spool, stages[0].id,
                                       TASK_COMPLETE, 0, NULL, 13, NULL), 0);
    counts_are(key, 1, 0);
    spool_is(13);
    ck_assert_int_eq(store_task_claim_max(st, 1, &t), 0);
    ck_assert_str_eq(t.id, stages[1].id);
    task_clear(&t);
    counts_are(key, 0, 1);
    ck_assert_int_eq(runner_record_end(st, spool, stages[1].id, TASK_FAILED,
                                       1, "exit code 1", 2, NULL), 0);
    counts_are(key, 0, 0);
    spool_is(15);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(store_task_delete(st, stages[i].id), 0);
    spool_is(0);
}
END_TEST

/* Stage 0 completes: stage 1 gets the output and may run; no call yet. */
START_TEST(test_complete_passes_on)
{
    struct task t;
    char path[512];
    struct stat a, b;

    make_chain("http://h/done");
    ck_assert_int_eq(store_task_claim(st, &t), 0);
    ck_assert_str_eq(t.id, stages[0].id);
    task_clear(&t);
    /* the held stages are never claimed */
    ck_assert_int_eq(store_task_claim(st, &t), STORE_NOTFOUND);
    ck_assert_int_eq(runner_record_end(st, spool, stages[0].id,
                                       TASK_COMPLETE, 0, NULL, 13,
                                       "http://h/done"), 0);
    t = get(1);
    ck_assert_int_eq(t.kind, TASK_KIND_RUN);
    ck_assert_int_eq(t.status, TASK_QUEUED);
    task_clear(&t);
    t = get(2);
    ck_assert_int_eq(t.kind, TASK_KIND_HELD);
    task_clear(&t);
    ck_assert_int_eq(spool_task_file(spool, stages[0].id, "out", path,
                                     sizeof(path)), 0);
    ck_assert_int_eq(stat(path, &a), 0);
    ck_assert_int_eq(spool_task_file(spool, stages[1].id, "in0.txt", path,
                                     sizeof(path)), 0);
    ck_assert_int_eq(stat(path, &b), 0);
    /* a copy: the sandbox user who wrote out cannot write stage 1's input */
    ck_assert(a.st_ino != b.st_ino);
    ck_assert_int_eq(a.st_nlink, 1);
    ck_assert_int_eq(a.st_size, b.st_size);
    ck_assert_int_eq(due_calls().n, 0);
    ck_assert_int_eq(store_task_claim(st, &t), 0);
    ck_assert_str_eq(t.id, stages[1].id);
    task_clear(&t);
}
END_TEST

/* The last stage completes: one call, under the chain's id. */
START_TEST(test_last_stage_calls_once)
{
    struct calls c;
    struct task t;
    char path[512];
    FILE *f;

    make_chain("http://h/done");
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(store_task_claim(st, &t), 0);
        task_clear(&t);
        ck_assert_int_eq(spool_task_file(spool, stages[i].id, "out", path,
                                         sizeof(path)), 0);
        f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs("x\n", f);
        fclose(f);
        ck_assert_int_eq(runner_record_end(st, spool, stages[i].id,
                                           TASK_COMPLETE, 0, NULL, 2,
                                           "http://h/done"), 0);
    }
    c = due_calls();
    ck_assert_int_eq(c.n, 1);
    ck_assert_str_eq(c.id, stages[0].id);
}
END_TEST

/* A failed stage cancels the rest, naming itself; one call. */
START_TEST(test_failure_ends_chain)
{
    struct calls c;
    struct task t;

    make_chain("http://h/done");
    ck_assert_int_eq(store_task_claim(st, &t), 0);
    task_clear(&t);
    ck_assert_int_eq(runner_record_end(st, spool, stages[0].id, TASK_FAILED,
                                       1, "exit code 1", -1,
                                       "http://h/done"), 0);
    for (int i = 1; i < 3; i++) {
        t = get(i);
        ck_assert_int_eq(t.status, TASK_CANCELLED);
        ck_assert_ptr_nonnull(t.reason);
        ck_assert_ptr_nonnull(strstr(t.reason, "stage 0 (echo "));
        ck_assert_ptr_nonnull(strstr(t.reason, ") failed: exit code 1"));
        task_clear(&t);
    }
    c = due_calls();
    ck_assert_int_eq(c.n, 1);
    ck_assert_str_eq(c.id, stages[0].id);
}
END_TEST

/* A missing output (the copy fails) ends the chain instead of running
 * the next stage without its input. */
START_TEST(test_missing_output_ends_chain)
{
    struct task t;
    char path[512];

    make_chain(NULL);
    ck_assert_int_eq(spool_task_file(spool, stages[0].id, "out", path,
                                     sizeof(path)), 0);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(runner_record_end(st, spool, stages[0].id,
                                       TASK_COMPLETE, 0, NULL, 1, NULL), 0);
    t = get(1);
    ck_assert_int_eq(t.status, TASK_CANCELLED);
    ck_assert_ptr_nonnull(strstr(t.reason, "cannot pass out to stage 1"));
    task_clear(&t);
    ck_assert_int_eq(store_task_claim(st, &t), STORE_NOTFOUND);
}
END_TEST

/* An output that is a symbolic link (to a file only root may read) is
 * not followed: the chain ends. */
START_TEST(test_linked_output_ends_chain)
{
    struct task t;
    char path[512];

    make_chain(NULL);
    ck_assert_int_eq(spool_task_file(spool, stages[0].id, "out", path,
                                     sizeof(path)), 0);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(symlink("/etc/hostname", path), 0);
    ck_assert_int_eq(runner_record_end(st, spool, stages[0].id,
                                       TASK_COMPLETE, 0, NULL, 1, NULL), 0);
    t = get(1);
    ck_assert_int_eq(t.status, TASK_CANCELLED);
    ck_assert_ptr_nonnull(strstr(t.reason, "cannot pass out to stage 1"));
    task_clear(&t);
    ck_assert_int_eq(spool_task_file(spool, stages[1].id, "in0.txt", path,
                                     sizeof(path)), 0);
    ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

/* A print stage whose job the store refuses as invalid (no copies) ends
 * the chain with the reason: retried, it would be refused forever. */
START_TEST(test_refused_print_ends_chain)
{
    static const struct store_task_caps none;
    enum store_cap which;
    struct task t;
    char path[512];
    FILE *f;

    fill_chain(NULL, "ip:127.0.0.1");
    stages[1].job_spec = (char *)"{\"queue\": \"\", \"printer\": 7, "
        "\"copies\": 0, \"priority\": 0, \"material\": \"\", "
        "\"colour\": \"\", \"profile\": \"\"}";
    ck_assert_int_eq(insert_chain(&none, &which), 0);
    ck_assert_int_eq(spool_task_file(spool, stages[0].id, "out", path,
                                     sizeof(path)), 0);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("G28\n", f);
    fclose(f);
    ck_assert_int_eq(runner_record_end(st, spool, stages[0].id,
                                       TASK_COMPLETE, 0, NULL, 4, NULL), 0);
    t = get(1);
    ck_assert_int_eq(t.status, TASK_CANCELLED);
    ck_assert_ptr_nonnull(strstr(t.reason, "no copies"));
    task_clear(&t);
}
END_TEST

static int count_task(void *arg, const struct task *t)
{
    (void)t;
    ++*(int *)arg;
    return 0;
}

/* Purge leaves an ended stage while a later one is open: the first
 * stage's id names the chain. */
START_TEST(test_purge_waits_for_chain)
{
    struct task t;
    int n = 0, ended, busy;

    make_chain(NULL);
    ck_assert_int_eq(store_task_claim(st, &t), 0);
    task_clear(&t);
    ck_assert_int_eq(runner_record_end(st, spool, stages[0].id,
                                       TASK_COMPLETE, 0, NULL, 13, NULL), 0);
    ck_assert_int_eq(store_task_expired(st, rr_now() + 100, 10, count_task,
                                        &n), 0);
    ck_assert_int_eq(n, 0);
    ck_assert_int_eq(store_chain_cancel_open(st, stages[0].chain, "test",
                                             &ended, &busy), 0);
    n = 0;
    ck_assert_int_eq(store_task_expired(st, rr_now() + 100, 10, count_task,
                                        &n), 0);
    ck_assert_int_eq(n, 3);
}
END_TEST

/* The copy is made before the end's transaction: with the output gone
 * once prepared, the end inside the transaction still passes it on. */
START_TEST(test_prepared_before_transaction)
{
    struct chain_prep prep;
    struct task t;
    char path[512], call_id[RR_ID_LEN];
    int call = -1;

    make_chain(NULL);
    ck_assert_int_eq(store_task_claim(st, &t), 0);
    task_clear(&t);
    chain_prepare(st, spool, stages[0].id, TASK_COMPLETE, &prep);
    ck_assert_str_eq(prep.next_id, stages[1].id);
    ck_assert_int_eq(prep.failed, 0);
    ck_assert_int_eq(spool_task_file(spool, stages[0].id, "out", path,
                                     sizeof(path)), 0);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(store_begin(st), 0);
    ck_assert_int_eq(store_task_finish(st, stages[0].id, TASK_COMPLETE, 0,
                                       NULL, 13), 0);
    ck_assert_int_eq(chain_task_end(st, spool, stages[0].id, TASK_COMPLETE,
                                    NULL, &prep, call_id, &call), 0);
    ck_assert_int_eq(store_commit(st), 0);
    ck_assert_int_eq(call, 0);
    t = get(1);
    ck_assert_int_eq(t.kind, TASK_KIND_RUN);
    ck_assert_int_eq(t.status, TASK_QUEUED);
    task_clear(&t);
    ck_assert_int_eq(spool_task_file(spool, stages[1].id, "in0.txt", path,
                                     sizeof(path)), 0);
    ck_assert_int_eq(access(path, F_OK), 0);
}
END_TEST

/* A client's cancel: waiting stages now, the busy one through the
 * runner, whose end makes the one call. */
START_TEST(test_cancel)
{
    struct calls c;
    struct task t;
    int busy = -1;

    make_chain("http://h/done");
    ck_assert_int_eq(store_task_claim(st, &t), 0);
    task_clear(&t);
    ck_assert_int_eq(store_chain_cancel(st, stages[0].chain, "cancelled by "
                                        "client", "http://h/done", &busy), 0);
    ck_assert_int_eq(busy, 1);
    t = get(0);
    ck_assert_int_eq(t.cancel_requested, 1);
    task_clear(&t);
    t = get(2);
    ck_assert_int_eq(t.status, TASK_CANCELLED);
    task_clear(&t);
    ck_assert_int_eq(due_calls().n, 0);
    ck_assert_int_eq(runner_record_end(st, spool, stages[0].id,
                                       TASK_CANCELLED, 143, "cancelled by "
                                       "client", -1, "http://h/done"), 0);
    c = due_calls();
    ck_assert_int_eq(c.n, 1);
    ck_assert_str_eq(c.id, stages[0].id);
    /* again: nothing left to cancel, no second call */
    ck_assert_int_eq(store_chain_cancel(st, stages[0].chain, "again",
                                        "http://h/done", &busy), 0);
    ck_assert_int_eq(busy, 0);
    ck_assert_int_eq(due_calls().n, 1);
}
END_TEST

/* Nothing started yet: the cancel ends the chain and calls at once. */
START_TEST(test_cancel_queued)
{
    struct task_stage *g = NULL;
    int busy = -1, n = 0;

    make_chain("http://h/done");
    ck_assert_int_eq(store_chain_cancel(st, stages[0].chain, "cancelled by "
                                        "client", "http://h/done", &busy), 0);
    ck_assert_int_eq(busy, 0);
    ck_assert_int_eq(due_calls().n, 1);
    ck_assert_int_eq(store_chain_stages(st, stages[0].chain, &g, &n), 0);
    ck_assert_int_eq(n, 3);
    for (int i = 0; i < 3; i++) {
        ck_assert_str_eq(g[i].id, stages[i].id);
        ck_assert_int_eq(g[i].status, TASK_CANCELLED);
    }
    free(g);
}
END_TEST

START_TEST(test_form_split)
{
    const char *names[4];
    char a[] = "openscad,slic3r", b[] = "echo", c[] = "echo,,echo",
         d[] = "echo,", e[] = "", f[] = "a,b,c,d,e";

    ck_assert_int_eq(chainform_split(a, names, 4), 2);
    ck_assert_str_eq(names[0], "openscad");
    ck_assert_str_eq(names[1], "slic3r");
    ck_assert_int_eq(chainform_split(b, names, 4), 1);
    ck_assert_str_eq(names[0], "echo");
    ck_assert_int_eq(chainform_split(c, names, 4), CHAINFORM_EMPTY);
    ck_assert_int_eq(chainform_split(d, names, 4), CHAINFORM_EMPTY);
    ck_assert_int_eq(chainform_split(e, names, 4), CHAINFORM_EMPTY);
    ck_assert_int_eq(chainform_split(f, names, 4), CHAINFORM_TOO_MANY);
}
END_TEST

START_TEST(test_form_field_stage)
{
    ck_assert_int_eq(chainform_field_stage("then1.arg0"), 1);
    ck_assert_int_eq(chainform_field_stage("then2.arg17"), 2);
    ck_assert_int_eq(chainform_field_stage("then7.nativeArgs"), 7);
    ck_assert_int_eq(chainform_field_stage("then123.arg0"), 123);
    /* a print stage's job fields */
    ck_assert_int_eq(chainform_field_stage("then2.queue"), 2);
    ck_assert_int_eq(chainform_field_stage("then2.copies"), 2);
    ck_assert_int_eq(chainform_field_stage("then2.colour"), 2);
    ck_assert_int_eq(chainform_field_stage("then2.profile"), 2);
    ck_assert_int_eq(chainform_job_field("printer"), 1);
    ck_assert_int_eq(chainform_job_field("arg0"), 0);
    /* not a stage field at all: left to the other checks */
    ck_assert_int_eq(chainform_field_stage("then"), 0);
    ck_assert_int_eq(chainform_field_stage("arg0"), 0);
    ck_assert_int_eq(chainform_field_stage("thenx"), 0);
    /* a stage's, but not a field a stage takes */
    ck_assert_int_eq(chainform_field_stage("then1"), -1);
    ck_assert_int_eq(chainform_field_stage("then1.fileIn0"), -1);
    ck_assert_int_eq(chainform_field_stage("then1.prearg0"), -1);
    ck_assert_int_eq(chainform_field_stage("then1.arg"), -1);
    ck_assert_int_eq(chainform_field_stage("then1.notifier"), -1);
    ck_assert_int_eq(chainform_field_stage("then1234.arg0"), -1);
    ck_assert_int_eq(chainform_field_stage("then1x.arg0"), -1);
    ck_assert_int_eq(chainform_field_stage("then0.arg0"), -1);
}
END_TEST

Suite *chain_suite(void)
{
    Suite *s = suite_create("chain");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_form_split);
    tcase_add_test(tc, test_form_field_stage);
    tcase_add_test(tc, test_output_types);
    tcase_add_test(tc, test_complete_passes_on);
    tcase_add_test(tc, test_last_stage_calls_once);
    tcase_add_test(tc, test_failure_ends_chain);
    tcase_add_test(tc, test_missing_output_ends_chain);
    tcase_add_test(tc, test_linked_output_ends_chain);
    tcase_add_test(tc, test_refused_print_ends_chain);
    tcase_add_test(tc, test_purge_waits_for_chain);
    tcase_add_test(tc, test_prepared_before_transaction);
    tcase_add_test(tc, test_cancel);
    tcase_add_test(tc, test_cancel_queued);
    tcase_add_test(tc, test_caps_first_stage);
    tcase_add_test(tc, test_released_stage_counted);
    suite_add_tcase(s, tc);
    return s;
}
