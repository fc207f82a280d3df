/* slicing.c - model types, bounding boxes, overrides and cache keys of
 * model jobs (slicing.h). */
#include "fleet/slicing.h"

#include "fleet/profile.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char *const model_exts[] = { "stl", "obj", "3mf" };

int slicing_model_ext(const char *ext)
{
    for (size_t i = 0; i < sizeof(model_exts) / sizeof(model_exts[0]); i++)
        if (ext && !strcmp(ext, model_exts[i]))
            return 1;
    return 0;
}

const char *slicing_model_exts(void)
{
    return "stl, obj, 3mf";
}

int slicing_job_ext(const char *ext)
{
    return slicing_model_ext(ext) ||
           (ext && !strcmp(ext, SLICING_SOURCE_EXT));
}

const char *slicing_job_exts(void)
{
    return "stl, obj, 3mf, " SLICING_SOURCE_EXT;
}

/* ---- bounding boxes ---------------------------------------------------- */

static void bb_add(struct slicing_bbox *bb, const double v[3])
{
    for (int i = 0; i < 3; i++) {
        if (!bb->known || v[i] < bb->min[i])
            bb->min[i] = v[i];
        if (!bb->known || v[i] > bb->max[i])
            bb->max[i] = v[i];
    }
    bb->known = 1;
}

static double le_float(const unsigned char *p)
{
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
                 (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    float f;

    memcpy(&f, &u, sizeof(f));
    return (double)f;
}

/* Triangles of a binary STL, 50 bytes each after the 84-byte header. */
static int bbox_binary(FILE *fp, unsigned long long n, struct slicing_bbox *bb,
                       char *err, size_t errlen)
{
    unsigned char t[50];

    for (unsigned long long i = 0; i < n; i++) {
        if (fread(t, 1, sizeof(t), fp) != sizeof(t)) {
            snprintf(err, errlen, "binary STL ends in triangle %llu", i);
            return -1;
        }
        for (int k = 0; k < 3; k++) {
            double v[3];
            for (int c = 0; c < 3; c++)
                v[c] = le_float(t + 12 + 12 * k + 4 * c);
            if (!isfinite(v[0]) || !isfinite(v[1]) || !isfinite(v[2])) {
                snprintf(err, errlen, "binary STL: triangle %llu has a "
                         "vertex that is not a number", i);
                return -1;
            }
            bb_add(bb, v);
        }
    }
    return 0;
}

/* Lines "WORD x y z" (ASCII STL's vertex, OBJ's v). */
static int bbox_text(FILE *fp, const char *word, struct slicing_bbox *bb,
                     char *err, size_t errlen)
{
    char line[512];
    size_t wl = strlen(word);

    while (fgets(line, sizeof(line), fp)) {
        char *p = line;
        double v[3];

        while (*p == ' ' || *p == '\t')
            p++;
        if (strncmp(p, word, wl) || (p[wl] != ' ' && p[wl] != '\t'))
            continue;
        if (sscanf(p + wl, "%lf %lf %lf", &v[0], &v[1], &v[2]) != 3 ||
            !isfinite(v[0]) || !isfinite(v[1]) || !isfinite(v[2])) {
            snprintf(err, errlen, "a '%s' line without three numbers", word);
            return -1;
        }
        bb_add(bb, v);
    }
    if (ferror(fp)) {
        snprintf(err, errlen, "cannot read: %s", strerror(errno));
        return -1;
    }
    return 0;
}

static int bbox_stl(FILE *fp, long long size, struct slicing_bbox *bb,
                    char *err, size_t errlen)
{
    unsigned char head[84];
    unsigned long long n;

    if (size < 84 || fread(head, 1, sizeof(head), fp) != sizeof(head)) {
        if (size >= 5 && !fseek(fp, 0, SEEK_SET) &&
            fread(head, 1, 5, fp) == 5 && !memcmp(head, "solid", 5))
            return bbox_text(fp, "vertex", bb, err, errlen);
        snprintf(err, errlen, "not an STL file (too short)");
        return -1;
    }
    n = (unsigned long long)head[80] | (unsigned long long)head[81] << 8 |
        (unsigned long long)head[82] << 16 | (unsigned long long)head[83] << 24;
    if ((unsigned long long)size == 84 + 50 * n)
        return bbox_binary(fp, n, bb, err, errlen);
    if (memcmp(head, "solid", 5) != 0) {
        snprintf(err, errlen, "not an STL file: neither ASCII (solid ...) "
                 "nor binary (84 + 50 x %llu triangles = %llu bytes, not "
                 "%lld)", n, 84 + 50 * n, size);
        return -1;
    }
    if (fseek(fp, 0, SEEK_SET) < 0) {
        snprintf(err, errlen, "cannot read: %s", strerror(errno));
        return -1;
    }
    return bbox_text(fp, "vertex", bb, err, errlen);
}

int slicing_bbox_file(const char *path, const char *ext,
                      struct slicing_bbox *bb, char *err, size_t errlen)
{
    struct stat sb;
    FILE *fp;
    int rc = -1;

    memset(bb, 0, sizeof(*bb));
    if (!strcmp(ext, "3mf"))
        return 0;
    fp = fopen(path, "rbe");
    if (!fp || fstat(fileno(fp), &sb) < 0) {
        snprintf(err, errlen, "cannot read the model: %s", strerror(errno));
        goto out;
    }
    if (!strcmp(ext, "stl"))
        rc = bbox_stl(fp, (long long)sb.st_size, bb, err, errlen);
    else if (!strcmp(ext, "obj"))
        rc = bbox_text(fp, "v", bb, err, errlen);
    else
        snprintf(err, errlen, "not a model type (%s)", slicing_model_exts());
    if (rc == 0 && !bb->known) {
        snprintf(err, errlen, "the %s model has no vertex", ext);
        rc = -1;
    }
out:
    if (fp)
        fclose(fp);
    return rc;
}

int slicing_fits(const struct profile *p, const struct slicing_bbox *bb,
                 char *why, size_t whylen)
{
    double dx, dy, dz;

    if (!bb->known)
        return 1;
    dx = bb->max[0] - bb->min[0];
    dy = bb->max[1] - bb->min[1];
    dz = bb->max[2] - bb->min[2];
    if (dx <= p->bed_x && dy <= p->bed_y && dz <= p->height)
        return 1;
    snprintf(why, whylen, "the model (%.1f x %.1f x %.1f mm) is larger than "
             "the bed of %s (%g x %g x %g mm)", dx, dy, dz, p->name,
             p->bed_x, p->bed_y, p->height);
    return 0;
}

/* ---- overrides --------------------------------------------------------- */

static int override_name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n < 1 || n > PROFILE_OVERRIDE_NAME_MAX)
        return 0;
    for (; *s; s++)
        if (!islower((unsigned char)*s) && !isdigit((unsigned char)*s) &&
            *s != '_')
            return 0;
    return 1;
}

