/*
 * http.c - rrcloud's transfers: one libcurl easy handle per session (so
 * connections are kept alive), capped answer buffers, downloads that are
 * renamed into place only when complete, and a progress bar.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* mkostemp */
#endif
#include "cli/cli.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "common/util.h"

#define CONNECT_TIMEOUT_S 5L
#define QUERY_TIMEOUT_S 120L
#define STALL_TIME_S 60L     /* a download moving no byte this long fails */

/* 1 if a curl_easy_setopt() failed, so callers can OR them up */
#define SET(c, opt, val) (curl_easy_setopt((c), (opt), (val)) != CURLE_OK)

struct cli_http {
    CURL *curl;
    int verbose;
    long long timeout;
    struct cli_prog prog;
    char errbuf[CURL_ERROR_SIZE];
    char *key;            /* owned: the session's API key, or NULL */
    char **key_scope;     /* owned: base URLs key may go to; NULL = any */
};

/* One transfer's state, handed to the callbacks. */
struct xfer {
    struct cli_http *h;
    struct cli_resp *r;
    int fd;               /* download target, -1: answer to r->body */
    long long written;
    int file_err;         /* errno of a failed write */
    int overflow;         /* the answer went past its cap */
    int bar;              /* 0 none, 1 upload, 2 download */
    int uploaded;
    const char *wait_what; /* spinner text while the server holds us */
};

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

void cli_http_catch_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: sleeps must wake */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int cli_http_interrupted(void)
{
    return got_signal != 0;
}

