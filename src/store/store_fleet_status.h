/*
 * store_fleet_status.h - reads for the views of what printers are doing
 * (OctoPrint's /api/job and /api/printer).  The data plane writes the
 * printer_status rows through store_relay_flush (store_fleet_relay.h);
 * store_printer_get/list join them into fleet_printer.live.  Same
 * conventions as store_fleet.h.
 */
#ifndef RR_STORE_FLEET_STATUS_H
#define RR_STORE_FLEET_STATUS_H

#include "store/store.h"

/* The job OctoPrint's "current job" of a submitter is: the newest of
 * owner's jobs (owner NULL = anybody's) with a live attempt, else the
 * newest of them.  0 with *job_id and *printer_id (the printer of its
 * live attempt, 0 if none), STORE_NOTFOUND if owner has no job, -1. */
int store_job_current(struct store *st, const char *owner,
                      long long *job_id, long long *printer_id);

#endif
