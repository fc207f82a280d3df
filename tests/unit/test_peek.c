/* test_peek.c - judging a FastCGI connection from the bytes waiting in it. */
#include "fcgi/peek.h"

#include <check.h>
#include <string.h>

#include "suites.h"

#define CAP (PEEK_READY_BYTES + 32 * 1024)

static unsigned char buf[4 * CAP];
static size_t len;

/* Appends a record of type with clen content bytes (of which only have
 * are appended: the rest has not arrived) and pad bytes of padding. */
static void rec(int type, size_t clen, size_t have, int pad)
{
    unsigned char *p = buf + len;

    p[0] = 1;
    p[1] = (unsigned char)type;
    p[2] = 0;
    p[3] = 1;
    p[4] = (unsigned char)(clen >> 8);
    p[5] = (unsigned char)(clen & 255);
    p[6] = (unsigned char)pad;
    p[7] = 0;
    memset(p + 8, 'x', have);
    len += 8 + have;
    if (have == clen) {
        memset(buf + len, 0, (size_t)pad);
        len += (size_t)pad;
    }
}

/* A request as nginx sends it: BEGIN, parameters, their end; HEAD_LEN
 * bytes. */
#define HEAD_LEN (16 + 8 + 900 + 4 + 8)
static void head(void)
{
    len = 0;
    rec(1, 8, 8, 0);
    rec(4, 900, 900, 4);
    rec(4, 0, 0, 0);
}

static enum peek_state judge(size_t *params_end)
{
    *params_end = 0;
    return peek_classify(buf, len, CAP, params_end);
}

/* A GET: parameters and an empty body are there: whole. */
START_TEST(test_bodiless_complete)
{
    size_t pd;

    head();
    rec(5, 0, 0, 0);
    ck_assert_int_eq(judge(&pd), PEEK_COMPLETE);
    ck_assert_uint_eq(pd, HEAD_LEN);
}
END_TEST

/* Parameters cut short: wait, and they are not done. */
START_TEST(test_params_partial)
{
    size_t pd;

    len = 0;
    rec(1, 8, 8, 0);
    rec(4, 900, 300, 4);
    ck_assert_int_eq(judge(&pd), PEEK_WAIT);
    ck_assert_uint_eq(pd, 0);
    len = 5;    /* not even a record header */
    ck_assert_int_eq(judge(&pd), PEEK_WAIT);
}
END_TEST

/* A small body with its end: whole; without its end, and below the
 * threshold: still waiting (a trickle). */
START_TEST(test_small_body)
{
    size_t pd;

    head();
    rec(5, 1000, 1000, 0);
    ck_assert_int_eq(judge(&pd), PEEK_WAIT);
    ck_assert_uint_eq(pd, HEAD_LEN);
    rec(5, 0, 0, 0);
    ck_assert_int_eq(judge(&pd), PEEK_COMPLETE);
}
END_TEST

/* PEEK_READY_BYTES of body in several records: flowing. */
START_TEST(test_flowing)
{
    size_t pd;

    head();
    for (int i = 0; i < 3; i++)
        rec(5, 10000, 10000, 0);
    ck_assert_int_eq(judge(&pd), PEEK_WAIT);
    rec(5, 3000, 3000, 0);
    ck_assert_int_eq(judge(&pd), PEEK_FLOWING);
}
END_TEST

/* A record announced at 64 KiB of which one byte came counts one byte. */
START_TEST(test_announced_not_arrived)
{
    size_t pd;

    head();
    rec(5, 65535, 1, 1);
    ck_assert_int_eq(judge(&pd), PEEK_WAIT);
}
END_TEST

/* A full peek buffer without the parameters' end goes to libfcgi (under
 * the body deadline). */
START_TEST(test_params_past_cap)
{
    size_t pd;

    len = 0;
    rec(1, 8, 8, 0);
    rec(4, 65535, 65535, 0);
    rec(4, 65535, 65535, 0);
    len = CAP;
    ck_assert_int_eq(judge(&pd), PEEK_FLOWING);
    ck_assert_uint_eq(pd, 0);
}
END_TEST

/* Sets the request id of the record at offset at. */
static void set_id(size_t at, unsigned id)
{
    buf[at + 2] = (unsigned char)(id >> 8);
    buf[at + 3] = (unsigned char)(id & 255);
}

