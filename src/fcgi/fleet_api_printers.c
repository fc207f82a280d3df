/* fleet_api_printers.c - /api/v1/printers: enrollment, the connection
 * registry, heartbeats, share URLs, settings and operator holds. */
#include "common/log.h"
#include "common/util.h"
#include "fcgi/fields.h"
#include "fcgi/fleet_api_int.h"
#include "fcgi/worker.h"
#include "fleet/profile.h"
#include "fleet/share.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The frontend block of enroll and heartbeat answers (null if none). */
static json_t *frontend_brief(const struct fleet_frontend *fe)
{
    json_t *o;

    if (!fe->id)
        return json_null();
    o = json_object();
    if (!o)
        return NULL;
    json_object_set_new(o, "name", json_string(fe->name));
    json_object_set_new(o, "url", json_string(fe->url));
    json_object_set_new(o, "region", json_string(fe->region));
    json_object_set_new(o, "namespace", json_string(fe->namespace_));
    json_object_set_new(o, "healthy", json_boolean(fe->healthy));
    return o;
}

/* Settings that decide which jobs a printer gets and what is done with
 * it: once it is enrolled, an operator's, never the printer's own (its
 * token would let it subscribe itself to any queue). */
static const char *const operator_fields[] = {
    "queues", "tags", "auto_eject", "region", "site", "spool",
};

/* 0, or answers 403 naming the first operator field in b that a caller
 * without the admin role sends. */
static int check_operator_fields(struct req *r, const struct auth_caller *c,
                                 json_t *b)
{
    if (auth_may(c, AUTH_PRINTERS))
        return 0;
    for (size_t i = 0; i < sizeof(operator_fields) /
                               sizeof(operator_fields[0]); i++) {
        if (fa_given(b, operator_fields[i]))
            return req_error(r, 403, operator_fields[i], "%s: only an "
                             "operator or admin key may set a printer's "
                             "%s", operator_fields[i], operator_fields[i]);
    }
    return 0;
}

/* 0, or answers 403 naming queues if an enrollment asks for a queue
 * outside enroll_queues: whoever holds the shared enroll token must not
 * subscribe a printer of theirs to any queue and receive its G-code. */
static int check_enroll_queues(struct req *r, const char *queues)
{
    const char *allowed = r->w->app->conf.enroll_queues;
    char list[sizeof(((struct fleet_printer *)0)->queues)], *q, *save;

    if (!strcmp(allowed, "*"))
        return 0;
    snprintf(list, sizeof(list), "%s", queues);
    for (q = strtok_r(list, ", ", &save); q; q = strtok_r(NULL, ", ", &save))
        if (!fleet_list_has(allowed, q))
            return req_error(r, 403, "queues", "queues: an enrollment may "
                             "ask only for enroll_queues (%s), not '%s'; an "
                             "operator adds others (PATCH)", allowed, q);
    return 0;
}

/* fa_check_url() plus fleet_share_check() for printer id: 0 or the 400
 * sent.  The shape rule binds printers speaking for themselves. */
static int check_share(struct req *r, const struct auth_caller *c, long long id,
                       const char *url)
{
    const struct rr_conf *conf = &r->w->app->conf;
    struct fleet_printer *p = NULL;
    struct fleet_frontend fe;
    const char *why;
    char ns[sizeof(fe.namespace_)] = "", feurl[sizeof(fe.url)] = "";
    int rc;

    if ((rc = fa_check_url(r, "share_url", url)) != 0)
        return rc;
    if (!auth_may(c, AUTH_PRINTERS)) {
        if (!(p = malloc(sizeof(*p))))
            return req_error(r, 500, NULL, "out of memory");
        rc = store_printer_get(r->w->st, id, p);
        if (rc == 0 && p->frontend_id &&
            store_frontend_get_id(r->w->st, p->frontend_id, &fe) == 0) {
            snprintf(ns, sizeof(ns), "%s", fe.namespace_);
            snprintf(feurl, sizeof(feurl), "%s", fe.url);
        }
        free(p);
        if (rc == STORE_NOTFOUND)
            return req_error(r, 404, "id", "no printer %lld", id);
        if (rc < 0)
            return req_error(r, 500, NULL, "store error");
    }
    if (fleet_share_check(id, url, ns[0] ? ns : NULL,
                          feurl[0] ? feurl : NULL, conf->fleet_share_patterns,
                          conf->fleet_share_allow, auth_may(c, AUTH_PRINTERS),
                          &why) < 0)
        return req_error(r, 400, "share_url", "share_url: '%.100s' refused: "
                         "%s (a printer's share is https://prn-%lld.%s or "
                         "matches fleet_share_patterns; fleet_share_allow "
                         "admits private addresses)", url, why, id,
                         ns[0] ? ns : "NAMESPACE");
    return 0;
}

