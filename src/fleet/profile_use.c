/*
 * profile_use.c - what the rest of rrcloud asks of loaded profiles: a
 * printer's profile name, a job's overrides and the slicer options they
 * become, and the JSON the API shows (profile.h).
 */
#include "fleet/profile.h"

#include <stdio.h>
#include <string.h>

#include "common/kv.h"
#include "services/service.h"

/* ---- checks of client values ------------------------------------------ */

/* "a, b, c" of the names in reg (cut short with "..." if len is small). */
static void prof_names(const struct profile_registry *reg, char *buf,
                       size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < profile_count(reg); i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
                         profile_at(reg, i)->name);

        if (w < 0 || (size_t)w >= len - used) {
            snprintf(buf + (len > 4 ? len - 4 : 0), len > 4 ? 4 : len, "...");
            return;
        }
        used += (size_t)w;
    }
}

int profile_check_name(const struct profile_registry *reg, const char *name,
                       char *err, size_t errlen)
{
    char names[512];

    if (name[0] == '\0' || profile_count(reg) == 0 ||
        profile_find(reg, name) != NULL)
        return 0;
    prof_names(reg, names, sizeof(names));
    snprintf(err, errlen, "no printer profile '%.64s' (profiles: "
             "%s)", name, names);
    return -1;
}

static const struct profile_override *prof_override(const struct profile *p,
                                                    const char *name)
{
    for (size_t i = 0; i < p->n_overrides; i++)
        if (!strcmp(p->overrides[i].name, name))
            return &p->overrides[i];
    return NULL;
}

static void prof_override_names(const struct profile *p, char *buf,
                                size_t len)
{
    size_t used = 0;

    snprintf(buf, len, "none");
    for (size_t i = 0; i < p->n_overrides && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
                         p->overrides[i].name);

        if (w < 0)
            return;
        used += (size_t)w;
    }
}

int profile_check_overrides(const struct profile *p, size_t n,
                            const char *const *names,
                            const char *const *values,
                            char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        const struct profile_override *o = prof_override(p, names[i]);
        char allowed[512], opt[SERVICE_VALUE_MAX + 1];
        int on;

        if (o == NULL) {
            prof_override_names(p, allowed, sizeof(allowed));
            snprintf(err, errlen, "%.64s: profile %s allows no override "
                     "'%.64s' (allowed: %s)", names[i], p->name, names[i],
                     allowed);
            return -1;
        }
        if (o->is_switch && kv_parse_bool(values[i], &on) != 0) {
            snprintf(err, errlen, "%s: must be yes or no", o->name);
            return -1;
        }
        if (o->is_switch)
            continue;
        if (service_check_value(o->name, values[i], err, errlen) != 0)
            return -1;
        if (profile_override_option(p, o->name, values[i], opt,
                                    sizeof(opt)) < 0) {
            snprintf(err, errlen, "%s: the slicer option would be longer "
                     "than %d bytes", o->name, SERVICE_VALUE_MAX);
            return -1;
        }
    }
    return 0;
}

int profile_override_option(const struct profile *p, const char *name,
                            const char *value, char *buf, size_t len)
{
    const struct profile_override *o = prof_override(p, name);
    const char *v;
    int on, w;

    if (o == NULL || len == 0)
        return -1;
    if (o->is_switch) {
        if (kv_parse_bool(value, &on) != 0)
            return -1;
        if (!on)
            return 0;
        w = snprintf(buf, len, "%s", o->option);
    } else {
        v = strstr(o->option, "$value");
        w = snprintf(buf, len, "%.*s%s%s", (int)(v - o->option), o->option,
                     value, v + 6);
    }
    return w < 0 || (size_t)w >= len ? -1 : 1;
}

/* ---- JSON ------------------------------------------------------------- */

json_t *profile_json(const struct profile *p)
{
    json_t *o = json_object(), *mats = json_array(), *ov = json_object();

    if (!o || !mats || !ov)
        goto fail;
    for (size_t i = 0; i < p->n_materials; i++)
        if (json_array_append_new(mats, json_string(p->materials[i].name)))
            goto fail;
    for (size_t i = 0; i < p->n_overrides; i++)
        if (json_object_set_new(ov, p->overrides[i].name,
                                json_string(p->overrides[i].option)))
            goto fail;
    /* json_object_set_new drops the value when it fails */
    if (json_object_set_new(o, "materials", mats) ||
        json_object_set_new(o, "overrides", ov)) {
        json_decref(o);
        return NULL;
    }
    if (json_object_set_new(o, "name", json_string(p->name)) ||
        json_object_set_new(o, "description", json_string(p->description)) ||
        json_object_set_new(o, "slicer", json_string(p->slicer)) ||
        json_object_set_new(o, "config", json_string(p->config)) ||
        json_object_set_new(o, "default_material",
                            p->default_material[0]
                            ? json_string(p->default_material)
                            : json_null()) ||
        json_object_set_new(o, "bed", json_pack("{sfsf}", "x", p->bed_x,
                                                "y", p->bed_y)) ||
        json_object_set_new(o, "height", json_real(p->height)) ||
        json_object_set_new(o, "nozzle", json_real(p->nozzle)) ||
        json_object_set_new(o, "sha256", json_string(p->sha256))) {
        json_decref(o);
        return NULL;
    }
    return o;
fail:
    json_decref(o);
    json_decref(mats);
    json_decref(ov);
    return NULL;
}
