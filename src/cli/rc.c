/*
 * rc.c - rrcloudrc (RepRapCloud's client settings) and server addresses.
 */
#include "cli/cli.h"

#include <ctype.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/kv.h"
#include "common/util.h"

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

/* Frees a key, wiping it first. */
static void forget_key(char **slot)
{
    if (*slot)
        explicit_bzero(*slot, strlen(*slot));
    free(*slot);
    *slot = NULL;
}

void cli_rc_init(struct cli_rc *rc)
{
    memset(rc, 0, sizeof(*rc));
    rc->port = CLI_DEFAULT_PORT;
    rc->timeout = CLI_DEFAULT_TIMEOUT;
}

void cli_rc_free(struct cli_rc *rc)
{
    for (size_t i = 0; i < rc->nsvc; i++) {
        free(rc->svc[i].service);
        free(rc->svc[i].servers);
        forget_key(&rc->svc[i].key);
    }
    free(rc->svc);
    free(rc->servers);
    free(rc->notifier);
    forget_key(&rc->token);
    memset(rc, 0, sizeof(*rc));
}

static int replace(char **slot, const char *value)
{
    char *copy = strdup(value);

    if (!copy)
        return -1;
    free(*slot);
    *slot = copy;
    return 0;
}

/* The entry of service svc (n bytes), added if missing; NULL on no
 * memory. */
static struct cli_rc_svc *svc_entry(struct cli_rc *rc, const char *svc,
                                    size_t n)
{
    struct cli_rc_svc *grown;
    char *name;

    for (size_t i = 0; i < rc->nsvc; i++) {
        if (strlen(rc->svc[i].service) == n &&
            strncmp(rc->svc[i].service, svc, n) == 0)
            return &rc->svc[i];
    }
    grown = realloc(rc->svc, (rc->nsvc + 1) * sizeof(*grown));
    if (!grown)
        return NULL;
    rc->svc = grown;
    if (!(name = strndup(svc, n)))
        return NULL;
    memset(&rc->svc[rc->nsvc], 0, sizeof(rc->svc[0]));
    rc->svc[rc->nsvc].service = name;
    return &rc->svc[rc->nsvc++];
}

/* "SERVICE.servers" or "SERVICE.key": 1 if key is one (suffix says
 * which), 0 if not, -1 with err set for a bad service name. */
static int svc_key(const char *key, const char *suffix, char *svc,
                   size_t len, char *err, size_t errlen)
{
    size_t klen = strlen(key), slen = strlen(suffix);

    if (klen <= slen || strcmp(key + klen - slen, suffix) != 0)
        return 0;
    if (klen - slen >= len) {
        seterr(err, errlen, "bad service name in '%s'", key);
        return -1;
    }
    memcpy(svc, key, klen - slen);
    svc[klen - slen] = '\0';
    if (!cli_args_service_valid(svc)) {
        seterr(err, errlen, "bad service name in '%s'", key);
        return -1;
    }
    return 1;
}

int cli_rc_set(struct cli_rc *rc, const char *key, const char *value,
               char *err, size_t errlen)
{
    size_t klen = strlen(key);
    char svc[64];
    int r = 0, is;

    if (!strcmp(key, "servers")) {
        r = replace(&rc->servers, value);
    } else if (!strcmp(key, "notifier")) {
        r = replace(&rc->notifier, value);
    } else if (!strcmp(key, "token") || !strcmp(key, "key")) {
        if (!cli_args_token_valid(value)) {
            seterr(err, errlen, "bad token (1..255 visible characters, no "
                   "blanks)");
            return -1;
        }
        forget_key(&rc->token);
        r = replace(&rc->token, value);
    } else if (!strcmp(key, "port")) {
        char *end;
        long p = strtol(value, &end, 10);

        if (!isdigit((unsigned char)*value) || *end || p < 1 || p > 65535) {
            seterr(err, errlen, "bad port '%s' (1-65535)", value);
            return -1;
        }
        rc->port = (int)p;
    } else if (!strcmp(key, "timeout")) {
        if (kv_parse_duration(value, &rc->timeout) < 0) {
            seterr(err, errlen, "bad timeout '%s' (seconds, or 30m, 2h)",
                   value);
            return -1;
        }
    } else if ((is = svc_key(key, ".servers", svc, sizeof(svc), err,
                             errlen)) != 0 ||
               (is = svc_key(key, ".key", svc, sizeof(svc), err,
                             errlen)) != 0) {
        struct cli_rc_svc *e;
        int is_key = klen > 4 && !strcmp(key + klen - 4, ".key");

        if (is < 0)
            return -1;
        if (is_key && !cli_args_token_valid(value)) {
            seterr(err, errlen, "bad key in '%s' (1..255 visible "
                   "characters, no blanks)", key);
            return -1;
        }
        if (!(e = svc_entry(rc, svc, strlen(svc))))
            r = -1;
        else if (is_key) {
            forget_key(&e->key);
            r = replace(&e->key, value);
        } else {
            r = replace(&e->servers, value);
        }
    }
    /* Anything else (maxDataRetention, ...) belongs to a server. */
    if (r < 0)
        seterr(err, errlen, "out of memory");
    return r;
}

