/*
 * keys.c - users and API keys (an admin's), and rrcloud login:
 *
 *   rrcloud key create --role=R --name=N [--user=U] [--expires=90d]
 *           [--queues=a,b] [--max-copies=N] [--max-priority=N]
 *           [--max-queued=N] [--queue=Q (octoprint)]
 *   rrcloud key list | key revoke NAME|ID | key delete NAME|ID
 *   rrcloud user create NAME | user list
 *   rrcloud login          reads a key on stdin, checks it with the
 *                          server, stores it in ~/.rrcloudrc (mode 600)
 *
 * A new key is printed once, by key create; nothing prints it again.
 */
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "common/util.h"

#define RC_MAX (64 * 1024)

static int usage(const char *u)
{
    cli_out_error("usage: %s", u);
    return CLI_EXIT_USAGE;
}

/* Sends method path body with the caller's token; prints the answer as
 * JSON with --json, else as a record (fields of a list: a table by the
 * caller).  *out gets the answer when not NULL. */
static int call(struct cli_ctx *ctx, const struct cli_fargs *a,
                const char *method, const char *path, json_t *body,
                json_t **out)
{
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_t *doc = NULL;
    int code;

    if (body && !text) {
        cli_out_error("out of memory");
        return CLI_EXIT_ERROR;
    }
    code = cli_fleet_call(ctx, method, path, text, cli_fleet_token(ctx, a),
                          &doc, NULL);
    free(text);
    if (out)
        *out = doc;
    else
        json_decref(doc);
    return code;
}

static void set_int(json_t *o, const char *key, const char *v)
{
    if (v)
        json_object_set_new(o, key, json_integer(strtoll(v, NULL, 10)));
}

static int key_create(struct cli_ctx *ctx, const struct cli_fargs *a)
{
    json_t *b = json_object(), *doc = NULL;
    int code;

    if (!a->role || !a->name || a->nwords != 1)
        return (json_decref(b), usage("rrcloud key create --role=ROLE "
                                      "--name=NAME [--user=USER] "
                                      "[--expires=T] [limits]"));
    if (!b)
        return CLI_EXIT_ERROR;
    json_object_set_new(b, "role", json_string(a->role));
    json_object_set_new(b, "name", json_string(a->name));
    if (a->user)
        json_object_set_new(b, "user", json_string(a->user));
    if (a->queue)
        json_object_set_new(b, "queue", json_string(a->queue));
    if (a->queues)
        json_object_set_new(b, "queues", json_string(a->queues));
    if (a->expires > 0)
        json_object_set_new(b, "expires_in", json_integer(a->expires));
    set_int(b, "max_copies", a->max_copies);
    set_int(b, "max_priority", a->max_priority);
    set_int(b, "max_queued", a->max_queued);
    set_int(b, "priority", a->priority);
    code = call(ctx, a, "POST", "/api/v1/keys", b, &doc);
    json_decref(b);
    if (code == CLI_EXIT_OK && doc) {
        if (ctx->opts.json || a->json)
            cli_out_json(stdout, doc);
        else
            cli_out_record(stdout, doc);
        cli_out_note("the key is shown this once: keep it (rrcloud login "
                     "stores it)");
    }
    json_decref(doc);
    return code;
}

static void key_row(const json_t *k, char c[][256])
{
    const json_t *exp = json_object_get(k, "expires");

    cli_out_cell(json_object_get(k, "name"), c[0], 256);
    cli_out_cell(json_object_get(k, "id"), c[1], 256);
    cli_out_cell(json_object_get(k, "role"), c[2], 256);
    cli_out_cell(json_object_get(k, "user"), c[3], 256);
    time_t when = json_is_number(exp) ? (time_t)json_number_value(exp) : 0;
    struct tm tm;

    if (!when || !localtime_r(&when, &tm) ||
        !strftime(c[4], 256, "%Y-%m-%d %H:%M", &tm))
        snprintf(c[4], 256, "never");
    snprintf(c[5], 256, "%s", json_is_true(json_object_get(k, "revoked"))
                              ? "revoked"
                              : json_is_number(exp) &&
                                json_number_value(exp) <= rr_now()
                              ? "expired" : "active");
}

