/*
 * test_taskcache.c - a worker's cache of ended tasks: only ended ones are
 * kept, for TASKCACHE_TTL seconds, one per slot.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fcgi/taskcache.h"
#include "suites.h"

static void task_make(struct task *t, const char *id, enum task_status st)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->id, sizeof(t->id), "%s", id);
    t->status = st;
    t->argv_json = strdup("[\"cp\"]");   /* owned: moved or cleared */
    ck_assert_ptr_nonnull(t->argv_json);
}

START_TEST(test_only_ended_tasks)
{
    struct taskcache *c = taskcache_new();
    struct task t;

    ck_assert_ptr_nonnull(c);
    task_make(&t, "100-1-1", TASK_BUSY);
    ck_assert_ptr_null(taskcache_put(c, &t, 10.0));
    ck_assert_ptr_nonnull(t.argv_json);           /* left with the caller */
    ck_assert_ptr_null(taskcache_get(c, "100-1-1", 10.0));
    task_clear(&t);
    task_make(&t, "100-1-1", TASK_COMPLETE);
    ck_assert_ptr_nonnull(taskcache_put(c, &t, 10.0));
    ck_assert_ptr_null(t.argv_json);              /* moved in */
    ck_assert_str_eq(t.id, "");
    ck_assert_str_eq(taskcache_get(c, "100-1-1", 10.5)->argv_json, "[\"cp\"]");
    ck_assert_ptr_null(taskcache_get(c, "100-1-2", 10.5));
    taskcache_free(c);
}
END_TEST

START_TEST(test_ttl)
{
    struct taskcache *c = taskcache_new();
    struct task t;

    task_make(&t, "100-1-1", TASK_FAILED);
    ck_assert_ptr_nonnull(taskcache_put(c, &t, 10.0));
    ck_assert_ptr_nonnull(taskcache_get(c, "100-1-1", 10.0 + TASKCACHE_TTL));
    ck_assert_ptr_null(taskcache_get(c, "100-1-1", 10.01 + TASKCACHE_TTL));
    ck_assert_ptr_null(taskcache_get(c, "100-1-1", 9.0)); /* clock went back */
    taskcache_free(c);
}
END_TEST

START_TEST(test_slots_evict)
{
    struct taskcache *c = taskcache_new();
    char id[32];
    int kept = 0;

    /* more tasks than slots: each is found right after its put, and no
     * more than TASKCACHE_SLOTS are found after all of them */
    for (int i = 0; i < 4 * TASKCACHE_SLOTS; i++) {
        struct task t;

        snprintf(id, sizeof(id), "100-1-%d", i);
        task_make(&t, id, TASK_CANCELLED);
        ck_assert_ptr_nonnull(taskcache_put(c, &t, 10.0));
        ck_assert_ptr_nonnull(taskcache_get(c, id, 10.0));
    }
    for (int i = 0; i < 4 * TASKCACHE_SLOTS; i++) {
        snprintf(id, sizeof(id), "100-1-%d", i);
        kept += taskcache_get(c, id, 10.0) != NULL;
    }
    ck_assert_int_gt(kept, 0);
    ck_assert_int_le(kept, TASKCACHE_SLOTS);
    taskcache_free(c);   /* LeakSanitizer: every evicted one was freed */
}
END_TEST

Suite *taskcache_suite(void)
{
    Suite *s = suite_create("taskcache");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_only_ended_tasks);
    tcase_add_test(tc, test_ttl);
    tcase_add_test(tc, test_slots_evict);
    suite_add_tcase(s, tc);
    return s;
}