struct rc_load {
    struct cli_rc *rc;
    char msg[256];
};

static int rc_pair(void *arg, const char *key, const char *value,
                   int lineno, char *err, size_t errlen)
{
    struct rc_load *ld = arg;
    char why[200];

    if (cli_rc_set(ld->rc, key, value, why, sizeof(why)) == 0)
        return 0;
    snprintf(ld->msg, sizeof(ld->msg), "line %d: %s", lineno, why);
    snprintf(err, errlen, "%s", ld->msg);
    return -1;
}

int cli_rc_load_file(struct cli_rc *rc, const char *path,
                     char *err, size_t errlen)
{
    struct rc_load ld = { .rc = rc };
    char kverr[300];
    int r = kv_parse_file(path, rc_pair, &ld, kverr, sizeof(kverr));

    if (r == -2)
        return 0;
    if (r < 0) {
        /* Our own message is the exact one; kv's names malformed lines. */
        if (ld.msg[0])
            seterr(err, errlen, "%s: %s", path, ld.msg);
        else
            seterr(err, errlen, "%s", kverr);
        return -1;
    }
    return 0;
}

int cli_rc_load_default(struct cli_rc *rc, char *err, size_t errlen)
{
    const char *home = getenv("HOME");
    char path[1024];
    struct stat sb;

    if (cli_rc_load_file(rc, SYSCONFDIR "/rrcloudrc", err, errlen) < 0)
        return -1;
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());

        home = pw ? pw->pw_dir : NULL;
    }
    if (home && rr_fmt(path, sizeof(path), "%s/.rrcloudrc", home) == 0 &&
        cli_rc_load_file(rc, path, err, errlen) < 0)
        return -1;
    /* ./rrcloudrc can name servers, and the token from ~/.rrcloudrc or
     * RRCLOUD_TOKEN goes to them: only a file of our own that nobody else
     * may change counts (a cloned repository's does not). */
    if (stat("rrcloudrc", &sb) == 0 &&
        (sb.st_uid != getuid() || (sb.st_mode & (S_IWGRP | S_IWOTH)))) {
        cli_out_warn("./rrcloudrc ignored: it is not yours, or others may "
                     "write it");
        return 0;
    }
    return cli_rc_load_file(rc, "rrcloudrc", err, errlen);
}

static const struct cli_rc_svc *svc_find(const struct cli_rc *rc,
                                         const char *service)
{
    for (size_t i = 0; service && i < rc->nsvc; i++) {
        if (!strcmp(rc->svc[i].service, service))
            return &rc->svc[i];
    }
    return NULL;
}

const char *cli_rc_servers(const struct cli_rc *rc, const char *service)
{
    const struct cli_rc_svc *e = svc_find(rc, service);

    return e && e->servers ? e->servers : rc->servers;
}

const char *cli_rc_key(const struct cli_rc *rc, const char *service,
                       const char *env, const char **servers)
{
    const struct cli_rc_svc *e = svc_find(rc, service);

    *servers = cli_rc_servers(rc, service);
    if (e && e->key)
        return e->key;
    if (e && e->servers)   /* other servers: the main key is not theirs */
        return NULL;
    return env && *env ? env : rc->token;
}

/* --- server addresses ---------------------------------------------- */

static int parse_port(const char *s, size_t n, int *port)
{
    long p = 0;

    if (n == 0 || n > 5)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return -1;
        p = p * 10 + (s[i] - '0');
    }
    if (p < 1 || p > 65535)
        return -1;
    *port = (int)p;
    return 0;
}

/* Checks "host", "host:port", "[v6]", "[v6]:port" in s[0..n); sets the
 * host span and *port (0 if none). */
