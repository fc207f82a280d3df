/*
 * main.c - rrcloud: the command line, the *.cloud personalities, the
 * settings (rrcloudrc, then options) and the dispatch to a command.
 */
#include "cli/cli.h"

#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

static void usage(FILE *f)
{
    fputs(
"Usage: rrcloud [OPTIONS] SERVICE [ARGS...]  run a task, wait, fetch the result\n"
"       rrcloud [OPTIONS] info [ID]          show a task, or all of yours\n"
"       rrcloud [OPTIONS] fetch ID [PATH]    wait for a task, fetch its result\n"
"       rrcloud [OPTIONS] cancel ID          cancel a task\n"
"       rrcloud [OPTIONS] meta               show the server's status\n"
"       rrcloud [OPTIONS] services           list the services a server offers\n"
"       SERVICE.cloud [ARGS...]              (a link to rrcloud) run SERVICE\n"
"                                            remotely, like the tool itself\n"
"The fleet (printers behind the server):\n"
"       rrcloud [OPTIONS] print FILE [PRINT OPTIONS]   print, follow the job\n"
"       print.cloud FILE [PRINT OPTIONS]               the same\n"
"       rrcloud [OPTIONS] printers [--state=S] [--queue=Q]   list the printers\n"
"       rrcloud [OPTIONS] printer ID [ACTION]   show a printer, or act on it:\n"
"                          cleared | maintenance on|off [--reason=TEXT] |\n"
"                          release | pause | resume | cancel\n"
"       rrcloud [OPTIONS] queues                list the queues\n"
"       rrcloud [OPTIONS] jobs [--queue=Q] [--state=S]   list jobs\n"
"       rrcloud [OPTIONS] job ID                show a job and its attempts\n"
"       rrcloud [OPTIONS] profiles              list the printer profiles\n"
"       rrcloud [OPTIONS] profile NAME          show one: slicer, bed, nozzle,\n"
"                                               materials, overrides\n""       rrcloud [OPTIONS] spool ID [GRAMS|unknown] [--material=M] [--colour=C]\n"
"                          show or set a printer's loaded spool (grams left)\n"
"       rrcloud [OPTIONS] sites                 list the sites and their hours\n"
"       rrcloud [OPTIONS] site NAME [HOURS|always]   show or set a site's\n"
"                          staffed hours: Mon-Fri 08:00-18:00, Sat 09:00-13:00\n"
"Keys and users (an admin's; see rrcloud(1) and README \"Security\"):\n"
"       rrcloud key create --role=admin|operator|user|app --name=N\n"
"                  [--user=U] [--expires=90d] [--queues=Q1,Q2]\n"
"                  [--max-copies=N] [--max-priority=P] [--max-queued=N]\n"
"                                        make a key; it is shown this once\n"
"       rrcloud key list | key revoke NAME|ID | key delete NAME|ID\n"
"       rrcloud user create NAME | user list\n"
"       rrcloud login          read a key on stdin, check it, store it in\n"
"                              ~/.rrcloudrc as \"key = ...\" (mode 600)\n"
"\n"
"Relays work (OpenSCAD, slicing, printing) to an rrcloud or RepRapCloud\n"
"server.  rrcloud SERVICE uploads the input files, waits for the task to end\n"
"and writes the result where the arguments say (-ocube.stl, --output=x.gcode);\n"
"if they name none, to INPUT.EXT in the current directory (EXT from the\n"
"server's result).  A failed task's log is shown on stderr.\n"
"\n"
"Options (before the SERVICE or command word; \"--\" ends them):\n"
"  --s=SERVERS, --server=SERVERS\n"
"                   servers to use, comma separated, tried in order: host,\n"
"                   host:port or http(s)://host[:port][/path]; beats rrcloudrc\n"
"  --port=N         port of servers named without one (default 4468)\n"
"  --notifier=URL   URL the server calls when the task ends; $id and $myip\n"
"                   are replaced (quote it for the shell)\n"
"  --async          submit, print \"id: ID\" and return without waiting\n"
"  --then=SERVICES  a pipeline: the result goes on through these services,\n"
"                   comma separated (openscad cube.scad --then=slic3r);\n"
"                   the last one's result is fetched\n"
"  --thenN=OPTION   an option of the pipeline's Nth service after the first\n"
"                   (--then1=--layer-height=0.3), as many as needed\n"
"  --synchronous    wait for the task (the default; RepRapCloud's switch)\n"
"  --json           print the server's JSON instead of key: value lines\n"
"  --timeout=T      stop waiting after T: seconds, or 30m, 2h; 0 = wait as\n"
"                   long as the task runs (the default)\n"
"  --token=TOKEN    your API key (or the admin token), sent with every\n"
"                   call as Authorization: Bearer; better in RRCLOUD_TOKEN\n"
"                   or rrcloudrc (\"key =\"), out of sight of ps; those go\n"
"                   only to \"servers\" (else localhost) and to --s=\n"
"  --local          run the service's own tool here, without a server\n"
"  --quiet          no progress bar, no notes\n"
"  --verbose        show each request, and the task's log on success too\n"
"  -h, --help       show this text\n"
"  -V, --version    show the version\n"
"\n"
"ARGS of a service are input files, its input and output switches (slic3r's\n"
"--load=FILE and --output=FILE, openscad's -oFILE) and the options the server\n"
"allows (rrcloud services lists them).  Anything else is refused with\n"
"\"not supported switch or file not found\".\n"
"\n"
"PRINT OPTIONS (\"--name=value\" or \"--name value\", anywhere after FILE too):\n"
"  --queue=Q --copies=N --material=M --colour=C --priority=P (-1000..1000,\n"
"  higher first) --printer=ID (only that printer) --profile=X (what the\n"
"  G-code was sliced for; for a model, the profiles to slice it for, comma\n"
"  separated), --override NAME=VALUE (a model's slicer setting a profile\n"
"  allows, e.g. layer_height=0.15; repeatable), --define NAME=VALUE (a .scad\n"
"  model's variable, a number: openscad's -DNAME=VALUE; repeatable), and\n"
"  --notifier=URL --async --json --timeout=T --token=TOKEN --quiet.  FILE\n"
"  is G-code or a model (stl, obj, 3mf, or scad: rendered by openscad, then\n"
"  sliced per profile).\n"
"  print uploads FILE, then follows the job (task status; with a token the\n"
"  model's render and slices, each copy's printer and state) until it ends:\n"
"  exit 0 when every copy is complete, 1 when the job failed or was\n"
"  cancelled.  --async prints \"id: ID\" at once.  The fleet commands take\n"
"  --json and --token after their word too.\n"
"\n"
"Settings: " SYSCONFDIR "/rrcloudrc, ~/.rrcloudrc, ./rrcloudrc (later wins)\n"
"  servers = host1, host2:8080      servers = https://cloud.example/rr\n"
"  SERVICE.servers = host           port = 4468\n"
"  timeout = 30m                    notifier = http://me.local/done?$id\n"
"  key = KEY (or token = KEY)       SERVICE.key = KEY (for SERVICE.servers)\n"
"  (the fleet commands use print.servers and print.key when set)\n"
"With no server configured, rrcloud uses localhost and SERVICE.cloud runs the\n"
"tool locally (print.cloud uses localhost).\n"
"\n"
"Exit status: 0 done; 1 task failed or cancelled; 2 usage error; 3 no server\n"
"reachable, or no answer in time; 4 refused by the server (also a missing or\n"
"refused token); 5 server error, bad answer or local I/O error; 130\n"
"interrupted.  See rrcloud(1).\n", f);
}

