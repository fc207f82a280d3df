/* test_store_fair.c - unit tests for the round-robin pick
 * (store_task_claim_max), the per-client counts the triggers of schema 8
 * keep, the spool's byte count, and the capped insert. */
#include "common/util.h"
#include "store/store.h"
#include "store/store_fair.h"
#include "store/store_fleet.h"
#include "tmpstore.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

Suite *store_fair_suite(void);

static char dir[256];
static struct store *st;

static void setup(void)
{
    st = tmpstore_open("sfair", dir, sizeof(dir));
}

static void teardown(void)
{
    tmpstore_close(st, dir);
}

static void task_make(struct task *t, const char *id, const char *key,
                      long long size_in)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->id, sizeof(t->id), "%s", id);
    snprintf(t->service, sizeof(t->service), "echo");
    snprintf(t->client, sizeof(t->client), "127.0.0.1");
    snprintf(t->client_key, sizeof(t->client_key), "%s", key);
    t->size_in = size_in;
    t->size_out = -1;
}

static void add(const char *id, const char *key)
{
    struct task t;

    task_make(&t, id, key, 0);
    ck_assert_int_eq(store_task_insert(st, &t), 0);
}

/* Claims the next task and checks which (NULL: none may be taken). */
static void claim_is(int max_running, const char *want)
{
    struct task t;
    int rc = store_task_claim_max(st, max_running, &t);

    if (!want) {
        ck_assert_int_eq(rc, STORE_NOTFOUND);
        return;
    }
    ck_assert_int_eq(rc, 0);
    ck_assert_str_eq(t.id, want);
    task_clear(&t);
}

static void done(const char *id)
{
    ck_assert_int_eq(store_task_finish(st, id, TASK_COMPLETE, 0, NULL, 0), 0);
}

static void counts_are(const char *key, long long queued, long long running)
{
    long long q = -1, r = -1;

    ck_assert_int_eq(store_client_tasks(st, key, &q, &r), 0);
    ck_assert_int_eq(q, queued);
    ck_assert_int_eq(r, running);
}

/* Two slots, client a queues many, b one: b's task is the next one
 * started after a's first two, not after all of a's. */
START_TEST(pick_gives_the_next_slot_to_the_other_client)
{
    char id[32];

    for (int i = 0; i < 50; i++) {
        snprintf(id, sizeof(id), "1-1-a%02d", i);
        add(id, "a");
    }
    claim_is(0, "1-1-a00");
    claim_is(0, "1-1-a01");
    add("1-1-b00", "b");
    counts_are("a", 48, 2);
    counts_are("b", 1, 0);
    done("1-1-a00");
    claim_is(0, "1-1-b00");
    done("1-1-a01");
    /* b has nothing queued: a goes on in its own order */
    claim_is(0, "1-1-a02");
    claim_is(0, "1-1-a03");
    counts_are("b", 0, 1);
    done("1-1-b00");
    counts_are("b", 0, 0);
}
END_TEST

/* One slot, three clients: turns go round, each client's tasks in order. */
START_TEST(pick_round_robin_fifo_within_client)
{
    static const char *const want[] = {
        "1-1-a0", "1-1-b0", "1-1-c0", "1-1-a1", "1-1-b1", "1-1-c1",
        "1-1-a2", "1-1-a3",
    };

    add("1-1-a0", "a");
    add("1-1-a1", "a");
    add("1-1-a2", "a");
    add("1-1-a3", "a");
    add("1-1-b0", "b");
    add("1-1-b1", "b");
    add("1-1-c0", "c");
    add("1-1-c1", "c");
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        claim_is(0, want[i]);
        done(want[i]);
    }
    claim_is(0, NULL);
}
END_TEST

/* A client at max_running waits even with a free slot; others go on. */
START_TEST(pick_running_cap)
{
    add("1-1-a0", "a");
    add("1-1-a1", "a");
    claim_is(1, "1-1-a0");
    claim_is(1, NULL);
    add("1-1-b0", "b");
    claim_is(1, "1-1-b0");
    claim_is(0, "1-1-a1");   /* no cap */
}
END_TEST

/* The counts follow every way a task leaves queued or busy, and an idle
 * client is forgotten; requeue puts a busy task back. */