/* Reads the settings enrollment and PATCH share into p, marking in pp
 * which were given (pp may be NULL).  0 or the 400 sent. */
int fa_printer_settings(struct req *r, json_t *b, struct fleet_printer *p)
{
    char msg[640];
    int rc;

    if ((rc = fa_get_text(r, b, "name", p->name, sizeof(p->name))) ||
        (rc = fa_get_name(r, b, "region", p->region, sizeof(p->region), 0)) ||
        (rc = fa_get_name(r, b, "site", p->site, sizeof(p->site), 0)) ||
        (rc = fa_get_name(r, b, "profile", p->profile, sizeof(p->profile),
                          1)) ||
        (rc = fa_get_name(r, b, "material", p->material,
                          sizeof(p->material), 1)) ||
        (rc = fa_get_name(r, b, "colour", p->colour, sizeof(p->colour), 1)) ||
        (rc = fa_get_name(r, b, "color", p->colour, sizeof(p->colour), 1)) ||
        (rc = fa_get_list(r, b, "queues", p->queues, sizeof(p->queues),
                          FLEET_QUEUES_MAX, 1)) ||
        (rc = fa_get_list(r, b, "tags", p->tags, sizeof(p->tags), 32, 0)) ||
        (rc = fa_get_bool(r, b, "auto_eject", &p->auto_eject)))
        return rc;
    if (profile_check_name(r->w->app->profiles, p->profile, msg,
                           sizeof(msg)) != 0)
        return req_error(r, 400, "profile", "profile: %s", msg);
    if ((rc = fa_get_text(r, b, "moonraker_api_key", p->api_key,
                          sizeof(p->api_key))) ||
        (rc = fa_get_text(r, b, "share_auth", p->share_auth,
                          sizeof(p->share_auth))))
        return rc;
    if (strpbrk(p->api_key, " \t") || strpbrk(p->share_auth, " \t"))
        return req_error(r, 400, "moonraker_api_key", "secrets may not "
                         "contain blanks");
    if (p->share_auth[0] && !strchr(p->share_auth, ':'))
        return req_error(r, 400, "share_auth", "share_auth: must be "
                         "user:password");
    if (fa_get_text(r, b, "share_url", p->share_url, sizeof(p->share_url)))
        return 400;
    if (p->share_url[0] && (rc = fa_check_url(r, "share_url", p->share_url)))
        return rc;
    return 0;
}

