/*
 * moonraker.c - see moonraker.h.
 *
 * The libcurl multi handle is driven the way curl's ephiperfifo example
 * drives it: CURLMOPT_SOCKETFUNCTION adds, changes and removes sockets in
 * the loop's epoll set, CURLMOPT_TIMERFUNCTION arms one timerfd of our own
 * (re-armed with one timerfd_settime, not a timer per change: curl moves
 * its deadline several times per transfer, thousands of times a second
 * with a big fleet), and after every socket_action the finished transfers
 * are drained with curl_multi_info_read.  Transfer state is a struct
 * mr_xfer attached with CURLOPT_PRIVATE; finished ones go to a free list
 * with their easy handle and body buffer, so a steady poll rate allocates
 * nothing.
 *
 * Shards: libcurl before 8.x walks the multi's whole connection pool in
 * curl_multi_remove_handle() for every finished transfer (the
 * "connect-only" sweep), and a fleet keeps one connection per printer, so
 * with one multi each request would cost O(fleet): measured on 7.88 with
 * 10,000 kept connections, about 1 ms of CPU per request and 400
 * requests/s at most.  The client therefore spreads hosts over several
 * multi handles (each with its own pool and timerfd, all on the same loop
 * and thread), by a hash of the URL's host part so a printer always meets
 * its kept-alive connection again.  One shard per ~500 connections keeps
 * the sweep short.
 */
#include "fleet/moonraker.h"

#include "common/buf.h"
#include "common/util.h"
#include "daemon/loop.h"
#include "http/netcheck.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define MR_POOL_MAX 256      /* idle transfers kept for reuse */
#define MR_URL_MAX 2048

#define MR_QUERY_PATH "/printer/objects/query?webhooks=state,state_message" \
    "&print_stats=state,filename,message,print_duration" \
    "&virtual_sdcard=progress,is_active&extruder=temperature,target" \
    "&heater_bed=temperature,target&display_status=progress"

struct mr_shard {
    struct mr_client *c;
    CURLM *multi;
    int timer_fd;
    long long armed_ms;          /* deadline the timerfd holds, 0 = none */
};

struct mr_xfer {
    struct mr_client *c;
    struct mr_shard *sh;         /* the multi it runs on */
    CURL *easy;
    enum mr_kind kind;
    mr_done_cb cb;
    void *arg;
    struct curl_slist *headers;  /* owned */
    curl_mime *mime;             /* owned, uploads only */
    struct buf body;             /* the answer, capped */
    long long start_ms;
    int over_cap;                /* the answer hit max_body */
    struct netcheck_guard guard; /* refuses denied peers */
    char errbuf[CURL_ERROR_SIZE];
    struct mr_xfer *prev, *next; /* active list, or free list (next) */
};

struct mr_client {
    struct loop *loop;
    struct mr_shard *shards;
    int nshards;
    struct mr_opts o;
    struct mr_xfer *active;      /* in flight */
    struct mr_xfer *pool;        /* finished, ready for reuse */
    int n_active, n_pool;
    unsigned char *socks;        /* socks[fd]: registered with the loop */
    int socks_len, n_socks;
};

/* ---- event loop glue --------------------------------------------------- */

static void mr_check_info(struct mr_shard *sh);
static int mr_timer_cb(CURLM *m, long timeout_ms, void *userp);

/* Socket states in c->socks[fd] (fds are unique across shards). */
enum { SOCK_NONE = 0, SOCK_WATCHED, SOCK_PARKED };

static void mr_on_socket(struct loop *l, int fd, uint32_t events, void *arg)
{
    struct mr_shard *sh = arg;
    int flags = 0, running;

    if (sh->c->socks[fd] == SOCK_PARKED)
        return;                 /* an idle pooled connection hung up:
                                   curl finds out when it reuses it */
    if (events & EPOLLIN)
        flags |= CURL_CSELECT_IN;
    if (events & EPOLLOUT)
        flags |= CURL_CSELECT_OUT;
    if (events & (EPOLLERR | EPOLLHUP))
        flags |= CURL_CSELECT_ERR;
    curl_multi_socket_action(sh->multi, fd, flags, &running);
    mr_check_info(sh);
}