int cli_http_sleep(long long ms)
{
    struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

    while (!got_signal && nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
    return got_signal ? -1 : 0;
}

/* --- buffers and responses ---------------------------------------- */

static int buf_append(struct cli_buf *b, const char *d, size_t n)
{
    if (b->len + n > b->max) {
        size_t drop;

        if (!b->tail)
            return -1;
        if (n >= b->max) { /* keep only the end of this chunk */
            b->dropped += b->len + (n - b->max);
            d += n - b->max;
            n = b->max;
            b->len = 0;
        }
        drop = b->len + n > b->max ? b->len + n - b->max : 0;
        memmove(b->data, b->data + drop, b->len - drop);
        b->len -= drop;
        b->dropped += drop;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        char *p;

        while (cap < b->len + n + 1)
            cap *= 2;
        if (cap > b->max + 1)
            cap = b->max + 1;
        if (!(p = realloc(b->data, cap)))
            return -1;
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, d, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

void cli_resp_init(struct cli_resp *r, size_t max, int tail)
{
    memset(r, 0, sizeof(*r));
    r->body.max = max;
    r->body.tail = tail;
}

void cli_resp_free(struct cli_resp *r)
{
    free(r->body.data);
    memset(r, 0, sizeof(*r));
}

static void resp_reset(struct cli_resp *r)
{
    r->status = 0;
    r->error[0] = '\0';
    r->timed_out = 0;
    r->body.len = 0;
    r->body.dropped = 0;
    if (r->body.data)
        r->body.data[0] = '\0';
}

/* --- session ------------------------------------------------------- */

struct cli_http *cli_http_new(int progress, int verbose, long long timeout)
{
    struct cli_http *h = calloc(1, sizeof(*h));

    if (!h)
        return NULL;
    if (!(h->curl = curl_easy_init())) {
        free(h);
        return NULL;
    }
    h->verbose = verbose;
    h->timeout = timeout;
    cli_prog_init(&h->prog, progress);
    return h;
}

int cli_http_set_key(struct cli_http *h, const char *key,
                     char *const *scope)
{
    size_t n = 0;

    if (h->key) {
        explicit_bzero(h->key, strlen(h->key));
        free(h->key);
        h->key = NULL;
    }
    cli_rc_list_free(h->key_scope);
    h->key_scope = NULL;
    if (!key || !*key)
        return 0;
    while (scope && scope[n])
        n++;
    if (scope && !(h->key_scope = calloc(n + 1, sizeof(char *))))
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!(h->key_scope[i] = strdup(scope[i])))
            return -1;
    }
    return (h->key = strdup(key)) ? 0 : -1;
}

const char *cli_http_key_for(const struct cli_http *h, const char *base)
{
    if (!h->key || !h->key_scope)
        return h->key;
    for (size_t i = 0; h->key_scope[i]; i++) {
        if (!strcmp(h->key_scope[i], base))
            return h->key;
    }
    return NULL;
}

int cli_http_key_withheld(const struct cli_http *h, const char *base)
{
    return h->key && !cli_http_key_for(h, base);
}

/* Appends "Authorization: Bearer KEY" for key (none if NULL) to hdrs
 * (NULL on no memory; hdrs is freed).  cli_args_token_valid() keeps CR,
 * LF and blanks out of keys. */
static struct curl_slist *key_header(const char *key,
                                     struct curl_slist *hdrs)
{
    char auth[300];
    struct curl_slist *more;

    if (!key)
        return hdrs;
    if (rr_fmt(auth, sizeof(auth), "Authorization: Bearer %s", key) < 0 ||
        !(more = curl_slist_append(hdrs, auth))) {
        explicit_bzero(auth, sizeof(auth));
        curl_slist_free_all(hdrs);
        return NULL;
    }
    explicit_bzero(auth, sizeof(auth));
    return more;
}

void cli_http_free(struct cli_http *h)
{
    if (!h)
        return;
    cli_http_set_key(h, NULL, NULL);
    cli_prog_end(&h->prog);
    curl_easy_cleanup(h->curl);
    free(h);
}

struct cli_prog *cli_http_prog(struct cli_http *h)
{
    return &h->prog;
}

void cli_http_quiet(struct cli_http *h)
{
    cli_prog_end(&h->prog);
    h->prog.enabled = 0;
}

/* --- callbacks ----------------------------------------------------- */

static size_t on_write(char *data, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;

    if (x->fd >= 0) {
        if (x->r->status == 0)
            curl_easy_getinfo(x->h->curl, CURLINFO_RESPONSE_CODE,
                              &x->r->status);
        if (x->r->status == 200) {
            if (rr_write_all(x->fd, data, n) < 0) {
                x->file_err = errno;
                return 0;
            }
            x->written += (long long)n;
            return n;
        }
    }
    if (buf_append(&x->r->body, data, n) < 0) {
        x->overflow = 1;
        return 0;
    }
    return n;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    struct xfer *x = ud;
    struct cli_prog *p = &x->h->prog;

    if (got_signal)
        return 1;
    if (x->bar == 1 && !x->uploaded) {
        if (ultotal > 0 && ulnow >= ultotal) {
            cli_prog_bar(p, ulnow, ultotal, 1);
            x->uploaded = 1;
        } else {
            cli_prog_bar(p, ulnow, ultotal, 0);
        }
    } else if (x->bar == 2) {
        cli_prog_bar(p, dlnow, dltotal, 0);
    }
    if (x->wait_what && (x->bar == 0 || x->uploaded) && dlnow == 0)
        cli_prog_wait(p, x->wait_what);
    return 0;
}

/* --- one transfer -------------------------------------------------- */

static int setup(struct cli_http *h, const char *url, struct xfer *x,
                 struct curl_slist *hdrs)
{
    CURL *c = h->curl;
    int bad = 0;

    curl_easy_reset(c);
    h->errbuf[0] = '\0';
    bad |= SET(c, CURLOPT_URL, url);
    bad |= SET(c, CURLOPT_USERAGENT, "rrcloud/" CLI_VERSION);
    bad |= SET(c, CURLOPT_NOSIGNAL, 1L);
    bad |= SET(c, CURLOPT_CONNECTTIMEOUT, CONNECT_TIMEOUT_S);
    bad |= SET(c, CURLOPT_PROTOCOLS_STR, "http,https");
    bad |= SET(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    bad |= SET(c, CURLOPT_ERRORBUFFER, h->errbuf);
    bad |= SET(c, CURLOPT_FAILONERROR, 0L);
    bad |= SET(c, CURLOPT_WRITEFUNCTION, on_write);
    bad |= SET(c, CURLOPT_WRITEDATA, x);
    bad |= SET(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    bad |= SET(c, CURLOPT_XFERINFODATA, x);
    bad |= SET(c, CURLOPT_NOPROGRESS, 0L);
    bad |= SET(c, CURLOPT_HTTPHEADER, hdrs);
    return bad ? -1 : 0;
}

static enum cli_net finish(struct cli_http *h, struct xfer *x, CURLcode rc)
{
    struct cli_resp *r = x->r;
    curl_off_t connect_us = 0;
    long sent = 0;

    curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &r->status);
    if (rc == CURLE_OK)
        return CLI_NET_OK;
    snprintf(r->error, sizeof(r->error), "%s",
             h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc));
    if (x->file_err) {
        snprintf(r->error, sizeof(r->error), "%s", strerror(x->file_err));
        return CLI_NET_LOCAL;
    }
    if (x->overflow) {
        snprintf(r->error, sizeof(r->error), "the answer is too large");
        return CLI_NET_LOCAL;
    }
    if (rc == CURLE_ABORTED_BY_CALLBACK && got_signal)
        return CLI_NET_ABORT;
    if (rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_COULDNT_CONNECT)
        return CLI_NET_DOWN;
    curl_easy_getinfo(h->curl, CURLINFO_CONNECT_TIME_T, &connect_us);
    curl_easy_getinfo(h->curl, CURLINFO_REQUEST_SIZE, &sent);
    if (rc == CURLE_OPERATION_TIMEDOUT && connect_us == 0 && sent == 0)
        return CLI_NET_DOWN;
    r->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
    return CLI_NET_FAIL;
}

static enum cli_net perform(struct cli_http *h, struct xfer *x)
{
    CURLcode rc = curl_easy_perform(h->curl);
    enum cli_net net = finish(h, x, rc);

    if (x->bar == 2 && net == CLI_NET_OK && x->r->status == 200)
        cli_prog_bar(&h->prog, x->written, x->written, 1); /* 100% */
    cli_prog_end(&h->prog);
    if (h->verbose && net != CLI_NET_ABORT)
        fprintf(stderr, "rrcloud: HTTP %ld%s%s\n", x->r->status,
                net ? ", " : "", net ? x->r->error : "");
    return net;
}

static int make_url(char *url, size_t len, const char *base, const char *path)
{
    return rr_fmt(url, len, "%s%s", base, path);
}

/* The headers of an API request; NULL on no memory. */
static struct curl_slist *api_headers(const char *body, const char *token)
{
    struct curl_slist *hdrs = curl_slist_append(NULL,
                                                "Accept: application/json");
    struct curl_slist *more;

    if (hdrs && body) {
        if (!(more = curl_slist_append(hdrs, "Content-Type: "
                                       "application/json"))) {
            curl_slist_free_all(hdrs);
            return NULL;
        }
        hdrs = more;
    }
    return hdrs ? key_header(token, hdrs) : NULL;
}

static enum cli_net request(struct cli_http *h, const char *method,
                            const char *base, const char *path,
                            const char *body, const char *token,
                            struct cli_resp *r)
{
    struct xfer x = { .h = h, .r = r, .fd = -1 };
    struct curl_slist *hdrs = NULL;
    char url[CLI_URL_MAX + 1024];
    enum cli_net net = CLI_NET_LOCAL;
    int bad = 0;

    resp_reset(r);
    if (make_url(url, sizeof(url), base, path) < 0) {
        snprintf(r->error, sizeof(r->error), "URL too long");
        return CLI_NET_LOCAL;
    }
    if (h->verbose)   /* never the token */
        fprintf(stderr, "rrcloud: %s %s\n", method, url);
    if (!token)
        token = cli_http_key_for(h, base);
    if (!(hdrs = api_headers(body, token)) || setup(h, url, &x, hdrs) < 0)
        goto out;
    bad |= SET(h->curl, CURLOPT_TIMEOUT, QUERY_TIMEOUT_S);
    if (strcmp(method, "GET") != 0) {
        bad |= SET(h->curl, CURLOPT_POSTFIELDS, body ? body : "");
        bad |= SET(h->curl, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body)
                                                               : 0));
        if (strcmp(method, "POST") != 0)
            bad |= SET(h->curl, CURLOPT_CUSTOMREQUEST, method);
    } else if (!token) {
        bad |= SET(h->curl, CURLOPT_FOLLOWLOCATION, 1L);
        bad |= SET(h->curl, CURLOPT_MAXREDIRS, 5L);
    }
    if (!bad)
        net = perform(h, &x);
