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

/* A pipeline stage: its place, and the chain the relay loaded, in each
 * format; the chain's state from its stages'. */
START_TEST(test_chain_record)
{
    struct task_stage g[3] = {
        { "1796160000-12345-678901", "openscad", TASK_COMPLETE },
        { "1796160000-12345-678902", "slic3r", TASK_BUSY },
        { "1796160000-12345-678903", "echo", TASK_QUEUED },
    };
    struct buf b;
    struct task t;

    buf_init(&b, 64 * 1024);
    task_init(&t, TASK_COMPLETE);
    strcpy(t.chain, "1796160000-12345-678901");
    t.stage = 0;
    /* without its stages: only the place */
    ck_assert_ptr_nonnull(strstr(record(&b, REPLY_TEXT, &t, 0),
                                 "sizeOut: \nstage: 0\nstate: complete\n"));
    ck_assert_ptr_null(strstr(b.data, "chain"));
    t.stages = g;
    t.nstages = 3;
    ck_assert_str_eq(record(&b, REPLY_TEXT, &t, 0) + 0,
        "chain: 1796160000-12345-678901 openscad complete, "
        "1796160000-12345-678902 slic3r busy, "
        "1796160000-12345-678903 echo queued\n"
        "chainStatus: busy\nclient: 127.0.0.1\ncmd: \n"
        "ctime: 1796160000.50000\nid: 1796160000-12345-678901\nin: \n"
        "log: tasks/log/1796160000-12345-678901\n"
        "out: tasks/out/1796160000-12345-678901\nserver: srv\n"
        "service: echo\nsizeIn: 0\nsizeOut: \nstage: 0\n"
        "state: complete\nstatus: complete\n");
    ck_assert_ptr_nonnull(strstr(record(&b, REPLY_JSON, &t, 0),
                                 "\t\"chainStatus\": \"busy\",\n"));
    ck_assert_ptr_nonnull(strstr(record(&b, REPLY_HTML, &t, 0),
                                 "<th>chain</th><td>1796160000-12345-678901 "
                                 "openscad complete, "));
    buf_reset(&b);
    ck_assert_int_eq(reply_task_api(&b, &t, "srv"), 0);
    ck_assert_int_eq(buf_putc(&b, '\0'), 0);
    ck_assert_msg(strstr(b.data, ",\"chain\":{\"id\":\"1796160000-12345-678901\","
                         "\"stage\":0,\"status\":\"busy\",\"stages\":["
                         "{\"id\":\"1796160000-12345-678901\",\"service\":"
                         "\"openscad\",\"status\":\"complete\"},{\"id\":"
                         "\"1796160000-12345-678902\",\"service\":\"slic3r\","
                         "\"status\":\"busy\"},{\"id\":\"1796160000-12345-678903\","
                         "\"service\":\"echo\",\"status\":\"queued\"}]}}") != NULL,
                  "%s", b.data);
    buf_free(&b);
}
END_TEST