static int parse_authority(const char *s, size_t n, size_t *hoff,
                           size_t *hlen, int *port)
{
    size_t end;

    *port = 0;
    if (n > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', n);

        if (!close || close == s + 1)
            return -1;
        end = (size_t)(close - s) + 1;
        if (strspn(s + 1, "0123456789abcdefABCDEF:.") != end - 2)
            return -1;
        *hoff = 0;
        *hlen = end;
    } else {
        const char *colon = memchr(s, ':', n);

        end = colon ? (size_t)(colon - s) : n;
        if (end == 0 || s[0] == '-' || s[0] == '.')
            return -1;
        for (size_t i = 0; i < end; i++) {
            if (!isalnum((unsigned char)s[i]) && !strchr(".-_", s[i]))
                return -1;
        }
        *hoff = 0;
        *hlen = end;
    }
    if (end == n)
        return 0;
    if (s[end] != ':')
        return -1;
    return parse_port(s + end + 1, n - end - 1, port);
}

static int url_spec(const char *spec, char *out, size_t outlen)
{
    int https = rr_prefix_ci(spec, "https://");
    const char *auth = spec + (https ? 8 : 7);
    size_t alen = strcspn(auth, "/");
    const char *path = auth + alen;
    size_t plen = strlen(path), hoff, hlen;
    int port;

    if (parse_authority(auth, alen, &hoff, &hlen, &port) < 0)
        return -1;
    if (strspn(path, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789-._~/%") != plen)
        return -1;
    while (plen > 0 && path[plen - 1] == '/')
        plen--;
    if (port)
        return rr_fmt(out, outlen, "%s://%.*s:%d%.*s", https ? "https" : "http",
                      (int)hlen, auth + hoff, port, (int)plen, path);
    return rr_fmt(out, outlen, "%s://%.*s%.*s", https ? "https" : "http",
                  (int)hlen, auth + hoff, (int)plen, path);
}

int cli_rc_server_url(const char *spec, int port, char *out, size_t outlen,
                      char *err, size_t errlen)
{
    size_t n = strlen(spec), hoff, hlen;
    int p, r;

    if (rr_prefix_ci(spec, "http://") || rr_prefix_ci(spec, "https://")) {
        r = url_spec(spec, out, outlen);
    } else if (strchr(spec, ':') != strrchr(spec, ':') && spec[0] != '[') {
        /* A bare IPv6 address: no port can follow it. */
        r = strspn(spec, "0123456789abcdefABCDEF:.") == n
                ? rr_fmt(out, outlen, "http://[%s]:%d", spec, port)
                : -1;
    } else {
        r = parse_authority(spec, n, &hoff, &hlen, &p);
        if (r == 0)
            r = rr_fmt(out, outlen, "http://%.*s:%d", (int)hlen, spec + hoff,
                       p ? p : port);
    }
    if (r < 0)
        seterr(err, errlen, "bad server '%s' (host, host:port or "
               "http(s)://host[:port][/path])", spec);
    return r;
}

void cli_rc_list_free(char **list)
{
    for (size_t i = 0; list && list[i]; i++)
        free(list[i]);
    free(list);
}

int cli_rc_server_list(const char *list, int port, char ***out,
                       char *err, size_t errlen)
{
    char **urls = NULL;
    size_t n = 0;
    const char *p = list;

    *out = NULL;
    while (*p) {
        size_t len = strcspn(p, ","), a = 0, b = len;
        char item[CLI_URL_MAX], url[CLI_URL_MAX];
        char **grown;

        while (a < b && isspace((unsigned char)p[a]))
            a++;
        while (b > a && isspace((unsigned char)p[b - 1]))
            b--;
        if (b - a >= sizeof(item)) {
            seterr(err, errlen, "server name too long");
            goto fail;
        }
        memcpy(item, p + a, b - a);
        item[b - a] = '\0';
        p += len + (p[len] == ',');
        if (!item[0])
            continue;
        if (cli_rc_server_url(item, port, url, sizeof(url), err, errlen) < 0)
            goto fail;
        if (!(grown = realloc(urls, (n + 2) * sizeof(*urls))))
            goto nomem;
        urls = grown;
        if (!(urls[n] = strdup(url)))
            goto nomem;
        urls[++n] = NULL;
    }
    if (n == 0) {
        seterr(err, errlen, "empty server list");
        goto fail;
    }
    *out = urls;
    return (int)n;
nomem:
    seterr(err, errlen, "out of memory");
fail:
    if (urls)
        urls[n] = NULL;
    cli_rc_list_free(urls);
    return -1;
}
