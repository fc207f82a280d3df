/* fleet_api_jobs.c - /api/v1/queues, /api/v1/jobs, /api/v1/events and
 * /api/v1/keys. */
#include "common/log.h"
#include "common/util.h"
#include "fcgi/fields.h"
#include "fcgi/fleet_api_int.h"
#include "fcgi/fleet_model.h"
#include "fcgi/worker.h"
#include "fleet/profile.h"
#include "http/url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- submitting ------------------------------------------------------------ */

/* While profiles are configured, a file is for one of them (or any). */
static int check_profiles(struct req *r, const struct fleet_job_spec *spec)
{
    char msg[640];

    for (size_t i = 0; i < spec->nfiles; i++)
        if (profile_check_name(r->w->app->profiles, spec->files[i].profile,
                               msg, sizeof(msg)) != 0)
            return req_error(r, 400, "profile", "profile: %s", msg);
    return 0;
}

int fa_job_create(struct req *r, const struct fleet_job_spec *spec,
                  long long *idp)
{
    char field[32], msg[512];
    const char *family;
    long long id, max_open, open;
    int rc;

    if (!spec->model && (rc = check_profiles(r, spec)) != 0)
        return rc;
    if (store_queue_get(r->w->st, spec->queue, &(struct fleet_queue){ 0 }) ==
        STORE_NOTFOUND)
        return req_error(r, 404, "queue", "queue: no queue '%.64s'",
                         spec->queue);
    if ((rc = auth_limits(r->w->st, r->caller, spec->queue, spec->copies,
                          spec->priority, field, sizeof(field), msg,
                          sizeof(msg))))
        return req_error(r, rc, field, "%s", msg);
    if ((rc = auth_aim(r->w->st, r->caller, spec->queue, spec->printer_id,
                       msg, sizeof(msg))))
        return req_error(r, rc, "printer", "%s", msg);
    for (size_t i = 0; i < spec->nfiles; i++) {
        if (store_blob_get(r->w->st, spec->files[i].sha256, NULL, NULL) ==
            STORE_NOTFOUND)
            return req_error(r, 404, "files", "files[%zu].sha256: no such "
                             "blob (upload the file instead)", i);
    }
    if (spec->model) {
        rc = fleet_model_check(r->w->app->profiles, r->w->app->services,
                               r->w->st, spec, field, sizeof(field), msg,
                               sizeof(msg));
        if (rc)
            return req_error(r, rc, field[0] ? field : NULL, "%s", msg);
    } else
        rc = store_job_feasible(r->w->st, spec, field, sizeof(field), msg,
                                sizeof(msg));
    if (rc == STORE_CONFLICT)
        return req_error(r, 422, field, "%s: no printer could ever take this "
                         "job: %s", field, msg);
    if (rc < 0)
        return req_error(r, 500, NULL, "store error");
    max_open = auth_max_open(r->caller, &family);
    rc = store_job_create_capped(r->w->st, spec, rr_now(), family, max_open,
                                 &open, &id);
    if (rc == STORE_CAPPED) {
        rc = auth_max_queued_refusal(open, field, sizeof(field), msg,
                                     sizeof(msg));
        return req_error(r, rc, field, "%s", msg);
    }
    if (rc == STORE_NOTFOUND)
        return req_error(r, 404, NULL, "the queue, printer or a file went "
                         "away meanwhile");
    if (rc != 0)
        return req_error(r, 500, NULL, "store error");
    log_info("job %lld: %d cop%s into queue %s from %s", id, spec->copies,
             spec->copies == 1 ? "y" : "ies", spec->queue, r->remote_addr);
    fa_wake(r);
    *idp = id;
    return 0;
}

int fa_job_submit(struct req *r, const struct fleet_job_spec *spec)
{
    long long id;
    int rc = fa_job_create(r, spec, &id);

    return rc ? rc : fa_send_job(r, id, 201);
}

