/* test_multipart.c - unit tests for src/http/multipart.c. */
#include "http/multipart.h"

#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

Suite *multipart_suite(void);

/* A transcript of the callbacks: "[1 name|filename|ctype]" at each begin
 * ("-" for NULL), the data bytes as they come, "[end]" at each end. */
struct rec {
    char *buf;
    size_t len, cap;
    size_t data_calls;
    int fail_begin_at;      /* part index whose begin returns 1 */
    struct mp_parser *p;    /* for mp_parser_set_error */
};

static void rec_add(struct rec *r, const char *s, size_t n)
{
    if (r->len + n + 1 > r->cap) {
        r->cap = (r->len + n + 1) * 2;
        r->buf = realloc(r->buf, r->cap);
        ck_assert_ptr_nonnull(r->buf);
    }
    memcpy(r->buf + r->len, s, n);
    r->len += n;
    r->buf[r->len] = '\0';
}

static int rec_begin(void *arg, const struct mp_part *part)
{
    struct rec *r = arg;
    char line[512];
    int n;

    n = snprintf(line, sizeof(line), "[%u %s|%s|%s]", part->index, part->name,
                 part->filename ? part->filename : "-",
                 part->content_type ? part->content_type : "-");
    rec_add(r, line, (size_t)n);
    if (r->fail_begin_at == (int)part->index) {
        mp_parser_set_error(r->p, "field %s not allowed", part->name);
        return 1;
    }
    return 0;
}

static int rec_data(void *arg, const char *data, size_t len)
{
    struct rec *r = arg;

    ck_assert_uint_gt(len, 0);
    r->data_calls++;
    rec_add(r, data, len);
    return 0;
}

static int rec_end(void *arg)
{
    rec_add(arg, "[end]", 5);
    return 0;
}

static const struct mp_callbacks rec_cb = { rec_begin, rec_data, rec_end };

/* Parses body cut at the given offsets (sorted, nsplit of them) and returns
 * the result of finish (or of the first failing feed); r gets the
 * transcript. */
static int parse_split(const char *boundary, const struct mp_limits *lim,
                       const char *body, size_t len, const size_t *splits,
                       size_t nsplit, struct rec *r)
{
    struct mp_parser *p = mp_parser_new(boundary, lim, &rec_cb, r);
    size_t from = 0;
    int rc = MP_OK;

    ck_assert_ptr_nonnull(p);
    r->p = p;
    for (size_t i = 0; i <= nsplit && rc == MP_OK; i++) {
        size_t to = i < nsplit ? splits[i] : len;

        rc = mp_parser_feed(p, body + from, to - from);
        from = to;
    }
    if (rc == MP_OK)
        rc = mp_parser_finish(p);
    else
        ck_assert_int_eq(mp_parser_finish(p), rc); /* errors are sticky */
    mp_parser_free(p);
    return rc;
}

static int parse_all(const char *boundary, const struct mp_limits *lim,
                     const char *body, size_t len, struct rec *r)
{
    return parse_split(boundary, lim, body, len, NULL, 0, r);
}

/* Parses with a fresh recorder and frees it; returns the error message
 * (static) for error tests. */
static int parse_err(const char *boundary, const struct mp_limits *lim,
                     const char *body, char *msg, size_t msglen)
{
    struct rec r = { 0 };
    struct mp_parser *p = mp_parser_new(boundary, lim, &rec_cb, &r);
    int rc;

    ck_assert_ptr_nonnull(p);
    r.p = p;
    rc = mp_parser_feed(p, body, strlen(body));
    if (rc == MP_OK)
        rc = mp_parser_finish(p);
    snprintf(msg, msglen, "%s", mp_parser_error(p));
    mp_parser_free(p);
    free(r.buf);
    return rc;
}

#define B "XyZzy-42"

static const char three_parts[] =
    "preamble line\r\n"
    "--" B "\r\n"
    "Content-Disposition: form-data; name=\"service\"\r\n"
    "\r\n"
    "slic3r\r\n"
    "--" B "\r\n"
    "content-disposition: form-data; name=\"fileIn0\"; filename=\"cube.stl\"\r\n"
    "CONTENT-TYPE: application/octet-stream\r\n"
    "\r\n"
    "solid cube\r\n--XyZzy-4x is not it\r\n-- " B "\r\r\n--\r\nendsolid\r\n"
    "\r\n"
    "--" B "  \r\n"
    "Content-Disposition: form-data; name=notifier\r\n"
    "\r\n"
    "http://example.com/$id\r\n"
    "--" B "--\r\n"
    "epilogue --" B "\r\n";

