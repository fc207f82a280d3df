/* slicer.c - model jobs sliced per printer profile through the runner
 * (slicer.h). */
#include "daemon/slicer.h"
#include "daemon/slicer_int.h"

#include "common/conf.h"
#include "common/log.h"
#include "common/util.h"
#include "fleet/blob.h"
#include "fleet/profile.h"
#include "fleet/slicing.h"
#include "services/service.h"
#include "spool/spool.h"
#include "store/store_fleet.h"
#include "store/store_slices.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SLICER_PLAN_BATCH 16    /* jobs planned per tick */
#define SLICER_ROW_BATCH 256    /* rows looked at per tick and state */

struct slicer *slicer_new(const struct rr_conf *conf,
                          const struct service_registry *services,
                          struct store *st, char *err, size_t errlen)
{
    struct slicer *s = calloc(1, sizeof(*s));
    const char *dir = conf->profiles_dir;

    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    /* As rrcloud-fcgi: a default directory that is not there is none. */
    if (!conf->profiles_dir_set && access(dir, F_OK) != 0 && errno == ENOENT)
        dir = "";
    s->conf = conf;
    s->services = services;
    s->st = st;
    s->profiles = profile_registry_load(dir, services, err, errlen);
    if (!s->profiles) {
        free(s);
        return NULL;
    }
    return s;
}

void slicer_free(struct slicer *s)
{
    if (!s)
        return;
    profile_registry_free(s->profiles);
    free(s);
}

void slicer_set_services(struct slicer *s,
                         const struct service_registry *services)
{
    s->services = services;
}

/* ---- exclusions ----------------------------------------------------------- */

/* Why a job fails when no profile is left: each profile's reason, that of
 * profile (being excluded now) being reason. */
static void fail_reason(const struct store_slice *rows, size_t n,
                        const char *profile, const char *reason, char *buf,
                        size_t len)
{
    size_t used = (size_t)snprintf(buf, len, "no printer profile can take "
                                   "the model:");

    for (size_t i = 0; i < n && used < len; i++) {
        const char *why = profile && !strcmp(rows[i].profile, profile)
                              ? reason : rows[i].reason;
        int w = snprintf(buf + used, len - used, " %s: %s;",
                         rows[i].profile, why);

        used = w < 0 ? len : used + (size_t)w;
    }
}

/* Excludes job_id's profile with reason; the job fails if it was the last
 * one (*failed, may be NULL). */
static int exclude(struct slicer *s, long long job_id, const char *profile,
                   const char *reason, int *failed)
{
    struct store_slice *rows = NULL;
    char why[1024];
    size_t n = 0;
    int f = 0, rc;

    if (store_job_slices(s->st, job_id, &rows, &n) < 0)
        return -1;
    fail_reason(rows, n, profile, reason, why, sizeof(why));
    free(rows);
    rc = store_slice_exclude(s->st, job_id, profile, reason, why, rr_now(),
                             &f);
    if (failed)
        *failed = f;
    return rc;
}

/* ---- planning ------------------------------------------------------------- */

/* What is cheaply known of the slicer's version: its program's size and
 * mtime (a package upgrade changes them) and the service's fixed cmd. */
void slicer_version(const struct service *svc, char *buf, size_t len)
{
    char path[1024], dirs[1024], *save = NULL;
    struct stat sb;

    snprintf(buf, len, "%s", svc->cmd);
    if (!svc->cmd_argv || !svc->cmd_argv[0] || strchr(svc->cmd_argv[0], '/'))
        return;
    snprintf(dirs, sizeof(dirs), "%s", svc->path);
    for (char *d = strtok_r(dirs, ":", &save); d;
         d = strtok_r(NULL, ":", &save)) {
        if (rr_fmt(path, sizeof(path), "%s/%s", d, svc->cmd_argv[0]) == 0 &&
            stat(path, &sb) == 0) {
            size_t n = strlen(buf);
            snprintf(buf + n, len - n, " %lld.%lld", (long long)sb.st_size,
                     (long long)sb.st_mtime);
            return;
        }
    }
}

/* The model's extension from its name ("" if none). */
static void model_ext(const struct store_model_job *m, char *ext, size_t len)
{
    if (service_input_ext(m->model_name, ext, len) < 0)
        ext[0] = '\0';
}

