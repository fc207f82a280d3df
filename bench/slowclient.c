/*
 * slowclient - slow HTTP clients and a latency probe, for bench/bench_slow.sh
 * and tests/integration/test_slowclients.sh.
 *
 *   slowclient attack PORT CONNS SECONDS [options]
 *       Keeps CONNS connections to 127.0.0.1:PORT open for SECONDS, each
 *       trickling one byte every --gap seconds: half of them (--mode mixed,
 *       the default) a request header that never ends, half a multipart
 *       POST to / declaring --length bytes of body.  A connection the
 *       server closes is opened again.  Connections are spread over
 *       --addrs source addresses 127.0.0.2, 127.0.0.3, ...  At the end it
 *       prints "opened N closed N status408 N status5xx N refused N", and
 *       the body of the first 408 answer.
 *   slowclient probe PORT COUNT PATH...
 *       COUNT sequential GETs (HTTP/1.0, one connection each), cycling
 *       through the paths; prints one line per request: milliseconds and
 *       status (0: no answer within --timeout seconds).
 *
 * Options: --mode body|header|mixed, --gap S (default 2), --length N
 * (default 1048576), --addrs N (default 250), --timeout S (default 5),
 * --burst N (a body sends N bytes at once before it trickles).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct opts {
    const char *mode;
    double gap;
    long long length;
    int addrs;
    double timeout;
    long long burst;
};

struct sc_conn {
    int fd;
    int body;                 /* 1: trickles a body, 0: a header */
    size_t sent;              /* bytes of the prefix sent */
    double next;              /* next trickled byte */
};

static unsigned port;
static struct opts o = { "mixed", 2.0, 1048576, 250, 5.0, 0 };
static long long n_opened, n_closed, n_408, n_5xx, n_refused;
static volatile sig_atomic_t stop;   /* SIGTERM: print the counts, end */
static char first408[512];    /* the body of the first 408 seen */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int sc_connect(int idx, int nonblock)
{
    struct sockaddr_in src = { .sin_family = AF_INET };
    struct sockaddr_in dst = { .sin_family = AF_INET };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    if (idx >= 0 && o.addrs > 0) {
        /* 127.0.0.2 .. : per-address limits see many clients. */
        src.sin_addr.s_addr = htonl(0x7f000002u + (uint32_t)(idx % o.addrs));
        if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
            close(fd);
            return -1;
        }
    }
    dst.sin_port = htons((uint16_t)port);
    dst.sin_addr.s_addr = htonl(0x7f000001u);
    if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
        close(fd);
        return -1;
    }
    if (nonblock)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

