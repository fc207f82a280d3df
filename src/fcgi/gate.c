/* gate.c - see gate.h. */
#include "fcgi/gate.h"
#include "fcgi/bodyread.h"
#include "fcgi/handover.h"
#include "fcgi/peek.h"

#include "common/log.h"
#include "common/util.h"
#include "fcgi/request.h"
#include "fcgi/taskcache.h"
#include "fcgi/worker.h"
#include "store/store.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define GATE_TICK_MS 100
/* Connections waiting for their body at once; past it, 503.  Each costs a
 * descriptor and a few bytes (rrcloud-fcgi raises its descriptor limit). */
#define GATE_MAX_WAITING 8192
/* How long a worker waits for the first record of a connection it accepted
 * (the web server writes it right after connecting). */
#define GATE_FIRST_WAIT_MS 1000
/* Wakes a body thread from the read of a body that was cut; after
 * GATE_CUT_GRACE seconds of signals, the socket's read side is shut. */
#define GATE_WAKE_SIGNAL SIGUSR2   /* libfcgi takes SIGUSR1 */
#define GATE_CUT_GRACE 2.0
/* How long the gate reads, and drops, the rest of a refused request's
 * body before it closes the connection (as libfcgi's close does). */
#define GATE_DRAIN_SECONDS 2.0
/* Body-thread store cache, as the workers' (main.c). */
#define GATE_CACHE_KIB 256

/* A connection waiting at the gate or queued for a body thread. */
struct conn {
    int fd;
    size_t params_end;        /* > 0: its parameters are all there */
    double t0;                /* accepted */
    double drain_until;       /* > 0: answered, its rest dropped until then */
    struct conn *prev, *next;
};

/* A body being read by a body thread. */
struct slot {
    int fd;                   /* a dup of the connection, -1 = free */
    double deadline;
    struct req_watch watch;   /* bytes read (by the body thread), cut */
    pthread_t tid;            /* the body thread reading it */
    double cut_time;          /* when watch.cut was set */
    int shut;                 /* its read side is shut down */
    unsigned long long mark_bytes; /* bytes at mark_time */
    double mark_time;
    int stalled;              /* < REQ_STALL_BYTES in the last window */
};

struct gate {
    struct app *app;
    int ep;                   /* epoll set of the waiting connections */
    int dummy[2];             /* libfcgi's "listener" (handover.h): a
                               * socketpair end, never a connection */
    pthread_t thread;
    int started;
    pthread_mutex_t lock;
    pthread_cond_t cond;      /* body queue not empty, or stopping */
    struct conn *waiting;     /* at the gate; guarded by lock */
    int nwaiting;
    struct conn *qhead, *qtail; /* ready for a body thread */
    int nq, qmax;
    struct slot *slots;       /* body_threads of them */
    pthread_cond_t gone;      /* a body thread ended */
    int nbody, nidle;         /* body threads running (detached), idle */
    int stopping;
    unsigned char peekbuf[PEEK_CAP]; /* the gate thread's */
};

/* Peeks at what the web server has sent so far (peek.h). */
static enum peek_state gate_peek(int fd, unsigned char *buf, size_t cap,
                                 size_t *params_end)
{
    ssize_t n = recv(fd, buf, cap, MSG_PEEK | MSG_DONTWAIT);

    if (n == 0)
        return PEEK_CLOSED;
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
                   ? PEEK_WAIT : PEEK_CLOSED;
    return peek_classify(buf, (size_t)n, cap, params_end);
}

/* A connection that is not one request of a web server that does not
 * multiplex (peek.h): said (once a minute at most: anyone who may use
 * the socket could fill the log), then closed by the caller unanswered. */
static void gate_bad(void)
{
    static long long said;      /* s; the gate's and workers' threads */
    long long now = (long long)rr_now(),
              prev = __atomic_load_n(&said, __ATOMIC_RELAXED);

    if (now - prev < 60 ||
        !__atomic_compare_exchange_n(&said, &prev, now, 0, __ATOMIC_RELAXED,
                                     __ATOMIC_RELAXED))
        return;
    log_warn("gate: a connection that is not one FastCGI responder request "
             "(does the web server multiplex, or is it no web server?): "
             "closed (said once a minute)");
}

int gate_request(struct gate *g, FCGX_Request *f, int fd)
{
    return handover_request(f, g->dummy[0], fd);
}

