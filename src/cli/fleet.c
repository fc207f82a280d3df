/*
 * fleet.c - rrcloud printers, printer, queues, jobs and job: the fleet's
 * admin API (/api/v1) with a bearer token, shown as tables or records.
 */
#include "cli/cli.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/util.h"

#define ANSWER_MAX (16u << 20) /* 10,000 printers of JSON fit */
#define PATH_MAX_LEN 512
#define CELL 256
#define CMD_WAIT_MS 30000      /* pause/resume/cancel: wait to see it done */
#define CMD_POLL_MS 250

/* --- the token and the calls ---------------------------------------- */

const char *cli_fleet_token(const struct cli_ctx *ctx,
                            const struct cli_fargs *a)
{
    return a && a->token ? a->token : ctx->opts.token;
}

/* A 401/403: what was wrong with the token and how to give one. */
static int token_refused(const struct cli_ctx *ctx, const struct cli_resp *r,
                         const char *base, const char *token)
{
    char msg[512];

    cli_out_server_message(r->status, r->body.data, r->body.len, msg,
                           sizeof(msg));
    if (!token && cli_http_key_withheld(ctx->http, base))
        cli_out_error("%s needs a key (HTTP %ld); the key in rrcloudrc or "
                      "RRCLOUD_TOKEN belongs to other servers and is not "
                      "sent here: give --token=KEY, or set \"SERVICE.key\" "
                      "beside \"SERVICE.servers\"", base, r->status);
    else if (!token)
        cli_out_error("this needs an API key: give --token=KEY, set "
                      "RRCLOUD_TOKEN, or run rrcloud login (%s: HTTP %ld)",
                      base, r->status);
    else if (r->status == 401)
        cli_out_error("%s refused the token (HTTP 401: %s)", base, msg);
    else
        cli_out_error("%s: this token may not do that; the admin token is "
                      "needed (HTTP 403: %s)", base, msg);
    return CLI_EXIT_REJECTED;
}

int cli_fleet_call(struct cli_ctx *ctx, const char *method, const char *path,
                   const char *body, const char *token, json_t **out,
                   const char **base)
{
    struct cli_resp r;
    enum cli_net net = CLI_NET_DOWN;
    const char *at = NULL;
    json_error_t jerr;
    int code = CLI_EXIT_OK;

    *out = NULL;
    cli_resp_init(&r, ANSWER_MAX, 0);
    for (size_t i = 0; ctx->servers[i]; i++) {
        at = ctx->servers[i];
        net = cli_http_api(ctx->http, method, at, path, body, token, &r);
        if (net != CLI_NET_DOWN)
            break;
        cli_out_warn("server %s is not reachable (%s)%s", at, r.error,
                     ctx->servers[i + 1] ? ", trying the next" : "");
    }
    if (base)
        *base = at;
    if (net == CLI_NET_OK && (r.status == 401 || r.status == 403)) {
        code = token_refused(ctx, &r, at,
                             token ? token : cli_http_key_for(ctx->http, at));
    } else if (net == CLI_NET_OK && r.status == 404 && r.body.len == 0) {
        cli_out_error("%s has no fleet API (HTTP 404 for %s)", at, path);
        code = CLI_EXIT_REJECTED;
    } else if (net != CLI_NET_OK || r.status / 100 != 2) {
        code = cli_query_fail(net, &r, at);
    } else if (r.body.len > 0 &&
               (!(*out = json_loadb(r.body.data, r.body.len, 0, &jerr)) ||
                !json_is_object(*out))) {
        cli_out_error("%s: bad answer: %s", at,
                      *out ? "not a JSON object" : jerr.text);
        json_decref(*out);
        *out = NULL;
        code = CLI_EXIT_ERROR;
    }
    cli_resp_free(&r);
    return code;
}

/* --- small helpers -------------------------------------------------- */

/* Appends v to path, percent-encoding all but unreserved characters
 * (fleet names may hold '#' and '+'). */
static int append_escaped(char *path, size_t len, const char *v)
{
    int r = 0;

    for (const char *p = v; r == 0 && *p; p++) {
        size_t n = strlen(path);

        if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                   "0123456789-._~", *p))
            r = rr_fmt(path + n, len - n, "%c", *p);
        else
            r = rr_fmt(path + n, len - n, "%%%02X", (unsigned char)*p);
    }
    return r;
}

