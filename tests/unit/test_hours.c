/* test_hours.c - staffed hours: the text's rules and the minute test. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fleet/hours.h"
#include "suites.h"

/* 2026-11-30 is a Monday; 00:00 UTC. */
#define MON0 1795996800.0
#define AT(day, hh, mm) (MON0 + (day) * 86400.0 + (hh) * 3600.0 + (mm) * 60.0)

static struct fleet_hours h;
static char err[256];

static void parse_ok(const char *s)
{
    err[0] = '\0';
    ck_assert_msg(fleet_hours_parse(s, &h, err, sizeof(err)) == 0,
                  "'%s': %s", s, err);
}

static void parse_bad(const char *s, const char *want)
{
    err[0] = '\0';
    ck_assert_msg(fleet_hours_parse(s, &h, err, sizeof(err)) < 0,
                  "'%s' accepted", s);
    ck_assert_msg(strstr(err, want) != NULL, "'%s': '%s' lacks '%s'", s,
                  err, want);
}

START_TEST(weekdays_and_saturday)
{
    parse_ok("Mon-Fri 08:00-18:00, Sat 09:00-13:00, UTC");
    ck_assert_int_eq(h.fixed, 1);
    ck_assert_str_eq(h.text, "Mon-Fri 08:00-18:00, Sat 09:00-13:00, UTC");
    ck_assert_int_eq(fleet_hours_staffed(&h, AT(0, 8, 0)), 1);
    ck_assert_int_eq(fleet_hours_staffed(&h, AT(0, 7, 59)), 0);
    ck_assert_int_eq(fleet_hours_staffed(&h, AT(4, 17, 59)), 1);
    ck_assert_int_eq(fleet_hours_staffed(&h, AT(4, 18, 0)), 0);  /* end out */
    ck_assert_int_eq(fleet_hours_staffed(&h, AT(5, 12, 30)), 1);
    ck_assert_int_eq(fleet_hours_staffed(&h, AT(5, 13, 0)), 0);
    ck_assert_int_eq(fleet_hours_staffed(&h, AT(6, 10, 0)), 0);  /* Sunday */
    /* A week later, the same. */
    ck_assert_int_eq(fleet_hours_staffed(&h, AT(7, 9, 0)), 1);
}
END_TEST

START_TEST(offsets_overnight_and_wrap)
{
    /* 08:00-18:00 at UTC+02:00 is 06:00-16:00 UTC. */
    parse_ok("daily 08:00-18:00, UTC+02:00");
    ck_assert_int_eq(fleet_hours_staffed(&h, AT(2, 6, 0)), 1);
    ck_assert_int_eq(fleet_hours_staffed(&h, AT(2, 5, 59)), 0);
    ck_assert_int_eq(fleet_hours_staffed(&h, AT(2, 16, 0)), 0);
    parse_ok("daily 08:00-18:00, utc-05:30");
    ck_assert_int_eq(fleet_hours_staffed(&h, AT(2, 13, 30)), 1);
    ck_assert_int_eq(fleet_hours_staffed(&h, AT(2, 13, 29)), 0);
    /* Friday night into Saturday; Sunday into Monday wraps the week. */
    parse_ok("fri 22:00-02:00,Sun 23:00-24:00 ,  UTC");
    ck_assert_int_eq(fleet_hours_staffed(&h, AT(4, 23, 0)), 1);
    ck_assert_int_eq(fleet_hours_staffed(&h, AT(5, 1, 59)), 1);
    ck_assert_int_eq(fleet_hours_staffed(&h, AT(5, 2, 0)), 0);
    ck_assert_int_eq(fleet_hours_staffed(&h, AT(6, 23, 59)), 1);
    ck_assert_int_eq(fleet_hours_staffed(&h, AT(7, 0, 0)), 0);
    parse_ok("Sat-Mon 10:00-11:00, UTC");
    ck_assert_int_eq(fleet_hours_staffed(&h, AT(7, 10, 0)), 1);   /* Mon */
    ck_assert_int_eq(fleet_hours_staffed(&h, AT(6, 10, 0)), 1);   /* Sun */
    ck_assert_int_eq(fleet_hours_staffed(&h, AT(1, 10, 0)), 0);   /* Tue */
}
END_TEST