static void mr_on_timer(struct loop *l, int fd, uint32_t events, void *arg)
{
    struct mr_shard *sh = arg;
    uint64_t ticks;
    int running;

    /* EAGAIN: re-armed since the event was queued; nothing is due. */
    if (read(fd, &ticks, sizeof(ticks)) != (ssize_t)sizeof(ticks))
        return;
    sh->armed_ms = 0;
    curl_multi_socket_action(sh->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    mr_check_info(sh);
    /* curl announces a deadline only when it changes, and we may have
     * woken before the one it announced last: ask for it. */
    if (!sh->armed_ms) {
        long ms = -1;

        if (curl_multi_timeout(sh->multi, &ms) == CURLM_OK && ms >= 0)
            mr_timer_cb(sh->multi, ms, sh);
    }
}

/* CURLOPT_CLOSESOCKETFUNCTION: curl closes a socket for good, so its loop
 * registration (kept while the connection idled in the pool) goes too. */
static int mr_close_socket(void *clientp, curl_socket_t s)
{
    struct mr_client *c = clientp;

    if (s >= 0 && s < c->socks_len && c->socks[s] != SOCK_NONE) {
        loop_del_fd(c->loop, s);
        c->socks[s] = SOCK_NONE;
        c->n_socks--;
    }
    return close(s);
}

static int mr_socks_grow(struct mr_client *c, int s)
{
    int n = c->socks_len ? c->socks_len : 256;
    unsigned char *p;

    while (n <= s)
        n *= 2;
    if (!(p = realloc(c->socks, (size_t)n)))
        return -1;
    memset(p + c->socks_len, 0, (size_t)(n - c->socks_len));
    c->socks = p;
    c->socks_len = n;
    return 0;
}

/* CURLMOPT_SOCKETFUNCTION: mirror curl's interest in the epoll set.
 * curl drops a connection's socket from its set whenever a transfer ends
 * and the connection goes back to the pool, and asks for it again on
 * reuse; instead of a loop_del_fd/loop_add_fd pair per request the fd is
 * parked (EPOLLONESHOT, no events) and woken with one epoll_ctl.  The
 * registration ends in mr_close_socket when curl really closes it. */
static int mr_socket_cb(CURL *e, curl_socket_t s, int what, void *userp,
                        void *socketp)
{
    struct mr_shard *sh = userp;
    struct mr_client *c = sh->c;
    uint32_t ev = 0;

    if (s < 0)
        return -1;
    if (s >= c->socks_len && mr_socks_grow(c, s) < 0)
        return -1;
    if (what == CURL_POLL_REMOVE) {
        if (c->socks[s] == SOCK_WATCHED &&
            loop_mod_fd(c->loop, s, EPOLLONESHOT) == 0)
            c->socks[s] = SOCK_PARKED;
        return 0;
    }
    if (what & CURL_POLL_IN)
        ev |= EPOLLIN;
    if (what & CURL_POLL_OUT)
        ev |= EPOLLOUT;
    if (c->socks[s] != SOCK_NONE) {
        if (loop_mod_fd(c->loop, s, ev) == 0) {
            c->socks[s] = SOCK_WATCHED;
            return 0;
        }
        /* not in epoll any more (closed behind our back): start over */
        loop_del_fd(c->loop, s);
        c->socks[s] = SOCK_NONE;
        c->n_socks--;
    }
    if (loop_add_fd(c->loop, s, ev, mr_on_socket, sh) < 0)
        return -1;
    c->socks[s] = SOCK_WATCHED;
    c->n_socks++;
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: -1 disarms, 0 means "as soon as possible".
 * curl moves its deadline on nearly every step of every transfer; waking
 * it early is harmless (it finds nothing due and names the next
 * deadline), so the timerfd is only re-armed when the new deadline is
 * earlier than the armed one: one syscall per wake-up, not per step. */
static int mr_timer_cb(CURLM *m, long timeout_ms, void *userp)
{
    struct mr_shard *sh = userp;
    struct itimerspec its;
    long long at;

    if (timeout_ms < 0)
        return 0;               /* a spurious wake-up costs less */
    at = rr_mono_ms() + timeout_ms;
    if (sh->armed_ms && sh->armed_ms <= at)
        return 0;
    memset(&its, 0, sizeof(its));
    if (timeout_ms > 0) {
        its.it_value.tv_sec = timeout_ms / 1000;
        its.it_value.tv_nsec = (timeout_ms % 1000) * 1000000L;
    } else {
        its.it_value.tv_nsec = 1;
    }
    if (timerfd_settime(sh->timer_fd, 0, &its, NULL) < 0)
        return -1;
    sh->armed_ms = at;
    return 0;
}

/* ---- transfers --------------------------------------------------------- */

static size_t mr_write_cb(char *p, size_t size, size_t n, void *arg)
{
    struct mr_xfer *x = arg;
    size_t len = size * n;

    if (buf_append(&x->body, p, len) < 0) {
        x->over_cap = 1;
        return 0;   /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    return len;
}

static void mr_xfer_release(struct mr_xfer *x)
{
    curl_slist_free_all(x->headers);
    x->headers = NULL;
    curl_mime_free(x->mime);
    x->mime = NULL;
}

static void mr_xfer_destroy(struct mr_xfer *x)
{
    mr_xfer_release(x);
    if (x->easy)
        curl_easy_cleanup(x->easy);
    buf_free(&x->body);
    free(x);
}

/* Keeps a transfer that is not in the active list for reuse (or frees
 * it when the pool is full). */
static void mr_xfer_putback(struct mr_client *c, struct mr_xfer *x)
{
    int saved = errno;

    mr_xfer_release(x);
    if (c->n_pool >= MR_POOL_MAX) {
        mr_xfer_destroy(x);
    } else {
        curl_easy_reset(x->easy);
        buf_reset(&x->body);
        x->prev = NULL;
        x->next = c->pool;
        c->pool = x;
        c->n_pool++;
    }
    errno = saved;
}

/* Unlinks x from the active list and puts it back. */
static void mr_xfer_recycle(struct mr_client *c, struct mr_xfer *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        c->active = x->next;
    if (x->next)
        x->next->prev = x->prev;
    c->n_active--;
    mr_xfer_putback(c, x);
}

static struct mr_xfer *mr_xfer_get(struct mr_client *c)
{
    struct mr_xfer *x = c->pool;

    if (x) {
        c->pool = x->next;
        c->n_pool--;
    } else {
        x = calloc(1, sizeof(*x));
        if (!x)
            return NULL;
        x->easy = curl_easy_init();
        if (!x->easy) {
            free(x);
            errno = ENOMEM;
            return NULL;
        }
        buf_init(&x->body, c->o.max_body);
    }
    x->c = c;
    x->over_cap = 0;
    x->errbuf[0] = '\0';
    x->prev = x->next = NULL;
    return x;
}

static void mr_check_info(struct mr_shard *sh)
{
    CURLMsg *msg;
    int left;

    while ((msg = curl_multi_info_read(sh->multi, &left))) {
        struct mr_xfer *x = NULL;
        struct mr_reply rep;
        struct mr_status status;
        char text[MR_MESSAGE_MAX];
        mr_done_cb cb;
        void *arg;

        if (msg->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        memset(&rep, 0, sizeof(rep));
        rep.kind = x->kind;
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &rep.http);
        rep.elapsed_ms = (double)(rr_mono_ms() - x->start_ms);
        rep.err = mr_interpret(x->kind, msg->data.result, rep.http,
                               x->body.data ? x->body.data : "", x->body.len,
                               x->over_cap, x->errbuf, &status,
                               &rep.klippy_connected, text, sizeof(text));
        if (x->guard.why)
            snprintf(text, sizeof(text), "refused: the share URL's host is "
                     "%s (not in fleet_share_allow)", x->guard.why);
        rep.status = rep.err == MR_OK && x->kind == MR_QUERY ? &status : NULL;
        rep.message = text;
        curl_multi_remove_handle(sh->multi, x->easy);
        /* The reply lives on this frame, so x can go back to the pool
         * before the callback, which may start the next transfer. */
        cb = x->cb;
        arg = x->arg;
        mr_xfer_recycle(sh->c, x);
        if (cb)
            cb(arg, &rep);
    }
}

/* Options every request shares; returns 0 or -1. */
static int mr_setup(struct mr_client *c, struct mr_xfer *x, const char *url,
                    const char *api_key, const char *userpwd, long timeout)
{
    CURL *e = x->easy;
    CURLcode rc = CURLE_OK;

    if (api_key && *api_key) {
        char h[300];

        if (snprintf(h, sizeof(h), "X-Api-Key: %s", api_key) >=
            (int)sizeof(h) || strpbrk(api_key, "\r\n")) {
            errno = EINVAL;
            return -1;
        }
        if (!(x->headers = curl_slist_append(x->headers, h)))
            goto nomem;
    }
    /* No 100-continue round trip before upload bodies. */
    {
        struct curl_slist *h = curl_slist_append(x->headers, "Expect:");
        if (!h)
            goto nomem;
        x->headers = h;
    }
    x->guard.allow = c->o.netcheck;
    x->guard.why = NULL;
    if (c->o.netcheck && netcheck_curl_guard(e, &x->guard) < 0)
        rc = CURLE_FAILED_INIT;
    rc |= curl_easy_setopt(e, CURLOPT_URL, url);
    rc |= curl_easy_setopt(e, CURLOPT_PRIVATE, x);
    rc |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, mr_write_cb);
    rc |= curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    rc |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
    rc |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    rc |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    rc |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
    rc |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                           c->o.connect_timeout_ms);
    rc |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, timeout);
    rc |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
    rc |= curl_easy_setopt(e, CURLOPT_USERAGENT, c->o.user_agent);
    /* Share URLs resolve to a handful of frontends: cache names longer
     * than curl's 60 s so a big fleet does not resolve all the time. */
    rc |= curl_easy_setopt(e, CURLOPT_DNS_CACHE_TIMEOUT, -1L);
    rc |= curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    /* Answers are small: a 4 KiB receive buffer instead of 16 KiB per
     * transfer in flight.  Only a hint: libcurl 7.88 refuses it (43) on a
     * pooled handle whose last transfer failed to resolve its host, and
     * that must not stop the handle from being used again. */
    (void)curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 4096L);
    rc |= curl_easy_setopt(e, CURLOPT_CLOSESOCKETFUNCTION, mr_close_socket);
    rc |= curl_easy_setopt(e, CURLOPT_CLOSESOCKETDATA, c);
    if (userpwd && *userpwd) {
        rc |= curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        rc |= curl_easy_setopt(e, CURLOPT_USERPWD, userpwd);
    }
    if (rc != CURLE_OK) {
        errno = EINVAL;
        return -1;
    }
    return 0;
