/* test_notify.c - unit tests for src/daemon/notify.c against an
 * in-process loopback HTTP server thread (no mocking of libcurl). */
#include "common/conf.h"
#include "common/util.h"
#include "daemon/notify.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

Suite *notify_suite(void);

#define SRV_MAX_REQ 8

/* A tiny HTTP/1.1 server: answers each connection with the next code of
 * its script (the last one repeats) and records the request head. */
struct srv {
    int fd, port;
    pthread_t th;
    pthread_mutex_t mu;
    int codes[SRV_MAX_REQ], ncodes;
    size_t body_len;          /* bytes of body in each answer */
    int nreq;
    char req[SRV_MAX_REQ][4096];
    int stop;
};

static struct srv srv;
static char dir[64];
static struct rr_conf conf;
static struct store *st;
static struct notify *nt;

static void srv_answer(int c, int code)
{
    char head[256];
    static char chunk[65536];
    size_t left = srv.body_len;

    snprintf(head, sizeof(head),
             "HTTP/1.1 %d Whatever\r\nContent-Length: %zu\r\n"
             "Location: http://127.0.0.1:%d/elsewhere\r\n"
             "Connection: close\r\n\r\n", code, left, srv.port);
    if (send(c, head, strlen(head), MSG_NOSIGNAL) < 0)
        return;
    memset(chunk, 'x', sizeof(chunk));
    while (left > 0) {
        size_t n = left < sizeof(chunk) ? left : sizeof(chunk);
        if (send(c, chunk, n, MSG_NOSIGNAL) < 0)
            return;  /* the client hung up: fine */
        left -= n;
    }
}

