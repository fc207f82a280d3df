/* submit.c - see submit.h. */
#include "fcgi/submit.h"

#include "common/log.h"
#include "common/util.h"
#include "common/wake.h"
#include "fcgi/fields.h"
#include "fcgi/auth.h"
#include "fcgi/fair.h"
#include "fcgi/fleet_print.h"   /* fleet: service=print */
#include "fcgi/hold.h"
#include "fcgi/relay.h"
#include "fcgi/submit_check.h"
#include "fcgi/worker.h"
#include "http/form.h"
#include "http/multipart.h"
#include "http/reply.h"
#include "services/filetype.h"
#include "services/service.h"
#include "spool/spool.h"
#include "spool/writebehind.h"
#include "store/store.h"
#include "store/store_fair.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define SUBMIT_READ_CHUNK (256 * 1024)
/* The read buffer of a body: SUBMIT_READ_CHUNK, or the size of a body
 * announced smaller (+ 1: never 0).  Most submissions are a few KiB: a
 * buffer of their size comes from the thread's arena, where 256 KiB would
 * be a mapping made and unmade for each. */
static size_t submit_chunk(const struct req *r)
{
    if (r->content_length >= 0 &&
        r->content_length < (long long)SUBMIT_READ_CHUNK)
        return (size_t)r->content_length + 1;
    return SUBMIT_READ_CHUNK;
}

/* A large body's write-behind (writebehind.h): 4 slots of one read each
 * keep the socket drained (1 MiB at most, allocated with mmap, so given
 * back when the body ends). */
#define SUBMIT_WB_SLOTS 4
#define SUBMIT_WB_SLOT SUBMIT_READ_CHUNK
/* A body up to this size is read before the client's queue and the spool
 * are checked: RepRapCloud's client asks service=info with a POST too,
 * and that must not be refused for a full queue or disk. */
#define SUBMIT_EARLY_CHECK (64 * 1024)

/* Reads the rest of a rejected body (bounded) so the client sees our answer
 * instead of a reset connection. */
static void drain_body(struct req *r, char *buf, size_t len,
                       unsigned long long max)
{
    unsigned long long total = 0;
    long n;

    while (total < max && (n = req_read(r, buf, len)) > 0)
        total += (unsigned long long)n;
}

/* ---- receiving -------------------------------------------------------------- */

static struct upload *upload_new(struct submit *s, int index, int is_file)
{
    struct upload *u;
    char path[4200];

    if (s->nup >= SUBMIT_MAX_UPLOADS)
        return NULL;
    u = calloc(1, sizeof(*u));
    if (!u)
        return NULL;
    u->index = index;
    u->is_file = is_file;
    snprintf(u->tmpname, sizeof(u->tmpname), "up-%d", index);
    if (rr_fmt(path, sizeof(path), "%s/%s", s->dir, u->tmpname) < 0)
        goto fail;
    u->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (u->fd < 0)
        goto fail;
    s->up[s->nup++] = u;
    return u;
fail:
    free(u);
    return NULL;
}

static int upload_write(struct submit *s, struct upload *u, const char *data,
                        size_t len)
{
    unsigned long long cap = u->is_file ? s->conf->max_body_size
                                        : s->conf->max_inline_size;

    if (u->size + len > cap)
        return submit_fail(s, 413, u->field, "larger than %llu bytes "
                           "(%s)", cap, u->is_file ? "max_body_size"
                                                   : "max_inline_size");
    if (u->headlen < sizeof(u->head)) {
        size_t take = sizeof(u->head) - u->headlen;
        if (take > len)
            take = len;
        memcpy(u->head + u->headlen, data, take);
        u->headlen += take;
    }
    if ((s->wb ? wb_write(s->wb, u->fd, data, len)
               : rr_write_all(u->fd, data, len)) < 0)
        return submit_fail(s, 500, u->field, "cannot store upload: %s",
                           strerror(errno));
    u->size += len;
    return 0;
}

