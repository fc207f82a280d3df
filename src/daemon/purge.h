/*
 * purge.h - data retention: tasks that ended more than max_data_retention
 * seconds ago lose their directory (inputs, output, log) and their rows
 * (task and notifier deliveries).  rrcloudd calls it at start and every
 * purge_interval.
 */
#ifndef RR_PURGE_H
#define RR_PURGE_H

#include "common/conf.h"
#include "store/store.h"

/* Purges every final task whose etime is before now - max_data_retention
 * (nothing when max_data_retention is 0) and logs one summary line.
 * Returns the number of tasks removed, or -1 on a store error. */
int purge_run(const struct rr_conf *conf, struct store *st, double now);

#endif
