/*
 * args.c - rrcloud's own options, and the split of a service's words into
 * input files, options and the output path.
 */
#include "cli/cli.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/kv.h"

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* --- options ------------------------------------------------------- */

enum opt_kind { OPT_FLAG, OPT_VALUE };

struct opt_def {
    const char *name;
    enum opt_kind kind;
};

static const struct opt_def opt_defs[] = {
    { "s", OPT_VALUE },      { "server", OPT_VALUE },
    { "notifier", OPT_VALUE }, { "port", OPT_VALUE },
    { "token", OPT_VALUE },
    { "timeout", OPT_VALUE }, { "async", OPT_FLAG },
    { "synchronous", OPT_FLAG }, { "json", OPT_FLAG },
    { "local", OPT_FLAG },   { "quiet", OPT_FLAG },
    { "verbose", OPT_FLAG }, { "help", OPT_FLAG },
    { "version", OPT_FLAG }, { "then", OPT_VALUE },
};

/* N of "thenN" (1..99), else 0. */
static int stage_opt_name(const char *name)
{
    if (strncmp(name, "then", 4) != 0 || name[4] < '1' || name[4] > '9')
        return 0;
    if (!name[5])
        return name[4] - '0';
    if (name[5] >= '0' && name[5] <= '9' && !name[6])
        return (name[4] - '0') * 10 + name[5] - '0';
    return 0;
}

/* --thenN=OPTION: kept for the pipeline's stage N. */
static int stage_opt(struct cli_opts *o, int stage, const char *val,
                     char *err, size_t errlen)
{
    if (!val || !*val) {
        seterr(err, errlen, "option --then%d needs a value (--then%d="
               "OPTION)", stage, stage);
        return -1;
    }
    if (o->nstage_opts == CLI_STAGE_OPTS_MAX) {
        seterr(err, errlen, "more than %d --thenN options",
               CLI_STAGE_OPTS_MAX);
        return -1;
    }
    o->stage_opts[o->nstage_opts].stage = stage;
    o->stage_opts[o->nstage_opts].value = val;
    o->nstage_opts++;
    return 0;
}

static int opt_apply(struct cli_opts *o, const char *name, const char *val,
                     char *err, size_t errlen)
{
    if (!strcmp(name, "s") || !strcmp(name, "server")) {
        o->servers = val;
    } else if (!strcmp(name, "notifier")) {
        o->notifier = val;
    } else if (!strcmp(name, "token")) {
        if (!cli_args_token_valid(val)) {
            /* not echoed: it may be a real token with a typo */
            seterr(err, errlen, "bad --token (1..255 visible characters, "
                   "no blanks)");
            return -1;
        }
        o->token = val;
    } else if (!strcmp(name, "port")) {
        char *end;
        long p = strtol(val, &end, 10);

        if (*val < '0' || *val > '9' || *end || p < 1 || p > 65535) {
            seterr(err, errlen, "bad --port '%s' (1-65535)", val);
            return -1;
        }
        o->port = (int)p;
    } else if (!strcmp(name, "timeout")) {
        if (kv_parse_duration(val, &o->timeout) < 0) {
            seterr(err, errlen, "bad --timeout '%s' (seconds, or 30m, 2h)",
                   val);
            return -1;
        }
    } else if (!strcmp(name, "async")) {
        o->async = 1;
    } else if (!strcmp(name, "synchronous")) {
        o->async = 0; /* RepRapCloud's switch; synchronous is our default */
    } else if (!strcmp(name, "then")) {
        o->then = val;
    } else if (!strcmp(name, "json")) {
        o->json = 1;
    } else if (!strcmp(name, "local")) {
        o->local = 1;
    } else if (!strcmp(name, "quiet")) {
        o->quiet = 1;
    } else if (!strcmp(name, "verbose")) {
        o->verbose = 1;
    } else if (!strcmp(name, "help")) {
        o->help = 1;
    } else {
        o->version = 1;
    }
    return 0;
}

/* Parses one "--name[=value]" word. */
static int opt_word(struct cli_opts *o, const char *word, char *err,
                    size_t errlen)
{
    const char *eq = strchr(word + 2, '=');
    size_t nlen = eq ? (size_t)(eq - word - 2) : strlen(word + 2);
    const struct opt_def *d = NULL;
    char name[32];

    if (nlen == 0 || nlen >= sizeof(name)) {
        seterr(err, errlen, "unknown option '%s'", word);
        return -1;
    }
    memcpy(name, word + 2, nlen);
    name[nlen] = '\0';
    if (stage_opt_name(name))
        return stage_opt(o, stage_opt_name(name), eq ? eq + 1 : NULL, err,
                         errlen);
    for (size_t i = 0; i < sizeof(opt_defs) / sizeof(opt_defs[0]); i++) {
        if (!strcmp(opt_defs[i].name, name))
            d = &opt_defs[i];
    }
    if (!d) {
        seterr(err, errlen, "unknown option '--%s'", name);
        return -1;
    }
    if (d->kind == OPT_VALUE && (!eq || !eq[1])) {
        seterr(err, errlen, "option --%s needs a value (--%s=...)", name,
               name);
        return -1;
    }
    if (d->kind == OPT_FLAG && eq) {
        seterr(err, errlen, "option --%s takes no value", name);
        return -1;
    }
    return opt_apply(o, name, eq ? eq + 1 : NULL, err, errlen);
}