static int upload_close(struct submit *s, struct upload *u)
{
    if (u->fd >= 0 && s->wb && wb_flush(s->wb) < 0) {
        close(u->fd);
        u->fd = -1;
        return submit_fail(s, 500, u->field, "cannot store upload: %s",
                           strerror(errno));
    }
    if (u->fd >= 0 && close(u->fd) < 0) {
        u->fd = -1;
        return submit_fail(s, 500, u->field, "cannot store upload: %s",
                           strerror(errno));
    }
    u->fd = -1;
    return 0;
}

/* Starts receiving one field (multipart part or urlencoded pair). */
static int field_begin(struct submit *s, const char *name,
                       const char *filename)
{
    int idx;

    if (++s->nfields > s->conf->max_fields)
        return submit_fail(s, 413, name, "too many fields (max_fields = %d)",
                           s->conf->max_fields);
    snprintf(s->curname, sizeof(s->curname), "%s", name);
    s->cur = NULL;
    buf_reset(&s->curval);
    idx = submit_file_index(name);
    if (idx == -2)
        return submit_fail(s, 400, name, "bad field name (fileIn0 .. "
                           "fileIn%d)", s->conf->max_files - 1);
    if (idx >= 0) {
        if (idx >= s->conf->max_files)
            return submit_fail(s, 413, name, "too many files (max_files = "
                               "%d)", s->conf->max_files);
        if (submit_upload_find(s, idx))
            return submit_fail(s, 400, name, "given twice");
        if (filename && *filename &&
            submit_filename_ext(s, name, filename) < 0)
            return -1;
        s->cur = upload_new(s, idx, filename && *filename);
        if (!s->cur)
            return submit_fail(s, 500, name, "cannot store upload: %s",
                               strerror(errno));
        s->cur->unnamed = filename && !*filename;
        snprintf(s->cur->field, sizeof(s->cur->field), "%s", name);
        if (filename && *filename)
            memcpy(s->cur->ext, s->pending_ext, sizeof(s->cur->ext));
        return 0;
    }
    if (filename && *filename)
        return submit_fail(s, 400, name, "only fileIn0..N may be files");
    return 0;
}

static int field_data(struct submit *s, const char *data, size_t len)
{
    if (s->cur)
        return upload_write(s, s->cur, data, len);
    if (buf_append(&s->curval, data, len) < 0)
        return submit_fail(s, 413, s->curname, "value longer than %llu "
                           "bytes (max_field_size)", s->conf->max_field_size);
    return 0;
}

/* Forgets the upload just received (the last one). */
static void upload_drop(struct submit *s)
{
    struct upload *u = s->up[--s->nup];
    char path[4200];

    if (rr_fmt(path, sizeof(path), "%s/%s", s->dir, u->tmpname) == 0)
        unlink(path);
    if (u->fd >= 0)
        close(u->fd);
    free(u);
    s->cur = NULL;
}

static int field_end(struct submit *s)
{
    if (s->cur && s->cur->unnamed && s->cur->size == 0) {
        /* A browser's file input left empty: not an input at all. */
        upload_drop(s);
        return 0;
    }
    if (s->cur)
        return upload_close(s, s->cur);
    if (memchr(s->curval.data ? s->curval.data : "", '\0', s->curval.len))
        return submit_fail(s, 400, s->curname, "contains a NUL byte");
    if (fields_add(&s->fields, s->curname,
                   s->curval.data ? s->curval.data : "", s->curval.len) < 0)
        return submit_fail(s, 500, s->curname, "out of memory");
    /* An error later in the body answers in the format asked for (an
     * invalid value is left for submit_prepare to report). */
    if (strcmp(s->curname, "format") == 0 && s->curval.data)
        req_set_format(s->r, s->curval.data);
    return 0;
}

static int mp_begin(void *arg, const struct mp_part *part)
{
    return field_begin(arg, part->name, part->filename) < 0 ? 1 : 0;
}

static int mp_data(void *arg, const char *data, size_t len)
{
    return field_data(arg, data, len) < 0 ? 1 : 0;
}

static int mp_end(void *arg)
{
    return field_end(arg) < 0 ? 1 : 0;
}

/* The spool's floors with the body received so far (force: look at the
 * free space now).  0 or -1 (507 recorded). */
static int submit_spool_check(struct submit *s, int force)
{
    struct fair_err e;
    int status = fair_spool_check(&s->spool, s->body_bytes, force, &e);

    return status ? submit_fail(s, status, e.field, "%s", e.msg) : 0;
}