out:
    if (net == CLI_NET_LOCAL && !r->error[0])
        snprintf(r->error, sizeof(r->error), "cannot set up the request");
    curl_slist_free_all(hdrs);
    return net;
}

enum cli_net cli_http_get(struct cli_http *h, const char *base,
                          const char *path, struct cli_resp *r)
{
    return request(h, "GET", base, path, NULL, NULL, r);
}

enum cli_net cli_http_post(struct cli_http *h, const char *base,
                           const char *path, struct cli_resp *r)
{
    return request(h, "POST", base, path, NULL, NULL, r);
}

enum cli_net cli_http_api(struct cli_http *h, const char *method,
                          const char *base, const char *path,
                          const char *body, const char *token,
                          struct cli_resp *r)
{
    static const char *const methods[] = { "GET", "POST", "PUT", "PATCH",
                                           "DELETE" };

    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
        if (!strcmp(method, methods[i]))
            return request(h, methods[i], base, path, body, token, r);
    }
    resp_reset(r);
    snprintf(r->error, sizeof(r->error), "unknown method %.16s", method);
    return CLI_NET_LOCAL;
}

enum cli_net cli_http_get_any(struct cli_http *h, char **servers,
                              const char *path, struct cli_resp *r,
                              const char **base)
{
    enum cli_net net = CLI_NET_DOWN;

    for (size_t i = 0; servers[i]; i++) {
        net = cli_http_get(h, servers[i], path, r);
        if (net != CLI_NET_DOWN) {
            *base = servers[i];
            return net;
        }
        cli_out_warn("server %s is not reachable (%s)%s", servers[i],
                     r->error, servers[i + 1] ? ", trying the next" : "");
    }
    return net;
}

