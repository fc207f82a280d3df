/*
 * cli.h - the rrcloud client: the module map of src/cli/.
 *
 * rrcloud talks to rrcloud-fcgi (or RepRapCloud) over HTTP: it submits
 * tasks as multipart POSTs, waits for them, downloads results, and
 * queries info/meta/services.  Called as NAME.cloud it is a synchronous
 * stand-in for the tool NAME.  For the fleet it sends prints to a queue
 * and shows and steers printers, queues and jobs through /api/v1 (the
 * admin routes with a bearer token).  Each file's exports are listed below
 * under a banner; everything else in src/cli/ is static.
 */
#ifndef RR_CLI_H
#define RR_CLI_H

#ifdef HAVE_CONFIG_H
#include "config.h" /* first: it may set _GNU_SOURCE */
#endif
#ifdef PACKAGE_VERSION
#define CLI_VERSION PACKAGE_VERSION
#else
#define CLI_VERSION "0.1.0"
#endif

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc/rrcloud"
#endif
#ifndef PKGDATADIR
#define PKGDATADIR "/usr/share/rrcloud"
#endif

#define CLI_DEFAULT_PORT 4468
#define CLI_DEFAULT_TIMEOUT 0 /* s; 0: as long as the task lives */
#define CLI_URL_MAX 512

/* Exit codes, documented in rrcloud(1). */
enum cli_exit {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILED = 1,      /* the task failed or was cancelled */
    CLI_EXIT_USAGE = 2,       /* bad options or arguments */
    CLI_EXIT_UNREACHABLE = 3, /* no server answered, or not in time */
    CLI_EXIT_REJECTED = 4,    /* the server refused the request (4xx) */
    CLI_EXIT_ERROR = 5,       /* server error (5xx), bad answer, local I/O */
    CLI_EXIT_NOEXEC = 127,    /* --local: the tool could not be started */
    CLI_EXIT_INTERRUPTED = 130,
};

/* ------------------------------------------------------------------ */
/* args.c: options and argument classification (pure, unit-tested)    */

#define CLI_STAGE_OPTS_MAX 32

/* What the command line asked for.  Strings are borrowed from argv. */
struct cli_opts {
    const char *servers;  /* --s= / --server=: comma list, or NULL */
    const char *notifier; /* --notifier= */
    const char *token;    /* --token=: the fleet API's bearer token */
    int port;             /* --port=, 0 = unset */
    long long timeout;    /* --timeout=, -1 = unset */
    int async, json, local, quiet, verbose, help, version;
    int cloud;            /* called as SERVICE.cloud */
    const char *command;  /* service or command word ("info" if none) */
    int argc;             /* words after the command word */
    char **argv;
    const char *then;     /* --then=SERVICE[,SERVICE...]: a pipeline */
    /* --thenN=OPTION: an option of the pipeline's stage N (1..) */
    struct cli_stage_opt {
        int stage;
        const char *value;
    } stage_opts[CLI_STAGE_OPTS_MAX];
    int nstage_opts;
};

/* A service as the server describes it in GET /api/v1/services. */
struct cli_svc {
    char *name;
    char *arg_input;   /* prefix of an extra input, e.g. "--load=", or NULL */
    char *output;      /* prefix naming the output, e.g. "-o", or NULL */
    char *file_out;    /* e.g. "$id.gcode", or NULL */
    int no_output;     /* the service writes no result file */
    char **options;    /* fnmatch(3) patterns of allowed options */
    size_t noptions;
};

/* One file to upload: path is borrowed from argv; prearg (borrowed from
 * the cli_svc) is the prefix the server joins to it, or NULL. */
struct cli_input {
    const char *path;
    const char *prearg;
};

/* A named form field (service=print's queue, copies, ...); borrowed. */
struct cli_field {
    const char *name;
    const char *value;
};

