/*
 * print.c - rrcloud print FILE and print.cloud: send G-code to the fleet
 * (service=print with the job's fields) and follow the job to its end.
 *
 * Unlike the other services, a print is always submitted with async=1
 * and then followed by polling, with a backoff, instead of waiting on the
 * held POST: a print runs for hours, far past what proxies hold a request
 * (nginx's fastcgi_read_timeout, a load balancer's idle timeout), and a
 * held request that breaks loses the answer while polls are cheap to
 * repeat; polling also lets rrcloud show the copies moving from printer
 * to printer as it goes.  The task record is public; with a token the
 * job's attempts are shown too.
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

#define ANSWER_MAX (8u << 20)
#define POLL_MIN_MS 500
#define POLL_MAX_MS 15000   /* a print changes state every few minutes */
#define LOOKUP_LIMIT "1000" /* jobs of the queue searched for ours */
#define LOOKUP_TRIES 20     /* then the job is too deep in the queue */

/* Following one print. */
struct watch {
    struct cli_ctx *ctx;
    const char *base;       /* the server that took it */
    const char *token;      /* NULL: task status only */
    const char *queue;
    const char *copies;     /* as asked for */
    char id[48];            /* the task */
    long long job_id;       /* 0 until found */
    int lookups;            /* searches for the job so far */
    int no_job;             /* job details given up */
    json_t *job;            /* the job's last record, or NULL */
    json_t *seen;           /* attempt id -> state last shown */
    char status[16];        /* task status last shown */
    long long start_ms;
    int warned;             /* lost contact was reported */
};

static const char usage_text[] =
    "usage: rrcloud print FILE [--queue=Q] [--copies=N] [--material=M] "
    "[--colour=C]\n       [--priority=P] [--printer=ID] [--profile=X] "
    "[--override NAME=VALUE]...\n       [--define NAME=VALUE]... "
    "[--notifier=URL] [--async]";

/* --- the line about an attempt -------------------------------------- */

void cli_print_attempt_line(const json_t *att, char *buf, size_t len)
{
    char copy[64], printer[64], state[64], why[256];
    const char *st;

    cli_out_cell(json_object_get(att, "copy"), copy, sizeof(copy));
    cli_out_cell(json_object_get(att, "printer"), printer, sizeof(printer));
    cli_out_cell(json_object_get(att, "state"), state, sizeof(state));
    cli_out_cell(json_object_get(att, "reason"), why, sizeof(why));
    st = cli_rec_str(att, "state");
    snprintf(buf, len, "copy %s on printer %s: %s%s%s%s", copy, printer,
             state, strcmp(why, "-") ? " (" : "",
             strcmp(why, "-") ? why : "", strcmp(why, "-") ? ")" : "");
    if (st && !strcmp(st, "lost")) {
        size_t n = strlen(buf);

        snprintf(buf + n, len - n, "; the copy goes back in the queue");
    }
}

/* --- job details (with a token) -------------------------------------- */

/* GETs path from the print's server with the token; 0 and *out (an
 * object), else -1 after a warning that ends the job details (the
 * print is still followed through its task). */
static int job_get(struct watch *w, const char *path, json_t **out)
{
    struct cli_resp r;
    enum cli_net net;
    char msg[512];

    *out = NULL;
    cli_resp_init(&r, ANSWER_MAX, 0);
    net = cli_http_api(w->ctx->http, "GET", w->base, path, NULL, w->token,
                       &r);
    if (net == CLI_NET_OK && r.status == 200)
        *out = json_loadb(r.body.data, r.body.len, 0, NULL);
    if (!json_is_object(*out)) {
        if (net == CLI_NET_OK)
            cli_out_server_message(r.status, r.body.data, r.body.len, msg,
                                   sizeof(msg));
        else
            snprintf(msg, sizeof(msg), "%s", r.error);
        if (net == CLI_NET_OK || net == CLI_NET_LOCAL) {
            cli_prog_end(cli_http_prog(w->ctx->http));
            cli_out_warn("no job details (%s); following the task only",
                         msg);
            w->no_job = 1;
        }
        json_decref(*out);
        *out = NULL;
        cli_resp_free(&r);
        return -1;
    }
    cli_resp_free(&r);
    return 0;
}

