/*
 * local.c - running a service's tool on this machine (--local, or a
 * NAME.cloud link with no server configured), as RepRapCloud did: the
 * program named by "cmd" in services/NAME.conf with the user's words.
 * Words go through unchanged, except that a service with optionFlag or
 * inputFlag (CuraEngine: -s, -l) gets those put before its options and
 * inputs, as the server does.  execvp(3), never a shell.
 */
#include "cli/cli.h"

#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/kv.h"
#include "common/util.h"

#define CMD_WORDS_MAX 32

struct local_conf {
    char cmd[1024];
    char path[4096];
    char options[8192];  /* comma-separated fnmatch patterns */
    char option_flag[64];
    char input_flag[64];
    char output[256];    /* template, e.g. "-o $fileOut" */
    char arg_input[256]; /* e.g. "--load=$fileIn" */
    char no_output[16];
    char native[1024];   /* RepRapCloud's nativeArgs: prefixes */
};

static int conf_pair(void *arg, const char *key, const char *value,
                     int lineno, char *err, size_t errlen)
{
    struct local_conf *c = arg;
    const struct {
        const char *key;
        char *slot;
        size_t len;
    } keys[] = {
        { "cmd", c->cmd, sizeof(c->cmd) },
        { "path", c->path, sizeof(c->path) },
        { "options", c->options, sizeof(c->options) },
        { "optionFlag", c->option_flag, sizeof(c->option_flag) },
        { "inputFlag", c->input_flag, sizeof(c->input_flag) },
        { "output", c->output, sizeof(c->output) },
        { "argInput", c->arg_input, sizeof(c->arg_input) },
        { "noOutput", c->no_output, sizeof(c->no_output) },
        { "nativeArgs", c->native, sizeof(c->native) },
    };

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        if (strcmp(key, keys[i].key) == 0 &&
            rr_fmt(keys[i].slot, keys[i].len, "%s", value) < 0) {
            snprintf(err, errlen, "line %d: %s too long", lineno, key);
            return -1;
        }
    }
    return 0;
}

/* Splits cmd in place into av[0..]; returns the count or -1. */
static int split_words(char *cmd, char **av, int max)
{
    char *save = NULL, *w;
    int n = 0;

    for (w = strtok_r(cmd, " \t", &save); w; w = strtok_r(NULL, " \t", &save)) {
        if (n == max)
            return -1;
        av[n++] = w;
    }
    return n;
}

/* Replaces "$confDir" in the words (support files beside the conf). */
static int conf_dir_words(char **av, int n, const char *dir, char *store,
                          size_t len)
{
    char abs[PATH_MAX];

    if (!realpath(dir, abs))
        return -1;
    for (int i = 0; i < n; i++) {
        const char *at = strstr(av[i], "$confDir");
        size_t need;

        if (!at)
            continue;
        need = strlen(abs) + strlen(av[i]) + 1;
        if (need > len ||
            rr_fmt(store, len, "%.*s%s%s", (int)(at - av[i]), av[i], abs,
                   at + 8) < 0)
            return -1;
        av[i] = store;
        store += strlen(store) + 1;
        len -= strlen(av[i]) + 1;
    }
    return 0;
}

/* The prefix of a template before its $variable, without blanks:
 * "-o $fileOut" -> "-o", "--load=$fileIn" -> "--load=". */
static void template_prefix(const char *tpl, const char *var, char *buf,
                            size_t len)
{
    const char *ph = strstr(tpl, var);
    size_t n = ph ? (size_t)(ph - tpl) : 0;

    if (n >= len)
        n = len - 1;
    memcpy(buf, tpl, n);
    while (n > 0 && buf[n - 1] == ' ')
        n--;
    buf[n] = '\0';
}

static int is_option(const struct local_conf *c, const char *word)
{
    char pats[sizeof(c->options)], *save = NULL, *p;

    memcpy(pats, c->options, sizeof(pats));
    for (p = strtok_r(pats, ", ", &save); p; p = strtok_r(NULL, ", ", &save)) {
        if (fnmatch(p, word, 0) == 0)
            return 1;
    }
    return 0;
}

/* Appends the user's words to av at n, with the service's flags. */
static int add_user_words(struct local_conf *c, char **av, int n,
                          int argc, char **argv)
{
    char out_prefix[256];
    struct stat st;
    size_t plen;

    template_prefix(c->output, "$fileOut", out_prefix, sizeof(out_prefix));
    plen = strlen(out_prefix);
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i];

        if (c->option_flag[0] && is_option(c, w))
            av[n++] = c->option_flag;
        else if (c->input_flag[0] && w[0] != '-' && stat(w, &st) == 0 &&
                 S_ISREG(st.st_mode) &&
                 !(i > 0 && plen && !strcmp(argv[i - 1], out_prefix)))
            av[n++] = c->input_flag;
        av[n++] = argv[i];
    }
    av[n] = NULL;
    return n;
}

