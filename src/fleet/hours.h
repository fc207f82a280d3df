/*
 * hours.h - a site's staffed hours: when someone is there to take a print
 * off a bed that has no auto-eject.  Pure: no clock (callers pass times).
 *
 * The text an operator sets (PUT /api/v1/sites/NAME):
 *
 *   "Mon-Fri 08:00-18:00, Sat 09:00-13:00"
 *   "daily 07:30-22:00, UTC+01:00"
 *   "Fri 22:00-02:00, UTC"                 (a window past midnight)
 *
 * Comma-separated windows, each DAYS START-END: DAYS is a day (Mon Tue
 * Wed Thu Fri Sat Sun, any case), a range of days (Mon-Fri; Sat-Mon wraps
 * around the week) or "daily"; START and END are HH:MM (00:00 to 24:00),
 * END before START runs into the next day, equal ones are refused.  The
 * last item may be the time zone instead: "UTC" or "UTC+HH:MM" /
 * "UTC-HH:MM", a fixed offset; without one the times are the server's
 * local time (its TZ, daylight saving included).  "" = always staffed.
 */
#ifndef RR_HOURS_H
#define RR_HOURS_H

#include <stddef.h>

#define FLEET_HOURS_MAX 256          /* bytes of the text, incl. NUL */

struct fleet_hours {
    unsigned char week[7 * 1440 / 8]; /* bit per minute, Monday 00:00 = 0 */
    int fixed;                        /* 1: at offset_min from UTC */
    int offset_min;                   /* minutes east of UTC when fixed */
    char text[FLEET_HOURS_MAX];       /* as given, for messages */
};

/* Parses s into *h.  0, or -1 with err (errlen) saying which item and
 * rule failed ("item 2 'Sat 9-13': '9' is not HH:MM").  "" is refused:
 * callers treat an empty text as "always staffed" before parsing. */
int fleet_hours_parse(const char *s, struct fleet_hours *h, char *err,
                      size_t errlen);

/* 1 if the minute that contains time t (Unix seconds) is staffed; 0 too
 * for a t that is no date (not finite, or beyond some 30 million years). */
int fleet_hours_staffed(const struct fleet_hours *h, double t);

#endif