static int key_list(struct cli_ctx *ctx, const struct cli_fargs *a)
{
    static const char *const head[] = { "NAME", "ID", "ROLE", "USER",
                                        "EXPIRES", "STATE" };
    char cells[6][256];
    const char *ptrs[6];
    struct cli_table t;
    json_t *doc = NULL, *arr, *k;
    size_t i;
    int code;

    if (a->nwords != 1)
        return usage("rrcloud key list [--json]");
    if ((code = call(ctx, a, "GET", "/api/v1/keys", NULL, &doc)))
        return code;
    arr = json_object_get(doc, "keys");
    if (ctx->opts.json || a->json) {
        cli_out_json(stdout, doc);
    } else if (!json_array_size(arr)) {
        cli_out_note("no keys");
    } else if (cli_table_init(&t, 6, head) == 0) {
        for (int c = 0; c < 6; c++)
            ptrs[c] = cells[c];
        json_array_foreach(arr, i, k) {
            key_row(k, cells);
            cli_table_add(&t, ptrs);
        }
        cli_table_print(stdout, &t);
        cli_table_free(&t);
    }
    json_decref(doc);
    return CLI_EXIT_OK;
}

/* key revoke|delete NAME|ID */
static int key_one(struct cli_ctx *ctx, const struct cli_fargs *a,
                   int revoke)
{
    char path[256];
    int code;

    if (a->nwords != 2 || !cli_fargs_name_valid(a->words[1]))
        return usage(revoke ? "rrcloud key revoke NAME|ID"
                            : "rrcloud key delete NAME|ID");
    snprintf(path, sizeof(path), "/api/v1/keys/%s%s", a->words[1],
             revoke ? "/revoke" : "");
    code = call(ctx, a, revoke ? "POST" : "DELETE", path, NULL, NULL);
    if (code == CLI_EXIT_OK)
        cli_out_note("key %s %s", a->words[1], revoke ? "revoked: it is "
                     "refused from now on" : "deleted");
    return code;
}

static int user_cmd(struct cli_ctx *ctx, const struct cli_fargs *a)
{
    json_t *b, *doc = NULL;
    int code;

    if (a->nwords == 1 && !strcmp(a->words[0], "list")) {
        if ((code = call(ctx, a, "GET", "/api/v1/users", NULL, &doc)))
            return code;
        if (ctx->opts.json || a->json)
            cli_out_json(stdout, doc);
        else
            cli_out_list(stdout, json_object_get(doc, "users"));
        json_decref(doc);
        return CLI_EXIT_OK;
    }
    if (a->nwords != 2 || strcmp(a->words[0], "create") ||
        !cli_fargs_name_valid(a->words[1]))
        return usage("rrcloud user create NAME | rrcloud user list");
    b = json_pack("{ss}", "name", a->words[1]);
    code = call(ctx, a, "POST", "/api/v1/users", b, NULL);
    json_decref(b);
    if (code == CLI_EXIT_OK)
        cli_out_note("user %s created", a->words[1]);
    return code;
}

/* ---- login ------------------------------------------------------------- */

/* Reads one line (the key) from stdin, without echo on a terminal. */
static int read_key(char *key, size_t len)
{
    struct termios old, quiet;
    int tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
    int rc = 0;

    if (tty) {
        fprintf(stderr, "API key: ");
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    if (!fgets(key, (int)len, stdin))
        rc = -1;
    if (tty) {
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
        fputc('\n', stderr);
    }
    key[strcspn(key, "\r\n")] = '\0';
    return rc;
}

/* 1 if line sets "key" or "token" (the line a login replaces). */
static int is_key_line(const char *line, size_t n)
{
    while (n && (*line == ' ' || *line == '\t'))
        line++, n--;
    return (n > 3 && !strncmp(line, "key", 3) && strchr(" \t=:", line[3])) ||
           (n > 5 && !strncmp(line, "token", 5) &&
            strchr(" \t=:", line[5]));
}

/* Copies path's lines but its key into f. */
static int copy_rc(const char *path, FILE *f)
{
    char *data = malloc(RC_MAX + 1);
    FILE *in = fopen(path, "r");
    size_t n = 0;
    int rc = 0;

    if (!data) {
        rc = -1;
    } else if (in) {
        n = fread(data, 1, RC_MAX, in);
        data[n] = '\0';
        for (char *p = data, *nl; *p; p = nl) {
            nl = strchr(p, '\n');
            nl = nl ? nl + 1 : p + strlen(p);
            if (!is_key_line(p, (size_t)(nl - p)) &&
                fwrite(p, 1, (size_t)(nl - p), f) != (size_t)(nl - p))
                rc = -1;
            if (nl > p && nl[-1] != '\n' && fputc('\n', f) == EOF)
                rc = -1;
        }
    }
    if (in)
        fclose(in);
    free(data);
    return rc;
}

/* Writes ~/.rrcloudrc with key (mode 600, through a temporary file). */
static int store_key(const char *key, char *path, size_t len)
{
    const char *home = getenv("HOME");
    char tmp[4200];
    FILE *f;
    int fd, rc = -1;

    if (!home || !*home || rr_fmt(path, len, "%s/.rrcloudrc", home) < 0 ||
        rr_fmt(tmp, sizeof(tmp), "%s.tmp", path) < 0)
        return -1;
    unlink(tmp);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)) < 0)
        return -1;
    if (!(f = fdopen(fd, "w"))) {
        close(fd);
        goto out;
    }
    if (copy_rc(path, f) == 0 && fprintf(f, "key = %s\n", key) > 0 &&
        fflush(f) == 0 && fsync(fileno(f)) == 0)
        rc = 0;
    if (fclose(f) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, path) < 0)
        rc = -1;