/* --- downloads ----------------------------------------------------- */

/* Creates "DIR/.NAME.XXXXXX" beside dest with the mode a new file would
 * get (mkostemp makes it 0600); returns the fd, or -1 with errno. */
static int temp_beside(const char *dest, char *tmp, size_t len)
{
    const char *slash = strrchr(dest, '/');
    mode_t mask;
    int fd, saved;

    if (slash ? rr_fmt(tmp, len, "%.*s/.%s.XXXXXX", (int)(slash - dest),
                       dest, slash + 1)
              : rr_fmt(tmp, len, ".%s.XXXXXX", dest)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0)
        return -1;
    mask = umask(022); /* read it back: umask(2) can only set */
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) == 0)
        return fd;
    saved = errno;
    close(fd);
    unlink(tmp);
    errno = saved;
    return -1;
}

enum cli_net cli_http_download(struct cli_http *h, const char *base,
                               const char *path, const char *dest,
                               struct cli_resp *r)
{
    struct xfer x = { .h = h, .r = r, .fd = -1, .bar = 2 };
    struct curl_slist *hdrs = NULL;
    const char *label = strrchr(dest, '/') ? strrchr(dest, '/') + 1 : dest;
    const char *key = cli_http_key_for(h, base);
    char url[CLI_URL_MAX + 1024], tmp[4096];
    enum cli_net net = CLI_NET_LOCAL;
    int bad = 0;

    resp_reset(r);
    if (make_url(url, sizeof(url), base, path) < 0) {
        snprintf(r->error, sizeof(r->error), "URL too long");
        return CLI_NET_LOCAL;
    }
    if ((x.fd = temp_beside(dest, tmp, sizeof(tmp))) < 0) {
        snprintf(r->error, sizeof(r->error), "%s", strerror(errno));
        return CLI_NET_LOCAL;
    }
    if (h->verbose)
        fprintf(stderr, "rrcloud: GET %s\n", url);
    if ((key && !(hdrs = key_header(key, NULL))) ||
        setup(h, url, &x, hdrs) < 0)
        goto out;
    /* With a key, no redirects: the key goes to no other place. */
    bad |= SET(h->curl, CURLOPT_FOLLOWLOCATION, key ? 0L : 1L);
    bad |= SET(h->curl, CURLOPT_MAXREDIRS, 5L);
    bad |= SET(h->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
    bad |= SET(h->curl, CURLOPT_LOW_SPEED_TIME, STALL_TIME_S);
    if (bad)
        goto out;
    cli_prog_start(&h->prog, label);
    net = perform(h, &x);
    if (net == CLI_NET_OK && r->status == 200) {
        if (close(x.fd) < 0 || rename(tmp, dest) < 0) {
            snprintf(r->error, sizeof(r->error), "%s", strerror(errno));
            net = CLI_NET_LOCAL;
        }
        x.fd = -1;
    }
out:
    if (net == CLI_NET_LOCAL && !r->error[0])
        snprintf(r->error, sizeof(r->error), "cannot set up the request");
    if (x.fd >= 0)
        close(x.fd);
    if (net != CLI_NET_OK || r->status != 200)
        unlink(tmp);
    curl_slist_free_all(hdrs);
    return net;
}

/* --- task submission ----------------------------------------------- */

static int add_field(curl_mime *m, const char *name, const char *value)
{
    curl_mimepart *part = curl_mime_addpart(m);

    if (!part || curl_mime_name(part, name) != CURLE_OK ||
        curl_mime_data(part, value, CURL_ZERO_TERMINATED) != CURLE_OK)
        return -1;
    return 0;
}

/* The name the server sees: the basename with anything unusual made
 * '_' (the server keeps only the extension). */
static void upload_name(const char *path, char *buf, size_t len)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