/* Job fields from form values (multipart) into spec; strings into the
 * caller's buffers.  0 or the 400 sent. */
struct job_bufs {
    char material[FLEET_NAME_MAX], colour[FLEET_NAME_MAX];
    char name[FLEET_FILENAME_MAX], notifier[FLEET_URL_MAX * 4];
    struct fleet_model_req model;
};

static int form_fields(struct req *r, const struct fa_upload *u,
                       struct fleet_job_spec *spec, struct job_bufs *b)
{
    const struct rr_conf *conf = &r->w->app->conf;
    const char *v;
    long long n;
    int rc;

    if ((v = fa_upload_field(u, "copies")) &&
        (rc = fa_check_int(r, "copies", v, 1, conf->fleet_max_copies, &n)))
        return rc;
    spec->copies = v ? (int)n : 1;
    if ((v = fa_upload_field(u, "priority")) &&
        (rc = fa_check_int(r, "priority", v, FLEET_PRIORITY_MIN,
                           FLEET_PRIORITY_MAX, &n)))
        return rc;
    spec->priority = v ? (int)n : 0;
    if ((v = fa_upload_field(u, "printer")) && *v &&
        (rc = fa_check_int(r, "printer", v, 1, 1LL << 53,
                           &spec->printer_id)))
        return rc;
    if ((v = fa_upload_field(u, "material")) &&
        (rc = fa_check_name(r, "material", v, b->material,
                            sizeof(b->material), 1)))
        return rc;
    if (((v = fa_upload_field(u, "colour")) ||
         (v = fa_upload_field(u, "color"))) &&
        (rc = fa_check_name(r, "colour", v, b->colour, sizeof(b->colour), 1)))
        return rc;
    if ((v = fa_upload_field(u, "name"))) {
        if (!fleet_text_valid(v, sizeof(b->name)))
            return req_error(r, 400, "name", "name: at most %zu printable "
                             "bytes", sizeof(b->name) - 1);
        snprintf(b->name, sizeof(b->name), "%s", v);
    }
    if ((v = fa_upload_field(u, "notifier")) && *v) {
        if ((rc = fa_check_notifier(r, v)))
            return rc;
        snprintf(b->notifier, sizeof(b->notifier), "%s", v);
    }
    spec->material = b->material;
    spec->colour = b->colour;
    spec->name = b->name[0] ? b->name : NULL;
    spec->notifier = b->notifier[0] ? b->notifier : NULL;
    return 0;
}

/* A model job's profile and override.* fields (fleet_model.h). */
static int model_fields(struct req *r, const struct fa_upload *u,
                        struct fleet_job_spec *spec, struct job_bufs *b)
{
    const char *names[32], *values[32];
    char field[64] = "", msg[640];
    int rc;

    for (int i = 0; i < u->nfields; i++) {
        names[i] = u->fields[i][0];
        values[i] = u->fields[i][1];
    }
    if (!u->has_model) {
        rc = fleet_model_stray((size_t)u->nfields, names, field,
                               sizeof(field), msg, sizeof(msg));
        return rc ? req_error(r, rc, field, "%s", msg) : 0;
    }
    rc = fleet_model_fields(r->w->app->profiles, (size_t)u->nfields, names,
                            values, &b->model, field, sizeof(field), msg,
                            sizeof(msg));
    if (!rc)
        rc = fleet_model_material(r->w->app->profiles, b->model.profiles,
                                  b->material, sizeof(b->material), field,
                                  sizeof(field), msg, sizeof(msg));
    if (rc)
        return req_error(r, rc, field, "%s", msg);
    spec->material = b->material;
    spec->model = &u->model;
    spec->overrides = b->model.overrides;
    spec->slice_profiles = b->model.profiles;
    spec->render = fleet_model_source(u->model.filename);
    spec->defines = b->model.defines;
    return 0;
}