static void version(void)
{
    const curl_version_info_data *cv = curl_version_info(CURLVERSION_NOW);

    printf("rrcloud %s (libcurl %s, jansson %s)\n", CLI_VERSION,
           cv ? cv->version : "?", JANSSON_VERSION);
}

static int is_query(const char *w)
{
    static const char *const words[] = { "info", "meta", "services",
                                         "cancel", "fetch" };

    for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
        if (!strcmp(w, words[i]))
            return 1;
    }
    return 0;
}

/* The fleet's words: print and the admin commands. */
static int is_fleet(const char *w)
{
    return cli_fargs_command(w);
}

static int progress_wanted(const struct cli_opts *o)
{
    const char *term = getenv("TERM");

    return !o->quiet && isatty(STDERR_FILENO) &&
           !(term && !strcmp(term, "dumb"));
}

static int dispatch(struct cli_ctx *ctx)
{
    const char *w = ctx->opts.command;

    if (!strcmp(w, "print"))   /* also print.cloud */
        return cli_print_run(ctx);
    if (ctx->opts.cloud)
        return cli_submit_run(ctx);
    if (is_fleet(w))
        return cli_fleet_run(ctx);
    if (!strcmp(w, "info"))
        return cli_query_info(ctx);
    if (!strcmp(w, "meta"))
        return cli_query_meta(ctx);
    if (!strcmp(w, "services"))
        return cli_query_services(ctx);
    if (!strcmp(w, "cancel"))
        return cli_query_cancel(ctx);
    if (!strcmp(w, "fetch"))
        return cli_submit_fetch(ctx);
    return cli_submit_run(ctx);
}

