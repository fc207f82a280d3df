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

/* Evicts cached slices (store_slice_cache_evict) that no job still
 * needs, least recently used first: those unused for slice_cache_max_age,
 * those beyond slice_cache_max bytes, and while the spool holds more than
 * 9/10 of spool_quota, as many as that excess; removes the blob files no
 * one references any more.  The number evicted, or -1 (store error). */
int purge_slice_cache(const struct rr_conf *conf, struct store *st,
                      double now);
/* An upload or task was just refused for spool_quota (rrcloud-fcgi woke
 * rrcloudd with WAKE_SPOOL): every cached slice no job needs goes, so
 * that its retry may fit.  The number evicted, or -1. */
int purge_slice_cache_refused(const struct rr_conf *conf, struct store *st,
                              double now);

/* Purges every final task whose etime is before now - max_data_retention
 * (nothing when max_data_retention is 0) and logs one summary line.
 * Returns the number of tasks removed, or -1 on a store error. */
int purge_run(const struct rr_conf *conf, struct store *st, double now);

#endif