static int submit_multipart(struct req *r, const char *queue,
                            const char *owner)
{
    struct fa_upload *u = calloc(1, sizeof(*u));
    struct fleet_job_spec spec;
    struct job_bufs b;
    int rc;

    if (!u)
        return req_error(r, 500, NULL, "out of memory");
    memset(&spec, 0, sizeof(spec));
    memset(&b, 0, sizeof(b));
    if ((rc = fa_upload_receive(r, u)) == 0 &&
        (rc = form_fields(r, u, &spec, &b)) == 0 &&
        (rc = model_fields(r, u, &spec, &b)) == 0) {
        spec.queue = queue;
        spec.owner = owner;
        spec.files = u->files;
        spec.nfiles = u->nfiles;
        rc = fa_job_submit(r, &spec);
    }
    fa_upload_free(u);
    free(u);
    return rc;
}

/* JSON: {"files":[{"sha256":..,"profile":..,"filename":..}], copies, ...} */
int fa_json_files(struct req *r, json_t *o, struct fleet_job_file *files,
                  size_t *n)
{
    json_t *arr = json_object_get(o, "files"), *f;
    size_t i;
    int rc;

    if (!json_is_array(arr) || !json_array_size(arr) ||
        json_array_size(arr) > FA_MAX_FILES)
        return req_error(r, 400, "files", "files: an array of 1 to %d "
                         "{\"sha256\", \"profile\", \"filename\"}",
                         FA_MAX_FILES);
    json_array_foreach(arr, i, f) {
        struct fleet_job_file *jf = &files[i];
        json_t *sha = json_object_get(f, "sha256");

        memset(jf, 0, sizeof(*jf));
        if (!json_is_object(f) || !json_is_string(sha) ||
            !fleet_sha256_valid(json_string_value(sha)))
            return req_error(r, 400, "files", "files[%zu].sha256: 64 "
                             "lowercase hex digits", i);
        snprintf(jf->sha256, sizeof(jf->sha256), "%s",
                 json_string_value(sha));
        snprintf(jf->filename, sizeof(jf->filename), "%.16s.gcode",
                 jf->sha256);
        if ((rc = fa_get_name(r, f, "profile", jf->profile,
                              sizeof(jf->profile), 1)) ||
            (rc = fa_get_text(r, f, "filename", jf->filename,
                              sizeof(jf->filename))))
            return rc;
        for (size_t k = 0; k < i; k++) {
            if (!strcmp(files[k].profile, jf->profile))
                return req_error(r, 400, "files", "files[%zu].profile: "
                                 "'%s' given twice", i, jf->profile);
        }
    }
    *n = i;
    return 0;
}

static int submit_json(struct req *r, const char *queue, const char *owner)
{
    const struct rr_conf *conf = &r->w->app->conf;
    struct fleet_job_file files[FA_MAX_FILES];
    struct fleet_job_spec spec;
    struct job_bufs b;
    long long copies = 1, prio = 0;
    json_t *o = NULL;
    int rc;

    memset(&spec, 0, sizeof(spec));
    memset(&b, 0, sizeof(b));
    if ((rc = fa_read_json(r, &o)) != 0)
        return rc;
    if ((rc = fa_json_files(r, o, files, &spec.nfiles)) ||
        (rc = fa_get_int(r, o, "copies", 1, conf->fleet_max_copies,
                         &copies)) ||
        (rc = fa_get_int(r, o, "priority", FLEET_PRIORITY_MIN,
                         FLEET_PRIORITY_MAX, &prio)) ||
        (rc = fa_get_int(r, o, "printer", 1, 1LL << 53, &spec.printer_id)) ||
        (rc = fa_get_name(r, o, "material", b.material, sizeof(b.material),
                          1)) ||
        (rc = fa_get_name(r, o, "colour", b.colour, sizeof(b.colour), 1)) ||
        (rc = fa_get_name(r, o, "color", b.colour, sizeof(b.colour), 1)) ||
        (rc = fa_get_text(r, o, "name", b.name, sizeof(b.name))) ||
        (rc = fa_get_text(r, o, "notifier", b.notifier, sizeof(b.notifier))))
        goto out;
    if (b.notifier[0] && (rc = fa_check_notifier(r, b.notifier)))
        goto out;
    spec.queue = queue;
    spec.owner = owner;
    spec.copies = (int)copies;
    spec.priority = (int)prio;
    spec.material = b.material;
    spec.colour = b.colour;
    spec.name = b.name[0] ? b.name : NULL;
    spec.notifier = b.notifier[0] ? b.notifier : NULL;
    spec.files = files;
    rc = fa_job_submit(r, &spec);
out:
    json_decref(o);
    return rc;
}