static const char three_parts_rec[] =
    "[1 service|-|-]slic3r[end]"
    "[2 fileIn0|cube.stl|application/octet-stream]"
    "solid cube\r\n--XyZzy-4x is not it\r\n-- " B "\r\r\n--\r\nendsolid\r\n[end]"
    "[3 notifier|-|-]http://example.com/$id[end]";

START_TEST(test_boundary_from_ctype)
{
    char b[MP_BOUNDARY_MAX + 1];
    char long71[128];

    ck_assert_int_eq(mp_boundary_from_content_type(
        "multipart/form-data; boundary=----abc123", b, sizeof(b)), 0);
    ck_assert_str_eq(b, "----abc123");
    ck_assert_int_eq(mp_boundary_from_content_type(
        "Multipart/Form-Data;charset=utf-8;BOUNDARY=\"a b:c?\"", b, sizeof(b)), 0);
    ck_assert_str_eq(b, "a b:c?");
    ck_assert_int_eq(mp_boundary_from_content_type(
        "multipart/form-data; x=\"boundary=fake;\"; boundary=real ; y=1", b,
        sizeof(b)), 0);
    ck_assert_str_eq(b, "real");
    /* 70 is the most, 71 too many. */
    memset(long71, 'a', sizeof(long71));
    memcpy(long71, "multipart/mixed; boundary=", 26);
    long71[26 + 70] = '\0';
    ck_assert_int_eq(mp_boundary_from_content_type(long71, b, sizeof(b)), 0);
    ck_assert_uint_eq(strlen(b), 70);
    long71[26 + 70] = 'a';
    long71[26 + 71] = '\0';
    ck_assert_int_eq(mp_boundary_from_content_type(long71, b, sizeof(b)), -1);

    ck_assert_int_eq(mp_boundary_from_content_type("multipart/form-data", b, sizeof(b)), -1);
    ck_assert_int_eq(mp_boundary_from_content_type(
        "multipart/form-data; boundary=", b, sizeof(b)), -1);
    ck_assert_int_eq(mp_boundary_from_content_type(
        "multipart/form-data; boundary=\"\"", b, sizeof(b)), -1);
    ck_assert_int_eq(mp_boundary_from_content_type(
        "multipart/form-data; boundary=\"abc ", b, sizeof(b)), -1);
    ck_assert_int_eq(mp_boundary_from_content_type(
        "multipart/form-data; boundary=\"trailing \"", b, sizeof(b)), -1);
    ck_assert_int_eq(mp_boundary_from_content_type(
        "multipart/form-data; boundary=a*b", b, sizeof(b)), -1);
    ck_assert_int_eq(mp_boundary_from_content_type(
        "multipart/form-data; boundary=a; boundary=b", b, sizeof(b)), -1);
    ck_assert_int_eq(mp_boundary_from_content_type(
        "application/x-www-form-urlencoded; boundary=abc", b, sizeof(b)), -1);
    ck_assert_int_eq(mp_boundary_from_content_type(
        "multipart/form-data; boundary=abcdef", b, 6), -1);
    ck_assert_int_eq(mp_boundary_from_content_type(
        "multipart/form-data; boundary=abcdef", b, 7), 0);
    ck_assert_int_eq(mp_boundary_from_content_type(NULL, b, sizeof(b)), -1);
}
END_TEST

START_TEST(test_new_rejects_bad_boundary)
{
    ck_assert_ptr_null(mp_parser_new("", NULL, NULL, NULL));
    ck_assert_ptr_null(mp_parser_new("has\nlf", NULL, NULL, NULL));
    ck_assert_ptr_null(mp_parser_new("sp ", NULL, NULL, NULL));
    ck_assert_ptr_null(mp_parser_new(
        "12345678901234567890123456789012345678901234567890123456789012345678901",
        NULL, NULL, NULL));
}
END_TEST

START_TEST(test_three_parts)
{
    struct rec r = { 0 };

    ck_assert_int_eq(parse_all(B, NULL, three_parts, strlen(three_parts), &r), MP_OK);
    ck_assert_str_eq(r.buf, three_parts_rec);
    free(r.buf);
}
END_TEST

