/* fleet_model.c - model jobs in rrcloud-fcgi (fleet_model.h). */
#include "fcgi/fleet_model.h"

#include "fleet/profile.h"
#include "fleet/slicing.h"
#include "services/service.h"
#include "store/store_renders.h"
#include "store/store_slices.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* profile = "a,b": each a configured profile, lowercased. */
static int model_profiles(const struct profile_registry *reg, const char *v,
                          struct fleet_model_req *m, char *msg, size_t mlen)
{
    char list[FLEET_LIST_MAX], *save = NULL;
    size_t used = 0;

    if (strlen(v) >= sizeof(list)) {
        snprintf(msg, mlen, "profile: at most %zu bytes", sizeof(list) - 1);
        return 400;
    }
    snprintf(list, sizeof(list), "%s", v);
    fleet_lower(list);
    for (char *p = strtok_r(list, ", ", &save); p;
         p = strtok_r(NULL, ", ", &save)) {
        char err[512];

        if (!fleet_name_valid(p) || !profile_find(reg, p)) {
            if (profile_check_name(reg, p, err, sizeof(err)) == 0)
                snprintf(err, sizeof(err), "no printer profile '%.64s'", p);
            snprintf(msg, mlen, "profile: %s", err);
            return 400;
        }
        if (!fleet_list_has(m->profiles, p))
            used += (size_t)snprintf(m->profiles + used,
                                     sizeof(m->profiles) - used, "%s%s",
                                     used ? "," : "", p);
    }
    return 0;
}

/* define.NAME fields into m->defines (canonical lines). */
static int model_defines(size_t n, const char *const *names,
                         const char *const *values, struct fleet_model_req *m,
                         char *field, size_t flen, char *msg, size_t mlen)
{
    const char *dn[SLICING_DEFINES_MAX], *dv[SLICING_DEFINES_MAX];
    size_t k = 0, plen = strlen(FLEET_MODEL_DEFINE);
    char err[512];

    for (size_t i = 0; i < n; i++) {
        if (strncmp(names[i], FLEET_MODEL_DEFINE, plen))
            continue;
        snprintf(field, flen, "%.60s", names[i]);
        if (k == SLICING_DEFINES_MAX) {
            snprintf(msg, mlen, "%s: at most %d variables", names[i],
                     SLICING_DEFINES_MAX);
            return 400;
        }
        dn[k] = names[i] + plen;
        dv[k] = values[i];
        /* Each alone first: its error names its own field, whatever the
         * variable is called. */
        if (slicing_defines_canon(1, &dn[k], &dv[k], m->defines,
                                  sizeof(m->defines), err, sizeof(err))) {
            snprintf(msg, mlen, FLEET_MODEL_DEFINE "%s", err);
            return 400;
        }
        k++;
    }
    if (slicing_defines_canon(k, dn, dv, m->defines, sizeof(m->defines), err,
                              sizeof(err)) == 0)
        return 0;
    /* err starts with the variable's name (or "define" for them all) */
    if (!strncmp(err, "define:", 7)) {
        snprintf(field, flen, "define");
        snprintf(msg, mlen, "%s", err);
    } else {
        snprintf(field, flen, FLEET_MODEL_DEFINE "%.*s",
                 (int)strcspn(err, ":"), err);
        snprintf(msg, mlen, FLEET_MODEL_DEFINE "%s", err);
    }
    return 400;
}

int fleet_model_stray(size_t n, const char *const *names, char *field,
                      size_t flen, char *msg, size_t mlen)
{
    for (size_t i = 0; i < n; i++) {
        int define = !strncmp(names[i], FLEET_MODEL_DEFINE,
                              strlen(FLEET_MODEL_DEFINE));

        if (!define && strncmp(names[i], FLEET_MODEL_OVERRIDE,
                               strlen(FLEET_MODEL_OVERRIDE)))
            continue;
        snprintf(field, flen, "%.60s", names[i]);
        snprintf(msg, mlen, "%.60s: only a model job (STL, OBJ, 3MF or "
                 "SCAD) takes %s; this one carries G-code", names[i],
                 define ? "variables" : "overrides");
        return 400;
    }
    return 0;
}

int fleet_model_fields(const struct profile_registry *reg, size_t n,
                       const char *const *names, const char *const *values,
                       struct fleet_model_req *m, char *field, size_t flen,
                       char *msg, size_t mlen)
{
    const char *on[SLICING_OVERRIDES_MAX + 1] = { NULL };
    const char *ov[SLICING_OVERRIDES_MAX + 1] = { NULL };
    size_t k = 0, plen = strlen(FLEET_MODEL_OVERRIDE);
    int rc;

    memset(m, 0, sizeof(*m));
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(names[i], "profile") && values[i][0]) {
            snprintf(field, flen, "profile");
            if ((rc = model_profiles(reg, values[i], m, msg, mlen)))
                return rc;
        } else if (!strncmp(names[i], FLEET_MODEL_OVERRIDE, plen)) {
            if (k == SLICING_OVERRIDES_MAX) {
                snprintf(field, flen, "%.60s", names[i]);
                snprintf(msg, mlen, "%s: at most %d overrides", names[i],
                         SLICING_OVERRIDES_MAX);
                return 400;
            }
            on[k] = names[i] + plen;
            ov[k++] = values[i];
        }
    }
    if (slicing_overrides_canon(k, on, ov, m->overrides,
                                sizeof(m->overrides), msg, mlen) < 0) {
        snprintf(field, flen, "override");
        return 400;
    }
    return model_defines(n, names, values, m, field, flen, msg, mlen);
}

