/* fleet_api_front.c - /api/v1/frontends: the zrok frontends the load
 * manager assigns printers to. */
#include "common/util.h"
#include "fcgi/fleet_api_int.h"
#include "fcgi/worker.h"

#include <stdio.h>
#include <string.h>

struct fe_list {
    json_t *arr;
    int failed;
};

static int fe_one(void *arg, const struct fleet_frontend *f)
{
    struct fe_list *l = arg;
    json_t *o = fleet_frontend_json(f);

    if (!o || json_array_append_new(l->arr, o) < 0)
        l->failed = 1;
    return l->failed;
}

/* url, canary_url, namespace, capacity, enabled from o into f; the
 * *_given flags say which were present.  0 or the 400 sent. */
static int read_frontend(struct req *r, json_t *o, struct fleet_frontend *f)
{
    long long cap = f->capacity;
    int rc;

    if ((rc = fa_get_name(r, o, "region", f->region, sizeof(f->region), 0)) ||
        (rc = fa_get_text(r, o, "url", f->url, sizeof(f->url))) ||
        (rc = fa_get_text(r, o, "canary_url", f->canary_url,
                          sizeof(f->canary_url))) ||
        (rc = fa_get_text(r, o, "namespace", f->namespace_,
                          sizeof(f->namespace_))) ||
        (rc = fa_get_int(r, o, "capacity", 1, 1000000, &cap)) ||
        (rc = fa_get_bool(r, o, "enabled", &f->enabled)))
        return rc;
    f->capacity = (int)cap;
    if (fa_given(o, "url") && (rc = fa_check_url(r, "url", f->url)))
        return rc;
    if (f->canary_url[0] &&
        (rc = fa_check_url(r, "canary_url", f->canary_url)))
        return rc;
    if (strpbrk(f->namespace_, " \t/"))
        return req_error(r, 400, "namespace", "namespace: no blanks or "
                         "slashes");
    return 0;
}

static int fe_add(struct req *r)
{
    struct fleet_frontend f;
    struct fleet_policy pol;
    json_t *o = NULL;
    int rc;

    if ((rc = fa_read_json(r, &o)) != 0)
        return rc;
    fleet_frontend_init(&f);
    fa_policy(r, &pol);
    f.capacity = pol.frontend_capacity;
    rc = fa_get_name(r, o, "name", f.name, sizeof(f.name), 0);
    if (!rc)
        rc = read_frontend(r, o, &f);
    json_decref(o);
    if (rc)
        return rc;
    if (!f.name[0])
        return req_error(r, 400, "name", "name: required");
    if (!f.url[0])
        return req_error(r, 400, "url", "url: required (the frontend's "
                         "public base URL)");
    rc = store_frontend_add(r->w->st, &f, rr_now(), NULL);
    if (rc == STORE_CONFLICT)
        return req_error(r, 409, "name", "name: frontend '%s' exists",
                         f.name);
    if (rc || store_frontend_get(r->w->st, f.name, &f) != 0)
        return req_error(r, 500, NULL, "store error");
    fa_wake(r);
    return req_send_json(r, 201, fleet_frontend_json(&f), NULL);
}

static int fe_patch(struct req *r, const char *name)
{
    struct fleet_frontend f;
    struct fleet_frontend_patch fp;
    json_t *o = NULL;
    int rc;

    if ((rc = fa_read_json(r, &o)) != 0)
        return rc;
    fleet_frontend_init(&f);
    f.capacity = -1;
    f.enabled = -1;
    if (json_object_get(o, "name")) {
        json_decref(o);
        return req_error(r, 400, "name", "name: cannot be changed (add a "
                         "new frontend and disable this one)");
    }
    rc = read_frontend(r, o, &f);
    if (rc) {
        json_decref(o);
        return rc;
    }
    fleet_frontend_patch_init(&fp);
    if (fa_given(o, "region"))
        fp.region = f.region;
    if (fa_given(o, "url"))
        fp.url = f.url;
    if (fa_given(o, "namespace"))
        fp.namespace_ = f.namespace_;
    if (fa_given(o, "canary_url"))
        fp.canary_url = f.canary_url;
    fp.capacity = f.capacity;
    fp.enabled = f.enabled;
    json_decref(o);
    rc = store_frontend_update(r->w->st, name, &fp);
    if (rc == STORE_NOTFOUND)
        return req_error(r, 404, "name", "no frontend '%s'", name);
    if (rc || store_frontend_get(r->w->st, name, &f) != 0)
        return req_error(r, 500, NULL, "store error");
    fa_wake(r);
    return req_send_json(r, 200, fleet_frontend_json(&f), NULL);
}

int fa_frontends(struct req *r, const struct auth_caller *c, const char *rest)
{
    struct fe_list l = { NULL, 0 };
    struct fleet_frontend f;
    const char *name;
    int rc;

    if ((rc = auth_require(r, c, AUTH_FRONTENDS)) != 0)
        return rc;
    if (!*rest || !strcmp(rest, "/")) {
        if (req_is(r, "POST"))
            return fe_add(r);
        if (!req_is(r, "GET"))
            return req_error(r, 405, NULL, "use GET or POST");
        l.arr = json_array();
        if (!l.arr || store_frontend_list(r->w->st, fe_one, &l) < 0 ||
            l.failed) {
            json_decref(l.arr);
            return req_error(r, 500, NULL, "cannot list frontends");
        }
        return req_send_json(r, 200, json_pack("{so}", "frontends", l.arr),
                             NULL);
    }
    name = rest + 1;
    if (!fleet_name_valid(name))
        return req_error(r, 404, "name", "no frontend '%.64s'", name);
    if (req_is(r, "GET")) {
        rc = store_frontend_get(r->w->st, name, &f);
        if (rc == STORE_NOTFOUND)
            return req_error(r, 404, "name", "no frontend '%s'", name);
        if (rc)
            return req_error(r, 500, NULL, "store error");
        return req_send_json(r, 200, fleet_frontend_json(&f), NULL);
    }
    if (req_is(r, "PATCH"))
        return fe_patch(r, name);
    if (!req_is(r, "DELETE"))
        return req_error(r, 405, NULL, "use GET, PATCH or DELETE");
    rc = store_frontend_remove(r->w->st, name);
    if (rc == STORE_NOTFOUND)
        return req_error(r, 404, "name", "no frontend '%s'", name);
    if (rc == STORE_CONFLICT)
        return req_error(r, 409, "name", "printers are assigned to %s: "
                         "disable it (PATCH enabled=false) so they move, "
                         "then delete it", name);
    if (rc)
        return req_error(r, 500, NULL, "store error");
    fa_wake(r);
    buf_reset(&r->out);
    req_send(r, 204, "application/json", NULL);
    return 204;
}
