/* test_bodyread.c - a request body read from FastCGI STDIN records on a
 * socket, as the web servers send them. */
#include "fcgi/bodyread.h"
#include "fcgi/handover.h"
#include "fcgi/peek.h"

#include <check.h>
#include <errno.h>
#include <fcgiapp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "suites.h"

#define ID 1

static unsigned char stream[300 * 1024];
static size_t slen;
static char want[300 * 1024];
static size_t wlen;

/* Appends a record; STDIN content of request ID is also the body the
 * reader must deliver. */
static void rec(int version, int type, int id, size_t clen, int pad)
{
    unsigned char *p = stream + slen;

    p[0] = (unsigned char)version;
    p[1] = (unsigned char)type;
    p[2] = (unsigned char)(id >> 8);
    p[3] = (unsigned char)(id & 255);
    p[4] = (unsigned char)(clen >> 8);
    p[5] = (unsigned char)(clen & 255);
    p[6] = (unsigned char)pad;
    p[7] = 0;
    for (size_t i = 0; i < clen; i++)
        p[8 + i] = (unsigned char)('a' + (slen + i) % 26);
    if (type == 5 && id == ID) {
        memcpy(want + wlen, p + 8, clen);
        wlen += clen;
    }
    memset(p + 8 + clen, 0xee, (size_t)pad);
    slen += 8 + clen + (size_t)pad;
}

/* A body of several records, one of them another request's, then its
 * end, then bytes that belong to nobody's body. */
static void body(void)
{
    slen = wlen = 0;
    rec(1, 5, ID, 1000, 0);
    rec(1, 5, ID, 3, 5);
    rec(1, 5, 7, 100, 4);     /* another request: dropped */
    rec(1, 5, ID, 65535, 1);
    rec(1, 5, ID, 32768, 0);
    rec(1, 5, ID, 0, 0);
    memcpy(stream + slen, "NEXT", 4);
    slen += 4;
}

static int sv[2];

/* A connection whose send buffer holds a whole test stream, whatever
 * the host's default (net.core.wmem_default). */
static void pair(void)
{
    int size = 2 * (int)sizeof(stream);

    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &size,
                                sizeof(size)), 0);
}

/* Writes the stream in pieces of 1 to 13 bytes, so that records and
 * headers arrive split anywhere. */
static void *trickle(void *arg)
{
    (void)arg;
    for (size_t pos = 0, step = 1; pos < slen; pos += step, step = step % 13 + 1) {
        size_t n = slen - pos < step ? slen - pos : step;
        if (write(sv[1], stream + pos, n) != (ssize_t)n)
            break;
    }
    return NULL;
}

/* Reads the whole body with reads of at most chunk bytes. */
static size_t read_all(struct bodyread *b, char *out, size_t chunk)
{
    size_t got = 0;
    long n;

    while ((n = bodyread_read(b, out + got, chunk)) > 0)
        got += (size_t)n;
    ck_assert_int_eq(n, 0);
    return got;
}

/* All there at once: one read takes every record's content, and nothing
 * past the body is read. */