/* A command line split the way the server wants it. */
struct cli_job {
    struct cli_input *inputs; /* owned array */
    size_t ninputs;
    const char **args;        /* owned array of borrowed strings */
    size_t nargs;
    struct cli_field *fields; /* owned array of named fields, or NULL */
    size_t nfields;
    const char *out_path;     /* the output the user named, or NULL */
};

/* Parses rrcloud's own options (--k=v, before the command word; "--" ends
 * them) into o.  The cloud personality is handled by the caller.  Returns
 * 0, or -1 with a message in err (a usage error). */
int cli_args_parse(int argc, char **argv, struct cli_opts *o,
                   char *err, size_t errlen);

/* If prog (argv[0]) is "DIR/NAME.cloud" with a valid service NAME, copies
 * NAME into buf and returns 1; returns 0 otherwise. */
int cli_args_cloud_name(const char *prog, char *buf, size_t len);

/* 1 if s is a plausible service name: [A-Za-z0-9_-]{1,63}. */
/* A --then=SERVICES or --thenN=OPTION word among a service's arguments
 * (where users put them too): 1 if it was one and went into o, 0 if it
 * is another word, -1 with err if it was one but bad. */
int cli_args_then_word(struct cli_opts *o, const char *word, char *err,
                       size_t errlen);
int cli_args_service_valid(const char *s);

/* 1 if s may be sent as a bearer token: 1..255 visible ASCII characters
 * (no blank, no control character, so it cannot break the header). */
int cli_args_token_valid(const char *s);

/* Fills svc from one element of the services array.  Returns 0, or -1
 * with err set.  cli_svc_free() releases what it owns. */
int cli_svc_from_json(struct cli_svc *svc, const json_t *obj,
                      char *err, size_t errlen);
/* Looks name up in a GET /api/v1/services document.  Returns 0 (found,
 * svc filled), 1 (no such service), -1 (malformed, err set). */
int cli_svc_find(struct cli_svc *svc, const json_t *doc, const char *name,
                 char *err, size_t errlen);
void cli_svc_free(struct cli_svc *svc);

/* Splits the service's words into inputs, options and the output path,
 * as RepRapCloud's client did with services/NAME.conf:
 *   output prefix ("-ocube.stl", "-o cube.stl") -> job->out_path
 *   argInput prefix ("--load=a.ini")            -> input with prearg
 *   matches an option pattern                   -> argument
 *   an existing regular file                    -> input
 * svc NULL (server without /api/v1/services): files are inputs, all other
 * words arguments.  Returns 0, or -1 with err set ("not supported switch
 * or file not found 'X'", ...).  Free job with cli_job_free(). */
int cli_args_classify(const struct cli_svc *svc, int argc, char **argv,
                      struct cli_job *job, char *err, size_t errlen);
void cli_job_free(struct cli_job *job);

/* ------------------------------------------------------------------ */
/* fargs.c: the words after a fleet command word (pure, unit-tested)   */

/* What follows print, printers, printer, queues, jobs or job: options as
 * "--name=value" or "--name value", anywhere among the words; "--" ends
 * them.  Strings are borrowed from argv. */
struct cli_fargs {
    const char *queue, *copies, *material, *colour, *priority, *printer,
               *profile;                /* print's job fields */
    const char *state;                  /* printers, jobs: a state filter */
    const char *reason;                 /* printer ID maintenance on */
    const char *notifier, *token;
    /* key create: role, name, user, limits (NULL = not given) */
    const char *role, *name, *user, *queues, *max_copies, *max_priority,
               *max_queued;
    long long expires;                  /* key create --expires=, s; 0 */
    long long timeout;                  /* --timeout=, -1 = unset */
    int json, async, quiet;
    char **words;                       /* the other words (owned array) */
    int nwords;
    /* print --override NAME=VALUE and --define NAME=VALUE, in order: the
     * field names ("override.NAME", "define.NAME"; owned) and values
     * (borrowed from argv) */
    char **pair_names;
    const char **pair_values;
    int npairs;
};

/* 1 if w is one of the fleet command words above. */
int cli_fargs_command(const char *w);