/* Finds our job among the queue's (the task record does not name it). */
static void job_find(struct watch *w)
{
    char path[256];
    const json_t *jobs, *j;
    json_t *doc;
    size_t i;

    if (++w->lookups > LOOKUP_TRIES) {
        w->no_job = 1;
        return;
    }
    if (rr_fmt(path, sizeof(path), "/api/v1/queues/%s/jobs?limit=%s",
               w->queue, LOOKUP_LIMIT) < 0 || strpbrk(w->queue, "#+")) {
        w->no_job = 1;     /* such a name needs escaping: not worth it */
        return;
    }
    if (job_get(w, path, &doc) < 0)
        return;
    jobs = json_object_get(doc, "jobs");
    json_array_foreach(jobs, i, j) {
        const char *task = cli_rec_str(j, "task");
        const json_t *id = json_object_get(j, "id");

        if (task && !strcmp(task, w->id) && json_is_integer(id) &&
            json_integer_value(id) > 0) {
            w->job_id = (long long)json_integer_value(id);
            cli_out_note("print %s is job %lld", w->id, w->job_id);
            break;
        }
    }
    json_decref(doc);
}

/* Shows attempts that are new or changed; returns 1 if any was. */
static int show_attempts(struct watch *w)
{
    const json_t *att = json_object_get(w->job, "attempts"), *a;
    char key[32], line[512];
    int changed = 0;
    size_t i;

    json_array_foreach(att, i, a) {
        const json_t *id = json_object_get(a, "id");
        const char *st = cli_rec_str(a, "state");
        const char *was;

        if (!json_is_integer(id) || !st)
            continue;
        snprintf(key, sizeof(key), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(id));
        was = cli_rec_str(w->seen, key);
        if (was && !strcmp(was, st))
            continue;
        json_object_set_new(w->seen, key, json_string(st));
        cli_print_attempt_line(a, line, sizeof(line));
        cli_prog_end(cli_http_prog(w->ctx->http));
        cli_out_note("%s", line);
        changed = 1;
    }
    return changed;
}

/* Notes "what" in state st once (w->seen remembers it under key); 1 if
 * it was new. */
static int note_once(struct watch *w, const char *key, const char *st,
                     const char *line)
{
    const char *was = cli_rec_str(w->seen, key);

    if (!st || (was && !strcmp(was, st)))
        return 0;
    json_object_set_new(w->seen, key, json_string(st));
    cli_prog_end(cli_http_prog(w->ctx->http));
    cli_out_note("%s", line);
    return 1;
}

/* A model job's way to G-code: its render (a .scad) and its slices per
 * profile, each change once.  Returns 1 if any changed. */
static int show_slicing(struct watch *w)
{
    const json_t *render = json_object_get(w->job, "render");
    const json_t *slices = json_object_get(w->job, "slices"), *sl;
    char key[96], line[512], why[256];
    int changed = 0;
    size_t i;

    if (json_is_object(render)) {
        const char *st = cli_rec_str(render, "state");

        snprintf(line, sizeof(line), "print %s: model %s by %s", w->id,
                 st ? st : "?", cli_rec_str(render, "service")
                                    ? cli_rec_str(render, "service") : "?");
        changed |= note_once(w, "render", st, line);
    }
    json_array_foreach(slices, i, sl) {
        const char *prof = cli_rec_str(sl, "profile");
        const char *st = cli_rec_str(sl, "state");

        if (!prof || !st || !strcmp(st, "pending"))
            continue;
        cli_out_cell(json_object_get(sl, "reason"), why, sizeof(why));
        snprintf(key, sizeof(key), "slice %.80s", prof);
        snprintf(line, sizeof(line), "print %s: profile %s: %s%s%s", w->id,
                 prof, st, strcmp(why, "-") ? ": " : "",
                 strcmp(why, "-") ? why : "");
        changed |= note_once(w, key, st, line);
    }
    return changed;
}

/* What a print waits for, for the spinner: "rendering" or "slicing" while
 * its model is on its way to G-code, else what the task says. */
static const char *waiting_for(const struct watch *w, enum cli_status st)
{
    const json_t *render = json_object_get(w->job, "render");
    const json_t *slices = json_object_get(w->job, "slices"), *sl;
    const char *rs = cli_rec_str(render, "state");
    size_t i;

    if (st != CLI_ST_QUEUED)
        return "printing";
    if (rs && (!strcmp(rs, "pending") || !strcmp(rs, "rendering")))
        return "rendering";
    json_array_foreach(slices, i, sl) {
        const char *s = cli_rec_str(sl, "state");

        if (s && (!strcmp(s, "pending") || !strcmp(s, "slicing")))
            return "slicing";
    }
    return "queued";
}