/* Fills row for p: pending with its cache key, or excluded with why. */
static void plan_row(struct slicer *s, const struct store_model_job *m,
                     const struct profile *p, const struct slicing_bbox *bb,
                     const char *bberr, struct store_slice *row)
{
    const struct service *svc = service_find(s->services, p->slicer);
    const char *names[SLICING_OVERRIDES_MAX], *values[SLICING_OVERRIDES_MAX];
    char ov[sizeof(m->overrides)], ext[16], version[1200], err[512];
    size_t n;

    row->state = SLICE_EXCLUDED;
    snprintf(row->material, sizeof(row->material), "%s",
             m->material[0] ? m->material : p->default_material);
    model_ext(m, ext, sizeof(ext));
    memcpy(ov, m->overrides, sizeof(ov));
    n = slicing_overrides_split(ov, names, values, SLICING_OVERRIDES_MAX);
    if (bberr[0])
        snprintf(row->reason, sizeof(row->reason), "the model cannot be "
                 "read: %s", bberr);
    else if (!svc)
        snprintf(row->reason, sizeof(row->reason), "its slicer service %s "
                 "is not configured", p->slicer);
    else if (service_check_input(svc, 0, ext, 0, err, sizeof(err)) < 0)
        snprintf(row->reason, sizeof(row->reason), "its slicer %s takes no "
                 ".%s model", p->slicer, ext);
    else if (row->material[0] && p->n_materials &&
             !profile_material(p, row->material))
        snprintf(row->reason, sizeof(row->reason), "it has no config for "
                 "material %s", row->material);
    else if (profile_check_overrides(p, n, names, values, err,
                                     sizeof(err)) < 0)
        snprintf(row->reason, sizeof(row->reason), "%.250s", err);
    else if (!slicing_fits(p, bb, row->reason, sizeof(row->reason)))
        ;
    else {
        slicer_version(svc, version, sizeof(version));
        if (slicing_cache_key(m->model_sha256, p, row->material, version,
                              m->overrides, row->key) == 0)
            row->state = SLICE_PENDING;
        else
            snprintf(row->reason, sizeof(row->reason), "no cache key");
    }
}

static int plan_job(struct slicer *s, const struct store_model_job *m)
{
    char (*names)[FLEET_NAME_MAX] = NULL;
    struct store_slice *rows = NULL;
    struct slicing_bbox bb;
    char path[4096], ext[16], bberr[256] = "", fail[1024];
    size_t n = 0, nrows = 0;
    int failed = 0, rc = -1;

    if (store_model_job_profiles(s->st, m->id, &names, &n) < 0)
        return -1;
    rows = calloc(n ? n : 1, sizeof(*rows));
    if (!rows)
        goto out;
    model_ext(m, ext, sizeof(ext));
    if (fleet_blob_path(s->conf->spool_dir, m->model_sha256, path,
                        sizeof(path)) < 0 ||
        slicing_bbox_file(path, ext, &bb, bberr, sizeof(bberr)) < 0) {
        if (!bberr[0])
            snprintf(bberr, sizeof(bberr), "no blob path");
    }
    for (size_t i = 0; i < n; i++) {
        const struct profile *p = profile_find(s->profiles, names[i]);
        struct store_slice *row = &rows[nrows];

        if (m->slice_profiles[0] &&
            !fleet_list_has(m->slice_profiles, names[i]))
            continue;
        nrows++;
        row->job_id = m->id;
        snprintf(row->profile, sizeof(row->profile), "%s", names[i]);
        if (p)
            plan_row(s, m, p, &bb, bberr, row);
        else {
            row->state = SLICE_EXCLUDED;
            snprintf(row->reason, sizeof(row->reason), "no printer profile "
                     "%s is configured", names[i]);
        }
    }
    if (nrows)
        fail_reason(rows, nrows, NULL, NULL, fail, sizeof(fail));
    else
        snprintf(fail, sizeof(fail), "no printer that may take the job has "
                 "a printer profile%s%.180s", m->slice_profiles[0]
                 ? " among " : "", m->slice_profiles);
    rc = store_slice_plan(s->st, m->id, rows, nrows, fail, rr_now(),
                          &failed);
    if (rc == 0)
        log_info("job %lld: model %s, %zu profile(s) to slice for%s",
                 m->id, m->model_name, nrows, failed ? "; none can take "
                 "it, the job failed" : "");
out:
    free(names);
    free(rows);
    return rc;
}

