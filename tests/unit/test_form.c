/* test_form.c - unit tests for src/http/form.c. */
#include "http/form.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Suite *form_suite(void);

/* Pairs as "name=value|" with NUL bytes in values shown as "\0". */
struct pairs {
    char buf[4096];
    size_t len;
    int stop_at;    /* 1-based pair whose callback returns 1 */
    int n;
};

static int collect(void *arg, const char *name, size_t name_len,
                   const char *value, size_t value_len)
{
    struct pairs *p = arg;

    ck_assert_uint_eq(strlen(name), name_len);
    ck_assert_int_eq(value[value_len], '\0');
    ck_assert_uint_lt(p->len + name_len + 2 * value_len + 2, sizeof(p->buf));
    memcpy(p->buf + p->len, name, name_len);
    p->len += name_len;
    p->buf[p->len++] = '=';
    for (size_t i = 0; i < value_len; i++) {
        if (value[i] == '\0') {
            p->buf[p->len++] = '\\';
            p->buf[p->len++] = '0';
        } else {
            p->buf[p->len++] = value[i];
        }
    }
    p->buf[p->len++] = '|';
    p->buf[p->len] = '\0';
    return ++p->n == p->stop_at;
}

/* Parses s, returns the code; pairs and message land in *p and err. */
static int parse(const char *s, const struct form_limits *lim, struct pairs *p,
                 char *err, size_t errlen)
{
    memset(p->buf, 0, sizeof(p->buf));
    p->len = 0;
    p->n = 0;
    return form_parse(s, strlen(s), lim, collect, p, err, errlen);
}

START_TEST(test_basic)
{
    struct pairs p = { .stop_at = 0 };
    char err[256];

    ck_assert_int_eq(parse("service=slic3r&fileIn0=a+b%20c%2B%2b&x=%41%e9", NULL, &p,
                           err, sizeof(err)), FORM_OK);
    ck_assert_str_eq(p.buf, "service=slic3r|fileIn0=a b c++|x=A\xe9|");
    ck_assert_str_eq(err, "");
    ck_assert_int_eq(parse("a%3Db=c%26d=e", NULL, &p, err, sizeof(err)), FORM_OK);
    ck_assert_str_eq(p.buf, "a=b=c&d=e|");
    ck_assert_int_eq(parse("", NULL, &p, err, sizeof(err)), FORM_OK);
    ck_assert_str_eq(p.buf, "");
}
END_TEST

START_TEST(test_separators_and_empty)
{
    struct pairs p = { .stop_at = 0 };
    char err[256];

    ck_assert_int_eq(parse("a=1;b=2&c=3", NULL, &p, err, sizeof(err)), FORM_OK);
    ck_assert_str_eq(p.buf, "a=1|b=2|c=3|");
    ck_assert_int_eq(parse("&&a=&b;;=v&flag&", NULL, &p, err, sizeof(err)), FORM_OK);
    ck_assert_str_eq(p.buf, "a=|b=|=v|flag=|");
    ck_assert_int_eq(parse("v=%00x", NULL, &p, err, sizeof(err)), FORM_OK);
    ck_assert_str_eq(p.buf, "v=\\0x|");
    /* Not NUL-terminated: only len bytes count. */
    p.len = 0;
    p.n = 0;
    ck_assert_int_eq(form_parse("a=12345", 4, NULL, collect, &p, err, sizeof(err)),
                     FORM_OK);
    ck_assert_str_eq(p.buf, "a=12|");
}
END_TEST

START_TEST(test_bad_escapes)
{
    struct pairs p = { .stop_at = 0 };
    char err[256];

    ck_assert_int_eq(parse("ok=1&id=%G1", NULL, &p, err, sizeof(err)), FORM_ERR_SYNTAX);
    ck_assert_str_eq(err, "field \"id\": bad percent escape \"%G1\"");
    ck_assert_str_eq(p.buf, "ok=1|"); /* pairs before the bad one were passed */
    ck_assert_int_eq(parse("id=ab%4", NULL, &p, err, sizeof(err)), FORM_ERR_SYNTAX);
    ck_assert_str_eq(err, "field \"id\": bad percent escape \"%4\"");
    ck_assert_int_eq(parse("id=%", NULL, &p, err, sizeof(err)), FORM_ERR_SYNTAX);
    ck_assert_int_eq(parse("id=%%41", NULL, &p, err, sizeof(err)), FORM_ERR_SYNTAX);
    ck_assert_int_eq(parse("a=1&b%zz=2", NULL, &p, err, sizeof(err)), FORM_ERR_SYNTAX);
    ck_assert_str_eq(err, "field 2: bad percent escape \"%zz\" in name");
    ck_assert_int_eq(parse("a%00b=2", NULL, &p, err, sizeof(err)), FORM_ERR_SYNTAX);
    ck_assert_str_eq(err, "field 1: NUL byte in name \"a?b\"");
    /* Client bytes in messages are made printable. */
    ck_assert_int_eq(parse("a%0Ab=%x", NULL, &p, err, sizeof(err)), FORM_ERR_SYNTAX);
    ck_assert_str_eq(err, "field \"a?b\": bad percent escape \"%x\"");
    /* err may be left out. */
    ck_assert_int_eq(form_parse("a=%", 3, NULL, collect, &p, NULL, 0), FORM_ERR_SYNTAX);
}
END_TEST

