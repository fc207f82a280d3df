/*
 * profile.c - loading profiles/NAME.conf into a registry and checking a
 * job's overrides against one (see profile.h for the format).
 */
#include "fleet/profile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "common/confdir.h"
#include "common/kv.h"
#include "services/service.h"

#define PROF_MAX_PROFILES 256
#define PROF_MM_MAX 10000.0     /* no printer is 10 m wide */

struct profile_registry {
    struct profile *v;
    size_t n;
};

enum prof_key {
    PK_DESCRIPTION, PK_SLICER, PK_CONFIG, PK_DEFAULTMATERIAL, PK_BED,
    PK_HEIGHT, PK_NOZZLE, PK_COUNT
};

static const char *const prof_keys[PK_COUNT] = {
    "description", "slicer", "config", "defaultMaterial", "bed", "height",
    "nozzle",
};

struct prof_ctx {
    struct profile *p;
    unsigned seen;              /* bit per enum prof_key */
};

/* What a config file says about the printer (0 = not set). */
struct prof_cfg_facts {
    double bed_x, bed_y, height, nozzle;
    int post_process;
};

/* ---- small helpers ---------------------------------------------------- */

/* A config file name: [A-Za-z0-9._-], no leading '.' or '-', no "..";
 * always inside the profiles directory. */
static int prof_plain_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 255 || s[0] == '.' || s[0] == '-' ||
        strstr(s, "..") != NULL)
        return 0;
    return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789._-") == n;
}

/* A lowercase fleet name (profile and material names). */
static int prof_lower_name(const char *s)
{
    if (!fleet_name_valid(s))
        return 0;
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            return 0;
    return 1;
}

/* A millimetre value: (0, PROF_MM_MAX], the whole string. */
static int prof_parse_mm(const char *s, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !isfinite(v) || v <= 0 ||
        v > PROF_MM_MAX)
        return -1;
    *out = v;
    return 0;
}

/* "250x210" into x and y. */
static int prof_parse_bed(const char *s, double *x, double *y)
{
    char buf[64], *sep;

    if (strlen(s) >= sizeof(buf))
        return -1;
    snprintf(buf, sizeof(buf), "%s", s);
    if ((sep = strchr(buf, 'x')) == NULL)
        return -1;
    *sep = '\0';
    return prof_parse_mm(buf, x) || prof_parse_mm(sep + 1, y) ? -1 : 0;
}

/* Equal to a tenth of a micron: both come from decimal text. */
static int prof_same_mm(double a, double b)
{
    return fabs(a - b) < 1e-4;
}

static int prof_set_file(char **dst, const char *value, int lineno,
                         const char *key, char *err, size_t errlen)
{
    if (!prof_plain_name(value)) {
        snprintf(err, errlen, "line %d: %s: '%.64s' must be a file name in "
                 "the profiles directory ([A-Za-z0-9._-])", lineno, key,
                 value);
        return -1;
    }
    if ((*dst = strdup(value)) == NULL) {
        snprintf(err, errlen, "line %d: out of memory", lineno);
        return -1;
    }
    return 0;
}

/* ---- conf keys -------------------------------------------------------- */

static int prof_add_material(struct profile *p, const char *m,
                             const char *value, int lineno, char *err,
                             size_t errlen)
{
    struct profile_material *pm;

    if (!prof_lower_name(m)) {
        snprintf(err, errlen, "line %d: material.%.64s: the material must be "
                 "a lowercase name ([a-z0-9._#+-])", lineno, m);
        return -1;
    }
    if (profile_material(p, m) != NULL) {
        snprintf(err, errlen, "line %d: material.%s given twice", lineno, m);
        return -1;
    }
    if (p->n_materials >= PROFILE_MATERIALS_MAX) {
        snprintf(err, errlen, "line %d: more than %d materials", lineno,
                 PROFILE_MATERIALS_MAX);
        return -1;
    }
    pm = &p->materials[p->n_materials];
    snprintf(pm->name, sizeof(pm->name), "%s", m);
    if (prof_set_file(&pm->file, value, lineno, "material", err, errlen))
        return -1;
    p->n_materials++;
    return 0;
}