int cli_args_parse(int argc, char **argv, struct cli_opts *o,
                   char *err, size_t errlen)
{
    int i;

    memset(o, 0, sizeof(*o));
    o->timeout = -1;
    for (i = 1; i < argc; i++) {
        const char *w = argv[i];

        if (!strcmp(w, "--")) {
            i++;
            break;
        }
        if (!strcmp(w, "-h")) {
            o->help = 1;
            continue;
        }
        if (!strcmp(w, "-V")) {
            o->version = 1;
            continue;
        }
        if (w[0] == '-' && w[1] == '-') {
            if (opt_word(o, w, err, errlen) < 0)
                return -1;
            continue;
        }
        if (w[0] == '-' && w[1] != '\0') {
            seterr(err, errlen, "unknown option '%s'", w);
            return -1;
        }
        break;
    }
    /* RepRapCloud: the service word defaults to info. */
    o->command = i < argc ? argv[i] : "info";
    o->argc = i < argc ? argc - i - 1 : 0;
    o->argv = i < argc ? argv + i + 1 : argv + argc;
    return 0;
}

int cli_args_then_word(struct cli_opts *o, const char *word, char *err,
                       size_t errlen)
{
    if (strncmp(word, "--then", 6) != 0 ||
        !(word[6] == '=' || (word[6] >= '1' && word[6] <= '9')))
        return 0;
    return opt_word(o, word, err, errlen) < 0 ? -1 : 1;
}

int cli_args_service_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 63)
        return 0;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789_-") == n;
}

int cli_args_token_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 255)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return 0;
    }
    return 1;
}

int cli_args_cloud_name(const char *prog, char *buf, size_t len)
{
    const char *base = strrchr(prog, '/');
    size_t n;

    base = base ? base + 1 : prog;
    n = strlen(base);
    if (n <= 6 || strcmp(base + n - 6, ".cloud") != 0 || n - 6 >= len)
        return 0;
    memcpy(buf, base, n - 6);
    buf[n - 6] = '\0';
    return cli_args_service_valid(buf);
}

/* --- service descriptions ----------------------------------------- */

/* *out = a copy of s up to a RepRapCloud-style "$fileIn"/"$fileOut"
 * placeholder, should a server send the raw template; NULL when that
 * leaves nothing.  -1 only when out of memory. */
static int dup_prefix(const char *s, char **out)
{
    const char *ph = strchr(s, '$');
    size_t n = ph ? (size_t)(ph - s) : strlen(s);

    *out = NULL;
    if (n == 0)
        return 0;
    if (!(*out = malloc(n + 1)))
        return -1;
    memcpy(*out, s, n);
    (*out)[n] = '\0';
    return 0;
}

static int svc_strings(struct cli_svc *svc, const json_t *obj)
{
    const json_t *v;

    v = json_object_get(obj, "argInput");
    if (json_is_string(v) && dup_prefix(json_string_value(v),
                                        &svc->arg_input) < 0)
        return -1;
    v = json_object_get(obj, "output");
    if (json_is_string(v) && dup_prefix(json_string_value(v),
                                        &svc->output) < 0)
        return -1;
    v = json_object_get(obj, "fileOut");
    if (json_is_string(v) && !(svc->file_out = strdup(json_string_value(v))))
        return -1;
    v = json_object_get(obj, "noOutput");
    svc->no_output = json_is_true(v) ||
                     (json_is_string(v) && json_string_value(v)[0] &&
                      strcmp(json_string_value(v), "no") != 0);
    return 0;
}

int cli_svc_from_json(struct cli_svc *svc, const json_t *obj,
                      char *err, size_t errlen)
{
    const json_t *name = json_object_get(obj, "name");
    const json_t *opts = json_object_get(obj, "options");
    size_t i;

    memset(svc, 0, sizeof(*svc));
    if (!json_is_string(name) ||
        !cli_args_service_valid(json_string_value(name))) {
        seterr(err, errlen, "service without a valid name");
        return -1;
    }
    if (!(svc->name = strdup(json_string_value(name))) ||
        svc_strings(svc, obj) < 0)
        goto nomem;
    if (json_is_array(opts) && json_array_size(opts) > 0) {
        svc->options = calloc(json_array_size(opts), sizeof(char *));
        if (!svc->options)
            goto nomem;
        for (i = 0; i < json_array_size(opts); i++) {
            const json_t *o = json_array_get(opts, i);

            if (!json_is_string(o) || !json_string_value(o)[0])
                continue;
            if (!(svc->options[svc->noptions] = strdup(json_string_value(o))))
                goto nomem;
            svc->noptions++;
        }
    }
    return 0;
nomem:
    cli_svc_free(svc);
    seterr(err, errlen, "out of memory");
    return -1;
}