START_TEST(test_limits)
{
    struct form_limits lim = { .max_fields = 2, .max_name_len = 4, .max_value_len = 5 };
    struct pairs p = { .stop_at = 0 };
    char err[256];

    ck_assert_int_eq(parse("a=1&&b=2&", &lim, &p, err, sizeof(err)), FORM_OK);
    ck_assert_int_eq(parse("a=1&b=2&c=3", &lim, &p, err, sizeof(err)), FORM_ERR_LIMIT);
    ck_assert_str_eq(err, "too many fields (limit 2)");
    ck_assert_str_eq(p.buf, "a=1|b=2|");
    /* Limits apply to decoded lengths: %41 is one byte. */
    ck_assert_int_eq(parse("name=%41%42%43%44%45", &lim, &p, err, sizeof(err)), FORM_OK);
    ck_assert_str_eq(p.buf, "name=ABCDE|");
    ck_assert_int_eq(parse("name=abcdef", &lim, &p, err, sizeof(err)), FORM_ERR_LIMIT);
    ck_assert_str_eq(err, "field \"name\": value too long (limit 5 bytes)");
    ck_assert_int_eq(parse("names=1", &lim, &p, err, sizeof(err)), FORM_ERR_LIMIT);
    ck_assert_str_eq(err, "field 1: name too long (limit 4 bytes)");
}
END_TEST

START_TEST(test_callback_stop)
{
    struct pairs p = { .stop_at = 2 };
    char err[256];

    ck_assert_int_eq(parse("a=1&b=2&c=3", NULL, &p, err, sizeof(err)), FORM_ERR_CALLBACK);
    ck_assert_str_eq(p.buf, "a=1|b=2|");
    ck_assert_str_eq(err, "field \"b\": rejected");
}
END_TEST

START_TEST(test_get)
{
    char out[8];

    ck_assert_int_eq(form_get("service=info&id=42;id=43", "id", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "42");
    ck_assert_int_eq(form_get("file%49n0=a+b", "fileIn0", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "a b");
    ck_assert_int_eq(form_get("flag&x=1", "flag", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(form_get("id=1", "i", out, sizeof(out)), -1);
    ck_assert_int_eq(form_get("i=1", "id", out, sizeof(out)), -1);
    ck_assert_int_eq(form_get("", "id", out, sizeof(out)), -1);
    ck_assert_int_eq(form_get("id=1234567", "id", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "1234567");
    ck_assert_int_eq(form_get("id=12345678", "id", out, sizeof(out)), -2);
    ck_assert_str_eq(out, "");
    ck_assert_int_eq(form_get("id=%G1", "id", out, sizeof(out)), -2);
    ck_assert_int_eq(form_get("x%G1=1&id=2", "id", out, sizeof(out)), -2);
    ck_assert_int_eq(form_get("id=a%00b", "id", out, sizeof(out)), -2);
    ck_assert_int_eq(form_get("id=2&x%G1=1", "id", out, sizeof(out)), 0);
    ck_assert_str_eq(out, "2");
}
END_TEST

START_TEST(test_url_decode)
{
    char s1[] = "a+b%2fc%2F%7e";
    char s2[] = "keep%4Gme";
    char s3[] = "nul%00";
    char s4[] = "";

    ck_assert_uint_eq(form_url_decode(s1), 7);
    ck_assert_str_eq(s1, "a b/c/~");
    ck_assert_uint_eq(form_url_decode(s2), FORM_DECODE_ERROR);
    ck_assert_str_eq(s2, "keep%4Gme");
    ck_assert_uint_eq(form_url_decode(s3), FORM_DECODE_ERROR);
    ck_assert_str_eq(s3, "nul%00");
    ck_assert_uint_eq(form_url_decode(s4), 0);
}
END_TEST

Suite *form_suite(void)
{
    Suite *s = suite_create("form");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_basic);
    tcase_add_test(tc, test_separators_and_empty);
    tcase_add_test(tc, test_bad_escapes);
    tcase_add_test(tc, test_limits);
    tcase_add_test(tc, test_callback_stop);
    tcase_add_test(tc, test_get);
    tcase_add_test(tc, test_url_decode);
    suite_add_tcase(s, tc);
    return s;
}