/* Anything but one request's BEGIN, PARAMS and STDIN in that order is
 * bad: libfcgi would wait on it for a request that never comes. */
START_TEST(test_bad)
{
    size_t pd;

    len = 0;
    rec(9, 10, 10, 0);      /* FCGI_GET_VALUES, but of request id 1 */
    ck_assert_int_eq(judge(&pd), PEEK_BAD);
    len = 0;
    rec(4, 0, 0, 0);        /* the parameters' end without a BEGIN */
    ck_assert_int_eq(judge(&pd), PEEK_BAD);
    ck_assert_uint_eq(pd, 0);
    head();
    buf[0] = 2;             /* another protocol version */
    ck_assert_int_eq(judge(&pd), PEEK_BAD);
    len = 0;
    rec(1, 8, 8, 0);
    rec(5, 10, 10, 0);      /* a body before the parameters' end */
    ck_assert_int_eq(judge(&pd), PEEK_BAD);
    /* the parameters' end of another request id */
    len = 0;
    rec(1, 8, 8, 0);
    rec(4, 100, 100, 0);
    rec(4, 0, 0, 0);
    set_id(len - 8, 2);
    ck_assert_int_eq(judge(&pd), PEEK_BAD);
    ck_assert_uint_eq(pd, 0);
    /* the body's end of another request id */
    head();
    rec(5, 0, 0, 0);
    set_id(len - 8, 2);
    ck_assert_int_eq(judge(&pd), PEEK_BAD);
    /* an ABORT_REQUEST, a PARAMS after the body began */
    head();
    rec(2, 0, 0, 0);
    ck_assert_int_eq(judge(&pd), PEEK_BAD);
    head();
    rec(5, 10, 10, 6);
    rec(4, 0, 0, 0);
    ck_assert_int_eq(judge(&pd), PEEK_BAD);
}
END_TEST

/* A management record first (FCGI_GET_VALUES, request id 0) is bad
 * too, whatever its type: libfcgi would read it and wait. */
START_TEST(test_management_first)
{
    size_t pd;

    len = 0;
    rec(9, 10, 10, 0);
    set_id(0, 0);
    ck_assert_int_eq(judge(&pd), PEEK_BAD);
    len = 0;
    rec(1, 8, 8, 0);
    set_id(0, 0);
    rec(4, 0, 0, 0);
    ck_assert_int_eq(judge(&pd), PEEK_BAD);
    ck_assert_uint_eq(pd, 0);
}
END_TEST

/* A parameters' end known from an earlier peek of the same bytes is
 * kept, and the parameters before it are still parameters. */
START_TEST(test_params_end_kept)
{
    size_t pd = 0;

    head();
    ck_assert_int_eq(peek_classify(buf, len, CAP, &pd), PEEK_WAIT);
    ck_assert_uint_eq(pd, HEAD_LEN);
    rec(5, 10, 10, 0);
    ck_assert_int_eq(peek_classify(buf, len, CAP, &pd), PEEK_WAIT);
    ck_assert_uint_eq(pd, HEAD_LEN);
    rec(5, 0, 0, 0);
    ck_assert_int_eq(peek_classify(buf, len, CAP, &pd), PEEK_COMPLETE);
}
END_TEST

/* The end of the parameters is reported past the padding of their empty
 * record: the body starts there. */
START_TEST(test_params_end_padded)
{
    size_t pd;

    len = 0;
    rec(1, 8, 8, 0);
    rec(4, 0, 0, 8);
    ck_assert_int_eq(judge(&pd), PEEK_WAIT);
    ck_assert_uint_eq(pd, 16 + 8 + 8);
}
END_TEST

Suite *peek_suite(void)
{
    Suite *s = suite_create("peek");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_bodiless_complete);
    tcase_add_test(tc, test_params_partial);
    tcase_add_test(tc, test_small_body);
    tcase_add_test(tc, test_flowing);
    tcase_add_test(tc, test_announced_not_arrived);
    tcase_add_test(tc, test_params_past_cap);
    tcase_add_test(tc, test_bad);
    tcase_add_test(tc, test_params_end_kept);
    tcase_add_test(tc, test_management_first);
    tcase_add_test(tc, test_params_end_padded);
    suite_add_tcase(s, tc);
    return s;
}