/* The boundary may straddle chunks anywhere: cut the body at every
 * offset, then at every pair of offsets close enough (96 bytes) for one
 * delimiter or header to span three chunks. */
START_TEST(test_every_split)
{
    size_t len = strlen(three_parts);

    for (size_t i = 0; i <= len; i++) {
        struct rec r = { 0 };

        ck_assert_int_eq(parse_split(B, NULL, three_parts, len, &i, 1, &r), MP_OK);
        ck_assert_msg(strcmp(r.buf, three_parts_rec) == 0, "split at %zu: %s", i, r.buf);
        free(r.buf);
    }
}
END_TEST

START_TEST(test_every_two_splits)
{
    size_t len = strlen(three_parts);

    for (size_t i = 0; i <= len; i++) {
        for (size_t j = i; j <= len && j <= i + 96; j++) {
            struct rec r = { 0 };
            size_t s[2] = { i, j };

            ck_assert_int_eq(parse_split(B, NULL, three_parts, len, s, 2, &r), MP_OK);
            ck_assert_msg(strcmp(r.buf, three_parts_rec) == 0, "split at %zu,%zu", i, j);
            free(r.buf);
        }
    }
}
END_TEST

START_TEST(test_one_byte_feeds)
{
    size_t len = strlen(three_parts);
    struct rec r = { 0 };
    struct mp_parser *p = mp_parser_new(B, NULL, &rec_cb, &r);

    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < len; i++)
        ck_assert_int_eq(mp_parser_feed(p, three_parts + i, 1), MP_OK);
    ck_assert_int_eq(mp_parser_done(p), 1);
    ck_assert_int_eq(mp_parser_finish(p), MP_OK);
    ck_assert_uint_eq(mp_parser_part_count(p), 3);
    ck_assert_str_eq(r.buf, three_parts_rec);
    ck_assert_str_eq(mp_parser_error(p), "");
    mp_parser_free(p);
    free(r.buf);
}
END_TEST

/* Data that looks like a delimiter, for every split point, with the real
 * delimiter right after a CR of the data. */
START_TEST(test_boundary_like_data)
{
    static const char body[] =
        "--" B "\r\n"
        "Content-Disposition: form-data; name=\"a\"\r\n\r\n"
        "--XyZzy-4\n-" "\r\n--XyZzy-4\r\n--XyZzy-\n--XyZ\r\r" "\r\n--" B "\r\n"
        "Content-Disposition: form-data; name=\"b\"\r\n\r\n"
        "\r\n\r\n-" "\r\n--" B "--";
    static const char want[] =
        "[1 a|-|-]--XyZzy-4\n-" "\r\n--XyZzy-4\r\n--XyZzy-\n--XyZ\r\r[end]"
        "[2 b|-|-]\r\n\r\n-[end]";
    size_t len = strlen(body);

    for (size_t i = 0; i <= len; i++) {
        struct rec r = { 0 };

        ck_assert_int_eq(parse_split(B, NULL, body, len, &i, 1, &r), MP_OK);
        ck_assert_msg(strcmp(r.buf, want) == 0, "split at %zu: %s", i, r.buf);
        free(r.buf);
    }
}
END_TEST

START_TEST(test_empty_body_and_no_parts)
{
    static const char body[] =
        "--" B "\r\nContent-Disposition: form-data; name=\"e\"; filename=\"\"\r\n"
        "Content-Type: application/octet-stream\r\n\r\n"
        "\r\n--" B "\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\n"
        "\r\n--" B "--";
    static const char sloppy[] =
        "--" B "\r\nContent-Disposition: form-data; name=\"e\"\r\n\r\n"
        "--" B "\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\n"
        "-x\r\n--" B "--";
    struct rec r = { 0 };

    ck_assert_int_eq(parse_all(B, NULL, body, strlen(body), &r), MP_OK);
    ck_assert_str_eq(r.buf, "[1 e||application/octet-stream][end][2 f|-|-][end]");
    ck_assert_uint_eq(r.data_calls, 0);
    free(r.buf);

    /* An empty part sent without the CRLF before its delimiter. */
    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(parse_all(B, NULL, sloppy, strlen(sloppy), &r), MP_OK);
    ck_assert_str_eq(r.buf, "[1 e|-|-][end][2 f|-|-]-x[end]");
    free(r.buf);

    memset(&r, 0, sizeof(r));
    ck_assert_int_eq(parse_all(B, NULL, "--" B "--\r\n", strlen("--" B "--\r\n"), &r),
                     MP_OK);
    ck_assert_ptr_null(r.buf);
}
END_TEST

