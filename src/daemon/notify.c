/* notify.c - see notify.h. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include "daemon/notify.h"

#include "common/log.h"
#include "common/util.h"
#include "http/url.h"
#include "http/netcheck.h"
#include "store/store.h"

#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

#define NOTIFY_MAX_INFLIGHT 16
#define NOTIFY_BODY_CAP (64 * 1024) /* response bytes read, then dropped */
#define NOTIFY_MAX_DELAY 3600.0
#define NOTIFY_DEFAULT_TIMEOUT 10L  /* s, when notifier_timeout is 0 */
#define NOTIFY_IDLE_POLL_MS 1000    /* re-check the store at least this often */

/* One delivery attempt in flight. */
struct notify_xfer {
    long long id;
    char task_id[RR_ID_LEN];
    char *url;                  /* owned */
    char *body;                 /* owned; NULL = GET */
    int attempts;               /* made before this one */
    CURL *easy;
    struct curl_slist *hdrs;
    size_t seen;                /* response bytes so far */
    struct netcheck_guard guard;/* refuses denied peers */
    char logurl[256];           /* url without userinfo, query, fragment */
    char errbuf[CURL_ERROR_SIZE];
    struct notify_xfer *next;
};

struct notify {
    struct rr_conf conf;
    struct netcheck_allow allow;/* conf notifier_allow */
    struct store *st;           /* used by the thread only */
    CURLM *multi;
    pthread_t thread;
    int started;
    struct notify_xfer *xfers;  /* in flight */
    int ninflight;

    pthread_mutex_t mu;         /* guards the fields below */
    pthread_cond_t cond;
    int stop;
    int idle;                   /* nothing due, nothing in flight */
    unsigned long begun, done;  /* rounds started and finished */
};

int notify_signature(const char *secret, long long ts, const char *task_id,
                     const char *url, const char *body,
                     char out[NOTIFY_SIG_LEN])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    char tsbuf[24];
    size_t len;
    char *msg;
    int rc = -1;

    rr_fmt(tsbuf, sizeof(tsbuf), "%lld", ts);
    len = strlen(tsbuf) + 1 + strlen(task_id) + 1 + strlen(url) +
          (body ? 1 + strlen(body) : 0);
    msg = malloc(len + 1);
    if (!msg)
        return -1;
    snprintf(msg, len + 1, "%s\n%s\n%s%s%s", tsbuf, task_id, url,
             body ? "\n" : "", body ? body : "");
    if (!HMAC(EVP_sha256(), secret, (int)strlen(secret),
              (const unsigned char *)msg, len, md, &mdlen) || mdlen != 32)
        goto out;
    memcpy(out, "sha256=", 7);
    rr_hex(md, mdlen, out + 7);
    rc = 0;
out:
    free(msg);
    return rc;
}

static size_t notify_discard(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct notify_xfer *x = arg;
    size_t n = size * nmemb;

    x->seen += n;
    /* A short count aborts the transfer: enough has been read. */
    return x->seen > NOTIFY_BODY_CAP ? 0 : n;
}

static void notify_xfer_free(struct notify *n, struct notify_xfer *x)
{
    if (x->easy) {
        curl_multi_remove_handle(n->multi, x->easy);
        curl_easy_cleanup(x->easy);
    }
    curl_slist_free_all(x->hdrs);
    free(x->url);
    free(x->body);
    free(x);
}

static int notify_add_header(struct notify_xfer *x, const char *h)
{
    struct curl_slist *l = curl_slist_append(x->hdrs, h);

    if (!l)
        return -1;
    x->hdrs = l;
    return 0;
}

