/*
 * test_cli_rc.c - unit tests for the pure parts of the rrcloud client:
 * rrcloudrc parsing, server addresses, option parsing, argument
 * classification, record checks, sanitising and the progress line.
 */
#include "cli/cli.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"

Suite *cli_rc_suite(void);
void cli_fleet_add_tcases(Suite *s);   /* test_cli_fleet.c */

static char tmpdir[256];

/* argv arrays are char **: tests build them from literals with ARGV(),
 * which copies the words; teardown frees them. */
static char **pool[64];
static size_t npool;

static char **words(const char *const *w)
{
    size_t n = 0;
    char **v;

    while (w[n])
        n++;
    v = calloc(n + 1, sizeof(*v));
    ck_assert_ptr_nonnull(v);
    for (size_t i = 0; i < n; i++)
        ck_assert_ptr_nonnull(v[i] = strdup(w[i]));
    ck_assert_uint_lt(npool, sizeof(pool) / sizeof(pool[0]));
    pool[npool++] = v;
    return v;
}

#define ARGV(...) words((const char *const[]){ __VA_ARGS__, NULL })

static int count(char **argv)
{
    int n = 0;

    while (argv[n])
        n++;
    return n;
}

static void setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_cli_rc.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    for (size_t i = 0; i < npool; i++) {
        for (char **w = pool[i]; *w; w++)
            free(*w);
        free(pool[i]);
    }
    npool = 0;
    rr_rmtree(tmpdir);
}

/* Writes text to tmpdir/name and returns its path (static buffer). */
static const char *put(const char *name, const char *text)
{
    static char path[8][512];
    static int slot;
    char *p = path[slot++ % 8];
    FILE *f;

    snprintf(p, 512, "%s/%s", tmpdir, name);
    f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return p;
}

/* --- rrcloudrc ----------------------------------------------------- */

START_TEST(rc_defaults_and_set)
{
    struct cli_rc rc;
    char err[256];

    cli_rc_init(&rc);
    ck_assert_int_eq(rc.port, 4468);
    ck_assert_int_eq(rc.timeout, 0);
    ck_assert_ptr_null(cli_rc_servers(&rc, "slic3r"));
    ck_assert_int_eq(cli_rc_set(&rc, "servers", "a,b", err, sizeof(err)), 0);
    ck_assert_int_eq(cli_rc_set(&rc, "slic3r.servers", "fast", err,
                                sizeof(err)), 0);
    ck_assert_int_eq(cli_rc_set(&rc, "slic3r.servers", "faster", err,
                                sizeof(err)), 0);
    ck_assert_int_eq(cli_rc_set(&rc, "port", "8080", err, sizeof(err)), 0);
    ck_assert_int_eq(cli_rc_set(&rc, "timeout", "30m", err, sizeof(err)), 0);
    ck_assert_int_eq(cli_rc_set(&rc, "maxDataRetention", "24", err,
                                sizeof(err)), 0); /* a server key: ignored */
    ck_assert_str_eq(cli_rc_servers(&rc, "slic3r"), "faster");
    ck_assert_str_eq(cli_rc_servers(&rc, "openscad"), "a,b");
    ck_assert_str_eq(cli_rc_servers(&rc, NULL), "a,b");
    ck_assert_uint_eq(rc.nsvc, 1);
    ck_assert_int_eq(rc.port, 8080);
    ck_assert_int_eq(rc.timeout, 1800);
    ck_assert_int_eq(cli_rc_set(&rc, "port", "0", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "bad port"));
    ck_assert_int_eq(cli_rc_set(&rc, "port", "65536", err, sizeof(err)), -1);
    ck_assert_int_eq(cli_rc_set(&rc, "port", "80x", err, sizeof(err)), -1);
    ck_assert_int_eq(cli_rc_set(&rc, "timeout", "soon", err, sizeof(err)),
                     -1);
    ck_assert_int_eq(cli_rc_set(&rc, "../x.servers", "h", err, sizeof(err)),
                     -1);
    ck_assert_int_eq(rc.port, 8080);
    cli_rc_free(&rc);
}
END_TEST

