/* store_keys.c - API keys and users (store_fleet.h).  The store keeps
 * them; what a key may do is decided in src/fcgi/auth.c. */
#include "store/store_fleet_int.h"

#include "common/util.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

_Static_assert(ROLE_ADMIN == 0 && ROLE_ENROLL == 1 && ROLE_OCTOPRINT == 2 &&
               ROLE_OPERATOR == 3 && ROLE_USER == 4 && ROLE_APP == 5,
               "api_keys.role stores these numbers");

#define KEY_COLS "role, name, queue, material, colour, profile, priority, " \
                 "kid, user, created, expires, revoked, queues, max_copies, " \
                 "max_priority, max_queued"

static int key_read(sqlite3_stmt *s, void *obj)
{
    struct fleet_apikey *k = obj;

    memset(k, 0, sizeof(*k));
    k->role = (enum fleet_role)sqlite3_column_int(s, 0);
    sf_col(s, 1, k->name, sizeof(k->name));
    sf_col(s, 2, k->queue, sizeof(k->queue));
    sf_col(s, 3, k->material, sizeof(k->material));
    sf_col(s, 4, k->colour, sizeof(k->colour));
    sf_col(s, 5, k->profile, sizeof(k->profile));
    k->priority = sqlite3_column_int(s, 6);
    sf_col(s, 7, k->kid, sizeof(k->kid));
    sf_col(s, 8, k->user, sizeof(k->user));
    k->created = sqlite3_column_double(s, 9);
    k->expires = sqlite3_column_double(s, 10);
    k->revoked = sqlite3_column_double(s, 11);
    sf_col(s, 12, k->queues, sizeof(k->queues));
    k->max_copies = sqlite3_column_int(s, 13);
    k->has_max_priority = sqlite3_column_type(s, 14) != SQLITE_NULL;
    k->max_priority = sqlite3_column_int(s, 14);
    k->max_queued = sqlite3_column_int(s, 15);
    return 0;
}

/* Owners are one namespace: a user owns as its name, a key without a user
 * as the key's name, an app's end user as "app/user".  A new owner name
 * must not be a user's, a userless key's (when a user is made: a new key
 * conflicts on its name by itself), nor still own tasks or jobs of a key
 * removed since.  0 if free, STORE_CONFLICT with the reason, or -1. */
static int owner_taken(struct store *st, const char *name, int for_user)
{
    char lo[256], hi[256];
    long long n = 0;

    if (rr_fmt(lo, sizeof(lo), "%s/", name) < 0 ||
        rr_fmt(hi, sizeof(hi), "%s0", name) < 0) {
        store_set_errmsg(st, "name too long");
        return -1;
    }
    if (sf_ll(st, &n, "SELECT (SELECT count(*) FROM users WHERE name = ?1) "
              "* 4 + (SELECT count(*) FROM api_keys WHERE name = ?1 AND "
              "user = '' AND ?4) * 2 + (EXISTS (SELECT 1 FROM tasks WHERE "
              "owner = ?1) OR EXISTS (SELECT 1 FROM tasks WHERE owner >= ?2 "
              "AND owner < ?3) OR EXISTS (SELECT 1 FROM jobs WHERE owner = "
              "?1) OR EXISTS (SELECT 1 FROM jobs WHERE owner >= ?2 AND "
              "owner < ?3))", "ttti", name, lo, hi, (long long)for_user) < 0)
        return -1;
    if (n == 0)
        return 0;
    store_set_errmsg(st, n >= 4 && for_user ? "a user of this name exists"
                     : n >= 4 ? "a user of this name exists, and a key "
                                "without a user owns what it makes by its "
                                "name: give the key a user or another name"
                     : n >= 2 ? "a key without a user has this name, and "
                                "owns what it makes by it"
                              : "tasks or jobs of a removed key still "
                                "belong to this name");
    return STORE_CONFLICT;
}

static int key_insert(struct store *st, const struct fleet_apikey *k,
                      const char *hash, double now)
{
    long long one = 0;
    int rc;

    if (k->user[0]) {
        rc = sf_ll(st, &one, "SELECT 1 FROM users WHERE name = ?1", "t",
                   k->user);
        if (rc == STORE_NOTFOUND)
            store_set_errmsg(st, "no such user");
        if (rc)
            return rc;
    } else if ((rc = owner_taken(st, k->name, 0)) != 0) {
        /* A key without a user owns what it makes by its own name. */
        return rc;
    }
    rc = sf_exec(st, "INSERT INTO api_keys (key_hash, role, name, queue, "
                 "material, colour, profile, priority, created, kid, user, "
                 "expires, queues, max_copies, max_priority, max_queued) "
                 "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, "
                 "?13, ?14, ?15, ?16)", "titttttidttdtiti", hash,
                 (long long)k->role, k->name, k->queue, k->material,
                 k->colour, k->profile, (long long)k->priority, now, k->kid,
                 k->user, k->expires, k->queues, (long long)k->max_copies,
                 k->has_max_priority ? "" : NULL,
                 (long long)k->max_queued);
    if (rc == -2) {
        store_set_errmsg(st, "a key with this name exists");
        return STORE_CONFLICT;
    }
    if (rc < 0)
        return -1;
    if (k->has_max_priority &&
        sf_exec(st, "UPDATE api_keys SET max_priority = ?1 WHERE kid = ?2",
                "it", (long long)k->max_priority, k->kid) < 0)
        return -1;
    return 0;
}

