/* fleet_print.c - see fleet_print.h. */
#include "fcgi/fleet_print.h"

#include "common/log.h"
#include "common/util.h"
#include "common/wake.h"
#include "fcgi/auth.h"
#include "fcgi/fleet_model.h"
#include "fcgi/worker.h"
#include "fleet/blob.h"
#include "fleet/profile.h"
#include "fleet/slicing.h"
#include "services/service.h"
#include "spool/spool.h"
#include "store/store_fleet.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The job a print task asks for, from its fields (strings point into
 * s->fields or bufs). */
struct print_req {
    struct fleet_job_spec spec;
    struct fleet_job_file file;
    char queue[FLEET_NAME_MAX], material[FLEET_NAME_MAX];
    char colour[FLEET_NAME_MAX];
    struct fleet_model_req model;       /* a model job's (fleet_model.h) */
};

/* 1 if fileIn0 is a model to slice rather than G-code. */
static int is_model(struct submit *s)
{
    const struct upload *u = submit_upload_find(s, 0);
    char ext[16];

    return u && service_input_ext(u->name, ext, sizeof(ext)) == 0 &&
           slicing_job_ext(ext);
}

/* A model job's profile and override.* fields into p. */
/* A G-code print takes no model fields (override.*, define.*).  0 or -1
 * (error recorded). */
static int gcode_fields(struct submit *s)
{
    const char **names = calloc((size_t)s->fields.n + 1, sizeof(*names));
    char field[64] = "", msg[256];
    int rc;

    if (!names)
        return submit_fail(s, 500, NULL, "out of memory");
    for (int i = 0; i < s->fields.n; i++)
        names[i] = s->fields.v[i].name;
    rc = fleet_model_stray((size_t)s->fields.n, names, field, sizeof(field),
                           msg, sizeof(msg));
    free(names);
    return rc ? submit_fail(s, rc, field, "%s", msg) : 0;
}

static int model_parse(struct submit *s, struct print_req *p)
{
    const char **names = calloc((size_t)s->fields.n + 1, sizeof(*names));
    const char **values = calloc((size_t)s->fields.n + 1, sizeof(*values));
    char field[64] = "", msg[640];
    int rc = -1;

    if (!names || !values) {
        submit_fail(s, 500, NULL, "out of memory");
        goto out;
    }
    for (int i = 0; i < s->fields.n; i++) {
        names[i] = s->fields.v[i].name;
        values[i] = s->fields.v[i].value;
    }
    if (fleet_model_fields(s->r->w->app->profiles, (size_t)s->fields.n,
                           names, values, &p->model, field, sizeof(field),
                           msg, sizeof(msg)) != 0) {
        submit_fail(s, 400, field, "%s", msg);
        goto out;
    }
    if (fleet_model_material(s->r->w->app->profiles, p->model.profiles,
                             p->material, sizeof(p->material), field,
                             sizeof(field), msg, sizeof(msg)) != 0) {
        submit_fail(s, 400, field, "%s", msg);
        goto out;
    }
    p->file.profile[0] = '\0';
    p->spec.model = &p->file;
    p->spec.files = NULL;
    p->spec.nfiles = 0;
    p->spec.overrides = p->model.overrides;
    p->spec.slice_profiles = p->model.profiles;
    p->spec.render = fleet_model_source(submit_upload_find(s, 0)->name);
    p->spec.defines = p->model.defines;
    rc = 0;
out:
    free(names);
    free(values);
    return rc;
}

/* The field called prefix+name ("queue", or "then2.queue" for a
 * pipeline's print stage), its full name left in full. */
static const char *pfield(struct submit *s, const char *prefix,
                          const char *name, char *full, size_t len)
{
    snprintf(full, len, "%s%s", prefix, name);
    return fields_get(&s->fields, full);
}

static int name_field(struct submit *s, const char *prefix,
                      const char *name, char *dst, size_t len)
{
    char field[64];
    const char *v = pfield(s, prefix, name, field, sizeof(field));

    if (!v)
        return 0;
    if (*v && !fleet_name_valid(v))
        return submit_fail(s, 400, field, "1..%d characters of A-Z a-z 0-9 "
                           ". _ # + -", FLEET_NAME_MAX - 1);
    snprintf(dst, len, "%s", v);
    return 0;
}

static int int_field(struct submit *s, const char *prefix, const char *name,
                     long long min, long long max, long long *dst)
{
    char field[64];
    const char *v = pfield(s, prefix, name, field, sizeof(field));
    char *end;
    long long n;

    if (!v)
        return 0;
    n = strtoll(v, &end, 10);
    if (!*v || *end || n < min || n > max)
        return submit_fail(s, 400, field, "must be an integer from %lld to "
                           "%lld", min, max);
    *dst = n;
    return 0;
}

