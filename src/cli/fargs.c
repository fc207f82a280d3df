/*
 * fargs.c - the words after a fleet command word (print, printers,
 * printer, queues, jobs, job, key, user, login, profiles, profile, spool,
 * sites, site): their options, checked as the server would
 * check them, so a typo fails at once with exit 2 and not after an
 * upload.
 */
#include "cli/cli.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/kv.h"

#define NAME_MAX_LEN 63       /* the fleet's names (FLEET_NAME_MAX - 1) */
#define PRIORITY_LIMIT 1000   /* -1000 .. 1000, as the fleet takes it */
#define ID_LIMIT (1LL << 53)  /* ids the server accepts */
#define PAIR_NAME_MAX 32      /* as the server takes override and define
                                 names */
#define PAIRS_MAX 16          /* of each kind on one job, as the server */

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* How a value is checked. */
enum fo_check { FO_FLAG, FO_NAME, FO_COUNT, FO_PRIORITY, FO_ID, FO_TEXT,
                FO_TOKEN, FO_DURATION, FO_STATE, FO_LIFE, FO_LIST,
                FO_OVERRIDE, FO_DEFINE };

/* Which command takes an option. */
enum {
    C_PRINT = 1 << 0, C_PRINTERS = 1 << 1, C_PRINTER = 1 << 2,
    C_QUEUES = 1 << 3, C_JOBS = 1 << 4, C_JOB = 1 << 5,
    C_KEY = 1 << 6, C_USER = 1 << 7, C_LOGIN = 1 << 8,
    C_PROFILES = 1 << 9, C_PROFILE = 1 << 10,
    C_SPOOL = 1 << 11, C_SITES = 1 << 12, C_SITE = 1 << 13,
    C_ALL = 0x3fff,
};

struct fo_def {
    const char *name;
    enum fo_check check;
    int commands;
    size_t slot;              /* offset of the const char * (values) */
};

#define SLOT(f) offsetof(struct cli_fargs, f)

static const struct fo_def fo_defs[] = {
    { "queue", FO_NAME, C_PRINT | C_PRINTERS | C_JOBS | C_KEY, SLOT(queue) },
    { "role", FO_NAME, C_KEY, SLOT(role) },
    { "name", FO_NAME, C_KEY, SLOT(name) },
    { "user", FO_NAME, C_KEY, SLOT(user) },
    { "expires", FO_LIFE, C_KEY, 0 },
    { "queues", FO_LIST, C_KEY, SLOT(queues) },
    { "max-copies", FO_COUNT, C_KEY, SLOT(max_copies) },
    { "max-priority", FO_PRIORITY, C_KEY, SLOT(max_priority) },
    { "max-queued", FO_COUNT, C_KEY, SLOT(max_queued) },
    { "copies", FO_COUNT, C_PRINT, SLOT(copies) },
    { "material", FO_NAME, C_PRINT | C_SPOOL, SLOT(material) },
    { "colour", FO_NAME, C_PRINT | C_SPOOL, SLOT(colour) },
    { "color", FO_NAME, C_PRINT | C_SPOOL, SLOT(colour) },
    { "priority", FO_PRIORITY, C_PRINT | C_KEY, SLOT(priority) },
    { "printer", FO_ID, C_PRINT, SLOT(printer) },
    { "profile", FO_LIST, C_PRINT, SLOT(profile) },  /* a model: a list */
    { "notifier", FO_TEXT, C_PRINT, SLOT(notifier) },
    { "override", FO_OVERRIDE, C_PRINT, 0 },
    { "define", FO_DEFINE, C_PRINT, 0 },
    { "state", FO_STATE, C_PRINTERS | C_JOBS, SLOT(state) },
    { "reason", FO_TEXT, C_PRINTER, SLOT(reason) },
    { "token", FO_TOKEN, C_ALL, SLOT(token) },
    { "timeout", FO_DURATION, C_PRINT, 0 },
    { "async", FO_FLAG, C_PRINT, 0 },
    { "synchronous", FO_FLAG, C_PRINT, 0 },
    { "json", FO_FLAG, C_ALL, 0 },
    { "quiet", FO_FLAG, C_ALL, 0 },
};

static int command_bit(const char *w)
{
    static const char *const words[] = { "print", "printers", "printer",
                                         "queues", "jobs", "job", "key",
                                         "user", "login", "profiles",
                                         "profile", "spool", "sites",
                                         "site" };

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (!strcmp(w, words[i]))
            return 1 << i;
    }
    return 0;
}

int cli_fargs_command(const char *w)
{
    return command_bit(w) != 0;
}

int cli_fargs_name_valid(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > NAME_MAX_LEN)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!isalnum((unsigned char)s[i]) && !strchr("._#+-", s[i]))
            return 0;
    }
    return 1;
}

