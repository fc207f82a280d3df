/*
 * query.c - rrcloud info, meta, services and cancel.
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define ANSWER_MAX (8u << 20) /* JSON answers; a long task list fits */

int cli_query_fail(enum cli_net net, const struct cli_resp *r,
                   const char *base)
{
    char msg[512];

    switch (net) {
    case CLI_NET_OK:
        cli_out_server_message(r->status, r->body.data, r->body.len, msg,
                               sizeof(msg));
        cli_out_error("%s", msg);
        if (r->status >= 400 && r->status < 500)
            return CLI_EXIT_REJECTED;
        return CLI_EXIT_ERROR;
    case CLI_NET_DOWN:
        cli_out_error("no server could be reached%s%s",
                      base ? " at " : "", base ? base : "");
        return CLI_EXIT_UNREACHABLE;
    case CLI_NET_FAIL:
        cli_out_error("%s: %s", base ? base : "server", r->error);
        return CLI_EXIT_UNREACHABLE;
    case CLI_NET_ABORT:
        cli_out_error("interrupted");
        return CLI_EXIT_INTERRUPTED;
    case CLI_NET_LOCAL:
        break;
    }
    cli_out_error("%s", r->error);
    return CLI_EXIT_ERROR;
}

/* Parses r's body as JSON of the wanted type (an object, or JSON_ARRAY
 * too when list).  NULL after printing why. */
static json_t *answer(const struct cli_resp *r, const char *base, int list)
{
    char err[256];
    json_t *v = cli_rec_parse(r->body.data ? r->body.data : "", r->body.len,
                              err, sizeof(err));

    if (v && (json_is_object(v) || (list && json_is_array(v))))
        return v;
    if (v)
        snprintf(err, sizeof(err), "unexpected JSON type");
    cli_out_error("%s: bad answer: %s", base, err);
    json_decref(v);
    return NULL;
}

int cli_query_task(struct cli_ctx *ctx, const char *id, const char **base,
                   json_t **rec)
{
    struct cli_resp r;
    char path[128];
    int down = 0, code = CLI_EXIT_REJECTED;

    *rec = NULL;
    cli_resp_init(&r, ANSWER_MAX, 0);
    if (rr_fmt(path, sizeof(path), "/?service=info&id=%s&format=json",
               id) < 0) {
        code = CLI_EXIT_USAGE;
        goto out;
    }
    for (size_t i = 0; ctx->servers[i]; i++) {
        enum cli_net net = cli_http_get(ctx->http, ctx->servers[i], path, &r);

        if (net == CLI_NET_DOWN) {
            cli_out_warn("server %s is not reachable (%s)", ctx->servers[i],
                         r.error);
            down = 1;
            continue;
        }
        if (net == CLI_NET_OK && r.status == 404)
            continue; /* another server may know it */
        if (net != CLI_NET_OK || r.status != 200) {
            code = cli_query_fail(net, &r, ctx->servers[i]);
            goto out;
        }
        if (!(*rec = answer(&r, ctx->servers[i], 0))) {
            code = CLI_EXIT_ERROR;
            goto out;
        }
        *base = ctx->servers[i];
        code = CLI_EXIT_OK;
        goto out;
    }
    cli_out_error("task %s not found%s", id,
                  down ? " (some servers were unreachable)" : "");
    code = down ? CLI_EXIT_UNREACHABLE : CLI_EXIT_REJECTED;
out:
    cli_resp_free(&r);
    return code;
}

static int info_one(struct cli_ctx *ctx, const char *id)
{
    const char *base;
    json_t *rec;
    int code;

    if (!cli_rec_id_valid(id)) {
        cli_out_error("'%s' is not a task id", id);
        return CLI_EXIT_USAGE;
    }
    if ((code = cli_query_task(ctx, id, &base, &rec)) != CLI_EXIT_OK)
        return code;
    if (ctx->opts.json)
        cli_out_json(stdout, rec);
    else
        cli_out_record(stdout, rec);
    json_decref(rec);
    return CLI_EXIT_OK;
}

/* Adds the tasks of one server to all; 0, or an exit code. */
static int info_server(struct cli_ctx *ctx, const char *base,
                       struct cli_resp *r, json_t *all, int *answered)
{
    enum cli_net net = cli_http_get(ctx->http, base,
                                    "/?service=info&format=json", r);
    json_t *v;