/* 1 if s is a fleet name (queue, material, colour, profile, state):
 * [A-Za-z0-9._#+-]{1,63}, as the server takes them. */
int cli_fargs_name_valid(const char *s);

/* Parses the words after command.  An option the command does not take,
 * or a bad value, is an error: names as cli_fargs_name_valid, copies >= 1,
 * priority -1000..1000, printer > 0, token as cli_args_token_valid (never
 * echoed), text without control characters, an override NAME=VALUE with
 * NAME of [a-z0-9_] (1..32) and a printable VALUE, a define NAME=VALUE
 * with NAME of [A-Za-z0-9_] (1..32, no digit first), each NAME once.
 * Returns 0, or -1 with err set (a usage error).  Free a with cli_fargs_free() after a 0. */
int cli_fargs_parse(const char *command, int argc, char **argv,
                    struct cli_fargs *a, char *err, size_t errlen);
void cli_fargs_free(struct cli_fargs *a);

/* ------------------------------------------------------------------ */
/* rc.c: rrcloudrc files and server addresses (pure, unit-tested)      */

struct cli_rc_svc {
    char *service;
    char *servers;          /* "SERVICE.servers", or NULL */
    char *key;              /* "SERVICE.key", or NULL */
};

/* Settings from the rc files; every string is owned. */
struct cli_rc {
    char *servers;          /* "servers", or NULL */
    struct cli_rc_svc *svc; /* "SERVICE.servers" entries */
    size_t nsvc;
    int port;               /* "port", default 4468 */
    long long timeout;      /* "timeout" in s; 0 (default) = none */
    char *notifier;         /* "notifier", or NULL */
    char *token;            /* "key" (or "token"): the API key of
                             * "servers" */
};

void cli_rc_init(struct cli_rc *rc);
void cli_rc_free(struct cli_rc *rc);

/* Applies one key = value pair; unknown keys are ignored (RepRapCloud rc
 * files carry server keys too).  Returns 0, or -1 with err set for a bad
 * value. */
int cli_rc_set(struct cli_rc *rc, const char *key, const char *value,
               char *err, size_t errlen);

/* Reads one rc file over rc.  A missing file is not an error.  Returns 0,
 * or -1 with "PATH: line N: ..." in err. */
int cli_rc_load_file(struct cli_rc *rc, const char *path,
                     char *err, size_t errlen);

/* Reads SYSCONFDIR/rrcloudrc, ~/.rrcloudrc, ./rrcloudrc in that order
 * (later wins).  Returns 0 or -1 with err set. */
int cli_rc_load_default(struct cli_rc *rc, char *err, size_t errlen);

/* The server list for service (SERVICE.servers, else servers), or NULL
 * when none is configured.  service may be NULL.  The fleet commands ask
 * with "print".  Borrowed. */
const char *cli_rc_servers(const struct cli_rc *rc, const char *service);

/* The API key for service's servers, and in *servers the list it belongs
 * to (NULL: the default, localhost).  A key goes only to the servers it
 * was configured with: SERVICE.key with SERVICE.servers (or servers);
 * a service with its own servers and no SERVICE.key gets none; otherwise
 * env (RRCLOUD_TOKEN) if set, else "key".  NULL if none.  Borrowed. */
const char *cli_rc_key(const struct cli_rc *rc, const char *service,
                       const char *env, const char **servers);

/* Normalises one server ("host", "host:port", "[v6]:port", or
 * "http(s)://host[:port][/base]") into a base URL without a trailing
 * slash, e.g. "http://host:4468".  port is used when spec has none and is
 * not a URL.  Returns 0, or -1 with err set. */
int cli_rc_server_url(const char *spec, int port, char *out, size_t outlen,
                      char *err, size_t errlen);

/* Splits a comma list and normalises each item into a NULL-terminated
 * array of malloc'd URLs (free with cli_rc_list_free).  Empty items are
 * skipped.  Returns the count (>= 1), or -1 with err set. */
int cli_rc_server_list(const char *list, int port, char ***out,
                       char *err, size_t errlen);
