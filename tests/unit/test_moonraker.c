/* test_moonraker.c - unit tests for src/fleet/moonraker.c.
 *
 * The client runs on a real loop (daemon/loop.c) against an in-process
 * loopback HTTP/1.1 server thread with scripted answers (no mocking of
 * libcurl), and, when it is built, against the real rrcloud-printersim
 * ($RRCLOUD_PRINTERSIM, which make check sets and which must then exist;
 * else ./rrcloud-printersim, and those tests skip with a message without
 * it). */
#include "daemon/loop.h"
#include "fleet/moonraker.h"
#include "http/netcheck.h"

#include <arpa/inet.h>
#include <check.h>
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

Suite *moonraker_suite(void);

/* ---- loopback server --------------------------------------------------- */

#define SRV_CONNS 16
#define SRV_CAP 65536

enum srv_mode { SRV_ANSWER, SRV_HANG, SRV_DROP, SRV_CLOSE };

/* What the server answers: the first rule whose prefix matches the path. */
struct srv_rule {
    const char *prefix;
    int status;
    const char *body;
    enum srv_mode mode;
    size_t pad;              /* extra body bytes ('x') after body */
};

struct srv_conn {
    int fd;
    char in[SRV_CAP];
    size_t len;
    long long hang_until;
};

static struct {
    int lfd, port, stop;
    pthread_t th;
    pthread_mutex_t mu;
    struct srv_rule rules[8];
    int nrules;
    struct srv_conn conns[SRV_CONNS];
    int accepted, requests;
    char last_req[SRV_CAP];  /* head + body of the last request */
    size_t last_len;
} srv;

static long long now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const struct srv_rule *srv_match(const char *path)
{
    for (int i = 0; i < srv.nrules; i++) {
        if (strncmp(path, srv.rules[i].prefix,
                    strlen(srv.rules[i].prefix)) == 0)
            return &srv.rules[i];
    }
    return NULL;
}

static void srv_close(struct srv_conn *c)
{
    close(c->fd);
    c->fd = -1;
    c->len = 0;
    c->hang_until = 0;
}

/* One write per answer: a head and body in two segments would meet
 * Nagle and delayed ACKs and cost 40 ms per request. */
static void srv_answer(struct srv_conn *c, const struct srv_rule *r)
{
    static char out[SRV_CAP];
    size_t blen = strlen(r->body) + r->pad;
    int n = snprintf(out, sizeof(out),
                     "HTTP/1.1 %d X\r\nContent-Type: application/json\r\n"
                     "%sContent-Length: %zu\r\n\r\n%s", r->status,
                     r->mode == SRV_CLOSE ? "Connection: close\r\n" : "",
                     blen, r->body);
    size_t len = (size_t)n;

    if (len + r->pad > sizeof(out))
        return;
    memset(out + len, 'x', r->pad);
    len += r->pad;
    if (write(c->fd, out, len) < 0)
        return;
}

/* One complete request in c->in?  Then answer it and drop it. */
static void srv_try(struct srv_conn *c)
{
    char *end, *cl, path[256] = "";
    size_t head, body = 0, total;
    const struct srv_rule *r;

    c->in[c->len] = '\0';
    end = strstr(c->in, "\r\n\r\n");
    if (!end)
        return;
    head = (size_t)(end - c->in) + 4;
    cl = strcasestr(c->in, "\r\nContent-Length:");
    if (cl && cl < end)
        body = strtoul(cl + 17, NULL, 10);
    total = head + body;
    if (c->len < total && c->len < SRV_CAP - 1)
        return;
    sscanf(c->in, "%*s %255s", path);
    pthread_mutex_lock(&srv.mu);
    srv.requests++;
    srv.last_len = c->len < total ? c->len : total;
    memcpy(srv.last_req, c->in, srv.last_len);
    srv.last_req[srv.last_len] = '\0';
    r = srv_match(path);
    pthread_mutex_unlock(&srv.mu);
    if (r && r->mode == SRV_HANG) {
        c->hang_until = now_ms() + 5000;
        c->len = 0;
        return;
    }
    if (!r || r->mode == SRV_DROP) {
        srv_close(c);
        return;
    }
    srv_answer(c, r);
    if (r->mode == SRV_CLOSE) {
        srv_close(c);
        return;
    }
    memmove(c->in, c->in + total, c->len > total ? c->len - total : 0);
    c->len = c->len > total ? c->len - total : 0;
}