/* Every prefix short of the closing "--" is a truncated body. */
START_TEST(test_truncated)
{
    const char *close = strstr(three_parts, "--" B "--");
    size_t full = (size_t)(close - three_parts) + strlen("--" B "--");
    char msg[256];

    for (size_t n = 0; n < full; n++) {
        struct rec r = { 0 };
        struct mp_parser *p = mp_parser_new(B, NULL, &rec_cb, &r);

        r.p = p;
        ck_assert_int_eq(mp_parser_feed(p, three_parts, n), MP_OK);
        ck_assert_int_eq(mp_parser_done(p), 0);
        ck_assert_int_eq(mp_parser_finish(p), MP_ERR_TRUNCATED);
        ck_assert_ptr_nonnull(strstr(mp_parser_error(p), "body ended before the"));
        /* The last part never ends: its end would mean "complete". */
        if (r.buf != NULL)
            ck_assert_msg(strstr(r.buf, "/$id[end]") == NULL, "prefix %zu ended part 3", n);
        mp_parser_free(p);
        free(r.buf);
    }
    ck_assert_int_eq(parse_err(B, NULL, "--" B "\r\nContent-Disposition: form-data; "
                               "name=x\r\n\r\nabc", msg, sizeof(msg)), MP_ERR_TRUNCATED);
    ck_assert_str_eq(msg, "part 1: body ended before the closing boundary");
    ck_assert_int_eq(parse_err("other", NULL, three_parts, msg, sizeof(msg)),
                     MP_ERR_TRUNCATED);
    ck_assert_str_eq(msg, "body ended before the first boundary (wrong boundary?)");
}
END_TEST

START_TEST(test_header_too_long)
{
    struct mp_limits lim = { .max_header_bytes = 64 };
    /* a 61-byte header line + CRLF + CRLF = 65 > 64 */
    static const char body[] =
        "--" B "\r\n"
        "Content-Disposition: form-data; name=\"aaaaaaaaaaaaaaaaaaaaaa\"\r\n\r\n"
        "x\r\n--" B "--";
    /* 60 + 2 + 2 = 64: just fits */
    static const char ok_body[] =
        "--" B "\r\n"
        "Content-Disposition: form-data; name=\"aaaaaaaaaaaaaaaaaaaaa\"\r\n\r\n"
        "x\r\n--" B "--";
    char msg[256];
    struct rec r = { 0 };

    ck_assert_int_eq(parse_err(B, &lim, body, msg, sizeof(msg)), MP_ERR_HEADER_TOO_LONG);
    ck_assert_str_eq(msg, "part 1: header too long (limit 64 bytes)");
    ck_assert_int_eq(parse_all(B, &lim, ok_body, strlen(ok_body), &r), MP_OK);
    ck_assert_str_eq(r.buf, "[1 aaaaaaaaaaaaaaaaaaaaa|-|-]x[end]");
    free(r.buf);
    /* Fed one byte at a time, the limit still holds. */
    memset(&r, 0, sizeof(r));
    {
        struct mp_parser *p = mp_parser_new(B, &lim, &rec_cb, &r);
        int rc = MP_OK;

        for (size_t i = 0; body[i] && rc == MP_OK; i++)
            rc = mp_parser_feed(p, body + i, 1);
        ck_assert_int_eq(rc, MP_ERR_HEADER_TOO_LONG);
        ck_assert_int_eq(mp_parser_feed(p, "x", 1), MP_ERR_HEADER_TOO_LONG);
        mp_parser_free(p);
    }
    ck_assert_ptr_null(r.buf);
}
END_TEST

START_TEST(test_too_many_parts)
{
    struct mp_limits lim = { .max_parts = 2 };
    struct rec r = { 0 };
    char msg[256];

    ck_assert_int_eq(parse_all(B, &lim, three_parts, strlen(three_parts), &r),
                     MP_ERR_TOO_MANY_PARTS);
    /* The two allowed parts went through whole. */
    ck_assert_ptr_nonnull(strstr(r.buf, "endsolid\r\n[end]"));
    ck_assert_ptr_null(strstr(r.buf, "[3 "));
    free(r.buf);
    ck_assert_int_eq(parse_err(B, &lim, three_parts, msg, sizeof(msg)),
                     MP_ERR_TOO_MANY_PARTS);
    ck_assert_str_eq(msg, "too many parts (limit 2)");
}
END_TEST

