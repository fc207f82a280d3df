/*
 * recover.h - what rrcloudd does at start with work a previous run left
 * half done (it was killed, crashed, or the host went down).
 *
 * Every task still marked busy belongs to no one now.  If its process
 * group still exists (the leader's pid has the recorded start time, or the
 * leader is gone but its group is not), it is killed with SIGKILL.  Then
 * the task is queued again when its service allows re-runs and it has run
 * at most max_reruns times; otherwise it fails with a reason saying so,
 * and its notifier is called.  Upload debris older than an hour in
 * SPOOL/tmp is removed.
 */
#ifndef RR_RECOVER_H
#define RR_RECOVER_H

#include "common/conf.h"
#include "store/store.h"

struct sandbox;
struct service_registry;

/* Runs the recovery once, before the runner claims anything.  Each busy
 * task's directory is taken back from the sandbox sb (NULL: none) before
 * the task is ended or re-queued.  Returns the number of busy tasks dealt
 * with, or -1 on a store error. */
int recover_run(const struct rr_conf *conf,
                const struct service_registry *reg,
                const struct sandbox *sb, struct store *st);

#endif