static void gate_wait(struct gate *g, struct conn *c);

/* Hands an answered connection to the gate thread, which drops what still
 * comes until the peer closes or GATE_DRAIN_SECONDS have passed.  Closing
 * with data unread would send a reset, which can lose the answer. */
static void gate_drain(struct gate *g, int fd)
{
    struct conn *c = calloc(1, sizeof(*c));

    shutdown(fd, SHUT_WR);
    if (!c) {
        close(fd);
        return;
    }
    c->fd = fd;
    c->t0 = rr_now();
    c->drain_until = c->t0 + GATE_DRAIN_SECONDS;
    gate_wait(g, c);  /* params_end 0: closed if the gate is full */
}

/* Answers a connection whose parameters are all there with an error, and
 * closes it; its body is not read.  libfcgi's close would wait for the
 * peer to stop sending, up to 2 s after each byte, and this runs on the
 * gate thread: with a dup keeping the socket open, the request is closed
 * without that wait (detached) and the gate drains the dup. */
static void gate_refuse(struct gate *g, int fd, int status, const char *extra,
                        const char *field, const char *msg)
{
    struct worker w = { .app = g->app, .st = NULL };
    FCGX_Request f;
    struct req r;
    int d = dup(fd);

    if (gate_request(g, &f, fd) < 0) {
        if (d >= 0)
            close(d);
        return;
    }
    req_init(&r, &f, &w);
    req_error_hdr(&r, status, extra, field, "%s", msg);
    req_free(&r);
    if (d >= 0)
        f.detached = 1;
    FCGX_Finish_r(&f);
    if (d >= 0)
        gate_drain(g, d);
}

static void gate_refuse_busy(struct gate *g, int fd, const char *why)
{
    char msg[256];

    snprintf(msg, sizeof(msg), "too many uploads in progress (%s); try "
             "again shortly", why);
    gate_refuse(g, fd, 503, "Retry-After: 5\r\n", NULL, msg);
}

/* ---- body threads ---------------------------------------------------------- */

static struct slot *slot_add(struct gate *g, int fd, double t0,
                             double deadline)
{
    struct slot *s = NULL;

    pthread_mutex_lock(&g->lock);
    for (int i = 0; i < g->app->conf.body_threads; i++) {
        if (g->slots[i].fd < 0) {
            s = &g->slots[i];
            /* A dup: the watchdog's shutdown can never hit a descriptor
             * number reused after the request closed its own. */
            s->fd = dup(fd);
            s->deadline = deadline;
            s->watch.bytes = 0;
            s->watch.cut = REQ_CUT_NONE;
            s->watch.in_read = 0;
            s->tid = pthread_self();
            s->shut = 0;
            s->mark_bytes = 0;
            s->mark_time = t0;
            s->stalled = 0;
            break;
        }
    }
    pthread_mutex_unlock(&g->lock);
    return s && s->fd >= 0 ? s : NULL;
}

static void slot_del(struct gate *g, struct slot *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&g->lock);
    close(s->fd);
    s->fd = -1;
    pthread_mutex_unlock(&g->lock);
}

static void gate_body_serve(struct gate *g, struct worker *w, struct conn *c)
{
    double deadline = c->t0 + (double)g->app->conf.body_timeout;
    FCGX_Request *f = malloc(sizeof(*f));
    struct slot *s;
    struct bodyread body;
    struct req r;
    int rc;

    if (!f) {
        close(c->fd);
        return;
    }
    /* Without a slot (dup failed: the descriptor table is full) nothing
     * would cut the read at body_timeout: refuse, body unread; closed if
     * libfcgi would have to read parameters not yet in sight. */
    s = slot_add(g, c->fd, rr_now(), deadline);
    if (!s) {
        log_err("body thread: no descriptor to watch an upload: %s",
                strerror(errno));
        if (c->params_end)
            gate_refuse_busy(g, c->fd, "out of file descriptors");
        else
            close(c->fd);
        free(f);
        return;
    }
    /* Marked as a read: when libfcgi reads the parameters from the
     * socket (handover.h), a peer that stalls is cut at body_timeout as
     * in the body. */
    __atomic_store_n(&s->watch.in_read, 1, __ATOMIC_SEQ_CST);
    rc = handover_body(f, g->dummy[0], c->fd, &body);
    __atomic_store_n(&s->watch.in_read, 0, __ATOMIC_SEQ_CST);
    if (rc == -2)
        gate_bad();
    if (rc < 0) {
        slot_del(g, s);
        free(f);
        return;
    }
    req_init(&r, f, w);
    r.watch = &s->watch;
    r.body = rc ? &body : NULL;
    if (route_request(&r) == REQ_HELD) {
        slot_del(g, s);
        req_free(&r);
        return; /* the holder owns f now */
    }
    slot_del(g, s);
    req_free(&r);
    FCGX_Finish_r(f);
    free(f);
}