START_TEST(test_whole_body)
{
    static char out[sizeof(want)];
    struct bodyread b;
    char rest[8];

    body();
    pair();
    ck_assert_int_eq(write(sv[1], stream, slen), (ssize_t)slen);
    bodyread_init(&b, sv[0], ID);
    ck_assert_int_eq(bodyread_read(&b, out, sizeof(out)), (long)wlen);
    ck_assert_mem_eq(out, want, wlen);
    ck_assert_int_eq(bodyread_read(&b, out, sizeof(out)), 0);
    ck_assert_int_eq(read(sv[0], rest, sizeof(rest)), 4);
    ck_assert_mem_eq(rest, "NEXT", 4);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

/* Split anywhere, read in small and odd sizes: the same body. */
START_TEST(test_split_records)
{
    static char out[sizeof(want)];
    static const size_t chunks[] = { 1, 7, 4096, 100000 };

    for (size_t i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
        struct bodyread b;
        pthread_t t;

        body();
        pair();
        ck_assert_int_eq(pthread_create(&t, NULL, trickle, NULL), 0);
        bodyread_init(&b, sv[0], ID);
        ck_assert_uint_eq(read_all(&b, out, chunks[i]), wlen);
        ck_assert_mem_eq(out, want, wlen);
        pthread_join(t, NULL);
        close(sv[0]);
        close(sv[1]);
    }
}
END_TEST

/* Reads one stream to its failure; returns the errno of it. */
static int failure(void)
{
    static char out[sizeof(want)];
    struct bodyread b;
    long n;
    int e;

    pair();
    ck_assert_int_eq(write(sv[1], stream, slen), (ssize_t)slen);
    close(sv[1]);
    bodyread_init(&b, sv[0], ID);
    while ((n = bodyread_read(&b, out, sizeof(out))) > 0)
        ;
    ck_assert_int_eq(n, -1);
    e = errno;
    /* and it stays failed */
    ck_assert_int_eq(bodyread_read(&b, out, sizeof(out)), -1);
    ck_assert_int_eq(errno, e);
    close(sv[0]);
    return e;
}

/* The connection ends inside a record, or before the body's end. */
START_TEST(test_truncated)
{
    body();
    slen -= 4 + 8 + 100;
    ck_assert_int_eq(failure(), ECONNRESET);
    body();
    slen -= 4 + 8;
    ck_assert_int_eq(failure(), ECONNRESET);
}
END_TEST

/* An aborted request, a record of another type, another version. */
START_TEST(test_malformed)
{
    slen = wlen = 0;
    rec(1, 5, ID, 10, 6);
    rec(1, 2, ID, 0, 0);      /* FCGI_ABORT_REQUEST */
    ck_assert_int_eq(failure(), EPROTO);
    slen = 0;
    rec(1, 4, ID, 10, 6);     /* PARAMS again */
    ck_assert_int_eq(failure(), EPROTO);
    slen = 0;
    rec(2, 5, ID, 10, 6);
    ck_assert_int_eq(failure(), EPROTO);
}
END_TEST

/* Appends a PARAMS record holding name=value. */
static void param(const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    unsigned char *p = stream + slen;

    rec(1, 4, ID, 2 + nl + vl, 0);
    p[8] = (unsigned char)nl;
    p[9] = (unsigned char)vl;
    memcpy(p + 10, name, nl);
    memcpy(p + 10 + nl, value, vl);
}

/* The filler parameters' value. */
static const char *value90(void)
{
    static char v[91];

    memset(v, 'v', sizeof(v) - 1);
    return v;
}

/* A request as nginx sends it: BEGIN (role responder), parameters (with
 * extra filler ones of 100 bytes), then a body of 1003 bytes in two
 * records and its end.  Returns where the parameters end. */
static size_t request(int extra)
{
    static const unsigned char begin[8] = { 0, 1, 0, 0, 0, 0, 0, 0 };
    char name[16];
    size_t params_end;

    slen = wlen = 0;
    rec(1, 1, ID, 8, 0);
    memcpy(stream + slen - 8, begin, 8);
    param("REQUEST_METHOD", "POST");
    param("CONTENT_LENGTH", "1003");
    for (int i = 0; i < extra; i++) {
        snprintf(name, sizeof(name), "HTTP_X_%d", i);
        param(name, value90());
    }
    rec(1, 4, ID, 0, 0);
    params_end = slen;
    rec(1, 5, ID, 1000, 0);
    rec(1, 5, ID, 3, 5);
    rec(1, 5, ID, 0, 0);
    return params_end;
}

/* A connection with the request waiting in it, and libfcgi's listener
 * (dummy, a socketpair end that never yields a connection). */
static void send_request(int dummy[2])
{
    pair();
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, dummy), 0);
    ck_assert_int_eq(FCGX_Init(), 0);
    ck_assert_int_eq(write(sv[1], stream, slen), (ssize_t)slen);
}

/* Answers f and checks that the answer came out on the connection: a
 * STDOUT record with it, then END_REQUEST, then EOF.  Closes what
 * send_request opened and libfcgi did not. */
