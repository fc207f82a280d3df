/* test_authlimit.c - failed authentication limited per address. */
#include "fcgi/authlimit.h"

#include <check.h>
#include <stdio.h>

#include "suites.h"

#define MIN 60000LL     /* ms */

/* limit failures block for the window; nothing blocks before that, or
 * any other address. */
START_TEST(test_block_after_limit)
{
    struct authlimit *al = authlimit_new(10, 60);
    long long t = 1000000;

    ck_assert_ptr_nonnull(al);
    for (int i = 0; i < 9; i++) {
        ck_assert_int_eq(authlimit_blocked(al, "192.0.2.7", t + i), 0);
        ck_assert_int_eq(authlimit_failed(al, "192.0.2.7", t + i), 0);
    }
    ck_assert_int_eq(authlimit_blocked(al, "192.0.2.7", t + 9), 0);
    ck_assert_int_eq(authlimit_failed(al, "192.0.2.7", t + 9), 1);
    ck_assert_int_eq(authlimit_blocked(al, "192.0.2.7", t + 9), 60);
    ck_assert_int_eq(authlimit_blocked(al, "192.0.2.7", t + 9 + 59500), 1);
    ck_assert_int_eq(authlimit_blocked(al, "192.0.2.8", t + 10), 0);
    /* blocked: not checked, so not counted, and the block does not grow */
    ck_assert_int_eq(authlimit_failed(al, "192.0.2.7", t + 30000), 0);
    ck_assert_int_eq(authlimit_blocked(al, "192.0.2.7", t + 9 + MIN), 0);
    /* a fresh count after the block */
    ck_assert_int_eq(authlimit_failed(al, "192.0.2.7", t + 9 + MIN), 0);
    ck_assert_int_eq(authlimit_blocked(al, "192.0.2.7", t + 10 + MIN), 0);
    authlimit_free(al);
}
END_TEST

/* Failures spread wider than the window never block. */
START_TEST(test_window)
{
    struct authlimit *al = authlimit_new(3, 60);
    long long t = 5000;

    for (int i = 0; i < 20; i++)
        ck_assert_int_eq(authlimit_failed(al, "198.51.100.1",
                                          t + i * (MIN / 2 + 1)), 0);
    ck_assert_int_eq(authlimit_blocked(al, "198.51.100.1", t + 20 * MIN), 0);
    ck_assert_int_eq(authlimit_limit(al), 3);
    ck_assert_int_eq(authlimit_window(al), 60);
    authlimit_free(al);
}
END_TEST

/* An IPv6 client holds a /64; IPv4 counts alike in either notation. */
START_TEST(test_address_keys)
{
    struct authlimit *al = authlimit_new(2, 60);

    ck_assert_int_eq(authlimit_failed(al, "2001:db8::1", 1), 0);
    ck_assert_int_eq(authlimit_failed(al, "2001:db8::2:3", 2), 1);
    ck_assert_int_gt(authlimit_blocked(al, "2001:db8::ffff", 3), 0);
    ck_assert_int_eq(authlimit_blocked(al, "2001:db8:0:1::1", 3), 0);
    ck_assert_int_eq(authlimit_failed(al, "127.0.0.1", 4), 0);
    ck_assert_int_eq(authlimit_failed(al, "::ffff:127.0.0.1", 5), 1);
    ck_assert_int_gt(authlimit_blocked(al, "127.0.0.1", 6), 0);
    ck_assert_int_eq(authlimit_blocked(al, "127.0.0.2", 6), 0);
    ck_assert_int_eq(authlimit_blocked(al, "::ffff:127.0.0.2", 6), 0);
    /* not an address (a Unix socket gives ""): still one key */
    ck_assert_int_eq(authlimit_failed(al, "", 7), 0);
    ck_assert_int_eq(authlimit_failed(al, NULL, 8), 1);
    ck_assert_int_gt(authlimit_blocked(al, "", 9), 0);
    authlimit_free(al);
}
END_TEST

/* The table is bounded: many addresses evict the least recent unblocked
 * ones, never a blocked one while others can go. */
START_TEST(test_bounded)
{
    struct authlimit *al = authlimit_new(2, 60);
    char addr[32];
    long long t = 1;

    authlimit_failed(al, "203.0.113.9", t++);
    ck_assert_int_eq(authlimit_failed(al, "203.0.113.9", t++), 1);
    for (int i = 0; i < 3 * AUTHLIMIT_SLOTS; i++) {
        snprintf(addr, sizeof(addr), "10.%d.%d.%d", i >> 16, (i >> 8) & 255,
                 i & 255);
        authlimit_failed(al, addr, t++);
    }
    ck_assert_int_gt(authlimit_blocked(al, "203.0.113.9", t), 0);
    /* the oldest of the flood went, the newest is still counted */
    ck_assert_int_eq(authlimit_failed(al, "10.0.0.0", t++), 0);
    snprintf(addr, sizeof(addr), "10.0.%d.%d", ((3 * AUTHLIMIT_SLOTS - 1) >> 8)
             & 255, (3 * AUTHLIMIT_SLOTS - 1) & 255);
    ck_assert_int_eq(authlimit_failed(al, addr, t++), 1);
    authlimit_free(al);
}
END_TEST

START_TEST(test_off)
{
    ck_assert_ptr_null(authlimit_new(0, 60));
    ck_assert_int_eq(authlimit_failed(NULL, "127.0.0.1", 1), 0);
    ck_assert_int_eq(authlimit_blocked(NULL, "127.0.0.1", 1), 0);
    authlimit_free(NULL);
}
END_TEST

Suite *authlimit_suite(void)
{
    Suite *s = suite_create("authlimit");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, test_block_after_limit);
    tcase_add_test(tc, test_window);
    tcase_add_test(tc, test_address_keys);
    tcase_add_test(tc, test_bounded);
    tcase_add_test(tc, test_off);
    suite_add_tcase(s, tc);
    return s;
}
