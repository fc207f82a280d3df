/*
 * test_kv.c - the key = value parser of services/NAME.conf and rrcloud.conf,
 * and rrcloud.conf's checks of its values (conf.c).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/conf.h"
#include "common/kv.h"

Suite *kv_suite(void);

struct pairs {
    int n;
    char keys[16][64];
    char values[16][128];
    int lines[16];
};

static int collect(void *arg, const char *key, const char *value, int lineno,
                   char *err, size_t errlen)
{
    struct pairs *p = arg;

    ck_assert_int_lt(p->n, 16);
    snprintf(p->keys[p->n], sizeof(p->keys[0]), "%s", key);
    snprintf(p->values[p->n], sizeof(p->values[0]), "%s", value);
    p->lines[p->n] = lineno;
    p->n++;
    return 0;
}

static int refuse_bad(void *arg, const char *key, const char *value, int lineno,
                      char *err, size_t errlen)
{
    if (strcmp(key, "bad") == 0) {
        snprintf(err, errlen, "line %d: no bad keys", lineno);
        return -1;
    }
    return 0;
}

static int parse(const char *text, struct pairs *p, char *err, size_t errlen)
{
    memset(p, 0, sizeof(*p));
    return kv_parse_buf(text, strlen(text), collect, p, err, errlen);
}

START_TEST(test_both_separators_and_comments)
{
    const char *text =
        "# a comment\n"
        "\n"
        "path = /usr/bin:/bin   # trailing comment\n"
        "cmd: slic3r --no-gui\n"
        "color=#fff\n"
        "tab\t=\tvalue\t#\tcomment\n"
        "hash = a#b\r\n"
        "   indented.key-1 =   spaced value  \n"
        "empty =\n"
        "  # indented comment\n";
    struct pairs p;
    char err[256];

    ck_assert_int_eq(parse(text, &p, err, sizeof(err)), 0);
    ck_assert_int_eq(p.n, 7);
    ck_assert_str_eq(p.keys[0], "path");
    ck_assert_str_eq(p.values[0], "/usr/bin:/bin");
    ck_assert_int_eq(p.lines[0], 3);
    ck_assert_str_eq(p.keys[1], "cmd");
    ck_assert_str_eq(p.values[1], "slic3r --no-gui");
    ck_assert_str_eq(p.values[2], "#fff");      /* '#' after a blank only */
    ck_assert_str_eq(p.values[3], "value");
    ck_assert_str_eq(p.values[4], "a#b");        /* and CR stripped */
    ck_assert_str_eq(p.keys[5], "indented.key-1");
    ck_assert_str_eq(p.values[5], "spaced value");
    ck_assert_str_eq(p.keys[6], "empty");
    ck_assert_str_eq(p.values[6], "");
    ck_assert_int_eq(p.lines[6], 9);
}
END_TEST

START_TEST(test_last_line_without_newline)
{
    struct pairs p;
    char err[256];

    ck_assert_int_eq(parse("a = 1\nb = 2", &p, err, sizeof(err)), 0);
    ck_assert_int_eq(p.n, 2);
    ck_assert_str_eq(p.values[1], "2");
}
END_TEST

START_TEST(test_malformed_lines)
{
    static const char *const bad[] = {
        "ok = 1\njust words\n",
        "ok = 1\n= value\n",
        "ok = 1\nbad key = 1\n",
        "ok = 1\nkey! = 1\n",
        "ok = 1\nkey = a\001b\n",
    };
    struct pairs p;
    char err[256];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_int_eq(parse(bad[i], &p, err, sizeof(err)), -1);
        ck_assert_msg(strncmp(err, "line 2: ", 8) == 0, "case %zu: %s", i, err);
    }
}
END_TEST

START_TEST(test_nul_byte)
{
    struct pairs p;
    char err[256];

    memset(&p, 0, sizeof(p));
    ck_assert_int_eq(kv_parse_buf("a = 1\0b = 2\n", 12, collect, &p, err,
                                  sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "NUL"));
}
END_TEST