/* One round of job details: find the job, or fetch it and show what
 * changed.  Returns 1 if something changed. */
static int job_step(struct watch *w)
{
    char path[64];
    json_t *job;

    if (!w->token || w->no_job)
        return 0;
    if (!w->job_id) {
        job_find(w);
        if (!w->job_id)
            return 0;
    }
    snprintf(path, sizeof(path), "/api/v1/jobs/%lld", w->job_id);
    if (job_get(w, path, &job) < 0)
        return 0;
    json_decref(w->job);
    w->job = job;
    return show_slicing(w) | show_attempts(w);
}

/* --- the task ---------------------------------------------------------- */

static int status_final(enum cli_status st)
{
    return st == CLI_ST_COMPLETE || st == CLI_ST_FAILED ||
           st == CLI_ST_CANCELLED;
}

/* Asks for the task once: 0 with *rec replaced, -1 to try again later,
 * or an exit code. */
static int task_poll(struct watch *w, json_t **rec)
{
    struct cli_resp r;
    char path[128], err[256];
    enum cli_net net;
    json_t *v;
    int code = 0;

    if (rr_fmt(path, sizeof(path), "/?service=info&id=%s&format=json",
               w->id) < 0)
        return CLI_EXIT_ERROR;
    cli_resp_init(&r, ANSWER_MAX, 0);
    net = cli_http_get(w->ctx->http, w->base, path, &r);
    if (net == CLI_NET_DOWN || net == CLI_NET_FAIL) {
        if (!w->warned++)  /* a restarting server comes back */
            cli_out_warn("lost contact with %s (%s); retrying", w->base,
                         r.error);
        code = -1;
    } else if (net != CLI_NET_OK || r.status != 200) {
        code = cli_query_fail(net, &r, w->base);
    } else {
        v = cli_rec_parse(r.body.data, r.body.len, err, sizeof(err));
        if (!json_is_object(v) || !cli_rec_str(v, "id") ||
            strcmp(cli_rec_str(v, "id"), w->id) != 0) {
            json_decref(v);
            cli_out_error("%s: bad answer about print %s", w->base, w->id);
            code = CLI_EXIT_ERROR;
        } else {
            json_decref(*rec);
            *rec = v;
            w->warned = 0;
        }
    }
    cli_resp_free(&r);
    return code;
}

/* Shows the spinner until next.  0, or an exit code when interrupted or
 * out of time. */
static int wait_until(struct watch *w, const char *what, long long next)
{
    struct cli_prog *p = cli_http_prog(w->ctx->http);
    long long end = w->start_ms + w->ctx->timeout * 1000;

    if (w->ctx->timeout > 0 && next > end)
        next = end;   /* --timeout is kept to the poll, not the backoff */
    while (rr_mono_ms() < next && !cli_http_interrupted()) {
        cli_prog_wait(p, what);
        cli_http_sleep(100);
    }
    cli_prog_end(p);
    if (cli_http_interrupted()) {
        cli_out_error("interrupted; print %s goes on at %s (rrcloud info "
                      "%s)", w->id, w->base, w->id);
        return CLI_EXIT_INTERRUPTED;
    }
    if (w->ctx->timeout > 0 &&
        rr_mono_ms() - w->start_ms >= w->ctx->timeout * 1000) {
        cli_out_error("print %s not finished after %lld s; it goes on at "
                      "%s (rrcloud info %s)", w->id, w->ctx->timeout,
                      w->base, w->id);
        return CLI_EXIT_UNREACHABLE;
    }
    return 0;
}

/* Notes a new task status (when no job details tell the story). */
static int show_status(struct watch *w, const json_t *rec)
{
    const char *st = cli_rec_str(rec, "status");

    if (!st || !strcmp(st, w->status))
        return 0;
    snprintf(w->status, sizeof(w->status), "%s", st);
    if (w->job_id || status_final(cli_rec_status(st)))
        return 0;   /* the attempts tell it, or conclude() will */
    cli_prog_end(cli_http_prog(w->ctx->http));
    cli_out_note("print %s: %s", w->id, st);
    return 1;
}

