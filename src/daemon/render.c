/* render.c - SCAD model jobs rendered once to an STL by the openscad
 * service before they are sliced (slicer_int.h, store_renders.h).
 *
 * A render is a relay task like a slice: client rrcloudd-slicer, run by
 * the runner under the service's limits and sandbox, and counted in the
 * same fleet_slice_concurrency, so renders and slices together leave the
 * other runner slots to users' tasks.  Its STL is cached by content (the
 * source's SHA-256, the service and its version): a second job of the
 * same source renders nothing, and then slices nothing either, as its
 * slices' keys are over the STL's SHA-256. */
#include "daemon/slicer_int.h"

#include "common/conf.h"
#include "common/log.h"
#include "common/util.h"
#include "fleet/blob.h"
#include "fleet/slicing.h"
#include "services/service.h"
#include "spool/spool.h"
#include "store/store_renders.h"
#include "store/store_slices.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RENDER_BATCH 16         /* render jobs looked at per tick */

int slicer_busy(struct slicer *s, long long *busy)
{
    long long slices = 0, renders = 0;

    if (store_slice_busy(s->st, &slices) < 0 ||
        store_render_busy(s->st, &renders) < 0)
        return -1;
    *busy = slices + renders;
    return 0;
}

int slicer_model_rendered(struct slicer *s, struct store_model_job *m)
{
    struct store_render r;
    const char *dot;
    int base, rc = store_render_get(s->st, m->id, &r);

    if (rc != 0)
        return rc == STORE_NOTFOUND ? 0 : -1;
    if (!r.sha256[0])
        return 0;   /* not yet: the planner never sees it so */
    dot = strrchr(m->model_name, '.');
    base = dot ? (int)(dot - m->model_name) : (int)strlen(m->model_name);
    snprintf(m->model_sha256, sizeof(m->model_sha256), "%s", r.sha256);
    snprintf(m->model_name, sizeof(m->model_name), "%.*s.stl",
             base > 200 ? 200 : base, r.model_name);
    return 0;
}

int slicer_model_get(struct slicer *s, long long job_id,
                     struct store_model_job *m)
{
    int rc = store_model_job_get(s->st, job_id, m);

    return rc != 0 ? rc : slicer_model_rendered(s, m);
}

/* ---- starting ------------------------------------------------------------ */

/* The job's defines as -DNAME=VALUE options the service allows (checked
 * again here: rrcloud-fcgi checked them when it took the job), into opt
 * (storage) and opts.  The number, or -1 with err. */
static int define_options(const struct service *svc,
                          const struct store_render *r,
                          char opt[][128], const char **opts, char *err,
                          size_t errlen)
{
    const char *names[SLICING_DEFINES_MAX], *values[SLICING_DEFINES_MAX];
    char lines[sizeof(r->defines)];
    size_t n;

    memcpy(lines, r->defines, sizeof(lines));
    n = slicing_overrides_split(lines, names, values, SLICING_DEFINES_MAX);
    for (size_t i = 0; i < n; i++) {
        if (rr_fmt(opt[i], 128, "-D%s=%s", names[i], values[i]) < 0 ||
            service_check_option(svc, "define", opt[i], err, errlen) < 0)
            return -1;
        opts[i] = opt[i];
    }
    return (int)n;
}

/* A failure of a file step of the assembly that may pass (a full disk,
 * no descriptor or memory left): the render is tried again on the next
 * tick rather than failing the job for good.  (EIO is not: a damaged
 * source stays damaged.) */
static int assembly_transient(int e)
{
    return e == ENOSPC || e == EDQUOT || e == EMFILE || e == ENFILE ||
           e == ENOMEM || e == EAGAIN;
}

/* The retries' warning once a minute at most, not every tick. */
#define RETRY_WARN_EVERY 60.0

/* The task's directory in tmp (the source as in0.scad) and row fields.
 * On -1, *transient says whether a retry may do better. */