static int prof_override_name_ok(const char *s)
{
    size_t n = strlen(s);

    return n > 0 && n <= PROFILE_OVERRIDE_NAME_MAX &&
           strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

static int prof_add_override(struct profile *p, const char *name,
                             const char *value, int lineno, char *err,
                             size_t errlen)
{
    struct profile_override *o;
    const char *v;

    if (!prof_override_name_ok(name)) {
        snprintf(err, errlen, "line %d: override.%.64s: the name must be "
                 "[a-z0-9_]{1,%d}", lineno, name, PROFILE_OVERRIDE_NAME_MAX);
        return -1;
    }
    for (size_t i = 0; i < p->n_overrides; i++)
        if (!strcmp(p->overrides[i].name, name)) {
            snprintf(err, errlen, "line %d: override.%s given twice", lineno,
                     name);
            return -1;
        }
    if (p->n_overrides >= PROFILE_OVERRIDES_MAX) {
        snprintf(err, errlen, "line %d: more than %d overrides", lineno,
                 PROFILE_OVERRIDES_MAX);
        return -1;
    }
    /* One word; "$value" at most once and no other '$'. */
    v = strstr(value, "$value");
    if (value[0] == '\0' || strpbrk(value, " \t") != NULL ||
        (v && strchr(v + 1, '$')) || strchr(value, '$') != v) {
        snprintf(err, errlen, "line %d: override.%s: one word, with $value "
                 "at most once where the job's value goes", lineno, name);
        return -1;
    }
    o = &p->overrides[p->n_overrides];
    snprintf(o->name, sizeof(o->name), "%s", name);
    o->is_switch = v == NULL;
    if ((o->option = strdup(value)) == NULL) {
        snprintf(err, errlen, "line %d: out of memory", lineno);
        return -1;
    }
    p->n_overrides++;
    return 0;
}

static int prof_set_key(struct profile *p, enum prof_key k, const char *value,
                        int lineno, char *err, size_t errlen)
{
    int bad = 0;

    switch (k) {
    case PK_DESCRIPTION:
        free(p->description);
        if ((p->description = strdup(value)) == NULL) {
            snprintf(err, errlen, "line %d: out of memory", lineno);
            return -1;
        }
        return 0;
    case PK_SLICER:
        bad = strlen(value) >= sizeof(p->slicer);
        if (!bad)
            snprintf(p->slicer, sizeof(p->slicer), "%s", value);
        break;
    case PK_CONFIG:
        return prof_set_file(&p->config, value, lineno, "config", err,
                             errlen);
    case PK_DEFAULTMATERIAL:
        bad = !prof_lower_name(value);
        if (!bad)
            snprintf(p->default_material, sizeof(p->default_material), "%s",
                     value);
        break;
    case PK_BED: bad = prof_parse_bed(value, &p->bed_x, &p->bed_y); break;
    case PK_HEIGHT: bad = prof_parse_mm(value, &p->height); break;
    case PK_NOZZLE: bad = prof_parse_mm(value, &p->nozzle); break;
    default: bad = 1; break;
    }
    if (bad) {
        snprintf(err, errlen, "line %d: bad value '%.64s' for %s%s", lineno,
                 value, prof_keys[k], k == PK_BED ? " (WIDTHxDEPTH in mm, "
                 "e.g. 250x210)" : k == PK_HEIGHT || k == PK_NOZZLE ?
                 " (mm, e.g. 0.4)" : "");
        return -1;
    }
    return 0;
}

static int prof_conf_cb(void *arg, const char *key, const char *value,
                        int lineno, char *err, size_t errlen)
{
    struct prof_ctx *ctx = arg;
    int k;

    if (strncmp(key, "material.", 9) == 0)
        return prof_add_material(ctx->p, key + 9, value, lineno, err, errlen);
    if (strncmp(key, "override.", 9) == 0)
        return prof_add_override(ctx->p, key + 9, value, lineno, err, errlen);
    for (k = 0; k < PK_COUNT && strcmp(key, prof_keys[k]) != 0; k++)
        ;
    if (k == PK_COUNT) {
        snprintf(err, errlen, "line %d: unknown key '%.64s'", lineno, key);
        return -1;
    }
    if (ctx->seen & (1u << k)) {
        snprintf(err, errlen, "line %d: %s given twice", lineno, key);
        return -1;
    }
    ctx->seen |= 1u << k;
    return prof_set_key(ctx->p, (enum prof_key)k, value, lineno, err, errlen);
}

/* ---- config files ----------------------------------------------------- */

/* bed_shape = 0x0,250x0,250x210,0x210: the width and depth it spans
 * (a bed whose origin is not a corner, -5x-5,245x-5,..., too). */
static int prof_parse_shape(const char *v, double *x, double *y)
{
    char buf[512], *save = NULL, *pt;
    double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
    int n = 0;

    if (strlen(v) >= sizeof(buf))
        return -1;
    snprintf(buf, sizeof(buf), "%s", v);
    for (pt = strtok_r(buf, ",", &save); pt; pt = strtok_r(NULL, ",", &save)) {
        char *sep = strchr(pt, 'x'), *end;
        double px, py;

        if (!sep)
            return -1;
        *sep = '\0';
        px = strtod(pt, &end);
        if (*end)
            return -1;
        py = strtod(sep + 1, &end);
        if (*end)
            return -1;
        if (n++ == 0) {
            x0 = x1 = px;
            y0 = y1 = py;
        }
        x0 = fmin(x0, px);
        y0 = fmin(y0, py);
        x1 = fmax(x1, px);
        y1 = fmax(y1, py);
    }
    *x = x1 - x0;
    *y = y1 - y0;
    return *x > 0 && *y > 0 ? 0 : -1;
}

static int prof_cfg_cb(void *arg, const char *key, const char *value,
                       int lineno, char *err, size_t errlen)
{
    struct prof_cfg_facts *f = arg;
    char *end;

    if (!strcmp(key, "post_process") && value[0] != '\0') {
        f->post_process = lineno;
    } else if (!strcmp(key, "bed_shape")) {
        if (prof_parse_shape(value, &f->bed_x, &f->bed_y)) {
            snprintf(err, errlen, "line %d: bed_shape '%.64s' is not "
                     "XxY,XxY,...", lineno, value);
            return -1;
        }
    } else if (!strcmp(key, "max_print_height")) {
        f->height = strtod(value, &end);
    } else if (!strcmp(key, "nozzle_diameter")) {
        /* "0.4" or one per extruder, "0.4,0.4": the first */
        f->nozzle = strtod(value, &end);
    }
    return 0;
}

/* ---- CuraEngine's JSON settings files ---------------------------------- */

static int prof_is_json(const char *name)
{
    size_t n = strlen(name);

    return n > 5 && !strcmp(name + n - 5, ".json");
}

/* A number setting's default_value ("settings": {"machine_width":
 * {"default_value": 220}}), 0 when not set. */
static double prof_json_mm(json_t *settings, const char *key)
{
    json_t *v = json_object_get(json_object_get(settings, key),
                                "default_value");

    return json_is_number(v) ? json_number_value(v) : 0;
}

/* A .json config (CuraEngine -j): its bed, height and nozzle; and none of
 * the settings p's overrides change, for the slicer reads this file after
 * the job's options (-s key=value) and would undo them. */
static int prof_json_facts(const struct profile *p, const char *path,
                           struct prof_cfg_facts *f, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *o = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    json_t *set = json_object_get(o, "settings");
    int rc = -1;

    if (!json_is_object(o) || !json_is_object(set)) {
        snprintf(err, errlen, "line %d: not a JSON object with \"settings\""
                 "%s%s", o ? 1 : jerr.line, o ? "" : ": ",
                 o ? "" : jerr.text);
        goto out;
    }
    if (json_object_get(o, "inherits")) {
        snprintf(err, errlen, "\"inherits\" is not allowed: give every "
                 "setting in the file");
        goto out;
    }
    for (size_t i = 0; i < p->n_overrides; i++) {
        const char *opt = p->overrides[i].option, *eq = strchr(opt, '=');
        char name[128];

        snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - opt) : 0, opt);
        if (name[0] && json_object_get(set, name)) {
            snprintf(err, errlen, "sets %s, which override.%s changes (the "
                     "slicer reads this file after a job's overrides)", name,
                     p->overrides[i].name);
            goto out;
        }
    }
    f->bed_x = prof_json_mm(set, "machine_width");
    f->bed_y = prof_json_mm(set, "machine_depth");
    f->height = prof_json_mm(set, "machine_height");
    f->nozzle = prof_json_mm(set, "machine_nozzle_size");
    if ((f->bed_x > 0) != (f->bed_y > 0)) {
        snprintf(err, errlen, "machine_width and machine_depth go together");
        goto out;
    }
    rc = 0;
