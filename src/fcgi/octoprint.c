/*
 * octoprint.c - the OctoPrint upload API as slicers use it for "send to
 * printer host" (PrusaSlicer, SuperSlicer, OrcaSlicer, Cura's OctoPrint
 * plugin), answered the way Moonraker's emulation answers it
 * (reference/moonraker.md section 10).  An upload becomes a job of one
 * copy in the queue the API key names, with the key's material, colour,
 * profile and priority:
 *
 *   octoprint_key = KEY queue=farm material=pla profile=mk3s   (rrcloud.conf)
 *   or POST /api/v1/keys {"role":"octoprint","name":..,"queue":..}
 *
 * Auth is the X-Api-Key header (or Authorization: Bearer).
 */
#include "fcgi/fleet_api.h"

#include "common/util.h"
#include "fcgi/fleet_api_int.h"
#include "fcgi/worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OCTO_SERVER "1.5.0"

static int octo_auth(struct req *r, const struct fa_caller *c, int upload)
{
    if (c->who == FA_OCTOPRINT || (!upload && c->who == FA_ADMIN))
        return 0;
    if (c->who == FA_NOBODY)
        return req_error(r, 401, "X-Api-Key", c->presented
                         ? "invalid API key" : "missing X-Api-Key header");
    return req_error(r, 403, "X-Api-Key", "this key has no queue for "
                     "uploads (use an octoprint key)");
}

/* The job's display name: the path field (a folder the slicer chose) and
 * the file name. */
static void upload_name(const struct fa_upload *u, char *buf, size_t len)
{
    const char *path = fa_upload_field(u, "path");

    /* A name too long for buf is cut: it is only shown, never a path. */
    if (path && *path && fleet_text_valid(path, 128) && !strstr(path, "..") &&
        rr_fmt(buf, len, "%s/%s", path[0] == '/' ? path + 1 : path,
               u->files[0].filename) == 0)
        return;
    rr_fmt(buf, len, "%s", u->files[0].filename);
}

static int octo_upload(struct req *r, const struct fa_caller *c)
{
    struct fa_upload *u = calloc(1, sizeof(*u));
    struct fleet_job_spec spec;
    char name[FLEET_FILENAME_MAX], loc[FLEET_FILENAME_MAX + 64];
    char res[FLEET_FILENAME_MAX + 32];
    long long id;
    json_t *o;
    int rc;

    if (!u)
        return req_error(r, 500, NULL, "out of memory");
    u->octoprint = 1;
    if ((rc = fa_upload_receive(r, u)) != 0)
        goto out;
    /* The key decides where and how it prints. */
    snprintf(u->files[0].profile, sizeof(u->files[0].profile), "%s",
             c->key.profile);
    upload_name(u, name, sizeof(name));
    memset(&spec, 0, sizeof(spec));
    spec.queue = c->key.queue;
    spec.copies = 1;
    spec.priority = c->key.priority;
    spec.material = c->key.material;
    spec.colour = c->key.colour;
    spec.owner = c->key.name;
    spec.name = name;
    spec.files = u->files;
    spec.nfiles = 1;
    if ((rc = fa_job_create(r, &spec, &id)) != 0)
        goto out;
    snprintf(res, sizeof(res), "/api/files/local/%s", u->files[0].filename);
    snprintf(loc, sizeof(loc), "Location: %s\r\n", res);
    /* Moonraker's upload object, plus OctoPrint's own "files"/"done" for
     * clients that read those. */
    o = json_pack("{ss s{ss ss sI sf ss} sb sb sb s{s{ss ss s{ss}}} "
                  "s{sI ss}}",
                  "action", "create_file",
                  "item", "path", name, "root", "gcodes",
                  "size", (json_int_t)u->files[0].size, "modified", rr_now(),
                  "permissions", "rw",
                  "print_started", 0, "print_queued", 1, "done", 1,
                  "files", "local", "name", u->files[0].filename,
                  "origin", "local", "refs", "resource", res,
                  "job", "id", (json_int_t)id, "queue", spec.queue);
    rc = fa_send_json(r, 201, o, loc);
out:
    fa_upload_free(u);
    free(u);
    return rc;
}

int octoprint_handle(struct req *r, const char *path)
{
    struct fa_caller c;
    int rc;

    r->api = 1;
    r->format = FMT_JSON;
    fa_identify(r, &c);
    if (!strcmp(path, "/files/local") || !strcmp(path, "/files/local/")) {
        if (!req_is(r, "POST"))
            return req_error(r, 405, NULL, "use POST");
        if ((rc = octo_auth(r, &c, 1)) != 0)
            return rc;
        return octo_upload(r, &c);
    }
    if ((rc = octo_auth(r, &c, 0)) != 0)
        return rc;
    if (!strcmp(path, "/version"))
        return fa_send_json(r, 200, json_pack("{ssssss}", "api", "0.1",
                                              "server", OCTO_SERVER, "text",
                                              "OctoPrint (rrcloud)"), NULL);
    if (!strcmp(path, "/server"))
        return fa_send_json(r, 200, json_pack("{ssso}", "server", OCTO_SERVER,
                                              "safemode", json_null()), NULL);
    if (!strcmp(path, "/settings"))
        return fa_send_json(r, 200, json_pack("{s{sb}s{}}", "feature",
                                              "sdSupport", 0, "webcam"),
                            NULL);
    if (!strcmp(path, "/login") || !strcmp(path, "/currentuser"))
        return fa_send_json(r, 200, json_pack("{sss[s]}", "name",
                                              c.key.name[0] ? c.key.name
                                                            : "_api",
                                              "groups", "users"), NULL);
    if (!strcmp(path, "/printer") || !strcmp(path, "/job"))
        /* A fleet has no single printer: always ready to take a file. */
        return fa_send_json(r, 200, json_pack("{ss s{ss}}", "state",
                                              "Operational", "job", "file",
                                              "name"), NULL);
    return req_error(r, 404, NULL, "no OctoPrint resource %.100s", path);
}