/* ---- reading jobs ------------------------------------------------------------- */

struct job_detail {
    struct fleet_job_file files[FA_MAX_FILES];
    size_t nfiles;
    struct fleet_attempt *att;
    size_t natt, cap;
    int failed;
};

static int detail_file(void *arg, const struct fleet_job_file *f)
{
    struct job_detail *d = arg;

    if (d->nfiles < FA_MAX_FILES)
        d->files[d->nfiles++] = *f;
    return 0;
}


/* o (stolen) as a caller other than the job's owner sees it: an operator
 * sees where its notifier goes, not the secrets in that URL. */
static json_t *job_shown(const struct req *r, const struct fleet_job *j,
                         json_t *o)
{
    char url[FLEET_URL_MAX];

    if (o && j->notifier && strcmp(r->caller->owner, j->owner) != 0) {
        url_redact(j->notifier, url, sizeof(url));
        json_object_set_new(o, "notifier", json_string(url));
    }
    return o;
}
static int detail_attempt(void *arg, const struct fleet_attempt *a)
{
    struct job_detail *d = arg;

    if (d->natt >= d->cap) {
        size_t ncap = d->cap ? d->cap * 2 : 16;
        struct fleet_attempt *m = realloc(d->att, ncap * sizeof(*m));
        if (!m) {
            d->failed = 1;
            return 1;
        }
        d->att = m;
        d->cap = ncap;
    }
    d->att[d->natt++] = *a;
    return 0;
}

int fa_send_job(struct req *r, long long id, int status)
{
    struct job_detail *d = calloc(1, sizeof(*d));
    struct fleet_job j;
    int rc;

    if (!d)
        return req_error(r, 500, NULL, "out of memory");
    rc = store_job_get(r->w->st, id, &j);
    /* Another owner's job is not there for this caller: 404, not 403. */
    if (rc == 0 && r->caller && !auth_owns_job(r->caller, j.owner)) {
        fleet_job_clear(&j);
        rc = STORE_NOTFOUND;
    }
    if (rc == STORE_NOTFOUND) {
        free(d);
        return req_error(r, 404, "id", "no job %lld", id);
    }
    if (rc < 0 || store_job_files(r->w->st, id, detail_file, d) < 0 ||
        store_job_attempts(r->w->st, id, detail_attempt, d) < 0 ||
        d->failed) {
        rc = req_error(r, 500, NULL, "store error");
    } else {
        /* A non-NULL pointer even for none, so "attempts": [] shows. */
        static const struct fleet_attempt none;
        json_t *o = fleet_job_json(&j, d->files, d->nfiles,
                                   d->att ? d->att : &none, d->natt);

        if (o && fleet_model_json(r->w->st, id, o) < 0) {
            json_decref(o);
            rc = req_error(r, 500, NULL, "store error");
        } else
            rc = req_send_json(r, status, job_shown(r, &j, o), NULL);
    }
    fleet_job_clear(&j);
    free(d->att);
    free(d);
    return rc;
}

struct list_ctx {
    struct req *r;
    json_t *arr;
    int failed;
};

