/* fleet_api_sites.c - /api/v1/sites (staffed hours per site) and a
 * printer's loaded spool (/api/v1/printers/ID/spool, or "spool" in a
 * printer PATCH).  Operators and admins only (AUTH_PRINTERS): both decide
 * where and when prints go. */
#include "common/util.h"
#include "fcgi/fleet_api_int.h"
#include "fcgi/worker.h"
#include "fleet/hours.h"
#include "store/store_sites.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SPOOL_GRAMS_MAX 100000.0     /* 100 kg: no spool holds more */

/* ---- spools ------------------------------------------------------------- */

/* A spool object o ({"grams": N or null, "material"?, "colour"?}) into
 * sp; prefix names the fields in errors ("spool." in a PATCH).  0 or the
 * 400 sent. */
int fa_spool_parse(struct req *r, json_t *o, const char *prefix,
                   struct fa_spool *sp)
{
    const char *key, *gfield = prefix[0] ? "spool.grams" : "grams";
    json_t *v;

    memset(sp, 0, sizeof(*sp));
    sp->grams = -1;
    if (!json_is_object(o))
        return req_error(r, 400, "spool", "spool: must be an object "
                         "{\"grams\": N}");
    json_object_foreach(o, key, v) {
        if (strcmp(key, "grams") && strcmp(key, "material") &&
            strcmp(key, "colour") && strcmp(key, "color"))
            return req_error(r, 400, prefix[0] ? "spool" : key, "%s%.64s: "
                             "unknown field (a spool has grams, material "
                             "and colour)", prefix, key);
    }
    v = json_object_get(o, "grams");
    if (!v)
        return req_error(r, 400, gfield, "%sgrams: required (the grams "
                         "left on the spool, or null for unknown)", prefix);
    if (!json_is_null(v)) {
        double g = json_number_value(v);
        if (!json_is_number(v) || !isfinite(g) || g < 0 ||
            g > SPOOL_GRAMS_MAX)
            return req_error(r, 400, gfield, "%sgrams: must be a number "
                             "from 0 to %.0f, or null for unknown", prefix,
                             SPOOL_GRAMS_MAX);
        sp->grams = g;
    }
    if (fa_get_name(r, o, "material", sp->material, sizeof(sp->material),
                    1) ||
        fa_get_name(r, o, "colour", sp->colour, sizeof(sp->colour), 1) ||
        fa_get_name(r, o, "color", sp->colour, sizeof(sp->colour), 1))
        return 400;
    sp->has_material = fa_given(o, "material");
    sp->has_colour = fa_given(o, "colour") || fa_given(o, "color");
    return 0;
}

/* Stores sp on printer id.  0, or the 404/500 sent. */
int fa_spool_store(struct req *r, long long id, const struct fa_spool *sp)
{
    int rc = store_printer_spool_set(r->w->st, id, sp->grams,
                                     sp->has_material ? sp->material : NULL,
                                     sp->has_colour ? sp->colour : NULL,
                                     rr_now());

    if (rc == STORE_NOTFOUND)
        return req_error(r, 404, "id", "no printer %lld", id);
    if (rc < 0)
        return req_error(r, 500, NULL, "store error");
    fa_wake(r);
    return 0;
}

/* GET, PUT or PATCH /printers/ID/spool (the caller checked the role). */
int fa_printer_spool(struct req *r, long long id)
{
    struct fleet_printer *p;
    struct fa_spool sp;
    json_t *b = NULL;
    int rc;

    if (req_is(r, "PUT") || req_is(r, "PATCH")) {
        if ((rc = fa_read_json(r, &b)) != 0)
            return rc;
        rc = fa_spool_parse(r, b, "", &sp);
        json_decref(b);
        if (rc || (rc = fa_spool_store(r, id, &sp)) != 0)
            return rc;
    } else if (!req_is(r, "GET")) {
        return req_error(r, 405, NULL, "use GET, PUT or PATCH");
    }
    if (!(p = malloc(sizeof(*p))))
        return req_error(r, 500, NULL, "out of memory");
    rc = store_printer_get(r->w->st, id, p);
    if (rc == STORE_NOTFOUND)
        rc = req_error(r, 404, "id", "no printer %lld", id);
    else if (rc < 0)
        rc = req_error(r, 500, NULL, "store error");
    else
        rc = req_send_json(r, 200, fleet_spool_json(p), NULL);
    free(p);
    return rc;
}

/* ---- sites -------------------------------------------------------------- */

