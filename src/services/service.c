/*
 * service.c - loading services/NAME.conf into a registry (see service.h
 * for the format); client value checks and argv are in service_argv.c.
 */
#include "services/service.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/confdir.h"
#include "common/kv.h"
#include "services/service_int.h"

#define SVC_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"
#define SVC_MAX_SERVICES 256

struct service_registry {
    struct service *v;
    size_t n;
};

enum svc_key {
    K_PATH, K_CMD, K_ARGINPUT, K_FILEOUT, K_OUTPUT, K_NOOUTPUT, K_NATIVEARGS,
    K_DESCRIPTION, K_INPUTTYPES, K_INPUTMIN, K_INPUTMAX, K_OPTIONS,
    K_OPTIONFLAG, K_INPUTFLAG, K_TIMEOUT, K_MAXOUTPUT, K_MAXMEMORY, K_MAXCPU,
    K_MAXPROCS, K_RERUN, K_TYPE, K_REQUIREOPTION, K_FAILLOG, K_SANDBOXREAD,
    K_SANDBOXWRITE, K_SANDBOXDEVICE, K_SANDBOXNETWORK, K_SLICER, K_NICE,
    K_COUNT
};

static const char *const svc_keys[K_COUNT] = {
    "path", "cmd", "argInput", "fileOut", "output", "noOutput", "nativeArgs",
    "description", "inputTypes", "inputMin", "inputMax", "options",
    "optionFlag", "inputFlag", "timeout", "maxOutput", "maxMemory", "maxCpu",
    "maxProcs", "rerun", "type", "requireOption", "failLog", "sandboxRead",
    "sandboxWrite", "sandboxDevice", "sandboxNetwork", "slicer", "nice",
};

/* Limits a service gets when its conf names none (0 there: no limit). */
#define SVC_DEFAULT_MAX_OUTPUT (1ULL << 30)
#define SVC_DEFAULT_MAX_MEMORY (4ULL << 30)

struct svc_ctx {
    struct service *s;
    unsigned seen;              /* bit per enum svc_key */
};
_Static_assert(K_COUNT <= 32, "svc_ctx.seen has a bit per key");

/* A word contains '$' other than in the allowed variable names. */
static int svc_has_stray_var(const char *w, const char *const *vars)
{
    for (const char *p = strchr(w, '$'); p != NULL; p = strchr(p + 1, '$')) {
        int ok = 0;
        for (const char *const *v = vars; *v != NULL; v++)
            if (strncmp(p, *v, strlen(*v)) == 0)
                ok = 1;
        if (!ok)
            return 1;
    }
    return 0;
}

static void service_clear(struct service *s)
{
    free(s->name);
    free(s->file);
    free(s->description);
    free(s->path);
    free(s->cmd);
    svc_vec_free(s->cmd_argv);
    free(s->arg_input);
    free(s->prearg);
    free(s->file_out);
    free(s->output);
    svc_vec_free(s->options);
    svc_vec_free(s->require_option);
    free(s->fail_log);
    svc_vec_free(s->sandbox_read);
    svc_vec_free(s->sandbox_write);
    svc_vec_free(s->sandbox_device);
    free(s->option_flag);
    free(s->input_flag);
    free(s->input_types);
    memset(s, 0, sizeof(*s));
}

/* ---- conf keys -------------------------------------------------------- */

static int svc_set_str(char **dst, const char *value, int lineno,
                       char *err, size_t errlen)
{
    if ((*dst = strdup(value)) == NULL) {
        snprintf(err, errlen, "line %d: out of memory", lineno);
        return -1;
    }
    return 0;
}

static int svc_set_word(char **dst, const char *value, int lineno,
                        const char *key, char *err, size_t errlen)
{
    if (value[0] == '\0' || strpbrk(value, " \t$") != NULL) {
        snprintf(err, errlen, "line %d: %s must be one word without '$'",
                 lineno, key);
        return -1;
    }
    return svc_set_str(dst, value, lineno, err, errlen);
}