static int list_job(void *arg, const struct fleet_job *j)
{
    struct list_ctx *l = arg;
    json_t *o = job_shown(l->r, j, fleet_job_json(j, NULL, 0, NULL, 0));

    if (!o || json_array_append_new(l->arr, o) < 0)
        l->failed = 1;
    return l->failed;
}

static int list_jobs(struct req *r, const char *queue)
{
    const char *owner = auth_may(r->caller, AUTH_JOBS_ALL) ? NULL
                                                           : r->caller->owner;
    struct list_ctx l = { r, json_array(), 0 };
    struct fields q;
    const char *v;
    long long limit = 100, offset = 0;
    enum job_state js;
    int state = -1, rc;
    char err[256];
    json_t *o;

    fields_init(&q);
    if (fields_parse_query(&q, r->query, 16, 256, err, sizeof(err)) < 0) {
        rc = req_error(r, 400, NULL, "query: %s", err);
        goto out;
    }
    if ((v = fields_get(&q, "state")) != NULL) {
        if (job_state_parse(v, &js) < 0) {
            rc = req_error(r, 400, "state", "state: queued, printing, "
                           "complete, failed or cancelled");
            goto out;
        }
        state = (int)js;
    }
    if (((v = fields_get(&q, "limit")) &&
         (rc = fa_check_int(r, "limit", v, 1, 10000, &limit))) ||
        ((v = fields_get(&q, "offset")) &&
         (rc = fa_check_int(r, "offset", v, 0, 1LL << 40, &offset))))
        goto out;
    if (!l.arr || store_job_list_owner(r->w->st, queue, owner, state,
                                       (int)limit, (int)offset, list_job,
                                       &l) < 0 || l.failed) {
        rc = req_error(r, 500, NULL, "cannot list jobs");
        goto out;
    }
    o = json_object();
    if (o) {
        json_object_set_new(o, "count",
                            json_integer((json_int_t)json_array_size(l.arr)));
        json_object_set(o, "jobs", l.arr);
    }
    rc = req_send_json(r, 200, o, NULL);
out:
    json_decref(l.arr);
    fields_free(&q);
    return rc;
}

/* ---- queues ------------------------------------------------------------------ */

static int list_queue(void *arg, const struct fleet_queue *q)
{
    struct list_ctx *l = arg;
    json_t *o = fleet_queue_json(q);

    if (!o || json_array_append_new(l->arr, o) < 0)
        l->failed = 1;
    return l->failed;
}

static int queue_add(struct req *r)
{
    char name[FLEET_NAME_MAX];
    struct fleet_queue q;
    int rc;

    if ((rc = fa_read_name(r, name, sizeof(name))) != 0)
        return rc;
    rc = store_queue_add(r->w->st, name, rr_now());
    if (rc == STORE_CONFLICT)
        return req_error(r, 409, "name", "name: queue '%s' exists", name);
    if (rc || store_queue_get(r->w->st, name, &q) != 0)
        return req_error(r, 500, NULL, "store error");
    return req_send_json(r, 201, fleet_queue_json(&q), NULL);
}