START_TEST(test_chain_status)
{
    struct task_stage g[3] = {
        { "a", "s", TASK_QUEUED }, { "b", "s", TASK_QUEUED },
        { "c", "s", TASK_QUEUED },
    };

    ck_assert_int_eq(reply_chain_status(g, 3), TASK_QUEUED);
    g[0].status = TASK_COMPLETE;        /* between stages: under way */
    ck_assert_int_eq(reply_chain_status(g, 3), TASK_BUSY);
    g[1].status = TASK_CANCELLED;
    g[2].status = TASK_CANCELLED;
    ck_assert_int_eq(reply_chain_status(g, 3), TASK_CANCELLED);
    g[1].status = TASK_FAILED;          /* the failure, not its aftermath */
    ck_assert_int_eq(reply_chain_status(g, 3), TASK_FAILED);
    g[1].status = g[2].status = TASK_COMPLETE;
    ck_assert_int_eq(reply_chain_status(g, 3), TASK_COMPLETE);
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

/* Every field, in each format, byte for byte: numbers and times as
 * printf made them ("%.5f", "%lld"), values escaped for their format. */
START_TEST(test_record_bytes)
{
    struct buf b;
    struct task t;
    char argv[] = "[\"cp\",\"in0.txt\",\"a \\\"b\\\"\"]";
    char inputs[] = "in0.txt", reason[] = "line\nbreak";

    buf_init(&b, 64 * 1024);
    task_init(&t, TASK_COMPLETE);
    t.ctime = 1796160000.123456;
    t.stime = 1796160001.000004;
    t.etime = 1796160002.99999;
    t.exit_code = 0;
    t.pid = 4242;
    t.job_id = 7;
    t.size_in = 1234567890123LL;
    t.size_out = 0;
    t.inputs = inputs;
    t.reason = reason;
    t.argv_json = argv;
    ck_assert_str_eq(record(&b, REPLY_TEXT, &t, 0),
        "client: 127.0.0.1\ncmd: cp in0.txt a \"b\"\nctime: 1796160000.12346\n"
        "error: line break\netime: 1796160002.99999\nexitCode: 0\n"
        "id: 1796160000-12345-678901\nin: in0.txt\njob: 7\n"
        "log: tasks/log/1796160000-12345-678901\n"
        "out: tasks/out/1796160000-12345-678901\npid: 4242\nserver: srv\n"
        "service: echo\nsizeIn: 1234567890123\nsizeOut: 0\nstate: complete\n"
        "status: complete\nstime: 1796160001.00000\n");
    ck_assert_str_eq(record(&b, REPLY_JSON, &t, 0),
        "{\n\t\"client\": \"127.0.0.1\",\n\t\"cmd\": \"cp in0.txt a \\\"b\\\"\",\n"
        "\t\"ctime\": \"1796160000.12346\",\n\t\"error\": \"line\\nbreak\",\n"
        "\t\"etime\": \"1796160002.99999\",\n\t\"exitCode\": \"0\",\n"
        "\t\"id\": \"1796160000-12345-678901\",\n\t\"in\": \"in0.txt\",\n"
        "\t\"job\": \"7\",\n\t\"log\": \"tasks/log/1796160000-12345-678901\",\n"
        "\t\"out\": \"tasks/out/1796160000-12345-678901\",\n\t\"pid\": \"4242\",\n"
        "\t\"server\": \"srv\",\n\t\"service\": \"echo\",\n"
        "\t\"sizeIn\": \"1234567890123\",\n\t\"sizeOut\": \"0\",\n"
        "\t\"status\": \"complete\",\n\t\"stime\": \"1796160001.00000\"\n}\n");
    buf_reset(&b);
    ck_assert_int_eq(reply_task_api(&b, &t, "srv"), 0);
    ck_assert_int_eq(buf_putc(&b, '\0'), 0);
    ck_assert_msg(strstr(b.data, "\"created\":1796160000.12346,"
                         "\"started\":1796160001.00000,"
                         "\"ended\":1796160002.99999,\"sizeIn\":1234567890123,"
                         "\"sizeOut\":0,\"exitCode\":0,\"pid\":4242,"
                         "\"job\":7,\"timeout\":0,\"runs\":0,"
                         "\"chain\":null}") != NULL,
                  "%s", b.data);
    /* absent ones: no etime, exit code, pid, job; empty sizeOut */
    task_init(&t, TASK_QUEUED);
    t.ctime = -1;
    ck_assert_str_eq(record(&b, REPLY_TEXT, &t, 0),
        "client: 127.0.0.1\ncmd: \nctime: \nid: 1796160000-12345-678901\n"
        "in: \nlog: tasks/log/1796160000-12345-678901\n"
        "out: tasks/out/1796160000-12345-678901\nserver: srv\nservice: echo\n"
        "sizeIn: 0\nsizeOut: \nstate: queued\nstatus: busy\n");
    buf_reset(&b);
    ck_assert_int_eq(reply_task_api(&b, &t, "srv"), 0);
    ck_assert_int_eq(buf_putc(&b, '\0'), 0);
    ck_assert_msg(strstr(b.data, "\"created\":null,\"started\":null,"
                         "\"ended\":null,\"sizeIn\":0,\"sizeOut\":null,"
                         "\"exitCode\":null,\"pid\":null,\"job\":null,")
                  != NULL, "%s", b.data);
    buf_free(&b);
}
END_TEST

/* cmd: the argv joined with blanks, the same by the fast path and by
 * jansson's. */
START_TEST(test_cmd_join)
{
    static const struct {
        const char *json, *cmd;
    } c[] = {
        { "[]", "" },
        { "[\"cp\", \"in0.txt\", \"out\"]", "cp in0.txt out" },
        { "[\"a\\\"b\",\"c\\\\d\",\"e\\/f\",\"t\\tx\"]", "a\"b c\\d e/f t\tx" },
        { "[\"\\u00e9t\\u00e9\",\"x\"]", "\xc3\xa9t\xc3\xa9 x" },     /* jansson's */
        { "[\"caf\xc3\xa9\"]", "caf\xc3\xa9" },
        { "[\"a\",1,\"b\"]", "a  b" },
        { "[\"a\\\"\"]", "a\"" },
        { "{\"a\":1}", "" },
        { "[\"unterminated", "" },
        { "[\"a\"] x", "" },
        { "", "" },
    };
    struct buf b;

    buf_init(&b, 1024);
    for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        buf_reset(&b);
        ck_assert_int_eq(reply_cmd(&b, c[i].json), 0);
        ck_assert_msg(!strcmp(b.len ? b.data : "", c[i].cmd),
                      "%s gave '%s'", c[i].json, b.len ? b.data : "");
    }
    buf_free(&b);
}
END_TEST

START_TEST(test_json_escape)
{
    struct buf b;

    buf_init(&b, 1024);
    ck_assert_int_eq(buf_json_escape(&b, "a\"b\\c\n\r\t\x01\x1f \xc3\xa9/"), 0);
    ck_assert_str_eq(b.data, "a\\\"b\\\\c\\n\\r\\t\\u0001\\u001f \xc3\xa9/");
    buf_reset(&b);
    ck_assert_int_eq(buf_json_escape(&b, ""), 0);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_int_eq(buf_json_escape(&b, "plain"), 0);
    ck_assert_str_eq(b.data, "plain");
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
    tcase_add_test(tc, test_record_bytes);
    tcase_add_test(tc, test_chain_record);
    tcase_add_test(tc, test_chain_status);
    tcase_add_test(tc, test_cmd_join);
    tcase_add_test(tc, test_json_escape);
    tcase_add_test(tc, test_id_shapes);
    tcase_add_test(tc, test_id_new_unguessable);
    suite_add_tcase(s, tc);
    return s;
}
