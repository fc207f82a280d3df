/*
 * test_netcheck.c - the deny list for addresses rrcloud calls out to
 * (netcheck.c): every spelling of loopback, the private and special
 * ranges, the allow list, and a live libcurl transfer refused at connect.
 */
#include <check.h>
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

#include "fleet/share.h"
#include "common/conf.h"
#include "http/netcheck.h"

Suite *netcheck_suite(void);

static const char *const denied_urls[] = {
    "http://127.0.0.1/x", "http://[::1]/x", "http://2130706433/x",
    "http://0x7f000001/x", "http://0177.0.0.1/x", "http://127.1/x",
    "http://localhost/x", "http://LOCALHOST./x", "http://a.localhost/x",
    "http://169.254.169.254/latest/meta-data/",
    "http://metadata.google.internal/x", "http://10.1.2.3/x",
    "http://172.16.0.1/x", "http://172.31.255.255/x", "http://192.168.1.1/x",
    "http://100.64.0.1/x", "http://0.0.0.0/x", "http://0/x", "http://[::]/x",
    "http://[fe80::1%25eth0]/x", "http://[fd00::1]/x", "http://[fc00::1]/x",
    "http://[ff02::1]/x", "http://224.0.0.1/x", "http://255.255.255.255/x",
    "http://[::ffff:127.0.0.1]/x", "http://[::ffff:7f00:1]/x",
    "http://[::127.0.0.1]/x", "http://[64:ff9b::a00:1]/x",
    "http://[2002:c0a8:101::1]/x", "https://user:pw@127.0.0.1:8443/x",
};

static const char *const allowed_urls[] = {
    "http://example.com/x", "http://93.184.216.34/x", "https://[2001:db8::1]/x",
    "http://172.32.0.1/x", "http://[::ffff:93.184.216.34]/x",
    "http://localhost.example.com/x",
};

START_TEST(test_denied_spellings)
{
    const char *url = denied_urls[_i];

    ck_assert_msg(netcheck_url(url, "") != NULL, "%s was let through", url);
}
END_TEST

START_TEST(test_public_allowed)
{
    const char *url = allowed_urls[_i];
    const char *why = netcheck_url(url, "");

    ck_assert_msg(why == NULL, "%s refused: %s", url, why);
}
END_TEST

START_TEST(test_classes_named)
{
    ck_assert_str_eq(netcheck_url("http://2130706433/", ""),
                     "a loopback address");
    ck_assert_str_eq(netcheck_url("http://169.254.169.254/", ""),
                     "a link-local address");
    ck_assert_str_eq(netcheck_url("http://[fd12::3]/", ""),
                     "a unique-local address");
    ck_assert_str_eq(netcheck_url("http://metadata/", ""),
                     "a cloud metadata name");
    ck_assert_str_eq(netcheck_url("http://localhost/", ""), "a loopback name");
}
END_TEST

START_TEST(test_allow_list)
{
    const char *allow = "127.0.0.0/8, ::1/128 192.168.7.20";

    ck_assert_ptr_null(netcheck_url("http://127.0.0.1:99/", allow));
    ck_assert_ptr_null(netcheck_url("http://0x7f000001/", allow));
    ck_assert_ptr_null(netcheck_url("http://[::1]/", allow));
    ck_assert_ptr_null(netcheck_url("http://[::ffff:127.0.0.1]/", allow));
    ck_assert_ptr_null(netcheck_url("http://localhost/", allow));
    ck_assert_ptr_null(netcheck_url("http://192.168.7.20/", allow));
    ck_assert_ptr_nonnull(netcheck_url("http://192.168.7.21/", allow));
    ck_assert_ptr_nonnull(netcheck_url("http://10.0.0.1/", allow));
    /* Metadata names are never allowed by an address range. */
    ck_assert_ptr_nonnull(netcheck_url("http://metadata/", "0.0.0.0/0"));
}
END_TEST

START_TEST(test_allow_parse)
{
    struct netcheck_allow a;
    char err[128];

    ck_assert_int_eq(netcheck_allow_parse(&a, "", err, sizeof(err)), 0);
    ck_assert_int_eq(a.n, 0);
    ck_assert_int_eq(netcheck_allow_parse(&a, " 10.0.0.0/8,fd00::/8 ", err,
                                          sizeof(err)), 0);
    ck_assert_int_eq(a.n, 2);
    ck_assert_int_eq(a.v[1].bits, 8);
    ck_assert_int_eq(netcheck_allow_parse(&a, "10.0.0.0/33", err,
                                          sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "10.0.0.0/33"));
    ck_assert_int_eq(netcheck_allow_parse(&a, "lan.example", err,
                                          sizeof(err)), -1);
    ck_assert_int_eq(netcheck_allow_parse(&a, "10.0.0.0/", err,
                                          sizeof(err)), -1);
    ck_assert_int_eq(netcheck_allow_parse(&a, "10.0.0.0/-1", err,
                                          sizeof(err)), -1);
    /* A broken list refuses loopback rather than allowing anything. */
    ck_assert_ptr_nonnull(netcheck_url("http://127.0.0.1/", "127.0.0.0/99"));
}
END_TEST

/* anonymous_networks: a client's address as text, v4-mapped judged as
 * the IPv4 inside; a typo in the list stops the program at start. */