START_TEST(test_callback_error_stops)
{
    char err[256];
    const char *text = "good = 1\nbad = 2\nnever = 3\n";

    ck_assert_int_eq(kv_parse_buf(text, strlen(text), refuse_bad, NULL, err,
                                  sizeof(err)), -1);
    ck_assert_str_eq(err, "line 2: no bad keys");
}
END_TEST

START_TEST(test_parse_file)
{
    char dir[] = "/tmp/rrkv.XXXXXX", path[256], err[512];
    struct pairs p;
    FILE *f;

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/x.conf", dir);
    memset(&p, 0, sizeof(p));
    ck_assert_int_eq(kv_parse_file(path, collect, &p, err, sizeof(err)), -2);
    ck_assert_ptr_nonnull(strstr(err, path));

    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("a = 1\nb: two words\noops\n", f);
    fclose(f);
    ck_assert_int_eq(kv_parse_file(path, collect, &p, err, sizeof(err)), -1);
    ck_assert_msg(strncmp(err, path, strlen(path)) == 0 &&
                  strstr(err, ": line 3: ") != NULL, "%s", err);

    f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("a = 1\nb: two words\n", f);
    fclose(f);
    memset(&p, 0, sizeof(p));
    ck_assert_int_eq(kv_parse_file(path, collect, &p, err, sizeof(err)), 0);
    ck_assert_int_eq(p.n, 2);
    ck_assert_str_eq(p.values[1], "two words");

    /* a directory is not a regular file */
    ck_assert_int_eq(kv_parse_file(dir, collect, &p, err, sizeof(err)), -1);
    unlink(path);
    rmdir(dir);
}
END_TEST

/* Loads text as rrcloud.conf: conf_load's result, err filled. */
static int conf_text(struct rr_conf *c, const char *text, char *err,
                     size_t errlen)
{
    char path[] = "/tmp/rrconf.XXXXXX";
    int fd = mkstemp(path), rc;

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    conf_defaults(c, "/tmp");
    rc = conf_load(c, path, err, errlen);
    unlink(path);
    return rc;
}

START_TEST(test_conf_values)
{
    struct rr_conf c;
    char err[512];

    ck_assert_int_eq(conf_text(&c, "fcgi_socket_mode = 660\nmax_files = 010\n",
                               err, sizeof(err)), 0);
    ck_assert_int_eq(c.fcgi_socket_mode, 0660);     /* octal, as chmod */
    ck_assert_int_eq(c.max_files, 10);              /* decimal */
    ck_assert_int_eq(conf_text(&c, "fcgi_socket_mode = 0999\n", err,
                               sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "fcgi_socket_mode"));
    ck_assert_int_eq(conf_text(&c, "fcgi_socket_mode = 1777\n", err,
                               sizeof(err)), -1);
    ck_assert_int_eq(conf_text(&c, "max_files = 300\n", err, sizeof(err)),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "max_files is at most 256"));
    ck_assert_int_eq(conf_text(&c, "default_timeout = 99999d\n", err,
                               sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "default_timeout"));
    /* The slow-client keys: defaults, a value, and no zero. */
    ck_assert_int_eq(conf_text(&c, "body_timeout = 2m\n", err, sizeof(err)),
                     0);
    ck_assert_int_eq(c.body_timeout, 120);
    ck_assert_int_eq(c.body_threads, 8);
    ck_assert_int_eq(conf_text(&c, "body_timeout = 0\n", err, sizeof(err)),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "body_timeout"));
    ck_assert_int_eq(conf_text(&c, "body_threads = 0\n", err, sizeof(err)),
                     -1);
    ck_assert_ptr_nonnull(strstr(err, "body_threads"));
    ck_assert_int_eq(conf_text(&c, "body_threads = 1024\n", err,
                               sizeof(err)), 0);
    ck_assert_int_eq(conf_text(&c, "body_threads = 1025\n", err,
                               sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "body_threads is at most 1024"));
}
END_TEST

/* profiles_dir: as set; else beside a services_dir the file moves; else
 * the installed default. */