nomem:
    errno = ENOMEM;
    return -1;
}

/* The shard of a URL: FNV-1a of "scheme://host:port", so one host always
 * lands on the same pool. */
static struct mr_shard *mr_shard_of(struct mr_client *c, const char *url)
{
    const char *p = strstr(url, "://");
    unsigned h = 2166136261u;

    p = p ? p + 3 : url;
    for (const char *q = url; *q && (q < p || *q != '/'); q++)
        h = (h ^ (unsigned char)*q) * 16777619u;
    return &c->shards[h % (unsigned)c->nshards];
}

/* Adds a prepared transfer for url to its shard's multi.  On failure x
 * goes back to the pool and NULL is returned. */
static struct mr_xfer *mr_launch(struct mr_client *c, struct mr_xfer *x,
                                 const char *url, enum mr_kind kind,
                                 mr_done_cb cb, void *arg)
{
    x->sh = mr_shard_of(c, url);
    x->kind = kind;
    x->cb = cb;
    x->arg = arg;
    x->start_ms = rr_mono_ms();
    x->next = c->active;
    if (c->active)
        c->active->prev = x;
    c->active = x;
    c->n_active++;
    if (curl_multi_add_handle(x->sh->multi, x->easy) != CURLM_OK) {
        mr_xfer_recycle(c, x);
        errno = ENOMEM;
        return NULL;
    }
    return x;
}