static int svc_add_patterns(struct service *s, const char *value, int native,
                            int lineno, char *err, size_t errlen)
{
    char **items = NULL;
    long n = svc_split(value, ",", &items);
    int rc = -1;

    if (n < 0) {
        snprintf(err, errlen, "line %d: out of memory", lineno);
        return -1;
    }
    for (long i = 0; i < n; i++) {
        char buf[SERVICE_VALUE_MAX + 2];
        int len = snprintf(buf, sizeof(buf), "%s%s", items[i], native ? "*" : "");

        if (strpbrk(items[i], " \t") != NULL || len < 0 || (size_t)len >= sizeof(buf)) {
            snprintf(err, errlen, "line %d: pattern '%.64s' has a blank or is too long",
                     lineno, items[i]);
            goto out;
        }
        if (svc_vec_push(&s->options, &s->n_options, buf, (size_t)len) != 0) {
            snprintf(err, errlen, "line %d: out of memory", lineno);
            goto out;
        }
    }
    rc = 0;
out:
    svc_vec_free(items);
    return rc;
}

/* A comma list of patterns into *v (requireOption): each one word. */
static int svc_set_list(char ***v, const char *value, int lineno,
                        const char *key, char *err, size_t errlen)
{
    long n;

    svc_vec_free(*v);           /* a repeated key: the last one counts */
    n = svc_split(value, ",", v);

    if (n < 0) {
        snprintf(err, errlen, "line %d: out of memory", lineno);
        return -1;
    }
    for (long i = 0; i < n; i++) {
        if (strpbrk((*v)[i], " \t") != NULL ||
            strlen((*v)[i]) > SERVICE_VALUE_MAX) {
            snprintf(err, errlen, "line %d: %s pattern '%.64s' has a blank or "
                     "is too long", lineno, key, (*v)[i]);
            return -1;
        }
    }
    if (n == 0) {
        snprintf(err, errlen, "line %d: %s needs at least one pattern",
                 lineno, key);
        return -1;
    }
    return 0;
}

/* failLog: log line patterns, which may hold blanks; checked for being
 * splittable here, split again when a log is judged. */
static int svc_set_fail_log(struct service *s, const char *value, int lineno,
                            char *err, size_t errlen)
{
    char **items = NULL;
    long n = svc_split(value, ",", &items);

    svc_vec_free(items);
    if (n <= 0 || strlen(value) > SERVICE_VALUE_MAX) {
        snprintf(err, errlen, "line %d: failLog needs 1 to %d bytes of "
                 "patterns", lineno, SERVICE_VALUE_MAX);
        return -1;
    }
    return svc_set_str(&s->fail_log, value, lineno, err, errlen);
}

static int svc_set_types(struct service *s, const char *value, int lineno,
                         char *err, size_t errlen)
{
    char **items = NULL;
    long n = svc_split(value, ",", &items);
    int rc = -1;

    if (n <= 0) {
        snprintf(err, errlen, "line %d: inputTypes needs at least one extension", lineno);
        goto out;
    }
    if ((s->input_types = calloc((size_t)n, sizeof(*s->input_types))) == NULL) {
        snprintf(err, errlen, "line %d: out of memory", lineno);
        goto out;
    }
    for (long i = 0; i < n; i++) {
        struct service_input_type *t = &s->input_types[s->n_input_types];

        if (strlen(items[i]) > SERVICE_EXT_MAX) {
            snprintf(err, errlen, "line %d: extension '%.16s' too long", lineno, items[i]);
            goto out;
        }
        for (size_t k = 0; items[i][k] != '\0'; k++)
            t->ext[k] = items[i][k] >= 'A' && items[i][k] <= 'Z' ?
                        (char)(items[i][k] - 'A' + 'a') : items[i][k];
        if ((t->cls = filetype_class_of(t->ext)) == FILETYPE_NONE) {
            snprintf(err, errlen, "line %d: unknown input type '%s' (known: %s)",
                     lineno, t->ext, filetype_known_exts());
            goto out;
        }
        s->n_input_types++;
    }
    rc = 0;
out:
    svc_vec_free(items);
    return rc;
}

static int svc_set_uint(unsigned *dst, const char *value, unsigned max,
                        int lineno, const char *key, char *err, size_t errlen)
{
    unsigned long long v;

    if (kv_parse_size(value, &v) != 0 || strspn(value, "0123456789") != strlen(value) ||
        v > max) {
        snprintf(err, errlen, "line %d: %s must be a number from 0 to %u",
                 lineno, key, max);
        return -1;
    }
    *dst = (unsigned)v;
    return 0;
}