/* Reads and checks the fields (each prefix+name) into p.  0 or -1
 * (recorded). */
static int parse(struct submit *s, const char *prefix, struct print_req *p)
{
    const struct rr_conf *conf = s->conf;
    long long copies = 1, prio = 0, printer = 0;
    char field[64];

    memset(p, 0, sizeof(*p));
    snprintf(p->queue, sizeof(p->queue), "default");
    if (name_field(s, prefix, "queue", p->queue, sizeof(p->queue)) < 0 ||
        name_field(s, prefix, "material", p->material,
                   sizeof(p->material)) < 0 ||
        name_field(s, prefix, "color", p->colour, sizeof(p->colour)) < 0 ||
        name_field(s, prefix, "colour", p->colour, sizeof(p->colour)) < 0 ||
        name_field(s, prefix, "profile", p->file.profile,
                   sizeof(p->file.profile)) < 0 ||
        int_field(s, prefix, "copies", 1, conf->fleet_max_copies,
                  &copies) < 0 ||
        int_field(s, prefix, "priority", FLEET_PRIORITY_MIN,
                  FLEET_PRIORITY_MAX, &prio) < 0 ||
        int_field(s, prefix, "printer", 1, 1LL << 53, &printer) < 0)
        return -1;
    snprintf(field, sizeof(field), "%squeue", prefix);
    if (!p->queue[0])
        return submit_fail(s, 400, field, "must not be empty");
    fleet_lower(p->material);
    fleet_lower(p->colour);
    fleet_lower(p->file.profile);
    p->spec.queue = p->queue;
    p->spec.printer_id = printer;
    p->spec.copies = (int)copies;
    p->spec.priority = (int)prio;
    p->spec.material = p->material;
    p->spec.colour = p->colour;
    p->spec.files = &p->file;
    p->spec.nfiles = 1;
    /* (a pipeline's print stage takes G-code: its chain says so) */
    if (*prefix)
        return 0;
    return is_model(s) ? model_parse(s, p) : gcode_fields(s);
}

/* auth_limits and the store's checks name a bare field ("copies",
 * "queue"): a pipeline's print stage names it as its own (prefix
 * "then2."), as every other field of the stage is named. */
static void prefixed(char *field, size_t len, const char *prefix)
{
    char bare[64];

    if (!*prefix || !*field)
        return;
    snprintf(bare, sizeof(bare), "%s", field);
    snprintf(field, len, "%s%s", prefix, bare);
}

/* Everything a print's job fields (prefix+name) must pass, into p. */
static int check_job(struct submit *s, const char *prefix,
                     struct print_req *p)
{
    struct store *st = s->r->w->st;
    struct fleet_queue q;
    char field[64], msg[512];
    int rc;

    /* Print jobs always need a key that may print, from anywhere. */
    if ((rc = auth_refusal(s->r->caller, AUTH_PRINT, msg, sizeof(msg))))
        return submit_fail(s, rc, "Authorization", "%s", msg);
    if (parse(s, prefix, p) < 0)
        return -1;
    snprintf(field, sizeof(field), "%sprofile", prefix);
    if (!p->spec.model &&
        profile_check_name(s->r->w->app->profiles, p->file.profile, msg,
                           sizeof(msg)) != 0)
        return submit_fail(s, 400, field, "%s", msg);
    if ((rc = auth_limits(st, s->r->caller, p->queue, p->spec.copies,
                          p->spec.priority, field, sizeof(field), msg,
                          sizeof(msg)))) {
        prefixed(field, sizeof(field), prefix);
        return submit_fail(s, rc, field, "%s", msg);
    }
    rc = store_queue_get(st, p->queue, &q);
    snprintf(field, sizeof(field), "%squeue", prefix);
    if (rc == STORE_NOTFOUND)
        return submit_fail(s, 404, field, "no queue '%s'", p->queue);
    if (rc < 0)
        return submit_fail(s, 500, NULL, "store error");
    snprintf(field, sizeof(field), "%sprinter", prefix);
    if ((rc = auth_aim(st, s->r->caller, p->queue, p->spec.printer_id, msg,
                       sizeof(msg))))
        return submit_fail(s, rc, field, "%s", msg);
    if (p->spec.model) {
        char mmsg[640];

        rc = fleet_model_check(s->r->w->app->profiles,
                               s->r->w->app->services, st, &p->spec, field,
                               sizeof(field), mmsg, sizeof(mmsg));
        if (rc)
            return submit_fail(s, rc, field[0] ? field : NULL, "%s", mmsg);
    } else {
        rc = store_job_feasible(st, &p->spec, field, sizeof(field), msg,
                                sizeof(msg));
        prefixed(field, sizeof(field), prefix);
    }
    if (rc == STORE_CONFLICT)
        return submit_fail(s, 422, field, "no printer could ever take this "
                           "job: %s", msg);
    if (rc < 0)
        return submit_fail(s, 500, NULL, "store error");
    return 0;
}