static int may_slice(const char *slice_profiles, const char *name)
{
    return !slice_profiles || !slice_profiles[0] ||
           fleet_list_has(slice_profiles, name);
}

/* 1 if every profile the job may be sliced for has a config for mat (or
 * takes no material configs at all). */
static int all_have(const struct profile_registry *reg,
                    const char *slice_profiles, const char *mat)
{
    for (size_t i = 0; i < profile_count(reg); i++) {
        const struct profile *p = profile_at(reg, i);

        if (may_slice(slice_profiles, p->name) && p->n_materials &&
            !profile_material(p, mat))
            return 0;
    }
    return 1;
}

int fleet_model_material(const struct profile_registry *reg,
                         const char *slice_profiles, char *material,
                         size_t len, char *field, size_t flen, char *msg,
                         size_t mlen)
{
    int any = 0;

    if (material[0])
        return 0;
    /* The first default (in profile name order) that all can slice. */
    for (size_t i = 0; i < profile_count(reg); i++) {
        const struct profile *p = profile_at(reg, i);

        if (!may_slice(slice_profiles, p->name) || !p->default_material[0])
            continue;
        any = 1;
        if (all_have(reg, slice_profiles, p->default_material)) {
            snprintf(material, len, "%s", p->default_material);
            return 0;
        }
    }
    if (!any)
        return 0;
    snprintf(field, flen, "material");
    snprintf(msg, mlen, "material: a model is sliced for one material, and "
             "no default material of the profiles has a config in all of "
             "them; name one");
    return 400;
}

/* Overrides against each profile the job may be sliced for. */
static int check_overrides(const struct profile_registry *reg,
                           const struct fleet_job_spec *spec, char *field,
                           size_t flen, char *msg, size_t mlen)
{
    const char *names[SLICING_OVERRIDES_MAX], *values[SLICING_OVERRIDES_MAX];
    char ov[1024], err[512];
    size_t n;

    snprintf(ov, sizeof(ov), "%s", spec->overrides ? spec->overrides : "");
    n = slicing_overrides_split(ov, names, values, SLICING_OVERRIDES_MAX);
    for (size_t i = 0; i < profile_count(reg); i++) {
        const struct profile *p = profile_at(reg, i);

        if (!may_slice(spec->slice_profiles, p->name))
            continue;
        if (profile_check_overrides(p, n, names, values, err,
                                    sizeof(err)) == 0)
            continue;
        /* err starts with the override's name */
        snprintf(field, flen, FLEET_MODEL_OVERRIDE "%.*s",
                 (int)strcspn(err, ":"), err);
        snprintf(msg, mlen, FLEET_MODEL_OVERRIDE "%s", err);
        return 400;
    }
    return 0;
}

int fleet_model_source(const char *filename)
{
    char ext[16];

    return filename && service_input_ext(filename, ext, sizeof(ext)) == 0 &&
           !strcmp(ext, SLICING_SOURCE_EXT);
}

/* A job's defines: only a source takes them, each an option the render
 * service allows (-DNAME=VALUE). */
static int check_defines(const struct service_registry *services,
                         const struct fleet_job_spec *spec, char *field,
                         size_t flen, char *msg, size_t mlen)
{
    const char *names[SLICING_DEFINES_MAX], *values[SLICING_DEFINES_MAX];
    const struct service *svc = service_find(services,
                                             SLICING_RENDER_SERVICE);
    char lines[SLICING_DEFINES_LEN], opt[128], err[512];
    size_t n;

    snprintf(lines, sizeof(lines), "%s", spec->defines ? spec->defines : "");
    n = slicing_overrides_split(lines, names, values, SLICING_DEFINES_MAX);
    for (size_t i = 0; i < n; i++) {
        snprintf(field, flen, FLEET_MODEL_DEFINE "%.40s", names[i]);
        if (!spec->render) {
            snprintf(msg, mlen, "%s: only a .%s model takes variables", field,
                     SLICING_SOURCE_EXT);
            return 400;
        }
        snprintf(opt, sizeof(opt), "-D%s=%s", names[i], values[i]);
        if (service_check_option(svc, field, opt, err, sizeof(err)) < 0) {
            snprintf(msg, mlen, "%s", err);
            return 400;
        }
    }
    return 0;
}

