/*
 * submit_chain.c - task pipelines in a submission (see submit_check.h).
 *
 *   service=openscad fileIn0=@cube.scad then=slic3r,echo
 *   then1.arg0=--layer-height=0.3 then2.nativeArgs=...
 *
 * `then` names the services after the first, in order; stage N (1 for the
 * first service after `service`) takes its own options as thenN.argM and
 * thenN.nativeArgs, checked against its own allowlist.  Each later stage
 * takes one input, the output of the stage before it, so its service must
 * accept the type that stage writes (service_output_type).  Everything is
 * checked before anything is written: a bad chain is one 4xx naming the
 * field.  Every stage is a task row of its own, created here with the
 * first: the later ones held (TASK_KIND_HELD, no input yet) until
 * rrcloudd's chain hook (daemon/chain.c) passes them the previous output.
 * The last stage may be a print service: its job's fields come as
 * thenN.queue, thenN.copies... (fleet_print_stage), and its job is made
 * when the G-code exists.
 */
#include "fcgi/submit_check.h"

#include "common/util.h"
#include "fcgi/chainform.h"
#include "fcgi/fleet_print.h"   /* fleet: a print stage */
#include "fcgi/worker.h"
#include "services/service.h"
#include "spool/spool.h"
#include "store/store.h"
#include "store/store_fair.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Splits then's comma list into names (pointers into copy).  Returns the
 * number of names, or -1 (error recorded). */
static int chain_split(struct submit *s, char *copy, const char **names)
{
    int n = chainform_split(copy, names, SUBMIT_CHAIN_MAX - 1);

    if (n == CHAINFORM_EMPTY)
        return submit_fail(s, 400, "then", "an empty service name "
                           "(then=SERVICE[,SERVICE...])");
    if (n == CHAINFORM_TOO_MANY)
        return submit_fail(s, 400, "then", "more than %d services "
                           "(a pipeline has at most %d stages)",
                           SUBMIT_CHAIN_MAX - 1, SUBMIT_CHAIN_MAX);
    return n;
}

/* Every thenN.* field belongs to a stage the chain has, and is one of the
 * per-stage fields: a job field only a print stage's (kinds[N - 1], NULL
 * before the stages are known). */
static int chain_check_fields(struct submit *s, int nstages,
                              const int *kinds)
{
    for (int i = 0; i < s->fields.n; i++) {
        const char *name = s->fields.v[i].name;
        int n = chainform_field_stage(name);

        if (n > 0 && n <= nstages && kinds &&
            kinds[n - 1] != SERVICE_KIND_PRINT &&
            chainform_job_field(strchr(name, '.') + 1))
            return submit_fail(s, 400, name, "only a print stage takes "
                               "job fields, and stage %d is not one", n);
        if (n < 0)
            return submit_fail(s, 400, name, "not a stage field: the "
                               "Nth service of then takes thenN.argM and "
                               "thenN.nativeArgs (N from 1), a print stage "
                               "its job fields as thenN.queue...");
        if (n > nstages)
            return submit_fail(s, 400, name, "there is no stage %d (then "
                               "names %d service(s))", n, nstages);
    }
    return 0;
}

/* The service of stage n (1..) named name, checked to take in_ext, the
 * type the stage before it (prev) writes. */
static const struct service *chain_service(struct submit *s, int n,
                                           const char *name,
                                           const struct service *prev,
                                           const char *in_ext)
{
    const struct service *svc = service_find(s->r->w->app->services, name);
    char err[512];

    if (!svc) {
        submit_fail(s, 400, "then", "unknown service '%.64s' (see "
                    "service=meta for the list)", name);
        return NULL;
    }
    if (svc->input_min > 1) {
        submit_fail(s, 400, "then", "%s (stage %d) takes at least %u "
                    "inputs; a stage takes only the output of the one "
                    "before it", svc->name, n, svc->input_min);
        return NULL;
    }
    if (service_check_input(svc, 0, in_ext, 0, err, sizeof(err)) < 0) {
        submit_fail(s, 400, "then", "%s (stage %d) does not take .%s, the "
                    "output of %s (%s)", svc->name, n, in_ext, prev->name,
                    err);
        return NULL;
    }
    /* A print stage prints G-code: a model job (sliced per profile) is a
     * print of its own, not a stage. */
    if (svc->kind == SERVICE_KIND_PRINT && strcasecmp(in_ext, "gcode") &&
        strcasecmp(in_ext, "gco") && strcasecmp(in_ext, "g")) {
        submit_fail(s, 400, "then", "%s (stage %d) prints G-code, and %s "
                    "writes .%s: put a slicer between them, or send the "
                    "model to %s on its own", svc->name, n, prev->name,
                    in_ext, svc->name);
        return NULL;
    }
    return svc;
}