/* Handles the number, size, duration and boolean keys. */
static int svc_set_scalar(struct service *s, enum svc_key k, const char *value,
                          int lineno, char *err, size_t errlen)
{
    unsigned u;
    int ok = -1;

    switch (k) {
    case K_NOOUTPUT: ok = kv_parse_bool(value, &s->no_output); break;
    case K_RERUN: ok = kv_parse_bool(value, &s->rerun); break;
    case K_SANDBOXNETWORK: ok = kv_parse_bool(value, &s->sandbox_network); break;
    case K_SLICER: ok = kv_parse_bool(value, &s->slicer); break;
    case K_TYPE:  /* fleet: run | print */
        ok = !strcmp(value, "run") ? (s->kind = SERVICE_KIND_RUN, 0)
           : !strcmp(value, "print") ? (s->kind = SERVICE_KIND_PRINT, 0) : -1;
        break;
    case K_TIMEOUT: ok = kv_parse_duration(value, &s->timeout); break;
    case K_MAXCPU: ok = kv_parse_duration(value, &s->max_cpu); break;
    case K_MAXOUTPUT: ok = kv_parse_size(value, &s->max_output); break;
    case K_MAXMEMORY: ok = kv_parse_size(value, &s->max_memory); break;
    case K_INPUTMIN:
        return svc_set_uint(&s->input_min, value, SERVICE_INPUT_MAX, lineno,
                            svc_keys[k], err, errlen);
    case K_INPUTMAX:
        return svc_set_uint(&s->input_max, value, SERVICE_INPUT_MAX, lineno,
                            svc_keys[k], err, errlen);
    case K_MAXPROCS:
        if (svc_set_uint(&u, value, 100000, lineno, svc_keys[k], err, errlen) != 0)
            return -1;
        s->max_procs = (long)u;
        return 0;
    case K_NICE:
        if (svc_set_uint(&u, value, 19, lineno, svc_keys[k], err, errlen) != 0)
            return -1;
        s->nice = (int)u;
        return 0;
    default: break;
    }
    if (ok != 0) {
        snprintf(err, errlen, "line %d: bad value '%.64s' for %s", lineno,
                 value, svc_keys[k]);
        return -1;
    }
    return 0;
}

static int svc_conf_cb(void *arg, const char *key, const char *value,
                       int lineno, char *err, size_t errlen)
{
    struct svc_ctx *ctx = arg;
    struct service *s = ctx->s;
    int k;

    for (k = 0; k < K_COUNT && strcmp(key, svc_keys[k]) != 0; k++)
        ;
    if (k == K_COUNT) {
        snprintf(err, errlen, "line %d: unknown key '%.64s'", lineno, key);
        return -1;
    }
    if (ctx->seen & (1u << k)) {
        snprintf(err, errlen, "line %d: %s given twice", lineno, key);
        return -1;
    }
    ctx->seen |= 1u << k;
    switch ((enum svc_key)k) {
    case K_PATH: return svc_set_str(&s->path, value, lineno, err, errlen);
    case K_CMD: return svc_set_str(&s->cmd, value, lineno, err, errlen);
    case K_ARGINPUT: return svc_set_str(&s->arg_input, value, lineno, err, errlen);
    case K_FILEOUT: return svc_set_str(&s->file_out, value, lineno, err, errlen);
    case K_OUTPUT: return svc_set_str(&s->output, value, lineno, err, errlen);
    case K_DESCRIPTION:
        free(s->description);
        return svc_set_str(&s->description, value, lineno, err, errlen);
    case K_OPTIONFLAG: return svc_set_word(&s->option_flag, value, lineno, key, err, errlen);
    case K_INPUTFLAG: return svc_set_word(&s->input_flag, value, lineno, key, err, errlen);
    case K_OPTIONS: return svc_add_patterns(s, value, 0, lineno, err, errlen);
    case K_NATIVEARGS: return svc_add_patterns(s, value, 1, lineno, err, errlen);
    case K_INPUTTYPES: return svc_set_types(s, value, lineno, err, errlen);
    case K_REQUIREOPTION:
        return svc_set_list(&s->require_option, value, lineno, key, err, errlen);
    case K_FAILLOG: return svc_set_fail_log(s, value, lineno, err, errlen);
    case K_SANDBOXREAD:
        return svc_set_list(&s->sandbox_read, value, lineno, key, err, errlen);
    case K_SANDBOXWRITE:
        return svc_set_list(&s->sandbox_write, value, lineno, key, err, errlen);
    case K_SANDBOXDEVICE:
        return svc_set_list(&s->sandbox_device, value, lineno, key, err, errlen);
    default: return svc_set_scalar(s, (enum svc_key)k, value, lineno, err, errlen);
    }
}