    snprintf(buf, len, "%s", base);
    for (char *p = buf; *p; p++) {
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                    "0123456789._-", *p))
            *p = '_';
    }
}

static int add_file(curl_mime *m, size_t i, const struct cli_input *in,
                    char *err, size_t errlen)
{
    curl_mimepart *part;
    char name[32], fname[256];

    if (in->prearg) {
        snprintf(name, sizeof(name), "prearg%zu", i);
        if (add_field(m, name, in->prearg) < 0)
            return -1;
    }
    snprintf(name, sizeof(name), "fileIn%zu", i);
    upload_name(in->path, fname, sizeof(fname));
    part = curl_mime_addpart(m);
    /* filedata streams the file from disk during the transfer */
    if (!part || curl_mime_name(part, name) != CURLE_OK ||
        curl_mime_filedata(part, in->path) != CURLE_OK ||
        curl_mime_filename(part, fname) != CURLE_OK) {
        snprintf(err, errlen, "cannot read %s", in->path);
        return -1;
    }
    return 0;
}

static curl_mime *build_mime(CURL *c, const char *service,
                             const struct cli_job *job, const char *notifier,
                             int async, char *err, size_t errlen)
{
    curl_mime *m = curl_mime_init(c);
    char name[32];

    /* small fields first, so the server knows them before the files */
    if (!m || add_field(m, "service", service) < 0 ||
        add_field(m, "format", "json") < 0 ||
        (async && add_field(m, "async", "1") < 0) ||
        (notifier && add_field(m, "notifier", notifier) < 0))
        goto fail;
    for (size_t i = 0; i < job->nfields; i++) {
        if (add_field(m, job->fields[i].name, job->fields[i].value) < 0)
            goto fail;
    }
    for (size_t i = 0; i < job->nargs; i++) {
        snprintf(name, sizeof(name), "arg%zu", i);
        if (add_field(m, name, job->args[i]) < 0)
            goto fail;
    }
    for (size_t i = 0; i < job->ninputs; i++) {
        if (add_file(m, i, &job->inputs[i], err, errlen) < 0)
            goto fail;
    }
    return m;
fail:
    curl_mime_free(m);
    return NULL;
}

enum cli_net cli_http_submit(struct cli_http *h, const char *base,
                             const char *service, const struct cli_job *job,
                             const char *notifier, int async,
                             struct cli_resp *r)
{
    struct xfer x = { .h = h, .r = r, .fd = -1 };
    struct curl_slist *hdrs = NULL;
    char url[CLI_URL_MAX + 16], label[64], what[128];
    enum cli_net net = CLI_NET_LOCAL;
    curl_mime *mime = NULL;
    int bad = 0;

    resp_reset(r);
    if (make_url(url, sizeof(url), base, "/") < 0)
        return CLI_NET_LOCAL;
    if (h->verbose)
        fprintf(stderr, "rrcloud: POST %s\n", url);
    if (!(hdrs = curl_slist_append(NULL, "Accept: application/json")) ||
        !(hdrs = key_header(cli_http_key_for(h, base), hdrs)) ||
        !(mime = build_mime(h->curl, service, job, notifier, async,
                            r->error, sizeof(r->error))) ||
        setup(h, url, &x, hdrs) < 0)
        goto out;
    bad |= SET(h->curl, CURLOPT_MIMEPOST, mime);
    /* the answer may take hours: notice a peer that vanished meanwhile */
    bad |= SET(h->curl, CURLOPT_TCP_KEEPALIVE, 1L);
    bad |= SET(h->curl, CURLOPT_TCP_KEEPIDLE, 60L);
    bad |= SET(h->curl, CURLOPT_TCP_KEEPINTVL, 30L);
    if (h->timeout > 0) /* the user's bound on the whole wait */
        bad |= SET(h->curl, CURLOPT_TIMEOUT, (long)h->timeout);
    if (bad)
        goto out;
    if (job->ninputs == 1)
        upload_name(job->inputs[0].path, label, sizeof(label));
    else
        snprintf(label, sizeof(label), "%zu files", job->ninputs);
    snprintf(what, sizeof(what), "waiting for the %s task", service);
    x.bar = job->ninputs > 0;
    x.wait_what = async ? NULL : what;
    if (x.bar)
        cli_prog_start(&h->prog, label);
    net = perform(h, &x);
out:
    if (net == CLI_NET_LOCAL && !r->error[0])
        snprintf(r->error, sizeof(r->error), "cannot set up the request");
    curl_mime_free(mime);
    curl_slist_free_all(hdrs);
    return net;
}
