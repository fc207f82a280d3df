/*
 * test_service.c - service confs (the shipped ones and bad ones), client
 * value checks, argv building.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "services/service.h"

Suite *service_suite(void);

/* The source tree: top_srcdir (the Makefile exports it), srcdir, or ".". */
static const char *src_root(void)
{
    const char *d = getenv("top_srcdir");

    if (d == NULL || d[0] == '\0')
        d = getenv("srcdir");
    return d != NULL && d[0] != '\0' ? d : ".";
}

static struct service_registry *shipped;
static char err[1024];
static char tmpdir[64];

static void shipped_setup(void)
{
    char dir[512];

    snprintf(dir, sizeof(dir), "%s/services", src_root());
    shipped = service_registry_load(dir, err, sizeof(err));
    ck_assert_msg(shipped != NULL, "shipped services: %s", err);
}

static void shipped_teardown(void)
{
    service_registry_free(shipped);
    shipped = NULL;
}

static const struct service *svc(const char *name)
{
    const struct service *s = service_find(shipped, name);

    ck_assert_msg(s != NULL, "service %s not shipped", name);
    return s;
}

static void assert_err(const char *needle)
{
    ck_assert_msg(strstr(err, needle) != NULL, "'%s' not in '%s'", needle, err);
}

/* Builds argv for s and compares its join with want. */
static void assert_argv(const struct service *s, const struct service_task_spec *spec,
                        const char *want)
{
    char **argv = NULL, *joined;

    ck_assert_msg(service_build_argv(s, spec, &argv, err, sizeof(err)) == 0, "%s", err);
    joined = service_argv_join(argv);
    ck_assert_ptr_nonnull(joined);
    ck_assert_str_eq(joined, want);
    free(joined);
    service_argv_free(argv);
}

/* ---- temp dir with confs ---------------------------------------------- */

static void tmp_setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/rrsvc.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void tmp_teardown(void)
{
    DIR *d = opendir(tmpdir);
    struct dirent *e;
    char path[512];

    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", tmpdir, e->d_name);
        unlink(path);
    }
    if (d != NULL)
        closedir(d);
    rmdir(tmpdir);
}

static void write_conf(const char *fname, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", tmpdir, fname);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    ck_assert_int_eq(fclose(f), 0);
}

static void remove_conf(const char *fname)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", tmpdir, fname);
    unlink(path);
}

#define GOOD "cmd = tool\ninputTypes = stl\n"

/* Loading tmpdir with only fname = text must fail with needle in err. */
static void assert_load_fails(const char *fname, const char *text, const char *needle)
{
    struct service_registry *reg;

    write_conf(fname, text);
    reg = service_registry_load(tmpdir, err, sizeof(err));
    ck_assert_msg(reg == NULL, "%s loaded", fname);
    assert_err(needle);
    remove_conf(fname);
}

/* ---- shipped services ------------------------------------------------- */

START_TEST(test_shipped_load)
{
    static const char *const names[] = { "curaengine", "echo", "openscad",
                                         "printrun", "prusa-slicer", "slic3r" };
    char csv[256];

    ck_assert_uint_ge(service_count(shipped), 6);
    ck_assert_int_eq(service_names_csv(shipped, csv, sizeof(csv)), 0);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        ck_assert_msg(strstr(csv, names[i]) != NULL, "%s not in %s", names[i], csv);
    ck_assert_int_eq(service_names_csv(shipped, csv, 4), -1);
    for (size_t i = 1; i < service_count(shipped); i++)
        ck_assert_int_lt(strcmp(service_at(shipped, i - 1)->name,
                                service_at(shipped, i)->name), 0);
    ck_assert_ptr_null(service_at(shipped, service_count(shipped)));
    ck_assert_ptr_null(service_find(shipped, "info"));
    ck_assert_ptr_null(service_find(shipped, "../services/echo"));
    ck_assert_ptr_null(service_find(shipped, ""));
    ck_assert_ptr_null(service_find(shipped, NULL));
    ck_assert_int_eq(svc("printrun")->rerun, 0);
    ck_assert_int_eq(svc("printrun")->no_output, 1);
    ck_assert_int_eq(svc("slic3r")->rerun, 1);
    ck_assert_int_eq(svc("slic3r")->timeout, 3600);
    ck_assert_uint_eq(svc("slic3r")->max_memory, 4ULL << 30);
    ck_assert_str_eq(svc("slic3r")->prearg, "--load=");
    /* slicers yield the CPU; a print keeps its pace */
    ck_assert_int_eq(svc("slic3r")->nice, SERVICE_DEFAULT_NICE);
    ck_assert_int_eq(svc("printrun")->nice, 0);
}
END_TEST

