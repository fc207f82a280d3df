/* share.c - see share.h. */
#include "fleet/share.h"

#include "fleet/model.h"
#include "http/netcheck.h"

#include <curl/curl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* SCHEME://prn-ID.DOMAIN with at most a trailing slash. */
static int share_is(long long id, const char *url, const char *scheme,
                    const char *domain, size_t dlen)
{
    char share[32], want[FLEET_URL_MAX];
    size_t len;

    if (!dlen)
        return 0;
    fleet_share_name(id, share, sizeof(share));
    if (snprintf(want, sizeof(want), "%s://%s.%.*s", scheme, share,
                 (int)dlen, domain) >= (int)sizeof(want))
        return 0;
    len = strlen(want);
    return strncasecmp(url, want, len) == 0 &&
           (url[len] == '\0' || (url[len] == '/' && url[len + 1] == '\0'));
}

/* The printer's share on its frontend: https://prn-ID.NAMESPACE, or
 * prn-ID under the host of the frontend's own URL, with its scheme (what
 * a zrok frontend serving the namespace's wildcard domain answers on). */
static int share_is_zrok(long long id, const char *url, const char *ns,
                         const char *fe_url)
{
    const char *host;

    if (ns && share_is(id, url, "https", ns, strlen(ns)))
        return 1;
    if (!fe_url || !(host = strstr(fe_url, "://")))
        return 0;
    if (strncasecmp(fe_url, "https://", 8) && strncasecmp(fe_url, "http://", 7))
        return 0;
    host += 3;
    return share_is(id, url, strncasecmp(fe_url, "https", 5) ? "http" : "https",
                    host, strcspn(host, "/?#"));
}

/* pattern with "$id" replaced by id, into out; -1 if it does not fit. */
static int share_expand(const char *pat, size_t len, long long id, char *out,
                        size_t outlen)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i++) {
        int n;
        if (!strncmp(pat + i, "$id", 3) && i + 3 <= len) {
            n = snprintf(out + o, outlen - o, "%lld", id);
            i += 2;
        } else {
            n = snprintf(out + o, outlen - o, "%c", pat[i]);
        }
        if (n < 0 || (size_t)n >= outlen - o)
            return -1;
        o += (size_t)n;
    }
    return 0;
}

static int share_matches(long long id, const char *url, const char *patterns)
{
    const char *p = patterns ? patterns : "";
    char pat[FLEET_URL_MAX];

    for (;;) {
        size_t len;

        p += strspn(p, ", \t\n");
        if (!*p)
            return 0;
        len = strcspn(p, ", \t\n");
        if (share_expand(p, len, id, pat, sizeof(pat)) == 0 &&
            fnmatch(pat, url, 0) == 0)
            return 1;
        p += len;
    }
}

/* "user:password@" in a URL would reach the logs with it; share_auth
 * keeps a share's credentials apart. */
static int share_has_userinfo(const char *url)
{
    CURLU *u = curl_url();
    char *user = NULL, *pw = NULL;
    int has = 1;

    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK) {
        has = curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK ||
              curl_url_get(u, CURLUPART_PASSWORD, &pw, 0) == CURLUE_OK;
    }
    curl_free(user);
    curl_free(pw);
    curl_url_cleanup(u);
    return has;
}

int fleet_share_check(long long id, const char *url, const char *ns,
                      const char *fe_url, const char *patterns, const char *allow, int operator,
                      const char **why)
{
    const char *bad = netcheck_url(url, allow);

    if (bad) {
        *why = bad;
        return -1;
    }
    if (share_has_userinfo(url)) {
        *why = "has a user name or password (send them as share_auth)";
        return -1;
    }
    if (operator || share_is_zrok(id, url, ns, fe_url) ||
        share_matches(id, url, patterns))
        return 0;
    *why = "not this printer's share on its frontend";
    return -1;
}