START_TEST(test_conf_profiles_dir)
{
    struct rr_conf c;
    char err[512], want[1100];

    ck_assert_int_eq(conf_text(&c, "services_dir = /src/rr/services/\n", err,
                               sizeof(err)), 0);
    ck_assert_str_eq(c.profiles_dir, "/src/rr/profiles");
    ck_assert_int_eq(c.profiles_dir_set, 0);
    ck_assert_int_eq(conf_text(&c, "services_dir = /services\n", err,
                               sizeof(err)), 0);
    ck_assert_str_eq(c.profiles_dir, "/profiles");
    ck_assert_int_eq(conf_text(&c, "services_dir = /a/services\n"
                               "profiles_dir = /b/printers\n", err,
                               sizeof(err)), 0);
    ck_assert_str_eq(c.profiles_dir, "/b/printers");
    ck_assert_int_eq(c.profiles_dir_set, 1);
    ck_assert_int_eq(conf_text(&c, "profiles_dir =\n", err, sizeof(err)), 0);
    ck_assert_str_eq(c.profiles_dir, "");
    ck_assert_int_eq(conf_text(&c, "max_files = 1\n", err, sizeof(err)), 0);
    snprintf(want, sizeof(want), "%s/profiles", PKGDATADIR);
    ck_assert_str_eq(c.profiles_dir, want);
}
END_TEST

#define TOK32 "0123456789abcdef0123456789abcdef"

/* A guessable secret stops start-up, naming the key and the minimum but
 * never echoing the secret. */
