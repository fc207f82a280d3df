/*
 * test_reply.c - the task record as RepRapCloud's client reads it: status
 * words of the key: value format, the state line, and the id shapes that
 * are an unknown task (404) rather than a malformed one (400).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/util.h"
#include "http/reply.h"
#include "store/store.h"
#include "suites.h"

static void task_init(struct task *t, enum task_status st)
{
    memset(t, 0, sizeof(*t));
    strcpy(t->id, "1796160000-12345-678901");
    strcpy(t->service, "echo");
    strcpy(t->client, "127.0.0.1");
    strcpy(t->out_name, "1796160000-12345-678901");
    t->status = st;
    t->ctime = 1796160000.5;
    t->size_out = -1;
    t->exit_code = -1;
}

/* The record of t in fmt with flags, NUL-terminated in b. */
static const char *record(struct buf *b, enum reply_fmt fmt,
                          const struct task *t, unsigned flags)
{
    buf_reset(b);
    ck_assert_int_eq(reply_task(b, fmt, t, "srv", flags), 0);
    ck_assert_int_eq(buf_putc(b, '\0'), 0);
    return b->data;
}

START_TEST(test_text_status_words)
{
    static const struct {
        enum task_status st;
        const char *text;
    } want[] = {
        { TASK_QUEUED, "busy" },       { TASK_BUSY, "busy" },
        { TASK_COMPLETE, "complete" }, { TASK_FAILED, "failed" },
        { TASK_CANCELLED, "failed" },
    };

    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        ck_assert_str_eq(reply_text_status(want[i].st, 0), want[i].text);
        ck_assert_str_eq(reply_text_status(want[i].st, REPLY_SUBMITTED), "busy");
    }
}
END_TEST

START_TEST(test_text_record)
{
    struct buf b;
    struct task t;
    const char *s;

    buf_init(&b, 64 * 1024);
    task_init(&t, TASK_CANCELLED);
    s = record(&b, REPLY_TEXT, &t, 0);
    /* sorted keys: state between sizeOut and status */
    ck_assert_msg(strstr(s, "\nstate: cancelled\nstatus: failed\n") != NULL, "%s", s);
    task_init(&t, TASK_COMPLETE);
    s = record(&b, REPLY_TEXT, &t, REPLY_SUBMITTED);
    ck_assert_msg(strstr(s, "\nstate: complete\nstatus: busy\n") != NULL, "%s", s);
    task_init(&t, TASK_QUEUED);
    s = record(&b, REPLY_TEXT, &t, 0);
    ck_assert_msg(strstr(s, "\nstate: queued\nstatus: busy\n") != NULL, "%s", s);
    /* a list item is a record, not a submission answer */
    task_init(&t, TASK_COMPLETE);
    buf_reset(&b);
    ck_assert_int_eq(reply_list_item(&b, REPLY_TEXT, &t, "srv", 0), 0);
    ck_assert_int_eq(buf_putc(&b, '\0'), 0);
    ck_assert_msg(strstr(b.data, "\nstatus: complete\n") != NULL, "%s", b.data);
    buf_free(&b);
}
END_TEST

START_TEST(test_json_html_true_state)
{
    struct buf b;
    struct task t;
    const char *s;

    buf_init(&b, 64 * 1024);
    task_init(&t, TASK_CANCELLED);
    s = record(&b, REPLY_JSON, &t, REPLY_SUBMITTED);
    ck_assert_msg(strstr(s, "\"status\": \"cancelled\"") != NULL, "%s", s);
    ck_assert_msg(strstr(s, "\"state\"") == NULL, "%s", s);
    s = record(&b, REPLY_HTML, &t, REPLY_SUBMITTED);
    ck_assert_msg(strstr(s, "<th>status</th><td>cancelled</td>") != NULL, "%s", s);
    ck_assert_msg(strstr(s, "<th>state</th>") == NULL, "%s", s);
    buf_reset(&b);
    task_init(&t, TASK_QUEUED);
    ck_assert_int_eq(reply_task_api(&b, &t, "srv"), 0);
    ck_assert_int_eq(buf_putc(&b, '\0'), 0);
    ck_assert_msg(strstr(b.data, "\"status\":\"queued\"") != NULL, "%s", b.data);
    buf_free(&b);
}
END_TEST