START_TEST(test_argv_slic3r_prearg)
{
    const char *inputs[] = { "in0.ini", "in1.stl" };
    const char *prearg[] = { "--load=", NULL };
    const char *options[] = { "--layer-height=0.3", "--fill-density=20%" };
    struct service_task_spec spec = { "1-2-3", 2, inputs, prearg, 2, options, "1-2-3.gcode" };
    char out[64];

    ck_assert_int_eq(service_output_name(svc("slic3r"), "1-2-3", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "1-2-3.gcode");
    assert_argv(svc("slic3r"), &spec,
                "slic3r --no-gui --post-process=/bin/true --layer-height=0.3 "
                "--fill-density=20% --load=in0.ini in1.stl --output=1-2-3.gcode");
    spec.output = "x.gcode";
    assert_argv(svc("prusa-slicer"), &spec,
                "prusa-slicer --loglevel=1 --export-gcode --post-process=/bin/true "
                "--layer-height=0.3 --fill-density=20% --load=in0.ini in1.stl "
                "--output=x.gcode");
}
END_TEST

START_TEST(test_argv_prearg_index)
{
    /* RepRapCloud applied prearg0 whatever the index; here prearg1 goes
     * with fileIn1 */
    const char *inputs[] = { "in0.stl", "in1.ini" };
    const char *prearg[] = { NULL, "--load=" };
    struct service_task_spec spec = { "id", 2, inputs, prearg, 0, NULL, "id.gcode" };

    assert_argv(svc("slic3r"), &spec,
                "slic3r --no-gui --post-process=/bin/true in0.stl --load=in1.ini "
                "--output=id.gcode");
}
END_TEST

START_TEST(test_argv_openscad)
{
    const char *inputs[] = { "in0.scad" };
    const char *options[] = { "-Dsize=10" };
    struct service_task_spec spec = { "7", 1, inputs, NULL, 1, options, "7.stl" };
    char out[64];

    ck_assert_int_eq(service_output_name(svc("openscad"), "7", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "7.stl");
    assert_argv(svc("openscad"), &spec, "openscad -Dsize=10 in0.scad -o7.stl");
    /* a bare -D would take the next word (the input) as its value */
    ck_assert_int_eq(service_check_option(svc("openscad"), "arg0", "-D", err, sizeof(err)), -1);
    ck_assert_int_eq(service_check_option(svc("openscad"), "arg0", "-Dx", err, sizeof(err)), -1);
    ck_assert_int_eq(service_check_option(svc("openscad"), "arg0", "-Dx=", err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_argv_printrun_no_output)
{
    const char *inputs[] = { "in0.gcode" };
    /* printcore's getopt stops at the port: --baud= must come first */
    const char *options[] = { "--baud=250000", "/dev/ttyUSB0" };
    struct service_task_spec spec = { "9", 1, inputs, NULL, 2, options, NULL };

    assert_argv(svc("printrun"), &spec, "printcore -s --baud=250000 /dev/ttyUSB0 in0.gcode");
    ck_assert_int_eq(service_check_option(svc("printrun"), "arg0", "/dev/ttyACM1",
                                          err, sizeof(err)), 0);
    ck_assert_int_eq(service_check_option(svc("printrun"), "arg0", "/dev/sda",
                                          err, sizeof(err)), -1);
    ck_assert_int_eq(service_check_option(svc("printrun"), "arg0", "/dev/ttyUSB0/x",
                                          err, sizeof(err)), -1);
    ck_assert_int_eq(service_check_option(svc("printrun"), "arg0", "/dev/ttyUSB0/../../etc/x",
                                          err, sizeof(err)), -1);
    /* printcore would take HOST:PORT and connect over TCP */
    ck_assert_int_eq(service_check_option(svc("printrun"), "arg0", "10.0.0.1:23",
                                          err, sizeof(err)), -1);
}
END_TEST

/* requireOption: printrun without a port is refused before it runs. */
START_TEST(test_printrun_requires_port)
{
    const char *inputs[] = { "in0.gcode" };
    const char *baud[] = { "--baud=250000" };
    const char *port[] = { "--baud=250000", "/dev/ttyACM0" };
    struct service_task_spec spec = { "9", 1, inputs, NULL, 1, baud, NULL };
    char **argv = NULL;

    ck_assert_int_eq(service_check_required(svc("printrun"), "arg0", NULL, 0,
                                            err, sizeof(err)), -1);
    ck_assert_str_eq(err, "arg0: service printrun needs an option matching "
                     "one of /dev/ttyUSB*, /dev/ttyACM*");
    ck_assert_int_eq(service_check_required(svc("printrun"), "arg1", baud, 1,
                                            err, sizeof(err)), -1);
    assert_err("arg1: service printrun needs");
    ck_assert_int_eq(service_check_required(svc("printrun"), "arg2", port, 2,
                                            err, sizeof(err)), 0);
    ck_assert_int_eq(service_check_required(svc("echo"), "arg0", NULL, 0,
                                            err, sizeof(err)), 0);
    ck_assert_int_eq(service_build_argv(svc("printrun"), &spec, &argv, err,
                                        sizeof(err)), -1);
    ck_assert_ptr_null(argv);
    assert_err("needs an option matching");
}
END_TEST

START_TEST(test_argv_curaengine_flags)
{
    const char *inputs[] = { "in0.stl", "in1.stl" };
    const char *options[] = { "layer_height=0.3", "adhesion_type=brim" };
    struct service_task_spec spec = { "c", 2, inputs, NULL, 2, options, "c.gcode" };
    const struct service *s = svc("curaengine");
    char **argv = NULL;
    const char *def;

    ck_assert_int_eq(service_build_argv(s, &spec, &argv, err, sizeof(err)), 0);
    ck_assert_str_eq(argv[0], "CuraEngine");
    ck_assert_str_eq(argv[1], "slice");
    ck_assert_str_eq(argv[2], "-j");
    def = argv[3];
    ck_assert_msg(def[0] == '/' && strlen(def) > 36 &&
                  strcmp(def + strlen(def) - 36, "/curaengine/rrcloud_generic.def.json") == 0,
                  "%s", def);
    ck_assert_int_eq(access(def, R_OK), 0);
    ck_assert_str_eq(argv[4], "-s");
    ck_assert_str_eq(argv[5], "layer_height=0.3");
    ck_assert_str_eq(argv[6], "-s");
    ck_assert_str_eq(argv[7], "adhesion_type=brim");
    ck_assert_str_eq(argv[8], "-l");
    ck_assert_str_eq(argv[9], "in0.stl");
    ck_assert_str_eq(argv[10], "-l");
    ck_assert_str_eq(argv[11], "in1.stl");
    /* output "-o $fileOut" is two words */
    ck_assert_str_eq(argv[12], "-o");
    ck_assert_str_eq(argv[13], "c.gcode");
    ck_assert_ptr_null(argv[14]);
    service_argv_free(argv);
}
END_TEST

/* argInput "-j $fileIn": prearg -j, and the file as the next word, after
 * the options (CuraEngine reads in order: these settings win). */
START_TEST(test_argv_curaengine_json_prearg)
{
    const char *inputs[] = { "in0.json", "in1.json", "in2.stl" };
    const char *prearg[] = { "-j", "-j", NULL };
    const char *options[] = { "layer_height=0.3" };
    struct service_task_spec spec = { "c", 3, inputs, prearg, 1, options,
                                      "c.gcode" };
    const struct service *s = svc("curaengine");
    char **argv = NULL, *joined;

    ck_assert_str_eq(s->prearg, "-j");
    ck_assert_int_eq(service_check_prearg(s, 0, "-j", err, sizeof(err)), 0);
    ck_assert_int_eq(service_check_prearg(s, 0, "-j ", err, sizeof(err)), -1);
    ck_assert_int_eq(service_build_argv(s, &spec, &argv, err, sizeof(err)), 0);
    joined = service_argv_join(argv + 4);
    ck_assert_str_eq(joined, "-s layer_height=0.3 -j in0.json -j in1.json "
                     "-l in2.stl -o c.gcode");
    free(joined);
    service_argv_free(argv);
    /* a .json without its prearg is refused, as an .ini is */
    prearg[1] = NULL;
    ck_assert_int_eq(service_build_argv(s, &spec, &argv, err, sizeof(err)),
                     -1);
    assert_err("fileIn1: a .json config file needs prearg1=-j");
}
END_TEST

START_TEST(test_argv_echo)
{
    const char *inputs[] = { "in0.txt" };
    struct service_task_spec spec = { "e", 1, inputs, NULL, 0, NULL, "e" };

    assert_argv(svc("echo"), &spec, "cp in0.txt e");
}
END_TEST

START_TEST(test_argv_rejects_bad_spec)
{
    const char *two[] = { "in0.scad", "in1.scad" };
    const char *dotdot[] = { "../in0.stl" };
    const char *abs[] = { "/etc/passwd.stl" };
    const char *stl[] = { "in0.stl" };
    const char *ini[] = { "in0.ini" };
    const char *bad_opt[] = { "--post-process=/bin/sh" };
    const char *bad_pre[] = { "--output=" };
    const char *pre[] = { "--load=" };
    struct service_task_spec spec = { "id", 2, two, NULL, 0, NULL, "id.stl" };
    char **argv = (char **)1;

    ck_assert_int_eq(service_build_argv(svc("openscad"), &spec, &argv, err, sizeof(err)), -1);
    ck_assert_ptr_null(argv);
    assert_err("1 to 1 input files");
    spec = (struct service_task_spec){ "id", 1, dotdot, NULL, 0, NULL, "id.gcode" };
    ck_assert_int_eq(service_build_argv(svc("slic3r"), &spec, &argv, err, sizeof(err)), -1);
    assert_err("fileIn0");
    spec.inputs = abs;
    ck_assert_int_eq(service_build_argv(svc("slic3r"), &spec, &argv, err, sizeof(err)), -1);
    spec.inputs = stl;
    spec.n_options = 1;
    spec.options = bad_opt;
    ck_assert_int_eq(service_build_argv(svc("slic3r"), &spec, &argv, err, sizeof(err)), -1);
    assert_err("arg0: option '--post-process=/bin/sh' not allowed");
    spec.n_options = 0;
    spec.prearg = bad_pre;
    ck_assert_int_eq(service_build_argv(svc("slic3r"), &spec, &argv, err, sizeof(err)), -1);
    assert_err("prearg0");
    spec.prearg = pre;          /* a prearg with a model */
    ck_assert_int_eq(service_build_argv(svc("slic3r"), &spec, &argv, err, sizeof(err)), -1);
    spec.prearg = NULL;
    spec.inputs = ini;          /* a config without its prearg */
    ck_assert_int_eq(service_build_argv(svc("slic3r"), &spec, &argv, err, sizeof(err)), -1);
    spec.inputs = stl;
    spec.output = "../x.gcode";
    ck_assert_int_eq(service_build_argv(svc("slic3r"), &spec, &argv, err, sizeof(err)), -1);
    spec.output = "x.gcode";
    spec.id = "a/b";
    ck_assert_int_eq(service_build_argv(svc("slic3r"), &spec, &argv, err, sizeof(err)), -1);
    spec.id = "ok";
    ck_assert_int_eq(service_build_argv(svc("slic3r"), &spec, &argv, err, sizeof(err)), 0);
    service_argv_free(argv);
}
END_TEST

START_TEST(test_output_name)
{
    char out[12];

    ck_assert_int_eq(service_output_name(svc("slic3r"), "../x", out, sizeof(out)), -1);
    ck_assert_int_eq(service_output_name(svc("slic3r"), "", out, sizeof(out)), -1);
    ck_assert_int_eq(service_output_name(svc("slic3r"), "12345678", out, sizeof(out)), -1);
    ck_assert_int_eq(service_output_name(svc("slic3r"), "12", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "12.gcode");
    ck_assert_int_eq(service_output_name(svc("echo"), "1-2_3", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "1-2_3");
}
END_TEST

/* ---- value checks ------------------------------------------------------ */

START_TEST(test_check_value_metachars)
{
    const char *meta = ";|&$`<>\\\"'(){}[]*?~!#";
    char v[16], want[64];

    for (const char *c = meta; *c != '\0'; c++) {
        snprintf(v, sizeof(v), "--x=1%c2", *c);
        ck_assert_int_eq(service_check_value("arg0", v, err, sizeof(err)), -1);
        snprintf(want, sizeof(want), "arg0: character '%c' not allowed", *c);
        ck_assert_str_eq(err, want);
    }
    ck_assert_int_eq(service_check_value("arg3", "a\nb", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "arg3: control character 0x0a not allowed");
    ck_assert_int_eq(service_check_value("arg3", "a\rb", err, sizeof(err)), -1);
    assert_err("0x0d");
    ck_assert_int_eq(service_check_value("arg3", "a\tb", err, sizeof(err)), -1);
    ck_assert_int_eq(service_check_value("arg3", "a\177", err, sizeof(err)), -1);
    ck_assert_int_eq(service_check_value("arg3", "a b", err, sizeof(err)), -1);
    assert_err("blank");
    ck_assert_int_eq(service_check_value("arg3", "caf\xc3\xa9", err, sizeof(err)), -1);
    assert_err("non-ASCII");
    ck_assert_int_eq(service_check_valuen("arg4", "ab\0cd", 5, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "arg4: NUL byte not allowed");
    ck_assert_int_eq(service_check_value("arg5", "", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "arg5: empty value");
    ck_assert_int_eq(service_check_value("arg5", NULL, err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_check_value_traversal)
{
    static const char *const bad[] = { "..", "../x", "a/../b", "--load=..",
                                       "--load=../etc/passwd", "x/..", "a,..,b", "h:.." };
    static const char *const good[] = { "--layer-height=0.2", "--fill-density=20%",
                                         "/dev/ttyUSB0", "1..2", "a...", "-Dx=1.5",
                                         "--print-center=100,100", "x.y.z" };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(service_check_value("arg1", bad[i], err, sizeof(err)) == -1, "%s", bad[i]);
        ck_assert_str_eq(err, "arg1: '..' not allowed");
    }
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ck_assert_msg(service_check_value("arg1", good[i], err, sizeof(err)) == 0,
                      "%s: %s", good[i], err);
}
END_TEST

START_TEST(test_check_value_length)
{
    char v[SERVICE_VALUE_MAX + 2];

    memset(v, 'a', sizeof(v) - 1);
    v[sizeof(v) - 1] = '\0';
    ck_assert_int_eq(service_check_value("arg0", v, err, sizeof(err)), -1);
    v[SERVICE_VALUE_MAX] = '\0';
    ck_assert_int_eq(service_check_value("arg0", v, err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_check_option)
{
    const struct service *s = svc("slic3r");

    ck_assert_int_eq(service_check_option(s, "arg0", "--layer-height=0.3", err, sizeof(err)), 0);
    ck_assert_int_eq(service_check_option(s, "arg1", "--support-material", err, sizeof(err)), 0);
    ck_assert_int_eq(service_check_option(s, "arg0", "--layer-height=", err, sizeof(err)), -1);
    assert_err("empty value");
    ck_assert_int_eq(service_check_option(s, "arg2", "--post-process=/bin/sh", err, sizeof(err)), -1);
    assert_err("arg2: option '--post-process=/bin/sh' not allowed by slic3r (allowed: --layer-height=*");
    ck_assert_int_eq(service_check_option(s, "nativeArgs", "--load=x.ini", err, sizeof(err)), -1);
    assert_err("nativeArgs: ");
    ck_assert_int_eq(service_check_option(s, "arg0", "--layer-height=0.3;id", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "arg0: character ';' not allowed");
    /* '*' does not span '/' */
    ck_assert_int_eq(service_check_option(s, "arg0", "--layer-height=/etc/passwd", err, sizeof(err)), -1);
    ck_assert_int_eq(service_check_option(s, "arg0", "--support-materialX", err, sizeof(err)), -1);
    ck_assert_int_eq(service_check_option(svc("echo"), "arg0", "-r", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "arg0: service echo takes no options");
}
END_TEST

START_TEST(test_check_prearg)
{
    ck_assert_int_eq(service_check_prearg(svc("slic3r"), 0, "--load=", err, sizeof(err)), 0);
    ck_assert_int_eq(service_check_prearg(svc("slic3r"), 1, "--loadx=", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "prearg1: '--loadx=' not allowed (only '--load=')");
    ck_assert_int_eq(service_check_prearg(svc("slic3r"), 0, "; do-something-not-approved",
                                          err, sizeof(err)), -1);
    ck_assert_str_eq(err, "prearg0: character ';' not allowed");
    ck_assert_int_eq(service_check_prearg(svc("openscad"), 2, "--load=", err, sizeof(err)), -1);
    ck_assert_str_eq(err, "prearg2: service openscad takes no prearg");
}
END_TEST

START_TEST(test_check_filename)
{
    static const char *const good[] = { "cube.stl", "CUBE.STL", "W\xc3\xbcrfel 1.stl",
                                        "a.b.gcode", "x.3mf" };
    static const char *const bad[] = { "../x.stl", "a/b.stl", "a\\b.stl", ".hidden.stl",
                                       "-rf.stl", "noext", "x.", "x.toolongextn",
                                       "x.st-l", "a\nb.stl", "\xff.stl", "a\xc0\xaf.stl",
                                       "x..stl", "", "x.st l" };
    char ext[16], longname[300];

    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ck_assert_msg(service_check_filename("fileIn0", good[i], err, sizeof(err)) == 0,
                      "%s: %s", good[i], err);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(service_check_filename("fileIn3", bad[i], err, sizeof(err)) == -1,
                      "accepted '%s'", bad[i]);
        ck_assert_msg(strncmp(err, "fileIn3: ", 9) == 0, "%s", err);
    }
    memset(longname, 'a', 256);
    strcpy(longname + 252, ".stl");
    ck_assert_int_eq(service_check_filename("fileIn0", longname, err, sizeof(err)), -1);
    longname[251] = '\0';
    strcat(longname, ".stl");
    ck_assert_int_eq(service_check_filename("fileIn0", longname, err, sizeof(err)), 0);
    ck_assert_int_eq(service_input_ext("CUBE.STL", ext, sizeof(ext)), 0);
    ck_assert_str_eq(ext, "stl");
    ck_assert_int_eq(service_input_ext("cube.stl", ext, 3), -1);
    ck_assert_int_eq(service_input_ext("cube", ext, sizeof(ext)), -1);
    /* the name alone: an extension is not required */
    ck_assert_int_eq(service_check_name("fileIn0", "1361982308-83750-123456", err,
                                        sizeof(err)), 0);
    ck_assert_int_eq(service_check_name("fileIn0", "x.st l", err, sizeof(err)), 0);
    ck_assert_int_eq(service_check_name("fileIn0", "../x", err, sizeof(err)), -1);
    ck_assert_int_eq(service_check_name("fileIn0", "-x", err, sizeof(err)), -1);
    ck_assert_int_eq(service_check_name("fileIn0", "a/b", err, sizeof(err)), -1);
    ck_assert_int_eq(service_check_name("fileIn0", "", err, sizeof(err)), -1);
}
END_TEST

START_TEST(test_check_input)
{
    ck_assert_int_eq(service_check_input(svc("slic3r"), 0, "ini", 1, err, sizeof(err)), 0);
    ck_assert_int_eq(service_check_input(svc("slic3r"), 1, "stl", 0, err, sizeof(err)), 0);
    ck_assert_int_eq(service_check_input(svc("slic3r"), 0, "ini", 0, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "fileIn0: a .ini config file needs prearg0=--load=");
    ck_assert_int_eq(service_check_input(svc("slic3r"), 1, "stl", 1, err, sizeof(err)), -1);
    assert_err("prearg1: only a config file (ini, conf) takes a prearg");
    ck_assert_int_eq(service_check_input(svc("openscad"), 0, "png", 0, err, sizeof(err)), -1);
    ck_assert_str_eq(err, "fileIn0: .png not accepted by openscad (accepted: scad)");
    ck_assert_int_eq(service_check_input(svc("printrun"), 0, "stl", 0, err, sizeof(err)), -1);
}
END_TEST

/* service_sniff_ext on in-memory content (the whole file is the head). */
static int sniff(struct filetype *ft, const char *name, int prearg,
                 const void *data, size_t len, char *ext, size_t extlen)
{
    return service_sniff_ext(svc(name), ft, prearg, NULL, data, len, len,
                             ext, extlen, err, sizeof(err));
}

START_TEST(test_sniff_ext)
{
    static const char stl[] = "solid x\n facet normal 0 0 1\n outer loop\n"
        "  vertex 0 0 0\n  vertex 1 0 0\n  vertex 0 1 0\n endloop\n"
        " endfacet\nendsolid x\n";
    static const char obj[] = "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n";
    static const char png[] = "\211PNG\r\n\032\n\000\000\000\015IHDR"
        "\000\000\000\001\000\000\000\001\010\002\000\000\000\220wS\336"
        "\000\000\000\000IEND\256B`\202";
    unsigned char bin[134];
    struct filetype *ft = filetype_new(err, sizeof(err));
    char ext[16];

    ck_assert_msg(ft != NULL, "%s", err);
    memset(bin, 0, sizeof(bin));
    bin[80] = 1;                            /* one triangle: 84 + 50 bytes */
    /* the service's first accepted type the content passes */
    ck_assert_int_eq(sniff(ft, "echo", 0, "hello world", 11, ext, sizeof(ext)), 0);
    ck_assert_str_eq(ext, "txt");
    ck_assert_int_eq(sniff(ft, "echo", 0, bin, sizeof(bin), ext, sizeof(ext)), 0);
    ck_assert_str_eq(ext, "stl");
    ck_assert_int_eq(sniff(ft, "slic3r", 0, stl, sizeof(stl) - 1, ext, sizeof(ext)), 0);
    ck_assert_str_eq(ext, "stl");
    ck_assert_int_eq(sniff(ft, "slic3r", 0, obj, sizeof(obj) - 1, ext, sizeof(ext)), 0);
    ck_assert_str_eq(ext, "obj");
    ck_assert_int_eq(sniff(ft, "openscad", 0, "cube(10);\n", 10, ext, sizeof(ext)), 0);
    ck_assert_str_eq(ext, "scad");
    ck_assert_int_eq(sniff(ft, "printrun", 0, "G28\nG1 X1\n", 10, ext, sizeof(ext)), 0);
    ck_assert_str_eq(ext, "gcode");
    /* with a prearg only config types; without, never one */
    ck_assert_int_eq(sniff(ft, "slic3r", 1, "layer_height = 0.2\n", 19, ext,
                           sizeof(ext)), 0);
    ck_assert_str_eq(ext, "ini");
    ck_assert_int_eq(sniff(ft, "slic3r", 0, "layer_height = 0.2\n", 19, ext,
                           sizeof(ext)), -1);
    assert_err("fits none of the input types slic3r takes: stl, obj, amf, 3mf");
    ck_assert_msg(strstr(err, "ini") == NULL, "%s", err);
    /* nothing fits: libmagic's verdict and the list */
    ck_assert_int_eq(sniff(ft, "openscad", 0, png, sizeof(png) - 1, ext, sizeof(ext)), -1);
    ck_assert_str_eq(err, "without a file name extension, and the content "
                     "(image/png) fits none of the input types openscad takes: scad");
    ck_assert_int_eq(sniff(ft, "slic3r", 1, bin, sizeof(bin), ext, sizeof(ext)), -1);
    assert_err("takes with a prearg: ini, conf");
    ck_assert_int_eq(sniff(ft, "openscad", 1, "cube(10);\n", 10, ext, sizeof(ext)), -1);
    ck_assert_str_eq(err, "without a file name extension, and openscad takes no "
                     "input with a prearg");
    filetype_free(ft);
}
END_TEST

START_TEST(test_argv_join_quotes)
{
    char *argv[] = { (char *)"a", (char *)"", (char *)"b c", NULL };
    char *j = service_argv_join(argv);

    ck_assert_str_eq(j, "a '' 'b c'");
    free(j);
}
END_TEST

/* ---- conf loading ------------------------------------------------------ */

START_TEST(test_load_custom)
{
    struct service_registry *reg;
    const struct service *s;
    const char *inputs[] = { "in0.stl" };
    const char *options[] = { "--speed=fast", "-v" };
    struct service_task_spec spec = { "t1", 1, inputs, NULL, 2, options, "t1.out" };
    char **argv = NULL, *j;

    write_conf("tool.conf",
               "# a tool\n"
               "description: does things\n"
               "path = /opt/tool/bin:/usr/bin\n"
               "cmd = tool --fixed $confDir/x.json\n"
               "fileOut = $id.out\n"
               "output = --out $fileOut --format=txt\n"
               "inputTypes = STL\n"
               "nativeArgs = --speed=, -v\n"
               "inputFlag = --in\n"
               "timeout = 2m\nmaxOutput = 10M\nmaxMemory = 1G\nmaxCpu = 30\nmaxProcs = 50\n"
               "rerun = yes\nnice = 5\n");
    write_conf("README", "not a conf\n");
    write_conf(".hidden.conf", "garbage\n");
    write_conf("other.conf~", "garbage\n");
    reg = service_registry_load(tmpdir, err, sizeof(err));
    ck_assert_msg(reg != NULL, "%s", err);
    ck_assert_uint_eq(service_count(reg), 1);
    s = service_find(reg, "tool");
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s->description, "does things");
    ck_assert_str_eq(s->path, "/opt/tool/bin:/usr/bin");
    ck_assert_str_eq(s->input_types[0].ext, "stl");
    ck_assert_int_eq(s->timeout, 120);
    ck_assert_uint_eq(s->max_output, 10ULL << 20);
    ck_assert_int_eq(s->max_cpu, 30);
    ck_assert_int_eq(s->max_procs, 50);
    ck_assert_int_eq(s->nice, 5);
    ck_assert_int_eq(s->rerun, 1);
    ck_assert_uint_eq(s->input_min, 1);
    ck_assert_uint_eq(s->input_max, 1);
    ck_assert_int_eq(service_build_argv(s, &spec, &argv, err, sizeof(err)), 0);
    j = service_argv_join(argv);
    ck_assert_msg(strstr(j, "tool --fixed /") == j && strstr(j, "/x.json --speed=fast -v "
                  "--in in0.stl --out t1.out --format=txt") != NULL, "%s", j);
    free(j);
    /* the runner's re-check reads the same argv back (inputFlag, two
     * output words) */
    ck_assert_msg(service_check_argv(s, "t1", "in0.stl", "t1.out", argv, err,
                                     sizeof(err)) == 0, "%s", err);
    service_argv_free(argv);
    /* nativeArgs items are prefixes, but '*' never spans '/' */
    ck_assert_int_eq(service_check_option(s, "arg0", "-vv", err, sizeof(err)), 0);
    ck_assert_int_eq(service_check_option(s, "arg0", "--speed=a/b", err, sizeof(err)), -1);
    service_registry_free(reg);
}
END_TEST

static void write_log(const char *text, size_t len)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/log", tmpdir);
    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
}

/* service_log_match on tmpdir/log, the text written there first. */
static int log_match(const char *fail_log, const char *text, char *line,
                     size_t len)
{
    char path[512];

    write_log(text, strlen(text));
    snprintf(path, sizeof(path), "%s/log", tmpdir);
    return service_log_match(fail_log, path, line, len);
}

/* failLog against what printcore logs, as the shipped conf has it. */
START_TEST(test_fail_log)
{
    static const char nope[] =
        "Printing: in0.gcode on /dev/ttyUSB9 with baudrate 115200\n"
        "Progress: 00.0%\rstty: /dev/ttyUSB9: No such file or directory\n"
        "Could not connect to /dev/ttyUSB9 at baudrate 115200:\n"
        "Serial error: [Errno 2] could not open port /dev/ttyUSB9\n";
    const char *pl;
    struct service_registry *reg;
    char line[64], big[3000], path[512];

    write_conf("p.conf", GOOD "failLog = Could not connect to *, Can't read "
               "from printer*, *Printer halted*\n");
    reg = service_registry_load(tmpdir, err, sizeof(err));
    ck_assert_msg(reg != NULL, "%s", err);
    pl = service_find(reg, "p")->fail_log;
    ck_assert_ptr_nonnull(pl);
    ck_assert_int_eq(log_match(pl, nope, line, sizeof(line)), 1);
    ck_assert_str_eq(line, "Could not connect to /dev/ttyUSB9 at baudrate 115200:");
    /* a print that went through: progress lines end in CR, none matches */
    ck_assert_int_eq(log_match(pl, "Printing: in0.gcode on /dev/ttyUSB0\n"
                               "Progress: 00.0%\rProgress: 52.3%\r"
                               "Progress: 0.0%\r", line, sizeof(line)), 0);
    ck_assert_str_eq(line, "");
    /* a line ended by CR, and a last line without its newline */
    ck_assert_int_eq(log_match(pl, "Progress: 10.0%\rCan't read from "
                               "printer (disconnected?)\rProgress", line,
                               sizeof(line)), 1);
    ck_assert_str_eq(line, "Can't read from printer (disconnected?)");
    ck_assert_int_eq(log_match(pl, "ok\nError:Printer halted. kill()", line,
                               sizeof(line)), 1);
    ck_assert_str_eq(line, "Error:Printer halted. kill()");
    /* the pattern must match the whole line */
    ck_assert_int_eq(log_match(pl, "echo: Could not connect to x\n", line,
                               sizeof(line)), 0);
    /* control bytes are not copied into a reason */
    ck_assert_int_eq(log_match(pl, "Could not connect to \033[1mx\n", line,
                               sizeof(line)), 1);
    ck_assert_str_eq(line, "Could not connect to ?[1mx");
    /* a long line is matched on its first SERVICE_LOG_LINE_MAX bytes */
    memset(big, 'x', sizeof(big));
    memcpy(big, "Could not connect to ", 21);
    big[sizeof(big) - 1] = '\0';
    ck_assert_int_eq(log_match(pl, big, line, sizeof(line)), 1);
    ck_assert_uint_eq(strlen(line), sizeof(line) - 1);
    memcpy(big + SERVICE_LOG_LINE_MAX, "Printer halted", 14);
    memcpy(big, "not connected", 13);
    ck_assert_int_eq(log_match(pl, big, line, sizeof(line)), 0);
    /* no failLog: nothing to look for; no log: an error */
    ck_assert_int_eq(log_match(NULL, nope, line, sizeof(line)), 0);
    snprintf(path, sizeof(path), "%s/nolog", tmpdir);
    ck_assert_int_eq(service_log_match(pl, path, line, sizeof(line)), -1);
    service_registry_free(reg);
    remove_conf("log");
}
END_TEST

/* A slicer service without a forced --post-process cannot load: the
 * slicer would run post_process from a client's config or 3MF. */
START_TEST(test_slicer_needs_post_process)
{
    struct service_registry *reg;

    assert_load_fails("ps.conf", "cmd = prusa-slicer --export-gcode\n"
                      "inputTypes = stl, 3mf\n", "must force --post-process");
    assert_load_fails("s3.conf", "cmd = /opt/bin/Slic3r --no-gui\n"
                      "inputTypes = stl\n", "must force --post-process");
    assert_load_fails("fp.conf", "cmd = flatpak run com.prusa3d.PrusaSlicer\n"
                      "inputTypes = stl\n", "must force --post-process");
    /* "--post-process=" takes the next word: no forced value */
    assert_load_fails("ss.conf", "cmd = superslicer --post-process=\n"
                      "inputTypes = stl\n", "must force --post-process");
    /* a wrapper declared a slicer */
    assert_load_fails("w.conf", "cmd = slice-wrapper\nslicer = yes\n"
                      "inputTypes = stl\n", "must force --post-process");
    /* an options pattern a client could use to set it */
    assert_load_fails("o.conf", "cmd = prusa-slicer --post-process=/bin/true\n"
                      "inputTypes = stl\noptions = --*\n",
                      "would let a client set --post-process");
    assert_load_fails("n.conf", "cmd = slic3r --post-process=/bin/true\n"
                      "inputTypes = stl\nnativeArgs = --post\n",
                      "would let a client set --post-process");

    write_conf("ok.conf", "cmd = prusa-slicer --post-process /bin/true\n"
               "inputTypes = stl\noptions = --layer-height=*\n");
    reg = service_registry_load(tmpdir, err, sizeof(err));
    ck_assert_msg(reg != NULL, "%s", err);
    service_registry_free(reg);
    remove_conf("ok.conf");
}
END_TEST

START_TEST(test_load_errors)
{
    assert_load_fails("x.conf", "cmd = tool\ninputTypes = stl\ntimout = 5\n",
                      "x.conf: line 3: unknown key 'timout'");
    assert_load_fails("x.conf", GOOD "cmd = other\n", "x.conf: line 3: cmd given twice");
    assert_load_fails("x.conf", "inputTypes = stl\n", "x.conf: missing cmd");
    assert_load_fails("x.conf", "cmd = tool\n", "x.conf: missing inputTypes");
    assert_load_fails("x.conf", GOOD "this is not a line\n", "x.conf: line 3: ");
    assert_load_fails("Bad.conf", GOOD, "Bad.conf: service name");
    assert_load_fails("info.conf", GOOD, "info.conf: service name");
    assert_load_fails("x.conf", GOOD "argInput = --load=\n", "argInput must be one word");
    assert_load_fails("x.conf", GOOD "argInput = -j  $fileIn\n", "argInput must be one word");
    assert_load_fails("x.conf", GOOD "argInput = -j x $fileIn\n", "argInput must be one word");
    assert_load_fails("x.conf", GOOD "argInput = --load=$fileIn\n", "argInput needs a config type");
    assert_load_fails("x.conf", "cmd = tool\ninputTypes = stl, ini\n", "no argInput");
    assert_load_fails("x.conf", GOOD "output = --out\n", "output must contain $fileOut");
    assert_load_fails("x.conf", GOOD "output = -o $fileOut $HOME\n", "output must contain");
    assert_load_fails("x.conf", GOOD "fileOut = ../$id\n", "fileOut must give a plain");
    assert_load_fails("x.conf", GOOD "fileOut = $id/x\n", "fileOut must give a plain");
    assert_load_fails("x.conf", "cmd = tool $HOME\ninputTypes = stl\n", "only $confDir");
    assert_load_fails("x.conf", "cmd = bin/tool\ninputTypes = stl\n", "cmd: program");
    assert_load_fails("x.conf", GOOD "inputMin = 3\ninputMax = 2\n", "inputMin must not exceed");
    assert_load_fails("x.conf", GOOD "inputMax = 99\n", "line 3: inputMax must be a number");
    assert_load_fails("x.conf", "cmd = tool\ninputTypes = stl, exe\n", "unknown input type 'exe'");
    assert_load_fails("x.conf", GOOD "timeout = 5w\n", "line 3: bad value '5w' for timeout");
    assert_load_fails("x.conf", GOOD "rerun = sometimes\n", "bad value");
    assert_load_fails("x.conf", GOOD "nice = 20\n",
                      "line 3: nice must be a number from 0 to 19");
    assert_load_fails("x.conf", GOOD "nice = -5\n", "nice must be");
    assert_load_fails("x.conf", GOOD "path = usr/bin\n", "path: each directory");
    assert_load_fails("x.conf", GOOD "path = /usr/bin::/bin\n", "path: each directory");
    assert_load_fails("x.conf", GOOD "path = /usr/bin:\n", "path: empty directory entry");
    assert_load_fails("x.conf", GOOD "path =\n", "path: empty");
    assert_load_fails("x.conf", GOOD "optionFlag = -s x\n", "optionFlag must be one word");
    assert_load_fails("x.conf", GOOD "options = --a=*, --b c\n", "has a blank");
    assert_load_fails("x.conf", GOOD "requireOption = /dev/tty*, a b\n",
                      "line 3: requireOption pattern 'a b' has a blank");
    assert_load_fails("x.conf", GOOD "requireOption = ,\n", "needs at least one");
    assert_load_fails("x.conf", GOOD "failLog = , ,\n", "line 3: failLog needs");
    assert_load_fails("x.conf", GOOD "sandboxRead = etc\n",
                      "sandboxRead: 'etc' must be an absolute path");
    assert_load_fails("x.conf", GOOD "sandboxWrite = /srv/../etc\n",
                      "sandboxWrite: '/srv/../etc' must be an absolute path "
                      "without '..'");
    assert_load_fails("x.conf", GOOD "sandboxDevice = $HOME/tty\n",
                      "sandboxDevice: '$HOME/tty': only $confDir");
    assert_load_fails("x.conf", GOOD "sandboxNetwork = maybe\n",
                      "bad value 'maybe' for sandboxNetwork");
}
END_TEST

START_TEST(test_load_sandbox_keys)
{
    struct service_registry *reg;
    const struct service *s;
    char want[512];

    write_conf("dev.conf", GOOD "sandboxRead = $confDir/data, /opt/x\n"
               "sandboxWrite = /srv/out\nsandboxDevice = /dev/ttyUSB*\n"
               "sandboxNetwork = yes\n");
    write_conf("plain.conf", GOOD "maxOutput = 0\n");
    reg = service_registry_load(tmpdir, err, sizeof(err));
    ck_assert_msg(reg != NULL, "%s", err);
    s = service_find(reg, "dev");
    snprintf(want, sizeof(want), "%s/data", tmpdir);
    ck_assert_str_eq(s->sandbox_read[0], want);
    ck_assert_str_eq(s->sandbox_read[1], "/opt/x");
    ck_assert_ptr_null(s->sandbox_read[2]);
    ck_assert_str_eq(s->sandbox_write[0], "/srv/out");
    ck_assert_str_eq(s->sandbox_device[0], "/dev/ttyUSB*");
    ck_assert_int_eq(s->sandbox_network, 1);
    /* limits a conf does not name: 1G of output, 4G of address space,
     * niceness 10 */
    ck_assert_uint_eq(s->max_output, 1ULL << 30);
    ck_assert_uint_eq(s->max_memory, 4ULL << 30);
    ck_assert_int_eq(s->nice, 10);
    s = service_find(reg, "plain");
    ck_assert_uint_eq(s->max_output, 0);
    ck_assert_ptr_null(s->sandbox_read);
    ck_assert_int_eq(s->sandbox_network, 0);
    service_registry_free(reg);
}
END_TEST

START_TEST(test_load_dir_errors)
{
    char missing[128];

    ck_assert_ptr_null(service_registry_load(tmpdir, err, sizeof(err)));
    assert_err("no *.conf service files");
    snprintf(missing, sizeof(missing), "%s/nope", tmpdir);
    ck_assert_ptr_null(service_registry_load(missing, err, sizeof(err)));
    assert_err("nope");
    write_conf("a.conf", GOOD);
    write_conf("a.local.conf", GOOD);
    ck_assert_ptr_null(service_registry_load(tmpdir, err, sizeof(err)));
    assert_err("service 'a' is already defined");
    remove_conf("a.local.conf");
    write_conf("a-b.conf", GOOD);       /* sorts before a.conf by file name */
    {
        struct service_registry *reg = service_registry_load(tmpdir, err, sizeof(err));
        ck_assert_msg(reg != NULL, "%s", err);
        ck_assert_ptr_nonnull(service_find(reg, "a"));
        ck_assert_ptr_nonnull(service_find(reg, "a-b"));
        ck_assert_str_eq(service_at(reg, 0)->name, "a");
        service_registry_free(reg);
    }
    service_registry_free(NULL);
}
END_TEST


/* ---- the runner's re-check (service_check_argv) ------------------------- */

/* Builds argv for spec on s; the re-check of exactly that passes. */
static char **recheck_built(const struct service *s,
                            const struct service_task_spec *spec,
                            const char *inputs)
{
    char **argv = NULL;

    ck_assert_msg(service_build_argv(s, spec, &argv, err, sizeof(err)) == 0,
                  "%s", err);
    ck_assert_msg(service_check_argv(s, spec->id, inputs, spec->output, argv,
                                     err, sizeof(err)) == 0,
                  "%s: %s", s->name, err);
    return argv;
}

/* The re-check of want (words split on blanks) fails with needle. */
static void recheck_refuses(const struct service *s, const char *id,
                            const char *inputs, const char *out,
                            const char *want, const char *needle)
{
    char buf[1024], *words[64], *save = NULL;
    size_t n = 0;

    snprintf(buf, sizeof(buf), "%s", want);
    for (char *w = strtok_r(buf, " ", &save); w && n < 63;
         w = strtok_r(NULL, " ", &save))
        words[n++] = w;
    words[n] = NULL;
    ck_assert_msg(service_check_argv(s, id, inputs, out, words, err,
                                     sizeof(err)) < 0, "accepted: %s", want);
    assert_err("refused the stored command line: ");
    assert_err(needle);
}

START_TEST(test_recheck_accepts_what_was_built)
{
    const char *in2[] = { "in0.ini", "in1.stl" }, *pre[] = { "--load=", NULL };
    const char *sl_opts[] = { "--layer-height=0.3", "--fill-density=20%" };
    struct service_task_spec sl = { "1-2-3", 2, in2, pre, 2, sl_opts,
                                    "1-2-3.gcode" };
    const char *cin[] = { "in0.stl", "in1.stl" };
    const char *copts[] = { "layer_height=0.3", "adhesion_type=brim" };
    struct service_task_spec cu = { "c", 2, cin, NULL, 2, copts, "c.gcode" };
    const char *oin[] = { "in0.scad" }, *oopts[] = { "-Dsize=20" };
    struct service_task_spec os = { "o", 1, oin, NULL, 1, oopts, "o.stl" };
    const char *pin[] = { "in0.gcode" }, *popts[] = { "/dev/ttyUSB0" };
    struct service_task_spec pr = { "p", 1, pin, NULL, 1, popts, "" };

    service_argv_free(recheck_built(svc("slic3r"), &sl, "in0.ini,in1.stl"));
    service_argv_free(recheck_built(svc("prusa-slicer"), &sl,
                                    "in0.ini,in1.stl"));
    service_argv_free(recheck_built(svc("curaengine"), &cu,
                                    "in0.stl,in1.stl"));
    {   /* CuraEngine's "-j" "file": two words for each config */
        const char *jin[] = { "in0.json", "in1.json", "in2.stl" };
        const char *jpre[] = { "-j", "-j", NULL };
        struct service_task_spec cj = { "c", 3, jin, jpre, 2, copts,
                                        "c.gcode" };

        service_argv_free(recheck_built(svc("curaengine"), &cj,
                                        "in0.json,in1.json,in2.stl"));
    }
    service_argv_free(recheck_built(svc("openscad"), &os, "in0.scad"));
    os.n_options = 0;
    service_argv_free(recheck_built(svc("openscad"), &os, "in0.scad"));
    service_argv_free(recheck_built(svc("printrun"), &pr, "in0.gcode"));
}
END_TEST

START_TEST(test_recheck_refuses_changes)
{
    const struct service *e = svc("echo"), *o = svc("openscad");

    recheck_refuses(e, "t", "in0.txt", "t", "/bin/sh -c id",
                    "word 0 ('/bin/sh') is not service echo's command");
    recheck_refuses(e, "t", "in0.txt", "t", "/bin/cp in0.txt t",
                    "word 0 ('/bin/cp')");
    recheck_refuses(e, "t", "in0.txt", "t", "cp /etc/passwd t",
                    "input in0.txt is not where service echo puts it");
    recheck_refuses(e, "t", "in0.txt", "t", "cp in0.txt /tmp/t",
                    "word 2 ('/tmp/t') is not what service echo builds");
    recheck_refuses(e, "t", "/etc/passwd", "t", "cp /etc/passwd t",
                    "fileIn0: not a plain file name");
    recheck_refuses(e, "t", "in0.txt", "t", "cp -r in0.txt t",
                    "service echo takes no options");
    recheck_refuses(e, "t", "in0.txt", "t", "cp in0.txt t extra",
                    "not where");
    recheck_refuses(e, "t", "in0.txt", "t", "cp", "too few words");
    recheck_refuses(o, "o", "in0.scad", "o.stl",
                    "openscad -o/etc/cron.d/x in0.scad -oo.stl",
                    "option '-o/etc/cron.d/x' not allowed by openscad");
    recheck_refuses(o, "o", "in0.scad", "o.stl",
                    "openscad in0.scad -oother.stl", "word 2 ('-oother.stl')");
    recheck_refuses(svc("slic3r"), "s", "in0.stl", "s.gcode",
                    "slic3r --no-gui --load=in0.stl --output=s.gcode",
                    "word 2 ('--load=in0.stl') is not service slic3r's command");
    recheck_refuses(svc("slic3r"), "s", "in0.stl", "s.gcode",
                    "slic3r --no-gui --post-process=/bin/true --load=in0.stl "
                    "--output=s.gcode", "only a config file");
    recheck_refuses(svc("curaengine"), "c", "in0.stl", "c.gcode",
                    "CuraEngine slice -j x -l in0.stl -o c.gcode",
                    "word 3 ('x')");
}
END_TEST

Suite *service_suite(void)
{
    Suite *s = suite_create("service");
    TCase *shipped_tc = tcase_create("shipped");
    TCase *conf_tc = tcase_create("conf");

    tcase_add_checked_fixture(shipped_tc, shipped_setup, shipped_teardown);
    tcase_add_test(shipped_tc, test_shipped_load);
    tcase_add_test(shipped_tc, test_argv_slic3r_prearg);
    tcase_add_test(shipped_tc, test_argv_prearg_index);
    tcase_add_test(shipped_tc, test_argv_openscad);
    tcase_add_test(shipped_tc, test_argv_printrun_no_output);
    tcase_add_test(shipped_tc, test_printrun_requires_port);
    tcase_add_test(shipped_tc, test_argv_curaengine_flags);
    tcase_add_test(shipped_tc, test_argv_curaengine_json_prearg);
    tcase_add_test(shipped_tc, test_argv_echo);
    tcase_add_test(shipped_tc, test_argv_rejects_bad_spec);
    tcase_add_test(shipped_tc, test_output_name);
    tcase_add_test(shipped_tc, test_check_value_metachars);
    tcase_add_test(shipped_tc, test_check_value_traversal);
    tcase_add_test(shipped_tc, test_check_value_length);
    tcase_add_test(shipped_tc, test_check_option);
    tcase_add_test(shipped_tc, test_check_prearg);
    tcase_add_test(shipped_tc, test_check_filename);
    tcase_add_test(shipped_tc, test_check_input);
    tcase_add_test(shipped_tc, test_sniff_ext);
    tcase_add_test(shipped_tc, test_argv_join_quotes);
    tcase_add_test(shipped_tc, test_recheck_accepts_what_was_built);
    tcase_add_test(shipped_tc, test_recheck_refuses_changes);
    suite_add_tcase(s, shipped_tc);

    tcase_add_checked_fixture(conf_tc, tmp_setup, tmp_teardown);
    tcase_add_test(conf_tc, test_load_custom);
    tcase_add_test(conf_tc, test_load_errors);
    tcase_add_test(conf_tc, test_slicer_needs_post_process);
    tcase_add_test(conf_tc, test_fail_log);
    tcase_add_test(conf_tc, test_load_dir_errors);
    tcase_add_test(conf_tc, test_load_sandbox_keys);
    suite_add_tcase(s, conf_tc);
    return s;
}