/* A key goes only with the servers it was configured beside. */
START_TEST(rc_key_belongs_to_its_servers)
{
    struct cli_rc rc;
    const char *list = "x";
    char err[256];

    cli_rc_init(&rc);
    ck_assert_ptr_null(cli_rc_key(&rc, NULL, NULL, &list));
    ck_assert_ptr_null(list);
    ck_assert_str_eq(cli_rc_key(&rc, "echo", "env-key", &list), "env-key");
    ck_assert_ptr_null(list);              /* the default: localhost */
    ck_assert_int_eq(cli_rc_set(&rc, "key", "main-key", err, sizeof(err)),
                     0);
    ck_assert_int_eq(cli_rc_set(&rc, "servers", "own", err, sizeof(err)), 0);
    ck_assert_int_eq(cli_rc_set(&rc, "slic3r.servers", "public", err,
                                sizeof(err)), 0);
    ck_assert_str_eq(cli_rc_key(&rc, "echo", NULL, &list), "main-key");
    ck_assert_str_eq(list, "own");
    ck_assert_str_eq(cli_rc_key(&rc, "echo", "", &list), "main-key");
    ck_assert_str_eq(cli_rc_key(&rc, NULL, "env-key", &list), "env-key");
    /* slic3r's own servers do not get the main key, nor the env's */
    ck_assert_ptr_null(cli_rc_key(&rc, "slic3r", "env-key", &list));
    ck_assert_str_eq(list, "public");
    ck_assert_int_eq(cli_rc_set(&rc, "slic3r.key", "pub-key", err,
                                sizeof(err)), 0);
    ck_assert_str_eq(cli_rc_key(&rc, "slic3r", "env-key", &list), "pub-key");
    ck_assert_str_eq(list, "public");
    /* a SERVICE.key without SERVICE.servers goes to servers */
    ck_assert_int_eq(cli_rc_set(&rc, "print.key", "print-key", err,
                                sizeof(err)), 0);
    ck_assert_str_eq(cli_rc_key(&rc, "print", NULL, &list), "print-key");
    ck_assert_str_eq(list, "own");
    ck_assert_int_eq(cli_rc_set(&rc, "slic3r.key", "two words", err,
                                sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "slic3r.key"));
    ck_assert_int_eq(cli_rc_set(&rc, "../x.key", "k", err, sizeof(err)), -1);
    ck_assert_str_eq(cli_rc_key(&rc, "slic3r", NULL, &list), "pub-key");
    cli_rc_free(&rc);
}
END_TEST

START_TEST(rc_files_later_wins)
{
    struct cli_rc rc;
    char err[512];
    const char *a = put("a", "# comment\nservers = one.local, two.local\n"
                             "port: 5000\nnotifier = http://x/$id\n");
    const char *b = put("b", "servers = three.local   # trailing comment\n"
                             "printrun.servers = pi.local\n");

    cli_rc_init(&rc);
    ck_assert_int_eq(cli_rc_load_file(&rc, a, err, sizeof(err)), 0);
    ck_assert_int_eq(cli_rc_load_file(&rc, b, err, sizeof(err)), 0);
    ck_assert_str_eq(rc.servers, "three.local");
    ck_assert_int_eq(rc.port, 5000);
    ck_assert_str_eq(rc.notifier, "http://x/$id");
    ck_assert_str_eq(cli_rc_servers(&rc, "printrun"), "pi.local");
    /* a missing file is fine */
    ck_assert_int_eq(cli_rc_load_file(&rc, "/nonexistent/rrcloudrc", err,
                                      sizeof(err)), 0);
    cli_rc_free(&rc);
}
END_TEST

/* ./rrcloudrc counts only if it is ours and nobody else may write it. */
START_TEST(rc_cwd_file_must_be_ours)
{
    struct cli_rc rc;
    char err[512], cwd[512], *home = getenv("HOME");
    const char *p = put("rrcloudrc", "servers = evil.example\n");

    home = home ? strdup(home) : NULL;
    ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
    ck_assert_int_eq(chdir(tmpdir), 0);
    setenv("HOME", tmpdir, 1);
    ck_assert_int_eq(chmod(p, 0666), 0);
    cli_rc_init(&rc);
    ck_assert_int_eq(cli_rc_load_default(&rc, err, sizeof(err)), 0);
    ck_assert(!rc.servers || strcmp(rc.servers, "evil.example") != 0);
    cli_rc_free(&rc);
    ck_assert_int_eq(chmod(p, 0644), 0);
    cli_rc_init(&rc);
    ck_assert_int_eq(cli_rc_load_default(&rc, err, sizeof(err)), 0);
    ck_assert_str_eq(rc.servers, "evil.example");
    cli_rc_free(&rc);
    ck_assert_int_eq(chdir(cwd), 0);
    if (home)
        setenv("HOME", home, 1);
    free(home);
}
END_TEST

START_TEST(rc_file_errors_name_the_line)
{
    struct cli_rc rc;
    char err[512];
    const char *bad = put("bad", "servers = x\n\nport = 99999\n");
    const char *junk = put("junk", "just words\n");

    cli_rc_init(&rc);
    ck_assert_int_eq(cli_rc_load_file(&rc, bad, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, bad));
    ck_assert_ptr_nonnull(strstr(err, "line 3"));
    ck_assert_ptr_nonnull(strstr(err, "99999"));
    ck_assert_int_eq(cli_rc_load_file(&rc, junk, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "line 1"));
    cli_rc_free(&rc);
}
END_TEST

/* --- server addresses ---------------------------------------------- */

