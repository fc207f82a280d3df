/* fleet_api_upload.c - multipart G-code uploads streamed into blobs
 * (fleet_api_int.h: fa_upload_receive). */
#include "common/log.h"
#include "common/util.h"
#include "fcgi/fair.h"
#include "fcgi/fleet_api_int.h"
#include "fcgi/worker.h"
#include "fleet/blob.h"
#include "fleet/slicing.h"
#include "services/filetype.h"
#include "services/service.h"
#include "http/multipart.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define UP_CHUNK (256 * 1024)
#define UP_SNIFF 4096   /* bytes checked for NUL: G-code is text */

struct up_ctx {
    struct req *r;
    struct fa_upload *u;
    const struct rr_conf *conf;
    struct fleet_blob_writer w;
    struct fair_spool spool;  /* the spool's floors for this body */
    int in_file;            /* the current part is a file */
    int in_model;           /* ... and it is the model */
    char model_ext[16];     /* its type, by the file name */
    int file_from_field;    /* index of the plain "file" part, or -1 */
    long long sniffed;
    char name[64];
    struct buf val;
};

static int up_fail(struct up_ctx *x, int status, const char *field,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int up_fail(struct up_ctx *x, int status, const char *field,
                   const char *fmt, ...)
{
    va_list ap;

    if (x->u->status)
        return 1;
    x->u->status = status;
    snprintf(x->u->field, sizeof(x->u->field), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(x->u->msg, sizeof(x->u->msg), fmt, ap);
    va_end(ap);
    return 1;
}

int fa_gcode_name(const char *name)
{
    static const char *const ext[] = { "gcode", "g", "gco", "gc", "nc" };
    const char *dot = name ? strrchr(name, '.') : NULL;

    if (!dot)
        return 0;
    for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
        if (!strcasecmp(dot + 1, ext[i]))
            return 1;
    }
    return 0;
}

/* The client's file name without any directory, as display text. */
static void display_name(const char *in, char *out, size_t len)
{
    const char *b = strrchr(in, '/'), *b2 = strrchr(in, '\\');

    if (b2 && (!b || b2 > b))
        b = b2;
    snprintf(out, len, "%s", b ? b + 1 : in);
    for (char *p = out; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '_';
    }
}

/* A model (fleet_model.h): the part "model", or "file" with a model's
 * extension.  Any bytes (binary STL, 3MF); rrcloudd reads its structure
 * when it plans the slices. */
static int model_begin(struct up_ctx *x, const struct mp_part *part)
{
    struct fa_upload *u = x->u;
    char ext[16] = "";

    if (!part->filename || !*part->filename)
        return up_fail(x, 400, part->name, "%s: a file upload needs a file "
                       "name", part->name);
    if (service_input_ext(part->filename, ext, sizeof(ext)) < 0 ||
        !slicing_job_ext(ext))
        return up_fail(x, 415, part->name, "%s: '%.64s' is not a model a "
                       "job may carry (%s)", part->name, part->filename,
                       slicing_job_exts());
    if (u->has_model)
        return up_fail(x, 400, part->name, "%s: one model per job",
                       part->name);
    if (fleet_blob_open(&x->w, x->conf->spool_dir,
                        (long long)x->conf->max_body_size) < 0)
        return up_fail(x, 500, part->name, "cannot store upload: %s",
                       strerror(errno));
    memset(&u->model, 0, sizeof(u->model));
    display_name(part->filename, u->model.filename,
                 sizeof(u->model.filename));
    snprintf(x->model_ext, sizeof(x->model_ext), "%s", ext);
    x->in_file = 1;
    x->in_model = 1;
    return 0;
}

/* The stored model is what its name says (the relay's structural checks
 * and libmagic: a binary STL's length, an ASCII STL's facets, a 3MF's zip
 * directory); else 415.  The blob file stays: on_end recorded it before
 * the check, unreferenced, and the purge removes it after its grace.
 * Unlinking it here raced a concurrent upload of the same bytes whose
 * job was about to take a reference to the same file. */
static int model_check(struct up_ctx *x, const struct fleet_job_file *f)
{
    struct app *app = x->r->w->app;
    unsigned char head[FILETYPE_HEAD_LEN];
    char path[4096], err[512];
    ssize_t n = -1;
    int fd, rc;

    if (fleet_blob_path(x->conf->spool_dir, f->sha256, path,
                        sizeof(path)) < 0 ||
        (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return up_fail(x, 500, x->name, "cannot read the model back");
    n = read(fd, head, sizeof(head));
    close(fd);
    if (n < 0)
        return up_fail(x, 500, x->name, "cannot read the model back");
    pthread_mutex_lock(&app->ft_lock);
    rc = filetype_check(app->ft, path, head, (size_t)n,
                        (unsigned long long)f->size, x->model_ext, NULL, 0,
                        err, sizeof(err));
    pthread_mutex_unlock(&app->ft_lock);
    if (rc == 0)
        return 0;
    return up_fail(x, 415, x->name, "%s: %s", x->name, err);
}

/* A "file" whose name says model rather than G-code. */
static int model_named(const struct up_ctx *x, const struct mp_part *part)
{
    char ext[16];

    return !x->u->octoprint && !strcmp(part->name, "file") &&
           part->filename &&
           service_input_ext(part->filename, ext, sizeof(ext)) == 0 &&
           slicing_job_ext(ext);
}

static int file_begin(struct up_ctx *x, const struct mp_part *part)
{
    struct fa_upload *u = x->u;
    struct fleet_job_file *f;
    char prof[FLEET_NAME_MAX] = "";

    if (!part->filename || !*part->filename)
        return up_fail(x, 400, part->name, "%s: a file upload needs a file "
                       "name", part->name);
    if (!fa_gcode_name(part->filename))
        return up_fail(x, 415, part->name, "%s: '%.64s' is not G-code "
                       "(.gcode, .g, .gco, .gc, .nc)%s", part->name,
                       part->filename, x->u->octoprint ? "" : " nor a model "
                       "a job may carry (stl, obj, 3mf, scad)");
    if (!u->octoprint && strncmp(part->name, "file_", 5) == 0) {
        if (!fleet_name_valid(part->name + 5))
            return up_fail(x, 400, part->name, "%s: the profile after "
                           "file_ must be a name", part->name);
        snprintf(prof, sizeof(prof), "%s", part->name + 5);
        fleet_lower(prof);
    } else if (x->file_from_field >= 0) {
        return up_fail(x, 400, part->name, "%s: given twice", part->name);
    }
    if (u->nfiles >= FA_MAX_FILES)
        return up_fail(x, 413, part->name, "at most %d files (one per "
                       "profile)", FA_MAX_FILES);
    for (size_t i = 0; prof[0] && i < u->nfiles; i++) {
        if (!strcmp(u->files[i].profile, prof))
            return up_fail(x, 400, part->name, "%s: given twice",
                           part->name);
    }
    if (fleet_blob_open(&x->w, x->conf->spool_dir,
                        (long long)x->conf->max_body_size) < 0)
        return up_fail(x, 500, part->name, "cannot store upload: %s",
                       strerror(errno));
    f = &u->files[u->nfiles];
    memset(f, 0, sizeof(*f));
    snprintf(f->profile, sizeof(f->profile), "%s", prof);
    display_name(part->filename, f->filename, sizeof(f->filename));
    if (!prof[0])
        x->file_from_field = (int)u->nfiles;
    x->in_file = 1;
    x->sniffed = 0;
    return 0;
}

static int on_begin(void *arg, const struct mp_part *part)
{
    struct up_ctx *x = arg;
    int file = x->u->octoprint ? !strcmp(part->name, "file")
                               : (!strcmp(part->name, "file") ||
                                  !strncmp(part->name, "file_", 5));

    snprintf(x->name, sizeof(x->name), "%s", part->name);
    buf_reset(&x->val);
    x->in_file = 0;
    x->in_model = 0;
    if (!x->u->octoprint &&
        (!strcmp(part->name, "model") || model_named(x, part)))
        return model_begin(x, part);
    if (file)
        return file_begin(x, part);
    if (part->filename && *part->filename)
        return up_fail(x, 400, part->name, "%s: only file or file_PROFILE "
                       "may be files", part->name);
    if (x->u->nfields >= 32)
        return up_fail(x, 413, part->name, "too many fields (32)");
    return 0;
}

static int on_data(void *arg, const char *data, size_t len)
{
    struct up_ctx *x = arg;

    if (!x->in_file) {
        if (buf_append(&x->val, data, len) < 0)
            return up_fail(x, 413, x->name, "%s: longer than %llu bytes "
                           "(max_field_size)", x->name,
                           x->conf->max_field_size);
        return 0;
    }
    if (!x->in_model && x->sniffed < UP_SNIFF) {
        size_t n = len < (size_t)(UP_SNIFF - x->sniffed)
                       ? len : (size_t)(UP_SNIFF - x->sniffed);
        if (memchr(data, '\0', n))
            return up_fail(x, 415, x->name, "%s: binary data, not G-code "
                           "text", x->name);
        x->sniffed += (long long)n;
    }
    if (fleet_blob_write(&x->w, data, len) < 0)
        return errno == EFBIG
                   ? up_fail(x, 413, x->name, "%s: larger than %llu bytes "
                             "(max_body_size)", x->name,
                             x->conf->max_body_size)
                   : up_fail(x, 500, x->name, "cannot store upload: %s",
                             strerror(errno));
    return 0;
}

static int on_end(void *arg)
{
    struct up_ctx *x = arg;
    struct fa_upload *u = x->u;
    struct fleet_job_file *f = &u->files[u->nfiles];

    if (!x->in_file) {
        char *n = strdup(x->name);
        char *v = strndup(x->val.data ? x->val.data : "", x->val.len);
        if (!n || !v || memchr(v, '\0', x->val.len) != NULL) {
            free(n);
            free(v);
            return up_fail(x, 400, x->name, "%s: bad value", x->name);
        }
        u->fields[u->nfields][0] = n;
        u->fields[u->nfields][1] = v;
        u->nfields++;
        return 0;
    }
    x->in_file = 0;
    if (x->w.size == 0) {
        fleet_blob_abort(&x->w);
        return up_fail(x, 400, x->name, "%s: empty file", x->name);
    }
    if (x->in_model)
        f = &u->model;
    if (fleet_blob_commit(&x->w, x->conf->spool_dir, f->sha256, &f->size) < 0)
        return up_fail(x, 500, x->name, "cannot store upload: %s",
                       strerror(errno));
    /* Recorded now (refcount 0): a job references it later, and a blob
     * no job takes, a refused model's too, is purged after a grace
     * period (the only path that removes blob files). */
    if (store_blob_put(x->r->w->st, f->sha256, f->size, rr_now()) < 0)
        return up_fail(x, 500, x->name, "store error");
    if (x->in_model && model_check(x, f) != 0)
        return 1;
    if (x->in_model)
        u->has_model = 1;
    else
        u->nfiles++;
    return 0;
}

/* The spool's floors with total bytes received.  0 or -1 (507
 * recorded). */
static int up_spool_check(struct up_ctx *x, unsigned long long total)
{
    struct fair_err e;
    int status = fair_spool_check(&x->spool, total, 0, &e);

    return status ? up_fail(x, status, e.field, "%s", e.msg), -1 : 0;
}

/* Before the body: room for Content-Length bytes under the spool's
 * floors.  0 or -1 (507 or 500 recorded). */
static int up_admit(struct up_ctx *x)
{
    long long len = x->r->content_length;
    struct fair_err e;
    int status = fair_spool_init(&x->spool, x->r, &e);

    if (!status)
        status = fair_spool_fits(&x->spool, len > 0 ?
                                 (unsigned long long)len : 0, &e);
    return status ? up_fail(x, status, e.field, "%s", e.msg), -1 : 0;
}

static int receive(struct up_ctx *x, char *chunk)
{
    static const struct mp_callbacks cb = { on_begin, on_data, on_end };
    struct mp_limits lim = { .max_header_bytes = x->conf->max_part_header,
                             .max_parts = (unsigned)x->conf->max_fields };
    char boundary[MP_BOUNDARY_MAX + 1];
    unsigned long long total = 0;
    struct mp_parser *p;
    long n;
    int rc = -1;

    if (mp_boundary_from_content_type(x->r->content_type, boundary,
                                      sizeof(boundary)) < 0)
        return up_fail(x, 400, NULL, "multipart body without a valid "
                       "boundary"), -1;
    p = mp_parser_new(boundary, &lim, &cb, x);
    if (!p)
        return up_fail(x, 500, NULL, "out of memory"), -1;
    while ((n = req_read(x->r, chunk, UP_CHUNK)) > 0) {
        total += (unsigned long long)n;
        if (total > x->conf->max_body_size) {
            up_fail(x, 413, NULL, "body larger than %llu bytes "
                    "(max_body_size)", x->conf->max_body_size);
            goto out;
        }
        if (up_spool_check(x, total) < 0)
            goto out;
        if (mp_parser_feed(p, chunk, (size_t)n) != MP_OK || x->u->status)
            goto parse;
        if (mp_parser_done(p))
            break;
    }
    if (n < 0) {
        up_fail(x, 400, NULL, "request body could not be read");
        goto out;
    }
    if (mp_parser_finish(p) != MP_OK)
        goto parse;
    rc = 0;
    goto out;
parse:
    up_fail(x, 400, NULL, "malformed multipart body: %s", mp_parser_error(p));
out:
    mp_parser_free(p);
    return rc;
}

int fa_upload_receive(struct req *r, struct fa_upload *u)
{
    struct up_ctx x;
    char *chunk = NULL, *drain;
    const char *prof;
    int rc;

    memset(&x, 0, sizeof(x));
    x.r = r;
    x.u = u;
    x.conf = &r->w->app->conf;
    x.w.fd = -1;
    x.file_from_field = -1;
    buf_init(&x.val, x.conf->max_field_size);
    if (!rr_prefix_ci(r->content_type, "multipart/form-data"))
        up_fail(&x, 415, NULL, "Content-Type must be multipart/form-data");
    else if (r->content_length > 0 &&
             (unsigned long long)r->content_length > x.conf->max_body_size)
        up_fail(&x, 413, NULL, "body of %lld bytes is larger than %llu "
                "(max_body_size)", r->content_length, x.conf->max_body_size);
    else if (up_admit(&x) < 0)
        ;   /* refused before the body: nothing was written */
    else if (!(chunk = malloc(UP_CHUNK)))
        up_fail(&x, 500, NULL, "out of memory");
    else
        receive(&x, chunk);
    fleet_blob_abort(&x.w);
    buf_free(&x.val);
    if (!u->status && !u->nfiles && !u->has_model)
        up_fail(&x, 400, u->octoprint ? "file" : "file", "no G-code file: "
                "send it as the file part 'file'%s",
                u->octoprint ? "" : " (or file_PROFILE per profile, or a "
                "model as 'model')");
    if (!u->status && u->nfiles && u->has_model)
        up_fail(&x, 400, "model", "model: a job carries G-code files or a "
                "model to slice, not both");
    if (!u->status && x.file_from_field >= 0 &&
        (prof = fa_upload_field(u, "profile")) && *prof) {
        if (!fleet_name_valid(prof))
            up_fail(&x, 400, "profile", "profile: must be a name");
        else {
            struct fleet_job_file *f = &u->files[x.file_from_field];
            snprintf(f->profile, sizeof(f->profile), "%s", prof);
            fleet_lower(f->profile);
            for (size_t i = 0; i < u->nfiles; i++) {
                if ((int)i != x.file_from_field &&
                    !strcmp(u->files[i].profile, f->profile))
                    up_fail(&x, 400, "profile", "profile: %s has a file "
                            "already", f->profile);
            }
        }
    }
    if (!u->status) {
        free(chunk);
        return 0;
    }
    /* Read what is left (bounded) so the client sees the answer. */
    drain = chunk ? chunk : malloc(UP_CHUNK);
    if (drain && u->status != 413 && u->status != 507) {
        unsigned long long left = x.conf->max_body_size;
        long n;
        while (left && (n = req_read(r, drain, UP_CHUNK)) > 0)
            left = (unsigned long long)n > left ? 0
                                                : left - (unsigned long long)n;
    }
    free(drain);
    log_info("rejected upload from %s: %d %s %s", r->remote_addr, u->status,
             u->field, u->msg);
    rc = u->field[0] ? req_error(r, u->status, u->field, "%s", u->msg)
                     : req_error(r, u->status, NULL, "%s", u->msg);
    return rc;
}

const char *fa_upload_field(const struct fa_upload *u, const char *name)
{
    for (int i = 0; i < u->nfields; i++) {
        if (!strcmp(u->fields[i][0], name))
            return u->fields[i][1];
    }
    return NULL;
}

void fa_upload_free(struct fa_upload *u)
{
    for (int i = 0; i < u->nfields; i++) {
        free(u->fields[i][0]);
        free(u->fields[i][1]);
    }
    u->nfields = 0;
}