/* Builds base + path into url; -1 (EINVAL) if it does not fit. */
static int mr_url(char *url, size_t cap, const char *base, const char *path)
{
    size_t n = strlen(base);

    while (n > 0 && base[n - 1] == '/')
        n--;
    if (n + strlen(path) + 1 > cap) {
        errno = EINVAL;
        return -1;
    }
    memcpy(url, base, n);
    strcpy(url + n, path);
    return 0;
}

/* mr_simple's methods */
enum { MR_M_GET, MR_M_POST, MR_M_DELETE };

static struct mr_xfer *mr_simple(struct mr_client *c,
                                 const struct mr_target *t,
                                 enum mr_kind kind, const char *path,
                                 int method, long timeout, mr_done_cb cb,
                                 void *arg)
{
    char url[MR_URL_MAX];
    struct mr_xfer *x;

    if (!t || !t->base || mr_url(url, sizeof(url), t->base, path) < 0)
        return NULL;
    if (!(x = mr_xfer_get(c)))
        return NULL;
    if (mr_setup(c, x, url, t->api_key, t->userpwd, timeout) < 0)
        goto fail;
    if (method == MR_M_POST &&
        (curl_easy_setopt(x->easy, CURLOPT_POSTFIELDS, "") ||
         curl_easy_setopt(x->easy, CURLOPT_POSTFIELDSIZE, 0L)))
        goto fail;
    if (method == MR_M_DELETE &&
        curl_easy_setopt(x->easy, CURLOPT_CUSTOMREQUEST, "DELETE"))
        goto fail;
    return mr_launch(c, x, url, kind, cb, arg);
fail:
    mr_xfer_putback(c, x);
    return NULL;
}