/* Without a zone, the server's local time (TZ): here 2 h east of UTC. */
START_TEST(local_time_by_default)
{
    const char *old = getenv("TZ");
    char *saved = old ? strdup(old) : NULL;

    ck_assert_int_eq(setenv("TZ", "XST-2", 1), 0);
    tzset();
    parse_ok("daily 08:00-18:00");
    ck_assert_int_eq(h.fixed, 0);
    ck_assert_int_eq(fleet_hours_staffed(&h, AT(2, 6, 0)), 1);
    ck_assert_int_eq(fleet_hours_staffed(&h, AT(2, 5, 59)), 0);
    ck_assert_int_eq(fleet_hours_staffed(&h, AT(2, 15, 59)), 1);
    ck_assert_int_eq(fleet_hours_staffed(&h, AT(2, 16, 0)), 0);
    if (saved)
        setenv("TZ", saved, 1);
    else
        unsetenv("TZ");
    tzset();
    free(saved);
}
END_TEST

/* A time no date holds (an estimate like ";TIME:1e300" added to now) is
 * not staffed, in a fixed zone and in local time, with no undefined
 * conversion on the way (the sanitizer build checks that too). */
START_TEST(times_beyond_dates)
{
    const double bad[] = { 1e300, -1e300, 1e20, 1e17, -1e17, 1e15,
                           INFINITY, -INFINITY, NAN };
    const char *texts[] = { "daily 00:00-24:00, UTC+14:00",
                            "daily 00:00-24:00" };

    for (size_t k = 0; k < 2; k++) {
        parse_ok(texts[k]);
        ck_assert_int_eq(fleet_hours_staffed(&h, AT(0, 12, 0)), 1);
        ck_assert_int_eq(fleet_hours_staffed(&h, AT(0, 12, 0) + 90 * 86400.0),
                         1);
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
            ck_assert_msg(fleet_hours_staffed(&h, bad[i]) == 0,
                          "'%s' staffed at %g", texts[k], bad[i]);
    }
}
END_TEST

START_TEST(strict_rules)
{
    parse_bad("", "item 1 is empty");
    parse_bad("Mon-Fri 8:00-18:00", "item 1 'Mon-Fri 8:00-18:00': "
              "'8:00-18:00' is not HH:MM-HH:MM");
    parse_bad("Mon-Fri 08:00-18:00, Sat 09:00-13:60", "item 2");
    parse_bad("Mon-Fri 08:00-24:01", "not HH:MM-HH:MM");
    parse_bad("Monday 08:00-18:00", "'Monday' is not a day");
    parse_bad("Mon-Fry 08:00-18:00", "is not a day");
    parse_bad("Mon-Fri", "no hours after the days");
    parse_bad("Mon 08:00-08:00", "starts and ends at the same time");
    parse_bad("Mon 08:00-18:00,", "item 2 is empty");
    parse_bad("Mon 08:00-18:00, UTC, Tue 08:00-09:00", "nothing may follow "
              "the time zone");
    parse_bad("UTC", "a time zone without hours");
    parse_bad("Mon 08:00-18:00, UTC+15:00", "at most 14:00");
    parse_bad("Mon 08:00-18:00, UTC+2", "a time zone is UTC");
    parse_bad("Mon 08:00-18:00 extra", "is not HH:MM-HH:MM");
}
END_TEST

START_TEST(limits)
{
    char big[300];

    memset(big, ' ', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "Mon 08:00-09:00", 15);
    parse_bad(big, "longer than 255 bytes");
    big[255] = '\0';           /* blanks after the last item are no item */
    parse_ok(big);
}
END_TEST

Suite *hours_suite(void)
{
    Suite *s = suite_create("hours");
    TCase *tc = tcase_create("core");

    tcase_add_test(tc, weekdays_and_saturday);
    tcase_add_test(tc, offsets_overnight_and_wrap);
    tcase_add_test(tc, local_time_by_default);
    tcase_add_test(tc, times_beyond_dates);
    tcase_add_test(tc, strict_rules);
    tcase_add_test(tc, limits);
    suite_add_tcase(s, tc);
    return s;
}
