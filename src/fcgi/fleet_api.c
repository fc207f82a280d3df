/*
 * fleet_api.c - the fleet under /api/v1 (fleet_api.h): routing, who is
 * asking, JSON helpers, and the printer routes.  See fleet_api_int.h for
 * the other files.
 */
#include "fcgi/fleet_api.h"

#include "common/log.h"
#include "common/util.h"
#include "common/wake.h"
#include "fcgi/fleet_api_int.h"
#include "fcgi/worker.h"
#include "http/netcheck.h"
#include "http/url.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- JSON -------------------------------------------------------------------- */


int fa_read_name(struct req *r, char *name, size_t len)
{
    json_t *o = NULL;
    int rc;

    name[0] = '\0';
    if ((rc = fa_read_json(r, &o)) != 0)
        return rc;
    rc = fa_get_name(r, o, "name", name, len, 0);
    json_decref(o);
    if (rc)
        return rc;
    return name[0] ? 0 : req_error(r, 400, "name", "name: required");
}

int fa_read_json(struct req *r, json_t **out)
{
    unsigned long long max = r->w->app->conf.max_json_body;
    json_error_t jerr;
    struct buf b;
    char chunk[16384];
    long n;

    *out = NULL;
    /* curl -d sends x-www-form-urlencoded: judge the body, not the label,
     * except for multipart, which is plainly something else. */
    if (rr_prefix_ci(r->content_type, "multipart/"))
        return req_error(r, 415, NULL, "Content-Type must be "
                         "application/json");
    if (r->content_length > 0 &&
        (unsigned long long)r->content_length > max)
        return req_error(r, 413, NULL, "JSON body larger than %llu bytes "
                         "(max_json_body)", max);
    buf_init(&b, max);
    while ((n = req_read(r, chunk, sizeof(chunk))) > 0) {
        if (buf_append(&b, chunk, (size_t)n) < 0) {
            buf_free(&b);
            return req_error(r, 413, NULL, "JSON body larger than %llu "
                             "bytes (max_json_body)", max);
        }
    }
    if (n < 0) {
        buf_free(&b);
        return req_error(r, 400, NULL, "request body could not be read");
    }
    *out = b.len ? json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES, &jerr)
                 : json_object();
    buf_free(&b);
    if (!*out)
        return req_error(r, 400, NULL, "body is not JSON: %s (line %d)",
                         jerr.text, jerr.line);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return req_error(r, 400, NULL, "body must be a JSON object");
    }
    return 0;
}

int fa_check_name(struct req *r, const char *field, const char *v, char *dst,
                  size_t len, int lower)
{
    if (*v && !fleet_name_valid(v))
        return req_error(r, 400, field, "%s: 1..%d characters of "
                         "A-Z a-z 0-9 . _ # + - (got '%.40s')", field,
                         FLEET_NAME_MAX - 1, v);
    snprintf(dst, len, "%s", v);
    if (lower)
        fleet_lower(dst);
    return 0;
}

int fa_check_int(struct req *r, const char *field, const char *v,
                 long long min, long long max, long long *dst)
{
    char *end;
    long long n = strtoll(v, &end, 10);

    if (!*v || *end || n < min || n > max)
        return req_error(r, 400, field, "%s: must be an integer from %lld "
                         "to %lld", field, min, max);
    *dst = n;
    return 0;
}

int fa_given(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return v && !json_is_null(v);
}

int fa_check_url(struct req *r, const char *field, const char *v)
{
    const char *why = "is too long";

    if (strlen(v) >= FLEET_URL_MAX || url_check_http(v, &why) < 0)
        return req_error(r, 400, field, "%s: %s (an http:// or https:// URL "
                         "of at most %d bytes)", field, why,
                         FLEET_URL_MAX - 1);
    return 0;
}

static int fa_type_error(struct req *r, const char *key, const char *want)
{
    return req_error(r, 400, key, "%s: must be %s", key, want);
}

int fa_get_name(struct req *r, json_t *o, const char *key, char *dst,
                size_t len, int lower)
{
    json_t *v = json_object_get(o, key);

    if (!v || json_is_null(v))   /* null = not configured */
        return 0;
    if (!json_is_string(v))
        return fa_type_error(r, key, "a string");
    return fa_check_name(r, key, json_string_value(v), dst, len, lower);
}

int fa_get_text(struct req *r, json_t *o, const char *key, char *dst,
                size_t len)
{
    json_t *v = json_object_get(o, key);

    if (!v || json_is_null(v))   /* null = not configured */
        return 0;
    if (!json_is_string(v) || !fleet_text_valid(json_string_value(v), len))
        return req_error(r, 400, key, "%s: must be a string of at most %zu "
                         "printable bytes", key, len - 1);
    snprintf(dst, len, "%s", json_string_value(v));
    return 0;
}

int fa_get_int(struct req *r, json_t *o, const char *key, long long min,
               long long max, long long *dst)
{
    json_t *v = json_object_get(o, key);

    if (!v || json_is_null(v))   /* null = not configured */
        return 0;
    if (json_is_string(v))
        return fa_check_int(r, key, json_string_value(v), min, max, dst);
    if (!json_is_integer(v) || json_integer_value(v) < min ||
        json_integer_value(v) > max)
        return req_error(r, 400, key, "%s: must be an integer from %lld to "
                         "%lld", key, min, max);
    *dst = json_integer_value(v);
    return 0;
}