static int load_conf(const char *service, struct local_conf *c,
                     char *dir_out, size_t dirlen)
{
    const char *dir = getenv("RRCLOUD_SERVICES_DIR");
    char file[4096], err[512];
    int r;

    if (!dir || !*dir)
        dir = PKGDATADIR "/services";
    if (!cli_args_service_valid(service) ||
        rr_fmt(file, sizeof(file), "%s/%s.conf", dir, service) < 0 ||
        rr_fmt(dir_out, dirlen, "%s", dir) < 0) {
        cli_out_error("bad service name '%s'", service);
        return CLI_EXIT_USAGE;
    }
    r = kv_parse_file(file, conf_pair, c, err, sizeof(err));
    if (r == -2) {
        cli_out_error("service '%s' is not installed here (%s) and no server "
                      "is configured (rrcloudrc: servers = HOST)",
                      service, file);
        return CLI_EXIT_USAGE;
    }
    if (r < 0) {
        cli_out_error("%s", err);
        return CLI_EXIT_ERROR;
    }
    return 0;
}

int cli_local_exec(const char *service, int argc, char **argv)
{
    static struct local_conf c; /* large; this runs once */
    char dir[4096], store[8192];
    char **av = NULL;
    int n, code;

    if ((code = load_conf(service, &c, dir, sizeof(dir))) != 0)
        return code;
    /* a flag per word at worst doubles the user's words */
    av = calloc(CMD_WORDS_MAX + 2 * (size_t)argc + 1, sizeof(*av));
    if (!av) {
        cli_out_error("out of memory");
        return CLI_EXIT_ERROR;
    }
    n = split_words(c.cmd, av, CMD_WORDS_MAX);
    if (n <= 0 || conf_dir_words(av, n, dir, store, sizeof(store)) < 0) {
        cli_out_error("%s/%s.conf: no usable cmd", dir, service);
        free(av);
        return CLI_EXIT_ERROR;
    }
    add_user_words(&c, av, n, argc, argv);
    if (c.path[0] && setenv("PATH", c.path, 1) < 0) {
        cli_out_error("setenv: %s", strerror(errno));
        free(av);
        return CLI_EXIT_ERROR;
    }
    fflush(stdout);
    fflush(stderr);
    signal(SIGPIPE, SIG_DFL); /* ignored for ourselves; the tool wants it */
    execvp(av[0], av);
    cli_out_error("cannot run %s: %s", av[0], strerror(errno));
    free(av);
    return CLI_EXIT_NOEXEC;
}

/* Adds the comma-separated items of list to svc->options, each followed
 * by suffix ("*" turns RepRapCloud's nativeArgs prefixes into patterns). */
static int add_patterns(struct cli_svc *svc, const char *list,
                        const char *suffix)
{
    char copy[8192], *save = NULL, *p;

    if (rr_fmt(copy, sizeof(copy), "%s", list) < 0)
        return -1;
    for (p = strtok_r(copy, ", ", &save); p; p = strtok_r(NULL, ", ", &save)) {
        char **grown = realloc(svc->options,
                               (svc->noptions + 1) * sizeof(*grown));
        size_t n = strlen(p) + strlen(suffix) + 1;

        if (!grown)
            return -1;
        svc->options = grown;
        if (!(svc->options[svc->noptions] = malloc(n)))
            return -1;
        snprintf(svc->options[svc->noptions++], n, "%s%s", p, suffix);
    }
    return 0;
}

int cli_local_describe(const char *service, struct cli_svc *svc)
{
    static struct local_conf c;
    char dir[4096], pre[256];
    const char *env = getenv("RRCLOUD_SERVICES_DIR");
    char file[4096], err[512];
    int no = 0;

    memset(svc, 0, sizeof(*svc));
    memset(&c, 0, sizeof(c));
    if (rr_fmt(dir, sizeof(dir), "%s",
               env && *env ? env : PKGDATADIR "/services") < 0 ||
        !cli_args_service_valid(service) ||
        rr_fmt(file, sizeof(file), "%s/%s.conf", dir, service) < 0 ||
        kv_parse_file(file, conf_pair, &c, err, sizeof(err)) != 0)
        return -1;
    if (!(svc->name = strdup(service)))
        goto fail;
    template_prefix(c.arg_input, "$fileIn", pre, sizeof(pre));
    if (pre[0] && !(svc->arg_input = strdup(pre)))
        goto fail;
    template_prefix(c.output[0] ? c.output : "$fileOut", "$fileOut", pre,
                    sizeof(pre));
    if (pre[0] && !(svc->output = strdup(pre)))
        goto fail;
    svc->no_output = c.no_output[0] && kv_parse_bool(c.no_output, &no) == 0
                         ? no : c.no_output[0] != '\0';
    if (add_patterns(svc, c.options, "") < 0 ||
        add_patterns(svc, c.native, "*") < 0)
        goto fail;
    return 0;
fail:
    cli_svc_free(svc);
    return -1;
}