static void answer(FCGX_Request *f, int dummy[2])
{
    char ans[4096];
    ssize_t n, got = 0;

    FCGX_PutS("Status: 204 No Content\r\n\r\n", f->out);
    /* As a web server: nothing more to send (libfcgi's close waits for
     * that, up to 2 s). */
    shutdown(sv[1], SHUT_WR);
    FCGX_Finish_r(f);
    while ((n = read(sv[1], ans + got, sizeof(ans) - (size_t)got)) > 0)
        got += n;
    ck_assert_int_ge(got, 8);
    ck_assert_int_eq(ans[1], 6);          /* FCGI_STDOUT */
    ck_assert_ptr_nonnull(memmem(ans, (size_t)got, "Status: 204", 11));
    close(sv[1]);
    close(dummy[0]);
    close(dummy[1]);
}

/* The gate's hand-over: libfcgi takes the parameters from their copy and
 * nothing past them, bodyread the body, and the answer goes out on the
 * connection. */
START_TEST(test_handover)
{
    static char out[sizeof(want)];
    FCGX_Request f;
    struct bodyread b;
    int dummy[2];

    request(0);
    send_request(dummy);
    ck_assert_int_eq(handover_body(&f, dummy[0], sv[0], &b), 1);
    ck_assert_str_eq(FCGX_GetParam("CONTENT_LENGTH", f.envp), "1003");
    ck_assert_str_eq(FCGX_GetParam("REQUEST_METHOD", f.envp), "POST");
    ck_assert_uint_eq(read_all(&b, out, sizeof(out)), wlen);
    ck_assert_mem_eq(out, want, wlen);
    answer(&f, dummy);
}
END_TEST

/* Parameters larger than a peek (no web server sends 64 KiB of them, but
 * one may): libfcgi reads the request, body included. */
START_TEST(test_handover_fallback)
{
    static char out[sizeof(want)];
    FCGX_Request f;
    struct bodyread b;
    int dummy[2], n, got = 0;

    ck_assert_uint_gt(request(700), PEEK_CAP);
    send_request(dummy);
    ck_assert_int_eq(handover_body(&f, dummy[0], sv[0], &b), 0);
    ck_assert_str_eq(FCGX_GetParam("HTTP_X_699", f.envp), value90());
    while ((n = FCGX_GetStr(out + got, (int)sizeof(out) - got, f.in)) > 0)
        got += n;
    ck_assert_int_eq(got, (int)wlen);
    ck_assert_mem_eq(out, want, wlen);
    answer(&f, dummy);
}
END_TEST

/* The copy holds exactly the parameters; the body stays in the socket. */
START_TEST(test_params_copy)
{
    unsigned char copy[64];
    int mfd;

    slen = wlen = 0;
    rec(1, 1, ID, 8, 0);
    rec(1, 4, ID, 0, 0);
    rec(1, 5, ID, 10, 6);
    pair();
    ck_assert_int_eq(write(sv[1], stream, slen), (ssize_t)slen);
    mfd = bodyread_params(sv[0], 24);
    ck_assert_int_ge(mfd, 0);
    ck_assert_int_eq(read(mfd, copy, sizeof(copy)), 24);
    ck_assert_mem_eq(copy, stream, 24);
    ck_assert_int_eq(read(sv[0], copy, sizeof(copy)), (ssize_t)slen - 24);
    ck_assert_mem_eq(copy, stream + 24, slen - 24);
    close(mfd);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

/* What has come is returned at once: a body thread's byte count (the
 * gate's stall check) moves while the rest is still on its way. */
START_TEST(test_returns_what_came)
{
    static char out[sizeof(want)];
    struct bodyread b;

    body();
    pair();
    /* the first record, and 4 bytes of the second's header */
    ck_assert_int_eq(write(sv[1], stream, 1008 + 4), 1012);
    bodyread_init(&b, sv[0], ID);
    ck_assert_int_eq(bodyread_read(&b, out, sizeof(out)), 1000);
    ck_assert_mem_eq(out, want, 1000);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

Suite *bodyread_suite(void)
{
    Suite *s = suite_create("bodyread");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_whole_body);
    tcase_add_test(tc, test_split_records);
    tcase_add_test(tc, test_truncated);
    tcase_add_test(tc, test_malformed);
    tcase_add_test(tc, test_handover);
    tcase_add_test(tc, test_handover_fallback);
    tcase_add_test(tc, test_params_copy);
    tcase_add_test(tc, test_returns_what_came);
    suite_add_tcase(s, tc);
    return s;
}