/* ---- starting a slice ----------------------------------------------------- */

/* Copies src to the new file dst.  0 or -1 with errno. */
static int copy_file(const char *src, const char *dst, long long *size)
{
    char buf[65536];
    int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;
    ssize_t n;

    if (in < 0)
        return -1;
    out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (out < 0)
        goto out;
    while ((n = read(in, buf, sizeof(buf))) > 0) {
        if (write(out, buf, (size_t)n) != n)
            goto out;
        *size += n;
    }
    rc = n < 0 ? -1 : 0;
out:
    if (out >= 0 && close(out) < 0)
        rc = -1;
    close(in);
    return rc;
}

int slicer_add_input(const char *dir, int idx, const char *src,
                     const char *ext, char *name, size_t namelen,
                     long long *size)
{
    char dst[4200];

    if (rr_fmt(name, namelen, "in%d.%s", idx, ext) < 0 ||
        rr_fmt(dst, sizeof(dst), "%s/%s", dir, name) < 0)
        return -1;
    return copy_file(src, dst, size);
}

int slicer_task_argv(const struct service *svc, struct task *t,
                     const char *const *inputs, const char *const *prearg,
                     size_t nin, const char *const *opts, size_t nopts,
                     char *err, size_t errlen)
{
    struct service_task_spec spec = { .id = t->id, .n_inputs = nin,
                                      .inputs = inputs, .prearg = prearg,
                                      .n_options = nopts, .options = opts,
                                      .output = t->out_name };
    char **argv = NULL;
    json_t *arr;

    if (service_build_argv(svc, &spec, &argv, err, errlen) < 0)
        return -1;
    arr = json_array();
    for (char **a = argv; arr && *a; a++)
        if (json_array_append_new(arr, json_string(*a)) < 0) {
            json_decref(arr);
            arr = NULL;
        }
    t->argv_json = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    service_argv_free(argv);
    if (!t->argv_json)
        snprintf(err, errlen, "out of memory");
    return t->argv_json ? 0 : -1;
}

/* The overrides of m as p's slicer options, into opt (storage) and opts. */
static size_t task_options(const struct store_model_job *m,
                           const struct profile *p,
                           char opt[][SERVICE_VALUE_MAX],
                           const char **opts)
{
    const char *names[SLICING_OVERRIDES_MAX], *values[SLICING_OVERRIDES_MAX];
    char ov[sizeof(m->overrides)];
    size_t n, k = 0;

    memcpy(ov, m->overrides, sizeof(ov));
    n = slicing_overrides_split(ov, names, values, SLICING_OVERRIDES_MAX);
    for (size_t i = 0; i < n; i++)
        if (profile_override_option(p, names[i], values[i], opt[k],
                                    SERVICE_VALUE_MAX) == 1)
            opts[k] = opt[k], k++;
    return k;
}

/* Assembles the task's directory in tmp and its row fields. */
static int build_task(struct slicer *s, const struct store_model_job *m,
                      const struct profile *p, const struct service *svc,
                      const struct store_slice *row, const char *tmp,
                      struct task *t, char *err, size_t errlen)
{
    char opt[SLICING_OVERRIDES_MAX][SERVICE_VALUE_MAX];
    const struct profile_material *mat = profile_material(p, row->material);
    const char *inputs[3], *prearg[3], *opts[SLICING_OVERRIDES_MAX];
    char names[3][64], src[4200], ext[16], list[256];
    size_t nin = 0, nopts;

