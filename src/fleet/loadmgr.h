/*
 * loadmgr.h - which zrok frontend a printer should use.  Pure: decisions
 * over arrays the store loads (store_fleet.h applies them).
 *
 * Choice for a printer of region R: among frontends that are enabled,
 * healthy and below capacity, those of region R with the lowest load
 * (assigned / capacity; ties: fewer assigned, then lower id); if none, the
 * regions of R's fallback list in order; if none, no frontend (the API
 * answers 503).  A printer without a region may use any frontend.
 *
 * region_fallback (rrcloud.conf) lists, per region, the regions to try
 * next, nearest first: "eu:us,asia; us:eu,asia; asia:*".  "*" means any
 * other region, as a last resort.  Regions not listed fall back nowhere.
 *
 * Rebalance: printers on a frontend that is disabled (drained by an
 * operator), or unhealthy for at least the grace period, or on no frontend
 * at all, are given a new frontend by the same choice, each move counted
 * before the next so they spread by load.  The agent learns of its move at
 * its next heartbeat.
 */
#ifndef RR_LOADMGR_H
#define RR_LOADMGR_H

#include <stddef.h>

#include "fleet/model.h"

/* Index in fe[0..n) of the frontend for a printer of region, or -1 if none
 * fits.  Frontends whose id equals avoid_id (0 = none) are skipped.
 * fallback may be NULL or "". */
int loadmgr_choose(const struct fleet_frontend *fe, size_t n,
                   const char *region, const char *fallback,
                   long long avoid_id);

/* 1 if f's printers must move now (disabled, or unhealthy since at least
 * grace seconds before now), else 0. */
int loadmgr_must_drain(const struct fleet_frontend *f, double now,
                       double grace);

struct loadmgr_printer {
    long long id;
    long long frontend_id;          /* 0 = none */
    char region[FLEET_NAME_MAX];
};

struct loadmgr_move {
    long long printer_id;
    long long from_id;              /* 0 = had none */
    long long to_id;
};

/* Computes the moves described above.  fe[].assigned is updated as moves
 * are counted (pass a working copy if the caller still needs the old
 * values).  *out is malloc'd (caller frees; NULL if no move).  Printers for
 * which no frontend fits stay where they are.  Returns 0, or -1 if out of
 * memory. */
int loadmgr_rebalance(struct fleet_frontend *fe, size_t n,
                      const struct loadmgr_printer *p, size_t np,
                      const char *fallback, double now, double grace,
                      struct loadmgr_move **out, size_t *nout);

/* Load of a frontend as a fraction of capacity (assigned / capacity; a
 * frontend with capacity 0 counts as full, 1.0). */
double loadmgr_load(const struct fleet_frontend *f);

#endif
