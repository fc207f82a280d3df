/* test_store_keys.c - unit tests for src/store/store_keys.c and the task
 * owner: users, keys (format, hash lookup, user, limits, expiry and
 * revocation kept for the caller to judge), open work per owner, and
 * listing tasks by owner or by anonymous client. */
#include "common/util.h"
#include "fleet/model.h"
#include "store/store.h"
#include "store/store_fleet.h"
#include "tmpstore.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Suite *store_keys_suite(void);

static char dir[256];
static struct store *st;

static void setup(void)
{
    st = tmpstore_open("sk", dir, sizeof(dir));
}

static void teardown(void)
{
    tmpstore_close(st, dir);
}

static int count_user(void *arg, const char *name, double created,
                      long long keys)
{
    (void)created;
    if (!strcmp(name, "alice"))
        *(long long *)arg = keys;
    return 0;
}

START_TEST(keys_users_limits_revocation)
{
    struct fleet_apikey k, got, *list = NULL;
    char key[FLEET_TOKEN_MAX], key2[FLEET_TOKEN_MAX], kid[FLEET_NAME_MAX];
    long long alice_keys = -1;
    size_t n = 0;

    ck_assert_int_eq(store_user_add(st, "alice", 1), 0);
    ck_assert_int_eq(store_user_add(st, "alice", 1), STORE_CONFLICT);
    /* one namespace of owners: a key without a user owns by its name */
    memset(&k, 0, sizeof(k));
    k.role = ROLE_OPERATOR;
    snprintf(k.name, sizeof(k.name), "alice");
    ck_assert_int_eq(store_apikey_add(st, &k, 5, key, sizeof(key)),
                     STORE_CONFLICT);
    snprintf(k.name, sizeof(k.name), "ops");
    ck_assert_int_eq(store_apikey_add(st, &k, 5, key, sizeof(key)), 0);
    ck_assert_int_eq(store_user_add(st, "ops", 1), STORE_CONFLICT);
    ck_assert_int_eq(store_apikey_remove(st, "ops"), 0);
    ck_assert_int_eq(store_user_add(st, "ops", 1), 0);  /* it owned none */
    memset(&k, 0, sizeof(k));
    k.role = ROLE_USER;
    snprintf(k.name, sizeof(k.name), "alice-laptop");
    snprintf(k.user, sizeof(k.user), "nobody");
    /* an unknown user: nothing written */
    ck_assert_int_eq(store_apikey_add(st, &k, 5, key, sizeof(key)),
                     STORE_NOTFOUND);
    ck_assert_str_eq(store_errmsg(st), "no such user");
    snprintf(k.user, sizeof(k.user), "alice");
    snprintf(k.queues, sizeof(k.queues), "farm,desk");
    k.max_copies = 5;
    k.has_max_priority = 1;
    k.max_priority = 10;
    k.max_queued = 3;
    k.expires = 1000;
    ck_assert_int_eq(store_apikey_add(st, &k, 5, key, sizeof(key)), 0);
    /* rrk_<12 hex id>_<40 hex secret>, its id in k.kid */
    ck_assert_uint_eq(strlen(key), 4 + 12 + 1 + 40);
    ck_assert_int_eq(strncmp(key + 4, k.kid, 12), 0);
    ck_assert_int_eq(key[16], '_');
    snprintf(kid, sizeof(kid), "%s", k.kid);
    ck_assert_int_eq(store_apikey_add(st, &k, 5, key2, sizeof(key2)),
                     STORE_CONFLICT);
    snprintf(k.kid, sizeof(k.kid), "%s", kid);
    ck_assert_int_eq(store_apikey_auth(st, key, &got), 0);
    ck_assert_int_eq(got.role, ROLE_USER);
    ck_assert_str_eq(got.user, "alice");
    ck_assert_str_eq(got.kid, k.kid);
    ck_assert_str_eq(got.queues, "farm,desk");
    ck_assert_int_eq(got.max_copies, 5);
    ck_assert_int_eq(got.has_max_priority, 1);
    ck_assert_int_eq(got.max_priority, 10);
    ck_assert_int_eq(got.max_queued, 3);
    ck_assert(got.expires == 1000 && got.created == 5 && got.revoked == 0);
    key[20] ^= 1;   /* one changed secret digit: unknown */
    ck_assert_int_eq(store_apikey_auth(st, key, &got), STORE_NOTFOUND);
    key[20] ^= 1;
    ck_assert_int_eq(store_user_list(st, count_user, &alice_keys), 0);
    ck_assert_int_eq(alice_keys, 1);
    /* revoked by id: the row stays for the caller to refuse */
    ck_assert_int_eq(store_apikey_revoke(st, k.kid, 7), 0);
    ck_assert_int_eq(store_apikey_revoke(st, "alice-laptop", 8),
                     STORE_CONFLICT);
    ck_assert_int_eq(store_apikey_auth(st, key, &got), 0);
    ck_assert(got.revoked == 7);
    ck_assert_int_eq(store_apikey_list(st, &list, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(list[0].name, "alice-laptop");
    free(list);
    ck_assert_int_eq(store_apikey_remove(st, k.kid), 0);
    ck_assert_int_eq(store_apikey_remove(st, k.kid), STORE_NOTFOUND);
    ck_assert_int_eq(store_apikey_revoke(st, "gone", 9), STORE_NOTFOUND);
}
END_TEST

static int collect(void *arg, const struct task *t)
{
    strcat(arg, t->id);
    strcat(arg, " ");
    return 0;
}

static void add_task(const char *id, const char *client, const char *owner)
{
    struct task t;

    memset(&t, 0, sizeof(t));
    snprintf(t.id, sizeof(t.id), "%s", id);
    snprintf(t.service, sizeof(t.service), "echo");
    snprintf(t.client, sizeof(t.client), "%s", client);
    snprintf(t.owner, sizeof(t.owner), "%s", owner);
    ck_assert_int_eq(store_task_insert(st, &t), 0);
}

START_TEST(tasks_by_owner_and_client)
{
    char ids[256] = "";
    struct task t;
    long long open = -1;

    add_task("1-1-1", "127.0.0.1", "");
    add_task("1-1-2", "127.0.0.2", "");
    add_task("1-1-3", "127.0.0.1", "alice");
    add_task("1-1-4", "127.0.0.2", "app/bob");
    ck_assert_int_eq(store_task_get(st, "1-1-4", &t), 0);
    ck_assert_str_eq(t.owner, "app/bob");
    task_clear(&t);
    /* an address lists only its anonymous tasks, an owner only its own */
    ck_assert_int_eq(store_task_list(st, "127.0.0.1", NULL, -1, 10, 0,
                                     collect, ids), 0);
    ck_assert_str_eq(ids, "1-1-1 ");
    ids[0] = '\0';
    ck_assert_int_eq(store_task_list(st, NULL, "alice", -1, 10, 0, collect,
                                     ids), 0);
    ck_assert_str_eq(ids, "1-1-3 ");
    ids[0] = '\0';
    ck_assert_int_eq(store_task_list(st, NULL, "", -1, 10, 0, collect, ids),
                     0);
    ck_assert_str_eq(ids, "1-1-2 1-1-1 ");
    ids[0] = '\0';
    ck_assert_int_eq(store_task_list(st, NULL, NULL, -1, 10, 0, collect,
                                     ids), 0);
    ck_assert_str_eq(ids, "1-1-4 1-1-3 1-1-2 1-1-1 ");
    ck_assert_int_eq(store_owner_open(st, "alice", &open), 0);
    ck_assert_int_eq(open, 1);
    ck_assert_int_eq(store_owner_open(st, "carol", &open), 0);
    ck_assert_int_eq(open, 0);
    /* a name that still owns tasks (of a key removed since) is taken, for
     * a user as for a key without one; "app/bob"'s too */
    ck_assert_int_eq(store_user_add(st, "alice", 1), STORE_CONFLICT);
    ck_assert_ptr_nonnull(strstr(store_errmsg(st), "still belong"));
    ck_assert_int_eq(store_user_add(st, "app", 1), STORE_CONFLICT);
    ck_assert_int_eq(store_user_add(st, "ap", 1), 0);
    ck_assert_int_eq(store_user_add(st, "app-2", 1), 0);
}
END_TEST

Suite *store_keys_suite(void)
{
    Suite *s = suite_create("store_keys");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, keys_users_limits_revocation);
    tcase_add_test(tc, tasks_by_owner_and_client);
    suite_add_tcase(s, tc);
    return s;
}