static int value_ok(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

/* Sorts the n pairs by name (a repeat is an error) and writes them as
 * "name=value" lines into buf; what names them in a message. */
static int pairs_write(size_t n, const char *const *names,
                       const char *const *values, const char *what,
                       char *buf, size_t len, char *err, size_t errlen)
{
    size_t order[SLICING_OVERRIDES_MAX], used = 0;

    for (size_t i = 0; i < n; i++) {
        size_t k = i;

        /* insertion sort by name; a repeat is an error */
        while (k > 0 && strcmp(names[order[k - 1]], names[i]) >= 0) {
            if (!strcmp(names[order[k - 1]], names[i])) {
                snprintf(err, errlen, "%s: given twice", names[i]);
                return -1;
            }
            order[k] = order[k - 1];
            k--;
        }
        order[k] = i;
    }
    buf[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(buf + used, len - used, "%s=%s\n", names[order[i]],
                         values[order[i]]);

        if (w < 0 || (size_t)w >= len - used) {
            snprintf(err, errlen, "%s: longer than %zu bytes in all", what,
                     len - 1);
            return -1;
        }
        used += (size_t)w;
    }
    return 0;
}

int slicing_overrides_canon(size_t n, const char *const *names,
                            const char *const *values, char *buf,
                            size_t len, char *err, size_t errlen)
{
    if (n > SLICING_OVERRIDES_MAX) {
        snprintf(err, errlen, "overrides: at most %d",
                 SLICING_OVERRIDES_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!override_name_ok(names[i]) || !value_ok(values[i])) {
            snprintf(err, errlen, "%.40s: an override is a name of a-z 0-9 "
                     "_ (1..%d bytes) with a value on one line", names[i],
                     PROFILE_OVERRIDE_NAME_MAX);
            return -1;
        }
    }
    return pairs_write(n, names, values, "overrides", buf, len, err, errlen);
}

/* An OpenSCAD variable: [A-Za-z_][A-Za-z0-9_]*, 1..32 bytes, and not one
 * of the language's words (-Dmodule=3 only makes openscad fail later). */
static int define_name_ok(const char *s)
{
    static const char *const words[] = {
        "module", "function", "if", "else", "for", "let", "each", "true",
        "false", "undef", "include", "use", "assert", "echo",
    };
    size_t n = strlen(s);

    if (n < 1 || n > 32 || isdigit((unsigned char)*s))
        return 0;
    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
        if (!strcmp(s, words[i]))
            return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return 0;
    return 1;
}

/* A finite number as a C or OpenSCAD literal: 20, -1.5, 2e3. */
static int number_ok(const char *s)
{
    char *end;
    double v;

    if (!*s || strlen(s) > 32 || strspn(s, "0123456789+-.eE") != strlen(s))
        return 0;
    errno = 0;
    v = strtod(s, &end);
    return !*end && errno == 0 && isfinite(v);
}

int slicing_defines_canon(size_t n, const char *const *names,
                          const char *const *values, char *buf, size_t len,
                          char *err, size_t errlen)
{
    if (n > SLICING_DEFINES_MAX) {
        snprintf(err, errlen, "define: at most %d variables",
                 SLICING_DEFINES_MAX);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!define_name_ok(names[i]) || !number_ok(values[i])) {
            snprintf(err, errlen, "%.40s: a variable is a name of A-Z a-z "
                     "0-9 _ (1..32 bytes, not a digit first, not an OpenSCAD "
                     "word such as module) set to a number", names[i]);
            return -1;
        }
    }
    return pairs_write(n, names, values, "define", buf, len, err, errlen);
}