/* Takes the queued upload with the most bytes waiting in its socket (the
 * first of equals): one that came in a burst and then trickles waits
 * behind those that flow.  Called under the lock, queue not empty. */
static struct conn *gate_queue_pop(struct gate *g)
{
    struct conn *c, *prev = NULL, *best = g->qhead, *best_prev = NULL;
    int most = -1;

    for (c = g->qhead; c; prev = c, c = c->next) {
        int n = 0;

        if (ioctl(c->fd, FIONREAD, &n) < 0)
            n = 0;
        if (n > most) {
            most = n;
            best = c;
            best_prev = prev;
        }
    }
    if (best_prev)
        best_prev->next = best->next;
    else
        g->qhead = best->next;
    if (g->qtail == best)
        g->qtail = best_prev;
    g->nq--;
    return best;
}

static void *gate_body_main(void *arg)
{
    struct gate *g = arg;
    struct worker w = { .app = g->app, .tasks = taskcache_new() };
    char err[512];

    w.st = store_open(g->app->conf.database, err, sizeof(err));
    if (w.st)
        store_set_cache_kib(w.st, GATE_CACHE_KIB);
    else
        log_err("body thread: %s", err);
    pthread_mutex_lock(&g->lock);
    while (w.st) {
        struct conn *c;

        while (!g->qhead && !g->stopping) {
            g->nidle++;
            pthread_cond_wait(&g->cond, &g->lock);
            g->nidle--;
        }
        if (g->stopping)
            break;
        c = gate_queue_pop(g);
        pthread_mutex_unlock(&g->lock);
        gate_body_serve(g, &w, c);
        free(c);
        pthread_mutex_lock(&g->lock);
    }
    pthread_mutex_unlock(&g->lock);
    store_close(w.st);
    taskcache_free(w.tasks);
    /* The last touch of g: gate_stop frees it once nbody is 0. */
    pthread_mutex_lock(&g->lock);
    g->nbody--;
    pthread_cond_broadcast(&g->gone);
    pthread_mutex_unlock(&g->lock);
    return NULL;
}

/* Starts a body thread (detached: one that cannot open its store, say
 * with the descriptor table full, ends; the sweep or a later upload starts
 * another).  Called under the lock. */
static void gate_body_spawn(struct gate *g)
{
    pthread_attr_t a;
    pthread_t t;

    if (pthread_attr_init(&a) != 0)
        return;
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &a, gate_body_main, g) == 0)
        g->nbody++;
    pthread_attr_destroy(&a);
}

/* Queues c for a body thread, starting one if none is idle. */
static void gate_queue_body(struct gate *g, struct conn *c)
{
    int full;

    pthread_mutex_lock(&g->lock);
    full = g->nq >= g->qmax;
    if (!full) {
        c->next = NULL;
        if (g->qtail)
            g->qtail->next = c;
        else
            g->qhead = c;
        g->qtail = c;
        g->nq++;
        /* An idle thread that was signalled counts as idle until it has
         * woken: compare with what is queued, not with 0. */
        if (g->nq > g->nidle && g->nbody < g->app->conf.body_threads)
            gate_body_spawn(g);
        pthread_cond_signal(&g->cond);
    }
    pthread_mutex_unlock(&g->lock);
    if (full && c->params_end) {
        char why[96];

        snprintf(why, sizeof(why), "body_threads %d busy, %d waiting",
                 g->app->conf.body_threads, g->qmax);
        gate_refuse_busy(g, c->fd, why);
    } else if (full) {
        /* Without the parameters' end in sight, libfcgi would read them
         * here on the gate thread, from a peer that may stall: closed. */
        close(c->fd);
    }
    if (full)
        free(c);
}

/* ---- the gate thread ------------------------------------------------------- */