void cli_rc_list_free(char **list);

/* ------------------------------------------------------------------ */
/* record.c: task records from the server (pure, unit-tested)          */

enum cli_status {
    CLI_ST_UNKNOWN, CLI_ST_QUEUED, CLI_ST_BUSY,
    CLI_ST_COMPLETE, CLI_ST_FAILED, CLI_ST_CANCELLED
};

/* 1 if s is a task id we accept from a server: digits-digits[-digits],
 * at most 40 chars.  Nothing else may name a URL path or a file. */
int cli_rec_id_valid(const char *s);

/* Maps a status word; unknown words give CLI_ST_UNKNOWN. */
enum cli_status cli_rec_status(const char *s);

/* The string value of key in a record object, or NULL.  Borrowed. */
const char *cli_rec_str(const json_t *rec, const char *key);

/* Checks a server's "out" value ("tasks/out/NAME") and copies the bare,
 * safe NAME ([A-Za-z0-9._-], no leading dot) into name.  Returns 0, or -1
 * if the value is not of that shape. */
int cli_rec_out_name(const char *out, char *name, size_t len);

/* Parses an answer body: JSON, or RepRapCloud's "key: value" lines.
 * Returns a new reference, or NULL with err set. */
json_t *cli_rec_parse(const char *body, size_t len, char *err, size_t errlen);

/* The local name for a result the user did not name:
 * "<input stem>.<ext of out_name>" (".out" if it has no extension), or
 * "<out_name>" with no input.  Returns 0 or -1 (too long). */
int cli_rec_default_output(const char *input, const char *out_name,
                           char *buf, size_t len);

/* ------------------------------------------------------------------ */
/* output.c: what rrcloud prints                                       */

/* Replaces control characters (C0 but \n and \t, DEL, UTF-8 C1) in
 * buf[0..len) with '?', so a server cannot drive the terminal.  Returns
 * len. */
size_t cli_out_sanitize(char *buf, size_t len);

/* "error: ..." / "warning: ..." / plain notes on stderr; notes are
 * silenced by cli_out_set_quiet(1). */
void cli_out_set_quiet(int quiet);
void cli_out_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_out_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_out_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A record as sorted "key: value" lines (sanitised). */
void cli_out_record(FILE *f, const json_t *rec);
/* An array of records: "=== id: ID" + lines + blank line each. */
void cli_out_list(FILE *f, const json_t *arr);
/* Any JSON value, indented, with a newline. */
void cli_out_json(FILE *f, const json_t *v);
/* A log text (sanitised), a "[... N bytes skipped]" line first if the
 * head was dropped. */
void cli_out_log(FILE *f, const char *data, size_t len, size_t dropped);

/* The text of one table cell from v (borrowed, may be NULL): a string as
 * it is, a number, yes/no, the items of an array joined with ",", "-"
 * for null, missing or empty; sanitised, line breaks and tabs made
 * blanks, cut to fit len. */
void cli_out_cell(const json_t *v, char *buf, size_t len);

/* "12s ago", "5m ago", "3h ago", "2d ago" for Unix time then seen at now;
 * "never" if then <= 0, "0s ago" if then is ahead of now. */
void cli_out_age(double then, double now, char *buf, size_t len);

/* A length of time: "45s", "12m 30s", "3h 05m", "2d 4h". */
void cli_out_duration(double secs, char *buf, size_t len);

/* A table of text: column widths from the content (counted in
 * characters, UTF-8 aware), two blanks between columns, the last column
 * unpadded, no trailing blanks. */
struct cli_table {
    size_t ncols, nrows, cap;
    char **cells;            /* row-major, owned; row 0 is the header */
};

/* Starts t with the ncols header words.  0, or -1 (out of memory). */
int cli_table_init(struct cli_table *t, size_t ncols,
                   const char *const *head);
/* Appends a row of ncols cells (copied and sanitised).  0 or -1. */
int cli_table_add(struct cli_table *t, const char *const *cells);
void cli_table_print(FILE *f, const struct cli_table *t);
void cli_table_free(struct cli_table *t);