static json_t *site_json(const struct store_site *s, double now)
{
    struct fleet_hours h;
    char err[8];
    int staffed = 1;
    json_t *o = json_object();

    if (!o)
        return NULL;
    if (s->staffed_hours[0] &&
        fleet_hours_parse(s->staffed_hours, &h, err, sizeof(err)) == 0)
        staffed = fleet_hours_staffed(&h, now);
    json_object_set_new(o, "name", json_string(s->name));
    json_object_set_new(o, "staffed_hours", s->staffed_hours[0]
                        ? json_string(s->staffed_hours) : json_null());
    json_object_set_new(o, "staffed_now", json_boolean(staffed));
    json_object_set_new(o, "printers", json_integer(s->printers));
    json_object_set_new(o, "updated", s->updated > 0 ? json_real(s->updated)
                                                     : json_null());
    return o;
}

struct sites_ctx {
    json_t *arr;
    double now;
    int failed;
};

static int site_row(void *arg, const struct store_site *s)
{
    struct sites_ctx *x = arg;
    json_t *o = site_json(s, x->now);

    if (!o || json_array_append_new(x->arr, o) < 0)
        x->failed = 1;
    return x->failed;
}

static int sites_list(struct req *r)
{
    struct sites_ctx x = { json_array(), rr_now(), 0 };
    json_t *o;

    if (!x.arr || store_site_list(r->w->st, site_row, &x) < 0 || x.failed) {
        json_decref(x.arr);
        return req_error(r, 500, NULL, "cannot list sites");
    }
    o = json_pack("{sIso}", "count", (json_int_t)json_array_size(x.arr),
                  "sites", x.arr);
    return req_send_json(r, 200, o, NULL);
}

/* GET answers 404 for a site nobody names; after a PUT (cleared is 1)
 * the site clearing its hours on no printer has no row left, and is
 * answered as it now is: always staffed, no printer. */
static int site_get(struct req *r, const char *name, int cleared)
{
    struct store_site s;
    int rc = store_site_get(r->w->st, name, &s);

    if (rc == STORE_NOTFOUND && cleared) {
        memset(&s, 0, sizeof(s));
        snprintf(s.name, sizeof(s.name), "%s", name);
        rc = 0;
    }
    if (rc == STORE_NOTFOUND)
        return req_error(r, 404, "name", "no site '%s' (no printer names "
                         "it and it has no staffed hours)", name);
    if (rc < 0)
        return req_error(r, 500, NULL, "store error");
    return req_send_json(r, 200, site_json(&s, rr_now()), NULL);
}

/* PUT or PATCH /sites/NAME {"staffed_hours": TEXT, "" or null}. */
static int site_put(struct req *r, const char *name)
{
    char text[FLEET_HOURS_MAX] = "", err[256];
    struct fleet_hours h;
    const char *key;
    json_t *b = NULL, *v;
    int rc;

    if ((rc = fa_read_json(r, &b)) != 0)
        return rc;
    json_object_foreach(b, key, v) {
        if (strcmp(key, "staffed_hours")) {
            rc = req_error(r, 400, key, "%.64s: unknown field (a site has "
                           "staffed_hours)", key);
            goto out;
        }
    }
    if (!json_object_get(b, "staffed_hours")) {
        rc = req_error(r, 400, "staffed_hours", "staffed_hours: required "
                       "(e.g. \"Mon-Fri 08:00-18:00, Sat 09:00-13:00\"; \"\" "
                       "or null: always staffed)");
        goto out;
    }
    if ((rc = fa_get_text(r, b, "staffed_hours", text, sizeof(text))) != 0)
        goto out;
    if (text[0] && fleet_hours_parse(text, &h, err, sizeof(err)) < 0) {
        rc = req_error(r, 400, "staffed_hours", "staffed_hours: %s (windows "
                       "\"DAYS HH:MM-HH:MM\" separated by commas, DAYS Mon.."
                       "Sun, Mon-Fri or daily; then optionally UTC or "
                       "UTC+HH:MM)", err);
        goto out;
    }
    if (store_site_set(r->w->st, name, text, rr_now()) < 0) {
        rc = req_error(r, 500, NULL, "store error");
        goto out;
    }
    fa_wake(r);
    rc = site_get(r, name, !text[0]);
out:
    json_decref(b);
    return rc;
}

int fa_sites(struct req *r, const struct auth_caller *c, const char *rest)
{
    char name[FLEET_NAME_MAX];
    int rc;

    if ((rc = auth_require(r, c, AUTH_PRINTERS)) != 0)
        return rc;
    if (!*rest || !strcmp(rest, "/")) {
        if (!req_is(r, "GET"))
            return req_error(r, 405, NULL, "use GET");
        return sites_list(r);
    }
    if (strchr(rest + 1, '/'))
        return req_error(r, 404, NULL, "no API resource under a site");
    if ((rc = fa_check_name(r, "name", rest + 1, name, sizeof(name), 0)))
        return rc;
    if (req_is(r, "GET"))
        return site_get(r, name, 0);
    if (req_is(r, "PUT") || req_is(r, "PATCH"))
        return site_put(r, name);
    return req_error(r, 405, NULL, "use GET, PUT or PATCH");
}
