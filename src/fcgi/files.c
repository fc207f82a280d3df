/*
 * files.c - /tasks/out/NAME and /tasks/log/ID.
 *
 * The lookup happens here (the task must exist, and for results be
 * complete) so that a guessed or purged name gets a clear 404; the bytes
 * are sent by the web server itself (X-Accel-Redirect / X-Sendfile).
 */
#include "fcgi/files.h"

#include "common/util.h"
#include "fcgi/auth.h"
#include "fcgi/relay.h"
#include "fcgi/worker.h"
#include "spool/spool.h"
#include "store/store.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const struct {
    const char *ext;
    const char *ctype;
} ctypes[] = {
    { ".stl", "model/stl" },
    { ".gcode", "text/x.gcode; charset=utf-8" },
    { ".gco", "text/x.gcode; charset=utf-8" },
    { ".3mf", "model/3mf" },
    { ".png", "image/png" },
    { ".svg", "image/svg+xml" },
    { ".json", "application/json" },
    { ".txt", "text/plain; charset=utf-8" },
};

static const char *ctype_for(const char *name)
{
    const char *dot = strrchr(name, '.');

    for (size_t i = 0; dot && i < sizeof(ctypes) / sizeof(ctypes[0]); i++) {
        if (strcmp(dot, ctypes[i].ext) == 0)
            return ctypes[i].ctype;
    }
    return "application/octet-stream";
}

/* The task, if the caller may download its files: an anonymous task's
 * files are plain links for whoever has the (unguessable) id, as
 * RepRapCloud clients expect; a keyed task's need its owner's key. */
static int files_task_get(struct req *r, const char *id, struct task *t)
{
    int rc = store_task_get(r->w->st, id, t);

    if (rc == 0 && t->owner[0] && r->caller &&
        !auth_owns_task(r->caller, t, 0)) {
        task_clear(t);
        rc = STORE_NOTFOUND;
    }
    return rc;
}

int files_out(struct req *r, const char *name)
{
    char id[64], rel[256];
    size_t idlen = strcspn(name, ".");
    struct task t;
    int rc;

    /* Output names are "<id>" or "<id>.<ext>" (fileOut = $id.ext); a name
     * that cannot be one is a malformed request, as in service=info, and
     * one with an id of RepRapCloud's shape but not ours names nothing. */
    if (idlen >= sizeof(id) || strlen(name) > 100)
        return req_error(r, 400, "id", "'%.40s' is not a result name "
                         "(expected ID or ID.ext)", name);
    memcpy(id, name, idlen);
    id[idlen] = '\0';
    if (!rr_id_shaped(id))
        return req_error(r, 400, "id", "'%.40s' is not a result name "
                         "(expected ID or ID.ext)", name);
    if (!rr_id_valid(id))
        return req_error(r, 404, NULL, "no result %s", name);
    rc = files_task_get(r, id, &t);
    if (rc < 0)
        return req_error(r, 500, NULL, "store error");
    if (rc == STORE_NOTFOUND || strcmp(t.out_name, name) != 0) {
        task_clear(&t);
        return req_error(r, 404, NULL, "no result %s", name);
    }
    if (t.status != TASK_COMPLETE) {
        rc = req_error(r, t.status < TASK_COMPLETE ? 409 : 404, NULL,
                       "task %s is %s: no result", id,
                       task_status_name(t.status));
        task_clear(&t);
        return rc;
    }
    task_clear(&t);
    rr_fmt(rel, sizeof(rel), "tasks/%s/%s", id, name);
    return req_send_file(r, rel, ctype_for(name), name);
}

int files_log(struct req *r, const char *id)
{
    char rel[128], path[4096];
    struct task t;
    struct stat st;
    int rc;

    if ((rc = relay_check_id(r, id)) != 0)
        return rc;
    rc = files_task_get(r, id, &t);
    task_clear(&t);
    if (rc < 0)
        return req_error(r, 500, NULL, "store error");
    if (rc == STORE_NOTFOUND)
        return req_error(r, 404, NULL, "no task %s", id);
    /* A queued task has no log yet: answer empty rather than 404. */
    if (spool_task_file(r->w->app->conf.spool_dir, id, SPOOL_LOG_NAME, path,
                        sizeof(path)) < 0 || stat(path, &st) < 0) {
        buf_reset(&r->out);
        req_send(r, 200, "text/plain; charset=utf-8", NULL);
        return 200;
    }
    rr_fmt(rel, sizeof(rel), "tasks/%s/%s", id, SPOOL_LOG_NAME);
    return req_send_file(r, rel, "text/plain; charset=utf-8", NULL);
}