/* A decimal integer in [min, max], nothing else. */
static int int_in(const char *v, long long min, long long max)
{
    char *end;
    long long n;

    if (!*v || isspace((unsigned char)*v))
        return 0;
    n = strtoll(v, &end, 10);
    return !*end && n >= min && n <= max;
}

/* Printable text: no control characters (they would reach a JSON body
 * or a form field, where the server refuses them anyway). */
static int text_ok(const char *v)
{
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p < 0x20 || *p == 0x7f)
            return 0;
    }
    return *v != '\0';
}

/* A comma list of fleet names. */
static int list_ok(const char *v)
{
    char item[NAME_MAX_LEN + 2];
    const char *p = v;

    do {
        size_t n = strcspn(p, ",");

        if (n == 0 || n > NAME_MAX_LEN)
            return 0;
        memcpy(item, p, n);
        item[n] = '\0';
        if (!cli_fargs_name_valid(item))
            return 0;
        p += n;
    } while (*p++ == ',');
    return 1;
}

/* The length of a pair's NAME in v ("NAME=VALUE"), or 0 if it is none:
 * override names are [a-z0-9_], define names (OpenSCAD variables)
 * [A-Za-z0-9_] without a digit first. */
static size_t pair_name(const char *v, int define)
{
    static const char lower[] = "abcdefghijklmnopqrstuvwxyz0123456789_";
    static const char any[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                              "abcdefghijklmnopqrstuvwxyz0123456789_";
    size_t n = strcspn(v, "=");

    if (n == 0 || n > PAIR_NAME_MAX || v[n] != '=' ||
        strspn(v, define ? any : lower) < n ||
        (define && isdigit((unsigned char)v[0])))
        return 0;
    return n;
}

/* --override and --define NAME=VALUE: appended as the field
 * override.NAME or define.NAME. */
static int add_pair(const char *opt, const char *v, struct cli_fargs *a,
                    char *err, size_t errlen)
{
    int define = !strcmp(opt, "define"), same = 0;
    size_t n = pair_name(v, define), plen = strlen(opt) + 1;
    char *name, **names;
    const char **values;

    if (!n || !text_ok(v + n + 1)) {
        seterr(err, errlen, "bad --%s '%s' (NAME=VALUE: NAME of %s, up to "
               "%d; a printable VALUE)", opt, v,
               define ? "A-Z a-z 0-9 _, not a digit first" : "a-z 0-9 _",
               PAIR_NAME_MAX);
        return -1;
    }
    for (int i = 0; i < a->npairs; i++) {
        const char *f = a->pair_names[i];

        if (!strncmp(f, opt, plen - 1) && f[plen - 1] == '.') {
            same++;
            if (!strncmp(f + plen, v, n) && !f[plen + n]) {
                seterr(err, errlen, "--%s %.*s given twice", opt, (int)n, v);
                return -1;
            }
        }
    }
    if (same == PAIRS_MAX) {
        seterr(err, errlen, "at most %d --%s", PAIRS_MAX, opt);
        return -1;
    }
    names = realloc(a->pair_names, (size_t)(a->npairs + 1) * sizeof(*names));
    if (names)
        a->pair_names = names;
    values = realloc(a->pair_values,
                     (size_t)(a->npairs + 1) * sizeof(*values));
    if (values)
        a->pair_values = values;
    name = malloc(plen + n + 1);
    if (!names || !values || !name) {
        free(name);
        seterr(err, errlen, "out of memory");
        return -1;
    }
    snprintf(name, plen + n + 1, "%s.%.*s", opt, (int)n, v);
    a->pair_names[a->npairs] = name;
    a->pair_values[a->npairs++] = v + n + 1;
    return 0;
}

static int check_value(const struct fo_def *d, const char *v,
                       struct cli_fargs *a, char *err, size_t errlen)
{
    switch (d->check) {
    case FO_NAME:
    case FO_STATE:
        if (cli_fargs_name_valid(v))
            return 0;
        seterr(err, errlen, "bad --%s '%s' (1..%d characters of A-Z a-z "
               "0-9 . _ # + -)", d->name, v, NAME_MAX_LEN);
        return -1;
    case FO_COUNT:
        if (int_in(v, 1, 1000000))
            return 0;
        seterr(err, errlen, "bad --%s '%s' (a whole number from 1)",
               d->name, v);
        return -1;
    case FO_PRIORITY:
        if (int_in(v, -PRIORITY_LIMIT, PRIORITY_LIMIT))
            return 0;
        seterr(err, errlen, "bad --%s '%s' (-%d to %d, higher first)",
               d->name, v, PRIORITY_LIMIT, PRIORITY_LIMIT);
        return -1;
    case FO_ID:
        if (int_in(v, 1, ID_LIMIT))
            return 0;
        seterr(err, errlen, "bad --%s '%s' (a printer id, see rrcloud "
               "printers)", d->name, v);
        return -1;
    case FO_TEXT:
        if (text_ok(v))
            return 0;
        seterr(err, errlen, "bad --%s (no control characters)", d->name);
        return -1;
    case FO_TOKEN:
        if (cli_args_token_valid(v))
            return 0;
        /* never echo a token: it may be a real one with a typo */
        seterr(err, errlen, "bad --%s (1..255 visible characters, no "
               "blanks)", d->name);
        return -1;
    case FO_DURATION:
        if (kv_parse_duration(v, &a->timeout) == 0)
            return 0;
        seterr(err, errlen, "bad --%s '%s' (seconds, or 30m, 2h)", d->name,
               v);
        return -1;
    case FO_LIFE:
        if (kv_parse_duration(v, &a->expires) == 0 && a->expires > 0)
            return 0;
        seterr(err, errlen, "bad --%s '%s' (a lifetime: seconds, or 12h, "
               "90d)", d->name, v);
        return -1;
    case FO_LIST:
        if (list_ok(v))
            return 0;
        seterr(err, errlen, "bad --%s '%s' (names joined by commas)",
               d->name, v);
        return -1;
    case FO_OVERRIDE:
    case FO_DEFINE:
        return add_pair(d->name, v, a, err, errlen);
    case FO_FLAG:
        break;
    }
    return 0;
}

static void set_flag(struct cli_fargs *a, const char *name)
{
    if (!strcmp(name, "async"))
        a->async = 1;
    else if (!strcmp(name, "synchronous"))
        a->async = 0;
    else if (!strcmp(name, "json"))
        a->json = 1;
    else
        a->quiet = 1;
}

static const struct fo_def *find_def(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof(fo_defs) / sizeof(fo_defs[0]); i++) {
        if (strlen(fo_defs[i].name) == n && !strncmp(fo_defs[i].name, name, n))
            return &fo_defs[i];
    }
    return NULL;
}