int fa_queues(struct req *r, const struct auth_caller *c, const char *rest)
{
    char name[FLEET_NAME_MAX];
    struct list_ctx l = { r, NULL, 0 };
    struct fleet_queue q;
    const char *slash;
    size_t len;
    int rc;

    /* Whoever may print sees the queues and submits into them (POST
     * /queues/NAME/jobs); operators make and delete them. */
    if ((rc = auth_require(r, c, req_is(r, "GET") ||
                           (req_is(r, "POST") && rest[0] == '/' &&
                            rest[1]) ? AUTH_PRINT : AUTH_QUEUES)) != 0)
        return rc;
    if (!*rest || !strcmp(rest, "/")) {
        if (req_is(r, "POST"))
            return queue_add(r);
        if (!req_is(r, "GET"))
            return req_error(r, 405, NULL, "use GET or POST");
        l.arr = json_array();
        if (!l.arr || store_queue_list(r->w->st, list_queue, &l) < 0 ||
            l.failed) {
            json_decref(l.arr);
            return req_error(r, 500, NULL, "cannot list queues");
        }
        return req_send_json(r, 200, json_pack("{so}", "queues", l.arr), NULL);
    }
    rest++;
    slash = strchr(rest, '/');
    len = slash ? (size_t)(slash - rest) : strlen(rest);
    if (len >= sizeof(name))
        return req_error(r, 404, "queue", "no such queue");
    memcpy(name, rest, len);
    name[len] = '\0';
    if (!fleet_name_valid(name) || (rc = store_queue_get(r->w->st, name, &q))
        == STORE_NOTFOUND)
        return req_error(r, 404, "queue", "queue: no queue '%.64s'", name);
    if (rc < 0)
        return req_error(r, 500, NULL, "store error");
    if (!slash) {
        if (req_is(r, "GET"))
            return req_send_json(r, 200, fleet_queue_json(&q), NULL);
        if (!req_is(r, "DELETE"))
            return req_error(r, 405, NULL, "use GET or DELETE");
        rc = store_queue_remove(r->w->st, name);
        if (rc == STORE_CONFLICT)
            return req_error(r, 409, "queue", "queue %s still has active "
                             "jobs or printers", name);
        if (rc)
            return req_error(r, 500, NULL, "store error");
        buf_reset(&r->out);
        req_send(r, 204, "application/json", NULL);
        return 204;
    }
    if (strcmp(slash, "/jobs") != 0)
        return req_error(r, 404, NULL, "no such resource");
    if (req_is(r, "GET"))
        return list_jobs(r, name);
    if (!req_is(r, "POST"))
        return req_error(r, 405, NULL, "use GET or POST");
    if (rr_prefix_ci(r->content_type, "multipart/form-data"))
        return submit_multipart(r, name, c->owner);
    return submit_json(r, name, c->owner);
}

/* ---- jobs --------------------------------------------------------------------- */

/* 0 if the caller may act on job id, else answers 404 (also for another
 * owner's job: ids do not leak) or 500 and returns that. */
static int job_visible(struct req *r, long long id)
{
    struct fleet_job j;
    int rc = store_job_get(r->w->st, id, &j);

    if (rc == 0) {
        if (!auth_owns_job(r->caller, j.owner))
            rc = STORE_NOTFOUND;
        fleet_job_clear(&j);
    }
    if (rc == STORE_NOTFOUND)
        return req_error(r, 404, "id", "no job %lld", id);
    return rc ? req_error(r, 500, NULL, "store error") : 0;
}

static int job_move(struct req *r, long long id)
{
    long long pos = 0, prio = 0;
    json_t *o = NULL;
    int rc, has_pos, has_prio;

    if ((rc = fa_read_json(r, &o)) != 0)
        return rc;
    has_pos = json_object_get(o, "position") != NULL;
    has_prio = json_object_get(o, "priority") != NULL;
    if ((rc = fa_get_int(r, o, "position", 0, 1000000000, &pos)) ||
        (rc = fa_get_int(r, o, "priority", FLEET_PRIORITY_MIN,
                         FLEET_PRIORITY_MAX, &prio))) {
        json_decref(o);
        return rc;
    }
    json_decref(o);
    if (!has_pos && !has_prio)
        return req_error(r, 400, "position", "give position (0 = first) "
                         "and/or priority");
    rc = store_job_move(r->w->st, id, has_pos, (int)pos, has_prio, (int)prio);
    if (rc == STORE_NOTFOUND)
        return req_error(r, 404, "id", "no job %lld", id);
    if (rc == STORE_CONFLICT)
        return req_error(r, 409, NULL, "job %lld has ended", id);
    if (rc)
        return req_error(r, 500, NULL, "store error");
    fa_wake(r);
    return fa_send_job(r, id, 200);
}