static int notify_setup(struct notify *n, struct notify_xfer *x)
{
    char hdr[128 + NOTIFY_SIG_LEN], sig[NOTIFY_SIG_LEN];
    CURL *e;
    int bad = 0;

    x->easy = e = curl_easy_init();
    if (!e)
        return -1;
    x->guard.allow = &n->allow;
    bad |= netcheck_curl_guard(e, &x->guard);
    rr_fmt(hdr, sizeof(hdr), "X-Rrcloud-Task: %s", x->task_id);
    bad |= notify_add_header(x, hdr);
    if (n->conf.notifier_secret[0]) {
        /* The time is signed too, so a receiver can refuse a replay. */
        long long ts = (long long)time(NULL);

        if (notify_signature(n->conf.notifier_secret, ts, x->task_id, x->url,
                             x->body, sig) < 0)
            return -1;
        rr_fmt(hdr, sizeof(hdr), "X-Rrcloud-Timestamp: %lld", ts);
        bad |= notify_add_header(x, hdr);
        rr_fmt(hdr, sizeof(hdr), "X-Rrcloud-Signature: %s", sig);
        bad |= notify_add_header(x, hdr);
    }
    if (x->body) {
        bad |= notify_add_header(x, "Content-Type: application/json");
        bad |= notify_add_header(x, "Expect:");
    }
    if (bad)
        return -1;
#define SET(opt, val) (curl_easy_setopt(e, opt, val) != CURLE_OK)
    bad |= SET(CURLOPT_URL, x->url);
    /* No file://, no gopher://, and no redirect anywhere. */
    bad |= SET(CURLOPT_PROTOCOLS_STR, "http,https");
    bad |= SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    bad |= SET(CURLOPT_FOLLOWLOCATION, 0L);
    bad |= SET(CURLOPT_NOSIGNAL, 1L);
    /* 0 would mean "wait forever": a hung receiver must not keep a slot. */
    bad |= SET(CURLOPT_TIMEOUT, n->conf.notifier_timeout > 0
                                    ? (long)n->conf.notifier_timeout
                                    : NOTIFY_DEFAULT_TIMEOUT);
    bad |= SET(CURLOPT_CONNECTTIMEOUT, n->conf.notifier_timeout > 0
                                           ? (long)n->conf.notifier_timeout
                                           : NOTIFY_DEFAULT_TIMEOUT);
    bad |= SET(CURLOPT_MAXFILESIZE, (long)NOTIFY_BODY_CAP);
    bad |= SET(CURLOPT_USERAGENT, "rrcloud/" PACKAGE_VERSION);
    bad |= SET(CURLOPT_HTTPHEADER, x->hdrs);
    bad |= SET(CURLOPT_WRITEFUNCTION, notify_discard);
    bad |= SET(CURLOPT_WRITEDATA, x);
    bad |= SET(CURLOPT_ERRORBUFFER, x->errbuf);
    bad |= SET(CURLOPT_PRIVATE, x);
    if (x->body)
        bad |= SET(CURLOPT_POSTFIELDS, x->body);
#undef SET
    if (bad || curl_multi_add_handle(n->multi, e) != CURLM_OK)
        return -1;
    return 0;
}

static int notify_inflight(struct notify *n, long long id)
{
    for (struct notify_xfer *x = n->xfers; x; x = x->next) {
        if (x->id == id)
            return 1;
    }
    return 0;
}

/* store_notify_due callback: starts one delivery unless it is running. */
static void notify_failed(struct notify *n, struct notify_xfer *x, double now,
                          const char *err);

static int notify_begin(void *arg, const struct notification *row)
{
    struct notify *n = arg;
    struct notify_xfer *x;

    if (n->ninflight >= NOTIFY_MAX_INFLIGHT)
        return 1;
    if (notify_inflight(n, row->id))
        return 0;
    x = calloc(1, sizeof(*x));
    if (!x)
        return 1;
    x->id = row->id;
    memcpy(x->task_id, row->task_id, sizeof(x->task_id));
    x->attempts = row->attempts;
    url_redact(row->url, x->logurl, sizeof(x->logurl));
    x->url = strdup(row->url);
    x->body = row->body ? strdup(row->body) : NULL;
    if (!x->url || (row->body && !x->body)) {
        notify_xfer_free(n, x);
        return 1;               /* out of memory: stop the walk */
    }
    if (notify_setup(n, x) < 0) {
        /* Counted as an attempt, so this row backs off instead of heading
         * the due list (and holding up the others) for ever. */
        notify_failed(n, x, rr_now(), "cannot set up the request");
        notify_xfer_free(n, x);
        return 0;
    }
    x->next = n->xfers;
    n->xfers = x;
    n->ninflight++;
    return 0;
}