int cli_svc_find(struct cli_svc *svc, const json_t *doc, const char *name,
                 char *err, size_t errlen)
{
    const json_t *list = json_object_get(doc, "services");
    size_t i;

    if (!json_is_array(list)) {
        seterr(err, errlen, "answer has no \"services\" array");
        return -1;
    }
    for (i = 0; i < json_array_size(list); i++) {
        const json_t *o = json_array_get(list, i);
        const json_t *n = json_object_get(o, "name");

        if (json_is_string(n) && !strcmp(json_string_value(n), name))
            return cli_svc_from_json(svc, o, err, errlen);
    }
    return 1;
}

void cli_svc_free(struct cli_svc *svc)
{
    for (size_t i = 0; i < svc->noptions; i++)
        free(svc->options[i]);
    free(svc->options);
    free(svc->name);
    free(svc->arg_input);
    free(svc->output);
    free(svc->file_out);
    memset(svc, 0, sizeof(*svc));
}

/* --- classification ------------------------------------------------ */

static int is_regular(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
           access(path, R_OK) == 0;
}

/* If word names a value with prefix ("-ofile", "--load=file"), or is the
 * prefix alone ("-o", "--load") with the value in the next word, sets
 * *val and returns how many words it used (1 or 2); 0 if no match, -1 if
 * the value is missing. */
static int prefixed(const char *word, const char *prefix, int i, int argc,
                    char **argv, const char **val)
{
    size_t n;

    if (!prefix)
        return 0;
    n = strlen(prefix);
    if (strncmp(word, prefix, n) == 0 && word[n]) {
        *val = word + n;
        return 1;
    }
    if (strcmp(word, prefix) == 0 ||
        (n > 1 && prefix[n - 1] == '=' && strlen(word) == n - 1 &&
         strncmp(word, prefix, n - 1) == 0)) {
        if (i + 1 >= argc || !argv[i + 1][0])
            return -1;
        *val = argv[i + 1];
        return 2;
    }
    return 0;
}

static int option_allowed(const struct cli_svc *svc, const char *word)
{
    for (size_t i = 0; i < svc->noptions; i++) {
        if (strcmp(svc->options[i], word) == 0 ||
            fnmatch(svc->options[i], word, 0) == 0)
            return 1;
    }
    return 0;
}

static void add_input(struct cli_job *job, const char *path,
                      const char *prearg)
{
    job->inputs[job->ninputs].path = path;
    job->inputs[job->ninputs].prearg = prearg;
    job->ninputs++;
}

/* Classifies argv[i]; returns the number of words used or -1. */
static int classify_one(const struct cli_svc *svc, int i, int argc,
                        char **argv, struct cli_job *job, char *err,
                        size_t errlen)
{
    const char *w = argv[i], *val = NULL;
    int used;

    if (svc && (used = prefixed(w, svc->output, i, argc, argv, &val)) != 0) {
        if (used < 0) {
            seterr(err, errlen, "missing file name after '%s'", w);
            return -1;
        }
        if (job->out_path) {
            seterr(err, errlen, "output named twice ('%s' and '%s')",
                   job->out_path, val);
            return -1;
        }
        job->out_path = val;
        return used;
    }
    if (svc && (used = prefixed(w, svc->arg_input, i, argc, argv, &val))) {
        if (used < 0 || !is_regular(val)) {
            seterr(err, errlen, "file not found '%s'", used < 0 ? w : val);
            return -1;
        }
        add_input(job, val, svc->arg_input);
        return used;
    }
    if (svc && option_allowed(svc, w)) {
        job->args[job->nargs++] = w;
        return 1;
    }
    if (w[0] && is_regular(w)) {
        add_input(job, w, NULL);
        return 1;
    }
    if (!svc && w[0] == '-' && w[1]) {
        job->args[job->nargs++] = w; /* the server will judge it */
        return 1;
    }
    seterr(err, errlen, "not supported switch or file not found '%s'", w);
    return -1;
}

int cli_args_classify(const struct cli_svc *svc, int argc, char **argv,
                      struct cli_job *job, char *err, size_t errlen)
{
    int i = 0;

    memset(job, 0, sizeof(*job));
    /* Each word yields at most one entry, so argc bounds both arrays. */
    job->inputs = calloc((size_t)argc + 1, sizeof(*job->inputs));
    job->args = calloc((size_t)argc + 1, sizeof(*job->args));
    if (!job->inputs || !job->args) {
        seterr(err, errlen, "out of memory");
        goto fail;
    }
    while (i < argc) {
        int used = classify_one(svc, i, argc, argv, job, err, errlen);

        if (used < 0)
            goto fail;
        i += used;
    }
    return 0;
fail:
    cli_job_free(job);
    return -1;
}

void cli_job_free(struct cli_job *job)
{
    free(job->inputs);
    free(job->args);
    free(job->fields);
    memset(job, 0, sizeof(*job));
}