/* ---- validation after parsing ----------------------------------------- */

static int svc_has_config_type(const struct service *s)
{
    for (size_t i = 0; i < s->n_input_types; i++)
        if (s->input_types[i].cls == FILETYPE_CONFIG)
            return 1;
    return 0;
}

/* Splits cmd, substitutes $confDir, checks every word. */
static int svc_check_cmd(struct service *s, const char *confdir,
                         char *err, size_t errlen)
{
    static const char *const vars[] = { "$confDir", NULL };
    char **words = NULL;
    long n;

    if (s->cmd == NULL || (n = svc_split(s->cmd, " \t", &words)) == 0) {
        snprintf(err, errlen, "missing cmd");
        return -1;
    }
    if (n < 0)
        goto oom;
    for (long i = 0; i < n; i++) {
        char *w;

        if (svc_has_stray_var(words[i], vars)) {
            snprintf(err, errlen, "cmd: '%.64s': only $confDir may be substituted",
                     words[i]);
            svc_vec_free(words);
            return -1;
        }
        if ((w = svc_subst(words[i], "$confDir", confdir)) == NULL)
            goto oom;
        free(words[i]);
        words[i] = w;
    }
    if (strchr(words[0], '/') != NULL && words[0][0] != '/') {
        snprintf(err, errlen, "cmd: program must be a name looked up in path "
                 "or an absolute path");
        svc_vec_free(words);
        return -1;
    }
    s->cmd_argv = words;
    return 0;
oom:
    svc_vec_free(words);
    snprintf(err, errlen, "out of memory");
    return -1;
}

static int svc_check_path(const struct service *s, char *err, size_t errlen)
{
    const char *p = s->path;

    if (*p == '\0') {
        snprintf(err, errlen, "path: empty");
        return -1;
    }
    while (*p != '\0') {
        size_t len = strcspn(p, ":");

        if (p[0] != '/' || memchr(p, ' ', len) != NULL || memchr(p, '\t', len) != NULL) {
            snprintf(err, errlen, "path: each directory must be absolute, without blanks");
            return -1;
        }
        p += len;
        if (*p == ':' && *++p == '\0') {
            /* an empty entry would mean the task directory itself */
            snprintf(err, errlen, "path: empty directory entry");
            return -1;
        }
    }
    return 0;
}

static int svc_check_io(struct service *s, char *err, size_t errlen)
{
    static const char *const out_vars[] = { "$fileOut", NULL };
    static const char *const id_vars[] = { "$id", NULL };
    char name[SVC_FILENAME_MAX + 1];
    size_t plen;

    if (s->arg_input != NULL) {
        plen = strlen(s->arg_input);
        /* "WORD $fileIn": a flag whose value is the next word */
        s->arg_input_split = plen > 8 && s->arg_input[plen - 8] == ' ';
        if (plen <= 7 || strcmp(s->arg_input + plen - 7, "$fileIn") != 0 ||
            strchr(s->arg_input, '$') != s->arg_input + plen - 7 ||
            strpbrk(s->arg_input, " \t") !=
                (s->arg_input_split ? s->arg_input + plen - 8 : NULL)) {
            snprintf(err, errlen, "argInput must be one word ending in $fileIn, "
                     "such as --load=$fileIn, or a word and $fileIn, such as "
                     "-j $fileIn");
            return -1;
        }
        if ((s->prearg = strndup(s->arg_input,
                                 plen - 7 - (size_t)s->arg_input_split)) == NULL)
            return snprintf(err, errlen, "out of memory"), -1;
        if (!svc_has_config_type(s)) {
            snprintf(err, errlen, "argInput needs a config type (ini, conf, cfg) "
                     "in inputTypes");
            return -1;
        }
    } else if (svc_has_config_type(s)) {
        snprintf(err, errlen, "inputTypes lists a config type but there is no argInput");
        return -1;
    }
    if (svc_has_stray_var(s->file_out, id_vars) ||
        service_output_name(s, "0-0-0", name, sizeof(name)) != 0 ||
        !svc_plain_name(name)) {
        snprintf(err, errlen, "fileOut must give a plain file name ([A-Za-z0-9._-], "
                 "$id for the task id)");
        return -1;
    }
    if (!s->no_output && (strstr(s->output, "$fileOut") == NULL ||
                          svc_has_stray_var(s->output, out_vars))) {
        snprintf(err, errlen, "output must contain $fileOut (and no other $ variable)");
        return -1;
    }
    return 0;
}

