/* url.c - see url.h. */
#include "http/url.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

int url_check_http(const char *url, const char **why)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    size_t slen;
    int rc = -1;

    for (const char *p = url; *p; p++) {
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
            *why = "control characters or spaces are not allowed";
            goto out;
        }
    }
    if (!u || curl_url_set(u, CURLUPART_URL, url,
                           CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
        *why = "is not a URL";
        goto out;
    }
    if (strcasecmp(scheme, "http") != 0 && strcasecmp(scheme, "https") != 0) {
        *why = "scheme not allowed: only http and https";
        goto out;
    }
    slen = strlen(scheme);
    if (strncmp(url + slen, "://", 3) != 0 || url[slen + 3] == '/' ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host) {
        *why = "has no host";
        goto out;
    }
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

void url_redact(const char *url, char *out, size_t outlen)
{
    CURLU *u = curl_url();
    char *s = NULL;

    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_OPTIONS, NULL, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_QUERY, NULL, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK)
        snprintf(out, outlen, "%s", s);
    else
        snprintf(out, outlen, "(unparsable URL)");
    curl_free(s);
    curl_url_cleanup(u);
}