/* Extracts the message of an error answer (JSON {"error":{...}}, or a
 * text "error: ..." body) into buf; falls back to "HTTP STATUS". */
void cli_out_server_message(long status, const char *body, size_t len,
                            char *buf, size_t buflen);

/* ------------------------------------------------------------------ */
/* progress.c: the progress bar on stderr                              */

#define CLI_PROG_SAMPLES 8

struct cli_prog {
    int enabled;            /* stderr is a terminal and not --quiet */
    int utf8;               /* the locale can show block characters */
    int drawn;              /* a line is on screen */
    int phase;              /* 0 idle, 1 bar, 2 waiting */
    char label[64];
    long long start_ms, last_ms;
    /* (ms, bytes) samples a quarter second apart: the rate is taken over
     * the last two seconds, so it follows changes without jumping */
    long long sample_ms[CLI_PROG_SAMPLES], sample_bytes[CLI_PROG_SAMPLES];
    unsigned nsamples;
    unsigned spin;
    /* the spinner's clock runs on across polls while "what" stays */
    char wait_what[128];
    long long wait_start_ms;
};

/* Sets p up; enabled decides whether anything is ever drawn. */
void cli_prog_init(struct cli_prog *p, int enabled);
/* Starts a bar (upload or download) labelled label. */
void cli_prog_start(struct cli_prog *p, const char *label);
/* Redraws the bar for done of total bytes (total 0 = unknown); at most
 * ten times a second unless force. */
void cli_prog_bar(struct cli_prog *p, long long done, long long total,
                  int force);
/* Shows a spinner "what  M:SS" (waiting for the task); ends a bar on
 * screen first, leaving its final state.  M:SS counts from the first
 * call with this what, across the redraws between polls. */
void cli_prog_wait(struct cli_prog *p, const char *what);
/* Ends the current line: a bar stays (with a newline), a spinner is
 * erased. */
void cli_prog_end(struct cli_prog *p);

/* Formats one bar line of at most width columns into buf (pure). */
void cli_prog_format(char *buf, size_t len, int width, int utf8,
                     const char *label, long long done, long long total,
                     double rate, double elapsed);
/* "1.5 MiB" style sizes with three significant digits (pure). */
void cli_prog_size(char *buf, size_t len, double bytes);

/* ------------------------------------------------------------------ */
/* http.c: transfers with libcurl                                      */

/* Result of a transfer; CLI_NET_OK means an HTTP answer came (any
 * status). */
enum cli_net {
    CLI_NET_OK = 0,
    CLI_NET_DOWN = -1,   /* could not connect: try the next server */
    CLI_NET_FAIL = -2,   /* connected, then the transfer broke or timed out */
    CLI_NET_ABORT = -3,  /* interrupted by SIGINT/SIGTERM */
    CLI_NET_LOCAL = -4,  /* local file error, or the answer was too large */
};

/* A growable, capped answer buffer, always NUL-terminated.  In tail mode
 * it keeps the last max bytes instead of failing. */
struct cli_buf {
    char *data;
    size_t len, cap, max;
    int tail;
    size_t dropped;
};

struct cli_resp {
    long status;             /* HTTP status, 0 if none */
    struct cli_buf body;     /* error bodies and JSON answers */
    char error[256];         /* why the transfer failed */
    int timed_out;           /* CLI_NET_FAIL because time ran out */
};

struct cli_http;

/* A session: one curl handle (keep-alive), progress shown if progress.
 * timeout (s, 0 = none) bounds held requests.  NULL on allocation
 * failure. */
struct cli_http *cli_http_new(int progress, int verbose, long long timeout);
void cli_http_free(struct cli_http *h);
/* The session's API key (NULL or "" = none; never printed), sent as
 * "Authorization: Bearer KEY" to the base URLs in scope (a NULL-terminated
 * list, copied; NULL = every server) and to no other.  0, or -1 on no
 * memory. */