int fleet_model_check(const struct profile_registry *reg,
                      const struct service_registry *services,
                      struct store *st, const struct fleet_job_spec *spec,
                      char *field, size_t flen, char *msg, size_t mlen)
{
    struct fleet_job_file files[FLEET_PROFILES_MAX];
    struct fleet_job_spec feas = *spec;
    char why[512];
    size_t n = 0;
    int rc;

    if (profile_count(reg) == 0) {
        snprintf(field, flen, "model");
        snprintf(msg, mlen, "model: no printer profiles are configured to "
                 "slice it for; send G-code");
        return 422;
    }
    if (spec->render && !service_find(services, SLICING_RENDER_SERVICE)) {
        snprintf(field, flen, "model");
        snprintf(msg, mlen, "model: a .%s model is rendered by the %s "
                 "service, which is not configured here; send an STL",
                 SLICING_SOURCE_EXT, SLICING_RENDER_SERVICE);
        return 422;
    }
    if ((rc = check_defines(services, spec, field, flen, msg, mlen)))
        return rc;
    if ((rc = check_overrides(reg, spec, field, flen, msg, mlen)))
        return rc;
    /* Feasible as a job with a file for each profile it may get. */
    memset(files, 0, sizeof(files));
    for (size_t i = 0; i < profile_count(reg) && n < FLEET_PROFILES_MAX;
         i++) {
        const char *p = profile_at(reg, i)->name;

        if (may_slice(spec->slice_profiles, p))
            snprintf(files[n++].profile, FLEET_NAME_MAX, "%s", p);
    }
    feas.files = files;
    feas.nfiles = n;
    rc = store_job_feasible(st, &feas, field, flen, why, sizeof(why));
    if (rc == STORE_CONFLICT) {
        snprintf(msg, mlen, "%s: no printer could ever take this job: %s",
                 field, why);
        return 422;
    }
    if (rc < 0) {
        snprintf(field, flen, "%s", "");
        snprintf(msg, mlen, "store error");
        return 500;
    }
    return 0;
}

static json_t *overrides_json(const char *lines)
{
    const char *names[SLICING_OVERRIDES_MAX], *values[SLICING_OVERRIDES_MAX];
    char ov[1024];
    json_t *o = json_object();
    size_t n;

    snprintf(ov, sizeof(ov), "%s", lines);
    n = slicing_overrides_split(ov, names, values, SLICING_OVERRIDES_MAX);
    for (size_t i = 0; o && i < n; i++)
        json_object_set_new(o, names[i], json_string(values[i]));
    return o;
}

static json_t *slice_json(const struct store_slice *r)
{
    json_t *o = json_pack("{s:s, s:s, s:s}", "profile", r->profile,
                          "state", slice_state_name(r->state),
                          "material", r->material);

    if (o && r->task_id[0])
        json_object_set_new(o, "task", json_string(r->task_id));
    if (o && r->reason[0])
        json_object_set_new(o, "reason", json_string(r->reason));
    return o;
}

/* A SCAD job's render: state (pending, rendering, ready, failed, or
 * cancelled: the job ended before it), task and STL; NULL for another
 * job, or on a store error (*err). */
static json_t *render_json(struct store *st, long long job_id, int *err)
{
    struct store_render r;
    const char *state = "pending";
    json_t *o;
    int rc = store_render_get(st, job_id, &r);

    *err = rc < 0;
    if (rc != 0)
        return NULL;
    if (r.sha256[0])
        state = "ready";
    else if (r.planned)
        state = "failed";
    else if (r.job_final)
        state = "cancelled";
    else if (r.task_id[0])
        state = "rendering";
    o = json_pack("{s:s, s:s}", "service", SLICING_RENDER_SERVICE, "state",
                  state);
    if (o && r.task_id[0])
        json_object_set_new(o, "task", json_string(r.task_id));
    if (o && r.sha256[0])
        json_object_set_new(o, "sha256", json_string(r.sha256));
    if (o)
        json_object_set_new(o, "defines", overrides_json(r.defines));
    return o;
}

int fleet_model_json(struct store *st, long long job_id, json_t *o)
{
    struct store_model_job m;
    struct store_slice *rows = NULL;
    json_t *sl, *ex, *render;
    size_t n = 0;
    int err = 0, rc = store_model_job_get(st, job_id, &m);

    if (rc != 0)
        return rc == STORE_NOTFOUND ? 0 : -1;
    render = render_json(st, job_id, &err);
    if (err)
        return -1;
    if (render)
        json_object_set_new(o, "render", render);
    if (store_job_slices(st, job_id, &rows, &n) < 0)
        return -1;
    sl = json_array();
    ex = json_array();
    for (size_t i = 0; sl && ex && i < n; i++) {
        json_array_append_new(sl, slice_json(&rows[i]));
        if (rows[i].state == SLICE_EXCLUDED)
            json_array_append_new(ex, json_pack("{s:s, s:s}", "profile",
                                                rows[i].profile, "reason",
                                                rows[i].reason));
    }
    free(rows);
    json_object_set_new(o, "model", json_pack("{s:s, s:s}", "sha256",
                                              m.model_sha256, "filename",
                                              m.model_name));
    json_object_set_new(o, "overrides", overrides_json(m.overrides));
    if (m.slice_profiles[0])
        json_object_set_new(o, "slice_profiles",
                            json_string(m.slice_profiles));
    json_object_set_new(o, "slices", sl ? sl : json_array());
    json_object_set_new(o, "excluded_profiles", ex ? ex : json_array());
    return 0;
}
