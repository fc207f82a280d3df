/*
 * store_sites.h - what the scheduler knows of the floor beside the
 * printers: each site's staffed hours and each printer's loaded spool
 * (schema 11).  Data only: the rules (fleet/hours.h, fleet/scheduler.h)
 * and the checks of what an operator sends (the handler) live elsewhere.
 *
 * A site is a name printers give (printers.site); a sites row holds its
 * staffed hours, as text an operator set (already checked).  A site with
 * no row, or '' hours, is always staffed.  A printer's spool is the grams
 * left on it (NULL = unknown); store_attempt_end debits a completed
 * print's filament_g in the transaction that records the end, so a print
 * is debited once.
 */
#ifndef RR_STORE_SITES_H
#define RR_STORE_SITES_H

#include "fleet/hours.h"
#include "fleet/model.h"
#include "store/store.h"

struct store_site {
    char name[FLEET_NAME_MAX];
    char staffed_hours[FLEET_HOURS_MAX];  /* "" = always staffed */
    double updated;                       /* 0 = never set */
    int printers;                         /* printers at the site */
};
typedef int (*store_site_cb)(void *arg, const struct store_site *s);

/* Sets (or with "" clears) site name's hours; the jobs its printers held
 * (held_reason) are released, to be weighed again.  0 or -1. */
int store_site_set(struct store *st, const char *name, const char *hours,
                   double now);
/* Every named site, with hours or printers, by name; cb returns nonzero
 * to stop.  0 or -1. */
int store_site_list(struct store *st, store_site_cb cb, void *arg);
/* One site: 0, STORE_NOTFOUND (no hours and no printer), or -1. */
int store_site_get(struct store *st, const char *name,
                   struct store_site *out);

/* Sets printer id's spool: grams left (< 0 = unknown), and its material
 * and colour unless NULL (the printer's own fields), with a "spool"
 * event; the jobs its limits held (held_reason) are released, to be
 * weighed again.  0, STORE_NOTFOUND, or -1. */
int store_printer_spool_set(struct store *st, long long id, double grams,
                            const char *material, const char *colour,
                            double now);

#endif