int cli_http_set_key(struct cli_http *h, const char *key,
                     char *const *scope);
/* The session key if it may go to base, else NULL.  Borrowed. */
const char *cli_http_key_for(const struct cli_http *h, const char *base);
/* 1 if the session has a key that base does not get. */
int cli_http_key_withheld(const struct cli_http *h, const char *base);
/* The session's progress display (for waits between transfers). */
struct cli_prog *cli_http_prog(struct cli_http *h);
/* Turns the progress display off (--quiet after a fleet command word). */
void cli_http_quiet(struct cli_http *h);

void cli_resp_init(struct cli_resp *r, size_t max, int tail);
void cli_resp_free(struct cli_resp *r);

/* GET base+path into r (Accept: application/json). */
enum cli_net cli_http_get(struct cli_http *h, const char *base,
                          const char *path, struct cli_resp *r);
/* POST base+path with an empty body. */
enum cli_net cli_http_post(struct cli_http *h, const char *base,
                           const char *path, struct cli_resp *r);
/* GET base+path into dest (written to a temporary file beside it, renamed
 * into place on a 200; never left half-written).  Other statuses leave
 * the body in r. */
enum cli_net cli_http_download(struct cli_http *h, const char *base,
                               const char *path, const char *dest,
                               struct cli_resp *r);
/* Submits a task to base: multipart POST of service, the job's named
 * fields, arguments and files, notifier (may be NULL), format=json,
 * async=1 if async.  The server may hold the answer until the task
 * ends. */
enum cli_net cli_http_submit(struct cli_http *h, const char *base,
                             const char *service, const struct cli_job *job,
                             const char *notifier, int async,
                             struct cli_resp *r);
/* METHOD (GET, POST, PUT, PATCH, DELETE) base+path for the JSON API:
 * body, a JSON text or NULL for none, goes as application/json; token,
 * unless NULL, as "Authorization: Bearer TOKEN", and then redirects are
 * not followed, so the token goes to no other place.  The answer into r. */
enum cli_net cli_http_api(struct cli_http *h, const char *method,
                          const char *base, const char *path,
                          const char *body, const char *token,
                          struct cli_resp *r);
/* GETs path from each server in turn until one answers (any HTTP
 * status); warns about those that are down.  *base gets the one that
 * answered.  Returns CLI_NET_DOWN when none did. */
enum cli_net cli_http_get_any(struct cli_http *h, char **servers,
                              const char *path, struct cli_resp *r,
                              const char **base);

/* Makes SIGINT/SIGTERM abort transfers and waits instead of killing the
 * process; cli_http_interrupted() tells whether one came. */
void cli_http_catch_signals(void);
int cli_http_interrupted(void);
/* Sleeps ms, returning early (-1) on a signal. */
int cli_http_sleep(long long ms);

/* ------------------------------------------------------------------ */
/* submit.c: SERVICE args..., and fetch                                */

/* Everything a command needs, set up by main.c. */
struct cli_ctx {
    struct cli_opts opts;
    struct cli_rc rc;
    char **servers;          /* normalised base URLs, NULL-terminated */
    const char *notifier;    /* --notifier, else rc */
    long long timeout;       /* s, 0 = none */
    struct cli_http *http;
};

/* Runs opts.command as a task with opts.argv.  Returns an exit code. */
int cli_submit_run(struct cli_ctx *ctx);
/* rrcloud fetch ID [PATH]: waits for the task and downloads its result. */
int cli_submit_fetch(struct cli_ctx *ctx);

/* ------------------------------------------------------------------ */
/* query.c: info, meta, services, cancel                               */

int cli_query_info(struct cli_ctx *ctx);
int cli_query_meta(struct cli_ctx *ctx);
int cli_query_services(struct cli_ctx *ctx);
int cli_query_cancel(struct cli_ctx *ctx);
/* Finds the server that knows task id (a 404 moves on to the next one)
 * and its record.  Returns 0 with *base (borrowed) and *rec (new
 * reference) set, or an exit code after printing why. */