START_TEST(test_allow_has)
{
    struct netcheck_allow a;
    struct rr_conf c;
    char err[128];

    ck_assert_int_eq(netcheck_allow_parse(&a, "127.0.0.0/8, ::1, 10.1.0.0/16",
                                          err, sizeof(err)), 0);
    ck_assert_int_eq(netcheck_allow_has(&a, "127.0.0.2"), 1);
    ck_assert_int_eq(netcheck_allow_has(&a, "::1"), 1);
    ck_assert_int_eq(netcheck_allow_has(&a, "::ffff:127.0.0.1"), 1);
    ck_assert_int_eq(netcheck_allow_has(&a, "10.1.200.3"), 1);
    ck_assert_int_eq(netcheck_allow_has(&a, "10.2.0.1"), 0);
    ck_assert_int_eq(netcheck_allow_has(&a, "::2"), 0);
    ck_assert_int_eq(netcheck_allow_has(&a, "localhost"), 0);
    ck_assert_int_eq(netcheck_allow_has(&a, NULL), 0);
    conf_defaults(&c, NULL);
    ck_assert_int_eq(netcheck_conf_check(&c, err, sizeof(err)), 0);
    snprintf(c.anonymous_networks, sizeof(c.anonymous_networks),
             "127.0.0.1, 192.168.1.0/33");
    ck_assert_int_eq(netcheck_conf_check(&c, err, sizeof(err)), -1);
    ck_assert_ptr_nonnull(strstr(err, "anonymous_networks"));
}
END_TEST

/* The guard refuses at connect time, whatever name led there. */
START_TEST(test_curl_guard_refuses)
{
    CURL *e = curl_easy_init();
    struct netcheck_guard g = { 0 };
    CURLcode res;

    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(netcheck_curl_guard(e, &g), 0);
    curl_easy_setopt(e, CURLOPT_URL, "http://localhost:9/");
    curl_easy_setopt(e, CURLOPT_TIMEOUT, 5L);
    res = curl_easy_perform(e);
    ck_assert_int_eq(res, CURLE_COULDNT_CONNECT);
    ck_assert_ptr_nonnull(g.why);
    ck_assert_ptr_nonnull(strstr(g.why, "loopback"));
    curl_easy_cleanup(e);
}
END_TEST

/* A printer's own share: the zrok shape on its frontend or a pattern. */
START_TEST(test_share_check)
{
    const char *ns = "eu1.print.example.com", *fe = "https://eu1.fe.example:8443/";
    const char *pat = "https://moon-$id.lan.example/*, http://10.7.0.$id:7125";
    const char *why = NULL;

#define OK(url, op)  ck_assert_msg(fleet_share_check(7, url, ns, fe, pat, \
                                   "10.7.0.0/24", op, &why) == 0, "%s: %s", \
                                   url, why)
#define BAD(url, op) ck_assert_msg(fleet_share_check(7, url, ns, fe, pat, \
                                   "10.7.0.0/24", op, &why) == -1, "%s", url)
    OK("https://prn-7.eu1.print.example.com", 0);
    OK("https://PRN-7.eu1.print.example.com/", 0);
    OK("https://prn-7.eu1.fe.example:8443", 0);
    OK("https://moon-7.lan.example/", 0);
    OK("http://10.7.0.7:7125", 0);
    BAD("https://prn-8.eu1.print.example.com", 0);
    BAD("https://prn-77.eu1.print.example.com", 0);
    BAD("https://prn-7.eu1.print.example.com.evil.example", 0);
    BAD("https://prn-7.eu1.print.example.com/moonraker", 0);
    BAD("http://prn-7.eu1.print.example.com", 0);
    BAD("https://moon-8.lan.example/", 0);
    BAD("http://10.7.0.8:7125", 0);
    BAD("https://evil.example/", 0);
    ck_assert_str_eq(why, "not this printer's share on its frontend");
    /* Operators skip the shape, never the deny list. */
    OK("https://evil.example/", 1);
    OK("http://10.7.0.99:7125", 1);
    BAD("http://127.0.0.1:7125", 1);
    ck_assert_str_eq(why, "a loopback address");
    BAD("http://10.8.0.1:7125", 1);
    BAD("https://u:pw@moonraker.example.org/", 1);
    ck_assert_ptr_nonnull(strstr(why, "share_auth"));
    BAD("https://u@prn-7.eu1.print.example.com", 0);
    /* No frontend assigned: only the patterns. */
    ck_assert_int_eq(fleet_share_check(7, "https://prn-7.eu1.print.example.com",
                                       NULL, NULL, "", "", 0, &why), -1);
#undef OK
#undef BAD
}
END_TEST

Suite *netcheck_suite(void)
{
    Suite *s = suite_create("netcheck");
    TCase *tc = tcase_create("core");

    tcase_add_loop_test(tc, test_denied_spellings, 0,
                        sizeof(denied_urls) / sizeof(denied_urls[0]));
    tcase_add_loop_test(tc, test_public_allowed, 0,
                        sizeof(allowed_urls) / sizeof(allowed_urls[0]));
    tcase_add_test(tc, test_classes_named);
    tcase_add_test(tc, test_allow_list);
    tcase_add_test(tc, test_allow_parse);
    tcase_add_test(tc, test_allow_has);
    tcase_add_test(tc, test_curl_guard_refuses);
    tcase_add_test(tc, test_share_check);
    suite_add_tcase(s, tc);
    return s;
}