int store_apikey_add(struct store *st, struct fleet_apikey *k, double now,
                     char *key_out, size_t key_len)
{
    char kid[13], secret[41], hash[FLEET_SHA256_HEX];

    key_out[0] = '\0';
    if (key_len < 4 + sizeof(kid) + sizeof(secret) ||
        rr_random_hex(kid, sizeof(kid), 6) < 0 ||
        rr_random_hex(secret, sizeof(secret), 20) < 0) {
        store_set_errmsg(st, "no random bytes for a key");
        return -1;
    }
    snprintf(k->kid, sizeof(k->kid), "%s", kid);
    snprintf(key_out, key_len, "rrk_%s_%s", kid, secret);
    sf_hash_secret(key_out, hash);
    k->created = now;
    SF_TX(st, key_insert(st, k, hash, now));
}

int store_apikey_auth(struct store *st, const char *key,
                      struct fleet_apikey *out)
{
    char hash[FLEET_SHA256_HEX];
    int rc;

    memset(out, 0, sizeof(*out));
    if (!key || strncmp(key, "rrk_", 4) != 0) {
        store_set_errmsg(st, "not an api key");
        return STORE_NOTFOUND;
    }
    sf_hash_secret(key, hash);
    rc = sf_one(st, sf_bind(st, "SELECT " KEY_COLS " FROM api_keys WHERE "
                            "key_hash = ?1", "t", hash), key_read, out,
                "api key");
    if (rc == STORE_NOTFOUND)
        store_set_errmsg(st, "unknown api key");
    return rc;
}

int store_apikey_list(struct store *st, struct fleet_apikey **out,
                      size_t *n)
{
    return sf_load(st, sf_bind(st, "SELECT " KEY_COLS " FROM api_keys "
                               "ORDER BY name", ""), key_read,
                   sizeof(**out), (void **)out, n, "api keys");
}

static int key_changed(struct store *st, int rc)
{
    if (rc == 0)
        store_set_errmsg(st, "no such key");
    return rc < 0 ? -1 : rc == 0 ? STORE_NOTFOUND : 0;
}

int store_apikey_revoke(struct store *st, const char *name_or_id,
                        double now)
{
    long long revoked = 0;
    int rc = sf_ll(st, &revoked, "SELECT revoked > 0 FROM api_keys WHERE "
                   "name = ?1 OR (kid = ?1 AND kid != '')", "t", name_or_id);

    if (rc == STORE_NOTFOUND)
        return key_changed(st, 0);
    if (rc)
        return rc;
    if (revoked) {
        store_set_errmsg(st, "revoked already");
        return STORE_CONFLICT;
    }
    return key_changed(st, sf_exec(st, "UPDATE api_keys SET revoked = ?2 "
                                   "WHERE revoked = 0 AND (name = ?1 OR "
                                   "(kid = ?1 AND kid != ''))", "td",
                                   name_or_id, now));
}

int store_apikey_remove(struct store *st, const char *name_or_id)
{
    return key_changed(st, sf_exec(st, "DELETE FROM api_keys WHERE name = "
                                   "?1 OR (kid = ?1 AND kid != '')", "t",
                                   name_or_id));
}

/* ---- users ------------------------------------------------------------------ */

static int user_insert(struct store *st, const char *name, double now)
{
    int rc = owner_taken(st, name, 1);

    if (rc)
        return rc;
    rc = sf_exec(st, "INSERT INTO users (name, created) VALUES (?1, ?2)",
                 "td", name, now);
    if (rc == -2) {
        store_set_errmsg(st, "a user with this name exists");
        return STORE_CONFLICT;
    }
    return rc < 0 ? -1 : 0;
}

int store_user_add(struct store *st, const char *name, double now)
{
    SF_TX(st, user_insert(st, name, now));
}

int store_user_list(struct store *st, store_user_cb cb, void *arg)
{
    sqlite3_stmt *s = sf_bind(st, "SELECT u.name, u.created, (SELECT "
                              "count(*) FROM api_keys k WHERE k.user = "
                              "u.name) FROM users u ORDER BY u.name", "");
    char name[FLEET_NAME_MAX];
    int rc;

    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        sf_col(s, 0, name, sizeof(name));
        if (cb(arg, name, sqlite3_column_double(s, 1),
               sqlite3_column_int64(s, 2)))
            break;
    }
    sf_done(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sf_fail(st, "users");
}

int store_owner_open(struct store *st, const char *owner, long long *n)
{
    char lo[256], hi[256];

    /* owner and "owner/..." (an app's end users): the range ['owner/',
     * 'owner0') keeps to the owner indexes.  Print tasks stand for their
     * jobs. */
    if (rr_fmt(lo, sizeof(lo), "%s/", owner) < 0 ||
        rr_fmt(hi, sizeof(hi), "%s0", owner) < 0) {
        store_set_errmsg(st, "owner name too long");
        return -1;
    }
    return sf_ll(st, n, "SELECT (SELECT count(*) FROM tasks WHERE (owner = ?1 "
                 "OR (owner >= ?3 AND owner < ?4)) AND status < 2 AND "
                 "kind = 0) + (SELECT count(*) FROM jobs WHERE (owner = ?1 OR "
                 "(owner >= ?3 AND owner < ?4)) AND state < ?2)", "titt",
                 owner, (long long)JOB_COMPLETE, lo, hi);
}

int store_owner_cap_tx(struct store *st, const char *owner, long long max,
                       long long *n)
{
    *n = 0;
    if (max <= 0)
        return 0;
    if (store_owner_open(st, owner, n) < 0)
        return -1;
    return *n >= max ? STORE_CAPPED : 0;
}
