/* hours.c - see hours.h. */
#include "fleet/hours.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define WEEK_MIN (7 * 1440)
/* Seconds past which a time is no date (some 30 million years): far
 * inside time_t and a struct tm's int years. */
#define HOURS_T_MAX 1e15

static const char *const day_names[7] = {
    "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun",
};

static void set_minute(struct fleet_hours *h, int m)
{
    m %= WEEK_MIN;
    h->week[m / 8] |= (unsigned char)(1u << (m % 8));
}

static int day_index(const char *s, size_t n)
{
    for (int d = 0; d < 7; d++) {
        if (n == 3 && strncasecmp(s, day_names[d], 3) == 0)
            return d;
    }
    return -1;
}

/* "HH:MM" (exactly 5 chars) into minutes of the day, 0..1440. */
static int parse_hhmm(const char *s, size_t n)
{
    int hh, mm;

    if (n != 5 || !isdigit((unsigned char)s[0]) ||
        !isdigit((unsigned char)s[1]) || s[2] != ':' ||
        !isdigit((unsigned char)s[3]) || !isdigit((unsigned char)s[4]))
        return -1;
    hh = (s[0] - '0') * 10 + (s[1] - '0');
    mm = (s[3] - '0') * 10 + (s[4] - '0');
    if (mm > 59 || hh > 24 || (hh == 24 && mm))
        return -1;
    return hh * 60 + mm;
}

/* "UTC", "UTC+HH:MM", "UTC-HH:MM": 1 if it is one (*off set), 0 if the
 * item is no zone, -1 if it looks like one but is malformed. */
static int parse_zone(const char *s, size_t n, int *off)
{
    int m;

    if (n < 3 || strncasecmp(s, "UTC", 3) != 0)
        return 0;
    if (n == 3) {
        *off = 0;
        return 1;
    }
    if ((s[3] != '+' && s[3] != '-') || (m = parse_hhmm(s + 4, n - 4)) < 0 ||
        m > 14 * 60)
        return -1;
    *off = s[3] == '-' ? -m : m;
    return 1;
}

/* DAYS: first and last day (0 = Monday). */
static int parse_days(const char *s, size_t n, int *d0, int *d1)
{
    const char *dash = memchr(s, '-', n);

    if (n == 5 && strncasecmp(s, "daily", 5) == 0) {
        *d0 = 0;
        *d1 = 6;
        return 0;
    }
    if (!dash) {
        *d0 = *d1 = day_index(s, n);
        return *d0 < 0 ? -1 : 0;
    }
    *d0 = day_index(s, (size_t)(dash - s));
    *d1 = day_index(dash + 1, n - (size_t)(dash - s) - 1);
    return *d0 < 0 || *d1 < 0 ? -1 : 0;
}

static const char *skip_blank(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    return s;
}

/* One window "DAYS START-END" (trimmed, n bytes) into h. */
static int parse_window(const char *s, size_t n, struct fleet_hours *h,
                        char *why, size_t len)
{
    const char *end = s + n, *sp = s, *t, *dash;
    int d0, d1, a, b;

    while (sp < end && *sp != ' ' && *sp != '\t')
        sp++;
    if (parse_days(s, (size_t)(sp - s), &d0, &d1) < 0) {
        snprintf(why, len, "'%.*s' is not a day (Mon..Sun), a range of "
                 "days (Mon-Fri) or daily", (int)(sp - s), s);
        return -1;
    }
    t = skip_blank(sp, end);
    dash = t < end ? memchr(t, '-', (size_t)(end - t)) : NULL;
    if (!dash) {
        snprintf(why, len, "no hours after the days (want HH:MM-HH:MM)");
        return -1;
    }
    if ((a = parse_hhmm(t, (size_t)(dash - t))) < 0 ||
        (b = parse_hhmm(dash + 1, (size_t)(end - dash - 1))) < 0) {
        snprintf(why, len, "'%.*s' is not HH:MM-HH:MM (00:00 to 24:00)",
                 (int)(end - t), t);
        return -1;
    }
    if (a == b) {
        snprintf(why, len, "the window starts and ends at the same time");
        return -1;
    }
    /* A window past midnight runs into the next day. */
    if (b < a)
        b += 1440;
    for (int d = d0;; d = (d + 1) % 7) {
        for (int m = a; m < b; m++)
            set_minute(h, d * 1440 + m);
        if (d == d1)
            break;
    }
    return 0;
}

int fleet_hours_parse(const char *s, struct fleet_hours *h, char *err,
                      size_t errlen)
{
    const char *p = s, *end;
    char why[160];
    int item = 0, zone = 0;

    memset(h, 0, sizeof(*h));
    if (!s || strlen(s) >= sizeof(h->text)) {
        snprintf(err, errlen, "longer than %d bytes", FLEET_HOURS_MAX - 1);
        return -1;
    }
    snprintf(h->text, sizeof(h->text), "%s", s);
    end = s + strlen(s);
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *a = skip_blank(p, comma ? comma : end);
        const char *b = comma ? comma : end;
        int off, z;

        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        item++;
        if (zone) {
            snprintf(err, errlen, "item %d: nothing may follow the time "
                     "zone", item);
            return -1;
        }
        if (a == b) {
            snprintf(err, errlen, "item %d is empty (want e.g. \"Mon-Fri "
                     "08:00-18:00, Sat 09:00-13:00\")", item);
            return -1;
        }
        if ((z = parse_zone(a, (size_t)(b - a), &off)) < 0) {
            snprintf(err, errlen, "item %d '%.*s': a time zone is UTC, "
                     "UTC+HH:MM or UTC-HH:MM (at most 14:00)", item,
                     (int)(b - a), a);
            return -1;
        }
        if (z) {
            if (item == 1) {
                snprintf(err, errlen, "item 1: a time zone without "
                         "hours");
                return -1;
            }
            h->fixed = zone = 1;
            h->offset_min = off;
        } else if (parse_window(a, (size_t)(b - a), h, why,
                                sizeof(why)) < 0) {
            snprintf(err, errlen, "item %d '%.*s': %s", item,
                     (int)(b - a > 40 ? 40 : b - a), a, why);
            return -1;
        }
        if (!comma)
            break;
        p = comma + 1;
    }
    return 0;
}

/* Broken-down time of t in h's zone: 0, or -1 when t is no time the C
 * library can break down (not finite, or years out of an int's range:
 * converting such a double to time_t is undefined, and gmtime_r fails). */
static int hours_tm(const struct fleet_hours *h, double t, struct tm *tm)
{
    time_t tt;

    if (!(t > -HOURS_T_MAX && t < HOURS_T_MAX))
        return -1;
    tt = (time_t)floor(t);
    if (h->fixed) {
        tt += (time_t)h->offset_min * 60;
        return gmtime_r(&tt, tm) ? 0 : -1;
    }
    return localtime_r(&tt, tm) ? 0 : -1;
}

int fleet_hours_staffed(const struct fleet_hours *h, double t)
{
    struct tm tm;
    int m;

    if (hours_tm(h, t, &tm) < 0 || tm.tm_wday < 0 || tm.tm_wday > 6 ||
        tm.tm_hour < 0 || tm.tm_hour > 23 || tm.tm_min < 0 || tm.tm_min > 59)
        return 0;               /* no time we can place: nobody there */
    m = ((tm.tm_wday + 6) % 7) * 1440 + tm.tm_hour * 60 + tm.tm_min;
    return (h->week[m / 8] >> (m % 8)) & 1;
}