static int one_part_err(const char *headers, char *msg, size_t msglen)
{
    char body[1024];

    snprintf(body, sizeof(body), "--" B "\r\n%s\r\n\r\ndata\r\n--" B "--", headers);
    return parse_err(B, NULL, body, msg, msglen);
}

START_TEST(test_bad_disposition)
{
    char msg[256];

    ck_assert_int_eq(one_part_err("Content-Type: text/plain", msg, sizeof(msg)),
                     MP_ERR_DISPOSITION);
    ck_assert_str_eq(msg, "part 1: no Content-Disposition header");
    ck_assert_int_eq(one_part_err("Content-Disposition: attachment; name=a", msg,
                                  sizeof(msg)), MP_ERR_DISPOSITION);
    ck_assert_str_eq(msg, "part 1: Content-Disposition is not form-data");
    ck_assert_int_eq(one_part_err("Content-Disposition: form-data; filename=a", msg,
                                  sizeof(msg)), MP_ERR_DISPOSITION);
    ck_assert_str_eq(msg, "part 1: malformed Content-Disposition (no field name)");
    ck_assert_int_eq(one_part_err("Content-Disposition: form-data; name=\"\"", msg,
                                  sizeof(msg)), MP_ERR_DISPOSITION);
    ck_assert_int_eq(one_part_err("Content-Disposition: form-data; name=\"abc", msg,
                                  sizeof(msg)), MP_ERR_DISPOSITION);
    ck_assert_str_eq(msg, "part 1: malformed Content-Disposition");
    ck_assert_int_eq(one_part_err("Content-Disposition: form-data; name", msg,
                                  sizeof(msg)), MP_ERR_DISPOSITION);
    ck_assert_int_eq(one_part_err("Content-Disposition: form-data name=a", msg,
                                  sizeof(msg)), MP_ERR_DISPOSITION);
    ck_assert_int_eq(one_part_err("Content-Disposition: form-data; name=a; NAME=b", msg,
                                  sizeof(msg)), MP_ERR_DISPOSITION);
    ck_assert_str_eq(msg, "part 1: malformed Content-Disposition (two NAME parameters)");
    ck_assert_int_eq(one_part_err("Content-Disposition: form-data; name=a\r\n"
                                  "Content-Disposition: form-data; name=b", msg,
                                  sizeof(msg)), MP_ERR_DISPOSITION);
    ck_assert_int_eq(one_part_err("Content-Disposition: form-data; name=\"a\x01\"", msg,
                                  sizeof(msg)), MP_ERR_HEADER);
    ck_assert_int_eq(one_part_err("Content-Disposition: form-data; name=\"a\tb\"", msg,
                                  sizeof(msg)), MP_ERR_DISPOSITION);
    ck_assert_str_eq(msg, "part 1: control byte in field name");
    ck_assert_int_eq(one_part_err("Content-Disposition: form-data; name=a; filename=\"\x7f\"",
                                  msg, sizeof(msg)), MP_ERR_DISPOSITION);
    ck_assert_str_eq(msg, "part 1 (a): control byte in filename");
    ck_assert_int_eq(one_part_err("Content-Disposition: form-data; name=a; "
                                  "filename*=UTF-8''a%0Ab", msg, sizeof(msg)),
                     MP_ERR_DISPOSITION);
    ck_assert_str_eq(msg, "part 1 (a): control byte in filename");
    ck_assert_int_eq(one_part_err("Content-Disposition: form-data; name=a; "
                                  "filename*=ISO-8859-1''caf%E9", msg, sizeof(msg)),
                     MP_ERR_DISPOSITION);
    ck_assert_int_eq(one_part_err("Content-Disposition: form-data; name=a; "
                                  "filename*=UTF-8''bad%G1", msg, sizeof(msg)),
                     MP_ERR_DISPOSITION);
    ck_assert_int_eq(one_part_err("Content-Disposition: form-data; name=a; "
                                  "filename*=UTF-8''bad%4", msg, sizeof(msg)),
                     MP_ERR_DISPOSITION);
    /* Header syntax. */
    ck_assert_int_eq(one_part_err("Content-Disposition form-data; name=a", msg,
                                  sizeof(msg)), MP_ERR_HEADER);
    ck_assert_str_eq(msg, "part 1: malformed header line");
    ck_assert_int_eq(one_part_err("Content-Disposition: form-data;\r\n name=a", msg,
                                  sizeof(msg)), MP_ERR_HEADER);
    ck_assert_str_eq(msg, "part 1: folded header line (not supported)");
    ck_assert_int_eq(one_part_err("Content-Disposition : form-data; name=a", msg,
                                  sizeof(msg)), MP_ERR_HEADER);
}
END_TEST