    if (net == CLI_NET_DOWN) {
        cli_out_warn("server %s is not reachable (%s)", base, r->error);
        return 0;
    }
    if (net != CLI_NET_OK || r->status != 200)
        return cli_query_fail(net, r, base);
    if (!(v = answer(r, base, 1)))
        return CLI_EXIT_ERROR;
    *answered = 1;
    if (json_is_array(v) ? json_array_extend(all, v)
                         : json_array_append(all, v)) {
        json_decref(v);
        cli_out_error("out of memory");
        return CLI_EXIT_ERROR;
    }
    json_decref(v);
    return 0;
}

int cli_query_info(struct cli_ctx *ctx)
{
    struct cli_resp r;
    json_t *all;
    int code = CLI_EXIT_OK, answered = 0;

    if (ctx->opts.argc > 1) {
        cli_out_error("usage: rrcloud info [ID]");
        return CLI_EXIT_USAGE;
    }
    if (ctx->opts.argc == 1)
        return info_one(ctx, ctx->opts.argv[0]);
    if (!(all = json_array())) {
        cli_out_error("out of memory");
        return CLI_EXIT_ERROR;
    }
    /* Tasks live on the server that ran them: list every server's. */
    cli_resp_init(&r, ANSWER_MAX, 0);
    for (size_t i = 0; ctx->servers[i] && code == CLI_EXIT_OK; i++)
        code = info_server(ctx, ctx->servers[i], &r, all, &answered);
    if (code == CLI_EXIT_OK && !answered) {
        cli_out_error("no server could be reached");
        code = CLI_EXIT_UNREACHABLE;
    }
    if (code == CLI_EXIT_OK) {
        if (ctx->opts.json)
            cli_out_json(stdout, all);
        else if (json_array_size(all) == 0)
            cli_out_note("no tasks");
        else
            cli_out_list(stdout, all);
    }
    cli_resp_free(&r);
    json_decref(all);
    return code;
}

/* GETs path from the first server that answers and parses an object. */
static int get_object(struct cli_ctx *ctx, const char *path, json_t **out,
                      const char **base)
{
    struct cli_resp r;
    enum cli_net net;
    int code = CLI_EXIT_OK;

    *out = NULL;
    *base = NULL;
    cli_resp_init(&r, ANSWER_MAX, 0);
    net = cli_http_get_any(ctx->http, ctx->servers, path, &r, base);
    if (net != CLI_NET_OK || r.status != 200)
        code = cli_query_fail(net, &r, *base);
    else if (!(*out = answer(&r, *base, 0)))
        code = CLI_EXIT_ERROR;
    cli_resp_free(&r);
    return code;
}

int cli_query_meta(struct cli_ctx *ctx)
{
    const char *base;
    json_t *meta;
    int code;

    if (ctx->opts.argc > 0) {
        cli_out_error("usage: rrcloud meta");
        return CLI_EXIT_USAGE;
    }
    code = get_object(ctx, "/?service=meta&format=json", &meta, &base);
    if (code != CLI_EXIT_OK)
        return code;
    if (ctx->opts.json)
        cli_out_json(stdout, meta);
    else
        cli_out_record(stdout, meta);
    json_decref(meta);
    return CLI_EXIT_OK;
}

/* "    label: a, b, c" wrapped before column 78. */
static void print_strings(const char *label, const json_t *arr,
                          const char *sep)
{
    size_t i, col;
    json_t *v;
    char *copy;

    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return;
    col = (size_t)printf("    %s:", label);
    json_array_foreach(arr, i, v) {
        if (!json_is_string(v) || !(copy = strdup(json_string_value(v))))
            continue;
        cli_out_sanitize(copy, strlen(copy));
        if (i > 0 && col + strlen(sep) + strlen(copy) > 78) {
            printf("%s\n       ", sep[0] == ',' ? "," : "");
            col = 7;
        } else if (i > 0) {
            col += (size_t)printf("%s", sep[0] == ',' ? "," : "");
        }
        col += (size_t)printf(" %s", copy);
        free(copy);
    }
    putchar('\n');
}