/* sandboxRead, sandboxWrite ($confDir substituted) and sandboxDevice:
 * absolute, no ".." (a widening should say plainly what it opens). */
static int svc_check_sandbox_paths(char **v, const char *key,
                                   const char *confdir, char *err,
                                   size_t errlen)
{
    static const char *const vars[] = { "$confDir", NULL };

    for (; v != NULL && *v != NULL; v++) {
        char *w;

        if (svc_has_stray_var(*v, vars) ||
            (w = svc_subst(*v, "$confDir", confdir)) == NULL) {
            snprintf(err, errlen, "%s: '%.64s': only $confDir may be "
                     "substituted", key, *v);
            return -1;
        }
        free(*v);
        *v = w;
        if (w[0] != '/' || strstr(w, "/../") != NULL ||
            (strlen(w) >= 3 && strcmp(w + strlen(w) - 3, "/..") == 0)) {
            snprintf(err, errlen, "%s: '%.64s' must be an absolute path "
                     "without '..'", key, w);
            return -1;
        }
    }
    return 0;
}

static int svc_validate(struct service *s, unsigned seen, const char *confdir,
                        char *err, size_t errlen)
{
    if (svc_check_cmd(s, confdir, err, errlen) != 0 ||
        svc_check_slicer(s, err, errlen) != 0)
        return -1;
    if (svc_check_sandbox_paths(s->sandbox_read, "sandboxRead", confdir,
                                err, errlen) != 0 ||
        svc_check_sandbox_paths(s->sandbox_write, "sandboxWrite", confdir,
                                err, errlen) != 0 ||
        svc_check_sandbox_paths(s->sandbox_device, "sandboxDevice", confdir,
                                err, errlen) != 0)
        return -1;
    if (!(seen & (1u << K_MAXOUTPUT)))
        s->max_output = SVC_DEFAULT_MAX_OUTPUT;
    if (!(seen & (1u << K_MAXMEMORY)))
        s->max_memory = SVC_DEFAULT_MAX_MEMORY;
    if (!(seen & (1u << K_NICE)))
        s->nice = SERVICE_DEFAULT_NICE;
    if (!(seen & (1u << K_INPUTTYPES))) {
        snprintf(err, errlen, "missing inputTypes");
        return -1;
    }
    if (!(seen & (1u << K_INPUTMAX)))
        s->input_max = s->input_min > 1 ? s->input_min : 1;
    if (s->input_min > s->input_max || s->input_max == 0) {
        snprintf(err, errlen, "inputMin must not exceed inputMax, and inputMax "
                 "must be at least 1");
        return -1;
    }
    if ((s->path == NULL && (s->path = strdup(SVC_DEFAULT_PATH)) == NULL) ||
        (s->file_out == NULL && (s->file_out = strdup("$id")) == NULL) ||
        (s->output == NULL && (s->output = strdup("$fileOut")) == NULL)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (svc_check_path(s, err, errlen) != 0)
        return -1;
    return svc_check_io(s, err, errlen);
}

/* ---- registry --------------------------------------------------------- */

static int svc_name_from_file(const char *fname, char *name, size_t len)
{
    size_t n = strcspn(fname, ".");

    if (n == 0 || n > SERVICE_NAME_MAX || n >= len)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = fname[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return -1;
    }
    memcpy(name, fname, n);
    name[n] = '\0';
    if (strcmp(name, "info") == 0 || strcmp(name, "status") == 0 ||
        strcmp(name, "meta") == 0 || strcmp(name, "kill") == 0)
        return -1;
    return 0;
}

/* Loads dir/fname, or when buf is not NULL parses buf[0..len) as it. */
static int svc_load_one(struct service *s, const char *dir, const char *confdir,
                        const char *fname, const char *buf, size_t len,
                        char *err, size_t errlen)
{
    struct svc_ctx ctx = { .s = s, .seen = 0 };
    char name[SERVICE_NAME_MAX + 1], inner[512];
    size_t plen = strlen(dir) + strlen(fname) + 2;

    memset(s, 0, sizeof(*s));
    s->input_min = 1;
    if ((s->file = malloc(plen)) == NULL || (s->description = strdup("")) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(s->file, plen, "%s/%s", dir, fname);
    if (svc_name_from_file(fname, name, sizeof(name)) != 0) {
        snprintf(err, errlen, "%s: service name must be [a-z0-9_-]{1,%d} before "
                 "the first dot and not info, status, meta or kill",
                 s->file, SERVICE_NAME_MAX);
        return -1;
    }
    if ((s->name = strdup(name)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if ((buf ? kv_parse_buf(buf, len, svc_conf_cb, &ctx, err, errlen)
             : kv_parse_file(s->file, svc_conf_cb, &ctx, err, errlen)) != 0)
        return -1;
    if (svc_validate(s, ctx.seen, confdir, inner, sizeof(inner)) != 0) {
        snprintf(err, errlen, "%s: %s", s->file, inner);
        return -1;
    }
    return 0;
}

static int svc_cmp_service(const void *a, const void *b)
{
    return strcmp(((const struct service *)a)->name, ((const struct service *)b)->name);
}

struct service_registry *service_registry_load(const char *dir, char *err,
                                               size_t errlen)
{
    struct service_registry *reg = calloc(1, sizeof(*reg));
    char **files = NULL, confdir[PATH_MAX];
    long n;

    if (reg == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (realpath(dir, confdir) == NULL) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        goto fail;
    }
    if ((n = confdir_list(dir, SVC_MAX_SERVICES, "services", &files, err,
                          errlen)) < 0)
        goto fail;
    if (n == 0) {
        snprintf(err, errlen, "%s: no *.conf service files", dir);
        goto fail;
    }
    if ((reg->v = calloc((size_t)n, sizeof(*reg->v))) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    for (long i = 0; i < n; i++) {
        struct service *s = &reg->v[reg->n++];

        if (svc_load_one(s, dir, confdir, files[i], NULL, 0, err, errlen) != 0)
            goto fail;
    }
    /* "a-b.conf" sorts before "a.conf" but "a" before "a-b": sort by name */
    qsort(reg->v, reg->n, sizeof(*reg->v), svc_cmp_service);
    for (size_t i = 1; i < reg->n; i++) {
        if (strcmp(reg->v[i - 1].name, reg->v[i].name) == 0) {
            snprintf(err, errlen, "%s: service '%s' is already defined by %s",
                     reg->v[i].file, reg->v[i].name, reg->v[i - 1].file);
            goto fail;
        }
    }
    confdir_free(files);
    return reg;
fail:
    confdir_free(files);
    service_registry_free(reg);
    return NULL;
}

struct service_registry *service_registry_parse(const char *fname,
                                                const char *confdir,
                                                const char *buf, size_t len,
                                                char *err, size_t errlen)
{
    struct service_registry *reg = calloc(1, sizeof(*reg));

    if (reg == NULL || (reg->v = calloc(1, sizeof(*reg->v))) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    reg->n = 1;
    if (svc_load_one(&reg->v[0], confdir, confdir, fname, buf, len, err,
                     errlen) != 0)
        goto fail;
    return reg;
fail:
    service_registry_free(reg);
    return NULL;
}

void service_registry_free(struct service_registry *reg)
{
    if (reg == NULL)
        return;
    for (size_t i = 0; i < reg->n; i++)
        service_clear(&reg->v[i]);
    free(reg->v);
    free(reg);
}

const struct service *service_find(const struct service_registry *reg,
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

size_t service_count(const struct service_registry *reg)
{
    return reg != NULL ? reg->n : 0;
}

const struct service *service_at(const struct service_registry *reg, size_t i)
{
    return reg != NULL && i < reg->n ? &reg->v[i] : NULL;
}

int service_names_csv(const struct service_registry *reg, char *buf, size_t len)
{
    size_t used = 0;

    if (len == 0)
        return -1;
    buf[0] = '\0';
    for (size_t i = 0; i < service_count(reg); i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i > 0 ? "," : "",
                         reg->v[i].name);

        if (n < 0 || (size_t)n >= len - used)
            return -1;
        used += (size_t)n;
    }
    return 0;
}