START_TEST(counts_follow_cancel_requeue_delete)
{
    enum task_status now;

    add("1-1-a0", "a");
    add("1-1-a1", "a");
    add("1-1-a2", "a");
    claim_is(0, "1-1-a0");
    counts_are("a", 2, 1);
    ck_assert_int_eq(store_task_requeue(st, "1-1-a0"), 0);
    counts_are("a", 3, 0);
    ck_assert_int_eq(store_task_cancel(st, "1-1-a1", "test", &now), 0);
    counts_are("a", 2, 0);
    ck_assert_int_eq(store_task_delete(st, "1-1-a2"), 0);
    counts_are("a", 1, 0);
    claim_is(0, "1-1-a0");
    done("1-1-a0");
    counts_are("a", 0, 0);
    claim_is(0, NULL);
}
END_TEST

/* The key defaults to the owner, else "ip:" and the address. */
START_TEST(client_key_default)
{
    struct task t;

    task_make(&t, "1-1-x", "", 0);
    ck_assert_int_eq(store_task_insert(st, &t), 0);
    snprintf(t.id, sizeof(t.id), "1-1-y");
    snprintf(t.owner, sizeof(t.owner), "alice");
    ck_assert_int_eq(store_task_insert(st, &t), 0);
    counts_are("ip:127.0.0.1", 1, 0);
    counts_are("alice", 1, 0);
    ck_assert_int_eq(store_task_get(st, "1-1-y", &t), 0);
    ck_assert_str_eq(t.client_key, "alice");
    task_clear(&t);
    /* an app's end user counts as the app, as migration 8 keys them */
    task_make(&t, "1-1-z", "", 0);
    snprintf(t.owner, sizeof(t.owner), "shop/bob");
    ck_assert_int_eq(store_task_insert(st, &t), 0);
    counts_are("shop", 1, 0);
    ck_assert_int_eq(store_task_get(st, "1-1-z", &t), 0);
    ck_assert_str_eq(t.client_key, "shop");
    task_clear(&t);
}
END_TEST

START_TEST(capped_insert_refuses_and_stores_nothing)
{
    struct store_task_caps caps = { .client_queued = 2 };
    enum store_cap which;
    long long found, bytes = -1;
    struct task t, got;

    task_make(&t, "1-1-a0", "a", 100);
    ck_assert_int_eq(store_task_insert_capped(st, &t, &caps, &which, &found),
                     0);
    snprintf(t.id, sizeof(t.id), "1-1-a1");
    ck_assert_int_eq(store_task_insert_capped(st, &t, &caps, &which, &found),
                     0);
    snprintf(t.id, sizeof(t.id), "1-1-a2");
    ck_assert_int_eq(store_task_insert_capped(st, &t, &caps, &which, &found),
                     STORE_CONFLICT);
    ck_assert_int_eq(which, STORE_CAP_CLIENT_QUEUED);
    ck_assert_int_eq(found, 2);
    ck_assert_int_eq(store_task_get(st, "1-1-a2", &got), STORE_NOTFOUND);
    counts_are("a", 2, 0);
    /* another client is not held back by a's count */
    task_make(&t, "1-1-b0", "b", 100);
    ck_assert_int_eq(store_task_insert_capped(st, &t, &caps, &which, &found),
                     0);
    /* the quota: 300 bytes held, 50 more would pass 320 */
    ck_assert_int_eq(store_spool_bytes(st, &bytes), 0);
    ck_assert_int_eq(bytes, 300);
    caps = (struct store_task_caps){ .spool_quota = 320 };
    task_make(&t, "1-1-c0", "c", 50);
    ck_assert_int_eq(store_task_insert_capped(st, &t, &caps, &which, &found),
                     STORE_CONFLICT);
    ck_assert_int_eq(which, STORE_CAP_SPOOL_QUOTA);
    ck_assert_int_eq(found, 300);
    ck_assert_int_eq(store_task_get(st, "1-1-c0", &got), STORE_NOTFOUND);
    /* an owner family's open work */
    caps = (struct store_task_caps){ .family = "app", .family_open = 1 };
    task_make(&t, "1-1-d0", "app", 0);
    snprintf(t.owner, sizeof(t.owner), "app/bob");
    ck_assert_int_eq(store_task_insert_capped(st, &t, &caps, &which, &found),
                     0);
    snprintf(t.id, sizeof(t.id), "1-1-d1");
    snprintf(t.owner, sizeof(t.owner), "app/carol");
    ck_assert_int_eq(store_task_insert_capped(st, &t, &caps, &which, &found),
                     STORE_CONFLICT);
    ck_assert_int_eq(which, STORE_CAP_FAMILY_OPEN);
}
END_TEST

