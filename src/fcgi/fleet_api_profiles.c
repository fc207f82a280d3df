/*
 * fleet_api_profiles.c - GET /api/v1/profiles and /api/v1/profiles/NAME:
 * the printer profiles rrcloud-fcgi loaded at start (fleet/profile.h).
 * Read-only: they are configuration, changed by editing profiles/ and
 * restarting.
 */
#include "fcgi/fleet_api_int.h"

#include <string.h>

#include "fcgi/worker.h"
#include "fleet/profile.h"

static int list_profiles(struct req *r, const struct profile_registry *reg)
{
    json_t *arr = json_array();

    if (!arr)
        return req_error(r, 500, NULL, "out of memory");
    for (size_t i = 0; i < profile_count(reg); i++)
        if (json_array_append_new(arr, profile_json(profile_at(reg, i)))) {
            json_decref(arr);
            return req_error(r, 500, NULL, "out of memory");
        }
    return req_send_json(r, 200, json_pack("{so}", "profiles", arr), NULL);
}

int fa_profiles(struct req *r, const struct auth_caller *c, const char *rest)
{
    const struct profile_registry *reg = r->w->app->profiles;
    const struct profile *p;
    int rc;

    if ((rc = auth_require(r, c, AUTH_PROFILES)) != 0)
        return rc;
    if (!req_is(r, "GET"))
        return req_error(r, 405, NULL, "use GET (profiles are "
                         "configuration: edit profiles_dir and restart)");
    if (!*rest || !strcmp(rest, "/"))
        return list_profiles(r, reg);
    if ((p = profile_find(reg, rest + 1)) == NULL)
        return req_error(r, 404, "profile", "profile: no printer profile "
                         "'%.64s'", rest + 1);
    return req_send_json(r, 200, profile_json(p), NULL);
}