static void *srv_main(void *arg)
{
    while (!srv.stop) {
        struct pollfd p[SRV_CONNS + 1];
        int n = 0;

        p[n++] = (struct pollfd){ .fd = srv.lfd, .events = POLLIN };
        for (int i = 0; i < SRV_CONNS; i++)
            p[n++] = (struct pollfd){ .fd = srv.conns[i].fd,
                                      .events = POLLIN };
        if (poll(p, (nfds_t)n, 50) < 0)
            continue;
        if (p[0].revents & POLLIN) {
            int fd = accept(srv.lfd, NULL, NULL);

            for (int i = 0; fd >= 0 && i < SRV_CONNS; i++) {
                if (srv.conns[i].fd < 0) {
                    srv.conns[i].fd = fd;
                    fd = -1;
                    pthread_mutex_lock(&srv.mu);
                    srv.accepted++;
                    pthread_mutex_unlock(&srv.mu);
                }
            }
            if (fd >= 0)
                close(fd);
        }
        for (int i = 0; i < SRV_CONNS; i++) {
            struct srv_conn *c = &srv.conns[i];
            ssize_t got;

            if (c->fd < 0 || !(p[i + 1].revents & (POLLIN | POLLHUP)))
                continue;
            got = read(c->fd, c->in + c->len, SRV_CAP - 1 - c->len);
            if (got <= 0) {
                srv_close(c);
                continue;
            }
            c->len += (size_t)got;
            if (!c->hang_until)
                srv_try(c);
        }
    }
    return NULL;
}

