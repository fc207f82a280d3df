/* netcheck.c - see netcheck.h. */
#include "http/netcheck.h"

#include "common/conf.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Names that reach a cloud's instance metadata service. */
static const char *const netcheck_meta_names[] = {
    "metadata", "metadata.google.internal", "metadata.goog",
    "instance-data", "instance-data.ec2.internal", "metadata.azure.com",
    "metadata.packet.net", "metadata.platformequinix.com",
};

/* --- the allow list -------------------------------------------------------- */

static int netcheck_net_parse(struct netcheck_net *n, const char *s)
{
    char host[64], *slash, *end;
    long bits;

    if (strlen(s) >= sizeof(host))
        return -1;
    snprintf(host, sizeof(host), "%s", s);
    slash = strchr(host, '/');
    if (slash)
        *slash++ = '\0';
    if (inet_pton(AF_INET, host, n->addr) == 1)
        n->family = AF_INET;
    else if (inet_pton(AF_INET6, host, n->addr) == 1)
        n->family = AF_INET6;
    else
        return -1;
    bits = n->family == AF_INET ? 32 : 128;
    if (slash) {
        long max = bits;
        if (!isdigit((unsigned char)*slash))
            return -1;
        bits = strtol(slash, &end, 10);
        if (*end || bits < 0 || bits > max)
            return -1;
    }
    n->bits = (int)bits;
    return 0;
}

int netcheck_allow_parse(struct netcheck_allow *a, const char *list,
                         char *err, size_t errlen)
{
    const char *p = list ? list : "";

    memset(a, 0, sizeof(*a));
    for (;;) {
        char item[128];
        size_t len;

        p += strspn(p, ", \t");
        if (!*p)
            return 0;
        len = strcspn(p, ", \t");
        if (len >= sizeof(item) || a->n == NETCHECK_MAX_ALLOW) {
            snprintf(err, errlen, "'%.40s': more than %d entries or too "
                     "long", p, NETCHECK_MAX_ALLOW);
            return -1;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        if (netcheck_net_parse(&a->v[a->n], item) < 0) {
            snprintf(err, errlen, "'%s' is not an address or CIDR "
                     "(e.g. 192.168.7.0/24 or ::1/128)", item);
            return -1;
        }
        a->n++;
        p += len;
    }
}

int netcheck_conf_check(const struct rr_conf *c, char *err, size_t errlen)
{
    struct netcheck_allow a;
    char why[160];

    if (netcheck_allow_parse(&a, c->notifier_allow, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "notifier_allow: %s", why);
        return -1;
    }
    if (netcheck_allow_parse(&a, c->fleet_share_allow, why, sizeof(why)) < 0) {
        snprintf(err, errlen, "fleet_share_allow: %s", why);
        return -1;
    }
    if (netcheck_allow_parse(&a, c->anonymous_networks, why,
                             sizeof(why)) < 0) {
        snprintf(err, errlen, "anonymous_networks: %s", why);
        return -1;
    }
    return 0;
}

static int netcheck_in_net(const struct netcheck_net *n, int family,
                           const unsigned char *addr)
{
    int full = n->bits / 8, rest = n->bits % 8;

    if (n->family != family)
        return 0;
    if (memcmp(n->addr, addr, (size_t)full) != 0)
        return 0;
    if (rest) {
        unsigned char mask = (unsigned char)(0xff << (8 - rest));
        if ((n->addr[full] & mask) != (addr[full] & mask))
            return 0;
    }
    return 1;
}

static int netcheck_allowed(const struct netcheck_allow *a, int family,
                            const unsigned char *addr)
{
    for (int i = 0; a && i < a->n; i++) {
        if (netcheck_in_net(&a->v[i], family, addr))
            return 1;
    }
    return 0;
}

int netcheck_allow_has(const struct netcheck_allow *a, const char *addr)
{
    unsigned char b[16];

    if (!addr)
        return 0;
    if (inet_pton(AF_INET, addr, b) == 1)
        return netcheck_allowed(a, AF_INET, b);
    if (inet_pton(AF_INET6, addr, b) != 1)
        return 0;
    if (IN6_IS_ADDR_V4MAPPED((struct in6_addr *)b))
        return netcheck_allowed(a, AF_INET, b + 12);
    return netcheck_allowed(a, AF_INET6, b);
}

/* --- classes ---------------------------------------------------------------- */

static const char *netcheck_v4_class(const unsigned char *b)
{
    uint32_t x = ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) |
                 ((uint32_t)b[2] << 8) | b[3];

    if (b[0] == 0)
        return "an unspecified address";
    if (b[0] == 127)
        return "a loopback address";
    if (b[0] == 10 || (x & 0xfff00000u) == 0xac100000u ||
        (x & 0xffff0000u) == 0xc0a80000u)
        return "a private address";
    if ((x & 0xffc00000u) == 0x64400000u)
        return "a shared (carrier-grade NAT) address";
    if ((x & 0xffff0000u) == 0xa9fe0000u)
        return "a link-local address";
    if ((x & 0xfffe0000u) == 0xc6120000u)
        return "a benchmarking address";
    if ((x & 0xffffff00u) == 0xc0000000u)
        return "an IETF protocol address";
    if ((b[0] & 0xf0) == 0xe0)
        return "a multicast address";
    if ((b[0] & 0xf0) == 0xf0)
        return "a reserved or broadcast address";
    return NULL;
}

/* The IPv4 address an IPv6 one stands for (mapped, compatible, NAT64,
 * 6to4), or NULL. */