/* Reads argv: SERVICE.cloud takes the tool's words only. */
static int read_args(int argc, char **argv, struct cli_opts *o,
                     char *svc, size_t svclen)
{
    char err[256];

    if (argc > 0 && cli_args_cloud_name(argv[0], svc, svclen)) {
        memset(o, 0, sizeof(*o));
        o->timeout = -1;
        o->cloud = 1;
        o->command = svc;
        o->argc = argc - 1;
        o->argv = argv + 1;
        /* a lone --help/--version is ours; the tool's are refused anyway */
        if (argc == 2 && !strcmp(argv[1], "--help"))
            o->help = 1;
        if (argc == 2 && !strcmp(argv[1], "--version"))
            o->version = 1;
        return 0;
    }
    if (cli_args_parse(argc, argv, o, err, sizeof(err)) < 0) {
        cli_out_error("%s (see rrcloud --help)", err);
        return -1;
    }
    if (!is_query(o->command) && !cli_args_service_valid(o->command)) {
        cli_out_error("'%s' is neither a command nor a service name (see "
                      "rrcloud --help)", o->command);
        return -1;
    }
    if (o->local && (is_query(o->command) || is_fleet(o->command))) {
        cli_out_error("--local needs a service, not '%s'", o->command);
        return -1;
    }
    return 0;
}

/* Takes the --then words from among a service's arguments (SERVICE.cloud
 * has no other place for them), leaving the others in o->argv.  0, or an
 * exit code. */
static int take_then_words(struct cli_opts *o)
{
    char err[256];
    int kept = 0;

    for (int i = 0; i < o->argc; i++) {
        int rc = cli_args_then_word(o, o->argv[i], err, sizeof(err));

        if (rc < 0) {
            cli_out_error("%s", err);
            return CLI_EXIT_USAGE;
        }
        if (rc == 0)
            o->argv[kept++] = o->argv[i];
    }
    o->argc = kept;
    if (o->nstage_opts && !o->then) {
        cli_out_error("--then%d needs --then=SERVICES",
                      o->stage_opts[0].stage);
        return CLI_EXIT_USAGE;
    }
    return CLI_EXIT_OK;
}

/* read_args, then a service's --then words. */
static int read_all_args(int argc, char **argv, struct cli_opts *o,
                         char *svc, size_t svclen)
{
    if (read_args(argc, argv, o, svc, svclen) < 0)
        return -1;
    if (is_query(o->command) || is_fleet(o->command))
        return 0;
    return take_then_words(o) == CLI_EXIT_OK ? 0 : -1;
}

/* The service whose servers (and key) a command uses: the fleet commands
 * go where prints go; NULL for the default servers. */
static const char *command_service(const struct cli_opts *o)
{
    if (is_fleet(o->command))
        return "print";
    return is_query(o->command) && !o->cloud ? NULL : o->command;
}

/* Settles servers, timeout and notifier; returns 1 to run locally, 0 to
 * go on, or an exit code > 1. */