/* Streams a multipart body into the task directory. */
static int receive_multipart(struct submit *s, char *buf)
{
    static const struct mp_callbacks cb = { mp_begin, mp_data, mp_end };
    /* One part more than max_fields: field_begin reports the limit by its
     * name (413), the parser's own limit is only a backstop. */
    struct mp_limits lim = { .max_header_bytes = s->conf->max_part_header,
                             .max_parts = (unsigned)s->conf->max_fields + 1 };
    char boundary[MP_BOUNDARY_MAX + 1];
    struct mp_parser *p;
    long n;
    int rc = -1;

    if (mp_boundary_from_content_type(s->r->content_type, boundary,
                                      sizeof(boundary)) < 0)
        return submit_fail(s, 400, NULL, "multipart body without a valid "
                           "boundary parameter");
    p = mp_parser_new(boundary, &lim, &cb, s);
    if (!p)
        return submit_fail(s, 500, NULL, "out of memory");
    while ((n = req_read(s->r, buf, submit_chunk(s->r))) > 0) {
        s->body_bytes += (unsigned long long)n;
        if (s->body_bytes > s->conf->max_body_size) {
            submit_fail(s, 413, NULL, "request body larger than %llu bytes "
                        "(max_body_size)", s->conf->max_body_size);
            goto out;
        }
        if (submit_spool_check(s, 0) < 0)
            goto out;
        if (mp_parser_feed(p, buf, (size_t)n) != MP_OK)
            goto parse_error;
        if (mp_parser_done(p))
            break;
    }
    if (n < 0) {
        submit_fail(s, 400, NULL, "request body could not be read "
                    "(client gone or body truncated)");
        goto out;
    }
    if (mp_parser_finish(p) != MP_OK)
        goto parse_error;
    rc = 0;
    goto out;
parse_error:
    /* A callback has already recorded its own, more precise error. */
    if (!s->status)
        submit_fail(s, 400, NULL, "malformed multipart body: %s",
                    mp_parser_error(p));
out:
    mp_parser_free(p);
    return rc;
}

static int form_pair(void *arg, const char *name, size_t name_len,
                     const char *value, size_t value_len)
{
    struct submit *s = arg;

    (void)name_len;
    if (field_begin(s, name, NULL) < 0 ||
        field_data(s, value, value_len) < 0 || field_end(s) < 0)
        return 1;
    return 0;
}

/* Reads a whole urlencoded body (bounded by max_inline_size) and parses it:
 * jQuery's $.post sends inline fileIn content this way. */
static int receive_urlencoded(struct submit *s, char *buf)
{
    struct buf body;
    struct form_limits lim = { .max_fields = (size_t)s->conf->max_fields + 1,
                               .max_value_len = s->conf->max_inline_size };
    unsigned long long cap = s->conf->max_inline_size + 64 * 1024;
    char err[256];
    long n;
    int rc;

    buf_init(&body, cap);
    while ((n = req_read(s->r, buf, submit_chunk(s->r))) > 0) {
        if (buf_append(&body, buf, (size_t)n) < 0) {
            buf_free(&body);
            return submit_fail(s, 413, NULL, "urlencoded body larger than "
                               "%llu bytes (max_inline_size; use multipart "
                               "for large files)", cap);
        }
    }
    if (n < 0) {
        buf_free(&body);
        return submit_fail(s, 400, NULL, "request body could not be read");
    }
    s->body_bytes = body.len;
    rc = form_parse(body.data ? body.data : "", body.len, &lim, form_pair, s,
                    err, sizeof(err));
    buf_free(&body);
    if (rc != FORM_OK && !s->status)
        return submit_fail(s, rc == FORM_ERR_LIMIT ? 413 : 400, NULL, "%s",
                           err);
    return rc == FORM_OK ? 0 : -1;
}

/* ---- finishing ------------------------------------------------------------ */