static int enroll(struct req *r, const struct auth_caller *c)
{
    struct fleet_printer p;
    struct fleet_frontend fe;
    struct fleet_policy pol;
    char token[FLEET_TOKEN_MAX], bad[FLEET_NAME_MAX], share[32];
    long long id;
    json_t *b = NULL, *o;
    int rc;

    if ((rc = auth_require(r, c, AUTH_ENROLL)) != 0)
        return rc;
    if ((rc = fa_read_json(r, &b)) != 0)
        return rc;
    fleet_printer_init(&p);
    /* The installer holding the enroll token sets the first queues and
     * region; from then on only an operator changes them (PATCH). */
    if ((rc = fa_printer_settings(r, b, &p)) != 0 ||
        (!auth_may(c, AUTH_PRINTERS) &&
         (rc = check_enroll_queues(r, p.queues)) != 0))
        goto out;
    /* Its id, and so its share name, does not exist yet. */
    if (p.share_url[0] && !auth_may(c, AUTH_PRINTERS)) {
        rc = req_error(r, 400, "share_url", "share_url: report it with PUT "
                       "/api/v1/printers/ID/share once enrolled");
        goto out;
    }
    if (p.share_url[0] && (rc = check_share(r, c, 0, p.share_url)) != 0)
        goto out;
    fa_policy(r, &pol);
    rc = store_printer_enroll(r->w->st, &p, &pol, rr_now(), &id, token,
                              sizeof(token), &fe, bad, sizeof(bad));
    if (rc == STORE_NOTFOUND) {
        rc = req_error(r, 404, "queues", "queues: no queue '%s' (create it "
                       "with POST /api/v1/queues)", bad);
        goto out;
    }
    if (rc == STORE_CONFLICT) {
        rc = req_error(r, 503, "region", "region: no healthy frontend with "
                       "free capacity in region '%s' or its fallbacks "
                       "(region_fallback)", p.region);
        goto out;
    }
    if (rc < 0) {
        rc = req_error(r, 500, NULL, "store error");
        goto out;
    }
    log_info("printer %lld enrolled from %s on frontend %s", id,
             r->remote_addr, fe.id ? fe.name : "(none)");
    fa_wake(r);
    fleet_share_name(id, share, sizeof(share));
    o = json_object();
    if (o) {
        json_object_set_new(o, "id", json_integer(id));
        json_object_set_new(o, "token", json_string(token));
        json_object_set_new(o, "frontend", frontend_brief(&fe));
        json_object_set_new(o, "share_name", json_string(share));
        json_object_set_new(o, "namespace", fe.id ? json_string(fe.namespace_)
                                                  : json_null());
    }
    rc = req_send_json(r, 201, o, NULL);
out:
    json_decref(b);
    return rc;
}

struct list_ctx {
    json_t *arr;
    int failed;
};

static int list_one(void *arg, const struct fleet_printer *p)
{
    struct list_ctx *l = arg;
    json_t *o = fleet_printer_json(p);

    if (!o || json_array_append_new(l->arr, o) < 0)
        l->failed = 1;
    return l->failed;
}

static int list(struct req *r)
{
    struct store_printer_filter f = { -1, 0, NULL };
    struct fleet_frontend fe;
    struct list_ctx l = { json_array(), 0 };
    struct fields q;
    const char *v;
    long long limit = 1000, offset = 0;
    char err[256], queue[FLEET_NAME_MAX];
    enum printer_state ps;
    json_t *o;
    int rc = 0;

    fields_init(&q);
    if (fields_parse_query(&q, r->query, 16, 256, err, sizeof(err)) < 0) {
        rc = req_error(r, 400, NULL, "query: %s", err);
        goto out;
    }
    if ((v = fields_get(&q, "state")) != NULL) {
        if (printer_state_parse(v, &ps) < 0) {
            rc = req_error(r, 400, "state", "state: unknown printer state "
                           "'%.32s'", v);
            goto out;
        }
        f.state = (int)ps;
    }
    if ((v = fields_get(&q, "frontend")) != NULL) {
        if (store_frontend_get(r->w->st, v, &fe) != 0) {
            rc = req_error(r, 404, "frontend", "frontend: no frontend "
                           "'%.64s'", v);
            goto out;
        }
        f.frontend_id = fe.id;
    }
    if ((v = fields_get(&q, "queue")) != NULL) {
        if ((rc = fa_check_name(r, "queue", v, queue, sizeof(queue), 0)))
            goto out;
        f.queue = queue;
    }
    if (((v = fields_get(&q, "limit")) &&
         (rc = fa_check_int(r, "limit", v, 1, 10000, &limit))) ||
        ((v = fields_get(&q, "offset")) &&
         (rc = fa_check_int(r, "offset", v, 0, 1LL << 40, &offset))))
        goto out;
    if (!l.arr || store_printer_list(r->w->st, &f, (int)limit, (int)offset,
                                     list_one, &l) < 0 || l.failed) {
        rc = req_error(r, 500, NULL, "cannot list printers");
        goto out;
    }
    o = json_object();
    if (o) {
        json_object_set_new(o, "count", json_integer(
                                            (json_int_t)json_array_size(l.arr)));
        json_object_set(o, "printers", l.arr);
    }
    rc = req_send_json(r, 200, o, NULL);
out:
    json_decref(l.arr);
    fields_free(&q);
    return rc;
}