/* Polls until the task is final.  0 or an exit code. */
static int follow(struct watch *w, json_t **rec)
{
    long long delay = POLL_MIN_MS / 2;
    char what[128];
    int code = 0;

    while (code <= 0) {
        enum cli_status st = cli_rec_status(cli_rec_str(*rec, "status"));
        int changed = show_status(w, *rec);

        changed |= job_step(w);
        if (status_final(st))
            return 0;
        if (st == CLI_ST_UNKNOWN) {
            cli_out_error("print %s: unknown status from %s", w->id,
                          w->base);
            return CLI_EXIT_ERROR;
        }
        /* things change in bursts (upload, start): look again soon */
        delay = changed ? POLL_MIN_MS
                        : (delay * 2 > POLL_MAX_MS ? POLL_MAX_MS : delay * 2);
        snprintf(what, sizeof(what), "print %s %s", w->id,
                 waiting_for(w, st));
        if ((code = wait_until(w, what, rr_mono_ms() + delay)) != 0)
            return code;
        code = task_poll(w, rec);
    }
    return code;
}

/* Ends a followed print: message, JSON, exit code. */
static int conclude(struct watch *w, json_t *rec, int json)
{
    const char *status = cli_rec_str(rec, "status");
    const char *why = cli_rec_str(rec, "error");
    double secs = (double)(rr_mono_ms() - w->start_ms) / 1000.0;
    const json_t *copies = json_object_get(w->job, "copies");
    char *safe = strdup(why ? why : "");
    int ok = cli_rec_status(status) == CLI_ST_COMPLETE;

    if (w->job)
        json_object_set(rec, "job", w->job);
    if (json)
        cli_out_json(stdout, rec);
    if (!safe) {
        cli_out_error("out of memory");
        return CLI_EXIT_ERROR;
    }
    cli_out_sanitize(safe, strlen(safe));
    if (ok && json_is_integer(copies))
        cli_out_note("print %s complete: %" JSON_INTEGER_FORMAT " cop%s "
                     "(%.1f s)", w->id, json_integer_value(copies),
                     json_integer_value(copies) == 1 ? "y" : "ies", secs);
    else if (ok)
        cli_out_note("print %s complete: %s cop%s (%.1f s)", w->id,
                     w->copies, strcmp(w->copies, "1") ? "ies" : "y", secs);
    else
        cli_out_error("print %s %s%s%s", w->id, status, safe[0] ? ": " : "",
                      safe);
    free(safe);
    return ok ? CLI_EXIT_OK : CLI_EXIT_FAILED;
}

/* --- submitting --------------------------------------------------------- */

static void add(struct cli_job *job, const char *name, const char *value)
{
    if (!value)
        return;
    job->fields[job->nfields].name = name;
    job->fields[job->nfields].value = value;
    job->nfields++;
}

/* The upload: fileIn0 and the job's fields.  0 or -1 (no memory). */
static int build_job(const struct cli_fargs *a, struct cli_job *job)
{
    memset(job, 0, sizeof(*job));
    job->inputs = calloc(1, sizeof(*job->inputs));
    job->fields = calloc(8 + (size_t)a->npairs, sizeof(*job->fields));
    if (!job->inputs || !job->fields) {
        cli_job_free(job);
        return -1;
    }
    job->inputs[0].path = a->words[0];
    job->ninputs = 1;
    add(job, "queue", a->queue);
    add(job, "copies", a->copies);
    add(job, "material", a->material);
    add(job, "colour", a->colour);
    add(job, "priority", a->priority);
    add(job, "printer", a->printer);
    add(job, "profile", a->profile);
    for (int i = 0; i < a->npairs; i++)
        add(job, a->pair_names[i], a->pair_values[i]);
    return 0;
}

/* POSTs the print to the first server that answers; 0 with *rec (a
 * record with a valid id) and *base, or an exit code. */
static int submit(struct cli_ctx *ctx, const struct cli_job *job,
                  const char *notifier, json_t **rec, const char **base)
{
    struct cli_resp r;
    enum cli_net net = CLI_NET_DOWN;
    char err[256];
    int code = CLI_EXIT_OK;

    *rec = NULL;
    cli_resp_init(&r, ANSWER_MAX, 0);
    for (size_t i = 0; ctx->servers[i] && net == CLI_NET_DOWN; i++) {
        *base = ctx->servers[i];
        net = cli_http_submit(ctx->http, *base, "print", job, notifier, 1,
                              &r);
        if (net == CLI_NET_DOWN)
            cli_out_warn("server %s is not reachable (%s)%s", *base, r.error,
                         ctx->servers[i + 1] ? ", trying the next" : "");
    }
    if (net == CLI_NET_ABORT) {
        cli_out_error("interrupted; the print may have been queued at %s "
                      "(rrcloud info)", *base);
        code = CLI_EXIT_INTERRUPTED;
    } else if (net != CLI_NET_OK || r.status / 100 != 2) {
        code = cli_query_fail(net, &r, net == CLI_NET_DOWN ? NULL : *base);
    } else if (!(*rec = cli_rec_parse(r.body.data, r.body.len, err,
                                      sizeof(err))) ||
               !json_is_object(*rec)) {
        cli_out_error("%s: bad answer: %s", *base,
                      *rec ? "not an object" : err);
        code = CLI_EXIT_ERROR;
    } else if (!cli_rec_str(*rec, "id") ||
               !cli_rec_id_valid(cli_rec_str(*rec, "id"))) {
        cli_out_error("%s sent no valid task id", *base);
        code = CLI_EXIT_ERROR;
    }
    if (code != CLI_EXIT_OK) {
        json_decref(*rec);
        *rec = NULL;
    }
    cli_resp_free(&r);
    return code;
}