/* Appends "?k=v" or "&k=v" (v escaped); nothing if v is NULL. */
static int add_query(char *path, size_t len, const char *k, const char *v)
{
    size_t n = strlen(path);

    if (!v)
        return 0;
    if (rr_fmt(path + n, len - n, "%c%s=", strchr(path, '?') ? '&' : '?',
               k) < 0)
        return -1;
    return append_escaped(path, len, v);
}

/* A positive decimal id, or 0. */
static long long parse_id(const char *s)
{
    char *end;
    long long v;

    if (*s < '1' || *s > '9')
        return 0;
    v = strtoll(s, &end, 10);
    return *end || v <= 0 || v > (1LL << 53) ? 0 : v;
}

static void cell(const json_t *o, const char *key, char *buf)
{
    cli_out_cell(json_object_get(o, key), buf, CELL);
}

static void age_cell(const json_t *o, const char *key, char *buf)
{
    const json_t *v = json_object_get(o, key);

    cli_out_age(json_is_number(v) ? json_number_value(v) : 0, rr_now(), buf,
                CELL);
}

static int num_of(const json_t *o, const char *key, double *v)
{
    const json_t *j = json_object_get(o, key);

    if (!json_is_number(j))
        return 0;
    *v = json_number_value(j);
    return 1;
}

void cli_fleet_live_cell(const json_t *p, const char *what, char *buf,
                         size_t len)
{
    const json_t *h = json_object_get(p, what);
    double v, t;

    snprintf(buf, len, "-");
    if (!strcmp(what, "progress") && num_of(p, what, &v))
        snprintf(buf, len, "%.1f%%", v * 100);
    else if (!strcmp(what, "time_left") && num_of(p, what, &v))
        cli_out_duration(v, buf, len);
    else if (json_is_object(h) && num_of(h, "temperature", &v) &&
             num_of(h, "target", &t))
        snprintf(buf, len, "%.1f/%.0f", v, t);
}

/* A printer record's live fields made readable (progress in %, time
 * left as a duration, heaters as actual/target). */
static void readable_live(json_t *rec)
{
    static const char *const keys[] = { "progress", "time_left", "extruder",
                                        "bed" };

    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char buf[CELL];

        if (json_is_null(json_object_get(rec, keys[i])))
            continue;
        cli_fleet_live_cell(rec, keys[i], buf, sizeof(buf));
        json_object_set_new(rec, keys[i], json_string(buf));
    }
}