static int get_one(struct req *r, long long id, int status)
{
    struct fleet_printer *p = malloc(sizeof(*p));
    int rc;

    if (!p)
        return req_error(r, 500, NULL, "out of memory");
    rc = store_printer_get(r->w->st, id, p);
    if (rc == STORE_NOTFOUND)
        rc = req_error(r, 404, "id", "no printer %lld", id);
    else if (rc < 0)
        rc = req_error(r, 500, NULL, "store error");
    else
        rc = req_send_json(r, status, fleet_printer_json(p), NULL);
    free(p);
    return rc;
}

/* Fills a patch from the fields present in b (p holds their values). */
static void patch_from(json_t *b, const struct fleet_printer *p,
                       struct fleet_printer_patch *pp)
{
    fleet_printer_patch_init(pp);
    if (fa_given(b, "name"))
        pp->name = p->name;
    if (fa_given(b, "region"))
        pp->region = p->region;
    if (fa_given(b, "site"))
        pp->site = p->site;
    if (fa_given(b, "profile"))
        pp->profile = p->profile;
    if (fa_given(b, "material"))
        pp->material = p->material;
    if (fa_given(b, "colour") || fa_given(b, "color"))
        pp->colour = p->colour;
    if (fa_given(b, "queues"))
        pp->queues = p->queues;
    if (fa_given(b, "tags"))
        pp->tags = p->tags;
    if (fa_given(b, "moonraker_api_key"))
        pp->api_key = p->api_key;
    if (fa_given(b, "share_auth"))
        pp->share_auth = p->share_auth;
    if (fa_given(b, "auto_eject"))
        pp->auto_eject = p->auto_eject;
}

static int patch(struct req *r, const struct auth_caller *c, long long id)
{
    struct fleet_printer *p = malloc(sizeof(*p));
    struct fleet_printer_patch pp;
    struct fa_spool sp;
    char bad[FLEET_NAME_MAX];
    json_t *b = NULL;
    int rc;

    if (!p)
        return req_error(r, 500, NULL, "out of memory");
    if ((rc = fa_read_json(r, &b)) != 0)
        goto out;
    fleet_printer_init(p);
    if (fa_given(b, "share_url")) {
        rc = req_error(r, 400, "share_url", "share_url: set it with PUT "
                       "/api/v1/printers/%lld/share", id);
        goto out;
    }
    if ((rc = check_operator_fields(r, c, b)) != 0 ||
        (rc = fa_printer_settings(r, b, p)) != 0 ||
        (fa_given(b, "spool") &&
         (rc = fa_spool_parse(r, json_object_get(b, "spool"), "spool.",
                              &sp)) != 0))
        goto out;
    patch_from(b, p, &pp);
    rc = store_printer_update(r->w->st, id, &pp, rr_now(), bad, sizeof(bad));
    if (rc == STORE_NOTFOUND && pp.queues && bad[0])
        rc = req_error(r, 404, "queues", "queues: no queue '%s'", bad);
    else if (rc == STORE_NOTFOUND)
        rc = req_error(r, 404, "id", "no printer %lld", id);
    else if (rc < 0)
        rc = req_error(r, 500, NULL, "store error");
    else if (!fa_given(b, "spool") || (rc = fa_spool_store(r, id, &sp)) == 0) {
        fa_wake(r);
        rc = get_one(r, id, 200);
    }
out:
    json_decref(b);
    free(p);
    return rc;
}