static void srv_start(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t al = sizeof(a);
    int one = 1;

    memset(&srv, 0, sizeof(srv));
    for (int i = 0; i < SRV_CONNS; i++)
        srv.conns[i].fd = -1;
    pthread_mutex_init(&srv.mu, NULL);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    srv.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(srv.lfd, 0);
    setsockopt(srv.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    ck_assert_int_eq(bind(srv.lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(srv.lfd, 64), 0);
    ck_assert_int_eq(getsockname(srv.lfd, (struct sockaddr *)&a, &al), 0);
    srv.port = ntohs(a.sin_port);
    ck_assert_int_eq(pthread_create(&srv.th, NULL, srv_main, NULL), 0);
}

static void srv_stop(void)
{
    srv.stop = 1;
    pthread_join(srv.th, NULL);
    for (int i = 0; i < SRV_CONNS; i++) {
        if (srv.conns[i].fd >= 0)
            close(srv.conns[i].fd);
    }
    close(srv.lfd);
}

static void srv_rule(const char *prefix, int status, const char *body,
                     enum srv_mode mode)
{
    pthread_mutex_lock(&srv.mu);
    srv.rules[srv.nrules++] = (struct srv_rule){ prefix, status, body, mode,
                                                 0 };
    pthread_mutex_unlock(&srv.mu);
}

/* ---- client fixture ---------------------------------------------------- */

static struct loop *L;
static struct mr_client *C;
static char base[128];

struct got {
    int done;
    enum mr_err err;
    long http;
    char message[256];
    struct mr_status st;
    int has_status;
    int klippy_connected;
};

static void on_done(void *arg, const struct mr_reply *rep)
{
    struct got *g = arg;

    g->done++;
    g->err = rep->err;
    g->http = rep->http;
    snprintf(g->message, sizeof(g->message), "%s", rep->message);
    g->has_status = rep->status != NULL;
    if (rep->status)
        g->st = *rep->status;
    g->klippy_connected = rep->klippy_connected;
}

/* Runs the loop until g is done (or max_ms passes). */
static void wait_done(struct got *g, long long max_ms)
{
    long long end = now_ms() + max_ms;

    while (!g->done && now_ms() < end)
        loop_run_once(L, 50);
    ck_assert_msg(g->done == 1, "request did not finish (done=%d)", g->done);
}

/* Runs one request (call passes &g) to its end. */
#define RUN(g, call)                                \
    do {                                            \
        memset(&(g), 0, sizeof(g));                 \
        ck_assert_ptr_nonnull(call);                \
        wait_done(&(g), 5000);                      \
    } while (0)

static void setup(void)
{
    struct mr_opts o = { .connect_timeout_ms = 1000,
                         .query_timeout_ms = 1500, .max_body = 4096 };

    signal(SIGPIPE, SIG_IGN);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    srv_start();
    snprintf(base, sizeof(base), "http://127.0.0.1:%d/p/1/", srv.port);
    L = loop_new();
    ck_assert_ptr_nonnull(L);
    C = mr_client_new(L, &o);
    ck_assert_ptr_nonnull(C);
}

static void teardown(void)
{
    mr_client_free(C);
    loop_free(L);
    srv_stop();
    curl_global_cleanup();
}

static const char idle_status[] =
    "{\"result\":{\"eventtime\":1.0,\"status\":{"
    "\"webhooks\":{\"state\":\"ready\","
    "\"state_message\":\"Printer is ready\"},"
    "\"print_stats\":{\"filename\":\"rr-j-0-1.gcode\",\"state\":\"printing\","
    "\"message\":\"\",\"print_duration\":12.5},"
    "\"virtual_sdcard\":{\"progress\":0.25,\"is_active\":true},"
    "\"extruder\":{\"temperature\":200.5,\"target\":210},"
    "\"heater_bed\":{\"temperature\":null,\"target\":null},"
    "\"display_status\":{\"progress\":0.25}}}}";

/* ---- pure functions ---------------------------------------------------- */

START_TEST(classify)
{
    static const struct { enum mr_kind k; int cc; long http; enum mr_err e; }
    c[] = {
        { MR_QUERY, CURLE_OK, 200, MR_OK },
        { MR_UPLOAD, CURLE_OK, 201, MR_OK },
        { MR_QUERY, CURLE_COULDNT_CONNECT, 0, MR_ERR_OFFLINE },
        { MR_QUERY, CURLE_OPERATION_TIMEDOUT, 0, MR_ERR_OFFLINE },
        { MR_GET, CURLE_SSL_CONNECT_ERROR, 0, MR_ERR_OFFLINE },
        { MR_QUERY, CURLE_OK, 503, MR_ERR_KLIPPY },
        { MR_START, CURLE_OK, 503, MR_ERR_KLIPPY },
        { MR_QUERY, CURLE_OK, 404, MR_ERR_KLIPPY },
        { MR_START, CURLE_OK, 404, MR_ERR_NOTFOUND },
        { MR_GET, CURLE_OK, 404, MR_ERR_NOTFOUND },
        { MR_START, CURLE_OK, 400, MR_ERR_BUSY },
        { MR_UPLOAD, CURLE_OK, 403, MR_ERR_BUSY },
        { MR_QUERY, CURLE_OK, 401, MR_ERR_AUTH },
        { MR_GET, CURLE_OK, 502, MR_ERR_TUNNEL },
        { MR_QUERY, CURLE_OK, 504, MR_ERR_TUNNEL },
        { MR_QUERY, CURLE_OK, 500, MR_ERR_HTTP },
        { MR_QUERY, CURLE_WRITE_ERROR, 200, MR_ERR_PROTO },
        { MR_QUERY, CURLE_RECV_ERROR, 200, MR_ERR_OFFLINE },
    };

    for (size_t i = 0; i < sizeof(c) / sizeof(*c); i++)
        ck_assert_msg(mr_classify(c[i].k, c[i].cc, c[i].http) == c[i].e,
                      "case %zu", i);
    ck_assert_str_eq(mr_err_name(MR_ERR_TUNNEL), "tunnel");
    ck_assert_str_eq(mr_pstate_name(MR_PS_CANCELLED), "cancelled");
}
END_TEST

START_TEST(parse_status)
{
    struct mr_status st;
    static const char shut[] =
        "{\"result\":{\"status\":{\"webhooks\":{\"state\":\"shutdown\","
        "\"state_message\":\"MCU shutdown\"},\"print_stats\":{\"state\":"
        "\"error\",\"filename\":\"a.gcode\",\"message\":\"\"}}}}";

    ck_assert_int_eq(mr_parse_status(idle_status, strlen(idle_status), &st),
                     0);
    ck_assert_int_eq(st.klippy, MR_KLIPPY_READY);
    ck_assert_int_eq(st.pstate, MR_PS_PRINTING);
    ck_assert_str_eq(st.filename, "rr-j-0-1.gcode");
    ck_assert_str_eq(st.message, "");
    ck_assert(st.progress > 0.24 && st.progress < 0.26);
    ck_assert(st.ext_target > 209.0 && st.bed_target == 0.0);
    ck_assert_int_eq(st.is_active, 1);
    ck_assert_int_eq(mr_parse_status(shut, strlen(shut), &st), 0);
    ck_assert_int_eq(st.klippy, MR_KLIPPY_SHUTDOWN);
    ck_assert_str_eq(st.message, "MCU shutdown");
    ck_assert_int_eq(mr_parse_status("{\"result\":\"ok\"}", 15, &st), -1);
    ck_assert_int_eq(mr_parse_status("garbage", 7, &st), -1);
}
END_TEST

/* ---- against the loopback server --------------------------------------- */

START_TEST(query_ok_and_keepalive)
{
    struct mr_target t = { .base = base, .api_key = "k123" };

    srv_rule("/p/1/printer/objects/query", 200, idle_status, SRV_ANSWER);
    for (int i = 0; i < 5; i++) {
        struct got g = { 0 };

        ck_assert_ptr_nonnull(mr_query(C, &t, on_done, &g));
        wait_done(&g, 3000);
        ck_assert_int_eq(g.err, MR_OK);
        ck_assert_int_eq(g.has_status, 1);
        ck_assert_str_eq(g.st.filename, "rr-j-0-1.gcode");
    }
    pthread_mutex_lock(&srv.mu);
    ck_assert_int_eq(srv.requests, 5);
    ck_assert_int_eq(srv.accepted, 1);   /* one kept-alive connection */
    ck_assert_ptr_nonnull(strstr(srv.last_req, "X-Api-Key: k123\r\n"));
    ck_assert_ptr_nonnull(strstr(srv.last_req, "print_stats="));
    pthread_mutex_unlock(&srv.mu);
    ck_assert_int_eq(mr_client_active(C), 0);
}
END_TEST

START_TEST(errors_classified)
{
    struct mr_target t = { .base = base };
    struct got g = { 0 };

    srv_rule("/p/1/printer/objects/query", 503,
             "{\"error\":{\"code\":503,\"message\":\"Klippy Host not "
             "connected\"}}", SRV_ANSWER);
    srv_rule("/p/1/printer/print/start", 400,
             "{\"error\":{\"code\":400,\"message\":\"SD busy\"}}",
             SRV_ANSWER);
    srv_rule("/p/1/printer/print/pause", 502, "<html>bad gateway</html>",
             SRV_ANSWER);
    mr_query(C, &t, on_done, &g);
    wait_done(&g, 3000);
    ck_assert_int_eq(g.err, MR_ERR_KLIPPY);
    ck_assert_int_eq(g.http, 503);
    ck_assert_str_eq(g.message, "Klippy Host not connected");
    RUN(g, mr_start(C, &t, "rr a&b.gcode", on_done, &g));
    ck_assert_int_eq(g.err, MR_ERR_BUSY);
    ck_assert_str_eq(g.message, "SD busy");
    pthread_mutex_lock(&srv.mu);
    ck_assert_ptr_nonnull(strstr(srv.last_req,
        "POST /p/1/printer/print/start?filename=rr%20a%26b.gcode "));
    pthread_mutex_unlock(&srv.mu);
    RUN(g, mr_command(C, &t, MR_PAUSE, on_done, &g));
    ck_assert_int_eq(g.err, MR_ERR_TUNNEL);
    ck_assert_str_eq(g.message, "HTTP 502");
    ck_assert_ptr_null(mr_command(C, &t, MR_START, on_done, &g));
}
END_TEST

START_TEST(offline_refused_and_timeout)
{
    struct mr_target t = { .base = base };
    struct got g = { 0 }, h = { 0 };
    char dead[64];
    long long t0;

    /* a port nobody listens on */
    snprintf(dead, sizeof(dead), "http://127.0.0.1:1/p/1");
    t.base = dead;
    mr_query(C, &t, on_done, &g);
    wait_done(&g, 3000);
    ck_assert_int_eq(g.err, MR_ERR_OFFLINE);
    ck_assert_int_eq(g.http, 0);
    ck_assert(g.message[0] != '\0');
    /* a printer that never answers: the total timeout (1.5 s) ends it */
    srv_rule("/p/1/printer/objects/query", 200, "", SRV_HANG);
    t.base = base;
    t0 = now_ms();
    mr_query(C, &t, on_done, &h);
    wait_done(&h, 4000);
    ck_assert_int_eq(h.err, MR_ERR_OFFLINE);
    ck_assert(now_ms() - t0 >= 1400);
    /* dropped connection without an answer */
    memset(&g, 0, sizeof(g));
    srv.nrules = 0;
    srv_rule("/p/1/server/info", 200, "", SRV_DROP);
    mr_info(C, &t, on_done, &g);
    wait_done(&g, 3000);
    ck_assert_int_eq(g.err, MR_ERR_OFFLINE);
}
END_TEST

/* A pooled handle whose transfer failed to resolve its host is used
 * again (libcurl 7.88 then refuses CURLOPT_BUFFERSIZE on it). */
START_TEST(unresolvable_then_reused)
{
    struct mr_target t = { .base = "http://rrcloud-test.invalid/p/1" };
    struct got g = { 0 };

    srv_rule("/p/1/printer/objects/query", 200, idle_status, SRV_ANSWER);
    RUN(g, mr_query(C, &t, on_done, &g));
    ck_assert_int_eq(g.err, MR_ERR_OFFLINE);
    t.base = base;
    RUN(g, mr_query(C, &t, on_done, &g));
    ck_assert_int_eq(g.err, MR_OK);
}
END_TEST

/* With a deny list, a loopback share is refused before any byte is sent,
 * and says why; an allow list lets it through. */
START_TEST(netcheck_refuses_denied_peer)
{
    struct netcheck_allow none, lo;
    struct mr_opts o = { .connect_timeout_ms = 1000,
                         .query_timeout_ms = 1500, .max_body = 4096 };
    struct mr_target t = { .base = base };
    struct mr_client *guarded;
    struct got g = { 0 };
    char err[128];

    ck_assert_int_eq(netcheck_allow_parse(&none, "", err, sizeof(err)), 0);
    ck_assert_int_eq(netcheck_allow_parse(&lo, "127.0.0.0/8", err,
                                          sizeof(err)), 0);
    srv_rule("/p/1/printer/objects/query", 200, idle_status, SRV_ANSWER);
    o.netcheck = &none;
    guarded = mr_client_new(L, &o);
    ck_assert_ptr_nonnull(guarded);
    RUN(g, mr_query(guarded, &t, on_done, &g));
    ck_assert_int_eq(g.err, MR_ERR_OFFLINE);
    ck_assert_msg(strstr(g.message, "refused") &&
                  strstr(g.message, "loopback"), "%s", g.message);
    pthread_mutex_lock(&srv.mu);
    ck_assert_int_eq(srv.accepted, 0);
    pthread_mutex_unlock(&srv.mu);
    mr_client_free(guarded);
    o.netcheck = &lo;
    guarded = mr_client_new(L, &o);
    ck_assert_ptr_nonnull(guarded);
    RUN(g, mr_query(guarded, &t, on_done, &g));
    ck_assert_int_eq(g.err, MR_OK);
    mr_client_free(guarded);
}
END_TEST

START_TEST(body_cap)
{
    struct mr_target t = { .base = base };
    struct got g = { 0 };

    srv_rule("/p/1/printer/objects/query", 200, "{\"result\":", SRV_ANSWER);
    srv.rules[0].pad = 10000;    /* over the 4 KiB cap of the fixture */
    mr_query(C, &t, on_done, &g);
    wait_done(&g, 3000);
    ck_assert_int_eq(g.err, MR_ERR_PROTO);
    ck_assert_str_eq(g.message, "answer larger than the cap");
    /* a 2xx that is not an objects/query answer */
    memset(&g, 0, sizeof(g));
    srv.rules[0].pad = 0;
    mr_query(C, &t, on_done, &g);
    wait_done(&g, 3000);
    ck_assert_int_eq(g.err, MR_ERR_PROTO);
}
END_TEST

START_TEST(upload_streams_file)
{
    struct mr_target t = { .base = base, .api_key = "kk",
                           .userpwd = "ctl:secret" };
    char path[] = "/tmp/test_moonraker_XXXXXX";
    struct got g = { 0 };
    int fd = mkstemp(path);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "G28\nG1 X10\n", 11), 11);
    close(fd);
    srv_rule("/p/1/server/files/upload", 201,
             "{\"action\":\"create_file\",\"print_started\":false}",
             SRV_ANSWER);
    RUN(g, mr_upload(C, &t, path, "rr-a-0-1.gcode", "ab12", 0, on_done,
                     &g));
    ck_assert_int_eq(g.err, MR_OK);
    ck_assert_int_eq(g.http, 201);
    pthread_mutex_lock(&srv.mu);
    ck_assert_ptr_nonnull(strstr(srv.last_req,
                                 "POST /p/1/server/files/upload"));
    ck_assert_ptr_nonnull(strstr(srv.last_req, "X-Api-Key: kk\r\n"));
    /* base64("ctl:secret") */
    ck_assert_ptr_nonnull(strstr(srv.last_req,
                                 "Authorization: Basic Y3RsOnNlY3JldA=="));
    ck_assert_ptr_null(strstr(srv.last_req, "Expect:"));
    ck_assert_ptr_nonnull(strstr(srv.last_req,
                                 "filename=\"rr-a-0-1.gcode\""));
    ck_assert_ptr_nonnull(strstr(srv.last_req, "G28\nG1 X10\n"));
    ck_assert_ptr_nonnull(strstr(srv.last_req, "name=\"checksum\""));
    pthread_mutex_unlock(&srv.mu);
    /* a missing blob fails at once, no callback */
    unlink(path);
    memset(&g, 0, sizeof(g));
    ck_assert_ptr_null(mr_upload(C, &t, path, "x.gcode", NULL, 0, on_done,
                                 &g));
    ck_assert_int_eq(errno, ENOENT);
    ck_assert_int_eq(g.done, 0);
}
END_TEST