static int job_cancel(struct req *r, long long id)
{
    char reason[FLEET_REASON_MAX] = "";
    json_t *o = NULL;
    int rc;

    if ((rc = fa_read_json(r, &o)) != 0)
        return rc;
    rc = fa_get_text(r, o, "reason", reason, sizeof(reason));
    json_decref(o);
    if (rc)
        return rc;
    rc = store_job_cancel(r->w->st, id, reason[0] ? reason : "cancelled by "
                          "operator", rr_now(), NULL);
    if (rc == STORE_NOTFOUND)
        return req_error(r, 404, "id", "no job %lld", id);
    if (rc == STORE_CONFLICT)
        return req_error(r, 409, NULL, "job %lld has ended already", id);
    if (rc)
        return req_error(r, 500, NULL, "store error");
    fa_wake(r);
    return fa_send_job(r, id, 200);
}

int fa_jobs(struct req *r, const struct auth_caller *c, const char *rest)
{
    const char *slash;
    long long id;
    int rc;

    if ((rc = auth_require(r, c, AUTH_PRINT)) != 0)
        return rc;
    if (!*rest || !strcmp(rest, "/"))
        return req_is(r, "GET") ? list_jobs(r, NULL)
                            : req_error(r, 405, NULL, "use GET");
    rest++;
    slash = strchr(rest, '/');
    id = fa_id(rest, slash ? (size_t)(slash - rest) : strlen(rest));
    if (!id)
        return req_error(r, 404, "id", "no job '%.32s'", rest);
    if (!slash)
        return req_is(r, "GET") ? fa_send_job(r, id, 200)
                            : req_error(r, 405, NULL, "use GET");
    if (!req_is(r, "POST"))
        return req_error(r, 405, NULL, "use POST");
    if ((rc = job_visible(r, id)) != 0)
        return rc;
    if (!strcmp(slash, "/cancel"))
        return job_cancel(r, id);
    /* Reordering is the operators': a user's priority has its limit. */
    if (!strcmp(slash, "/move"))
        return (rc = auth_require(r, c, AUTH_JOBS_ALL)) ? rc
                                                        : job_move(r, id);
    return req_error(r, 404, NULL, "no such resource");
}

/* ---- events ------------------------------------------------------------------- */

struct ev_ctx {
    json_t *arr;
    long long last;
    int failed;
};

static int ev_one(void *arg, const struct fleet_event *e)
{
    struct ev_ctx *x = arg;
    json_t *o = fleet_event_json(e);

    if (!o || json_array_append_new(x->arr, o) < 0)
        x->failed = 1;
    x->last = e->id;
    return x->failed;
}

int fa_events(struct req *r, const struct auth_caller *c)
{
    struct ev_ctx x = { NULL, 0, 0 };
    struct fields q;
    const char *v;
    long long since = 0, limit = 100;
    char err[256];
    int rc;

    if ((rc = auth_require(r, c, AUTH_EVENTS)) != 0)
        return rc;
    fields_init(&q);
    if (fields_parse_query(&q, r->query, 8, 64, err, sizeof(err)) < 0)
        rc = req_error(r, 400, NULL, "query: %s", err);
    else if ((v = fields_get(&q, "since")))
        rc = fa_check_int(r, "since", v, 0, 1LL << 62, &since);
    if (!rc && (v = fields_get(&q, "limit")))
        rc = fa_check_int(r, "limit", v, 1, 1000, &limit);
    fields_free(&q);
    if (rc)
        return rc;
    x.arr = json_array();
    x.last = since;
    if (!x.arr || store_event_list(r->w->st, since, (int)limit, ev_one, &x) < 0
        || x.failed) {
        json_decref(x.arr);
        return req_error(r, 500, NULL, "cannot list events");
    }
    return req_send_json(r, 200, json_pack("{sosI}", "events", x.arr, "last",
                                           (json_int_t)x.last), NULL);
}