static void submit_free(struct submit *s)
{
    /* First the writer: its queued writes go to the fds closed below. */
    wb_free(s->wb);
    for (int i = 0; i < s->nup; i++) {
        if (s->up[i]->fd >= 0)
            close(s->up[i]->fd);
        free(s->up[i]);
    }
    if (s->dir[0] && !s->committed)
        rr_rmtree(s->dir);
    fields_free(&s->fields);
    buf_free(&s->curval);
    task_clear(&s->task);
    for (int i = 0; i < s->nstages; i++)
        task_clear(&s->stages[i]);
}

/* The task a held request waits for, and how long: a pipeline's last
 * stage, after every stage's queue wait and run. */
static const struct task *submit_hold_target(const struct submit *s,
                                             double *deadline)
{
    const struct rr_conf *conf = &s->r->w->app->conf;

    *deadline = rr_now() + (double)s->task.timeout +
                (double)conf->kill_grace + 60.0;
    for (int i = 0; i < s->nstages; i++)
        *deadline += (double)s->stages[i].timeout + (double)conf->kill_grace;
    return s->nstages ? &s->stages[s->nstages - 1] : &s->task;
}

/* Sends the recorded error (drains the body first if it was cut short). */
static int submit_answer_error(struct submit *s, char *buf)
{
    /* Too large, or no room: reading the rest would only cost time. */
    if (s->status != 413 && s->status != 507)
        drain_body(s->r, buf, submit_chunk(s->r), s->conf->max_body_size);
    log_info("rejected %s task from %s: %d %s%s%s", s->service_name[0] ?
             s->service_name : "?", s->r->remote_addr, s->status,
             s->field[0] ? s->field : "", s->field[0] ? ": " : "", s->msg);
    /* Messages name their field; add it where the checker did not. */
    if (s->field[0] && !(strncmp(s->msg, s->field, strlen(s->field)) == 0 &&
                         s->msg[strlen(s->field)] == ':'))
        return req_error(s->r, s->status, s->field, "%s: %s", s->field,
                         s->msg);
    return req_error(s->r, s->status, s->field[0] ? s->field : NULL, "%s",
                     s->msg);
}

/* Inserts the run task (a pipeline: every stage, submit_chain.c) if its
 * client's, its key's and the spool's limits hold, checked by the insert
 * itself.  0 or -1 (error recorded). */
static int submit_insert(struct submit *s)
{
    struct store_task_caps caps;
    struct fair_err e;
    enum store_cap which;
    long long found;
    int rc;

    fair_caps(s->r, &caps);
    rc = s->nstages ? submit_chain_commit(s, &caps, &which, &found)
                    : store_task_insert_capped(s->r->w->st, &s->task, &caps,
                                               &which, &found);
    if (rc == STORE_CONFLICT)
        return submit_fail(s, fair_cap_refusal(s->r, &s->task, which, found,
                                               &e), e.field, "%s", e.msg);
    return rc < 0 ? submit_fail(s, 500, NULL, "cannot record task") : 0;
}

/* Puts the task in place and answers, or parks the request. */
static int submit_commit(struct submit *s, int async)
{
    struct req *r = s->r;
    const struct app *app = r->w->app;
    const struct task *wait;
    double deadline;

    if (spool_task_commit(app->conf.spool_dir, s->dir, s->task.id) < 0)
        return submit_fail(s, 500, NULL, "cannot store task: %s",
                           strerror(errno));
    s->committed = 1;
    /* --- fleet: a print task goes in with its job (fleet_print.c) */
    if (s->task.kind == TASK_KIND_PRINT ? fleet_print_commit(s) < 0 :
    /* --- end fleet */
        submit_insert(s) < 0) {
        spool_task_remove(app->conf.spool_dir, s->task.id);
        return submit_fail(s, 500, NULL, "cannot record task");
    }
    wake_send(app->conf.wake_socket, WAKE_TASK);
    log_info("task %s: %s from %s, %d input(s), %lld bytes%s%s%s",
             s->task.id, s->task.service, r->remote_addr, s->nup,
             s->task.size_in, s->nstages ? ", then " : "",
             s->nstages ? fields_get(&s->fields, "then") : "",
             async ? "" : ", client waits");
    if (!async) {
        /* Queue wait plus the run itself, then give up holding. */
        wait = submit_hold_target(s, &deadline);
        if (holder_add(app->holder, r->fcgi, wait->id, s->task.client_key,
                       r->format, r->api, deadline) == 0)
            return REQ_HELD;
    }
    return relay_answer_task(r, &s->task, r->api ? 201 : 200,
                             REPLY_SUBMITTED);
}