static int build_task(struct slicer *s, const struct store_render *r,
                      const struct service *svc, const char *tmp,
                      struct task *t, char *err, size_t errlen,
                      int *transient)
{
    const char *inputs[1], *prearg[1] = { NULL };
    const char *opts[SLICING_DEFINES_MAX];
    char name[64], src[4200], opt[SLICING_DEFINES_MAX][128];
    int nopts = define_options(svc, r, opt, opts, err, errlen);

    if (nopts < 0)
        return -1;
    if (fleet_blob_path(s->conf->spool_dir, r->model_sha256, src,
                        sizeof(src)) < 0 ||
        slicer_add_input(tmp, 0, src, SLICING_SOURCE_EXT, name, sizeof(name),
                         &t->size_in) < 0) {
        *transient = assembly_transient(errno);
        snprintf(err, errlen, "cannot assemble the task: %s",
                 strerror(errno));
        return -1;
    }
    inputs[0] = name;
    snprintf(err, errlen, "cannot assemble the task: out of memory");
    if (service_output_name(svc, t->id, t->out_name,
                            sizeof(t->out_name)) < 0 ||
        slicer_task_argv(svc, t, inputs, prearg, 1, opts, (size_t)nopts,
                         err, errlen) < 0)
        return -1;
    t->inputs = strdup(name);
    *transient = !t->inputs;
    return t->inputs ? 0 : -1;
}

static int start_render(struct slicer *s, const struct store_render *r,
                        const struct service *svc, const char *key)
{
    struct task t;
    char tmp[4096], err[512], why[700];
    int transient = 0, rc;

    memset(&t, 0, sizeof(t));
    if (rr_id_new(t.id) < 0 ||
        spool_tmp_dir(s->conf->spool_dir, tmp, sizeof(tmp)) < 0) {
        log_err("rendering job %lld: %s", r->job_id, strerror(errno));
        return 0;
    }
    snprintf(t.service, sizeof(t.service), "%s", svc->name);
    snprintf(t.client, sizeof(t.client), "%s", TASK_CLIENT_SLICER);
    t.kind = TASK_KIND_RUN;
    t.ctime = rr_now();
    t.timeout = svc->timeout ? svc->timeout : s->conf->default_timeout;
    t.size_out = -1;
    t.exit_code = -1;
    rc = build_task(s, r, svc, tmp, &t, err, sizeof(err), &transient);
    if (rc == 0 && spool_task_commit(s->conf->spool_dir, tmp, t.id) < 0) {
        transient = assembly_transient(errno);
        snprintf(err, sizeof(err), "cannot store the task: %s",
                 strerror(errno));
        rc = -1;
    }
    if (rc < 0 && transient) {
        static double warned;   /* rrcloudd's one event loop */

        rr_rmtree(tmp);
        if (rr_now() - warned >= RETRY_WARN_EVERY) {
            warned = rr_now();
            log_warn("rendering job %lld: %s; trying again at each tick "
                     "(said once a minute)", r->job_id, err);
        }
        rc = STORE_NOTFOUND;    /* nothing started, the job waits */
        goto out;
    }
    if (rc < 0) {
        rr_rmtree(tmp);
        log_err("rendering job %lld: %s", r->job_id, err);
        snprintf(why, sizeof(why), "the model cannot be rendered: %s", err);
        rc = store_render_fail(s->st, r->job_id, why, rr_now());
        goto out;
    }
    rc = store_render_start(s->st, r->job_id, key, &t, rr_now());
    if (rc != 0)
        spool_task_remove(s->conf->spool_dir, t.id);
    else
        log_info("job %lld: rendering %s as task %s", r->job_id,
                 r->model_name, t.id);
out:
    task_clear(&t);
    return rc < 0 ? -1 : rc == 0;
}

/* ---- ends ---------------------------------------------------------------- */

/* Why the render of task t failed: its status and reason, and the last
 * line openscad wrote when the reason does not hold it already. */
static void fail_why(struct slicer *s, const struct task *t, char *buf,
                     size_t len)
{
    char last[200];

    slicer_log_tail(s, t, last, sizeof(last));
    snprintf(buf, len, "the model did not render (%s task %s %s%s%s)%s%s",
             t->service, t->id, task_status_name(t->status),
             t->reason ? ": " : "", t->reason ? t->reason : "",
             last[0] && (!t->reason || !strstr(t->reason, last)) ? ": " : "",
             last[0] && (!t->reason || !strstr(t->reason, last)) ? last
                                                                  : "");
}