START_TEST(test_id_shapes)
{
    static const char *const shaped[] = {
        "1361982308-837500", "1796160000-12345-678901", "1-2", "1-2-3",
        "12345678901234567890-1",
    };
    static const char *const malformed[] = {
        "", "1361982308", "1-2-3-4", "1--2", "-1-2", "1-2-", "abc",
        "1361982308-83750x", "123456789012345678901-1", "1-2 ", "../1-2",
    };

    for (size_t i = 0; i < sizeof(shaped) / sizeof(shaped[0]); i++)
        ck_assert_msg(rr_id_shaped(shaped[i]), "'%s' not shaped", shaped[i]);
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
        ck_assert_msg(!rr_id_shaped(malformed[i]), "'%s' shaped", malformed[i]);
    ck_assert(rr_id_valid("1796160000-12345-678901"));
    ck_assert(rr_id_valid("1796160000-12345-67890123456789012345"));
    ck_assert(rr_id_shaped("1796160000-12345-67890123456789012345"));
    ck_assert(!rr_id_valid("1361982308-837500"));
    ck_assert(!rr_id_valid("1796160000-12345-6789012"));
    ck_assert(!rr_id_valid("1796160000-12345-678901234567890123456"));
    ck_assert(!rr_id_valid("1796160000-12345-6789012345678901234x"));
}
END_TEST

static int cmp_id(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* A task id is the right to read its results, so its random part must
 * span more than 2^64 values, use every digit in every place, and never
 * repeat. */
START_TEST(test_id_new_unguessable)
{
    enum { DRAWS = 5000 };
    static char ids[DRAWS][RR_ID_LEN];
    unsigned seen[RR_ID_RAND_DIGITS] = { 0 };
    int above_2_64 = 0;

    for (int i = 0; i < DRAWS; i++) {
        const char *rnd;

        ck_assert_int_eq(rr_id_new(ids[i]), 0);
        ck_assert_msg(rr_id_valid(ids[i]) && rr_id_shaped(ids[i]), "%s",
                      ids[i]);
        ck_assert_uint_eq(strlen(ids[i]), RR_ID_LEN - 1);
        rnd = ids[i] + 17;
        for (int k = 0; k < RR_ID_RAND_DIGITS; k++)
            seen[k] |= 1u << (rnd[k] - '0');
        /* 18446744073709551615 = 2^64 - 1, also 20 digits */
        if (strcmp(rnd, "18446744073709551615") > 0)
            above_2_64++;
    }
    for (int k = 0; k < RR_ID_RAND_DIGITS; k++)
        ck_assert_msg(seen[k] == 0x3ffu, "digit %d: only %x", k, seen[k]);
    /* about 82 % of draws lie above 2^64 */
    ck_assert_int_gt(above_2_64, DRAWS / 2);
    qsort(ids, DRAWS, RR_ID_LEN, cmp_id);
    for (int i = 1; i < DRAWS; i++)
        ck_assert_msg(strcmp(ids[i - 1], ids[i]) != 0, "repeat %s", ids[i]);
}
END_TEST

Suite *reply_suite(void)
{
    Suite *s = suite_create("reply");
    TCase *tc = tcase_create("reply");

    tcase_add_test(tc, test_text_status_words);
    tcase_add_test(tc, test_text_record);
    tcase_add_test(tc, test_json_html_true_state);
    tcase_add_test(tc, test_id_shapes);
    tcase_add_test(tc, test_id_new_unguessable);
    suite_add_tcase(s, tc);
    return s;
}
