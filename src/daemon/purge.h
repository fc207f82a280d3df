/*
 * purge.h - data retention: tasks that ended more than max_data_retention
 * seconds ago lose their directory (inputs, output, log) and their rows
 * (task and notifier deliveries); cached slices go by their own limits.
 * rrcloudd calls it at start and every purge_interval.
 */
#ifndef RR_PURGE_H
#define RR_PURGE_H

#include "common/conf.h"
#include "store/store.h"

/* Seconds a blob no one references keeps its file when an upload was
 * refused for spool_quota (FLEET_BLOB_GRACE otherwise): long enough for
 * an upload that found the same file in place to insert its job and
 * reference it (fleet/blob.h), short enough for a refused client's retry. */
#define PURGE_PRESSED_GRACE 10.0
/* rrcloudd evicts on a refusal's wake at most once per this many seconds
 * (a client sending 507s in a loop does not flush the cache each time). */
#define PURGE_REFUSED_EVERY 5

/* Evicts cached slices and renders (store_slice_cache_evict) that no job
 * still needs, least recently used first: those unused for
 * slice_cache_max_age, those beyond slice_cache_max bytes, and while the
 * spool holds more than 9/10 of spool_quota (blobs no one references not
 * counted), as many as that excess; then removes the blobs (rows and
 * files) no one has referenced for FLEET_BLOB_GRACE, and those the cache
 * let go of PURGE_PRESSED_GRACE ago (purge_blobs_pressed).  The number
 * evicted, or -1 (store error). */
int purge_slice_cache(const struct rr_conf *conf, struct store *st,
                      double now);
/* An upload or task was just refused for spool_quota (rrcloud-fcgi woke
 * rrcloudd with WAKE_SPOOL): every cached entry no job needs goes, so
 * that a retry may fit, and purge_blobs_pressed runs.  The blobs the
 * eviction leaves with no reference go PURGE_PRESSED_GRACE later (the
 * caller runs purge_blobs_pressed then).  The number evicted, or -1. */
int purge_slice_cache_refused(const struct rr_conf *conf, struct store *st,
                              double now);
/* Removes the blobs (rows and files) the slice cache let go of more than
 * PURGE_PRESSED_GRACE ago and no one references or has put since; never
 * a blob an upload in progress has put but not yet referenced.  The
 * number removed, or -1. */
int purge_blobs_pressed(const struct rr_conf *conf, struct store *st,
                        double now);

/* Purges every final task whose etime is before now - max_data_retention
 * (nothing when max_data_retention is 0) and logs one summary line.
 * Returns the number of tasks removed, or -1 on a store error. */
int purge_run(const struct rr_conf *conf, struct store *st, double now);

#endif