static void gate_unlink(struct gate *g, struct conn *c)
{
    pthread_mutex_lock(&g->lock);
    if (c->prev)
        c->prev->next = c->next;
    else
        g->waiting = c->next;
    if (c->next)
        c->next->prev = c->prev;
    g->nwaiting--;
    pthread_mutex_unlock(&g->lock);
    epoll_ctl(g->ep, EPOLL_CTL_DEL, c->fd, NULL);
}

/* Parks c until its body is complete or flowing (worker threads). */
static void gate_wait(struct gate *g, struct conn *c)
{
    struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP | EPOLLET,
                              .data.ptr = c };
    int full;

    pthread_mutex_lock(&g->lock);
    full = g->nwaiting >= GATE_MAX_WAITING;
    if (!full) {
        c->prev = NULL;
        c->next = g->waiting;
        if (g->waiting)
            g->waiting->prev = c;
        g->waiting = c;
        g->nwaiting++;
        /* Under the lock: the gate thread may see the event at once.
         * Data that came since the peek is reported on adding. */
        if (epoll_ctl(g->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
            g->waiting = c->next;
            if (c->next)
                c->next->prev = NULL;
            g->nwaiting--;
            full = 1;
        }
    }
    pthread_mutex_unlock(&g->lock);
    if (full) {
        if (c->params_end)
            gate_refuse_busy(g, c->fd, "too many slow request bodies");
        else
            close(c->fd);
        free(c);
    }
}

/* Drops what has come on a draining connection.  Returns 1 once the
 * peer has closed it.  A few buffers an event: a peer that keeps sending
 * must not hold the gate thread (the sweep closes it at drain_until). */
static int gate_drain_read(struct gate *g, struct conn *c)
{
    for (int i = 0; i < 16; i++) {
        ssize_t n = recv(c->fd, g->peekbuf, sizeof(g->peekbuf),
                         MSG_DONTWAIT);

        if (n > 0)
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
    }
    return 0;
}

/* Looks again at a waiting connection on an epoll event (events).  The
 * peer may be gone with data still unread: nginx closes the upstream
 * connection of an aborted upload, the peek then sees bytes, not end of
 * file, and with EPOLLET no further event would come; the connection
 * would hold its place until body_timeout. */