static int settle(struct cli_ctx *ctx)
{
    const struct cli_opts *o = &ctx->opts;
    const char *list;
    char err[512];

    cli_rc_init(&ctx->rc);
    if (cli_rc_load_default(&ctx->rc, err, sizeof(err)) < 0) {
        cli_out_error("%s", err);
        return CLI_EXIT_USAGE;
    }
    list = o->servers ? o->servers
                      : cli_rc_servers(&ctx->rc, command_service(o));
    if (o->local && (o->then || o->nstage_opts)) {
        cli_out_error("--then chains tasks on a server, not with --local");
        return CLI_EXIT_USAGE;
    }
    /* print.cloud has no local tool worth running, nor a pipeline: they
     * use localhost */
    if (o->local ||
        (o->cloud && !list && !is_fleet(o->command) && !o->then))
        return 1;
    if (!list)
        list = "localhost";
    if (cli_rc_server_list(list, o->port ? o->port : ctx->rc.port,
                           &ctx->servers, err, sizeof(err)) < 0) {
        cli_out_error("%s", err);
        return CLI_EXIT_USAGE;
    }
    ctx->timeout = o->timeout >= 0 ? o->timeout : ctx->rc.timeout;
    ctx->notifier = o->notifier ? o->notifier : ctx->rc.notifier;
    return 0;
}

/* The session key.  --token, and a key with --server, go to the servers
 * the command line names; otherwise a key from rrcloudrc or
 * RRCLOUD_TOKEN goes only to the servers it was configured with
 * (cli_rc_key), so a SERVICE.servers without its own SERVICE.key never
 * sees it.  0, or an exit code. */
static int settle_key(struct cli_ctx *ctx)
{
    const struct cli_opts *o = &ctx->opts;
    const char *env = getenv("RRCLOUD_TOKEN"), *list = NULL, *key;
    char **scope = NULL, err[512];
    int code = 0;

    key = o->token ? o->token
                   : cli_rc_key(&ctx->rc, command_service(o), env, &list);
    if (!key && o->servers)
        key = cli_rc_key(&ctx->rc, NULL, env, &list);
    if (!key)
        return 0;
    if (key == env && !cli_args_token_valid(env)) {
        cli_out_error("bad RRCLOUD_TOKEN (1..255 visible characters, no "
                      "blanks)");
        return CLI_EXIT_USAGE;
    }
    if (!o->token && !o->servers &&
        cli_rc_server_list(list ? list : "localhost",
                           o->port ? o->port : ctx->rc.port, &scope, err,
                           sizeof(err)) < 0) {
        cli_out_error("%s", err);
        return CLI_EXIT_USAGE;
    }
    if (cli_http_set_key(ctx->http, key, scope) < 0) {
        cli_out_error("out of memory");
        code = CLI_EXIT_ERROR;
    }
    cli_rc_list_free(scope);
    return code;
}

int main(int argc, char **argv)
{
    struct cli_ctx ctx;
    char svc[64];
    int code, curl_up = 0;

    memset(&ctx, 0, sizeof(ctx));
    setlocale(LC_CTYPE, ""); /* for the bar's block characters only */
    cli_http_catch_signals();
    if (read_all_args(argc, argv, &ctx.opts, svc, sizeof(svc)) < 0)
        return CLI_EXIT_USAGE;
    if (ctx.opts.help || ctx.opts.version) {
        if (ctx.opts.help)
            usage(stdout);
        else
            version();
        return CLI_EXIT_OK;
    }
    cli_out_set_quiet(ctx.opts.quiet);
    code = settle(&ctx);
    if (code == 1) {
        code = cli_local_exec(ctx.opts.command, ctx.opts.argc, ctx.opts.argv);
        goto out;
    }
    if (code != 0)
        goto out;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        cli_out_error("cannot initialise libcurl");
        code = CLI_EXIT_ERROR;
        goto out;
    }
    curl_up = 1;
    ctx.http = cli_http_new(progress_wanted(&ctx.opts), ctx.opts.verbose,
                            ctx.timeout);
    if (!ctx.http) {
        cli_out_error("out of memory");
        code = CLI_EXIT_ERROR;
        goto out;
    }
    if ((code = settle_key(&ctx)) == 0)
        code = dispatch(&ctx);
out:
    cli_http_free(ctx.http);
    if (curl_up)
        curl_global_cleanup();
    cli_rc_list_free(ctx.servers);
    cli_rc_free(&ctx.rc);
    fflush(stdout);
    return code;
}