struct mr_xfer *mr_query(struct mr_client *c, const struct mr_target *t,
                         mr_done_cb cb, void *arg)
{
    return mr_simple(c, t, MR_QUERY, MR_QUERY_PATH, MR_M_GET,
                     c->o.query_timeout_ms, cb, arg);
}

struct mr_xfer *mr_info(struct mr_client *c, const struct mr_target *t,
                        mr_done_cb cb, void *arg)
{
    return mr_simple(c, t, MR_INFO, "/server/info", MR_M_GET,
                     c->o.query_timeout_ms, cb, arg);
}

struct mr_xfer *mr_command(struct mr_client *c, const struct mr_target *t,
                           enum mr_kind kind, mr_done_cb cb, void *arg)
{
    const char *path;

    switch (kind) {
    case MR_PAUSE: path = "/printer/print/pause"; break;
    case MR_RESUME: path = "/printer/print/resume"; break;
    case MR_CANCEL: path = "/printer/print/cancel"; break;
    default:
        errno = EINVAL;
        return NULL;
    }
    return mr_simple(c, t, kind, path, MR_M_POST, c->o.command_timeout_ms,
                     cb, arg);
}

/* A command on one file: prefix followed by the escaped file name. */
static struct mr_xfer *mr_file_cmd(struct mr_client *c,
                                   const struct mr_target *t, enum mr_kind kind,
                                   int method, const char *prefix,
                                   const char *filename, mr_done_cb cb,
                                   void *arg)
{
    char path[MR_URL_MAX];
    char *esc;
    int n;

    if (!filename || !*filename || strstr(filename, "..")) {
        errno = EINVAL;
        return NULL;
    }
    esc = curl_easy_escape(NULL, filename, 0);
    if (!esc) {
        errno = ENOMEM;
        return NULL;
    }
    n = snprintf(path, sizeof(path), "%s%s", prefix, esc);
    curl_free(esc);
    if (n < 0 || n >= (int)sizeof(path)) {
        errno = EINVAL;
        return NULL;
    }
    return mr_simple(c, t, kind, path, method, c->o.command_timeout_ms, cb,
                     arg);
}