out:
    json_decref(o);
    return rc;
}

/* Reads the config file name of p: a regular file of at most
 * PROFILE_FILE_MAX bytes that kv can read (or a JSON settings file, .json),
 * without post_process, and agreeing with p's bed, height and nozzle where
 * it names them. */
static int prof_check_cfg(const struct profile *p, const char *key,
                          const char *name, char *err, size_t errlen)
{
    struct prof_cfg_facts f = { 0 };
    char path[PATH_MAX], inner[384];
    struct stat st;

    snprintf(path, sizeof(path), "%s/%s", p->dir, name);
    if (stat(path, &st) != 0) {
        snprintf(err, errlen, "%s: %s: %s: %s", p->file, key, path,
                 strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > PROFILE_FILE_MAX) {
        snprintf(err, errlen, "%s: %s: %s: not a regular file of at most "
                 "%d bytes", p->file, key, path, PROFILE_FILE_MAX);
        return -1;
    }
    if ((prof_is_json(name)
             ? prof_json_facts(p, path, &f, inner, sizeof(inner))
             : kv_parse_file(path, prof_cfg_cb, &f, inner, sizeof(inner))) != 0) {
        snprintf(err, errlen, "%s: %s: %s", p->file, key, inner);
        return -1;
    }
    if (f.post_process) {
        snprintf(err, errlen, "%s: %s: %s: line %d: post_process is not "
                 "allowed (the slicer services never run it)", p->file, key,
                 path, f.post_process);
        return -1;
    }
    if ((f.bed_x && (!prof_same_mm(f.bed_x, p->bed_x) ||
                     !prof_same_mm(f.bed_y, p->bed_y))) ||
        (f.height && !prof_same_mm(f.height, p->height)) ||
        (f.nozzle && !prof_same_mm(f.nozzle, p->nozzle))) {
        snprintf(err, errlen, "%s: %s: %s sets a bed of %gx%g, height %g or "
                 "nozzle %g, but the profile says bed = %gx%g, height = %g, "
                 "nozzle = %g", p->file, key, path, f.bed_x, f.bed_y,
                 f.height, f.nozzle, p->bed_x, p->bed_y, p->height,
                 p->nozzle);
        return -1;
    }
    return 0;
}

/* ---- checks against the slicer service -------------------------------- */

static const struct service *prof_slicer(const struct profile *p,
                                         const struct service_registry *sr,
                                         char *err, size_t errlen)
{
    const struct service *s = service_find(sr, p->slicer);
    char names[1024], inner[256];

    if (s == NULL) {
        if (service_names_csv(sr, names, sizeof(names)) != 0)
            snprintf(names, sizeof(names), "...");
        snprintf(err, errlen, "%s: slicer: no slicer service '%s' "
                 "(services: %s)", p->file, p->slicer, names);
        return NULL;
    }
    if (s->kind != SERVICE_KIND_RUN ||
        service_check_input(s, 0, "stl", 0, inner, sizeof(inner)) != 0) {
        snprintf(err, errlen, "%s: slicer: service '%s' is no slicer (it "
                 "must run a command on stl models)", p->file, p->slicer);
        return NULL;
    }
    if (s->prearg == NULL) {
        snprintf(err, errlen, "%s: slicer: service '%s' takes no config "
                 "files (it has no argInput)", p->file, p->slicer);
        return NULL;
    }
    return s;
}

/* The config files go to the service as argInput inputs: their types must
 * be configs it takes, and it must take them all with one model. */
static int prof_check_inputs(const struct profile *p, const struct service *s,
                             char *err, size_t errlen)
{
    unsigned need = 2 + (p->n_materials > 0);
    char inner[256];

    for (size_t i = 0; i <= p->n_materials; i++) {
        const char *name = i == 0 ? p->config : p->materials[i - 1].file;
        const char *dot = strrchr(name, '.');
        char ext[SERVICE_EXT_MAX + 1];

        if (service_input_ext(name, ext, sizeof(ext)) != 0 ||
            service_check_input(s, 0, ext, 1, inner, sizeof(inner)) != 0) {
            snprintf(err, errlen, "%s: %s: %s: slicer %s takes no config "
                     "of type %s", p->file, i == 0 ? "config" : "material",
                     name, s->name, dot ? dot : "(none)");
            return -1;
        }
    }
    if (s->input_max < need) {
        snprintf(err, errlen, "%s: slicer: service %s takes %u inputs, and "
                 "this profile needs %u", p->file, s->name, s->input_max,
                 need);
        return -1;
    }
    return 0;
}

/* Each override's option, with a sample value, is one the slicer service
 * allows a client to send. */
static int prof_check_override_options(const struct profile *p,
                                       const struct service *s, char *err,
                                       size_t errlen)
{
    for (size_t i = 0; i < p->n_overrides; i++) {
        const struct profile_override *o = &p->overrides[i];
        char opt[SERVICE_VALUE_MAX + 1], field[64], inner[384];

        snprintf(field, sizeof(field), "override.%s", o->name);
        if (profile_override_option(p, o->name, o->is_switch ? "yes" : "1",
                                    opt, sizeof(opt)) < 0 ||
            service_check_option(s, field, opt, inner, sizeof(inner)) != 0) {
            snprintf(err, errlen, "%s: %s: '%s' is not an option slicer %s "
                     "allows (%s)", p->file, field, o->option, s->name,
                     inner);
            return -1;
        }
    }
    return 0;
}

/* ---- hash ------------------------------------------------------------- */

/* Hashes "name\0" and the content of dir/name. */
static int prof_hash_file(EVP_MD_CTX *ctx, const char *dir, const char *name)
{
    char path[PATH_MAX], buf[16384];
    ssize_t n;
    int fd, rc = -1;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (EVP_DigestUpdate(ctx, name, strlen(name) + 1) != 1 ||
        (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return -1;
    while ((n = read(fd, buf, sizeof(buf))) > 0)
        if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
            goto out;
    rc = n == 0 ? 0 : -1;
out:
    close(fd);
    return rc;
}

/* SHA-256 over the conf, the config and each material's file (in name
 * order, each preceded by its name so moving content between files
 * changes the hash). */
static int prof_hash(struct profile *p, const char *conf_name)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    int rc = -1;

    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1 ||
        prof_hash_file(ctx, p->dir, conf_name) != 0 ||
        prof_hash_file(ctx, p->dir, p->config) != 0)
        goto out;
    for (size_t i = 0; i < p->n_materials; i++)
        if (prof_hash_file(ctx, p->dir, p->materials[i].file) != 0)
            goto out;
    if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)
        goto out;
    for (unsigned i = 0; i < 32; i++)
        snprintf(p->sha256 + 2 * i, 3, "%02x", md[i]);
    rc = 0;
out:
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* ---- one profile ------------------------------------------------------ */

static void profile_clear(struct profile *p)
{
    free(p->file);
    free(p->description);
    free(p->config);
    free(p->dir);
    for (size_t i = 0; i < p->n_materials; i++)
        free(p->materials[i].file);
    for (size_t i = 0; i < p->n_overrides; i++)
        free(p->overrides[i].option);
    memset(p, 0, sizeof(*p));
}

static int prof_cmp_material(const void *a, const void *b)
{
    return strcmp(((const struct profile_material *)a)->name,
                  ((const struct profile_material *)b)->name);
}

static int prof_cmp_override(const void *a, const void *b)
{
    return strcmp(((const struct profile_override *)a)->name,
                  ((const struct profile_override *)b)->name);
}

/* Required keys, the default material, the files and the slicer. */
static int prof_validate(struct profile *p, unsigned seen,
                         const struct service_registry *sr, char *err,
                         size_t errlen)
{
    static const enum prof_key required[] = {
        PK_SLICER, PK_CONFIG, PK_BED, PK_HEIGHT, PK_NOZZLE,
    };
    const struct service *s;

    for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++)
        if (!(seen & (1u << required[i]))) {
            snprintf(err, errlen, "%s: missing %s", p->file,
                     prof_keys[required[i]]);
            return -1;
        }
    qsort(p->materials, p->n_materials, sizeof(p->materials[0]),
          prof_cmp_material);
    qsort(p->overrides, p->n_overrides, sizeof(p->overrides[0]),
          prof_cmp_override);
    if (p->default_material[0] && !profile_material(p, p->default_material)) {
        snprintf(err, errlen, "%s: defaultMaterial: '%s' has no material.%s "
                 "line", p->file, p->default_material, p->default_material);
        return -1;
    }
    if (prof_check_cfg(p, "config", p->config, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < p->n_materials; i++) {
        char key[80];

        snprintf(key, sizeof(key), "material.%s", p->materials[i].name);
        if (prof_check_cfg(p, key, p->materials[i].file, err, errlen) != 0)
            return -1;
    }
    if ((s = prof_slicer(p, sr, err, errlen)) == NULL ||
        prof_check_inputs(p, s, err, errlen) != 0)
        return -1;
    return prof_check_override_options(p, s, err, errlen);
}

static int prof_load_one(struct profile *p, const char *dir,
                         const char *absdir, const char *fname,
                         const struct service_registry *sr, char *err,
                         size_t errlen)
{
    struct prof_ctx ctx = { .p = p, .seen = 0 };
    /* the whole name before ".conf": profile names may hold dots */
    size_t plen = strlen(dir) + strlen(fname) + 2, n = strlen(fname) - 5;

    memset(p, 0, sizeof(*p));
    if ((p->file = malloc(plen)) == NULL ||
        (p->description = strdup("")) == NULL ||
        (p->dir = strdup(absdir)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(p->file, plen, "%s/%s", dir, fname);
    if (n >= sizeof(p->name)) {
        snprintf(err, errlen, "%s: the profile name (before .conf) must be "
                 "a lowercase name of 1 to %d bytes", p->file,
                 FLEET_NAME_MAX - 1);
        return -1;
    }
    memcpy(p->name, fname, n);
    p->name[n] = '\0';
    if (!prof_lower_name(p->name)) {
        snprintf(err, errlen, "%s: the profile name (before .conf) must be "
                 "a lowercase name ([a-z0-9._#+-])", p->file);
        return -1;
    }
    if (kv_parse_file(p->file, prof_conf_cb, &ctx, err, errlen) != 0 ||
        prof_validate(p, ctx.seen, sr, err, errlen) != 0)
        return -1;
    if (prof_hash(p, fname) != 0) {
        snprintf(err, errlen, "%s: cannot hash its files: %s", p->file,
                 strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- registry --------------------------------------------------------- */

static int prof_cmp_profile(const void *a, const void *b)
{
    return strcmp(((const struct profile *)a)->name,
                  ((const struct profile *)b)->name);
}

struct profile_registry *profile_registry_load(
    const char *dir, const struct service_registry *services,
    char *err, size_t errlen)
{
    struct profile_registry *reg = calloc(1, sizeof(*reg));
    char **files = NULL, absdir[PATH_MAX];
    long n = 0;

    if (reg == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (dir[0] == '\0')
        return reg;
    if (realpath(dir, absdir) == NULL) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        goto fail;
    }
    if ((n = confdir_list(dir, PROF_MAX_PROFILES, "profiles", &files, err,
                          errlen)) <= 0) {
        if (n == 0)
            return reg;
        goto fail;
    }
    if ((reg->v = calloc((size_t)n, sizeof(*reg->v))) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (long i = 0; i < n; i++)
        if (prof_load_one(&reg->v[reg->n++], dir, absdir, files[i], services,
                          err, errlen) != 0)
            goto fail;
    qsort(reg->v, reg->n, sizeof(*reg->v), prof_cmp_profile);
    for (size_t i = 1; i < reg->n; i++)
        if (!strcmp(reg->v[i - 1].name, reg->v[i].name)) {
            snprintf(err, errlen, "%s: profile '%s' is already defined by "
                     "%s", reg->v[i].file, reg->v[i].name, reg->v[i - 1].file);
            goto fail;
        }
    confdir_free(files);
    return reg;
fail:
    confdir_free(files);
    profile_registry_free(reg);
    return NULL;
}

void profile_registry_free(struct profile_registry *reg)
{
    if (reg == NULL)
        return;
    for (size_t i = 0; i < reg->n; i++)
        profile_clear(&reg->v[i]);
    free(reg->v);
    free(reg);
}

const struct profile *profile_find(const struct profile_registry *reg,
                                   const char *name)
{
    size_t lo = 0, hi = reg != NULL && name != NULL ? reg->n : 0;

    while (lo < hi) {           /* reg->v is sorted by name */
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, reg->v[mid].name);

        if (c == 0)
            return &reg->v[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

size_t profile_count(const struct profile_registry *reg)
{
    return reg != NULL ? reg->n : 0;
}

const struct profile *profile_at(const struct profile_registry *reg,
                                 size_t i)
{
    return reg != NULL && i < reg->n ? &reg->v[i] : NULL;
}

const struct profile_material *profile_material(const struct profile *p,
                                                const char *name)
{
    for (size_t i = 0; i < p->n_materials; i++)
        if (!strcmp(p->materials[i].name, name))
            return &p->materials[i];
    return NULL;
}