/* What a connection sends before it starts to trickle. */
static void sc_prefix(const struct sc_conn *c, char *buf, size_t len)
{
    if (c->body)
        snprintf(buf, len,
                 "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                 "Content-Type: multipart/form-data; boundary=slowslowslow\r\n"
                 "Content-Length: %lld\r\n\r\n"
                 "--slowslowslow\r\nContent-Disposition: form-data; "
                 "name=\"service\"\r\n\r\necho\r\n--slowslowslow\r\n"
                 "Content-Disposition: form-data; name=\"fileIn0\"; "
                 "filename=\"slow.txt\"\r\n\r\n", o.length);
    else
        snprintf(buf, len, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n");
}

/* --burst: a body that starts at full speed, then trickles. */
static void sc_burst(struct sc_conn *c)
{
    static char x[65536];
    long long left = o.burst;

    memset(x, 'x', sizeof(x));
    while (left > 0) {
        struct pollfd p = { .fd = c->fd, .events = POLLOUT };
        size_t n = left < (long long)sizeof(x) ? (size_t)left : sizeof(x);
        ssize_t w = send(c->fd, x, n, MSG_NOSIGNAL);

        if (w < 0 && errno == EAGAIN && poll(&p, 1, 2000) > 0)
            continue;
        if (w <= 0)
            return;
        left -= w;
        c->sent += (size_t)w;
    }
}

static void sc_open(struct sc_conn *c, int idx, double now)
{
    char pre[1024];

    c->fd = sc_connect(idx, 1);
    c->sent = 0;
    c->next = now + o.gap;
    if (c->fd < 0) {
        n_refused++;
        c->next = now + 0.2;
        return;
    }
    n_opened++;
    sc_prefix(c, pre, sizeof(pre));
    if (send(c->fd, pre, strlen(pre), MSG_NOSIGNAL) > 0)
        c->sent = strlen(pre);
    if (c->body && o.burst > 0)
        sc_burst(c);
}

/* The server answered or closed: count what it said, and start again. */
static void sc_closed(struct sc_conn *c, int idx, double now)
{
    char buf[512];
    ssize_t n = recv(c->fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

    if (n > 12) {
        buf[n] = '\0';
        if (strncmp(buf + 9, "408", 3) == 0 && n_408++ == 0) {
            const char *b = strstr(buf, "\r\n\r\n");

            snprintf(first408, sizeof(first408), "%s", b ? b + 4 : "");
            first408[strcspn(first408, "\r\n")] = '\0';
        }
        else if (buf[9] == '5')
            n_5xx++;
    }
    close(c->fd);
    n_closed++;
    sc_open(c, idx, now);
}

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}

static int attack(int conns, double seconds)
{
    struct sc_conn *cs = calloc((size_t)conns, sizeof(*cs));
    struct pollfd *pf = calloc((size_t)conns, sizeof(*pf));
    double t0 = now_s(), end = t0 + seconds;

    if (!cs || !pf) {
        free(cs);
        free(pf);
        return 1;
    }
    signal(SIGTERM, on_term);
    signal(SIGINT, on_term);
    for (int i = 0; i < conns; i++) {
        if (strcmp(o.mode, "body") == 0)
            cs[i].body = 1;
        else if (strcmp(o.mode, "mixed") == 0)
            cs[i].body = i % 2;
        sc_open(&cs[i], i, t0);
        /* Spread the trickled bytes over the gap. */
        cs[i].next = t0 + o.gap * (double)i / conns;
    }
    while (!stop && now_s() < end) {
        double now;

        for (int i = 0; i < conns; i++) {
            pf[i].fd = cs[i].fd;
            pf[i].events = POLLIN;
            pf[i].revents = 0;
        }
        poll(pf, (nfds_t)conns, 50);
        now = now_s();
        for (int i = 0; i < conns; i++) {
            struct sc_conn *c = &cs[i];

            if (c->fd < 0) {
                if (now >= c->next)
                    sc_open(c, i, now);
                continue;
            }
            if (pf[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                sc_closed(c, i, now);
                continue;
            }
            if (now >= c->next) {
                /* Header bytes make a never-ending header line; body
                 * bytes stay below the declared length. */
                const char *b = c->body ? "x" : "X";

                if (c->body && (long long)c->sent >= o.length - 1)
                    b = NULL;
                if (b && send(c->fd, b, 1, MSG_NOSIGNAL) == 1)
                    c->sent++;
                c->next = now + o.gap;
            }
        }
    }
    printf("opened %lld closed %lld status408 %lld status5xx %lld "
           "refused %lld\n", n_opened, n_closed, n_408, n_5xx, n_refused);
    if (first408[0])
        printf("first 408: %s\n", first408);
    fflush(stdout);
    for (int i = 0; i < conns; i++)
        if (cs[i].fd >= 0)
            close(cs[i].fd);
    free(cs);
    free(pf);
    return 0;
}

/* One GET; returns the status, 0 if none came within the timeout. */
static int probe_one(const char *path)
{
    char req[1200], buf[4096];
    double end = now_s() + o.timeout;
    size_t got = 0;
    int fd, status = 0;

    snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n"
             "Accept: application/json\r\n\r\n", path);
    fd = sc_connect(-1, 0);   /* from 127.0.0.1: the good client */
    if (fd < 0)
        return 0;
    if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0)
        goto out;
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int ms = (int)((end - now_s()) * 1000);
        ssize_t n;

        if (ms <= 0 || poll(&p, 1, ms) <= 0)
            goto out;
        n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
        if (n <= 0)
            break;
        got += (size_t)n;
        if (got == sizeof(buf) - 1)
            got = 12;   /* only the status line matters */
    }
    buf[got] = '\0';
    if (got > 12 && strncmp(buf, "HTTP/1.", 7) == 0)
        status = atoi(buf + 9);
out:
    close(fd);
    return status;
}

static int probe(int count, char **paths, int npaths)
{
    for (int i = 0; i < count; i++) {
        double t = now_s();
        int st = probe_one(paths[i % npaths]);

        printf("%.3f %d %s\n", (now_s() - t) * 1000, st, paths[i % npaths]);
        fflush(stdout);
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct rlimit rl;
    int i = 2;

    if (argc < 4) {
        fprintf(stderr, "usage: slowclient attack PORT CONNS SECONDS [opts]"
                "\n       slowclient probe PORT COUNT PATH... [opts]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    port = (unsigned)atoi(argv[i++]);
    for (int j = 4; j + 1 < argc; j++) {
        if (strcmp(argv[j], "--mode") == 0)
            o.mode = argv[++j];
        else if (strcmp(argv[j], "--gap") == 0)
            o.gap = atof(argv[++j]);
        else if (strcmp(argv[j], "--length") == 0)
            o.length = atoll(argv[++j]);
        else if (strcmp(argv[j], "--addrs") == 0)
            o.addrs = atoi(argv[++j]);
        else if (strcmp(argv[j], "--timeout") == 0)
            o.timeout = atof(argv[++j]);
        else if (strcmp(argv[j], "--burst") == 0)
            o.burst = atoll(argv[++j]);
    }
    if (strcmp(argv[1], "attack") == 0)
        return attack(atoi(argv[2 + 1]), atof(argv[4]));
    if (strcmp(argv[1], "probe") == 0) {
        int n = 4;

        while (n < argc && strncmp(argv[n], "--", 2) != 0)
            n++;
        return probe(atoi(argv[3]), argv + 4, n - 4);
    }
    fprintf(stderr, "slowclient: unknown command %s\n", argv[1]);
    return 2;
}
