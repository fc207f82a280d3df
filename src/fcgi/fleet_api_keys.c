/*
 * fleet_api_keys.c - users and API keys under /api/v1 (admin keys only):
 *
 *   POST   /keys              {"role","name",["user"],["expires_in"],
 *                              limits: ["queues"],["max_copies"],
 *                              ["max_priority"],["max_queued"],
 *                              octoprint: "queue",["material"],...}
 *                             201 with the key, shown this once
 *   GET    /keys              every key, never a secret
 *   POST   /keys/NAME/revoke  revoked from now on (401 when used)
 *   DELETE /keys/NAME         gone
 *   POST   /users {"name"}    GET /users
 *
 * NAME is a key's name or its id (rrk_<id>_...).
 */
#include "fcgi/fleet_api_int.h"

#include "common/util.h"
#include "fcgi/worker.h"
#include "store/store.h"

#include <stdlib.h>
#include <string.h>

#define KEY_MAX_LIFE (100LL * 365 * 86400)

static json_t *key_json(const struct fleet_apikey *k)
{
    json_t *o = json_pack("{sssssssssssfsbsisi}", "name", k->name, "id",
                          k->kid, "role", fleet_role_name(k->role), "user",
                          k->user, "queues", k->queues, "created",
                          k->created, "revoked", k->revoked > 0,
                          "max_copies", k->max_copies, "max_queued",
                          k->max_queued);

    if (!o)
        return NULL;
    json_object_set_new(o, "expires", k->expires > 0 ? json_real(k->expires)
                                                     : json_null());
    json_object_set_new(o, "max_priority", k->has_max_priority
                        ? json_integer(k->max_priority) : json_null());
    if (k->role == ROLE_OCTOPRINT)
        json_object_set_new(o, "queue", json_string(k->queue));
    return o;
}

/* The octoprint fields: where its uploads go. */
static int key_octo_fields(struct req *r, json_t *o, struct fleet_apikey *k)
{
    long long prio = 0;
    int rc;

    if ((rc = fa_get_name(r, o, "queue", k->queue, sizeof(k->queue), 0)) ||
        (rc = fa_get_name(r, o, "material", k->material,
                          sizeof(k->material), 1)) ||
        (rc = fa_get_name(r, o, "colour", k->colour, sizeof(k->colour), 1)) ||
        (rc = fa_get_name(r, o, "profile", k->profile, sizeof(k->profile),
                          1)) ||
        (rc = fa_get_int(r, o, "priority", FLEET_PRIORITY_MIN,
                         FLEET_PRIORITY_MAX, &prio)))
        return rc;
    k->priority = (int)prio;
    return 0;
}

/* Role, name, user, expiry and limits. */
static int key_fields(struct req *r, json_t *o, struct fleet_apikey *k)
{
    char role[16] = "";
    long long exp = 0, copies = 0, queued = 0, mprio = 0;
    int rc;

    if ((rc = fa_get_name(r, o, "role", role, sizeof(role), 1)) ||
        (rc = fa_get_name(r, o, "name", k->name, sizeof(k->name), 0)) ||
        (rc = fa_get_name(r, o, "user", k->user, sizeof(k->user), 0)) ||
        (rc = fa_get_int(r, o, "expires_in", 1, KEY_MAX_LIFE, &exp)) ||
        (rc = fa_get_list(r, o, "queues", k->queues, sizeof(k->queues), 32,
                          1)) ||
        (rc = fa_get_int(r, o, "max_copies", 0, 1000000, &copies)) ||
        (rc = fa_get_int(r, o, "max_queued", 0, 1000000, &queued)) ||
        (rc = fa_get_int(r, o, "max_priority", FLEET_PRIORITY_MIN,
                         FLEET_PRIORITY_MAX, &mprio)) ||
        (rc = key_octo_fields(r, o, k)))
        return rc;
    if (fleet_role_parse(role, &k->role) < 0)
        return req_error(r, 400, "role", "role: admin, operator, user, app, "
                         "enroll or octoprint");
    if (!k->name[0])
        return req_error(r, 400, "name", "name: required");
    k->expires = exp ? rr_now() + (double)exp : 0;
    k->max_copies = (int)copies;
    k->max_queued = (int)queued;
    k->has_max_priority = fa_given(o, "max_priority");
    k->max_priority = (int)mprio;
    return 0;
}

static int key_check_queues(struct req *r, const struct fleet_apikey *k)
{
    char copy[FLEET_LIST_MAX], *save = NULL, *q;

    if (k->role == ROLE_OCTOPRINT && !k->queue[0])
        return req_error(r, 400, "queue", "queue: an octoprint key needs "
                         "the queue its uploads go to");
    if (k->queue[0] && store_queue_get(r->w->st, k->queue,
                                      &(struct fleet_queue){ 0 }) != 0)
        return req_error(r, 404, "queue", "queue: no queue '%s'", k->queue);
    snprintf(copy, sizeof(copy), "%s", k->queues);
    for (q = strtok_r(copy, ",", &save); q; q = strtok_r(NULL, ",", &save)) {
        if (store_queue_get(r->w->st, q, &(struct fleet_queue){ 0 }) != 0)
            return req_error(r, 404, "queues", "queues: no queue '%s'", q);
    }
    return 0;
}