    snprintf(err, errlen, "cannot assemble the task: %s", "files");
    if (rr_fmt(src, sizeof(src), "%s/%s", p->dir, p->config) < 0 ||
        service_input_ext(p->config, ext, sizeof(ext)) < 0 ||
        slicer_add_input(tmp, 0, src, ext, names[0], sizeof(names[0]),
                         &t->size_in) < 0)
        return -1;
    prearg[nin] = svc->prearg;
    inputs[nin] = names[nin], nin++;
    if (mat) {
        if (rr_fmt(src, sizeof(src), "%s/%s", p->dir, mat->file) < 0 ||
            service_input_ext(mat->file, ext, sizeof(ext)) < 0 ||
            slicer_add_input(tmp, 1, src, ext, names[1], sizeof(names[1]),
                             &t->size_in) < 0)
            return -1;
        prearg[nin] = svc->prearg;
        inputs[nin] = names[nin], nin++;
    }
    model_ext(m, ext, sizeof(ext));
    if (fleet_blob_path(s->conf->spool_dir, m->model_sha256, src,
                        sizeof(src)) < 0 ||
        slicer_add_input(tmp, (int)nin, src, ext, names[nin],
                         sizeof(names[nin]), &t->size_in) < 0)
        return -1;
    prearg[nin] = NULL;
    inputs[nin] = names[nin], nin++;
    nopts = task_options(m, p, opt, opts);
    if (service_output_name(svc, t->id, t->out_name,
                            sizeof(t->out_name)) < 0 ||
        slicer_task_argv(svc, t, inputs, prearg, nin, opts, nopts, err,
                         errlen) < 0)
        return -1;
    snprintf(list, sizeof(list), "%s%s%s%s%s", inputs[0], nin > 1 ? "," : "",
             nin > 1 ? inputs[1] : "", nin > 2 ? "," : "",
             nin > 2 ? inputs[2] : "");
    t->inputs = strdup(list);
    return t->inputs ? 0 : -1;
}

static int start_slice(struct slicer *s, const struct store_slice *row)
{
    struct store_model_job m;
    const struct profile *p = profile_find(s->profiles, row->profile);
    const struct service *svc = p ? service_find(s->services, p->slicer)
                                  : NULL;
    struct task t;
    char tmp[4096], err[512];
    int rc;

    if ((rc = slicer_model_get(s, row->job_id, &m)) != 0)
        return rc < 0 ? -1 : 0;
    if (!svc)
        return exclude(s, row->job_id, row->profile, "its profile or slicer "
                       "service is no longer configured", NULL);
    memset(&t, 0, sizeof(t));
    if (rr_id_new(t.id) < 0 ||
        spool_tmp_dir(s->conf->spool_dir, tmp, sizeof(tmp)) < 0) {
        log_err("slicing job %lld: %s", row->job_id, strerror(errno));
        return 0;
    }
    snprintf(t.service, sizeof(t.service), "%s", svc->name);
    snprintf(t.client, sizeof(t.client), "%s", TASK_CLIENT_SLICER);
    t.kind = TASK_KIND_RUN;
    t.ctime = rr_now();
    t.timeout = svc->timeout ? svc->timeout : s->conf->default_timeout;
    t.size_out = -1;
    t.exit_code = -1;
    rc = build_task(s, &m, p, svc, row, tmp, &t, err, sizeof(err));
    if (rc == 0 && spool_task_commit(s->conf->spool_dir, tmp, t.id) < 0) {
        snprintf(err, sizeof(err), "cannot store the task: %s",
                 strerror(errno));
        rc = -1;
    }
    if (rc < 0) {
        rr_rmtree(tmp);
        log_err("slicing job %lld for %s: %s", row->job_id, row->profile,
                err);
        rc = exclude(s, row->job_id, row->profile, err, NULL);
        goto out;
    }
    rc = store_slice_start(s->st, row->job_id, row->profile, &t, rr_now());
    if (rc != 0)
        spool_task_remove(s->conf->spool_dir, t.id);
    else
        log_info("job %lld: slicing for %s as task %s", row->job_id,
                 row->profile, t.id);
    rc = rc < 0 ? -1 : 0;
out:
    task_clear(&t);
    return rc;
}

/* ---- ends of slices -------------------------------------------------------- */

/* The G-code file name the job shows: the model's, for the profile. */
static void gcode_name(const char *model, const char *profile, char *buf,
                       size_t len)
{
    const char *dot = strrchr(model, '.');
    int base = dot ? (int)(dot - model) : (int)strlen(model);

    snprintf(buf, len, "%.*s-%s.gcode", base > 120 ? 120 : base, model,
             profile);
}