struct mr_xfer *mr_start(struct mr_client *c, const struct mr_target *t,
                         const char *filename, mr_done_cb cb, void *arg)
{
    return mr_file_cmd(c, t, MR_START, MR_M_POST,
                       "/printer/print/start?filename=", filename, cb, arg);
}

struct mr_xfer *mr_delete(struct mr_client *c, const struct mr_target *t,
                          const char *filename, mr_done_cb cb, void *arg)
{
    return mr_file_cmd(c, t, MR_DELETE, MR_M_DELETE, "/server/files/gcodes/",
                       filename, cb, arg);
}

struct mr_xfer *mr_get(struct mr_client *c, const char *url,
                       const char *userpwd, mr_done_cb cb, void *arg)
{
    struct mr_target t = { .base = url, .userpwd = userpwd };

    return mr_simple(c, &t, MR_GET, "", MR_M_GET, c->o.query_timeout_ms, cb,
                     arg);
}

/* Adds a text field to the upload form. */
static int mr_mime_field(curl_mime *m, const char *name, const char *value)
{
    curl_mimepart *p = curl_mime_addpart(m);

    return p && curl_mime_name(p, name) == CURLE_OK &&
           curl_mime_data(p, value, CURL_ZERO_TERMINATED) == CURLE_OK ?
           0 : -1;
}

struct mr_xfer *mr_upload(struct mr_client *c, const struct mr_target *t,
                          const char *local_path, const char *remote_name,
                          const char *sha256_hex, int print,
                          mr_done_cb cb, void *arg)
{
    char url[MR_URL_MAX];
    struct mr_xfer *x;
    curl_mimepart *p;

    if (!t || !t->base || !local_path || !remote_name || !*remote_name ||
        mr_url(url, sizeof(url), t->base, "/server/files/upload") < 0) {
        errno = EINVAL;
        return NULL;
    }
    /* Fail here, not half-way through the transfer, if the blob is gone. */
    if (access(local_path, R_OK) < 0)
        return NULL;
    if (!(x = mr_xfer_get(c)))
        return NULL;
    if (mr_setup(c, x, url, t->api_key, t->userpwd,
                 c->o.upload_timeout_ms) < 0)
        goto fail;
    x->mime = curl_mime_init(x->easy);
    if (!x->mime || mr_mime_field(x->mime, "root", "gcodes") < 0 ||
        mr_mime_field(x->mime, "print", print ? "true" : "false") < 0 ||
        (sha256_hex && *sha256_hex &&
         mr_mime_field(x->mime, "checksum", sha256_hex) < 0))
        goto nomem;
    /* filedata streams the file from disk while the request is sent. */
    p = curl_mime_addpart(x->mime);
    if (!p || curl_mime_name(p, "file") != CURLE_OK ||
        curl_mime_filedata(p, local_path) != CURLE_OK ||
        curl_mime_filename(p, remote_name) != CURLE_OK ||
        curl_mime_type(p, "application/octet-stream") != CURLE_OK ||
        curl_easy_setopt(x->easy, CURLOPT_MIMEPOST, x->mime) != CURLE_OK ||
        /* the smallest send buffer curl takes: many uploads at once */
        curl_easy_setopt(x->easy, CURLOPT_UPLOAD_BUFFERSIZE, 16384L) !=
        CURLE_OK)
        goto nomem;
    return mr_launch(c, x, url, MR_UPLOAD, cb, arg);
nomem:
    errno = ENOMEM;
fail:
    mr_xfer_putback(c, x);
    return NULL;
}

void mr_cancel(struct mr_client *c, struct mr_xfer *x)
{
    if (!c || !x)
        return;
    curl_multi_remove_handle(x->sh->multi, x->easy);
    mr_xfer_recycle(c, x);
}

/* ---- client ------------------------------------------------------------ */

