/*
 * netcheck.h - may rrcloud open a connection to this address?  One deny
 * list for every URL a client hands us that a server-side program then
 * calls: notifiers (rrcloudd's notifier thread) and printers' share URLs
 * (the fleet poller and dispatcher).  Without it a client could make the
 * server POST to its own loopback services, the LAN or a cloud metadata
 * endpoint.
 *
 * Denied: unspecified (0.0.0.0/8, ::), loopback (127/8, ::1), private
 * (10/8, 172.16/12, 192.168/16, fec0::/10), shared 100.64/10, link-local
 * (169.254/16, fe80::/10), unique-local fc00::/7, multicast, reserved
 * 240/4 and the broadcast address, and the names "localhost", *.localhost
 * and the cloud metadata names.  IPv4-mapped (::ffff:a.b.c.d),
 * -compatible (::a.b.c.d), NAT64 (64:ff9b::/96) and 6to4 (2002::/16)
 * addresses are judged by the IPv4 address inside.  An allow list of
 * CIDRs ("127.0.0.0/8, ::1/128, 192.168.7.20") lets through what it
 * covers.
 *
 * Two places check.  When a URL is accepted (rrcloud-fcgi) only its host
 * as written is judged: an address literal in any spelling libc accepts
 * (2130706433, 0x7f000001, 0177.0.0.1, 127.1, [::1]) or one of the names
 * above; other names are not resolved there, so a slow DNS server cannot
 * hold a worker.  When a connection is opened (rrcloudd) every address
 * libcurl is about to connect to is judged (netcheck_curl_guard), which
 * also defeats DNS rebinding: the check is on the socket's own peer.
 */
#ifndef RR_NETCHECK_H
#define RR_NETCHECK_H

#include <curl/curl.h>
#include <stddef.h>
#include <sys/socket.h>

#define NETCHECK_MAX_ALLOW 32

struct netcheck_net {
    int family;                 /* AF_INET or AF_INET6 */
    unsigned char addr[16];
    int bits;
};

struct netcheck_allow {
    int n;
    struct netcheck_net v[NETCHECK_MAX_ALLOW];
};

/* Parses a list of CIDRs or plain addresses separated by commas or
 * spaces ("" = allow nothing more) into a.  0, or -1 with err naming
 * the entry that is wrong. */
int netcheck_allow_parse(struct netcheck_allow *a, const char *list,
                         char *err, size_t errlen);

/* 1 if addr (a client's address as text: IPv4, IPv6, or IPv4-mapped
 * IPv6, judged as the IPv4 inside) is covered by a, else 0. */
int netcheck_allow_has(const struct netcheck_allow *a, const char *addr);

struct rr_conf;
/* Checks the conf's address lists (notifier_allow, fleet_share_allow,
 * anonymous_networks) so a
 * typo stops the program at start instead of refusing every call.  0, or
 * -1 with err naming the key. */
int netcheck_conf_check(const struct rr_conf *c, char *err, size_t errlen);

/* NULL if sa may be connected to; else static text naming its class,
 * e.g. "a loopback address".  a may be NULL (nothing allowed). */
const char *netcheck_addr(const struct sockaddr *sa,
                          const struct netcheck_allow *a);

/* Judges a host as written in a URL (brackets and an IPv6 zone are
 * accepted).  Returns NULL when it is a name to be resolved later or a
 * literal that may be called; else static text as netcheck_addr. */
const char *netcheck_host(const char *host, const struct netcheck_allow *a);

/* netcheck_host() on an http(s) URL's host, with allow given as the
 * conf's text.  NULL when fine; else static text ("is not a URL" or the
 * class).  A malformed allow list counts as empty: only the deny list
 * applies (the programs refuse to start with one, netcheck_conf_check).  */
const char *netcheck_url(const char *url, const char *allow);

/* Guards a libcurl easy handle: every socket it opens is to an address
 * netcheck_addr() accepts, no proxy from the environment is used.  On a
 * refusal the transfer fails (CURLE_COULDNT_CONNECT) and g->why says why.
 * g must outlive the transfer.  0 or -1. */
struct netcheck_guard {
    const struct netcheck_allow *allow;   /* borrowed, may be NULL */
    const char *why;                      /* set on a refusal */
};
int netcheck_curl_guard(CURL *e, struct netcheck_guard *g);

#endif
