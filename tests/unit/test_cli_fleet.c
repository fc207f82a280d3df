/*
 * test_cli_fleet.c - unit tests for the pure parts of rrcloud's fleet
 * commands: the words after print/printers/printer/queues/jobs/job, the
 * token checks (option and rrcloudrc), table cells, ages, tables and the
 * line about an attempt.  Its cases join the cli_rc suite
 * (cli_fleet_add_tcases, called from test_cli_rc.c).
 */
#include "cli/cli.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_fleet_add_tcases(Suite *s);

/* argv arrays are char **: WORDS() copies literals into one, freed by
 * the teardown. */
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

static void teardown(void)
{
    for (size_t i = 0; i < npool; i++) {
        for (char **w = pool[i]; *w; w++)
            free(*w);
        free(pool[i]);
    }
    npool = 0;
}

#define WORDS(...) words((const char *const[]){ __VA_ARGS__, NULL })
#define NWORDS(...) \
    ((int)(sizeof((const char *[]){ __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(cmd, a, err, ...) \
    cli_fargs_parse((cmd), NWORDS(__VA_ARGS__), WORDS(__VA_ARGS__), (a), \
                    (err), sizeof(err))

START_TEST(fargs_print_options)
{
    struct cli_fargs a;
    char err[256];

    ck_assert_int_eq(PARSE("print", &a, err, "part.gcode", "--queue=farm",
                           "--copies", "3", "--material=pla",
                           "--color=black", "--priority", "-5",
                           "--printer=7", "--profile=mk3s", "--async",
                           "--json", "--timeout=2h", "--token=t0k"), 0);
    ck_assert_int_eq(a.nwords, 1);
    ck_assert_str_eq(a.words[0], "part.gcode");
    ck_assert_str_eq(a.queue, "farm");
    ck_assert_str_eq(a.copies, "3");
    ck_assert_str_eq(a.material, "pla");
    ck_assert_str_eq(a.colour, "black");
    ck_assert_str_eq(a.priority, "-5");
    ck_assert_str_eq(a.printer, "7");
    ck_assert_str_eq(a.profile, "mk3s");
    ck_assert_str_eq(a.token, "t0k");
    ck_assert_int_eq(a.async, 1);
    ck_assert_int_eq(a.json, 1);
    ck_assert_int_eq(a.timeout, 7200);
    cli_fargs_free(&a);

    /* the file may come last; "--" ends the options */
    ck_assert_int_eq(PARSE("print", &a, err, "--queue", "q.1#a+b", "--",
                           "--odd-name.gcode"), 0);
    ck_assert_str_eq(a.queue, "q.1#a+b");
    ck_assert_int_eq(a.nwords, 1);
    ck_assert_str_eq(a.words[0], "--odd-name.gcode");
    ck_assert_int_eq(a.timeout, -1);
    ck_assert_ptr_null(a.copies);
    cli_fargs_free(&a);
}
END_TEST

/* --override NAME=VALUE, repeatable: the field override.NAME each. */
START_TEST(fargs_print_overrides)
{
    struct cli_fargs a;
    char err[256];

    ck_assert_int_eq(PARSE("print", &a, err, "cube.scad", "--override",
                           "layer_height=0.15", "--override=supports=yes",
                           "--override=fill_pattern=a=b"), 0);
    ck_assert_int_eq(a.nwords, 1);
    ck_assert_int_eq(a.npairs, 3);
    ck_assert_str_eq(a.pair_names[0], "override.layer_height");
    ck_assert_str_eq(a.pair_values[0], "0.15");
    ck_assert_str_eq(a.pair_names[1], "override.supports");
    ck_assert_str_eq(a.pair_values[1], "yes");
    ck_assert_str_eq(a.pair_names[2], "override.fill_pattern");
    ck_assert_str_eq(a.pair_values[2], "a=b");
    cli_fargs_free(&a);
    ck_assert_int_eq(a.npairs, 0);

    ck_assert_int_eq(PARSE("print", &a, err, "x.stl", "--override=brim"),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "bad --override 'brim' (NAME=VALUE"));
    ck_assert_int_eq(PARSE("print", &a, err, "x.stl", "--override=Brim=3"),
                     -1);
    ck_assert_int_eq(PARSE("print", &a, err, "x.stl", "--override==3"), -1);
    ck_assert_int_eq(PARSE("print", &a, err, "x.stl", "--override=a=\t"),
                     -1);
    ck_assert_int_eq(PARSE("print", &a, err, "x.stl", "--override=brim=1",
                           "--override=brim=2"), -1);
    ck_assert_str_eq(err, "--override brim given twice");
    ck_assert_int_eq(PARSE("jobs", &a, err, "--override=brim=1"), -1);
    /* --define: an OpenSCAD variable, the field define.NAME */
    ck_assert_int_eq(PARSE("print", &a, err, "box.scad", "--define",
                           "Size=30", "--override=brim=3",
                           "--define=wall=1.2"), 0);
    ck_assert_int_eq(a.npairs, 3);
    ck_assert_str_eq(a.pair_names[0], "define.Size");
    ck_assert_str_eq(a.pair_values[0], "30");
    ck_assert_str_eq(a.pair_names[1], "override.brim");
    ck_assert_str_eq(a.pair_names[2], "define.wall");
    cli_fargs_free(&a);
    ck_assert_int_eq(PARSE("print", &a, err, "x.scad", "--define=2x=1"), -1);
    ck_assert_ptr_nonnull(strstr(err, "bad --define '2x=1'"));
    ck_assert_int_eq(PARSE("print", &a, err, "x.scad", "--define=w=1",
                           "--define=w=2"), -1);
    ck_assert_str_eq(err, "--define w given twice");
    /* one name may be an override and a define */
    ck_assert_int_eq(PARSE("print", &a, err, "x.scad", "--define=brim=1",
                           "--override=brim=2"), 0);
    cli_fargs_free(&a);
    /* a model's profiles: a comma list */
    ck_assert_int_eq(PARSE("print", &a, err, "x.stl",
                           "--profile=mk3s,voron24-0.4"), 0);
    ck_assert_str_eq(a.profile, "mk3s,voron24-0.4");
    cli_fargs_free(&a);
    ck_assert_int_eq(PARSE("print", &a, err, "x.stl", "--profile=mk3s,"),
                     -1);
}
END_TEST

START_TEST(fargs_refusals)
{
    struct cli_fargs a;
    char err[256];

    ck_assert_int_eq(PARSE("print", &a, err, "x.gcode", "--copies=0"), -1);
    ck_assert_ptr_nonnull(strstr(err, "--copies"));
    ck_assert_int_eq(PARSE("print", &a, err, "x.gcode", "--copies=2x"), -1);
    ck_assert_int_eq(PARSE("print", &a, err, "x.gcode", "--priority=1001"),
                     -1);
    ck_assert_int_eq(PARSE("print", &a, err, "x.gcode", "--printer=-1"), -1);
    ck_assert_int_eq(PARSE("print", &a, err, "x.gcode", "--queue=a b"), -1);
    ck_assert_ptr_nonnull(strstr(err, "bad --queue"));
    ck_assert_int_eq(PARSE("print", &a, err, "x.gcode", "--queue"), -1);
    ck_assert_ptr_nonnull(strstr(err, "needs a value"));
    ck_assert_int_eq(PARSE("print", &a, err, "x.gcode", "--async=1"), -1);
    ck_assert_int_eq(PARSE("print", &a, err, "x.gcode", "-q"), -1);
    ck_assert_int_eq(PARSE("print", &a, err, "x.gcode", "--reason=x"), -1);
    ck_assert_ptr_nonnull(strstr(err, "print takes no option '--reason'"));
    ck_assert_int_eq(PARSE("printers", &a, err, "--copies=2"), -1);
    ck_assert_int_eq(PARSE("queues", &a, err, "--queue=farm"), -1);
    ck_assert_int_eq(PARSE("job", &a, err, "--state=queued"), -1);
    ck_assert_int_eq(PARSE("frobnicate", &a, err, "x"), -1);
    /* a bad token is never echoed */
    ck_assert_int_eq(PARSE("printers", &a, err, "--token=se cret"), -1);
    ck_assert_ptr_null(strstr(err, "cret"));
    ck_assert_int_eq(PARSE("printers", &a, err, "--token=a\nb"), -1);
}
END_TEST

START_TEST(fargs_admin_commands)
{
    struct cli_fargs a;
    char err[256];

    ck_assert_int_eq(PARSE("printer", &a, err, "3", "maintenance", "on",
                           "--reason", "new nozzle"), 0);
    ck_assert_int_eq(a.nwords, 3);
    ck_assert_str_eq(a.words[2], "on");
    ck_assert_str_eq(a.reason, "new nozzle");
    cli_fargs_free(&a);
    ck_assert_int_eq(PARSE("printers", &a, err, "--json", "--state",
                           "needs_clearing", "--queue=farm"), 0);
    ck_assert_int_eq(a.nwords, 0);
    ck_assert_int_eq(a.json, 1);
    ck_assert_str_eq(a.state, "needs_clearing");
    cli_fargs_free(&a);
    ck_assert_int_eq(PARSE("printer", &a, err, "3", "maintenance", "on",
                           "--reason=a\tb"), -1);
    ck_assert(cli_fargs_command("print"));
    ck_assert(cli_fargs_command("jobs"));
    ck_assert(!cli_fargs_command("info"));
    ck_assert(!cli_fargs_command("slic3r"));
    ck_assert(cli_fargs_name_valid("pla+"));
    ck_assert(!cli_fargs_name_valid(""));
    ck_assert(!cli_fargs_name_valid("../x"));
}
END_TEST

START_TEST(token_option_and_rc)
{
    struct cli_opts o;
    struct cli_rc rc;
    char err[256];

    ck_assert(cli_args_token_valid("rrp_0123abc"));
    ck_assert(!cli_args_token_valid(""));
    ck_assert(!cli_args_token_valid("a b"));
    ck_assert(!cli_args_token_valid("a\r\nX-Evil: 1"));
    ck_assert_int_eq(cli_args_parse(3, WORDS("rrcloud", "--token=adm",
                                             "printers"), &o, err,
                                    sizeof(err)), 0);
    ck_assert_str_eq(o.token, "adm");
    ck_assert_str_eq(o.command, "printers");
    ck_assert_int_eq(cli_args_parse(3, WORDS("rrcloud", "--token=x y",
                                             "printers"), &o, err,
                                    sizeof(err)), -1);
    ck_assert_ptr_null(strstr(err, "x y"));
    cli_rc_init(&rc);
    ck_assert_ptr_null(rc.token);
    ck_assert_int_eq(cli_rc_set(&rc, "token", "adm-1", err, sizeof(err)), 0);
    ck_assert_str_eq(rc.token, "adm-1");
    ck_assert_int_eq(cli_rc_set(&rc, "token", "adm 2", err, sizeof(err)),
                     -1);
    ck_assert_str_eq(rc.token, "adm-1");
    ck_assert_int_eq(cli_rc_set(&rc, "print.servers", "farm:80", err,
                                sizeof(err)), 0);
    ck_assert_str_eq(cli_rc_servers(&rc, "print"), "farm:80");
    cli_rc_free(&rc);
}
END_TEST

START_TEST(cells_and_ages)
{
    json_t *o = json_pack("{sssisfsbsnsss[ss]s[]}", "s", "pla", "i", 42,
                          "f", 1.5, "b", 1, "n", "ctl", "a\x1b[2Jb\tc",
                          "arr", "farm", "spare", "none");
    char buf[64];

    ck_assert_ptr_nonnull(o);
    cli_out_cell(json_object_get(o, "s"), buf, sizeof(buf));
    ck_assert_str_eq(buf, "pla");
    cli_out_cell(json_object_get(o, "i"), buf, sizeof(buf));
    ck_assert_str_eq(buf, "42");
    cli_out_cell(json_object_get(o, "f"), buf, sizeof(buf));
    ck_assert_str_eq(buf, "1.5");
    cli_out_cell(json_object_get(o, "b"), buf, sizeof(buf));
    ck_assert_str_eq(buf, "yes");
    cli_out_cell(json_object_get(o, "n"), buf, sizeof(buf));
    ck_assert_str_eq(buf, "-");
    cli_out_cell(json_object_get(o, "missing"), buf, sizeof(buf));
    ck_assert_str_eq(buf, "-");
    cli_out_cell(json_object_get(o, "none"), buf, sizeof(buf));
    ck_assert_str_eq(buf, "-");
    cli_out_cell(json_object_get(o, "arr"), buf, sizeof(buf));
    ck_assert_str_eq(buf, "farm,spare");
    cli_out_cell(json_object_get(o, "ctl"), buf, sizeof(buf));
    ck_assert_str_eq(buf, "a?[2Jb c");
    cli_out_cell(json_object_get(o, "arr"), buf, 6);
    ck_assert_str_eq(buf, "farm,");
    json_decref(o);

    cli_out_age(0, 1000, buf, sizeof(buf));
    ck_assert_str_eq(buf, "never");
    cli_out_age(990, 1000, buf, sizeof(buf));
    ck_assert_str_eq(buf, "10s ago");
    cli_out_age(1005, 1000, buf, sizeof(buf));
    ck_assert_str_eq(buf, "0s ago");
    cli_out_age(1000, 1000 + 600, buf, sizeof(buf));
    ck_assert_str_eq(buf, "10m ago");
    cli_out_age(1000, 1000 + 3 * 3600, buf, sizeof(buf));
    ck_assert_str_eq(buf, "3h ago");
    cli_out_age(1000, 1000 + 5 * 86400, buf, sizeof(buf));
    ck_assert_str_eq(buf, "5d ago");
}
END_TEST

START_TEST(live_cells)
{
    char buf[64];
    json_t *p = json_pack("{sfsfs{sfsf}s{sfsf}}", "progress", 0.423,
                          "time_left", 750.0, "extruder", "temperature",
                          214.5, "target", 215.0, "bed", "temperature", 59.5,
                          "target", 0.0);
    json_t *none = json_pack("{snsnsn}", "progress", "time_left",
                             "extruder");

    ck_assert_ptr_nonnull(p);
    cli_fleet_live_cell(p, "progress", buf, sizeof(buf));
    ck_assert_str_eq(buf, "42.3%");
    cli_fleet_live_cell(p, "time_left", buf, sizeof(buf));
    ck_assert_str_eq(buf, "12m 30s");
    cli_fleet_live_cell(p, "extruder", buf, sizeof(buf));
    ck_assert_str_eq(buf, "214.5/215");
    cli_fleet_live_cell(p, "bed", buf, sizeof(buf));
    ck_assert_str_eq(buf, "59.5/0");
    cli_fleet_live_cell(none, "progress", buf, sizeof(buf));
    ck_assert_str_eq(buf, "-");
    cli_fleet_live_cell(none, "extruder", buf, sizeof(buf));
    ck_assert_str_eq(buf, "-");
    cli_fleet_live_cell(none, "bed", buf, sizeof(buf));
    ck_assert_str_eq(buf, "-");
    cli_out_duration(45, buf, sizeof(buf));
    ck_assert_str_eq(buf, "45s");
    cli_out_duration(3 * 3600 + 5 * 60 + 9, buf, sizeof(buf));
    ck_assert_str_eq(buf, "3h 05m");
    cli_out_duration(2 * 86400 + 4 * 3600, buf, sizeof(buf));
    ck_assert_str_eq(buf, "2d 4h");
    cli_out_duration(-3, buf, sizeof(buf));
    ck_assert_str_eq(buf, "0s");
    json_decref(p);
    json_decref(none);
}
END_TEST

START_TEST(table_layout)
{
    static const char *const head[] = { "ID", "NAME", "NOTE" };
    struct cli_table t;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);

    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(cli_table_init(&t, 3, head), 0);
    ck_assert_int_eq(cli_table_add(&t, (const char *[]){ "1", "säge", "x" }),
                     0);
    ck_assert_int_eq(cli_table_add(&t, (const char *[]){ "12", "a\nb", "" }),
                     0);
    ck_assert_int_eq(cli_table_add(&t, (const char *[]){ "3", "\x1b", NULL }),
                     0);
    cli_table_print(f, &t);
    fclose(f);
    /* widths count characters, not bytes; no trailing blanks */
    ck_assert_str_eq(out, "ID  NAME  NOTE\n"
                          "1   säge  x\n"
                          "12  a b\n"
                          "3   ?\n");
    free(out);
    cli_table_free(&t);
}
END_TEST

START_TEST(attempt_lines)
{
    json_t *a = json_pack("{sisisiss}", "id", 9, "copy", 1, "printer", 3,
                          "state", "printing");
    char line[256];

    ck_assert_ptr_nonnull(a);
    cli_print_attempt_line(a, line, sizeof(line));
    ck_assert_str_eq(line, "copy 1 on printer 3: printing");
    json_object_set_new(a, "state", json_string("failed"));
    json_object_set_new(a, "reason", json_string("klippy\nshutdown"));
    cli_print_attempt_line(a, line, sizeof(line));
    ck_assert_str_eq(line, "copy 1 on printer 3: failed (klippy shutdown)");
    json_object_set_new(a, "state", json_string("lost"));
    json_object_set_new(a, "reason", json_null());
    cli_print_attempt_line(a, line, sizeof(line));
    ck_assert_str_eq(line, "copy 1 on printer 3: lost; the copy goes back "
                           "in the queue");
    json_decref(a);
}
END_TEST

/* spool and site: their words, --material/--colour for spool only. */
START_TEST(fargs_spool_and_site)
{
    struct cli_fargs a;
    char err[256];

    ck_assert_int_eq(PARSE("spool", &a, err, "3", "750", "--material=pla",
                           "--colour", "red"), 0);
    ck_assert_int_eq(a.nwords, 2);
    ck_assert_str_eq(a.words[1], "750");
    ck_assert_str_eq(a.material, "pla");
    ck_assert_str_eq(a.colour, "red");
    cli_fargs_free(&a);
    ck_assert_int_eq(PARSE("site", &a, err, "lab", "Mon-Fri", "08:00-18:00,",
                           "Sat", "09:00-13:00"), 0);
    ck_assert_int_eq(a.nwords, 5);
    ck_assert_str_eq(a.words[2], "08:00-18:00,");
    cli_fargs_free(&a);
    ck_assert_int_eq(PARSE("sites", &a, err, "--json"), 0);
    cli_fargs_free(&a);
    ck_assert_int_eq(PARSE("spool", &a, err, "3", "--queue=farm"), -1);
    ck_assert_int_eq(PARSE("site", &a, err, "lab", "--material=pla"), -1);
    ck_assert_int_eq(PARSE("spool", &a, err, "3", "--material=p l a"), -1);
}
END_TEST

void cli_fleet_add_tcases(Suite *s)
{
    TCase *tc = tcase_create("fleet");

    tcase_add_checked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, fargs_print_options);
    tcase_add_test(tc, fargs_refusals);
    tcase_add_test(tc, fargs_print_overrides);
    tcase_add_test(tc, fargs_admin_commands);
    tcase_add_test(tc, fargs_spool_and_site);
    tcase_add_test(tc, token_option_and_rc);
    tcase_add_test(tc, cells_and_ages);
    tcase_add_test(tc, table_layout);
    tcase_add_test(tc, live_cells);
    tcase_add_test(tc, attempt_lines);
    suite_add_tcase(s, tc);
}