static const unsigned char *netcheck_v6_embedded(const unsigned char *b)
{
    static const unsigned char mapped[12] = { [10] = 0xff, [11] = 0xff };
    static const unsigned char nat64[12] = { 0x00, 0x64, 0xff, 0x9b };
    static const unsigned char zero[12];

    if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
        return b + 12;
    /* ::a.b.c.d, but not :: and ::1 themselves. */
    if (memcmp(b, zero, 12) == 0 && (b[12] | b[13] | b[14]) != 0)
        return b + 12;
    if (b[0] == 0x20 && b[1] == 0x02)
        return b + 2;
    return NULL;
}

static const char *netcheck_v6_class(const unsigned char *b)
{
    static const unsigned char zero[16];

    if (memcmp(b, zero, 15) == 0 && b[15] <= 1)
        return b[15] ? "a loopback address" : "an unspecified address";
    if (b[0] == 0xff)
        return "a multicast address";
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
        return "a link-local address";
    if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
        return "a private (site-local) address";
    if ((b[0] & 0xfe) == 0xfc)
        return "a unique-local address";
    return NULL;
}

static const char *netcheck_raw(int family, const unsigned char *b,
                                const struct netcheck_allow *a)
{
    const unsigned char *v4;

    if (family == AF_INET6 && (v4 = netcheck_v6_embedded(b)) != NULL) {
        family = AF_INET;
        b = v4;
    }
    if (netcheck_allowed(a, family, b))
        return NULL;
    if (family == AF_INET)
        return netcheck_v4_class(b);
    if (family == AF_INET6)
        return netcheck_v6_class(b);
    return "not an IP address";
}

const char *netcheck_addr(const struct sockaddr *sa,
                          const struct netcheck_allow *a)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const void *)sa;
        return netcheck_raw(AF_INET, (const void *)&in->sin_addr, a);
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const void *)sa;
        return netcheck_raw(AF_INET6, (const void *)&in6->sin6_addr, a);
    }
    return "not an IP address";
}

/* --- hosts as written ----------------------------------------------------- */

static int netcheck_is_meta(const char *name)
{
    for (size_t i = 0; i < sizeof(netcheck_meta_names) /
                               sizeof(netcheck_meta_names[0]); i++) {
        if (strcmp(name, netcheck_meta_names[i]) == 0)
            return 1;
    }
    return 0;
}

const char *netcheck_host(const char *host, const struct netcheck_allow *a)
{
    static const unsigned char lo4[4] = { 127, 0, 0, 1 };
    char h[256];
    size_t len = strlen(host);
    struct in_addr in;
    struct addrinfo hints = { .ai_flags = AI_NUMERICHOST }, *res = NULL;
    const char *why;

    if (len >= sizeof(h) || len == 0)
        return "has no usable host";
    if (host[0] == '[' && host[len - 1] == ']') {
        host++;
        len -= 2;
    }
    memcpy(h, host, len);
    h[len] = '\0';
    h[strcspn(h, "%")] = '\0';          /* an IPv6 zone */
    for (char *p = h; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    len = strlen(h);
    if (len && h[len - 1] == '.')
        h[--len] = '\0';
    /* inet_aton takes the legacy forms too: 2130706433, 0x7f000001,
     * 0177.0.0.1, 127.1; a resolver would read them the same way. */
    if (inet_aton(h, &in))
        return netcheck_raw(AF_INET, (const void *)&in, a);
    if (getaddrinfo(h, NULL, &hints, &res) == 0) {
        why = netcheck_addr(res->ai_addr, a);
        freeaddrinfo(res);
        return why;
    }
    if (strcmp(h, "localhost") == 0 ||
        (len > 10 && strcmp(h + len - 10, ".localhost") == 0))
        return netcheck_raw(AF_INET, lo4, a) ? "a loopback name" : NULL;
    if (netcheck_is_meta(h))
        return "a cloud metadata name";
    return NULL;
}

const char *netcheck_url(const char *url, const char *allow)
{
    struct netcheck_allow a;
    char err[128];
    CURLU *u = curl_url();
    char *host = NULL;
    const char *why = "is not a URL";

    if (netcheck_allow_parse(&a, allow, err, sizeof(err)) < 0)
        a.n = 0;
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK)
        why = netcheck_host(host, &a);
    curl_free(host);
    curl_url_cleanup(u);
    return why;
}

/* --- libcurl ---------------------------------------------------------------- */

static curl_socket_t netcheck_open(void *arg, curlsocktype purpose,
                                   struct curl_sockaddr *addr)
{
    struct netcheck_guard *g = arg;
    const char *why;

    (void)purpose;
    /* One refused address refuses the transfer: a name that answers with
     * a public and a private address is not to be trusted with either. */
    if (g->why)
        return CURL_SOCKET_BAD;
    why = netcheck_addr(&addr->addr, g->allow);
    if (why) {
        g->why = why;
        return CURL_SOCKET_BAD;
    }
    return socket(addr->family, addr->socktype | SOCK_CLOEXEC,
                  addr->protocol);
}

int netcheck_curl_guard(CURL *e, struct netcheck_guard *g)
{
    int bad = 0;

    g->why = NULL;
    bad |= curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, netcheck_open) !=
           CURLE_OK;
    bad |= curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, g) != CURLE_OK;
    /* A proxy from the environment would be the only peer checked. */
    bad |= curl_easy_setopt(e, CURLOPT_PROXY, "") != CURLE_OK;
    return bad ? -1 : 0;
}