/* Builds stage n (1..) of svc taking input in0.<in_ext>. */
static int chain_build_stage(struct submit *s, int n,
                             const struct service *svc, const char *in_ext)
{
    struct task *t = &s->stages[n - 1];
    const char *opts[SERVICE_OPTION_MAX];
    const char *inputs[1];
    char prefix[24], input[40];
    int nopts = 0;

    snprintf(prefix, sizeof(prefix), "then%d.", n);
    if (submit_check_options(s, svc, prefix, opts, &nopts,
                             SERVICE_OPTION_MAX) < 0)
        return -1;
    /* fleet: a print stage's job, created when its G-code exists */
    if (svc->kind == SERVICE_KIND_PRINT &&
        fleet_print_stage(s, prefix, &t->job_spec) < 0)
        return -1;
    if (rr_id_new(t->id) < 0)
        return submit_fail(s, 500, NULL, "no randomness for a task id: %s",
                           strerror(errno));
    snprintf(t->service, sizeof(t->service), "%s", svc->name);
    memcpy(t->client, s->task.client, sizeof(t->client));
    memcpy(t->owner, s->task.owner, sizeof(t->owner));
    memcpy(t->client_key, s->task.client_key, sizeof(t->client_key));
    memcpy(t->chain, s->task.id, sizeof(t->chain));
    t->stage = n;
    t->kind = TASK_KIND_HELD;
    t->ctime = s->task.ctime;
    t->timeout = svc->timeout ? svc->timeout
                              : s->r->w->app->conf.default_timeout;
    t->size_out = -1;
    t->exit_code = -1;
    /* The chain's notifier, on every stage: the stage that ends the chain
     * calls it (daemon/chain.c), under the chain's id. */
    if (s->task.notifier && !(t->notifier = strdup(s->task.notifier)))
        return submit_fail(s, 500, NULL, "out of memory");
    snprintf(input, sizeof(input), "in0.%.15s", in_ext);
    inputs[0] = input;
    return submit_build_argv(s, svc, t, inputs, 1, NULL, opts, nopts);
}

/* Resolves the n services named and the type each takes, in svcs and
 * exts: every stage's service exists and takes what the one before it
 * writes.  0 or -1 (error recorded). */
static int chain_resolve(struct submit *s, const struct service *first,
                         const char **names, int n,
                         const struct service **svcs, char (*exts)[16])
{
    const struct service *prev = first;
    struct upload *u0 = submit_upload_find(s, 0);
    char ext[16];

    snprintf(ext, sizeof(ext), "%s", u0 ? u0->ext : "");
    for (int i = 0; i < n; i++) {
        if (service_output_type(prev, ext, exts[i], sizeof(exts[i])) < 0)
            return submit_fail(s, 400, "then", "%s writes no file for a "
                               "next stage to take", prev->name);
        svcs[i] = chain_service(s, i + 1, names[i], prev, exts[i]);
        if (!svcs[i])
            return -1;
        memcpy(ext, exts[i], sizeof(ext));
        prev = svcs[i];
    }
    return 0;
}

int submit_chain_prepare(struct submit *s, const struct service *first)
{
    const char *then = fields_get(&s->fields, "then");
    const char *names[SUBMIT_CHAIN_MAX];
    const struct service *svcs[SUBMIT_CHAIN_MAX];
    char exts[SUBMIT_CHAIN_MAX][16], *copy = NULL;
    int kinds[SUBMIT_CHAIN_MAX];
    int n, rc = -1;

    if (!then)
        return chain_check_fields(s, 0, NULL);
    if (!*then)
        return submit_fail(s, 400, "then", "empty (then=SERVICE[,SERVICE"
                           "...])");
    copy = strdup(then);
    if (!copy)
        return submit_fail(s, 500, "then", "out of memory");
    n = chain_split(s, copy, names);
    if (n < 0 || chain_check_fields(s, n, NULL) < 0 ||
        chain_resolve(s, first, names, n, svcs, exts) < 0)
        goto out;
    for (int i = 0; i < n; i++)
        kinds[i] = svcs[i]->kind;
    if (chain_check_fields(s, n, kinds) < 0)
        goto out;
    /* The chain's shape is right: now each stage's own fields. */
    for (int i = 0; i < n; i++) {
        s->nstages = i + 1;     /* built or not, submit_free clears it */
        if (chain_build_stage(s, i + 1, svcs[i], exts[i]) < 0)
            goto out;
    }
    memcpy(s->task.chain, s->task.id, sizeof(s->task.chain));
    rc = 0;
out:
    free(copy);
    return rc;
}

/* Removes the directories of stages [0, n). */
static void chain_remove_dirs(struct submit *s, int n)
{
    const char *spool = s->conf->spool_dir;

    for (int i = 0; i < n; i++)
        spool_task_remove(spool, s->stages[i].id);
}

int submit_chain_commit(struct submit *s, const struct store_task_caps *caps,
                        enum store_cap *which, long long *found)
{
    struct task all[SUBMIT_CHAIN_MAX];
    char dir[4096];
    int made = 0, rc;

    for (; made < s->nstages; made++) {
        if (spool_tmp_dir(s->conf->spool_dir, dir, sizeof(dir)) < 0)
            goto fail;
        if (spool_task_commit(s->conf->spool_dir, dir,
                              s->stages[made].id) < 0) {
            rr_rmtree(dir);
            goto fail;
        }
    }
    /* Shallow copies: the strings stay s's. */
    all[0] = s->task;
    memcpy(all + 1, s->stages, sizeof(struct task) * (size_t)s->nstages);
    rc = store_chain_insert_capped(s->r->w->st, all, s->nstages + 1, caps,
                                   which, found);
    if (rc != 0) {
        chain_remove_dirs(s, made);
        return rc == STORE_CONFLICT ? rc
               : submit_fail(s, 500, NULL, "cannot record task");
    }
    return 0;
fail:
    chain_remove_dirs(s, made);
    return submit_fail(s, 500, NULL, "cannot store task: %s",
                       strerror(errno));
}