int slicer_output_blob(struct slicer *s, const struct task *t, char *sha256,
                       long long *size)
{
    char path[4200];

    /* A copy through a descriptor opened without following a link: the
     * slicer ran as the sandbox user and may have left one. */
    if (spool_task_file(s->conf->spool_dir, t->id, t->out_name, path,
                        sizeof(path)) < 0 ||
        fleet_blob_copy(s->conf->spool_dir, path, sha256, size) < 0)
        return -1;
    return store_blob_put(s->st, sha256, *size, rr_now()) < 0 ? -1 : 0;
}

void slicer_log_tail(struct slicer *s, const struct task *t, char *buf,
                     size_t len)
{
    char path[4200], tail[1024];
    struct stat sb;
    ssize_t n = 0;
    int fd;

    buf[0] = '\0';
    if (spool_task_file(s->conf->spool_dir, t->id, SPOOL_LOG_NAME, path,
                        sizeof(path)) < 0 ||
        (fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
                   O_CLOEXEC)) < 0)
        return;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return;
    }
    if (lseek(fd, -(off_t)(sizeof(tail) - 1), SEEK_END) < 0)
        lseek(fd, 0, SEEK_SET);
    n = read(fd, tail, sizeof(tail) - 1);
    close(fd);
    if (n <= 0)
        return;
    tail[n] = '\0';
    while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r' ||
                     tail[n - 1] == ' '))
        tail[--n] = '\0';
    for (char *p = tail; *p; p++)
        if ((unsigned char)*p < 0x20 && *p != '\n')
            *p = ' ';
    snprintf(buf, len, "%.*s", (int)len - 1,
             strrchr(tail, '\n') ? strrchr(tail, '\n') + 1 : tail);
}

static int finish_slice(struct slicer *s, const struct store_slice *row,
                        int *ready)
{
    struct task t;
    char sha[FLEET_SHA256_HEX], name[FLEET_FILENAME_MAX], why[512],
        last[200];
    struct store_model_job m;
    long long size = 0;
    int failed = 0, n = 0, rc = store_task_get(s->st, row->task_id, &t);

    if (rc < 0)
        return -1;
    if (rc == STORE_NOTFOUND)
        return exclude(s, row->job_id, row->profile, "its slicing task is "
                       "gone", NULL);
    if (!task_status_final(t.status)) {
        task_clear(&t);
        return 0;
    }
    if (t.status == TASK_COMPLETE &&
        slicer_output_blob(s, &t, sha, &size) == 0) {
        memset(&m, 0, sizeof(m));
        if (slicer_model_get(s, row->job_id, &m) < 0)
            rc = -1;
        else {
            gcode_name(m.model_name, row->profile, name, sizeof(name));
            rc = store_slice_ready(s->st, row->key, sha, name, rr_now(), &n);
            *ready += n;
            log_info("job %lld: sliced for %s by task %s (%lld bytes)",
                     row->job_id, row->profile, t.id, size);
        }
    } else {
        slicer_log_tail(s, &t, last, sizeof(last));
        snprintf(why, sizeof(why), "slicing failed (task %s %s%s%s)%s%s",
                 t.id, task_status_name(t.status), t.reason ? ": " : "",
                 t.reason ? t.reason : "", last[0] ? ": " : "", last);
        rc = exclude(s, row->job_id, row->profile, why, &failed);
        log_info("job %lld: %s excluded: %s%s", row->job_id, row->profile,
                 why, failed ? "; the job failed" : "");
    }
    task_clear(&t);
    return rc < 0 ? -1 : 0;
}

/* ---- the tick --------------------------------------------------------------- */

static int tick_plan(struct slicer *s)
{
    struct store_model_job *jobs = NULL;
    size_t n = 0;
    int rc = store_model_jobs_unplanned(s->st, SLICER_PLAN_BATCH, &jobs, &n);

    for (size_t i = 0; rc == 0 && i < n; i++)
        if ((rc = slicer_model_rendered(s, &jobs[i])) == 0)
            rc = plan_job(s, &jobs[i]);
    free(jobs);
    return rc;
}