/* Unix times in a record as local "YYYY-MM-DD HH:MM:SS". */
static void local_times(json_t *rec, const char *const *keys)
{
    for (; *keys; keys++) {
        const json_t *v = json_object_get(rec, *keys);
        time_t t;
        struct tm tm;
        char buf[32];

        if (!json_is_number(v))
            continue;
        t = (time_t)json_number_value(v);
        if (localtime_r(&t, &tm) &&
            strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S", &tm) > 0)
            json_object_set_new(rec, *keys, json_string(buf));
    }
}

/* Prints an array of objects as a table: rowfn fills ncols cells. */
typedef void (*row_fn)(const json_t *o, char cells[][CELL]);

static int print_table(const json_t *arr, size_t ncols,
                       const char *const *head, row_fn rowfn)
{
    struct cli_table t;
    char (*cells)[CELL] = calloc(ncols, CELL);
    const char **ptrs = calloc(ncols, sizeof(*ptrs));
    const json_t *o;
    size_t i;
    int rc = -1;

    if (!cells || !ptrs || cli_table_init(&t, ncols, head) < 0)
        goto out;
    for (size_t c = 0; c < ncols; c++)
        ptrs[c] = cells[c];
    json_array_foreach(arr, i, o) {
        if (!json_is_object(o))
            continue;
        rowfn(o, cells);
        if (cli_table_add(&t, ptrs) < 0)
            goto done;
    }
    cli_table_print(stdout, &t);
    rc = 0;
done:
    cli_table_free(&t);
out:
    free(cells);
    free(ptrs);
    if (rc < 0)
        cli_out_error("out of memory");
    return rc < 0 ? CLI_EXIT_ERROR : CLI_EXIT_OK;
}

/* GETs path and shows the array under key as a table (or the JSON). */
static int list_cmd(struct cli_ctx *ctx, const struct cli_fargs *a,
                    const char *path, const char *key, const char *what,
                    size_t ncols, const char *const *head, row_fn rowfn)
{
    const char *base;
    const json_t *arr;
    json_t *doc;
    int code;

    code = cli_fleet_call(ctx, "GET", path, NULL, cli_fleet_token(ctx, a),
                          &doc, &base);
    if (code != CLI_EXIT_OK)
        return code;
    arr = json_object_get(doc, key);
    if (!json_is_array(arr)) {
        cli_out_error("%s: bad answer: no \"%s\" array", base, key);
        code = CLI_EXIT_ERROR;
    } else if (ctx->opts.json || a->json) {
        cli_out_json(stdout, doc);
    } else if (json_array_size(arr) == 0) {
        cli_out_note("no %s", what);
    } else {
        code = print_table(arr, ncols, head, rowfn);
    }
    json_decref(doc);
    return code;
}

static int no_words(const struct cli_fargs *a, const char *usage)
{
    if (a->nwords == 0)
        return 0;
    cli_out_error("usage: %s", usage);
    return CLI_EXIT_USAGE;
}

/* --- printers, queues, jobs ----------------------------------------- */

static void printer_row(const json_t *p, char c[][CELL])
{
    const char *colour = cli_rec_str(p, "colour");
    char mat[CELL];

    cell(p, "id", c[0]);
    cell(p, "name", c[1]);
    cell(p, "state", c[2]);
    cli_fleet_live_cell(p, "progress", c[3], CELL);
    cli_fleet_live_cell(p, "time_left", c[4], CELL);
    cli_fleet_live_cell(p, "extruder", c[5], CELL);
    cli_fleet_live_cell(p, "bed", c[6], CELL);
    cell(p, "file", c[7]);
    cell(p, "frontend", c[8]);
    cell(p, "material", mat);
    if (!colour || !colour[0] ||
        rr_fmt(c[9], CELL, "%s/%s", mat, colour) < 0)
        snprintf(c[9], CELL, "%s", mat);
    cli_out_sanitize(c[9], strlen(c[9]));
    cell(p, "queues", c[10]);
    age_cell(p, "last_seen", c[11]);
    cell(p, "share_url", c[12]);
}

static int cmd_printers(struct cli_ctx *ctx, const struct cli_fargs *a)
{
    static const char *const head[] = { "ID", "NAME", "STATE", "PROGRESS",
                                        "LEFT", "EXTRUDER", "BED", "FILE",
                                        "FRONTEND", "MATERIAL", "QUEUES",
                                        "LAST SEEN", "SHARE URL" };
    char path[PATH_MAX_LEN] = "/api/v1/printers";
    int code;

    if ((code = no_words(a, "rrcloud printers [--state=S] [--queue=Q] "
                            "[--json]")))
        return code;
    add_query(path, sizeof(path), "limit", "10000");
    if (add_query(path, sizeof(path), "state", a->state) < 0 ||
        add_query(path, sizeof(path), "queue", a->queue) < 0)
        return CLI_EXIT_USAGE;
    return list_cmd(ctx, a, path, "printers", "printers", 13, head,
                    printer_row);
}

static void queue_row(const json_t *q, char c[][CELL])
{
    cell(q, "name", c[0]);
    cell(q, "printers", c[1]);
    cell(q, "jobs_active", c[2]);
    cell(q, "depth", c[3]);
    cell(q, "live", c[4]);
}

static int cmd_queues(struct cli_ctx *ctx, const struct cli_fargs *a)
{
    static const char *const head[] = { "QUEUE", "PRINTERS", "ACTIVE JOBS",
                                        "WAITING COPIES", "PRINTING" };
    int code;

    if ((code = no_words(a, "rrcloud queues [--json]")))
        return code;
    return list_cmd(ctx, a, "/api/v1/queues", "queues", "queues", 5, head,
                    queue_row);
}

static long long count_of(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

static void job_row(const json_t *j, char c[][CELL])
{
    const json_t *by = json_object_get(j, "copies_by_state");

    cell(j, "id", c[0]);
    cell(j, "queue", c[1]);
    cell(j, "state", c[2]);
    snprintf(c[3], CELL, "%lld/%lld", count_of(by, "complete"),
             count_of(j, "copies"));
    snprintf(c[4], CELL, "%lld", count_of(by, "live"));
    snprintf(c[5], CELL, "%lld", count_of(by, "failed"));
    cell(j, "priority", c[6]);
    cell(j, "material", c[7]);
    cell(j, "name", c[8]);
    age_cell(j, "created", c[9]);
    /* why queued copies wait when no printer can take them, else when
     * the ready ones' spools or staffed hours hold them; "-" else */
    cell(j, "waiting_reason", c[10]);
    if (!strcmp(c[10], "-"))
        cell(j, "held_reason", c[10]);
}

static int cmd_jobs(struct cli_ctx *ctx, const struct cli_fargs *a)
{
    static const char *const head[] = { "ID", "QUEUE", "STATE", "DONE",
                                        "PRINTING", "FAILED", "PRIO",
                                        "MATERIAL", "NAME", "CREATED",
                                        "WAITING" };
    char path[PATH_MAX_LEN];
    int code;

    if ((code = no_words(a, "rrcloud jobs [--queue=Q] [--state=S] "
                            "[--json]")))
        return code;
    snprintf(path, sizeof(path), "/api/v1/%s", a->queue ? "queues/" : "jobs");
    if (a->queue && (append_escaped(path, sizeof(path), a->queue) < 0 ||
                     rr_fmt(path + strlen(path), sizeof(path) - strlen(path),
                            "/jobs") < 0))
        return CLI_EXIT_USAGE;
    if (add_query(path, sizeof(path), "limit", "10000") < 0 ||
        add_query(path, sizeof(path), "state", a->state) < 0)
        return CLI_EXIT_USAGE;
    return list_cmd(ctx, a, path, "jobs", "jobs", 11, head, job_row);
}

/* --- one job --------------------------------------------------------- */

static void attempt_row(const json_t *t, char c[][CELL])
{
    cell(t, "id", c[0]);
    cell(t, "copy", c[1]);
    cell(t, "printer", c[2]);
    cell(t, "state", c[3]);
    age_cell(t, "started", c[4]);
    if (!json_is_number(json_object_get(t, "started")))
        snprintf(c[4], CELL, "-");
    age_cell(t, "ended", c[5]);
    if (!json_is_number(json_object_get(t, "ended")))
        snprintf(c[5], CELL, "-");
    cell(t, "reason", c[6]);
}

static void show_job(json_t *job)
{
    static const char *const times[] = { "created", "started", "ended",
                                         NULL };
    static const char *const head[] = { "ATTEMPT", "COPY", "PRINTER",
                                        "STATE", "STARTED", "ENDED",
                                        "REASON" };
    json_t *attempts = json_incref(json_object_get(job, "attempts"));
    json_t *files = json_incref(json_object_get(job, "files"));
    const json_t *f;
    size_t i;

    json_object_del(job, "attempts");
    json_object_del(job, "files");
    local_times(job, times);
    cli_out_record(stdout, job);
    json_array_foreach(files, i, f) {
        char name[CELL], prof[CELL], size[CELL];

        char est[CELL], g[CELL], mm[CELL], what[3 * CELL + 64] = "";
        const json_t *t = json_object_get(f, "estimated_time");

        cell(f, "filename", name);
        cell(f, "profile", prof);
        cell(f, "size", size);
        cell(f, "filament_mm", mm);
        cell(f, "filament_g", g);
        /* what its slicer said: "; about 21m 12s, 1282.39 mm, 3.82 g" */
        if (json_is_number(t)) {
            cli_out_duration(json_number_value(t), est, sizeof(est));
            snprintf(what, sizeof(what), "; about %s", est);
        }
        if (strcmp(mm, "-"))
            snprintf(what + strlen(what), sizeof(what) - strlen(what),
                     "%s%s mm", what[0] ? ", " : "; ", mm);
        if (strcmp(g, "-"))
            snprintf(what + strlen(what), sizeof(what) - strlen(what),
                     "%s%s g", what[0] ? ", " : "; ", g);
        printf("file: %s (profile %s, %s bytes%s)\n", name,
               strcmp(prof, "-") ? prof : "any", size, what);
    }
    if (json_array_size(attempts) > 0) {
        printf("\n");
        print_table(attempts, 7, head, attempt_row);
    }
    json_decref(attempts);
    json_decref(files);
}

static int cmd_job(struct cli_ctx *ctx, const struct cli_fargs *a)
{
    char path[64];
    long long id = a->nwords == 1 ? parse_id(a->words[0]) : 0;
    const char *base = NULL;
    json_t *job;
    int code;

    if (a->nwords != 1) {
        cli_out_error("usage: rrcloud job ID [--json]");
        return CLI_EXIT_USAGE;
    }
    if (!id) {
        cli_out_error("'%s' is not a job id (see rrcloud jobs)", a->words[0]);
        return CLI_EXIT_USAGE;
    }
    snprintf(path, sizeof(path), "/api/v1/jobs/%lld", id);
    code = cli_fleet_call(ctx, "GET", path, NULL, cli_fleet_token(ctx, a),
                          &job, &base);
    if (code != CLI_EXIT_OK)
        return code;
    if (!job) {
        cli_out_error("%s: empty answer for job %lld", base, id);
        code = CLI_EXIT_ERROR;
    }
    else if (ctx->opts.json || a->json)
        cli_out_json(stdout, job);
    else
        show_job(job);
    json_decref(job);
    return code;
}

/* --- printer profiles --------------------------------------------------- */

/* "250x210x210" from bed.x, bed.y and height. */
static void size_cell(const json_t *p, char *buf)
{
    const json_t *bed = json_object_get(p, "bed");
    double x = 0, y = 0, z = 0;

    num_of(bed, "x", &x);
    num_of(bed, "y", &y);
    num_of(p, "height", &z);
    snprintf(buf, CELL, "%gx%gx%g", x, y, z);
}

/* An object's keys, comma-joined, cut to the cell. */
static void keys_cell(const json_t *o, char *buf)
{
    const char *k;
    const json_t *item;
    size_t used = 0;

    snprintf(buf, CELL, "-");
    json_object_foreach((json_t *)o, k, item) {
        int n = snprintf(buf + used, CELL - used, "%s%s", used ? "," : "", k);

        if (n < 0 || (size_t)n >= CELL - used)
            break;
        used += (size_t)n;
    }
}

static void profile_row(const json_t *p, char c[][CELL])
{
    cell(p, "name", c[0]);
    cell(p, "slicer", c[1]);
    size_cell(p, c[2]);
    cell(p, "nozzle", c[3]);
    cell(p, "materials", c[4]);
    keys_cell(json_object_get(p, "overrides"), c[5]);
    cell(p, "description", c[6]);
}

static int cmd_profiles(struct cli_ctx *ctx, const struct cli_fargs *a)
{
    static const char *const head[] = { "PROFILE", "SLICER", "BED (MM)",
                                        "NOZZLE", "MATERIALS", "OVERRIDES",
                                        "DESCRIPTION" };
    int code;

    if ((code = no_words(a, "rrcloud profiles [--json]")))
        return code;
    return list_cmd(ctx, a, "/api/v1/profiles", "profiles", "printer "
                    "profiles", 7, head, profile_row);
}

static int cmd_profile(struct cli_ctx *ctx, const struct cli_fargs *a)
{
    char path[PATH_MAX_LEN] = "/api/v1/profiles/";
    const char *base = NULL;
    json_t *p;
    int code;

    if (a->nwords != 1) {
        cli_out_error("usage: rrcloud profile NAME [--json]");
        return CLI_EXIT_USAGE;
    }
    if (!cli_fargs_name_valid(a->words[0])) {
        cli_out_error("'%s' is not a profile name (see rrcloud profiles)",
                      a->words[0]);
        return CLI_EXIT_USAGE;
    }
    if (append_escaped(path, sizeof(path), a->words[0]) < 0)
        return CLI_EXIT_USAGE;
    code = cli_fleet_call(ctx, "GET", path, NULL, cli_fleet_token(ctx, a),
                          &p, &base);
    if (code != CLI_EXIT_OK)
        return code;
    if (!p) {
        cli_out_error("%s: empty answer for profile %s", base, a->words[0]);
        code = CLI_EXIT_ERROR;
    } else if (ctx->opts.json || a->json) {
        cli_out_json(stdout, p);
    } else {
        cli_out_record(stdout, p);
    }
    json_decref(p);
    return code;
}

/* --- one printer ------------------------------------------------------ */

/* The POST body of an action, or NULL with a usage error printed. */
static char *action_body(const struct cli_fargs *a, const char *action)
{
    static const char *const simple[] = { "cleared", "release", "pause",
                                          "resume", "cancel" };
    json_t *o;
    char *s;
    int on;

    if (!strcmp(action, "maintenance")) {
        const char *w = a->nwords == 3 ? a->words[2] : "";

        if (strcmp(w, "on") && strcmp(w, "off")) {
            cli_out_error("usage: rrcloud printer ID maintenance on|off "
                          "[--reason=TEXT]");
            return NULL;
        }
        on = !strcmp(w, "on");
        o = on && a->reason ? json_pack("{sbss}", "on", on, "reason",
                                        a->reason)
                            : json_pack("{sb}", "on", on);
    } else {
        size_t i, n = sizeof(simple) / sizeof(simple[0]);

        for (i = 0; i < n && strcmp(action, simple[i]); i++)
            ;
        if (i == n || a->nwords != 2) {
            cli_out_error("usage: rrcloud printer ID [cleared | maintenance "
                          "on|off | release | pause | resume | cancel]");
            return NULL;
        }
        o = json_object();
    }
    if (a->reason && strcmp(action, "maintenance")) {
        cli_out_error("--reason goes with maintenance on");
        json_decref(o);
        return NULL;
    }
    s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s)
        cli_out_error("out of memory");
    return s;
}

/* "printer 3 (desk-1): ready, maintenance (new nozzle)" */
static void printer_line(const json_t *p)
{
    static const char *const holds[][2] = {
        { "maintenance", "maintenance" }, { "quarantined", "quarantined" },
        { "needs_clearing", "bed to be cleared" },
    };
    char id[CELL], name[CELL], state[CELL], why[CELL];

    cell(p, "id", id);
    cell(p, "name", name);
    cell(p, "state", state);
    cell(p, "hold_reason", why);
    printf("printer %s", id);
    if (strcmp(name, "-"))
        printf(" (%s)", name);
    printf(": %s", state);
    for (size_t i = 0; i < sizeof(holds) / sizeof(holds[0]); i++) {
        /* the state names the hold already when it is the one in force */
        if (json_is_true(json_object_get(p, holds[i][0])) &&
            strcmp(state, holds[i][0]))
            printf(", %s", holds[i][1]);
    }
    if (strcmp(why, "-"))
        printf(" (%s)", why);
    cli_fleet_live_cell(p, "progress", why, sizeof(why));
    if (strcmp(why, "-") && (!strcmp(state, "printing") ||
                             !strcmp(state, "paused"))) {
        cell(p, "file", name);
        printf(", %s of %s", why, name);
    }
    cell(p, "pending_command", why);
    if (strcmp(why, "-"))
        printf(", %s pending", why);
    putchar('\n');
}

/* 1 when what the printer shows means that a pause, resume or cancel
 * took effect: delivered (not pending) and the state it leads to. */
static int command_done(const json_t *p, const char *action)
{
    const char *st = cli_rec_str(p, "state");

    if (json_is_string(json_object_get(p, "pending_command")) || !st)
        return 0;
    if (!strcmp(action, "pause"))
        return !strcmp(st, "paused");
    if (!strcmp(action, "resume"))
        return !strcmp(st, "printing");
    return strcmp(st, "printing") && strcmp(st, "paused");
}

/* The server queues a pause/resume/cancel for rrcloudd to send: follow
 * the printer (bounded) until it shows the command done, so that what is
 * printed is the state after it.  Takes p, returns the latest record. */
static json_t *wait_command(struct cli_ctx *ctx, const struct cli_fargs *a,
                            long long id, const char *action, json_t *p)
{
    long long end = rr_mono_ms() + CMD_WAIT_MS;
    char path[64];

    snprintf(path, sizeof(path), "/api/v1/printers/%lld", id);
    while (!command_done(p, action) && rr_mono_ms() < end) {
        struct timespec ts = { 0, CMD_POLL_MS * 1000000L };
        json_t *q = NULL;

        nanosleep(&ts, NULL);
        if (cli_fleet_call(ctx, "GET", path, NULL, cli_fleet_token(ctx, a),
                           &q, NULL) != CLI_EXIT_OK || !q) {
            json_decref(q);
            break;
        }
        json_decref(p);
        p = q;
    }
    if (!command_done(p, action))
        cli_out_warn("printer %lld: %s asked for; the printer does not show "
                     "it done yet", id, action);
    return p;
}

static int cmd_printer(struct cli_ctx *ctx, const struct cli_fargs *a)
{
    static const char *const times[] = { "enrolled_at", "last_seen",
                                         "last_heartbeat", "state_since",
                                         "status_at", NULL };
    const char *action = a->nwords >= 2 ? a->words[1] : NULL;
    long long id = a->nwords >= 1 ? parse_id(a->words[0]) : 0;
    char path[96], *body = NULL;
    const char *base = NULL;
    json_t *p = NULL;
    int code;

    if (a->nwords < 1 || a->nwords > 3) {
        cli_out_error("usage: rrcloud printer ID [cleared | maintenance "
                      "on|off | release | pause | resume | cancel]");
        return CLI_EXIT_USAGE;
    }
    if (!id) {
        cli_out_error("'%s' is not a printer id (see rrcloud printers)",
                      a->words[0]);
        return CLI_EXIT_USAGE;
    }
    if (action && !(body = action_body(a, action)))
        return CLI_EXIT_USAGE;
    if (!action && a->reason) {
        cli_out_error("--reason goes with maintenance on");
        return CLI_EXIT_USAGE;
    }
    snprintf(path, sizeof(path), "/api/v1/printers/%lld%s%s", id,
             action ? "/" : "", action ? action : "");
    code = cli_fleet_call(ctx, action ? "POST" : "GET", path, body,
                          cli_fleet_token(ctx, a), &p, &base);
    free(body);
    if (code != CLI_EXIT_OK)
        return code;
    if (p && action && (!strcmp(action, "pause") ||
                        !strcmp(action, "resume") ||
                        !strcmp(action, "cancel")))
        p = wait_command(ctx, a, id, action, p);
    if (!p) {
        cli_out_error("%s: empty answer for printer %lld", base, id);
        code = CLI_EXIT_ERROR;
    } else if (ctx->opts.json || a->json) {
        cli_out_json(stdout, p);
    } else if (action) {
        printer_line(p);
    } else {
        local_times(p, times);
        readable_live(p);
        cli_out_record(stdout, p);
    }
    json_decref(p);
    return code;
}

int cli_fleet_run(struct cli_ctx *ctx)
{
    const char *w = ctx->opts.command;
    struct cli_fargs a;
    char err[256];
    int code;

    if (cli_fargs_parse(w, ctx->opts.argc, ctx->opts.argv, &a, err,
                        sizeof(err)) < 0) {
        cli_out_error("%s (see rrcloud --help)", err);
        return CLI_EXIT_USAGE;
    }
    if (a.quiet) {
        cli_out_set_quiet(1);
        cli_http_quiet(ctx->http);
    }
    if (!strcmp(w, "printers"))
        code = cmd_printers(ctx, &a);
    else if (!strcmp(w, "printer"))
        code = cmd_printer(ctx, &a);
    else if (!strcmp(w, "queues"))
        code = cmd_queues(ctx, &a);
    else if (!strcmp(w, "jobs"))
        code = cmd_jobs(ctx, &a);
    else if (!strcmp(w, "job"))
        code = cmd_job(ctx, &a);
    else if (!strcmp(w, "profiles"))
        code = cmd_profiles(ctx, &a);
    else if (!strcmp(w, "profile"))
        code = cmd_profile(ctx, &a);
    else if (!strcmp(w, "spool") || !strcmp(w, "sites") ||
             !strcmp(w, "site"))
        code = cli_sites_run(ctx, &a);
    else if (!strcmp(w, "key") || !strcmp(w, "user") || !strcmp(w, "login"))
        code = cli_keys_run(ctx, &a);
    else
        code = (cli_out_error("'%s' is not a fleet command", w),
                CLI_EXIT_USAGE);
    cli_fargs_free(&a);
    return code;
}