static const char *url(const char *spec, int port)
{
    static char out[CLI_URL_MAX];
    char err[256];

    if (cli_rc_server_url(spec, port, out, sizeof(out), err, sizeof(err)) < 0)
        return NULL;
    return out;
}

START_TEST(server_url_forms)
{
    ck_assert_str_eq(url("myserver.local", 4468), "http://myserver.local:4468");
    ck_assert_str_eq(url("myserver.local:8080", 4468),
                     "http://myserver.local:8080");
    ck_assert_str_eq(url("10.0.0.5", 80), "http://10.0.0.5:80");
    ck_assert_str_eq(url("[::1]", 4468), "http://[::1]:4468");
    ck_assert_str_eq(url("[::1]:9", 4468), "http://[::1]:9");
    ck_assert_str_eq(url("fe80::1", 4468), "http://[fe80::1]:4468");
    ck_assert_str_eq(url("http://h", 4468), "http://h");
    ck_assert_str_eq(url("HTTPS://h:8443/rr/", 4468), "https://h:8443/rr");
    ck_assert_str_eq(url("http://h//", 4468), "http://h");
    ck_assert_str_eq(url("https://cloud.example/a/b", 4468),
                     "https://cloud.example/a/b");
}
END_TEST

START_TEST(server_url_rejects)
{
    static const char *const bad[] = {
        "", "h:0", "h:65536", "h:x", "h:", "-h", ".h", "h/path", "h h",
        "http://", "http://u:p@h", "http://h?q=1", "http://h#f",
        "ftp://h", "http://h:99999", "[::1", "[zz]:1", "http://h/a b",
        "h;rm", "h\n",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(url(bad[i], 4468) == NULL, "accepted '%s'", bad[i]);
}
END_TEST

START_TEST(server_list_split)
{
    char **list;
    char err[256];

    ck_assert_int_eq(cli_rc_server_list(" a , b:1,,https://c/x/ ", 4468,
                                        &list, err, sizeof(err)), 3);
    ck_assert_str_eq(list[0], "http://a:4468");
    ck_assert_str_eq(list[1], "http://b:1");
    ck_assert_str_eq(list[2], "https://c/x");
    ck_assert_ptr_null(list[3]);
    cli_rc_list_free(list);
    ck_assert_int_eq(cli_rc_server_list(" , ", 4468, &list, err,
                                        sizeof(err)), -1);
    ck_assert_ptr_null(list);
    ck_assert_int_eq(cli_rc_server_list("a,b:bad", 4468, &list, err,
                                        sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "b:bad"));
    ck_assert_ptr_null(list);
}
END_TEST

/* --- options ------------------------------------------------------- */

static int parse(struct cli_opts *o, char **argv)
{
    char err[256];

    return cli_args_parse(count(argv), argv, o, err, sizeof(err));
}

/* A pipeline: --then=SERVICES and --thenN=OPTION, before the service
 * word or among its arguments. */
START_TEST(then_options)
{
    char **argv = ARGV("rrcloud", "--then=slic3r,echo",
                       "--then1=--layer-height=0.3", "--then12=x",
                       "openscad", "cube.scad", "--then2=y", "-ocube.stl");
    struct cli_opts o;
    char err[256];

    ck_assert_int_eq(parse(&o, argv), 0);
    ck_assert_str_eq(o.then, "slic3r,echo");
    ck_assert_int_eq(o.nstage_opts, 2);
    ck_assert_int_eq(o.stage_opts[0].stage, 1);
    ck_assert_str_eq(o.stage_opts[0].value, "--layer-height=0.3");
    ck_assert_int_eq(o.stage_opts[1].stage, 12);
    ck_assert_str_eq(o.command, "openscad");
    /* among the service's words */
    ck_assert_int_eq(cli_args_then_word(&o, "cube.scad", err, sizeof(err)), 0);
    ck_assert_int_eq(cli_args_then_word(&o, "--thenx=1", err, sizeof(err)), 0);
    ck_assert_int_eq(cli_args_then_word(&o, "--then2=y", err, sizeof(err)), 1);
    ck_assert_int_eq(o.nstage_opts, 3);
    ck_assert_int_eq(o.stage_opts[2].stage, 2);
    ck_assert_int_eq(cli_args_then_word(&o, "--then3=", err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "--then3 needs a value"));
    ck_assert_int_eq(cli_args_then_word(&o, "--then=", err, sizeof(err)), -1);
    ck_assert_int_eq(cli_args_then_word(&o, "--then0=1", err, sizeof(err)), 0);
}
END_TEST

START_TEST(opts_before_the_service)
{
    char **argv = ARGV("rrcloud", "--s=h1,h2", "--async", "--json",
                       "--notifier=http://x/$id", "--timeout=2h",
                       "--port=81", "slic3r", "--load=a.ini", "--async",
                       "a.stl");
    struct cli_opts o;

    ck_assert_int_eq(parse(&o, argv), 0);
    ck_assert_str_eq(o.servers, "h1,h2");
    ck_assert_int_eq(o.async, 1);
    ck_assert_int_eq(o.json, 1);
    ck_assert_str_eq(o.notifier, "http://x/$id");
    ck_assert_int_eq(o.timeout, 7200);
    ck_assert_int_eq(o.port, 81);
    ck_assert_str_eq(o.command, "slic3r");
    /* everything after the service word belongs to the service */
    ck_assert_int_eq(o.argc, 3);
    ck_assert_str_eq(o.argv[0], "--load=a.ini");
    ck_assert_str_eq(o.argv[1], "--async");
}
END_TEST

START_TEST(opts_defaults_and_dashdash)
{
    char **none = ARGV("rrcloud");
    char **dd = ARGV("rrcloud", "--quiet", "--", "--weird", "x");
    char **help = ARGV("rrcloud", "-h");
    char **ver = ARGV("rrcloud", "--version");
    char **sync = ARGV("rrcloud", "--async", "--synchronous", "meta");
    struct cli_opts o;

    ck_assert_int_eq(parse(&o, none), 0);
    ck_assert_str_eq(o.command, "info"); /* RepRapCloud's default */
    ck_assert_int_eq(o.argc, 0);
    ck_assert_int_eq(o.timeout, -1);
    ck_assert_int_eq(parse(&o, dd), 0);
    ck_assert_int_eq(o.quiet, 1);
    ck_assert_str_eq(o.command, "--weird");
    ck_assert_int_eq(o.argc, 1);
    ck_assert_int_eq(parse(&o, help), 0);
    ck_assert_int_eq(o.help, 1);
    ck_assert_int_eq(parse(&o, ver), 0);
    ck_assert_int_eq(o.version, 1);
    ck_assert_int_eq(parse(&o, sync), 0);
    ck_assert_int_eq(o.async, 0);
}
END_TEST

START_TEST(opts_errors)
{
    char **unknown = ARGV("rrcloud", "--frobnicate", "meta");
    char **short_opt = ARGV("rrcloud", "-x", "meta");
    char **noval = ARGV("rrcloud", "--s", "meta");
    char **empty = ARGV("rrcloud", "--s=", "meta");
    char **flagval = ARGV("rrcloud", "--async=1", "meta");
    char **port = ARGV("rrcloud", "--port=http", "meta");
    char **tmo = ARGV("rrcloud", "--timeout=-5", "meta");
    struct cli_opts o;

    ck_assert_int_eq(parse(&o, unknown), -1);
    ck_assert_int_eq(parse(&o, short_opt), -1);
    ck_assert_int_eq(parse(&o, noval), -1);
    ck_assert_int_eq(parse(&o, empty), -1);
    ck_assert_int_eq(parse(&o, flagval), -1);
    ck_assert_int_eq(parse(&o, port), -1);
    ck_assert_int_eq(parse(&o, tmo), -1);
}
END_TEST

START_TEST(cloud_names)
{
    char svc[64];

    ck_assert_int_eq(cli_args_cloud_name("/usr/bin/openscad.cloud", svc,
                                         sizeof(svc)), 1);
    ck_assert_str_eq(svc, "openscad");
    ck_assert_int_eq(cli_args_cloud_name("prusa-slicer.cloud", svc,
                                         sizeof(svc)), 1);
    ck_assert_str_eq(svc, "prusa-slicer");
    ck_assert_int_eq(cli_args_cloud_name("./print.cloud", svc, sizeof(svc)),
                     1);
    ck_assert_str_eq(svc, "print");
    ck_assert_int_eq(cli_args_cloud_name("rrcloud", svc, sizeof(svc)), 0);
    ck_assert_int_eq(cli_args_cloud_name("/x/.cloud", svc, sizeof(svc)), 0);
    ck_assert_int_eq(cli_args_cloud_name("a b.cloud", svc, sizeof(svc)), 0);
    ck_assert_int_eq(cli_args_cloud_name("x.cloud.bak", svc, sizeof(svc)),
                     0);
    ck_assert_int_eq(cli_args_service_valid("info"), 1);
    ck_assert_int_eq(cli_args_service_valid("../x"), 0);
    ck_assert_int_eq(cli_args_service_valid(""), 0);
}
END_TEST

/* --- services and classification ----------------------------------- */

static void make_svc(struct cli_svc *svc, const char *json)
{
    char err[256];
    json_t *o = json_loads(json, 0, NULL);

    ck_assert_ptr_nonnull(o);
    ck_assert_int_eq(cli_svc_from_json(svc, o, err, sizeof(err)), 0);
    json_decref(o);
}

static const char slic3r_json[] =
    "{\"name\":\"slic3r\",\"argInput\":\"--load=\","
    "\"output\":\"--output=$fileOut\",\"noOutput\":false,"
    "\"fileOut\":\"$id.gcode\",\"options\":[\"--layer-height=*\","
    "\"--merge\",\"/dev/ttyUSB*\"]}";

START_TEST(svc_from_json)
{
    struct cli_svc svc;
    char err[256];
    json_t *doc;

    make_svc(&svc, slic3r_json);
    ck_assert_str_eq(svc.name, "slic3r");
    ck_assert_str_eq(svc.arg_input, "--load=");
    ck_assert_str_eq(svc.output, "--output="); /* template cut */
    ck_assert_str_eq(svc.file_out, "$id.gcode");
    ck_assert_uint_eq(svc.noptions, 3);
    ck_assert_int_eq(svc.no_output, 0);
    cli_svc_free(&svc);
    make_svc(&svc, "{\"name\":\"printrun\",\"argInput\":null,\"output\":\"\","
                   "\"noOutput\":true}");
    ck_assert_ptr_null(svc.arg_input);
    ck_assert_ptr_null(svc.output);
    ck_assert_int_eq(svc.no_output, 1);
    cli_svc_free(&svc);
    /* a bare placeholder leaves no prefix (was taken for out of memory) */
    make_svc(&svc, "{\"name\":\"t\",\"argInput\":\"$fileIn\"}");
    ck_assert_ptr_null(svc.arg_input);
    cli_svc_free(&svc);

    doc = json_loads("{\"services\":[{\"name\":\"echo\"},{\"name\":\"x\"}]}",
                     0, NULL);
    ck_assert_int_eq(cli_svc_find(&svc, doc, "x", err, sizeof(err)), 0);
    ck_assert_str_eq(svc.name, "x");
    cli_svc_free(&svc);
    ck_assert_int_eq(cli_svc_find(&svc, doc, "nope", err, sizeof(err)), 1);
    json_decref(doc);
    doc = json_loads("{\"services\":{}}", 0, NULL);
    ck_assert_int_eq(cli_svc_find(&svc, doc, "x", err, sizeof(err)), -1);
    json_decref(doc);
    doc = json_loads("{\"name\":\"../bad\"}", 0, NULL);
    ck_assert_int_eq(cli_svc_from_json(&svc, doc, err, sizeof(err)), -1);
    json_decref(doc);
}
END_TEST

START_TEST(classify_slicer_words)
{
    struct cli_svc svc;
    struct cli_job job;
    char err[256];
    char stl[512], ini[512], ld[600];
    char **argv;

    snprintf(stl, sizeof(stl), "%s", put("cube.stl", "solid x\n"));
    snprintf(ini, sizeof(ini), "%s", put("prusa.ini", "[x]\n"));
    snprintf(ld, sizeof(ld), "--load=%s", ini);
    argv = ARGV(ld, stl, "--output=out.gcode", "--layer-height=0.2",
                "--merge");
    make_svc(&svc, slic3r_json);
    ck_assert_int_eq(cli_args_classify(&svc, 5, argv, &job, err,
                                       sizeof(err)), 0);
    ck_assert_uint_eq(job.ninputs, 2);
    ck_assert_str_eq(job.inputs[0].path, ini);
    ck_assert_str_eq(job.inputs[0].prearg, "--load=");
    ck_assert_str_eq(job.inputs[1].path, stl);
    ck_assert_ptr_null(job.inputs[1].prearg);
    ck_assert_uint_eq(job.nargs, 2);
    ck_assert_str_eq(job.args[0], "--layer-height=0.2");
    ck_assert_str_eq(job.args[1], "--merge");
    ck_assert_str_eq(job.out_path, "out.gcode");
    cli_job_free(&job);
    cli_svc_free(&svc);
}
END_TEST

START_TEST(classify_two_word_forms)
{
    struct cli_svc svc;
    struct cli_job job;
    char err[256];
    char scad[512], ini[512];
    char **argv, **argv2, **missing;

    snprintf(scad, sizeof(scad), "%s", put("cube.scad", "cube(1);\n"));
    snprintf(ini, sizeof(ini), "%s", put("c.ini", "[x]\n"));
    argv = ARGV(scad, "-o", "cube.stl");
    argv2 = ARGV("--load", ini, scad, "--output", "x.gcode");
    missing = ARGV(scad, "-o");
    make_svc(&svc, "{\"name\":\"openscad\",\"output\":\"-o\","
                   "\"options\":[\"-D*\"]}");
    ck_assert_int_eq(cli_args_classify(&svc, 3, argv, &job, err,
                                       sizeof(err)), 0);
    ck_assert_uint_eq(job.ninputs, 1);
    ck_assert_str_eq(job.out_path, "cube.stl");
    cli_job_free(&job);
    ck_assert_int_eq(cli_args_classify(&svc, 2, missing, &job, err,
                                       sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "missing file name"));
    cli_svc_free(&svc);

    make_svc(&svc, slic3r_json);
    ck_assert_int_eq(cli_args_classify(&svc, 5, argv2, &job, err,
                                       sizeof(err)), 0);
    ck_assert_uint_eq(job.ninputs, 2);
    ck_assert_str_eq(job.inputs[0].prearg, "--load=");
    ck_assert_str_eq(job.out_path, "x.gcode");
    cli_job_free(&job);
    cli_svc_free(&svc);
}
END_TEST

START_TEST(classify_refusals)
{
    struct cli_svc svc;
    struct cli_job job;
    char err[256];
    char stl[512];
    char **unknown, **nofile, **noload, **twice, **dir, **empty;

    snprintf(stl, sizeof(stl), "%s", put("a.stl", "solid\n"));
    unknown = ARGV(stl, "--infill=20");
    nofile = ARGV("nosuch.stl");
    noload = ARGV("--load=/nonexistent.ini", stl);
    twice = ARGV(stl, "--output=a", "--output=b");
    dir = ARGV(tmpdir);
    empty = ARGV("");
    make_svc(&svc, slic3r_json);
    ck_assert_int_eq(cli_args_classify(&svc, 2, unknown, &job, err,
                                       sizeof(err)), -1);
    ck_assert_str_eq(err, "not supported switch or file not found "
                          "'--infill=20'");
    ck_assert_ptr_null(job.inputs);
    ck_assert_int_eq(cli_args_classify(&svc, 1, nofile, &job, err,
                                       sizeof(err)), -1);
    ck_assert_str_eq(err, "not supported switch or file not found "
                          "'nosuch.stl'");
    ck_assert_int_eq(cli_args_classify(&svc, 2, noload, &job, err,
                                       sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "/nonexistent.ini"));
    ck_assert_int_eq(cli_args_classify(&svc, 3, twice, &job, err,
                                       sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "twice"));
    ck_assert_int_eq(cli_args_classify(&svc, 1, dir, &job, err,
                                       sizeof(err)), -1);
    ck_assert_int_eq(cli_args_classify(&svc, 1, empty, &job, err,
                                       sizeof(err)), -1);
    cli_svc_free(&svc);
}
END_TEST

START_TEST(classify_devices_and_fallback)
{
    struct cli_svc svc;
    struct cli_job job;
    char err[256];
    char gc[512];
    char **printrun, **plain, **word;

    snprintf(gc, sizeof(gc), "%s", put("x.gcode", "G28\n"));
    printrun = ARGV("/dev/ttyUSB0", gc);
    plain = ARGV(gc, "-ofoo.stl", "--whatever=1");
    word = ARGV(gc, "notafile");
    make_svc(&svc, "{\"name\":\"printrun\",\"noOutput\":true,"
                   "\"options\":[\"/dev/ttyUSB*\"]}");
    ck_assert_int_eq(cli_args_classify(&svc, 2, printrun, &job, err,
                                       sizeof(err)), 0);
    ck_assert_uint_eq(job.nargs, 1);
    ck_assert_str_eq(job.args[0], "/dev/ttyUSB0");
    ck_assert_uint_eq(job.ninputs, 1);
    cli_job_free(&job);
    cli_svc_free(&svc);
    /* no description (RepRapCloud): files in, -switches as arguments */
    ck_assert_int_eq(cli_args_classify(NULL, 3, plain, &job, err,
                                       sizeof(err)), 0);
    ck_assert_uint_eq(job.ninputs, 1);
    ck_assert_uint_eq(job.nargs, 2);
    ck_assert_ptr_null(job.out_path);
    cli_job_free(&job);
    ck_assert_int_eq(cli_args_classify(NULL, 2, word, &job, err,
                                       sizeof(err)), -1);
}
END_TEST

/* --- records --------------------------------------------------------- */

START_TEST(record_ids)
{
    ck_assert_int_eq(cli_rec_id_valid("1795435719-90525-657312"), 1);
    /* as the server issues them now: 20 random digits */
    ck_assert_int_eq(cli_rec_id_valid("1795435719-90525-65731284100393840211"),
                     1);
    ck_assert_int_eq(cli_rec_id_valid("1361982308-837500"), 1); /* old */
    ck_assert_int_eq(cli_rec_id_valid("1-2-3-4"), 0);
    ck_assert_int_eq(cli_rec_id_valid("12345"), 0);
    ck_assert_int_eq(cli_rec_id_valid("../../etc"), 0);
    ck_assert_int_eq(cli_rec_id_valid("1-2/3"), 0);
    ck_assert_int_eq(cli_rec_id_valid("1--2"), 0);
    ck_assert_int_eq(cli_rec_id_valid("-1-2"), 0);
    ck_assert_int_eq(cli_rec_id_valid("1-2-"), 0);
    ck_assert_int_eq(cli_rec_id_valid("1-2|"), 0);
    ck_assert_int_eq(cli_rec_id_valid(""), 0);
    ck_assert_int_eq(cli_rec_id_valid(
                         "12345678901234567890-12345678901234567890"), 0);
    ck_assert_int_eq(cli_rec_status("busy"), CLI_ST_BUSY);
    ck_assert_int_eq(cli_rec_status("cancelled"), CLI_ST_CANCELLED);
    ck_assert_int_eq(cli_rec_status("Busy"), CLI_ST_UNKNOWN);
    ck_assert_int_eq(cli_rec_status(NULL), CLI_ST_UNKNOWN);
}
END_TEST

START_TEST(record_out_names)
{
    char name[160];

    ck_assert_int_eq(cli_rec_out_name("tasks/out/1-2-3.stl", name,
                                      sizeof(name)), 0);
    ck_assert_str_eq(name, "1-2-3.stl");
    ck_assert_int_eq(cli_rec_out_name("/tasks/out/1-2-3", name,
                                      sizeof(name)), 0);
    ck_assert_str_eq(name, "1-2-3");
    ck_assert_int_eq(cli_rec_out_name("tasks/out/../../etc/passwd", name,
                                      sizeof(name)), -1);
    ck_assert_int_eq(cli_rec_out_name("tasks/out/.hidden", name,
                                      sizeof(name)), -1);
    ck_assert_int_eq(cli_rec_out_name("tasks/out/", name, sizeof(name)), -1);
    ck_assert_int_eq(cli_rec_out_name("/etc/passwd", name, sizeof(name)), -1);
    ck_assert_int_eq(cli_rec_out_name("tasks/out/a b", name, sizeof(name)),
                     -1);
    ck_assert_int_eq(cli_rec_out_name("tasks/out/x\ny", name, sizeof(name)),
                     -1);
    ck_assert_int_eq(cli_rec_out_name("tasks/out/abc", name, 3), -1);
}
END_TEST

START_TEST(record_parse)
{
    char err[256];
    const char text[] = "id: 1-2-3\r\nstatus: complete\nbogus line\n"
                        "out: tasks/out/1-2-3.stl\n";
    json_t *v = cli_rec_parse(text, strlen(text), err, sizeof(err));

    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(cli_rec_str(v, "id"), "1-2-3");
    ck_assert_str_eq(cli_rec_str(v, "status"), "complete");
    ck_assert_str_eq(cli_rec_str(v, "out"), "tasks/out/1-2-3.stl");
    json_decref(v);
    v = cli_rec_parse(" {\"id\":\"1-2\",\"n\":3}", 19, err, sizeof(err));
    ck_assert_ptr_nonnull(v);
    ck_assert_str_eq(cli_rec_str(v, "id"), "1-2");
    ck_assert_ptr_null(cli_rec_str(v, "n"));
    json_decref(v);
    ck_assert_ptr_null(cli_rec_parse("{\"id\":", 6, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "JSON"));
    ck_assert_ptr_null(cli_rec_parse("<html>", 6, err, sizeof(err)));
}
END_TEST

START_TEST(record_default_output)
{
    char buf[256];

    ck_assert_int_eq(cli_rec_default_output("dir/cube.scad", "1-2-3.stl",
                                            buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "cube.stl");
    ck_assert_int_eq(cli_rec_default_output("/a/b/model.v2.stl", "9-9.gcode",
                                            buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "model.v2.gcode");
    ck_assert_int_eq(cli_rec_default_output("noext", "1-2-3", buf,
                                            sizeof(buf)), 0);
    ck_assert_str_eq(buf, "noext.out");
    ck_assert_int_eq(cli_rec_default_output(".hidden", "1-2.stl", buf,
                                            sizeof(buf)), 0);
    ck_assert_str_eq(buf, ".hidden.stl");
    ck_assert_int_eq(cli_rec_default_output(NULL, "1-2.stl", buf,
                                            sizeof(buf)), 0);
    ck_assert_str_eq(buf, "1-2.stl");
    ck_assert_int_eq(cli_rec_default_output("cube.scad", "1-2.stl", buf, 4),
                     -1);
}
END_TEST

/* --- output ---------------------------------------------------------- */

START_TEST(sanitize_controls)
{
    char s[] = "ok\x1b[31mred\x07\ttab\nnl\x7f\xc2\x9b" "2J \xc3\xa9";

    cli_out_sanitize(s, strlen(s));
    ck_assert_str_eq(s, "ok?[31mred?\ttab\nnl???2J \xc3\xa9");
}
END_TEST

START_TEST(server_messages)
{
    char buf[256];
    const char j[] = "{\"error\":{\"code\":422,\"field\":\"arg0\","
                     "\"message\":\"option not allowed\"}}";
    const char t[] = "busy\nerror: no such service 'x'\r\n";
    const char e[] = "{\"error\":\"bad\\u001b[2J\"}";

    cli_out_server_message(422, j, strlen(j), buf, sizeof(buf));
    ck_assert_str_eq(buf, "option not allowed (field arg0)");
    cli_out_server_message(400, t, strlen(t), buf, sizeof(buf));
    ck_assert_str_eq(buf, "no such service 'x'");
    cli_out_server_message(500, e, strlen(e), buf, sizeof(buf));
    ck_assert_str_eq(buf, "bad?[2J");
    cli_out_server_message(502, "<html>", 6, buf, sizeof(buf));
    ck_assert_str_eq(buf, "the server answered HTTP 502");
    cli_out_server_message(404, NULL, 0, buf, sizeof(buf));
    ck_assert_str_eq(buf, "the server answered HTTP 404");
}
END_TEST

/* --- progress line --------------------------------------------------- */

static int columns(const char *s)
{
    int n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

START_TEST(progress_line)
{
    char line[512], sz[32];

    cli_prog_format(line, sizeof(line), 80, 0, "cube.stl", 45, 100, 10, 1);
    ck_assert_ptr_nonnull(strstr(line, " 45% ["));
    ck_assert_ptr_nonnull(strstr(line, "45/100 B"));
    ck_assert_ptr_nonnull(strstr(line, "eta 0:06"));
    ck_assert_int_lt(columns(line), 80);
    cli_prog_format(line, sizeof(line), 80, 1, "a-very-long-file-name-indeed.stl",
                    3 << 20, 10 << 20, 1 << 20, 3);
    ck_assert_ptr_nonnull(strstr(line, "a-very-long-file-na~"));
    ck_assert_ptr_nonnull(strstr(line, "3.00/10.0 MiB"));
    ck_assert_ptr_nonnull(strstr(line, "1.00 MiB/s"));
    ck_assert_int_lt(columns(line), 80);
    /* unknown total: no bar */
    cli_prog_format(line, sizeof(line), 80, 1, "x", 2048, 0, 0, 61);
    ck_assert_ptr_null(strchr(line, '['));
    ck_assert_ptr_nonnull(strstr(line, "1:01"));
    /* narrow terminals lose the bar, never overflow */
    cli_prog_format(line, sizeof(line), 40, 1, "x", 5, 10, 1, 1);
    ck_assert_ptr_null(strchr(line, '['));
    ck_assert_int_lt(columns(line), 41);
    cli_prog_size(sz, sizeof(sz), 999);
    ck_assert_str_eq(sz, "999 B");
    cli_prog_size(sz, sizeof(sz), 1000);
    ck_assert_str_eq(sz, "0.98 KiB");
    cli_prog_size(sz, sizeof(sz), 150.0 * 1024 * 1024);
    ck_assert_str_eq(sz, "150 MiB");
}
END_TEST

Suite *cli_rc_suite(void)
{
    Suite *s = suite_create("cli_rc");
    TCase *rc = tcase_create("rc");
    TCase *args = tcase_create("args");
    TCase *rec = tcase_create("records");

    tcase_add_checked_fixture(rc, setup, teardown);
    tcase_add_test(rc, rc_defaults_and_set);
    tcase_add_test(rc, rc_key_belongs_to_its_servers);
    tcase_add_test(rc, rc_files_later_wins);
    tcase_add_test(rc, rc_cwd_file_must_be_ours);
    tcase_add_test(rc, rc_file_errors_name_the_line);
    tcase_add_test(rc, server_url_forms);
    tcase_add_test(rc, server_url_rejects);
    tcase_add_test(rc, server_list_split);
    suite_add_tcase(s, rc);

    tcase_add_checked_fixture(args, setup, teardown);
    tcase_add_test(args, opts_before_the_service);
    tcase_add_test(args, then_options);
    tcase_add_test(args, opts_defaults_and_dashdash);
    tcase_add_test(args, opts_errors);
    tcase_add_test(args, cloud_names);
    tcase_add_test(args, svc_from_json);
    tcase_add_test(args, classify_slicer_words);
    tcase_add_test(args, classify_two_word_forms);
    tcase_add_test(args, classify_refusals);
    tcase_add_test(args, classify_devices_and_fallback);
    suite_add_tcase(s, args);

    tcase_add_test(rec, record_ids);
    tcase_add_test(rec, record_out_names);
    tcase_add_test(rec, record_parse);
    tcase_add_test(rec, record_default_output);
    tcase_add_test(rec, sanitize_controls);
    tcase_add_test(rec, server_messages);
    tcase_add_test(rec, progress_line);
    suite_add_tcase(s, rec);
    cli_fleet_add_tcases(s);
    return s;
}