static int tick_ends(struct slicer *s, int *ready)
{
    struct store_slice *rows = NULL;
    size_t n = 0;
    int rc = store_slices_in_state(s->st, SLICE_SLICING, SLICER_ROW_BATCH,
                                   &rows, &n);

    for (size_t i = 0; rc == 0 && i < n; i++)
        rc = finish_slice(s, &rows[i], ready);
    free(rows);
    return rc;
}

/* Cancels the slicing tasks no job needs any more (store_slices_unneeded:
 * their jobs were cancelled or ended, and no job waiting for the same key
 * shares them): the rows go back to pending, where they stay.  The number
 * cancelled (the runner then kills the busy ones). */
static int tick_cancel(struct slicer *s)
{
    static const char why[] = "no job needs this slice any more";
    struct store_slice *rows = NULL;
    size_t n = 0;
    int cancelled = 0, rc = store_slices_unneeded(s->st, SLICER_ROW_BATCH,
                                                  &rows, &n);

    for (size_t i = 0; rc >= 0 && i < n; i++) {
        enum task_status now = TASK_QUEUED;

        rc = store_task_cancel(s->st, rows[i].task_id, why, &now);
        if (rc < 0)
            break;
        /* One that ended meanwhile is taken in as it is next tick. */
        if (rc == 0 && task_status_final(now) && now != TASK_CANCELLED)
            continue;
        rc = store_slice_unstart(s->st, &rows[i], why, rr_now());
        if (rc == 0) {
            cancelled++;
            log_info("job %lld: slicing for %s cancelled (task %s): %s",
                     rows[i].job_id, rows[i].profile, rows[i].task_id, why);
        }
    }
    free(rows);
    return rc < 0 ? -1 : cancelled;
}

/* Serves one pending row from the cache: 1 if it was there. */
static int from_cache(struct slicer *s, const struct store_slice *row,
                      int *ready)
{
    struct store_model_job m;
    char sha[FLEET_SHA256_HEX], name[FLEET_FILENAME_MAX];
    int n = 0, rc = store_slice_cache_get(s->st, row->key, sha, NULL);

    if (rc != 0)
        return rc == STORE_NOTFOUND ? 0 : -1;
    memset(&m, 0, sizeof(m));
    if (slicer_model_get(s, row->job_id, &m) < 0)
        return -1;
    gcode_name(m.model_name, row->profile, name, sizeof(name));
    if (store_slice_ready(s->st, row->key, sha, name, rr_now(), &n) < 0)
        return -1;
    *ready += n;
    log_info("job %lld: G-code for %s from the cache", row->job_id,
             row->profile);
    return 1;
}

static int tick_pending(struct slicer *s, int *ready)
{
    struct store_slice *rows = NULL;
    size_t n = 0;
    long long busy = 0;
    int started = 0, rc;

    rc = store_slices_in_state(s->st, SLICE_PENDING, SLICER_ROW_BATCH, &rows,
                               &n);
    if (rc == 0 && n)
        rc = slicer_busy(s, &busy);
    for (size_t i = 0; rc == 0 && i < n; i++) {
        int twin = 0, hit = from_cache(s, &rows[i], ready);

        if (hit != 0) {
            rc = hit < 0 ? -1 : 0;
            continue;
        }
        if (busy >= s->conf->fleet_slice_concurrency)
            continue;
        if ((rc = store_slice_twin_busy(s->st, rows[i].key, &twin)) < 0 ||
            twin)
            continue;
        if ((rc = start_slice(s, &rows[i])) == 0) {
            busy++;
            started++;
        }
    }
    free(rows);
    return rc < 0 ? -1 : started;
}

int slicer_tick(struct slicer *s, int *ready)
{
    int r = 0, started, cancelled, renders;

    if ((renders = slicer_render_tick(s)) < 0 || tick_plan(s) < 0 ||
        tick_ends(s, &r) < 0 || (cancelled = tick_cancel(s)) < 0 ||
        (started = tick_pending(s, &r)) < 0) {
        log_err("slicer: %s", store_errmsg(s->st));
        return -1;
    }
    if (ready)
        *ready = r;
    return started + cancelled + renders;
}
