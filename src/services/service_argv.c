/*
 * service_argv.c - the checks every client value passes before it may reach
 * a command line, and argv building (see service.h).
 */
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/service.h"
#include "services/service_int.h"

#define SVC_METACHARS ";|&$`<>\\\"'(){}[]*?~!#"
#define SVC_SHOW 64                 /* longest value quoted in a message */

/* ---- value checks ----------------------------------------------------- */

/* Does value hold ".." as a component, separated by / = , : or the ends? */
static int svc_has_dotdot(const char *v, size_t len)
{
    for (size_t i = 0; i + 1 < len; i++) {
        if (v[i] != '.' || v[i + 1] != '.')
            continue;
        if ((i == 0 || strchr("/=,:", v[i - 1]) != NULL) &&
            (i + 2 == len || strchr("/=,:", v[i + 2]) != NULL))
            return 1;
    }
    return 0;
}

int service_check_valuen(const char *field, const char *value, size_t len,
                         char *err, size_t errlen)
{
    if (value == NULL || len == 0) {
        snprintf(err, errlen, "%s: empty value", field);
        return -1;
    }
    if (len > SERVICE_VALUE_MAX) {
        snprintf(err, errlen, "%s: longer than %d bytes", field, SERVICE_VALUE_MAX);
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];

        if (c == 0) {
            snprintf(err, errlen, "%s: NUL byte not allowed", field);
            return -1;
        }
        if (c < 0x20 || c == 0x7f) {
            snprintf(err, errlen, "%s: control character 0x%02x not allowed", field, c);
            return -1;
        }
        if (c >= 0x80) {
            snprintf(err, errlen, "%s: non-ASCII byte 0x%02x not allowed", field, c);
            return -1;
        }
        if (c == ' ') {
            snprintf(err, errlen, "%s: blank not allowed", field);
            return -1;
        }
        if (strchr(SVC_METACHARS, c) != NULL) {
            snprintf(err, errlen, "%s: character '%c' not allowed", field, c);
            return -1;
        }
    }
    if (svc_has_dotdot(value, len)) {
        snprintf(err, errlen, "%s: '..' not allowed", field);
        return -1;
    }
    return 0;
}

int service_check_value(const char *field, const char *value,
                        char *err, size_t errlen)
{
    return service_check_valuen(field, value, value != NULL ? strlen(value) : 0,
                                err, errlen);
}