START_TEST(test_conf_token_min)
{
    struct rr_conf c;
    char err[512];

    ck_assert_int_eq(conf_text(&c, "admin_token = " TOK32 "\n"
                               "enroll_token = " TOK32 ", x" TOK32 "\n"
                               "octoprint_key = " TOK32 " queue=default\n"
                               "notifier_secret = " TOK32 "\n",
                               err, sizeof(err)), 0);
    ck_assert_int_eq(conf_text(&c, "admin_token = adm-short-secret\n", err,
                               sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "admin_token"));
    ck_assert_ptr_nonnull(strstr(err, "at least 32"));
    ck_assert_ptr_null(strstr(err, "adm-short-secret"));
    /* 31 characters */
    ck_assert_int_eq(conf_text(&c, "admin_token = 0123456789abcdef0123456789"
                               "abcde\n", err, sizeof(err)), -1);
    ck_assert_int_eq(conf_text(&c, "enroll_token = " TOK32 ",short\n", err,
                               sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "enroll_token: entry 2"));
    ck_assert_int_eq(conf_text(&c, "octoprint_key = " TOK32 " queue=a\n"
                               "octoprint_key = abc queue=a\n", err,
                               sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "octoprint_key: line 2"));
    ck_assert_int_eq(conf_text(&c, "notifier_secret = s3cret\n", err,
                               sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "notifier_secret"));
    /* none set is fine: the admin API is closed then */
    ck_assert_int_eq(conf_text(&c, "", err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_conf_auth_fail)
{
    struct rr_conf c;
    char err[512];

    ck_assert_int_eq(conf_text(&c, "", err, sizeof(err)), 0);
    ck_assert_int_eq(c.auth_fail_limit, 10);
    ck_assert_int_eq(c.auth_fail_window, 60);
    ck_assert_int_eq(conf_text(&c, "auth_fail_limit = 5\n"
                               "auth_fail_window = 2m\n", err, sizeof(err)),
                     0);
    ck_assert_int_eq(c.auth_fail_limit, 5);
    ck_assert_int_eq(c.auth_fail_window, 120);
    ck_assert_int_eq(conf_text(&c, "auth_fail_window = 0\n", err,
                               sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "auth_fail_window"));
    ck_assert_int_eq(conf_text(&c, "auth_fail_limit = 0\n"
                               "auth_fail_window = 0\n", err, sizeof(err)), 0);
}
END_TEST

START_TEST(test_sizes)
{
    unsigned long long v = 0;

    ck_assert_int_eq(kv_parse_size("512", &v), 0);
    ck_assert_uint_eq(v, 512);
    ck_assert_int_eq(kv_parse_size("64K", &v), 0);
    ck_assert_uint_eq(v, 65536);
    ck_assert_int_eq(kv_parse_size("64k", &v), 0);
    ck_assert_uint_eq(v, 65536);
    ck_assert_int_eq(kv_parse_size("32M", &v), 0);
    ck_assert_uint_eq(v, 32ULL << 20);
    ck_assert_int_eq(kv_parse_size("1G", &v), 0);
    ck_assert_uint_eq(v, 1ULL << 30);
    ck_assert_int_eq(kv_parse_size("2KiB", &v), 0);
    ck_assert_uint_eq(v, 2048);
    ck_assert_int_eq(kv_parse_size("2MB", &v), 0);
    ck_assert_uint_eq(v, 2ULL << 20);
    ck_assert_int_eq(kv_parse_size("0", &v), 0);
    ck_assert_uint_eq(v, 0);
    ck_assert_int_eq(kv_parse_size("", &v), -1);
    ck_assert_int_eq(kv_parse_size("-1", &v), -1);
    ck_assert_int_eq(kv_parse_size("K", &v), -1);
    ck_assert_int_eq(kv_parse_size("1X", &v), -1);
    ck_assert_int_eq(kv_parse_size("1 K", &v), -1);
    ck_assert_int_eq(kv_parse_size("1.5G", &v), -1);
    ck_assert_int_eq(kv_parse_size("99999999999999999999", &v), -1);
    ck_assert_int_eq(kv_parse_size("17179869184G", &v), -1);
    ck_assert_int_eq(kv_parse_size(NULL, &v), -1);
}
END_TEST

START_TEST(test_durations)
{
    long long v = 0;

    ck_assert_int_eq(kv_parse_duration("30", &v), 0);
    ck_assert_int_eq(v, 30);
    ck_assert_int_eq(kv_parse_duration("30s", &v), 0);
    ck_assert_int_eq(v, 30);
    ck_assert_int_eq(kv_parse_duration("5m", &v), 0);
    ck_assert_int_eq(v, 300);
    ck_assert_int_eq(kv_parse_duration("2h", &v), 0);
    ck_assert_int_eq(v, 7200);
    ck_assert_int_eq(kv_parse_duration("3d", &v), 0);
    ck_assert_int_eq(v, 3 * 86400);
    ck_assert_int_eq(kv_parse_duration("1w", &v), -1);
    ck_assert_int_eq(kv_parse_duration("-5", &v), -1);
    ck_assert_int_eq(kv_parse_duration("", &v), -1);
    ck_assert_int_eq(kv_parse_duration("5 m", &v), -1);
    ck_assert_int_eq(kv_parse_duration("5mm", &v), -1);
    ck_assert_int_eq(kv_parse_duration("9999999999999999999d", &v), -1);
}
END_TEST

START_TEST(test_bools)
{
    int v = -1;

    ck_assert_int_eq(kv_parse_bool("yes", &v), 0);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(kv_parse_bool("No", &v), 0);
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(kv_parse_bool("TRUE", &v), 0);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(kv_parse_bool("off", &v), 0);
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(kv_parse_bool("1", &v), 0);
    ck_assert_int_eq(v, 1);
    ck_assert_int_eq(kv_parse_bool("0", &v), 0);
    ck_assert_int_eq(v, 0);
    ck_assert_int_eq(kv_parse_bool("maybe", &v), -1);
    ck_assert_int_eq(kv_parse_bool("", &v), -1);
    ck_assert_int_eq(kv_parse_bool("yes ", &v), -1);
}
END_TEST

Suite *kv_suite(void)
{
    Suite *s = suite_create("kv");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_both_separators_and_comments);
    tcase_add_test(tc, test_conf_token_min);
    tcase_add_test(tc, test_conf_auth_fail);
    tcase_add_test(tc, test_last_line_without_newline);
    tcase_add_test(tc, test_malformed_lines);
    tcase_add_test(tc, test_nul_byte);
    tcase_add_test(tc, test_callback_error_stops);
    tcase_add_test(tc, test_parse_file);
    tcase_add_test(tc, test_sizes);
    tcase_add_test(tc, test_conf_values);
    tcase_add_test(tc, test_conf_profiles_dir);
    tcase_add_test(tc, test_durations);
    tcase_add_test(tc, test_bools);
    suite_add_tcase(s, tc);
    return s;
}