START_TEST(cancel_in_flight)
{
    struct mr_target t = { .base = base };
    struct got g = { 0 }, h = { 0 };
    struct mr_xfer *x;
    long long end;

    srv_rule("/p/1/printer/objects/query", 200, "", SRV_HANG);
    srv_rule("/p/1/server/info", 200,
             "{\"result\":{\"klippy_connected\":true,\"klippy_state\":"
             "\"ready\"}}", SRV_ANSWER);
    x = mr_query(C, &t, on_done, &g);
    ck_assert_ptr_nonnull(x);
    mr_info(C, &t, on_done, &h);
    wait_done(&h, 3000);
    ck_assert_int_eq(h.err, MR_OK);
    ck_assert_int_eq(h.klippy_connected, 1);
    ck_assert_int_eq(mr_client_active(C), 1);
    mr_cancel(C, x);
    ck_assert_int_eq(mr_client_active(C), 0);
    end = now_ms() + 300;
    while (now_ms() < end)
        loop_run_once(L, 50);
    ck_assert_int_eq(g.done, 0);
}
END_TEST

/* A server that closes after each answer: curl closes its socket each
 * time and the next one (often the same fd number) must register anew. */
START_TEST(connection_close)
{
    struct mr_target t = { .base = base };

    srv_rule("/p/1/printer/objects/query", 200, idle_status, SRV_CLOSE);
    for (int i = 0; i < 20; i++) {
        struct got g = { 0 };

        ck_assert_ptr_nonnull(mr_query(C, &t, on_done, &g));
        wait_done(&g, 3000);
        ck_assert_msg(g.err == MR_OK, "request %d: %s", i, g.message);
    }
    pthread_mutex_lock(&srv.mu);
    ck_assert_int_eq(srv.accepted, 20);
    pthread_mutex_unlock(&srv.mu);
}
END_TEST