int cli_query_task(struct cli_ctx *ctx, const char *id, const char **base,
                   json_t **rec);
/* Maps a failed transfer or an error status to an exit code, printing
 * the reason (server message for 4xx/5xx). */
int cli_query_fail(enum cli_net net, const struct cli_resp *r,
                   const char *base);

/* ------------------------------------------------------------------ */
/* fleet.c: printers, printer, queues, jobs, job (the admin API)        */

/* The key given on the command line: --token after the command word,
 * else before it; NULL if none (then the session key goes where it
 * belongs: cli_http_set_key).  Borrowed. */
const char *cli_fleet_token(const struct cli_ctx *ctx,
                            const struct cli_fargs *a);

/* Sends METHOD path (body: JSON text or NULL) with token to the first
 * server that answers, and parses a JSON object answer into *out (new
 * reference; NULL for an empty 204 answer).  *base (may be NULL) gets the
 * server.  Returns 0, or an exit code after printing why: a 401/403 says
 * how to give a token (exit 4). */
int cli_fleet_call(struct cli_ctx *ctx, const char *method, const char *path,
                   const char *body, const char *token, json_t **out,
                   const char **base);

/* One of a printer's live fields (the printer JSON: borrowed) as a cell:
 * what is "progress" ("42.3%"), "time_left" ("12m 30s"), "extruder" or
 * "bed" ("214.5/215", actual/target deg C); "-" when unknown. */
void cli_fleet_live_cell(const json_t *p, const char *what, char *buf,
                         size_t len);

/* Runs opts.command (printers, printer, queues, jobs, job, key, user,
 * login).  Returns an exit code. */
int cli_fleet_run(struct cli_ctx *ctx);

/* ------------------------------------------------------------------ */
/* sites.c: spool ID [GRAMS|unknown], sites, site NAME [HOURS|always]    */

/* Runs the spool, sites or site command with its parsed words: shows or
 * sets a printer's spool or a site's staffed hours. */
int cli_sites_run(struct cli_ctx *ctx, const struct cli_fargs *a);

/* ------------------------------------------------------------------ */
/* keys.c: key create|list|revoke|delete, user create|list, login        */

/* Runs the key, user or login command with its parsed words.  A new key
 * is printed once (key create); login reads one on stdin, checks it with
 * the server and stores it in ~/.rrcloudrc as "key = ..." (mode 600). */
int cli_keys_run(struct cli_ctx *ctx, const struct cli_fargs *a);

/* ------------------------------------------------------------------ */
/* print.c: rrcloud print FILE [options], print.cloud                   */

/* One line about an attempt of a job, e.g. "copy 2 on printer 7:
 * printing" or "copy 1 on printer 3: failed: klippy shutdown" (pure,
 * unit-tested; values sanitised). */
void cli_print_attempt_line(const json_t *attempt, char *buf, size_t len);

/* Submits FILE to the fleet (service=print) and, unless --async, follows
 * the job until it ends, printing its state changes.  Returns an exit
 * code: 0 complete, 1 failed or cancelled. */
int cli_print_run(struct cli_ctx *ctx);

/* ------------------------------------------------------------------ */
/* local.c: --local, and *.cloud with no server configured             */

/* Replaces the process with the service's own tool: argv = the words of
 * "cmd" in DIR/SERVICE.conf, then args unchanged; PATH from the conf's
 * "path" if set.  DIR is $RRCLOUD_SERVICES_DIR, else PKGDATADIR/services.
 * Never uses a shell.  Returns an exit code only on failure. */
int cli_local_exec(const char *service, int argc, char **argv);

/* Describes service from the same local DIR/SERVICE.conf (argInput,
 * output, noOutput, options, nativeArgs), for servers without
 * /api/v1/services, as RepRapCloud's client did.  Returns 0 with svc
 * filled (free with cli_svc_free), or -1 if there is no usable conf. */
int cli_local_describe(const char *service, struct cli_svc *svc);

#endif