/* PUT /printers/ID/share {"share_url", "share_auth"?}. */
static int put_share(struct req *r, const struct auth_caller *c, long long id)
{
    char url[FLEET_URL_MAX] = "", auth[FLEET_SECRET_MAX] = "";
    json_t *b = NULL;
    int rc;

    if ((rc = fa_read_json(r, &b)) != 0)
        return rc;
    rc = fa_get_text(r, b, "share_url", url, sizeof(url));
    if (!rc)
        rc = fa_get_text(r, b, "share_auth", auth, sizeof(auth));
    json_decref(b);
    if (rc)
        return rc;
    if (!url[0])
        return req_error(r, 400, "share_url", "share_url: required");
    if ((rc = check_share(r, c, id, url)) != 0)
        return rc;
    if (auth[0] && (!strchr(auth, ':') || strpbrk(auth, " \t")))
        return req_error(r, 400, "share_auth", "share_auth: must be "
                         "user:password");
    rc = store_printer_set_share(r->w->st, id, url, auth[0] ? auth : NULL,
                                 rr_now());
    if (rc == STORE_NOTFOUND)
        return req_error(r, 404, "id", "no printer %lld", id);
    if (rc < 0)
        return req_error(r, 500, NULL, "store error");
    fa_wake(r);
    return get_one(r, id, 200);
}

/* The heartbeat answer: where the printer should be and whether to move. */
static json_t *heartbeat_answer(long long id, const struct fleet_printer *p,
                                const struct fleet_frontend *fe)
{
    char share[32];
    json_t *o = json_object();

    if (!o)
        return NULL;
    fleet_share_name(id, share, sizeof(share));
    json_object_set_new(o, "id", json_integer(id));
    json_object_set_new(o, "state", json_string(printer_state_name(p->state)));
    json_object_set_new(o, "frontend", frontend_brief(fe));
    json_object_set_new(o, "move", json_boolean(p->move_pending));
    json_object_set_new(o, "share_name", json_string(share));
    json_object_set_new(o, "namespace", fe->id ? json_string(fe->namespace_)
                                               : json_null());
    json_object_set_new(o, "share_url", json_string(p->share_url));
    return o;
}

/* POST /printers/ID/heartbeat {"share_url"?, "moonraker_version"?,
 * "state"?, "frontend"?}. */
static int heartbeat(struct req *r, const struct auth_caller *c, long long id)
{
    struct fleet_printer *p = malloc(sizeof(*p));
    struct fleet_frontend fe;
    char url[FLEET_URL_MAX] = "", ver[FLEET_NAME_MAX] = "";
    char fname[FLEET_NAME_MAX] = "";
    json_t *b = NULL;
    int rc;

    if (!p)
        return req_error(r, 500, NULL, "out of memory");
    if ((rc = fa_read_json(r, &b)) != 0)
        goto out;
    if ((rc = fa_get_text(r, b, "share_url", url, sizeof(url))) ||
        (rc = fa_get_text(r, b, "moonraker_version", ver, sizeof(ver))) ||
        (rc = fa_get_name(r, b, "frontend", fname, sizeof(fname), 0)))
        goto out;
    if (url[0] && (rc = check_share(r, c, id, url)))
        goto out;
    rc = store_printer_heartbeat(r->w->st, id, url[0] ? url : NULL,
                                 ver[0] ? ver : NULL, fname[0] ? fname : NULL,
                                 rr_now(), p, &fe);
    if (rc == STORE_NOTFOUND)
        rc = req_error(r, 404, "id", "no printer %lld", id);
    else if (rc < 0)
        rc = req_error(r, 500, NULL, "store error");
    else {
        if (url[0])
            fa_wake(r);
        rc = req_send_json(r, 200, heartbeat_answer(id, p, &fe), NULL);
    }
out:
    json_decref(b);
    free(p);
    return rc;
}