START_TEST(interpret)
{
    static const char up[] = "{\"result\":{\"klippy_connected\":true,"
                             "\"klippy_state\":\"ready\"}}";
    static const char down[] = "{\"result\":{\"klippy_connected\":false,"
                               "\"klippy_state\":\"disconnected\"}}";
    static const char busy[] = "{\"error\":{\"code\":400,\"message\":"
                               "\"SD busy\"}}";
    struct mr_status st;
    char text[128];
    int kc = -1;

    ck_assert_int_eq(mr_interpret(MR_INFO, CURLE_OK, 200, up, strlen(up), 0,
                                  NULL, &st, &kc, text, sizeof(text)), MR_OK);
    ck_assert_int_eq(kc, 1);
    ck_assert_int_eq(mr_interpret(MR_INFO, CURLE_OK, 200, down, strlen(down),
                                  0, NULL, &st, &kc, text, sizeof(text)),
                     MR_OK);
    ck_assert_int_eq(kc, 0);
    ck_assert_int_eq(mr_interpret(MR_INFO, CURLE_OK, 200, "[]", 2, 0, NULL,
                                  &st, &kc, text, sizeof(text)),
                     MR_ERR_PROTO);
    ck_assert_int_eq(mr_interpret(MR_START, CURLE_OK, 400, busy, strlen(busy),
                                  0, NULL, &st, &kc, text, sizeof(text)),
                     MR_ERR_BUSY);
    ck_assert_str_eq(text, "SD busy");
    ck_assert_int_eq(mr_interpret(MR_QUERY, CURLE_COULDNT_CONNECT, 0, "", 0,
                                  0, "Failed to connect", &st, &kc, text,
                                  sizeof(text)), MR_ERR_OFFLINE);
    ck_assert_str_eq(text, "Failed to connect");
    ck_assert_int_eq(mr_interpret(MR_GET, CURLE_OK, 502, "<html>", 6, 0, "",
                                  &st, &kc, text, sizeof(text)),
                     MR_ERR_TUNNEL);
    ck_assert_str_eq(text, "HTTP 502");
}
END_TEST