static void srv_serve(int c)
{
    char buf[4096];
    size_t len = 0;
    int code, i;

    /* Reads the head (and a small body, if the client sent one at once). */
    while (len < sizeof(buf) - 1) {
        struct pollfd p = { .fd = c, .events = POLLIN };
        ssize_t n;

        if (poll(&p, 1, 1000) <= 0)
            break;
        n = recv(c, buf + len, sizeof(buf) - 1 - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
        if (strstr(buf, "\r\n\r\n") &&
            (!strstr(buf, "Content-Length:") ||
             strstr(buf, "\r\n\r\n")[4] != '\0'))
            break;
    }
    buf[len] = '\0';
    pthread_mutex_lock(&srv.mu);
    i = srv.nreq < SRV_MAX_REQ ? srv.nreq : SRV_MAX_REQ - 1;
    memcpy(srv.req[i], buf, len + 1);
    code = srv.codes[srv.nreq < srv.ncodes ? srv.nreq : srv.ncodes - 1];
    srv.nreq++;
    pthread_mutex_unlock(&srv.mu);
    srv_answer(c, code);
}

static void *srv_main(void *arg)
{
    for (;;) {
        struct pollfd p = { .fd = srv.fd, .events = POLLIN };
        int c, stop;

        pthread_mutex_lock(&srv.mu);
        stop = srv.stop;
        pthread_mutex_unlock(&srv.mu);
        if (stop)
            break;
        if (poll(&p, 1, 50) <= 0)
            continue;
        c = accept(srv.fd, NULL, NULL);
        if (c < 0)
            continue;
        srv_serve(c);
        close(c);
    }
    return NULL;
}

static void srv_start(const int *codes, int ncodes)
{
    struct sockaddr_in sa = { .sin_family = AF_INET };
    socklen_t slen = sizeof(sa);

    memset(&srv, 0, sizeof(srv));
    pthread_mutex_init(&srv.mu, NULL);
    memcpy(srv.codes, codes, (size_t)ncodes * sizeof(int));
    srv.ncodes = ncodes;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    srv.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(srv.fd, 0);
    ck_assert_int_eq(bind(srv.fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(listen(srv.fd, 16), 0);
    ck_assert_int_eq(getsockname(srv.fd, (struct sockaddr *)&sa, &slen), 0);
    srv.port = ntohs(sa.sin_port);
    ck_assert_int_eq(pthread_create(&srv.th, NULL, srv_main, NULL), 0);
}

static int srv_nreq(void)
{
    int n;

    pthread_mutex_lock(&srv.mu);
    n = srv.nreq;
    pthread_mutex_unlock(&srv.mu);
    return n;
}

static void setup(void)
{
    char err[512];

    ck_assert_int_eq(curl_global_init(CURL_GLOBAL_DEFAULT), 0);
    snprintf(dir, sizeof(dir), "/tmp/rrtest-notify-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    conf_defaults(&conf, dir);
    conf.notifier_retries = 3;
    conf.notifier_backoff = 1;
    conf.notifier_timeout = 5;
    /* The test's receiver listens on loopback. */
    snprintf(conf.notifier_allow, sizeof(conf.notifier_allow), "127.0.0.0/8");
    st = store_open(conf.database, err, sizeof(err));
    ck_assert_msg(st != NULL, "%s", err);
    nt = NULL;
    srv.fd = -1;
}

static void teardown(void)
{
    notify_stop(nt);
    if (srv.fd >= 0) {
        pthread_mutex_lock(&srv.mu);
        srv.stop = 1;
        pthread_mutex_unlock(&srv.mu);
        pthread_join(srv.th, NULL);
        close(srv.fd);
    }
    store_close(st);
    rr_rmtree(dir);
    curl_global_cleanup();
}

static void start_notifier(void)
{
    char err[512];

    nt = notify_start(&conf, err, sizeof(err));
    ck_assert_msg(nt != NULL, "%s", err);
}

/* Waits until the store shows no pending delivery (max_ms). */
static void wait_settled(long long max_ms, long long *delivered,
                         long long *failed)
{
    long long end = rr_mono_ms() + max_ms, pending;

    for (;;) {
        ck_assert_int_eq(store_notify_counts(st, &pending, delivered, failed),
                         0);
        if (pending == 0 || rr_mono_ms() > end)
            break;
        usleep(10000);
    }
    ck_assert_int_eq(pending, 0);
}

static void add_delivery(char id[RR_ID_LEN], const char *path,
                         const char *body)
{
    char url[256];

    rr_id_new(id);
    snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", srv.port, path);
    ck_assert_int_eq(store_notify_add(st, id, url, body), 0);
}

START_TEST(test_delivered)
{
    static const int codes[] = { 200 };
    char id[RR_ID_LEN], hdr[64];
    long long delivered, failed;

    srv_start(codes, 1);
    add_delivery(id, "/hook?id=1", NULL);
    start_notifier();
    wait_settled(2000, &delivered, &failed);
    ck_assert_int_eq(delivered, 1);
    ck_assert_int_eq(failed, 0);
    ck_assert_int_eq(srv_nreq(), 1);
    ck_assert_msg(strncmp(srv.req[0], "GET /hook?id=1 HTTP/1.1\r\n", 25) == 0,
                  "%s", srv.req[0]);
    snprintf(hdr, sizeof(hdr), "\r\nX-Rrcloud-Task: %s\r\n", id);
    ck_assert_ptr_nonnull(strstr(srv.req[0], hdr));
    ck_assert_ptr_nonnull(strstr(srv.req[0], "\r\nUser-Agent: rrcloud/"));
    ck_assert_ptr_null(strstr(srv.req[0], "X-Rrcloud-Signature"));
}
END_TEST

START_TEST(test_retry_then_delivered)
{
    static const int codes[] = { 500, 200 };
    char id[RR_ID_LEN];
    long long delivered, failed, t0 = rr_mono_ms();

    srv_start(codes, 2);
    add_delivery(id, "/hook", NULL);
    start_notifier();
    wait_settled(4000, &delivered, &failed);
    ck_assert_int_eq(delivered, 1);
    ck_assert_int_eq(srv_nreq(), 2);
    /* The retry waited notifier_backoff (1 s). */
    ck_assert_int_ge(rr_mono_ms() - t0, 900);
}
END_TEST

START_TEST(test_gives_up)
{
    static const int codes[] = { 503 };
    char id[RR_ID_LEN];
    long long delivered, failed;

    conf.notifier_retries = 2;
    conf.notifier_backoff = 0;
    srv_start(codes, 1);
    add_delivery(id, "/hook", NULL);
    start_notifier();
    wait_settled(3000, &delivered, &failed);
    ck_assert_int_eq(delivered, 0);
    ck_assert_int_eq(failed, 1);
    ck_assert_int_eq(srv_nreq(), 3);  /* 1 + notifier_retries */
}
END_TEST

START_TEST(test_signature)
{
    static const int codes[] = { 204, 200 };
    char id[RR_ID_LEN], id2[RR_ID_LEN], sig[NOTIFY_SIG_LEN], hdr[160];
    char url[128];
    const char *body = "{\"job\":7,\"state\":\"complete\"}";
    long long delivered, failed, ts;

    /* Known answers from `printf 'TS\nID\nURL[\nBODY]' |
     * openssl dgst -sha256 -hmac s3cret`. */
    ck_assert_int_eq(notify_signature("s3cret", 1796000000,
                                      "1795434896-02367-530514",
                                      "http://127.0.0.1/hook?id=1", NULL, sig),
                     0);
    ck_assert_str_eq(sig, "sha256=bf06967899ad89e9828ece55510b1096c00dd7e4"
                          "cf7a972bcd12b24f3124c171");
    ck_assert_int_eq(notify_signature("s3cret", 1796000000,
                                      "1795434896-02367-530514",
                                      "http://127.0.0.1/hook", "{\"a\":1}",
                                      sig), 0);
    ck_assert_str_eq(sig, "sha256=7c7c4a5c376f4a9bd86b11ee5bf31bcee23a54e5"
                          "b9e71fed8a16e9f164c9657a");

    /* A task's GET and a print job's POST of JSON are both signed. */
    snprintf(conf.notifier_secret, sizeof(conf.notifier_secret), "s3cret");
    srv_start(codes, 2);
    add_delivery(id, "/signed", NULL);
    add_delivery(id2, "/job", body);
    start_notifier();
    wait_settled(2000, &delivered, &failed);
    ck_assert_int_eq(delivered, 2);
    ck_assert_int_eq(srv_nreq(), 2);
    for (int i = 0; i < 2; i++) {
        const char *req = srv.req[i], *t = strstr(req, "\r\nX-Rrcloud-Timestamp: ");
        int post = strncmp(req, "POST ", 5) == 0;

        ck_assert_ptr_nonnull(t);
        ts = strtoll(t + strlen("\r\nX-Rrcloud-Timestamp: "), NULL, 10);
        ck_assert_int_lt(llabs((long long)time(NULL) - ts), 60);
        snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", srv.port,
                 post ? "/job" : "/signed");
        ck_assert_int_eq(notify_signature("s3cret", ts, post ? id2 : id, url,
                                          post ? body : NULL, sig), 0);
        snprintf(hdr, sizeof(hdr), "\r\nX-Rrcloud-Signature: %s\r\n", sig);
        ck_assert_msg(strstr(req, hdr) != NULL, "%s", req);
    }
}
END_TEST

START_TEST(test_post_body)
{
    static const int codes[] = { 200 };
    char id[RR_ID_LEN];
    long long delivered, failed;

    srv_start(codes, 1);
    add_delivery(id, "/json", "{\"status\":\"complete\"}");
    start_notifier();
    wait_settled(2000, &delivered, &failed);
    ck_assert_int_eq(delivered, 1);
    ck_assert(strncmp(srv.req[0], "POST /json HTTP/1.1\r\n", 21) == 0);
    ck_assert_ptr_nonnull(strstr(srv.req[0],
                                 "\r\nContent-Type: application/json\r\n"));
    ck_assert_ptr_nonnull(strstr(srv.req[0],
                                 "\r\n\r\n{\"status\":\"complete\"}"));
}
END_TEST

START_TEST(test_redirect_not_followed)
{
    static const int codes[] = { 302, 200 };
    char id[RR_ID_LEN];
    long long delivered, failed;

    conf.notifier_retries = 0;
    srv_start(codes, 2);
    add_delivery(id, "/moved", NULL);
    start_notifier();
    wait_settled(2000, &delivered, &failed);
    ck_assert_int_eq(failed, 1);
    ck_assert_int_eq(srv_nreq(), 1);
}
END_TEST

START_TEST(test_other_schemes_refused)
{
    char id[RR_ID_LEN];
    long long delivered, failed;

    conf.notifier_retries = 0;
    rr_id_new(id);
    ck_assert_int_eq(store_notify_add(st, id, "file:///etc/passwd", NULL), 0);
    rr_id_new(id);
    ck_assert_int_eq(store_notify_add(st, id, "gopher://127.0.0.1/", NULL), 0);
    start_notifier();
    wait_settled(2000, &delivered, &failed);
    ck_assert_int_eq(delivered, 0);
    ck_assert_int_eq(failed, 2);
}
END_TEST

/* Without notifier_allow a loopback receiver is refused at connect time,
 * by literal address or by a name that resolves there, and at once for
 * good: retrying would be refused again. */
START_TEST(test_denied_address_refused)
{
    static const int codes[] = { 200 };
    char id[RR_ID_LEN], url[128];
    long long delivered, failed, t0 = rr_mono_ms();

    conf.notifier_allow[0] = '\0';
    srv_start(codes, 1);
    add_delivery(id, "/hook", NULL);
    rr_id_new(id);
    snprintf(url, sizeof(url), "http://localhost:%d/hook", srv.port);
    ck_assert_int_eq(store_notify_add(st, id, url, "{}"), 0);
    start_notifier();
    wait_settled(3000, &delivered, &failed);
    ck_assert_int_eq(delivered, 0);
    ck_assert_int_eq(failed, 2);
    ck_assert_int_eq(srv_nreq(), 0);
    /* notifier_backoff is 1 s: no retry was waited for. */
    ck_assert_int_lt(rr_mono_ms() - t0, 900);
}
END_TEST

START_TEST(test_bad_allow_list)
{
    char err[256];

    snprintf(conf.notifier_allow, sizeof(conf.notifier_allow), "10.0.0.0/40");
    nt = notify_start(&conf, err, sizeof(err));
    ck_assert_ptr_null(nt);
    ck_assert_ptr_nonnull(strstr(err, "10.0.0.0/40"));
}
END_TEST

START_TEST(test_big_answer_capped)
{
    static const int codes[] = { 200 };
    char id[RR_ID_LEN];
    long long delivered, failed;

    srv_start(codes, 1);
    srv.body_len = 8 << 20;
    add_delivery(id, "/big", NULL);
    start_notifier();
    wait_settled(3000, &delivered, &failed);
    ck_assert_int_eq(delivered, 1);
}
END_TEST

START_TEST(test_kick_and_idle)
{
    static const int codes[] = { 200 };
    char id[RR_ID_LEN];
    long long pending, delivered, failed, t0;

    srv_start(codes, 1);
    start_notifier();
    ck_assert_int_eq(notify_wait_idle(nt, 1000), 0);
    /* A delivery queued later goes out on a kick, not at the next poll. */
    add_delivery(id, "/kicked", NULL);
    t0 = rr_mono_ms();
    notify_kick(nt);
    ck_assert_int_eq(notify_wait_idle(nt, 2000), 0);
    ck_assert_int_lt(rr_mono_ms() - t0, 500);
    ck_assert_int_eq(store_notify_counts(st, &pending, &delivered, &failed),
                     0);
    ck_assert_int_eq(delivered, 1);
}
END_TEST

START_TEST(test_pending_survives_stop)
{
    static const int codes[] = { 500 };
    char id[RR_ID_LEN];
    long long pending, delivered, failed;

    conf.notifier_backoff = 60;
    srv_start(codes, 1);
    add_delivery(id, "/later", NULL);
    start_notifier();
    for (int i = 0; i < 200 && srv_nreq() == 0; i++)
        usleep(10000);
    usleep(50000);
    notify_stop(nt);
    nt = NULL;
    ck_assert_int_eq(store_notify_counts(st, &pending, &delivered, &failed),
                     0);
    ck_assert_int_eq(pending, 1);
    ck_assert_int_eq(srv_nreq(), 1);
}
END_TEST

Suite *notify_suite(void)
{
    Suite *s = suite_create("notify");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_delivered);
    tcase_add_test(tc, test_denied_address_refused);
    tcase_add_test(tc, test_bad_allow_list);
    tcase_add_test(tc, test_retry_then_delivered);
    tcase_add_test(tc, test_gives_up);
    tcase_add_test(tc, test_signature);
    tcase_add_test(tc, test_post_body);
    tcase_add_test(tc, test_redirect_not_followed);
    tcase_add_test(tc, test_other_schemes_refused);
    tcase_add_test(tc, test_big_answer_capped);
    tcase_add_test(tc, test_kick_and_idle);
    tcase_add_test(tc, test_pending_survives_stop);
    suite_add_tcase(s, tc);
    return s;
}