static int mr_shard_init(struct mr_client *c, struct mr_shard *sh)
{
    CURLMcode rc = CURLM_OK;
    long n = c->nshards;

    sh->c = c;
    sh->multi = curl_multi_init();
    sh->timer_fd = timerfd_create(CLOCK_MONOTONIC,
                                  TFD_NONBLOCK | TFD_CLOEXEC);
    if (!sh->multi || sh->timer_fd < 0)
        return -1;
    rc |= curl_multi_setopt(sh->multi, CURLMOPT_SOCKETFUNCTION, mr_socket_cb);
    rc |= curl_multi_setopt(sh->multi, CURLMOPT_SOCKETDATA, sh);
    rc |= curl_multi_setopt(sh->multi, CURLMOPT_TIMERFUNCTION, mr_timer_cb);
    rc |= curl_multi_setopt(sh->multi, CURLMOPT_TIMERDATA, sh);
    rc |= curl_multi_setopt(sh->multi, CURLMOPT_MAXCONNECTS,
                            c->o.max_connects / n + 16);
    rc |= curl_multi_setopt(sh->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
                            c->o.host_connections);
    rc |= curl_multi_setopt(sh->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
                            c->o.total_connections > 0 ?
                            (c->o.total_connections + n - 1) / n : 0L);
    if (rc != CURLM_OK) {
        errno = EINVAL;
        return -1;
    }
    return loop_add_fd(c->loop, sh->timer_fd, EPOLLIN, mr_on_timer, sh);
}

static void mr_shard_free(struct mr_client *c, struct mr_shard *sh)
{
    if (sh->multi)
        curl_multi_cleanup(sh->multi);
    if (sh->timer_fd >= 0) {
        loop_del_fd(c->loop, sh->timer_fd);
        close(sh->timer_fd);
    }
}

struct mr_client *mr_client_new(struct loop *l, const struct mr_opts *o)
{
    struct mr_client *c = calloc(1, sizeof(*c));
    int saved;

    if (!c)
        return NULL;
    c->loop = l;
    if (o)
        c->o = *o;
#define MR_DEF(f, v) if (c->o.f <= 0) c->o.f = (v)
    MR_DEF(connect_timeout_ms, 3000);
    MR_DEF(query_timeout_ms, 10000);
    MR_DEF(command_timeout_ms, 30000);
    MR_DEF(upload_timeout_ms, 1800000);
    MR_DEF(max_body, 262144);
    MR_DEF(max_connects, 1024);
    MR_DEF(host_connections, 2);
    MR_DEF(shards, c->o.max_connects / 512 + 1);
#undef MR_DEF
    if (c->o.shards > 64)
        c->o.shards = 64;
    if (!c->o.user_agent)
        c->o.user_agent = "rrcloud";
    c->shards = calloc((size_t)c->o.shards, sizeof(*c->shards));
    if (!c->shards)
        goto fail;
    for (int i = 0; i < c->o.shards; i++)
        c->shards[i].timer_fd = -1;
    c->nshards = c->o.shards;
    for (int i = 0; i < c->nshards; i++) {
        if (mr_shard_init(c, &c->shards[i]) < 0)
            goto fail;
    }
    return c;
fail:
    saved = errno ? errno : ENOMEM;
    for (int i = 0; i < c->nshards; i++)
        mr_shard_free(c, &c->shards[i]);
    free(c->shards);
    free(c);
    errno = saved;
    return NULL;
}

void mr_client_free(struct mr_client *c)
{
    if (!c)
        return;
    while (c->active) {
        struct mr_xfer *x = c->active;

        curl_multi_remove_handle(x->sh->multi, x->easy);
        c->active = x->next;
        mr_xfer_destroy(x);
    }
    while (c->pool) {
        struct mr_xfer *x = c->pool;

        c->pool = x->next;
        mr_xfer_destroy(x);
    }
    for (int i = 0; i < c->nshards; i++)
        mr_shard_free(c, &c->shards[i]);
    /* Whatever curl closed without telling us must leave the loop too,
     * or the fd number could never be registered again. */
    for (int fd = 0; fd < c->socks_len && c->n_socks > 0; fd++) {
        if (c->socks[fd]) {
            loop_del_fd(c->loop, fd);
            c->n_socks--;
        }
    }
    free(c->socks);
    free(c->shards);
    free(c);
}

int mr_client_active(const struct mr_client *c)
{
    return c ? c->n_active : 0;
}