out:
    if (rc < 0)
        unlink(tmp);
    return rc;
}

/* 1 if rrcloudrc's "key" will be sent to base (see cli_rc_key). */
static int key_goes_to(const struct cli_ctx *ctx, const char *base)
{
    char **scope = NULL, err[256];
    int yes = 0;

    if (cli_rc_server_list(ctx->rc.servers ? ctx->rc.servers : "localhost",
                           ctx->opts.port ? ctx->opts.port : ctx->rc.port,
                           &scope, err, sizeof(err)) < 0)
        return 0;
    for (size_t i = 0; base && scope[i]; i++)
        yes |= !strcmp(scope[i], base);
    cli_rc_list_free(scope);
    return yes;
}

static int login(struct cli_ctx *ctx, const struct cli_fargs *a)
{
    char key[300], path[4096];
    const char *base = NULL;
    json_t *doc = NULL;
    int code;

    if (a->nwords != 0)
        return usage("rrcloud login < KEYFILE  (or type the key)");
    if (read_key(key, sizeof(key)) < 0 || !cli_args_token_valid(key)) {
        explicit_bzero(key, sizeof(key));
        cli_out_error("no key read (1..255 visible characters, on stdin)");
        return CLI_EXIT_USAGE;
    }
    /* Any key may list its own tasks: a 200 means the server knows it. */
    code = cli_fleet_call(ctx, "GET", "/api/v1/tasks?limit=1", NULL, key,
                          &doc, &base);
    json_decref(doc);
    if (code == CLI_EXIT_OK && store_key(key, path, sizeof(path)) < 0) {
        cli_out_error("cannot write ~/.rrcloudrc: %s", strerror(errno));
        code = CLI_EXIT_ERROR;
    } else if (code == CLI_EXIT_OK) {
        cli_out_note("key stored in %s (mode 600)", path);
        if (!ctx->opts.servers && !key_goes_to(ctx, base))
            cli_out_warn("the stored key goes only to the servers of "
                         "\"servers =\" in rrcloudrc (%s), not to %s: add "
                         "it there", ctx->rc.servers ? ctx->rc.servers
                                                     : "localhost", base);
    }
    explicit_bzero(key, sizeof(key));
    return code;
}

int cli_keys_run(struct cli_ctx *ctx, const struct cli_fargs *a)
{
    const char *w = ctx->opts.command;

    if (!strcmp(w, "login"))
        return login(ctx, a);
    if (!strcmp(w, "user"))
        return user_cmd(ctx, a);
    if (a->nwords >= 1 && !strcmp(a->words[0], "create"))
        return key_create(ctx, a);
    if (a->nwords >= 1 && !strcmp(a->words[0], "list"))
        return key_list(ctx, a);
    if (a->nwords >= 1 && !strcmp(a->words[0], "revoke"))
        return key_one(ctx, a, 1);
    if (a->nwords >= 1 && !strcmp(a->words[0], "delete"))
        return key_one(ctx, a, 0);
    return usage("rrcloud key create|list|revoke|delete ...");
}