static void print_service(const json_t *s)
{
    const char *fields[][2] = { { "name", "" }, { "description", "" },
                                { "argInput", "" }, { "output", "" } };
    char *val[4];

    for (size_t i = 0; i < 4; i++) {
        const char *v = cli_rec_str(s, fields[i][0]);

        val[i] = strdup(v ? v : "");
        if (val[i])
            cli_out_sanitize(val[i], strlen(val[i]));
    }
    if (val[0] && val[1] && val[2] && val[3]) {
        printf("%s%s%s\n", val[0], val[1][0] ? ": " : "", val[1]);
        print_strings("inputs", json_object_get(s, "inputTypes"), ", ");
        if (val[2][0])
            printf("    extra input: %sFILE\n", val[2]);
        if (json_is_true(json_object_get(s, "noOutput")))
            printf("    output: none\n");
        else if (val[3][0])
            printf("    output: %sFILE\n", val[3]);
        print_strings("options", json_object_get(s, "options"), " ");
    }
    for (size_t i = 0; i < 4; i++)
        free(val[i]);
}

int cli_query_services(struct cli_ctx *ctx)
{
    const char *base;
    const json_t *list;
    json_t *doc, *s;
    size_t i;
    int code;

    if (ctx->opts.argc > 0) {
        cli_out_error("usage: rrcloud services");
        return CLI_EXIT_USAGE;
    }
    code = get_object(ctx, "/api/v1/services", &doc, &base);
    if (code != CLI_EXIT_OK)
        return code;
    list = json_object_get(doc, "services");
    if (!json_is_array(list)) {
        cli_out_error("%s: bad answer: no \"services\" array", base);
        code = CLI_EXIT_ERROR;
    } else if (ctx->opts.json) {
        cli_out_json(stdout, doc);
    } else {
        json_array_foreach(list, i, s) {
            if (json_is_object(s))
                print_service(s);
        }
    }
    json_decref(doc);
    return code;
}

/* Prints a cancel answer: the record if there is one, else the id. */
static void cancel_done(struct cli_ctx *ctx, const struct cli_resp *r,
                        const char *id)
{
    char err[64];
    json_t *v = r->body.len ? cli_rec_parse(r->body.data, r->body.len, err,
                                            sizeof(err))
                            : NULL;

    if (ctx->opts.json && v)
        cli_out_json(stdout, v);
    else if (json_is_object(v) && cli_rec_str(v, "status"))
        cli_out_record(stdout, v);
    else
        printf("id: %s\nstatus: cancelled\n", id);
    json_decref(v);
}

int cli_query_cancel(struct cli_ctx *ctx)
{
    const char *id = ctx->opts.argc == 1 ? ctx->opts.argv[0] : NULL;
    struct cli_resp r;
    char path[128];
    int down = 0, code = CLI_EXIT_REJECTED;

    if (!id) {
        cli_out_error("usage: rrcloud cancel ID");
        return CLI_EXIT_USAGE;
    }
    if (!cli_rec_id_valid(id) ||
        rr_fmt(path, sizeof(path), "/api/v1/tasks/%s/cancel", id) < 0) {
        cli_out_error("'%s' is not a task id", id);
        return CLI_EXIT_USAGE;
    }
    cli_resp_init(&r, ANSWER_MAX, 0);
    for (size_t i = 0; ctx->servers[i]; i++) {
        enum cli_net net = cli_http_post(ctx->http, ctx->servers[i], path,
                                         &r);

        if (net == CLI_NET_DOWN) {
            cli_out_warn("server %s is not reachable (%s)", ctx->servers[i],
                         r.error);
            down = 1;
            continue;
        }
        if (net == CLI_NET_OK && r.status == 404)
            continue;
        if (net == CLI_NET_OK && r.status / 100 == 2) {
            cancel_done(ctx, &r, id);
            code = CLI_EXIT_OK;
        } else {
            code = cli_query_fail(net, &r, ctx->servers[i]);
        }
        goto out;
    }
    cli_out_error("task %s not found%s", id,
                  down ? " (some servers were unreachable)" : "");
    code = down ? CLI_EXIT_UNREACHABLE : CLI_EXIT_REJECTED;
out:
    cli_resp_free(&r);
    return code;
}