/* Many transfers at once through the loop: every callback runs once. */
START_TEST(many_parallel)
{
    struct mr_target t = { .base = base };
    static struct got g[200];
    long long end = now_ms() + 10000;
    int done = 0;

    memset(g, 0, sizeof(g));
    srv_rule("/p/1/printer/objects/query", 200, idle_status, SRV_ANSWER);
    for (int i = 0; i < 200; i++)
        ck_assert_ptr_nonnull(mr_query(C, &t, on_done, &g[i]));
    while (done < 200 && now_ms() < end) {
        loop_run_once(L, 50);
        done = 0;
        for (int i = 0; i < 200; i++)
            done += g[i].done;
    }
    ck_assert_int_eq(done, 200);
    for (int i = 0; i < 200; i++)
        ck_assert_msg(g[i].err == MR_OK, "%d: %s", i, g[i].message);
    pthread_mutex_lock(&srv.mu);
    ck_assert_int_le(srv.accepted, 2);   /* host_connections = 2 */
    pthread_mutex_unlock(&srv.mu);
}
END_TEST

/* ---- against rrcloud-printersim ---------------------------------------- */

static pid_t sim_pid;
static int sim_port;

static const char *sim_path(void)
{
    const char *p = getenv("RRCLOUD_PRINTERSIM");

    /* Named (as make check does): it must be there, or the test fails. */
    if (p && *p) {
        ck_assert_msg(access(p, X_OK) == 0, "RRCLOUD_PRINTERSIM=%s is not "
                      "an executable", p);
        return p;
    }
    return access("./rrcloud-printersim", X_OK) == 0 ?
           "./rrcloud-printersim" : NULL;
}

