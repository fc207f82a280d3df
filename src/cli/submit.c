/*
 * submit.c - running a task: classify the words, upload, wait (the server
 * holds the POST until the task ends; polling covers the rest), download
 * the result to the path the user named, show the log if it failed.
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/util.h"

#define ANSWER_MAX (8u << 20)
#define LOG_TAIL (64u << 10)   /* shown of a failed task's log */
#define POLL_MIN_MS 200
#define POLL_MAX_MS 5000

/* What the end of a task needs to know about the command line. */
struct want {
    const char *out_path;        /* named by the user, or NULL */
    const struct cli_job *job;   /* inputs, for the default name */
    int no_output;               /* the service makes no file */
    long long start_ms;
};

static int status_final(enum cli_status st)
{
    return st == CLI_ST_COMPLETE || st == CLI_ST_FAILED ||
           st == CLI_ST_CANCELLED;
}

/* Shows the spinner until next; returns 0, or an exit code when
 * interrupted or out of time. */
static int wait_turn(struct cli_ctx *ctx, const char *base, const char *id,
                     const char *what, long long start, long long next)
{
    struct cli_prog *p = cli_http_prog(ctx->http);

    if (ctx->timeout > 0 && next > start + ctx->timeout * 1000)
        next = start + ctx->timeout * 1000;
    while (rr_mono_ms() < next && !cli_http_interrupted()) {
        cli_prog_wait(p, what);
        cli_http_sleep(100);
    }
    cli_prog_end(p);
    if (cli_http_interrupted()) {
        cli_out_error("interrupted; task %s goes on at %s "
                      "(rrcloud cancel %s)", id, base, id);
        return CLI_EXIT_INTERRUPTED;
    }
    if (ctx->timeout > 0 && rr_mono_ms() - start >= ctx->timeout * 1000) {
        cli_out_error("task %s not finished after %lld s; it goes on at "
                      "%s (rrcloud fetch %s)", id, ctx->timeout, base, id);
        return CLI_EXIT_UNREACHABLE;
    }
    return 0;
}

/* Asks for the task's record once.  Returns 0 with *rec replaced, -1 to
 * try again later (server gone for a moment), or an exit code. */
static int poll_once(struct cli_ctx *ctx, const char *base, const char *id,
                     struct cli_resp *r, json_t **rec, int *warned)
{
    char path[128], err[256];
    enum cli_net net;
    json_t *v;

    if (rr_fmt(path, sizeof(path), "/?service=info&id=%s&format=json",
               id) < 0)
        return CLI_EXIT_ERROR;
    net = cli_http_get(ctx->http, base, path, r);
    if (net == CLI_NET_DOWN || net == CLI_NET_FAIL) {
        if (!(*warned)++) /* a restarting server comes back */
            cli_out_warn("lost contact with %s (%s); retrying", base,
                         r->error);
        return -1;
    }
    if (net != CLI_NET_OK || r->status != 200)
        return cli_query_fail(net, r, base);
    v = cli_rec_parse(r->body.data, r->body.len, err, sizeof(err));
    /* the id names paths later: it must stay the one we asked about */
    if (!json_is_object(v) || !cli_rec_str(v, "id") ||
        strcmp(cli_rec_str(v, "id"), id) != 0) {
        json_decref(v);
        cli_out_error("%s: bad answer about task %s", base, id);
        return CLI_EXIT_ERROR;
    }
    json_decref(*rec);
    *rec = v;
    return 0;
}

/* Polls with backoff until the task ends, replacing *rec each time;
 * --timeout counts from start. */
static int wait_task(struct cli_ctx *ctx, const char *base, json_t **rec,
                     long long start)
{
    long long delay = POLL_MIN_MS;
    struct cli_resp r;
    char id[48], what[128];
    int code = 0, warned = 0;

    snprintf(id, sizeof(id), "%s", cli_rec_str(*rec, "id"));
    cli_resp_init(&r, ANSWER_MAX, 0);
    while (code <= 0) {
        enum cli_status st = cli_rec_status(cli_rec_str(*rec, "status"));

        if (status_final(st)) {
            code = CLI_EXIT_OK;
            break;
        }
        if (st == CLI_ST_UNKNOWN) {
            cli_out_error("task %s: unknown status from %s", id, base);
            code = CLI_EXIT_ERROR;
            break;
        }
        snprintf(what, sizeof(what), "task %s %s", id,
                 st == CLI_ST_QUEUED ? "queued" : "busy");
        if ((code = wait_turn(ctx, base, id, what, start,
                              rr_mono_ms() + delay)) != 0)
            break;
        delay = delay * 2 > POLL_MAX_MS ? POLL_MAX_MS : delay * 2;
        code = poll_once(ctx, base, id, &r, rec, &warned);
    }
    cli_resp_free(&r);
    return code;
}