static void notify_result(struct notify *n, struct notify_xfer *x, int done,
                          double next_at, const char *err)
{
    /* On failure the row stays pending and is tried again. */
    if (store_notify_result(n->st, x->id, done, next_at, err) < 0)
        log_err("notify: task %s: cannot record the attempt: %s", x->task_id,
                store_errmsg(n->st));
}

/* Stores the outcome of a finished transfer and logs it. */
static void notify_record(struct notify *n, struct notify_xfer *x,
                          CURLcode res)
{
    int attempt = x->attempts + 1;
    long code = 0;
    char err[CURL_ERROR_SIZE + 32];
    double now = rr_now();

    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
    /* Our own cap on the answer ends the transfer with a write error;
     * the status line has been seen by then. */
    if (code >= 200 && code < 300 &&
        (res == CURLE_OK || res == CURLE_WRITE_ERROR ||
         res == CURLE_FILESIZE_EXCEEDED)) {
        log_info("notify: task %s attempt %d: %s: HTTP %ld, delivered",
                 x->task_id, attempt, x->logurl, code);
        notify_result(n, x, 1, now, NULL);
        return;
    }
    if (x->guard.why) {
        /* Refused by policy: trying again would be refused again. */
        rr_fmt(err, sizeof(err), "refused: the host is %s (not in "
               "notifier_allow)", x->guard.why);
        log_err("notify: task %s attempt %d: %s: %s; giving up", x->task_id,
                attempt, x->logurl, err);
        notify_result(n, x, -1, now, err);
        return;
    }
    if (res != CURLE_OK)
        rr_fmt(err, sizeof(err), "%s", x->errbuf[0] ? x->errbuf
                                                    : curl_easy_strerror(res));
    else
        rr_fmt(err, sizeof(err), "HTTP %ld", code);
    notify_failed(n, x, now, err);
}

/* A failed attempt: tried again after the backoff, or given up. */
static void notify_failed(struct notify *n, struct notify_xfer *x, double now,
                          const char *err)
{
    int attempt = x->attempts + 1;
    double delay;

    if (attempt > n->conf.notifier_retries) {
        log_err("notify: task %s attempt %d: %s: %s; giving up",
                x->task_id, attempt, x->logurl, err);
        notify_result(n, x, -1, now, err);
        return;
    }
    delay = (double)n->conf.notifier_backoff *
            (double)(1LL << (attempt - 1 > 12 ? 12 : attempt - 1));
    if (delay > NOTIFY_MAX_DELAY)
        delay = NOTIFY_MAX_DELAY;
    log_warn("notify: task %s attempt %d: %s: %s; retry in %.0f s",
             x->task_id, attempt, x->logurl, err, delay);
    notify_result(n, x, 0, now + delay, err);
}

/* Records every finished transfer; returns how many there were. */
static int notify_collect(struct notify *n)
{
    struct CURLMsg *m;
    int left, count = 0;

    while ((m = curl_multi_info_read(n->multi, &left)) != NULL) {
        struct notify_xfer *x, **pp;
        char *priv = NULL;

        if (m->msg != CURLMSG_DONE)
            continue;
        if (curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv) !=
                CURLE_OK || !priv)
            continue;
        x = (struct notify_xfer *)(void *)priv;
        notify_record(n, x, m->data.result);
        for (pp = &n->xfers; *pp; pp = &(*pp)->next) {
            if (*pp == x) {
                *pp = x->next;
                break;
            }
        }
        n->ninflight--;
        notify_xfer_free(n, x);
        count++;
    }
    return count;
}