/* Starts the simulator on a free port; 0, or -1 (test skipped). */
static int sim_start(const char *extra)
{
    const char *bin = sim_path();
    int p[2];
    char line[256] = "";
    FILE *f;

    if (!bin) {
        fprintf(stderr, "SKIP: rrcloud-printersim not found "
                "(set RRCLOUD_PRINTERSIM)\n");
        return -1;
    }
    ck_assert_int_eq(pipe(p), 0);
    sim_pid = fork();
    ck_assert_int_ge(sim_pid, 0);
    if (sim_pid == 0) {
        dup2(p[1], 1);
        close(p[0]);
        execl(bin, bin, "--port=0", "--printers=3", "--time-scale=50",
              "--print-seconds=60", "--log-level=warn", extra, (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    f = fdopen(p[0], "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
    fclose(f);
    ck_assert_int_eq(sscanf(line, "rrcloud-printersim: listening on "
                            "http://127.0.0.1:%d", &sim_port), 1);
    return 0;
}

static void sim_stop(void)
{
    if (sim_pid > 0) {
        kill(sim_pid, SIGTERM);
        waitpid(sim_pid, NULL, 0);
        sim_pid = 0;
    }
}

static void sim_query(const struct mr_target *t, struct got *g)
{
    memset(g, 0, sizeof(*g));
    ck_assert_ptr_nonnull(mr_query(C, t, on_done, g));
    wait_done(g, 5000);
}

START_TEST(sim_print_cycle)
{
    char b[128], path[] = "/tmp/test_moonraker_XXXXXX";
    struct mr_target t = { .base = b };
    struct got g = { 0 };
    long long end;
    int fd;

    if (sim_start("--seed=7") < 0)
        return;
    snprintf(b, sizeof(b), "http://127.0.0.1:%d/p/2", sim_port);
    sim_query(&t, &g);
    ck_assert_int_eq(g.err, MR_OK);
    ck_assert_int_eq(g.st.klippy, MR_KLIPPY_READY);
    ck_assert_int_eq(g.st.pstate, MR_PS_STANDBY);
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, "G28\nG1 X1 E1\n", 13), 13);
    close(fd);
    RUN(g, mr_upload(C, &t, path, "rr-j1-0-1.gcode", NULL, 0, on_done,
                     &g));
    unlink(path);
    ck_assert_msg(g.err == MR_OK, "upload: %s", g.message);
    /* starting a file that is not there: refused */
    RUN(g, mr_start(C, &t, "missing.gcode", on_done, &g));
    ck_assert_int_ne(g.err, MR_OK);
    RUN(g, mr_start(C, &t, "rr-j1-0-1.gcode", on_done, &g));
    ck_assert_msg(g.err == MR_OK, "start: %s", g.message);
    sim_query(&t, &g);
    ck_assert_int_eq(g.st.pstate, MR_PS_PRINTING);
    ck_assert_str_eq(g.st.filename, "rr-j1-0-1.gcode");
    /* a second start while printing is "busy"; the file in use stays */
    RUN(g, mr_start(C, &t, "rr-j1-0-1.gcode", on_done, &g));
    ck_assert_int_eq(g.err, MR_ERR_BUSY);
    RUN(g, mr_delete(C, &t, "rr-j1-0-1.gcode", on_done, &g));
    ck_assert_int_eq(g.err, MR_ERR_BUSY);
    RUN(g, mr_command(C, &t, MR_PAUSE, on_done, &g));
    ck_assert_int_eq(g.err, MR_OK);
    sim_query(&t, &g);
    ck_assert_int_eq(g.st.pstate, MR_PS_PAUSED);
    RUN(g, mr_command(C, &t, MR_RESUME, on_done, &g));
    ck_assert_int_eq(g.err, MR_OK);
    /* 60 simulated seconds at 50x: done in about 1.2 s plus heating */
    end = now_ms() + 15000;
    do {
        sim_query(&t, &g);
        if (g.st.pstate == MR_PS_COMPLETE)
            break;
        loop_run_once(L, 200);
    } while (now_ms() < end);
    ck_assert_int_eq(g.st.pstate, MR_PS_COMPLETE);
    ck_assert_str_eq(g.st.filename, "rr-j1-0-1.gcode");
    /* done: the file goes (DELETE /server/files/gcodes/NAME), once */
    RUN(g, mr_delete(C, &t, "rr-j1-0-1.gcode", on_done, &g));
    ck_assert_msg(g.err == MR_OK, "delete: %s", g.message);
    RUN(g, mr_delete(C, &t, "rr-j1-0-1.gcode", on_done, &g));
    ck_assert_int_eq(g.err, MR_ERR_NOTFOUND);
    ck_assert_ptr_null(mr_delete(C, &t, "../x.gcode", on_done, &g));
    sim_stop();
}
END_TEST

START_TEST(sim_api_key)
{
    char b[128];
    struct mr_target t = { .base = b, .api_key = "wrong" };
    struct got g = { 0 };

    if (sim_start("--api-key=0123456789abcdef0123456789abcdef") < 0)
        return;
    snprintf(b, sizeof(b), "http://127.0.0.1:%d/p/1", sim_port);
    sim_query(&t, &g);
    ck_assert_int_eq(g.err, MR_ERR_AUTH);
    t.api_key = "0123456789abcdef0123456789abcdef";
    sim_query(&t, &g);
    ck_assert_int_eq(g.err, MR_OK);
    sim_stop();
}
END_TEST

static void sim_teardown(void)
{
    sim_stop();
    teardown();
}

Suite *moonraker_suite(void)
{
    Suite *s = suite_create("moonraker");
    TCase *tc = tcase_create("pure");
    TCase *net = tcase_create("loopback");
    TCase *sim = tcase_create("printersim");

    tcase_add_test(tc, classify);
    tcase_add_test(tc, parse_status);
    tcase_add_test(tc, interpret);
    suite_add_tcase(s, tc);
    tcase_add_checked_fixture(net, setup, teardown);
    tcase_set_timeout(net, 20);
    tcase_add_test(net, query_ok_and_keepalive);
    tcase_add_test(net, errors_classified);
    tcase_add_test(net, offline_refused_and_timeout);
    tcase_add_test(net, body_cap);
    tcase_add_test(net, unresolvable_then_reused);
    tcase_add_test(net, netcheck_refuses_denied_peer);
    tcase_add_test(net, upload_streams_file);
    tcase_add_test(net, cancel_in_flight);
    tcase_add_test(net, many_parallel);
    tcase_add_test(net, connection_close);
    suite_add_tcase(s, net);
    tcase_add_checked_fixture(sim, setup, sim_teardown);
    tcase_set_timeout(sim, 30);
    tcase_add_test(sim, sim_print_cycle);
    tcase_add_test(sim, sim_api_key);
    suite_add_tcase(s, sim);
    return s;
}