START_TEST(test_nul_in_header)
{
    static const char body[] =
        "--" B "\r\nContent-Disposition: form-data; name=\"a\0b\"\r\n\r\nx\r\n--" B "--";
    struct rec r = { 0 };

    ck_assert_int_eq(parse_all(B, NULL, body, sizeof(body) - 1, &r), MP_ERR_HEADER);
    ck_assert_ptr_null(r.buf);
}
END_TEST

START_TEST(test_quoted_filename)
{
    static const char body[] =
        "--" B "\r\n"
        "Content-Disposition: form-data; name=\"q\\\"n\"; filename=\"my \\\"best\\\\ cube\\\".stl\"\r\n\r\n"
        "1\r\n--" B "\r\n"
        "Content-Disposition: form-data; name=w; filename=\"C:\\dir\\w.stl\"\r\n\r\n"
        "2\r\n--" B "\r\n"
        "Content-Disposition: form-data; name=u; filename=\"x.stl\"; "
        "filename*=UTF-8''%C3%A9t%C3%A9%20%22q%22.stl\r\n\r\n"
        "3\r\n--" B "\r\n"
        "Content-Disposition: form-data; filename=plain name.stl ; name=v\r\n\r\n"
        "4\r\n--" B "--";
    struct rec r = { 0 };

    ck_assert_int_eq(parse_all(B, NULL, body, strlen(body), &r), MP_OK);
    ck_assert_str_eq(r.buf,
                     "[1 q\"n|my \"best\\ cube\".stl|-]1[end]"
                     "[2 w|C:\\dir\\w.stl|-]2[end]"
                     "[3 u|\xc3\xa9t\xc3\xa9 \"q\".stl|-]3[end]"
                     "[4 v|plain name.stl|-]4[end]");
    free(r.buf);
}
END_TEST

START_TEST(test_bare_lf)
{
    static const char body[] =
        "--" B "\n"
        "Content-Disposition: form-data; name=\"a\"\n"
        "Content-Type: text/plain\n"
        "\n"
        "line1\r\nline2\n"
        "\n--" B "\t \n"
        "Content-Disposition: form-data; name=\"b\"\n\n"
        "x\r"
        "\n--" B "\n"
        "Content-Disposition: form-data; name=\"c\"\n\n"
        "\n--" B "--\n";
    size_t len = strlen(body);

    for (size_t i = 0; i <= len; i++) {
        struct rec r = { 0 };

        ck_assert_int_eq(parse_split(B, NULL, body, len, &i, 1, &r), MP_OK);
        ck_assert_str_eq(r.buf, "[1 a|-|text/plain]line1\r\nline2\n[end][2 b|-|-]x[end]"
                                "[3 c|-|-][end]");
        free(r.buf);
    }
}
END_TEST

START_TEST(test_junk_after_boundary)
{
    char msg[256];

    ck_assert_int_eq(parse_err(B, NULL, "--" B "x\r\n", msg, sizeof(msg)),
                     MP_ERR_BOUNDARY);
    ck_assert_str_eq(msg, "malformed first boundary line");
    ck_assert_int_eq(parse_err(B, NULL, "--" B "\r\nContent-Disposition: form-data; "
                               "name=a\r\n\r\nv\r\n--" B "-x", msg, sizeof(msg)),
                     MP_ERR_BOUNDARY);
    ck_assert_str_eq(msg, "malformed boundary line after part 1");
    ck_assert_int_eq(parse_err(B, NULL, "--" B " \rx", msg, sizeof(msg)),
                     MP_ERR_BOUNDARY);
}
END_TEST

static int fail_data(void *arg, const char *data, size_t len)
{
    return 1;
}