/* One round: finish transfers, start what is due, pick the next wait. */
static int notify_round(struct notify *n)
{
    double wait_s = -1;
    int running, collected, wait_ms = NOTIFY_IDLE_POLL_MS;

    if (curl_multi_perform(n->multi, &running) != CURLM_OK)
        log_err("notify: curl_multi_perform failed");
    notify_collect(n);
    /* After collecting, so a retry due at once starts in this round.  Ask
     * for more rows than slots: those already in flight are skipped. */
    if (store_notify_due(n->st, rr_now(), 2 * NOTIFY_MAX_INFLIGHT,
                         notify_begin, n) < 0)
        log_err("notify: cannot read due deliveries: %s",
                store_errmsg(n->st));
    if (curl_multi_perform(n->multi, &running) != CURLM_OK)
        log_err("notify: curl_multi_perform failed");
    /* One that ended already would otherwise wait out the poll. */
    collected = notify_collect(n);
    if (store_notify_next(n->st, rr_now(), &wait_s) == 0 && wait_s > 0 &&
        wait_s * 1000 < wait_ms)
        wait_ms = (int)(wait_s * 1000) + 1;
    if (collected > 0)
        wait_ms = 0;
    pthread_mutex_lock(&n->mu);
    n->idle = n->ninflight == 0 && wait_s != 0 && collected == 0;
    n->done++;
    pthread_cond_broadcast(&n->cond);
    pthread_mutex_unlock(&n->mu);
    /* With wait_s == 0 every due row is in flight (or the store failed):
     * curl shortens the wait to its own timeouts, and a finished transfer
     * or notify_kick() ends it at once. */
    return wait_ms;
}

static void *notify_main(void *arg)
{
    struct notify *n = arg;

    for (;;) {
        int wait_ms, stop;

        pthread_mutex_lock(&n->mu);
        stop = n->stop;
        if (!stop)
            n->begun++;
        pthread_mutex_unlock(&n->mu);
        if (stop)
            break;
        wait_ms = notify_round(n);
        if (curl_multi_poll(n->multi, NULL, 0, wait_ms, NULL) != CURLM_OK) {
            /* Should not happen; do not spin if it does. */
            log_err("notify: curl_multi_poll failed");
            nanosleep(&(struct timespec){ .tv_sec = 1 }, NULL);
        }
    }
    while (n->xfers) {
        struct notify_xfer *x = n->xfers;
        n->xfers = x->next;
        notify_xfer_free(n, x);
    }
    n->ninflight = 0;
    return NULL;
}

static void notify_free(struct notify *n)
{
    if (n->multi)
        curl_multi_cleanup(n->multi);
    store_close(n->st);
    pthread_cond_destroy(&n->cond);
    pthread_mutex_destroy(&n->mu);
    free(n);
}

struct notify *notify_start(const struct rr_conf *conf, char *err,
                            size_t errlen)
{
    struct notify *n = calloc(1, sizeof(*n));
    pthread_condattr_t ca;
    sigset_t all, old;
    int rc;

    if (!n) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    n->conf = *conf;
    if (netcheck_allow_parse(&n->allow, conf->notifier_allow, err,
                             errlen) < 0) {
        free(n);
        return NULL;
    }
    pthread_mutex_init(&n->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&n->cond, &ca);
    pthread_condattr_destroy(&ca);
    n->st = store_open(conf->database, err, errlen);
    if (!n->st)
        goto fail;
    n->multi = curl_multi_init();
    if (!n->multi) {
        snprintf(err, errlen, "curl_multi_init failed");
        goto fail;
    }
    /* The thread inherits a full mask: signals belong to the main loop. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&n->thread, NULL, notify_main, n);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        snprintf(err, errlen, "pthread_create: %s", strerror(rc));
        goto fail;
    }
    n->started = 1;
    return n;
fail:
    notify_free(n);
    return NULL;
}

void notify_kick(struct notify *n)
{
    if (n)
        curl_multi_wakeup(n->multi);
}

int notify_wait_idle(struct notify *n, long long max_ms)
{
    struct timespec dl;
    unsigned long start;
    int rc = 0;

    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += max_ms / 1000;
    dl.tv_nsec += (max_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&n->mu);
    /* Only a round that begins after this call has seen everything queued
     * before it; the wakeup makes one begin now. */
    start = n->begun;
    curl_multi_wakeup(n->multi);
    while (!(n->done > start && n->idle)) {
        if (pthread_cond_timedwait(&n->cond, &n->mu, &dl) == ETIMEDOUT) {
            rc = -1;
            break;
        }
    }
    pthread_mutex_unlock(&n->mu);
    return rc;
}

void notify_stop(struct notify *n)
{
    if (!n)
        return;
    if (n->started) {
        pthread_mutex_lock(&n->mu);
        n->stop = 1;
        pthread_mutex_unlock(&n->mu);
        curl_multi_wakeup(n->multi);
        pthread_join(n->thread, NULL);
    }
    notify_free(n);
}