static void gate_recheck(struct gate *g, struct conn *c, uint32_t events)
{
    enum peek_state st;

    if (c->drain_until > 0) {
        if (gate_drain_read(g, c)) {
            gate_unlink(g, c);
            close(c->fd);
            free(c);
        }
        return;
    }
    st = gate_peek(c->fd, g->peekbuf, sizeof(g->peekbuf), &c->params_end);
    if (st != PEEK_COMPLETE && (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
        log_debug("gate: connection closed before its body was complete");
        st = PEEK_CLOSED; /* nobody to answer */
    }
    switch (st) {
    case PEEK_WAIT:
        return;
    case PEEK_BAD:
        gate_bad();
        /* fall through */
    case PEEK_CLOSED:
        gate_unlink(g, c);
        close(c->fd);
        free(c);
        return;
    case PEEK_COMPLETE:
    case PEEK_FLOWING:
        gate_unlink(g, c);
        gate_queue_body(g, c);
        return;
    }
}

/* The blocked read returns end of file; the answer goes out on the write
 * side, which stays open (req_read answers 408). */
static void slot_cut(struct slot *s, enum req_cut why, double now)
{
    __atomic_store_n(&s->watch.cut, why, __ATOMIC_SEQ_CST);
    s->cut_time = now;
}

/* Wakes the body thread of a cut body from its read.  A signal makes the
 * read fail (libfcgi does not retry on EINTR; req_read retries bodyread's
 * only until the body is cut) while the web server can
 * still send: it reads the 408 before the connection closes.  It goes
 * only to a thread inside the read, again every tick in case it came
 * just before the read began.  Shutting the socket's read side down
 * would work too, but the web server's next write then fails at once
 * (EPIPE), often before the 408 is out, and it answers 502: that is the
 * fallback for a thread the signals do not wake. */
static void slot_wake(struct slot *s, double now)
{
    if (!__atomic_load_n(&s->watch.in_read, __ATOMIC_SEQ_CST))
        return;
    if (now - s->cut_time < GATE_CUT_GRACE)
        pthread_kill(s->tid, GATE_WAKE_SIGNAL);
    else if (!s->shut) {
        shutdown(s->fd, SHUT_RD);
        s->shut = 1;
    }
}

/* Cuts the bodies being read past their body_timeout, and, while flowing
 * uploads wait for a body thread, those that stalled: a client that sent
 * a burst and then trickles must not keep the others waiting until its
 * body_timeout.  Called under the lock. */
static void gate_sweep_bodies(struct gate *g, double now)
{
    int waiting = g->nq;

    for (int i = 0; i < g->app->conf.body_threads; i++) {
        struct slot *s = &g->slots[i];
        unsigned long long b;

        if (s->fd < 0)
            continue;
        if (__atomic_load_n(&s->watch.cut, __ATOMIC_SEQ_CST)) {
            slot_wake(s, now);
            continue;
        }
        if (now >= s->deadline) {
            slot_cut(s, REQ_CUT_DEADLINE, now);
            slot_wake(s, now);
            continue;
        }
        b = __atomic_load_n(&s->watch.bytes, __ATOMIC_RELAXED);
        if (now - s->mark_time >= REQ_STALL_SECONDS) {
            s->stalled = b - s->mark_bytes < REQ_STALL_BYTES;
            s->mark_bytes = b;
            s->mark_time = now;
        }
        if (s->stalled && waiting > 0) {
            slot_cut(s, REQ_CUT_STALLED, now);
            slot_wake(s, now);
            waiting--;
        }
    }
}

/* Moves the queued uploads whose body_timeout has passed (every body
 * thread was busy for all of it) onto late.  Called under the lock. */
static struct conn *gate_sweep_queue(struct gate *g, double now,
                                     struct conn *late)
{
    struct conn *c = g->qhead, *prev = NULL, *next;
    double limit = (double)g->app->conf.body_timeout;

    for (; c; c = next) {
        next = c->next;
        if (now < c->t0 + limit) {
            prev = c;
            continue;
        }
        if (prev)
            prev->next = next;
        else
            g->qhead = next;
        if (g->qtail == c)
            g->qtail = prev;
        g->nq--;
        c->next = late;
        late = c;
    }
    return late;
}

/* Answers 408 to the connections whose body_timeout has passed at the
 * gate or in the queue, and cuts the bodies being read past theirs or
 * stalled. */
static void gate_sweep(struct gate *g, double now)
{
    long long limit = g->app->conf.body_timeout;
    struct conn *c, *next, *late = NULL;
    char msg[160];
    int n408 = 0;

    pthread_mutex_lock(&g->lock);
    for (c = g->waiting; c; c = next) {
        next = c->next;
        if (now < (c->drain_until > 0 ? c->drain_until
                                      : c->t0 + (double)limit))
            continue;
        if (c->prev)
            c->prev->next = c->next;
        else
            g->waiting = c->next;
        if (c->next)
            c->next->prev = c->prev;
        g->nwaiting--;
        c->next = late;
        late = c;
    }
    late = gate_sweep_queue(g, now, late);
    gate_sweep_bodies(g, now);
    /* A body thread that could not open its store has ended: without this
     * the uploads it left queued would wait for the next one to arrive.
     * At most one a tick, so a store that stays closed costs little. */
    if (g->nq > g->nidle && g->nbody < g->app->conf.body_threads)
        gate_body_spawn(g);
    pthread_mutex_unlock(&g->lock);
    snprintf(msg, sizeof(msg), "request body not complete within %lld s "
             "(body_timeout)", limit);
    for (c = late; c; c = c->next)
        n408 += c->drain_until == 0 && c->params_end;
    if (n408)
        log_info("gate: requests still without their whole body after "
                 "%lld s (body_timeout): 408", limit);
    for (c = late; c; c = next) {
        next = c->next;
        epoll_ctl(g->ep, EPOLL_CTL_DEL, c->fd, NULL);
        if (c->params_end && c->drain_until == 0)
            gate_refuse(g, c->fd, 408, NULL, "body_timeout", msg);
        else
            close(c->fd);
        free(c);
    }
}

static void *gate_main(void *arg)
{
    struct gate *g = arg;
    struct epoll_event evs[64];
    double last = 0;

    for (;;) {
        int n = epoll_wait(g->ep, evs, 64, GATE_TICK_MS);
        double now;

        pthread_mutex_lock(&g->lock);
        if (g->stopping) {
            pthread_mutex_unlock(&g->lock);
            break;
        }
        pthread_mutex_unlock(&g->lock);
        for (int i = 0; i < n; i++)
            gate_recheck(g, evs[i].data.ptr, evs[i].events);
        now = rr_now();
        if (now - last >= GATE_TICK_MS / 1000.0) {
            gate_sweep(g, now);
            last = now;
        }
    }
    return NULL;
}

/* ---- the workers' side ----------------------------------------------------- */

int gate_take(struct gate *g, int fd, double t0)
{
    unsigned char buf[PEEK_CAP];
    enum peek_state st;
    struct conn *c;
    size_t params_end = 0;

    st = gate_peek(fd, buf, sizeof(buf), &params_end);
    if (st == PEEK_WAIT && !params_end) {
        struct pollfd p = { .fd = fd, .events = POLLIN };

        if (poll(&p, 1, GATE_FIRST_WAIT_MS) > 0)
            st = gate_peek(fd, buf, sizeof(buf), &params_end);
    }
    if (st == PEEK_COMPLETE)
        return 1;
    if (st == PEEK_BAD)
        gate_bad();
    if (st == PEEK_CLOSED || st == PEEK_BAD ||
        !(c = calloc(1, sizeof(*c)))) {
        close(fd);
        return 0;
    }
    c->fd = fd;
    c->t0 = t0;
    c->params_end = params_end;
    if (st == PEEK_FLOWING)
        gate_queue_body(g, c);
    else
        gate_wait(g, c);
    return 0;
}

static void gate_wake_handler(int sig)
{
    (void)sig;  /* its only effect is the interrupted read */
}

/* Without SA_RESTART: the read returns EINTR. */
static int gate_signal_init(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = gate_wake_handler;
    sigemptyset(&sa.sa_mask);
    return sigaction(GATE_WAKE_SIGNAL, &sa, NULL);
}

struct gate *gate_start(struct app *app, char *err, size_t errlen)
{
    struct gate *g = calloc(1, sizeof(*g));
    int n = app->conf.body_threads;

    if (g) {
        g->app = app;
        g->ep = g->dummy[0] = g->dummy[1] = -1;
        pthread_mutex_init(&g->lock, NULL);
        pthread_cond_init(&g->cond, NULL);
        pthread_cond_init(&g->gone, NULL);
    }
    if (!g || !(g->slots = calloc((size_t)n, sizeof(*g->slots)))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    g->qmax = 4 * n;
    for (int i = 0; i < n; i++)
        g->slots[i].fd = -1;
    if (gate_signal_init() < 0) {
        snprintf(err, errlen, "gate: sigaction: %s", strerror(errno));
        goto fail;
    }
    g->ep = epoll_create1(EPOLL_CLOEXEC);
    if (g->ep < 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, g->dummy) < 0) {
        snprintf(err, errlen, "gate: %s", strerror(errno));
        goto fail;
    }
    if (pthread_create(&g->thread, NULL, gate_main, g) != 0) {
        snprintf(err, errlen, "gate: cannot start its thread");
        goto fail;
    }
    g->started = 1;
    return g;
fail:
    gate_stop(g);
    return NULL;
}

void gate_stop(struct gate *g)
{
    struct conn *c, *next;

    if (!g)
        return;
    pthread_mutex_lock(&g->lock);
    g->stopping = 1;
    pthread_cond_broadcast(&g->cond);
    /* Wake the body threads blocked in a read. */
    for (int i = 0; g->slots && i < g->app->conf.body_threads; i++)
        if (g->slots[i].fd >= 0)
            shutdown(g->slots[i].fd, SHUT_RDWR);
    pthread_mutex_unlock(&g->lock);
    if (g->started)
        pthread_join(g->thread, NULL);
    pthread_mutex_lock(&g->lock);
    while (g->nbody > 0)
        pthread_cond_wait(&g->gone, &g->lock);
    pthread_mutex_unlock(&g->lock);
    for (c = g->waiting; c; c = next) {
        next = c->next;
        close(c->fd);
        free(c);
    }
    for (c = g->qhead; c; c = next) {
        next = c->next;
        close(c->fd);
        free(c);
    }
    if (g->ep >= 0)
        close(g->ep);
    for (int i = 0; i < 2; i++)
        if (g->dummy[i] >= 0)
            close(g->dummy[i]);
    pthread_mutex_destroy(&g->lock);
    pthread_cond_destroy(&g->cond);
    pthread_cond_destroy(&g->gone);
    free(g->slots);
    free(g);
}