/* Before the body: the client's queue and the spool's floors, if the
 * body is large enough to be worth refusing unread.  0 or -1 (error
 * recorded). */
static int submit_admit(struct submit *s)
{
    long long len = s->r->content_length;
    struct fair_err e;
    int status;

    fair_client_key(s->r, s->task.client_key, sizeof(s->task.client_key));
    status = fair_spool_init(&s->spool, s->r, &e);
    if (!status && (len < 0 || len > SUBMIT_EARLY_CHECK)) {
        status = fair_admit(s->r, s->task.client_key, &e);
        if (!status)
            status = fair_spool_fits(&s->spool, len > 0 ?
                                     (unsigned long long)len : 0, &e);
    }
    return status ? submit_fail(s, status, e.field, "%s", e.msg) : 0;
}

/* After the body, for a task: the spool's floors (a small body was not
 * checked before) and the client's held requests if it will wait. */
static int submit_admit_task(struct submit *s, int async)
{
    struct fair_err e;
    int status;

    if (submit_spool_check(s, 1) < 0)
        return -1;
    status = async ? 0 : fair_hold_check(s->r, s->task.client_key, &e);
    return status ? submit_fail(s, status, e.field, "%s", e.msg) : 0;
}

int submit_handle(struct req *r)
{
    struct submit s;
    char *buf = NULL, err[256];
    int async = 0, rc;

    memset(&s, 0, sizeof(s));
    s.r = r;
    s.conf = &r->w->app->conf;
    fields_init(&s.fields);
    buf_init(&s.curval, s.conf->max_field_size);
    buf = malloc(submit_chunk(r));
    if (!buf) {
        rc = req_error(r, 500, NULL, "out of memory");
        goto out;
    }
    if (r->content_length > 0 &&
        (unsigned long long)r->content_length > s.conf->max_body_size) {
        submit_fail(&s, 413, NULL, "request body of %lld bytes is larger "
                    "than %llu (max_body_size)", r->content_length,
                    s.conf->max_body_size);
        rc = submit_answer_error(&s, buf);
        goto out;
    }
    if ((rc = auth_refusal(r->caller, AUTH_RELAY, err, sizeof(err)))) {
        submit_fail(&s, rc, "Authorization", "%s", err);
        rc = submit_answer_error(&s, buf);
        goto out;
    }
    if (submit_admit(&s) < 0) {
        rc = submit_answer_error(&s, buf);
        goto out;
    }
    if (spool_tmp_dir(s.conf->spool_dir, s.dir, sizeof(s.dir)) < 0) {
        s.dir[0] = '\0';
        rc = req_error(r, 500, NULL, "spool: %s", strerror(errno));
        goto out;
    }
    /* A large (or unannounced) body's files are written behind its
     * reading; a failure to start the writer only costs that overlap. */
    if (r->content_length < 0 || r->content_length >= (long long)WB_MIN_BODY)
        s.wb = wb_new(SUBMIT_WB_SLOT, SUBMIT_WB_SLOTS);
    if (rr_prefix_ci(r->content_type, "multipart/form-data"))
        rc = receive_multipart(&s, buf);
    else if (rr_prefix_ci(r->content_type,
                          "application/x-www-form-urlencoded") ||
             !r->content_type[0])
        rc = receive_urlencoded(&s, buf);
    else
        rc = submit_fail(&s, 415, NULL, "Content-Type must be "
                         "multipart/form-data or "
                         "application/x-www-form-urlencoded");
    if (rc == 0)
        rc = submit_prepare(&s, &async);
    if (rc == SUBMIT_NOT_A_TASK) {
        /* RepRapCloud's client asks service=info with a POST too. */
        rc = relay_dispatch(r, &s.fields);
        goto out;
    }
    if (rc == 0)
        rc = submit_admit_task(&s, async);
    if (rc == 0)
        rc = submit_commit(&s, async);
    if (rc < 0)
        rc = submit_answer_error(&s, buf);
out:
    submit_free(&s);
    free(buf);
    return rc;
}