/* Outputs count when a task ends; a purged task gives its bytes back. */
START_TEST(spool_bytes_follow_outputs_and_purge)
{
    struct task t;
    long long bytes = -1;

    task_make(&t, "1-1-a0", "a", 1000);
    ck_assert_int_eq(store_task_insert(st, &t), 0);
    claim_is(0, "1-1-a0");
    ck_assert_int_eq(store_task_finish(st, "1-1-a0", TASK_COMPLETE, 0, NULL,
                                       234), 0);
    ck_assert_int_eq(store_spool_bytes(st, &bytes), 0);
    ck_assert_int_eq(bytes, 1234);
    ck_assert_int_eq(store_blob_put(st, "00000000000000000000000000000000"
                                    "00000000000000000000000000000000",
                                    66, 1), 0);
    ck_assert_int_eq(store_spool_bytes(st, &bytes), 0);
    ck_assert_int_eq(bytes, 1300);
    ck_assert_int_eq(store_task_delete(st, "1-1-a0"), 0);
    ck_assert_int_eq(store_spool_bytes(st, &bytes), 0);
    ck_assert_int_eq(bytes, 66);
}
END_TEST

/* Eight processes insert 20 tasks each for one client at once under
 * client_queued = 10: the count and the insert are one statement, so
 * exactly ten get in (a check before the insert lets more through). */
START_TEST(capped_insert_is_atomic_across_processes)
{
    enum { N = 8, EACH = 20, CAP = 10 };
    int go[2], won = 0;
    pid_t pids[N];
    char path[300];

    snprintf(path, sizeof(path), "%s/t.db", dir);
    ck_assert_int_eq(pipe(go), 0);
    for (int i = 0; i < N; i++) {
        pids[i] = fork();
        ck_assert_int_ge(pids[i], 0);
        if (pids[i] == 0) {
            struct store_task_caps caps = { .client_queued = CAP };
            struct store *mine;
            enum store_cap which;
            long long found;
            char err[256], c;
            struct task t;
            int n = 0;

            close(go[1]);
            mine = store_open(path, err, sizeof(err));
            if (!mine || read(go[0], &c, 1) != 0)
                _exit(255);
            for (int k = 0; k < EACH; k++) {
                task_make(&t, "", "a", 0);
                snprintf(t.id, sizeof(t.id), "1-%d-%d", i, k);
                if (store_task_insert_capped(mine, &t, &caps, &which,
                                             &found) == 0)
                    n++;
            }
            store_close(mine);
            _exit(n);
        }
    }
    close(go[0]);
    close(go[1]);   /* every child's read returns 0 now: go */
    for (int i = 0; i < N; i++) {
        int status;

        ck_assert_int_eq(waitpid(pids[i], &status, 0), pids[i]);
        ck_assert(WIFEXITED(status));
        ck_assert_int_le(WEXITSTATUS(status), EACH);
        won += WEXITSTATUS(status);
    }
    ck_assert_int_eq(won, CAP);
    counts_are("a", CAP, 0);
}
END_TEST

Suite *store_fair_suite(void)
{
    Suite *s = suite_create("store_fair");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, pick_gives_the_next_slot_to_the_other_client);
    tcase_add_test(tc, pick_round_robin_fifo_within_client);
    tcase_add_test(tc, pick_running_cap);
    tcase_add_test(tc, counts_follow_cancel_requeue_delete);
    tcase_add_test(tc, client_key_default);
    tcase_add_test(tc, capped_insert_refuses_and_stores_nothing);
    tcase_add_test(tc, spool_bytes_follow_outputs_and_purge);
    tcase_add_test(tc, capped_insert_is_atomic_across_processes);
    suite_add_tcase(s, tc);
    return s;
}