/* "a, b, c" list of the n patterns v into buf (truncated if long). */
static void svc_join(char *const *v, size_t nv, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < nv && used < len; i++) {
        int n = snprintf(buf + used, len - used, "%s%s", i > 0 ? ", " : "",
                         v[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

static void svc_patterns(const struct service *s, char *buf, size_t len)
{
    svc_join(s->options, s->n_options, buf, len);
}

int service_check_option(const struct service *s, const char *field,
                         const char *value, char *err, size_t errlen)
{
    char allowed[512];
    size_t len;

    if (service_check_value(field, value, err, errlen) != 0)
        return -1;
    len = strlen(value);
    if (value[len - 1] == '=') {
        snprintf(err, errlen, "%s: option '%.*s' has an empty value", field,
                 SVC_SHOW, value);
        return -1;
    }
    for (size_t i = 0; i < s->n_options; i++)
        if (fnmatch(s->options[i], value, FNM_PATHNAME) == 0)
            return 0;
    if (s->n_options == 0) {
        snprintf(err, errlen, "%s: service %s takes no options", field, s->name);
        return -1;
    }
    svc_patterns(s, allowed, sizeof(allowed));
    snprintf(err, errlen, "%s: option '%.*s' not allowed by %s (allowed: %s)",
             field, SVC_SHOW, value, s->name, allowed);
    return -1;
}

int service_check_required(const struct service *s, const char *field,
                           const char *const *options, size_t n,
                           char *err, size_t errlen)
{
    char want[512];
    size_t nreq = 0;

    if (s->require_option == NULL)
        return 0;
    for (; s->require_option[nreq] != NULL; nreq++)
        for (size_t i = 0; i < n; i++)
            if (fnmatch(s->require_option[nreq], options[i], FNM_PATHNAME) == 0)
                return 0;
    svc_join(s->require_option, nreq, want, sizeof(want));
    snprintf(err, errlen, "%s: service %s needs an option matching %s%s",
             field, s->name, nreq > 1 ? "one of " : "", want);
    return -1;
}

int service_check_prearg(const struct service *s, int idx, const char *value,
                         char *err, size_t errlen)
{
    char field[32];

    snprintf(field, sizeof(field), "prearg%d", idx);
    if (service_check_value(field, value, err, errlen) != 0)
        return -1;
    if (s->prearg == NULL) {
        snprintf(err, errlen, "%s: service %s takes no prearg", field, s->name);
        return -1;
    }
    if (strcmp(value, s->prearg) != 0) {
        snprintf(err, errlen, "%s: '%.*s' not allowed (only '%s')", field,
                 SVC_SHOW, value, s->prearg);
        return -1;
    }
    return 0;
}

/* Length of the UTF-8 sequence at p (at most n bytes), or 0 if invalid. */
static size_t svc_utf8_len(const unsigned char *p, size_t n)
{
    size_t len;
    unsigned cp;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        len = 2, cp = p[0] & 0x1f;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        len = 3, cp = p[0] & 0x0f;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        len = 4, cp = p[0] & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;               /* overlong, surrogate, out of range */
    return len;
}

int service_check_name(const char *field, const char *filename,
                       char *err, size_t errlen)
{
    const unsigned char *p = (const unsigned char *)filename;
    size_t len = filename != NULL ? strlen(filename) : 0;

    if (len == 0 || len > SVC_FILENAME_MAX) {
        snprintf(err, errlen, "%s: file name must be 1 to %d bytes", field,
                 SVC_FILENAME_MAX);
        return -1;
    }
    for (size_t i = 0; i < len; ) {
        size_t n = svc_utf8_len(p + i, len - i);

        if (n == 0) {
            snprintf(err, errlen, "%s: file name is not valid UTF-8", field);
            return -1;
        }
        if (n == 1 && (p[i] < 0x20 || p[i] == 0x7f || p[i] == '/' || p[i] == '\\')) {
            snprintf(err, errlen, "%s: file name must not contain '/', '\\' or "
                     "control characters", field);
            return -1;
        }
        i += n;
    }
    if (strstr(filename, "..") != NULL || filename[0] == '.' || filename[0] == '-') {
        snprintf(err, errlen, "%s: file name must not contain '..' or start "
                 "with '.' or '-'", field);
        return -1;
    }
    return 0;
}

int service_check_filename(const char *field, const char *filename,
                           char *err, size_t errlen)
{
    char ext[SERVICE_EXT_MAX + 1];

    if (service_check_name(field, filename, err, errlen) != 0)
        return -1;
    if (service_input_ext(filename, ext, sizeof(ext)) != 0) {
        snprintf(err, errlen, "%s: file name needs an extension of 1 to %d "
                 "letters or digits", field, SERVICE_EXT_MAX);
        return -1;
    }
    return 0;
}

int service_input_ext(const char *filename, char *ext, size_t extlen)
{
    const char *dot = filename != NULL ? strrchr(filename, '.') : NULL;
    size_t n;

    if (dot == NULL || (n = strlen(dot + 1)) == 0 || n > SERVICE_EXT_MAX ||
        n >= extlen)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char c = dot[1 + i];

        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
            return -1;
        ext[i] = c;
    }
    ext[n] = '\0';
    return 0;
}

/* ---- inputs ----------------------------------------------------------- */

static const struct service_input_type *svc_type(const struct service *s,
                                                 const char *ext)
{
    for (size_t i = 0; i < s->n_input_types; i++)
        if (strcmp(s->input_types[i].ext, ext) == 0)
            return &s->input_types[i];
    return NULL;
}

/* "a, b" list of extensions of s whose config-ness is cfg (-1 = all). */
static void svc_exts(const struct service *s, int cfg, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < s->n_input_types && used < len; i++) {
        const struct service_input_type *t = &s->input_types[i];
        int n;

        if (cfg >= 0 && (t->cls == FILETYPE_CONFIG) != cfg)
            continue;
        n = snprintf(buf + used, len - used, "%s%s", used > 0 ? ", " : "", t->ext);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

int service_check_input(const struct service *s, int idx, const char *ext,
                        int has_prearg, char *err, size_t errlen)
{
    const struct service_input_type *t = ext != NULL ? svc_type(s, ext) : NULL;
    char list[256];

    if (t == NULL) {
        svc_exts(s, -1, list, sizeof(list));
        snprintf(err, errlen, "fileIn%d: .%.*s not accepted by %s (accepted: %s)",
                 idx, SERVICE_EXT_MAX, ext != NULL ? ext : "", s->name, list);
        return -1;
    }
    if (t->cls == FILETYPE_CONFIG && !has_prearg) {
        snprintf(err, errlen, "fileIn%d: a .%s config file needs prearg%d=%s",
                 idx, ext, idx, s->prearg != NULL ? s->prearg : "");
        return -1;
    }
    if (t->cls != FILETYPE_CONFIG && has_prearg) {
        svc_exts(s, 1, list, sizeof(list));
        snprintf(err, errlen, "prearg%d: only a config file (%s) takes a prearg, "
                 "not .%s", idx, list, ext);
        return -1;
    }
    return 0;
}

int service_sniff_ext(const struct service *s, struct filetype *ft,
                      int has_prearg, const char *path,
                      const unsigned char *head, size_t headlen,
                      unsigned long long size, char *ext, size_t extlen,
                      char *err, size_t errlen)
{
    char mime[128] = "", why[256], list[256];

    for (size_t i = 0; i < s->n_input_types; i++) {
        const struct service_input_type *t = &s->input_types[i];

        if ((t->cls == FILETYPE_CONFIG) != (has_prearg != 0))
            continue;
        if (filetype_check(ft, path, head, headlen, size, t->ext, mime,
                           sizeof(mime), why, sizeof(why)) != 0)
            continue;
        if (strlen(t->ext) >= extlen)
            break;
        strcpy(ext, t->ext);
        return 0;
    }
    svc_exts(s, has_prearg != 0, list, sizeof(list));
    if (list[0] == '\0')
        snprintf(err, errlen, "without a file name extension, and %s takes "
                 "no input %s a prearg", s->name, has_prearg ? "with" : "without");
    else
        snprintf(err, errlen, "without a file name extension, and the content"
                 "%s%s%s fits none of the input types %s takes%s: %s",
                 mime[0] ? " (" : "", mime, mime[0] ? ")" : "", s->name,
                 has_prearg ? " with a prearg" : "", list);
    return -1;
}

/* ---- argv ------------------------------------------------------------- */

int service_output_name(const struct service *s, const char *id,
                        char *buf, size_t len)
{
    char *name;
    int rc = -1;

    if (id == NULL || !svc_id_ok(id))
        return -1;
    if ((name = svc_subst(s->file_out, "$id", id)) == NULL)
        return -1;
    if (strlen(name) < len) {
        strcpy(buf, name);
        rc = 0;
    }
    free(name);
    return rc;
}

int service_output_type(const struct service *s, const char *in_ext,
                        char *ext, size_t len)
{
    const char *dot;

    if (s->no_output || s->kind != SERVICE_KIND_RUN)
        return -1;
    dot = strrchr(s->file_out, '.');
    if (dot != NULL && strchr(dot, '$') == NULL)
        return service_input_ext(dot, ext, len);
    /* "$id" alone: a filter that passes its input on (echo copies it) */
    if (in_ext == NULL || in_ext[0] == '\0' || strlen(in_ext) >= len)
        return -1;
    strcpy(ext, in_ext);
    return 0;
}

/* Checks everything in spec that came from a client, again. */
static int svc_check_spec(const struct service *s,
                          const struct service_task_spec *spec,
                          char *err, size_t errlen)
{
    char field[32];

    if (spec->id == NULL || !svc_id_ok(spec->id)) {
        snprintf(err, errlen, "bad task id");
        return -1;
    }
    if (spec->n_inputs < s->input_min || spec->n_inputs > s->input_max) {
        snprintf(err, errlen, "%s takes %u to %u input files, not %zu", s->name,
                 s->input_min, s->input_max, spec->n_inputs);
        return -1;
    }
    for (size_t i = 0; i < spec->n_inputs; i++) {
        if (!svc_plain_name(spec->inputs[i])) {
            snprintf(err, errlen, "fileIn%zu: not a plain file name in the task "
                     "directory", i);
            return -1;
        }
        int has_prearg = spec->prearg != NULL && spec->prearg[i] != NULL;
        char ext[SERVICE_EXT_MAX + 1];

        if (has_prearg && service_check_prearg(s, (int)i, spec->prearg[i], err, errlen) != 0)
            return -1;
        if (service_input_ext(spec->inputs[i], ext, sizeof(ext)) != 0) {
            snprintf(err, errlen, "fileIn%zu: input name has no extension", i);
            return -1;
        }
        if (service_check_input(s, (int)i, ext, has_prearg, err, errlen) != 0)
            return -1;
    }
    if (spec->n_options > SERVICE_OPTION_MAX) {
        snprintf(err, errlen, "more than %d options", SERVICE_OPTION_MAX);
        return -1;
    }
    for (size_t i = 0; i < spec->n_options; i++) {
        snprintf(field, sizeof(field), "arg%zu", i);
        if (service_check_option(s, field, spec->options[i], err, errlen) != 0)
            return -1;
    }
    if (service_check_required(s, "arg", spec->options, spec->n_options,
                               err, errlen) != 0)
        return -1;
    if (!s->no_output && !svc_plain_name(spec->output)) {
        snprintf(err, errlen, "output: not a plain file name");
        return -1;
    }
    return 0;
}

/* Pushes a copy of w, or of w with var replaced by val. */
static int svc_push(char ***v, size_t *n, const char *w, const char *var,
                    const char *val)
{
    char *sub = var != NULL ? svc_subst(w, var, val) : NULL;
    int rc;

    if (var != NULL && sub == NULL)
        return -1;
    rc = svc_vec_push(v, n, sub != NULL ? sub : w, strlen(sub != NULL ? sub : w));
    free(sub);
    return rc;
}

static int svc_fill_argv(const struct service *s,
                         const struct service_task_spec *spec,
                         char ***v, size_t *n)
{
    char **words = NULL;
    long nw;
    int rc = -1;

    for (char **w = s->cmd_argv; *w != NULL; w++)
        if (svc_push(v, n, *w, NULL, NULL) != 0)
            return -1;
    for (size_t i = 0; i < spec->n_options; i++)
        if ((s->option_flag != NULL && svc_push(v, n, s->option_flag, NULL, NULL) != 0) ||
            svc_push(v, n, spec->options[i], NULL, NULL) != 0)
            return -1;
    for (size_t i = 0; i < spec->n_inputs; i++) {
        if (spec->prearg != NULL && spec->prearg[i] != NULL &&
            s->arg_input_split) {
            if (svc_push(v, n, s->prearg, NULL, NULL) != 0 ||
                svc_push(v, n, spec->inputs[i], NULL, NULL) != 0)
                return -1;
        } else if (spec->prearg != NULL && spec->prearg[i] != NULL) {
            if (svc_push(v, n, s->arg_input, "$fileIn", spec->inputs[i]) != 0)
                return -1;
        } else if ((s->input_flag != NULL && svc_push(v, n, s->input_flag, NULL, NULL) != 0) ||
                   svc_push(v, n, spec->inputs[i], NULL, NULL) != 0) {
            return -1;
        }
    }
    if (s->no_output)
        return 0;
    /* split first, substitute per word: a name can never become two words */
    if ((nw = svc_split(s->output, " \t", &words)) < 0)
        return -1;
    for (long i = 0; i < nw; i++)
        if (svc_push(v, n, words[i], "$fileOut", spec->output) != 0)
            goto out;
    rc = 0;
out:
    svc_vec_free(words);
    return rc;
}

int service_build_argv(const struct service *s,
                       const struct service_task_spec *spec,
                       char ***argv_out, char *err, size_t errlen)
{
    char **v = NULL;
    size_t n = 0;

    *argv_out = NULL;
    if (svc_check_spec(s, spec, err, errlen) != 0)
        return -1;
    if (svc_fill_argv(s, spec, &v, &n) != 0) {
        svc_vec_free(v);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    *argv_out = v;
    return 0;
}

void service_argv_free(char **argv)
{
    svc_vec_free(argv);
}

char *service_argv_join(char *const *argv)
{
    size_t len = 1;
    char *out, *o;

    for (char *const *w = argv; *w != NULL; w++)
        len += strlen(*w) + 3;
    if ((out = malloc(len)) == NULL)
        return NULL;
    o = out;
    for (char *const *w = argv; *w != NULL; w++) {
        int quote = (*w)[0] == '\0' || strpbrk(*w, " \t") != NULL;

        if (w != argv)
            *o++ = ' ';
        if (quote)
            *o++ = '\'';
        o = stpcpy(o, *w);
        if (quote)
            *o++ = '\'';
    }
    *o = '\0';
    return out;
}

/* ---- slicer services ------------------------------------------------- */

/* Does word (a cmd word) name a Slic3r-family slicer? */
static int svc_names_slicer(const char *word)
{
    const char *base = strrchr(word, '/');

    base = base ? base + 1 : word;
    return strcasestr(base, "slic3r") || strcasestr(base, "slicer") ||
           strcasestr(base, "bambu");
}

/* The value cmd forces for --post-process, or NULL. */
static const char *svc_forced_post_process(char *const *argv)
{
    for (size_t i = 1; argv[i]; i++) {
        const char *w = argv[i];

        if (strncmp(w, "--post-process", 14) && strncmp(w, "--post_process", 14))
            continue;
        if (w[14] == '=' && w[15])
            return w + 15;
        if (w[14] == '\0' && argv[i + 1])
            return argv[i + 1];
    }
    return NULL;
}

int svc_check_slicer(const struct service *s, char *err, size_t errlen)
{
    static const char *const probes[] = {
        "--post-process=x", "--post_process=x", "--post-process",
        "--post_process", "--Post-Process=x",
    };
    int slicer = s->slicer;

    for (size_t i = 0; !slicer && s->cmd_argv[i]; i++)
        slicer = svc_names_slicer(s->cmd_argv[i]) != 0;
    if (!slicer)
        return 0;
    if (!svc_forced_post_process(s->cmd_argv)) {
        snprintf(err, errlen, "cmd: a slicer service must force "
                 "--post-process=/bin/true (the slicer runs post_process "
                 "from uploaded configs and 3MF files)");
        return -1;
    }
    for (size_t i = 0; i < s->n_options; i++) {
        for (size_t k = 0; k < sizeof(probes) / sizeof(probes[0]); k++) {
            if (fnmatch(s->options[i], probes[k], FNM_PATHNAME) == 0) {
                snprintf(err, errlen, "options: '%.64s' would let a client "
                         "set --post-process on a slicer service",
                         s->options[i]);
                return -1;
            }
        }
    }
    return 0;
}