/* Handles the option at argv[i]; returns the words used (1 or 2) or -1. */
static int option(const char *command, int bit, int i, int argc, char **argv,
                  struct cli_fargs *a, char *err, size_t errlen)
{
    const char *w = argv[i], *eq = strchr(w + 2, '='), *v;
    size_t n = eq ? (size_t)(eq - w - 2) : strlen(w + 2);
    const struct fo_def *d = find_def(w + 2, n);
    int used = 1;

    if (!d || !(d->commands & bit)) {
        seterr(err, errlen, "%s takes no option '%.*s'", command,
               (int)(n + 2), w);
        return -1;
    }
    if (d->check == FO_FLAG) {
        if (eq) {
            seterr(err, errlen, "option --%s takes no value", d->name);
            return -1;
        }
        set_flag(a, d->name);
        return 1;
    }
    if (eq) {
        v = eq + 1;
    } else if (i + 1 < argc) {   /* "--queue farm", as the issue writes it */
        v = argv[i + 1];
        used = 2;
    } else {
        seterr(err, errlen, "option --%s needs a value (--%s=...)", d->name,
               d->name);
        return -1;
    }
    if (check_value(d, v, a, err, errlen) < 0)
        return -1;
    if (d->check != FO_DURATION && d->check != FO_LIFE &&
        d->check != FO_OVERRIDE && d->check != FO_DEFINE)
        *(const char **)((char *)a + d->slot) = v;
    return used;
}

int cli_fargs_parse(const char *command, int argc, char **argv,
                    struct cli_fargs *a, char *err, size_t errlen)
{
    int bit = command_bit(command), i = 0, opts = 1;

    memset(a, 0, sizeof(*a));
    a->timeout = -1;
    a->expires = 0;
    if (!bit) {
        seterr(err, errlen, "'%s' is not a fleet command", command);
        return -1;
    }
    a->words = calloc((size_t)argc + 1, sizeof(*a->words));
    if (!a->words) {
        seterr(err, errlen, "out of memory");
        return -1;
    }
    while (i < argc) {
        const char *w = argv[i];
        int used = 1;

        if (opts && !strcmp(w, "--"))
            opts = 0;
        else if (opts && w[0] == '-' && w[1] == '-')
            used = option(command, bit, i, argc, argv, a, err, errlen);
        else if (opts && w[0] == '-' && w[1] && !isdigit((unsigned char)w[1]))
            used = (seterr(err, errlen, "%s takes no option '%s'", command,
                           w), -1);
        else
            a->words[a->nwords++] = argv[i];
        if (used < 0) {
            cli_fargs_free(a);
            return -1;
        }
        i += used;
    }
    return 0;
}

void cli_fargs_free(struct cli_fargs *a)
{
    free(a->words);
    a->words = NULL;
    a->nwords = 0;
    for (int i = 0; i < a->npairs; i++)
        free(a->pair_names[i]);
    free(a->pair_names);
    free(a->pair_values);
    a->pair_names = NULL;
    a->pair_values = NULL;
    a->npairs = 0;
}