int fa_get_bool(struct req *r, json_t *o, const char *key, int *dst)
{
    json_t *v = json_object_get(o, key);

    if (!v || json_is_null(v))   /* null = not configured */
        return 0;
    if (!json_is_boolean(v))
        return fa_type_error(r, key, "true or false");
    *dst = json_is_true(v);
    return 0;
}

/* Appends one list item after checking it. */
static int list_add(struct req *r, const char *key, const char *item,
                    char *dst, size_t len, int *n, int maxn, int names)
{
    size_t have = strlen(dst);

    if (!*item)
        return 0;
    if (names ? !fleet_name_valid(item)
              : (!fleet_text_valid(item, FLEET_NAME_MAX) ||
                 strchr(item, ',')))
        return req_error(r, 400, key, "%s: '%.40s' is not a valid item "
                         "(1..%d characters%s)", key, item,
                         FLEET_NAME_MAX - 1,
                         names ? " of A-Z a-z 0-9 . _ # + -" : ", no comma");
    if (fleet_list_has(dst, item))
        return 0;
    if (++*n > maxn || have + strlen(item) + 2 > len)
        return req_error(r, 400, key, "%s: at most %d items and %zu bytes",
                         key, maxn, len - 1);
    snprintf(dst + have, len - have, "%s%s", have ? "," : "", item);
    return 0;
}

int fa_get_list(struct req *r, json_t *o, const char *key, char *dst,
                size_t len, int maxn, int names)
{
    json_t *v = json_object_get(o, key), *it;
    char copy[FLEET_LIST_MAX * 2], *save = NULL, *tok;
    size_t i;
    int n = 0, rc;

    if (!v || json_is_null(v))   /* null = not configured */
        return 0;
    dst[0] = '\0';
    if (json_is_array(v)) {
        json_array_foreach(v, i, it) {
            if (!json_is_string(it))
                return fa_type_error(r, key, "an array of strings");
            if ((rc = list_add(r, key, json_string_value(it), dst, len, &n,
                               maxn, names)) != 0)
                return rc;
        }
        return 0;
    }
    if (!json_is_string(v) || strlen(json_string_value(v)) >= sizeof(copy))
        return fa_type_error(r, key, "an array of strings or a comma list");
    snprintf(copy, sizeof(copy), "%s", json_string_value(v));
    for (tok = strtok_r(copy, ", ", &save); tok;
         tok = strtok_r(NULL, ", ", &save)) {
        if ((rc = list_add(r, key, tok, dst, len, &n, maxn, names)) != 0)
            return rc;
    }
    return 0;
}

int fa_check_notifier(struct req *r, const char *v)
{
    const char *why;
    int rc;

    if ((rc = fa_check_url(r, "notifier", v)) != 0)
        return rc;
    if ((why = netcheck_url(v, r->w->app->conf.notifier_allow)))
        return req_error(r, 400, "notifier", "notifier: '%.100s' points to "
                         "%s, which notifiers may not reach (notifier_allow "
                         "in rrcloud.conf lets more through)", v, why);
    return 0;
}

long long fa_id(const char *s, size_t len)
{
    long long v = 0;

    if (!len || len > 15)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

void fa_policy(const struct req *r, struct fleet_policy *pol)
{
    fleet_policy_from_conf(pol, &r->w->app->conf);
}

void fa_wake(const struct req *r)
{
    wake_send(r->w->app->conf.wake_socket, WAKE_FLEET);
}

/* ---- routing ------------------------------------------------------------------ */

/* rest of path after prefix when path is prefix or prefix/..., else NULL. */
static const char *under(const char *path, const char *prefix)
{
    size_t n = strlen(prefix);

    if (strncmp(path, prefix, n) != 0 || (path[n] && path[n] != '/'))
        return NULL;
    return path + n;
}

int fleet_api_handle(struct req *r, const char *path)
{
    const struct auth_caller *c = r->caller;
    const char *rest;

    r->api = 1;
    r->format = FMT_JSON;
    if ((rest = under(path, "/printers")) != NULL)
        return fa_printers(r, c, rest);
    if ((rest = under(path, "/frontends")) != NULL)
        return fa_frontends(r, c, rest);
    if ((rest = under(path, "/queues")) != NULL)
        return fa_queues(r, c, rest);
    if ((rest = under(path, "/jobs")) != NULL)
        return fa_jobs(r, c, rest);
    if ((rest = under(path, "/keys")) != NULL)
        return fa_keys(r, c, rest);
    if ((rest = under(path, "/users")) != NULL)
        return fa_users(r, c, rest);
    if ((rest = under(path, "/profiles")) != NULL)
        return fa_profiles(r, c, rest);
    if ((rest = under(path, "/sites")) != NULL)
        return fa_sites(r, c, rest);
    if (under(path, "/events") && (!path[7] || !strcmp(path + 7, "/"))) {
        if (!req_is(r, "GET"))
            return req_error(r, 405, NULL, "use GET");
        return fa_events(r, c);
    }
    return req_error(r, 404, NULL, "no API resource %.200s", path);
}
