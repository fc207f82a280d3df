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
 *
 * /api/job and /api/printer show the key's current job (store_job_current:
 * its newest job being printed, else its newest) and the printer printing
 * it, from that printer's last status: OctoPrint's file name, completion
 * (percent), print time and time left; tool0 and bed temperatures.  With
 * nothing printing the fleet is "Operational", ready to take a file.
 */
#include "fcgi/fleet_api.h"

#include "common/util.h"
#include "fcgi/fleet_api_int.h"
#include "fcgi/worker.h"
#include "store/store_fleet_status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OCTO_SERVER "1.5.0"

static int octo_auth(struct req *r, const struct auth_caller *c, int upload)
{
    /* An operator or admin key may look (version, job), not upload: it
     * has no queue of its own. */
    if (!upload && auth_may(c, AUTH_JOBS_ALL))
        return 0;
    return auth_require(r, c, AUTH_UPLOAD);
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

static int octo_upload(struct req *r, const struct auth_caller *c)
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
    spec.owner = c->owner;
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
    rc = req_send_json(r, 201, o, loc);
out:
    fa_upload_free(u);
    free(u);
    return rc;
}

/* What a caller's current job shows: the job (id 0: none) and the
 * printer printing it (id 0: none). */
struct octo_now {
    struct fleet_job job;
    struct fleet_printer pr;
};

/* 0, or the 500 sent. */
static int octo_now_load(struct req *r, const struct auth_caller *c,
                         struct octo_now *n)
{
    long long job = 0, printer = 0;
    int rc;

    fleet_job_init(&n->job);
    fleet_printer_init(&n->pr);
    rc = store_job_current(r->w->st, auth_may(c, AUTH_JOBS_ALL) ? NULL
                                                             : c->owner,
                           &job, &printer);
    if (rc == 0)
        rc = store_job_get(r->w->st, job, &n->job);
    if (rc == 0 && printer)
        rc = store_printer_get(r->w->st, printer, &n->pr);
    if (rc < 0)
        return req_error(r, 500, NULL, "store error");
    if (!fleet_live_shown(&n->pr) || !fleet_live_printing(&n->pr.live))
        n->pr.id = 0;           /* not printing it now (as far as seen) */
    return 0;
}

static const char *octo_state(const struct octo_now *n)
{
    if (!n->pr.id)
        return "Operational";
    return strcmp(n->pr.live.print_state, "paused") ? "Printing" : "Paused";
}

static json_t *jnum_or_null(int shown, double v)
{
    return shown ? json_real(v) : json_null();
}

static json_t *octo_job(const struct octo_now *n)
{
    const struct fleet_printer_live *l = &n->pr.live;
    int on = n->pr.id != 0;
    double left = on ? fleet_eta(l->progress, l->print_duration) : -1;

    return json_pack("{s{s{sosssoso}soso s{so}so} s{sosososo so} ss}",
        "job", "file", "name", n->job.id ? json_string(n->job.name)
                                         : json_null(),
        "origin", "local", "size", json_null(), "date",
        n->job.id ? json_integer((json_int_t)n->job.created) : json_null(),
        "estimatedPrintTime", jnum_or_null(on && left >= 0, (double)(long long)
                                           (l->print_duration + left + 0.5)),
        "lastPrintTime", json_null(), "filament", "length", json_null(),
        "user", n->job.id ? json_string(n->job.owner) : json_null(),
        "progress", "completion", jnum_or_null(on, l->progress * 100),
        "filepos", json_null(),
        "printTime", jnum_or_null(on, l->print_duration),
        "printTimeLeft", jnum_or_null(on && left >= 0,
                                      (double)(long long)(left + 0.5)),
        "printTimeLeftOrigin", on && left >= 0 ? json_string("estimate")
                                               : json_null(),
        "state", octo_state(n));
}

static json_t *octo_heater(double actual, double target)
{
    return json_pack("{sfsfsi}", "actual", actual, "target", target,
                     "offset", 0);
}

static json_t *octo_printer(const struct octo_now *n)
{
    const struct fleet_printer_live *l = &n->pr.live;
    int on = n->pr.id != 0, paused = on && !strcmp(l->print_state, "paused");
    json_t *temp = on ? json_pack("{soso}", "tool0",
                                  octo_heater(l->ext_temp, l->ext_target),
                                  "bed", octo_heater(l->bed_temp,
                                                     l->bed_target))
                      : json_object();

    return json_pack("{so s{ss s{sbsbsbsbsbsbsbsbsb}}}", "temperature", temp,
        "state", "text", octo_state(n), "flags", "operational", 1,
        "paused", paused, "printing", on && !paused, "cancelling", 0,
        "pausing", 0, "error", 0, "ready", !on, "closedOrError", 0,
        "sdReady", 1);
}

static int octo_status(struct req *r, const struct auth_caller *c, int job)
{
    struct octo_now *n = malloc(sizeof(*n));
    int rc;

    if (!n)
        return req_error(r, 500, NULL, "out of memory");
    if ((rc = octo_now_load(r, c, n)) == 0)
        rc = req_send_json(r, 200, job ? octo_job(n) : octo_printer(n), NULL);
    fleet_job_clear(&n->job);
    free(n);
    return rc;
}

int octoprint_handle(struct req *r, const char *path)
{
    const struct auth_caller *c = r->caller;
    int rc;

    r->api = 1;
    r->format = FMT_JSON;
    if (!strcmp(path, "/files/local") || !strcmp(path, "/files/local/")) {
        if (!req_is(r, "POST"))
            return req_error(r, 405, NULL, "use POST");
        if ((rc = octo_auth(r, c, 1)) != 0)
            return rc;
        return octo_upload(r, c);
    }
    if ((rc = octo_auth(r, c, 0)) != 0)
        return rc;
    if (!strcmp(path, "/version"))
        return req_send_json(r, 200, json_pack("{ssssss}", "api", "0.1",
                                               "server", OCTO_SERVER, "text",
                                               "OctoPrint (rrcloud)"), NULL);
    if (!strcmp(path, "/server"))
        return req_send_json(r, 200, json_pack("{ssso}", "server", OCTO_SERVER,
                                               "safemode", json_null()), NULL);
    if (!strcmp(path, "/settings"))
        return req_send_json(r, 200, json_pack("{s{sb}s{}}", "feature",
                                               "sdSupport", 0, "webcam"),
                             NULL);
    if (!strcmp(path, "/login") || !strcmp(path, "/currentuser"))
        return req_send_json(r, 200, json_pack("{sss[s]}", "name",
                                               c->key.name[0] ? c->key.name
                                                             : "_api",
                                               "groups", "users"), NULL);
    if (!strcmp(path, "/printer") || !strcmp(path, "/job"))
        return req_is(r, "GET") ? octo_status(r, c, path[1] == 'j')
                                : req_error(r, 405, NULL, "use GET");
    return req_error(r, 404, NULL, "no OctoPrint resource %.100s", path);
}