static int file_ok(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
           access(path, R_OK) == 0;
}

/* Follows the submitted print rec to its end. */
static int watch_print(struct cli_ctx *ctx, const struct cli_fargs *a,
                       const char *base, json_t **rec, int json,
                       long long start)
{
    struct watch w;
    int code;

    memset(&w, 0, sizeof(w));
    w.ctx = ctx;
    w.base = base;
    w.token = cli_fleet_token(ctx, a);
    if (!w.token)
        w.token = cli_http_key_for(ctx->http, base);
    w.queue = a->queue ? a->queue : "default";
    w.copies = a->copies ? a->copies : "1";
    w.start_ms = start;
    snprintf(w.id, sizeof(w.id), "%s", cli_rec_str(*rec, "id"));
    /* The answer names the job; an older server's does not, and then
     * job_find() searches the queue for it. */
    if (cli_rec_str(*rec, "job"))
        w.job_id = strtoll(cli_rec_str(*rec, "job"), NULL, 10);
    if (w.job_id < 0)
        w.job_id = 0;
    if (!(w.seen = json_object())) {
        cli_out_error("out of memory");
        return CLI_EXIT_ERROR;
    }
    cli_out_note("print %s queued in queue %s (%s cop%s)", w.id, w.queue,
                 w.copies, strcmp(w.copies, "1") ? "ies" : "y");
    if (w.job_id)
        cli_out_note("print %s is job %lld", w.id, w.job_id);
    snprintf(w.status, sizeof(w.status), "%s",
             cli_rec_str(*rec, "status") ? cli_rec_str(*rec, "status") : "");
    code = follow(&w, rec);
    if (code == 0) {
        if (w.job_id && !w.no_job)
            job_step(&w);   /* the attempts' last word */
        code = conclude(&w, *rec, json);
    }
    json_decref(w.job);
    json_decref(w.seen);
    return code;
}

int cli_print_run(struct cli_ctx *ctx)
{
    long long start = rr_mono_ms();
    struct cli_fargs a;
    struct cli_job job = { 0 };
    const char *base = NULL;
    json_t *rec = NULL;
    char err[256];
    int code, json, async;

    if (cli_fargs_parse("print", ctx->opts.argc, ctx->opts.argv, &a, err,
                        sizeof(err)) < 0) {
        cli_out_error("%s (see rrcloud --help)", err);
        return CLI_EXIT_USAGE;
    }
    json = ctx->opts.json || a.json;
    async = ctx->opts.async || a.async;
    if (a.quiet) {
        cli_out_set_quiet(1);
        cli_http_quiet(ctx->http);
    }
    if (a.timeout >= 0)
        ctx->timeout = a.timeout;
    if (a.nwords != 1) {
        cli_out_error("%s", usage_text);
        code = CLI_EXIT_USAGE;
        goto out;
    }
    if (!file_ok(a.words[0])) {
        cli_out_error("file not found '%s'", a.words[0]);
        code = CLI_EXIT_USAGE;
        goto out;
    }
    if (build_job(&a, &job) < 0) {
        cli_out_error("out of memory");
        code = CLI_EXIT_ERROR;
        goto out;
    }
    code = submit(ctx, &job, a.notifier ? a.notifier : ctx->notifier, &rec,
                  &base);
    if (code != CLI_EXIT_OK)
        goto out;
    if (async) {
        if (json)
            cli_out_json(stdout, rec);
        else
            printf("id: %s\n", cli_rec_str(rec, "id"));
        goto out;
    }
    code = watch_print(ctx, &a, base, &rec, json, start);
out:
    json_decref(rec);
    cli_job_free(&job);
    cli_fargs_free(&a);
    return code;
}