/* A started render: its end, if it ended.  0 or -1. */
static int render_end(struct slicer *s, const struct store_render *r)
{
    struct task t;
    char sha[FLEET_SHA256_HEX], why[1024];
    long long size = 0;
    int rc = store_task_get(s->st, r->task_id, &t);

    if (rc < 0)
        return -1;
    if (rc == STORE_NOTFOUND)
        return store_render_fail(s->st, r->job_id, "the model did not "
                                 "render: its task is gone", rr_now()) < 0
                   ? -1 : 0;
    if (!task_status_final(t.status)) {
        task_clear(&t);
        return 0;
    }
    if (t.status == TASK_COMPLETE &&
        slicer_output_blob(s, &t, sha, &size) == 0) {
        rc = store_render_done(s->st, r->job_id, r->key, sha, rr_now());
        log_info("job %lld: rendered by task %s (%lld bytes of STL)",
                 r->job_id, t.id, size);
    } else {
        fail_why(s, &t, why, sizeof(why));
        rc = store_render_fail(s->st, r->job_id, why, rr_now());
        log_info("job %lld: %s; the job failed", r->job_id, why);
    }
    task_clear(&t);
    return rc < 0 ? -1 : 0;
}

/* A render not started: from the cache, the task of a twin rendering the
 * same key, or a task of its own when a slot is free.  1 if a task
 * started, 0, or -1. */
static int render_begin(struct slicer *s, const struct store_render *r,
                        long long *busy)
{
    const struct service *svc = service_find(s->services,
                                             SLICING_RENDER_SERVICE);
    char key[FLEET_SHA256_HEX], version[1200], sha[FLEET_SHA256_HEX];
    char twin[RR_ID_LEN];
    int rc;

    if (!svc)
        return store_render_fail(s->st, r->job_id, "the model cannot be "
                                 "rendered: the " SLICING_RENDER_SERVICE
                                 " service is not configured", rr_now()) < 0
                   ? -1 : 0;
    slicer_version(svc, version, sizeof(version));
    if (slicing_render_key(r->model_sha256, svc->name, version, r->defines,
                           key) < 0)
        return store_render_fail(s->st, r->job_id, "the model cannot be "
                                 "rendered: no cache key", rr_now()) < 0
                   ? -1 : 0;
    rc = store_slice_cache_get(s->st, key, sha, NULL);
    if (rc < 0)
        return -1;
    if (rc == 0 && (rc = store_render_done(s->st, r->job_id, key, sha,
                                           rr_now())) <= 0) {
        if (rc == 0)
            log_info("job %lld: STL of %s from the cache", r->job_id,
                     r->model_name);
        return rc;
    }
    /* A twin renders the same key: this job shares its task (no slot),
     * which then lives while either job is open, and takes its STL. */
    rc = store_render_twin_task(s->st, key, r->job_id, twin);
    if (rc < 0)
        return -1;
    if (rc == 0) {
        rc = store_render_share(s->st, r->job_id, key, twin, rr_now());
        if (rc == 0)
            log_info("job %lld: waiting for render task %s of a job of the "
                     "same model", r->job_id, twin);
        return rc < 0 ? -1 : 0;
    }
    if (*busy >= s->conf->fleet_slice_concurrency)
        return 0;
    rc = start_render(s, r, svc, key);
    if (rc > 0)
        (*busy)++;
    return rc;
}

/* Cancels the renders no open job needs any more (their job was
 * cancelled or failed meanwhile), so they give their slot back.  The
 * number cancelled (the runner acts on it), or -1. */
static int cancel_unneeded(struct slicer *s)
{
    char (*ids)[RR_ID_LEN] = NULL;
    size_t n = 0;
    int cancelled = 0;

    if (store_renders_unneeded(s->st, RENDER_BATCH, &ids, &n) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        enum task_status now;
        int rc = store_task_cancel(s->st, ids[i], "no job needs the render "
                                   "any more", &now);

        if (rc < 0) {
            free(ids);
            return -1;
        }
        if (rc == 0) {
            log_info("render task %s cancelled: its job ended", ids[i]);
            cancelled++;
        }
    }
    free(ids);
    return cancelled;
}

int slicer_render_tick(struct slicer *s)
{
    struct store_render *rows = NULL;
    long long busy = 0;
    size_t n = 0;
    int acted = cancel_unneeded(s), rc;   /* tasks started or cancelled */

    if (acted < 0)
        return -1;
    rc = store_renders_waiting(s->st, RENDER_BATCH, &rows, &n);
    if (rc == 0 && n)
        rc = slicer_busy(s, &busy);
    for (size_t i = 0; rc >= 0 && i < n; i++) {
        if (rows[i].task_id[0])
            rc = render_end(s, &rows[i]);
        else if ((rc = render_begin(s, &rows[i], &busy)) > 0)
            acted++;
    }
    free(rows);
    return rc < 0 ? -1 : acted;
}