static int key_add(struct req *r)
{
    struct fleet_apikey k;
    char key[FLEET_TOKEN_MAX];
    json_t *o = NULL, *out;
    int rc;

    memset(&k, 0, sizeof(k));
    if ((rc = fa_read_json(r, &o)) != 0)
        return rc;
    rc = key_fields(r, o, &k);
    json_decref(o);
    if (rc || (rc = key_check_queues(r, &k)) != 0)
        return rc;
    if (!k.user[0] && !strcmp(k.name, AUTH_BOOTSTRAP_OWNER))
        return req_error(r, 400, "name", "name: '%s' is taken by the "
                         "admin_token of rrcloud.conf (what it makes is "
                         "its): give the key --user or another name",
                         k.name);
    rc = store_apikey_add(r->w->st, &k, rr_now(), key, sizeof(key));
    if (rc == STORE_CONFLICT)
        return req_error(r, 409, "name", "name: '%s': %s", k.name,
                         store_errmsg(r->w->st));
    if (rc == STORE_NOTFOUND)
        return req_error(r, 404, "user", "user: no user '%s' (rrcloud user "
                         "create %s)", k.user, k.user);
    if (rc)
        return req_error(r, 500, NULL, "store error");
    out = key_json(&k);
    if (out)
        json_object_set_new(out, "key", json_string(key));
    return req_send_json(r, 201, out, NULL);
}

static int key_list(struct req *r)
{
    struct fleet_apikey *keys = NULL;
    json_t *arr = json_array();
    size_t n = 0;

    if (!arr || store_apikey_list(r->w->st, &keys, &n) < 0) {
        json_decref(arr);
        return req_error(r, 500, NULL, "cannot list keys");
    }
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, key_json(&keys[i]));
    free(keys);
    return req_send_json(r, 200, json_pack("{so}", "keys", arr), NULL);
}

static int key_one(struct req *r, const char *name, int revoke)
{
    int rc;

    if (!fleet_name_valid(name))
        return req_error(r, 404, "name", "no key '%.64s'", name);
    rc = revoke ? store_apikey_revoke(r->w->st, name, rr_now())
                : store_apikey_remove(r->w->st, name);
    if (rc == STORE_NOTFOUND)
        return req_error(r, 404, "name", "no key '%.64s'", name);
    if (rc == STORE_CONFLICT)
        return req_error(r, 409, "name", "key '%.64s' is revoked already",
                         name);
    if (rc)
        return req_error(r, 500, NULL, "store error");
    buf_reset(&r->out);
    req_send(r, 204, "application/json", NULL);
    return 204;
}

int fa_keys(struct req *r, const struct auth_caller *c, const char *rest)
{
    char name[FLEET_NAME_MAX];
    const char *slash;
    size_t len;
    int rc;

    if ((rc = auth_require(r, c, AUTH_KEYS)) != 0)
        return rc;
    if (!*rest || !strcmp(rest, "/")) {
        if (req_is(r, "POST"))
            return key_add(r);
        return req_is(r, "GET") ? key_list(r)
                                : req_error(r, 405, NULL, "use GET or POST");
    }
    rest++;
    slash = strchr(rest, '/');
    len = slash ? (size_t)(slash - rest) : strlen(rest);
    if (len >= sizeof(name))
        return req_error(r, 404, "name", "no such key");
    memcpy(name, rest, len);
    name[len] = '\0';
    if (!slash)
        return req_is(r, "DELETE") ? key_one(r, name, 0)
                                   : req_error(r, 405, NULL, "use DELETE");
    if (strcmp(slash, "/revoke") != 0)
        return req_error(r, 404, NULL, "no such resource");
    return req_is(r, "POST") ? key_one(r, name, 1)
                             : req_error(r, 405, NULL, "use POST");
}

/* ---- users -------------------------------------------------------------------- */

static int user_one(void *arg, const char *name, double created,
                    long long keys)
{
    return json_array_append_new(arg, json_pack("{sssfsI}", "name", name,
                                                "created", created, "keys",
                                                (json_int_t)keys)) < 0;
}

int fa_users(struct req *r, const struct auth_caller *c, const char *rest)
{
    char name[FLEET_NAME_MAX];
    json_t *arr;
    int rc;

    if ((rc = auth_require(r, c, AUTH_KEYS)) != 0)
        return rc;
    if (*rest && strcmp(rest, "/"))
        return req_error(r, 404, NULL, "no such resource");
    if (req_is(r, "GET")) {
        arr = json_array();
        if (!arr || store_user_list(r->w->st, user_one, arr) < 0) {
            json_decref(arr);
            return req_error(r, 500, NULL, "cannot list users");
        }
        return req_send_json(r, 200, json_pack("{so}", "users", arr), NULL);
    }
    if (!req_is(r, "POST"))
        return req_error(r, 405, NULL, "use GET or POST");
    if ((rc = fa_read_name(r, name, sizeof(name))) != 0)
        return rc;
    if (!strcmp(name, AUTH_BOOTSTRAP_OWNER))
        return req_error(r, 400, "name", "name: '%s' is taken by the "
                         "admin_token of rrcloud.conf (what it makes is "
                         "its)", name);
    rc = store_user_add(r->w->st, name, rr_now());
    if (rc == STORE_CONFLICT)
        return req_error(r, 409, "name", "name: '%s': %s", name,
                         store_errmsg(r->w->st));
    if (rc)
        return req_error(r, 500, NULL, "store error");
    return req_send_json(r, 201, json_pack("{ssso}", "name", name, "created",
                                           json_real(rr_now())), NULL);
}