/* POST /printers/ID/{cleared,maintenance,release,pause,resume,cancel}. */
static int action(struct req *r, long long id, const char *what)
{
    json_t *b = NULL;
    char reason[FLEET_REASON_MAX] = "";
    enum printer_cmd cmd;
    double now = rr_now();
    int rc, on = 1;
    const char *conflict;

    if (!req_is(r, "POST"))
        return req_error(r, 405, NULL, "use POST");
    if ((rc = fa_read_json(r, &b)) != 0)
        return rc;
    if ((rc = fa_get_bool(r, b, "on", &on)) ||
        (rc = fa_get_text(r, b, "reason", reason, sizeof(reason)))) {
        json_decref(b);
        return rc;
    }
    json_decref(b);
    if (!strcmp(what, "cleared")) {
        rc = store_printer_cleared(r->w->st, id, now);
        conflict = "the printer is not waiting for its bed to be cleared";
    } else if (!strcmp(what, "maintenance")) {
        rc = store_printer_maintenance(r->w->st, id, on,
                                       reason[0] ? reason : NULL, now);
        conflict = "";
    } else if (!strcmp(what, "release")) {
        rc = store_printer_release(r->w->st, id, now);
        conflict = "the printer is not quarantined";
    } else if (printer_cmd_parse(what, &cmd) == 0 && cmd != PCMD_NONE) {
        rc = store_printer_command(r->w->st, id, cmd, now);
        conflict = "the printer has no print of ours to control";
    } else {
        return req_error(r, 404, NULL, "no printer action '%.32s'", what);
    }
    if (rc == STORE_NOTFOUND)
        return req_error(r, 404, "id", "no printer %lld", id);
    if (rc == STORE_CONFLICT)
        return req_error(r, 409, NULL, "%s", conflict);
    if (rc < 0)
        return req_error(r, 500, NULL, "store error");
    fa_wake(r);
    return get_one(r, id, 200);
}

static int remove_printer(struct req *r, long long id)
{
    int rc = store_printer_remove(r->w->st, id, rr_now());

    if (rc == STORE_NOTFOUND)
        return req_error(r, 404, "id", "no printer %lld", id);
    if (rc == STORE_CONFLICT)
        return req_error(r, 409, NULL, "printer %lld is printing a copy: "
                         "cancel it first (POST .../cancel)", id);
    if (rc < 0)
        return req_error(r, 500, NULL, "store error");
    fa_wake(r);
    buf_reset(&r->out);
    req_send(r, 204, "application/json", NULL);
    return 204;
}

int fa_printers(struct req *r, const struct auth_caller *c, const char *rest)
{
    const char *slash;
    long long id;
    int rc;

    if (!*rest || !strcmp(rest, "/")) {
        if (req_is(r, "POST"))
            return enroll(r, c);
        if (!req_is(r, "GET"))
            return req_error(r, 405, NULL, "use GET or POST");
        return (rc = auth_require(r, c, AUTH_PRINTERS)) ? rc : list(r);
    }
    rest++;
    slash = strchr(rest, '/');
    id = fa_id(rest, slash ? (size_t)(slash - rest) : strlen(rest));
    if (!id)
        return req_error(r, 404, "id", "no printer '%.32s'", rest);
    if (!slash) {
        if ((rc = auth_require_printer(r, c, id)) != 0)
            return rc;
        if (req_is(r, "GET"))
            return get_one(r, id, 200);
        if (req_is(r, "PATCH"))
            return patch(r, c, id);
        if (req_is(r, "DELETE"))
            return (rc = auth_require(r, c, AUTH_PRINTERS)) ? rc
                                                        : remove_printer(r, id);
        return req_error(r, 405, NULL, "use GET, PATCH or DELETE");
    }
    if (!strcmp(slash, "/heartbeat") || !strcmp(slash, "/share")) {
        int put = slash[1] == 's';
        if ((rc = auth_require_printer(r, c, id)) != 0)
            return rc;
        if (put ? !req_is(r, "PUT") && !req_is(r, "POST") : !req_is(r, "POST"))
            return req_error(r, 405, NULL, put ? "use PUT" : "use POST");
        return put ? put_share(r, c, id) : heartbeat(r, c, id);
    }
    if ((rc = auth_require(r, c, AUTH_PRINTERS)) != 0)
        return rc;
    if (!strcmp(slash, "/spool"))
        return fa_printer_spool(r, id);
    return action(r, id, slash + 1);
}