static int same_file(const char *a, const char *b)
{
    struct stat sa, sb;

    return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/* The main input: the first one not tied to a prefix such as --load=. */
static const char *main_input(const struct cli_job *job)
{
    for (size_t i = 0; job && i < job->ninputs; i++) {
        if (!job->inputs[i].prearg)
            return job->inputs[i].path;
    }
    return job && job->ninputs ? job->inputs[0].path : NULL;
}

/* Decides where the result goes: the named path (a directory gets the
 * default name inside), else the default name in the cwd, never over one
 * of the inputs. */
static int pick_dest(const struct want *w, const char *name, char *dest,
                     size_t len)
{
    char def[512];
    struct stat st;

    if (cli_rec_default_output(main_input(w->job), name, def, sizeof(def)) < 0)
        return -1;
    if (w->out_path && !(stat(w->out_path, &st) == 0 && S_ISDIR(st.st_mode)))
        return rr_fmt(dest, len, "%s", w->out_path);
    if (w->out_path)
        return rr_fmt(dest, len, "%s/%s", w->out_path, def);
    for (size_t i = 0; w->job && i < w->job->ninputs; i++) {
        if (same_file(def, w->job->inputs[i].path))
            return rr_fmt(dest, len, "%s", name); /* "<id>.<ext>" */
    }
    return rr_fmt(dest, len, "%s", def);
}

static int fetch_result(struct cli_ctx *ctx, const char *base, json_t *rec,
                        const struct want *w, char *dest, size_t len)
{
    const char *out = cli_rec_str(rec, "out");
    char name[160], path[200];
    struct cli_resp r;
    enum cli_net net;
    int code = CLI_EXIT_OK;

    dest[0] = '\0';
    if (w->no_output || !out || !out[0]) {
        if (w->out_path)
            cli_out_warn("the task made no output file; '%s' not written",
                         w->out_path);
        return CLI_EXIT_OK;
    }
    if (cli_rec_out_name(out, name, sizeof(name)) < 0) {
        cli_out_error("%s sent an unsafe output name; not downloaded", base);
        return CLI_EXIT_ERROR;
    }
    if (pick_dest(w, name, dest, len) < 0 ||
        rr_fmt(path, sizeof(path), "/tasks/out/%s", name) < 0) {
        cli_out_error("output path too long");
        return CLI_EXIT_ERROR;
    }
    cli_resp_init(&r, 64u << 10, 0);
    net = cli_http_download(ctx->http, base, path, dest, &r);
    if (net == CLI_NET_LOCAL) {
        cli_out_error("cannot write %s: %s", dest, r.error);
        code = CLI_EXIT_ERROR;
    } else if (net != CLI_NET_OK || r.status != 200) {
        code = cli_query_fail(net, &r, base);
    }
    if (code != CLI_EXIT_OK)
        dest[0] = '\0';
    cli_resp_free(&r);
    return code;
}

static void show_log(struct cli_ctx *ctx, const char *base, const char *id)
{
    struct cli_resp r;
    char path[128];

    cli_resp_init(&r, LOG_TAIL, 1);
    if (rr_fmt(path, sizeof(path), "/tasks/log/%s", id) == 0 &&
        cli_http_get(ctx->http, base, path, &r) == CLI_NET_OK &&
        r.status == 200 && r.body.len > 0) {
        fprintf(stderr, "--- log of task %s ---\n", id);
        cli_out_log(stderr, r.body.data, r.body.len, r.body.dropped);
        fprintf(stderr, "--- end of log ---\n");
    }
    cli_resp_free(&r);
}

/* Ends a task whose record is final: result or log, message, code. */
static int conclude(struct cli_ctx *ctx, const char *base, json_t *rec,
                    const struct want *w)
{
    const char *id = cli_rec_str(rec, "id");
    const char *status = cli_rec_str(rec, "status");
    const char *why = cli_rec_str(rec, "error");
    double secs = (double)(rr_mono_ms() - w->start_ms) / 1000.0;
    char dest[4096] = "", *safe;
    int code;

    if (cli_rec_status(status) != CLI_ST_COMPLETE) {
        if (!(safe = strdup(why ? why : "")))
            return CLI_EXIT_ERROR;
        cli_out_sanitize(safe, strlen(safe));
        cli_out_error("task %s %s%s%s", id, status, safe[0] ? ": " : "", safe);
        free(safe);
        show_log(ctx, base, id);
        if (ctx->opts.json)
            cli_out_json(stdout, rec);
        return CLI_EXIT_FAILED;
    }
    code = fetch_result(ctx, base, rec, w, dest, sizeof(dest));
    if (ctx->opts.verbose)
        show_log(ctx, base, id);
    if (ctx->opts.json) {
        if (dest[0])
            json_object_set_new(rec, "outFile", json_string(dest));
        cli_out_json(stdout, rec);
    }
    if (code == CLI_EXIT_OK)
        cli_out_note("task %s complete (%.1f s)%s%s", id, secs,
                     dest[0] ? ", wrote " : "", dest);
    return code;
}

/* Fetches the service list from the first server that answers. */
static int describe(struct cli_ctx *ctx, const char **base,
                    struct cli_svc *svc, int *have)
{
    struct cli_resp r;
    enum cli_net net;
    json_t *doc = NULL;
    char err[256];
    int code = CLI_EXIT_OK, found;

    *have = 0;
    cli_resp_init(&r, ANSWER_MAX, 0);
    net = cli_http_get_any(ctx->http, ctx->servers, "/api/v1/services", &r,
                           base);
    if (net == CLI_NET_OK && r.status == 404) {
        /* RepRapCloud itself: describe the service from a local conf as
         * its client did, else classify without a description */
        *have = cli_local_describe(ctx->opts.command, svc) == 0;
        if (ctx->opts.verbose)
            cli_out_note("%s has no /api/v1/services; %s", *base,
                         *have ? "using the local service conf"
                               : "sending files and -switches as they are");
        goto out;
    }
    if (net != CLI_NET_OK || r.status != 200) {
        code = cli_query_fail(net, &r, *base);
        goto out;
    }
    doc = json_loadb(r.body.data, r.body.len, 0, NULL);
    found = doc ? cli_svc_find(svc, doc, ctx->opts.command, err, sizeof(err))
                : (snprintf(err, sizeof(err), "not JSON"), -1);
    if (found < 0) {
        cli_out_error("%s: bad service list: %s", *base, err);
        code = CLI_EXIT_ERROR;
    } else if (found == 1) {
        cli_out_error("%s offers no service '%s' (see rrcloud services)",
                      *base, ctx->opts.command);
        code = CLI_EXIT_REJECTED;
    } else {
        *have = 1;
    }
out:
    json_decref(doc);
    cli_resp_free(&r);
    return code;
}

/* POSTs the task; on success *rec holds the answer with a valid id. */
static int post_task(struct cli_ctx *ctx, const char *base,
                     const struct cli_job *job, json_t **rec)
{
    struct cli_resp r;
    enum cli_net net;
    char err[256];
    int code = CLI_EXIT_OK;

    cli_resp_init(&r, ANSWER_MAX, 0);
    net = cli_http_submit(ctx->http, base, ctx->opts.command, job,
                          ctx->notifier, ctx->opts.async, &r);
    if (net == CLI_NET_ABORT) {
        cli_out_error("interrupted; the task may go on at %s (rrcloud info)",
                      base);
        code = CLI_EXIT_INTERRUPTED;
    } else if (net == CLI_NET_FAIL && r.timed_out) {
        cli_out_error("no answer within %lld s; the task may go on at %s "
                      "(rrcloud info)", ctx->timeout, base);
        code = CLI_EXIT_UNREACHABLE;
    } else if (net != CLI_NET_OK || r.status / 100 != 2) {
        code = cli_query_fail(net, &r, base);
        /* a proxy that gave up holding: the task itself may be fine */
        if (net == CLI_NET_OK && (r.status == 502 || r.status == 504))
            cli_out_note("the task may still run at %s: see rrcloud info",
                         base);
    } else if (!(*rec = cli_rec_parse(r.body.data, r.body.len, err,
                                      sizeof(err))) ||
               !json_is_object(*rec)) {
        cli_out_error("%s: bad answer: %s", base,
                      *rec ? "not an object" : err);
        code = CLI_EXIT_ERROR;
    } else if (!cli_rec_str(*rec, "id") ||
               !cli_rec_id_valid(cli_rec_str(*rec, "id"))) {
        cli_out_error("%s sent no valid task id", base);
        code = CLI_EXIT_ERROR;
    }
    if (code != CLI_EXIT_OK) {
        json_decref(*rec);
        *rec = NULL;
    }
    cli_resp_free(&r);
    return code;
}

/* A pipeline's fields: then, and thenN.argM for each --thenN in order.
 * Their names go to *names (free it after the upload).  0 or -1. */
static int stage_fields(const struct cli_opts *o, struct cli_job *job,
                        char (**names)[24])
{
    int count[100] = { 0 };

    *names = NULL;
    if (!o->then)
        return 0;
    job->fields = calloc((size_t)o->nstage_opts + 1, sizeof(*job->fields));
    *names = calloc((size_t)o->nstage_opts + 1, sizeof(**names));
    if (!job->fields || !*names)
        return -1;
    job->fields[job->nfields].name = "then";
    job->fields[job->nfields++].value = o->then;
    for (int i = 0; i < o->nstage_opts; i++) {
        const struct cli_stage_opt *g = &o->stage_opts[i];

        snprintf((*names)[i], sizeof((*names)[i]), "then%d.arg%d", g->stage,
                 count[g->stage]++);
        job->fields[job->nfields].name = (*names)[i];
        job->fields[job->nfields++].value = g->value;
    }
    return 0;
}

/* A pipeline answered before its end (a server that could not hold the
 * request, or a held answer cut short) names a stage before the last:
 * the last one's result is the one wanted, so wait for that one. */
static void follow_chain(json_t **rec)
{
    const char *chain = cli_rec_str(*rec, "chain"), *p, *id = NULL;
    char last[64];
    size_t n;
    json_t *next;

    if (!chain)
        return;
    p = strrchr(chain, ',');
    p = p ? p + 1 : chain;
    p += strspn(p, " ");
    n = strcspn(p, " ");
    if (n == 0 || n >= sizeof(last))
        return;
    memcpy(last, p, n);
    last[n] = '\0';
    id = cli_rec_str(*rec, "id");
    if (!cli_rec_id_valid(last) || (id && strcmp(id, last) == 0))
        return;
    next = json_pack("{s:s, s:s}", "id", last, "status", "queued");
    if (!next)
        return;
    json_decref(*rec);
    *rec = next;
}

int cli_submit_run(struct cli_ctx *ctx)
{
    struct want w = { .start_ms = rr_mono_ms() };
    struct cli_svc svc = { 0 };
    struct cli_job job = { 0 };
    const char *base = NULL;
    json_t *rec = NULL;
    char err[512], (*names)[24] = NULL;
    int have = 0, code;

    if ((code = describe(ctx, &base, &svc, &have)) != CLI_EXIT_OK)
        goto out;
    if (cli_args_classify(have ? &svc : NULL, ctx->opts.argc, ctx->opts.argv,
                          &job, err, sizeof(err)) < 0) {
        cli_out_error("%s", err);
        code = CLI_EXIT_USAGE;
        goto out;
    }
    if (stage_fields(&ctx->opts, &job, &names) < 0) {
        cli_out_error("out of memory");
        code = CLI_EXIT_ERROR;
        goto out;
    }
    if (ctx->opts.async && job.out_path)
        cli_out_warn("--async does not download; later: rrcloud fetch ID %s",
                     job.out_path);
    if ((code = post_task(ctx, base, &job, &rec)) != CLI_EXIT_OK)
        goto out;
    if (ctx->opts.async) {
        if (ctx->opts.json)
            cli_out_json(stdout, rec);
        else
            printf("id: %s\n", cli_rec_str(rec, "id"));
        goto out;
    }
    follow_chain(&rec);
    w.out_path = job.out_path;
    w.job = &job;
    /* a pipeline's result is its last service's: it has one (the server
     * refuses a chain that goes on after a service without) */
    w.no_output = have && svc.no_output && !ctx->opts.then;
    if ((code = wait_task(ctx, base, &rec, w.start_ms)) == CLI_EXIT_OK)
        code = conclude(ctx, base, rec, &w);
out:
    json_decref(rec);
    cli_job_free(&job);
    cli_svc_free(&svc);
    free(names);
    return code;
}

int cli_submit_fetch(struct cli_ctx *ctx)
{
    struct want w = { .start_ms = rr_mono_ms() };
    const char *id = ctx->opts.argc >= 1 ? ctx->opts.argv[0] : NULL;
    const char *base;
    json_t *rec = NULL;
    int code;

    if (!id || ctx->opts.argc > 2) {
        cli_out_error("usage: rrcloud fetch ID [PATH]");
        return CLI_EXIT_USAGE;
    }
    if (!cli_rec_id_valid(id)) {
        cli_out_error("'%s' is not a task id", id);
        return CLI_EXIT_USAGE;
    }
    w.out_path = ctx->opts.argc == 2 ? ctx->opts.argv[1] : NULL;
    if ((code = cli_query_task(ctx, id, &base, &rec)) != CLI_EXIT_OK)
        return code;
    /* The record's id names paths below: it must be the one we asked. */
    if (!cli_rec_str(rec, "id") || strcmp(cli_rec_str(rec, "id"), id) != 0) {
        cli_out_error("%s answered about another task", base);
        code = CLI_EXIT_ERROR;
    } else if ((code = wait_task(ctx, base, &rec, w.start_ms)) ==
               CLI_EXIT_OK) {
        code = conclude(ctx, base, rec, &w);
    }
    json_decref(rec);
    return code;
}