size_t slicing_overrides_split(char *buf, const char **names,
                               const char **values, size_t max)
{
    size_t n = 0;
    char *save = NULL;

    for (char *line = strtok_r(buf, "\n", &save); line && n < max;
         line = strtok_r(NULL, "\n", &save)) {
        char *eq = strchr(line, '=');

        if (!eq)
            continue;
        *eq = '\0';
        names[n] = line;
        values[n] = eq + 1;
        n++;
    }
    return n;
}

/* ---- cache key --------------------------------------------------------- */

/* The SHA-256 hex of text[0..len). */
static int sha256_hex(const char *text, size_t len, char key[FLEET_SHA256_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    if (EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL) != 1 ||
        mdlen != 32)
        return -1;
    for (unsigned int i = 0; i < mdlen; i++)
        snprintf(key + 2 * i, 3, "%02x", md[i]);
    return 0;
}

int slicing_render_key(const char *source_sha256, const char *service,
                       const char *version, const char *defines,
                       char key[FLEET_SHA256_HEX])
{
    char text[3072];
    int w;

    /* Its own first line: never the text of a slice's key; the defines
     * last, the only field with newlines. */
    w = snprintf(text, sizeof(text), "rrcloud-render-1\nsource %s\nservice "
                 "%s\nversion %s\ndefines\n%s", source_sha256, service,
                 version ? version : "", defines ? defines : "");
    if (w < 0 || (size_t)w >= sizeof(text))
        return -1;
    return sha256_hex(text, (size_t)w, key);
}

int slicing_cache_key(const char *model_sha256, const struct profile *p,
                      const char *material, const char *slicer_version,
                      const char *overrides, char key[FLEET_SHA256_HEX])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char text[4096];
    int w;

    /* One field a line, each value free of newlines but the overrides,
     * which come last: no two different inputs hash the same text. */
    w = snprintf(text, sizeof(text), "rrcloud-slice-1\nmodel %s\nprofile "
                 "%s %s\nslicer %s %s\nmaterial %s\noverrides\n%s",
                 model_sha256, p->name, p->sha256, p->slicer,
                 slicer_version ? slicer_version : "", material ? material
                                                                : "",
                 overrides ? overrides : "");
    if (w < 0 || (size_t)w >= sizeof(text) ||
        EVP_Digest(text, (size_t)w, md, &mdlen, EVP_sha256(), NULL) != 1 ||
        mdlen != 32)
        return -1;
    for (unsigned int i = 0; i < mdlen; i++)
        snprintf(key + 2 * i, 3, "%02x", md[i]);
    return 0;
}