int fleet_print_prepare(struct submit *s)
{
    struct print_req p;

    if (s->nup != 1)
        return submit_fail(s, 400, "fileIn0", "a print takes exactly one "
                           "G-code file");
    if (check_job(s, "", &p) < 0)
        return -1;
    s->task.kind = TASK_KIND_PRINT;
    return 0;
}

int fleet_print_stage(struct submit *s, const char *prefix, char **spec)
{
    struct print_req p;
    json_t *o;

    if (check_job(s, prefix, &p) < 0)
        return -1;
    o = json_pack("{s:s, s:I, s:i, s:i, s:s, s:s, s:s}", "queue", p.queue,
                  "printer", (json_int_t)p.spec.printer_id, "copies",
                  p.spec.copies, "priority", p.spec.priority, "material",
                  p.material, "colour", p.colour, "profile",
                  p.file.profile);
    *spec = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return *spec ? 0 : submit_fail(s, 500, NULL, "out of memory");
}

/* Hard-links the committed input into SPOOL/tmp and moves that link into
 * the blob store: the task keeps its input, the blob shares the inode. */
static int import_input(struct submit *s, struct fleet_job_file *f)
{
    const struct upload *u = submit_upload_find(s, 0);
    char from[4200], tmp[4200];
    int fd;

    if (!u || spool_task_file(s->conf->spool_dir, s->task.id, u->name, from,
                              sizeof(from)) < 0)
        return -1;
    fd = spool_tmp_open(s->conf->spool_dir, tmp, sizeof(tmp));
    if (fd < 0)
        return -1;
    close(fd);
    /* mkostemp made a file; replace it by the link. */
    if (unlink(tmp) < 0 || link(from, tmp) < 0)
        return -1;
    if (fleet_blob_import(s->conf->spool_dir, tmp, f->sha256, &f->size) < 0) {
        unlink(tmp);
        return -1;
    }
    snprintf(f->filename, sizeof(f->filename), "%s", u->name);
    return 0;
}

int fleet_print_commit(struct submit *s)
{
    struct store *st = s->r->w->st;
    struct print_req p;
    char name[64], field[32], msg[256];
    const char *family;
    long long id, max_open, open;
    double now = rr_now();
    int rc;

    if (parse(s, "", &p) < 0)
        return -1;
    if (import_input(s, &p.file) < 0)
        return submit_fail(s, 500, NULL, "cannot store the G-code: %s",
                           strerror(errno));
    snprintf(name, sizeof(name), "task %s", s->task.id);
    p.spec.name = name;
    p.spec.task_id = s->task.id;
    p.spec.owner = s->task.owner;
    if (store_blob_put(st, p.file.sha256, p.file.size, now) < 0 ||
        store_begin(st) < 0)
        return submit_fail(s, 500, NULL, "store error");
    max_open = auth_max_open(s->r->caller, &family);
    rc = store_owner_cap_tx(st, family, max_open, &open);
    if (rc == 0)
        rc = store_task_insert(st, &s->task);
    if (rc == 0)
        rc = store_job_create_tx(st, &p.spec, now, &id);
    if (rc != 0) {
        store_rollback(st);
        if (rc == STORE_CAPPED) {
            rc = auth_max_queued_refusal(open, field, sizeof(field), msg,
                                         sizeof(msg));
            return submit_fail(s, rc, field, "%s", msg);
        }
        return rc == STORE_NOTFOUND
                   ? submit_fail(s, 404, "queue", "queue or printer went "
                                 "away meanwhile")
                   : submit_fail(s, 500, NULL, "cannot record the job");
    }
    if (store_commit(st) < 0) {
        store_rollback(st);
        return submit_fail(s, 500, NULL, "cannot record the job");
    }
    s->task.job_id = id;        /* the answer names it */
    wake_send(s->conf->wake_socket, WAKE_FLEET);
    log_info("task %s: print job %lld, %d cop%s into queue %s", s->task.id,
             id, p.spec.copies, p.spec.copies == 1 ? "y" : "ies",
             p.spec.queue);
    return 0;
}