START_TEST(test_callback_abort)
{
    struct rec r = { .fail_begin_at = 2 };
    struct mp_callbacks cb = { NULL, fail_data, NULL };
    struct mp_parser *p;

    ck_assert_int_eq(parse_all(B, NULL, three_parts, strlen(three_parts), &r),
                     MP_ERR_CALLBACK);
    ck_assert_str_eq(r.buf, "[1 service|-|-]slic3r[end][2 fileIn0|cube.stl|"
                            "application/octet-stream]");
    free(r.buf);

    memset(&r, 0, sizeof(r));
    r.fail_begin_at = 1;
    p = mp_parser_new(B, NULL, &rec_cb, &r);
    r.p = p;
    ck_assert_int_eq(mp_parser_feed(p, three_parts, strlen(three_parts)), MP_ERR_CALLBACK);
    ck_assert_str_eq(mp_parser_error(p), "field service not allowed");
    ck_assert_int_eq(mp_parser_feed(p, "x", 1), MP_ERR_CALLBACK);
    ck_assert_int_eq(mp_parser_finish(p), MP_ERR_CALLBACK);
    mp_parser_free(p);
    free(r.buf);

    p = mp_parser_new(B, NULL, &cb, NULL);
    ck_assert_int_eq(mp_parser_feed(p, three_parts, strlen(three_parts)), MP_ERR_CALLBACK);
    ck_assert_str_eq(mp_parser_error(p), "part 1: data rejected by the application");
    mp_parser_free(p);
    ck_assert_str_eq(mp_strerror(MP_ERR_TRUNCATED), "body ended before the closing boundary");
}
END_TEST

static uint32_t rng_next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

/* 1 MiB of random bytes, sprinkled with CR, LF and "--", in random chunk
 * sizes: the bytes come out unchanged and in few calls. */
START_TEST(test_large_random)
{
    const size_t n = 1 << 20;
    static const char head[] =
        "--" B "\r\nContent-Disposition: form-data; name=\"f\"; filename=\"r.bin\"\r\n\r\n";
    static const char tail[] = "\r\n--" B "--\r\n";
    char *body = malloc(sizeof(head) + n + sizeof(tail));
    uint32_t seed = 12345;
    size_t len = 0, pos = 0, chunks = 0;
    struct rec r = { 0 };
    struct mp_parser *p = mp_parser_new(B, NULL, &rec_cb, &r);
    const char *data;

    ck_assert_ptr_nonnull(body);
    memcpy(body, head, sizeof(head) - 1);
    len = sizeof(head) - 1;
    for (size_t i = 0; i < n; i++) {
        uint32_t x = rng_next(&seed);

        body[len++] = (x & 0xf00) == 0 ? "\r\n-X"[x & 3] : (char)(x & 0xff);
    }
    memcpy(body + len, tail, sizeof(tail) - 1);
    len += sizeof(tail) - 1;
    while (pos < len) {
        size_t c = 1 + rng_next(&seed) % 70000;

        if (c > len - pos)
            c = len - pos;
        ck_assert_int_eq(mp_parser_feed(p, body + pos, c), MP_OK);
        pos += c;
        chunks++;
    }
    ck_assert_int_eq(mp_parser_finish(p), MP_OK);
    data = strchr(r.buf, ']') + 1;
    ck_assert_uint_eq(r.len, (size_t)(data - r.buf) + n + 5);
    ck_assert_int_eq(memcmp(data, body + sizeof(head) - 1, n), 0);
    ck_assert_uint_le(r.data_calls, 2 * chunks);
    mp_parser_free(p);
    free(r.buf);
    free(body);
}
END_TEST

Suite *multipart_suite(void)
{
    Suite *s = suite_create("multipart");
    TCase *tc = tcase_create("core");

    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_boundary_from_ctype);
    tcase_add_test(tc, test_new_rejects_bad_boundary);
    tcase_add_test(tc, test_three_parts);
    tcase_add_test(tc, test_every_split);
    tcase_add_test(tc, test_every_two_splits);
    tcase_add_test(tc, test_one_byte_feeds);
    tcase_add_test(tc, test_boundary_like_data);
    tcase_add_test(tc, test_empty_body_and_no_parts);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_header_too_long);
    tcase_add_test(tc, test_too_many_parts);
    tcase_add_test(tc, test_bad_disposition);
    tcase_add_test(tc, test_nul_in_header);
    tcase_add_test(tc, test_quoted_filename);
    tcase_add_test(tc, test_bare_lf);
    tcase_add_test(tc, test_junk_after_boundary);
    tcase_add_test(tc, test_callback_abort);
    tcase_add_test(tc, test_large_random);
    suite_add_tcase(s, tc);
    return s;
}
