/*
 * chain.h - rrcloudd's side of task pipelines (POST / with then=...).
 *
 * The stages of a chain are task rows created together at submission
 * (fcgi/submit_chain.c): the first a run task, the later ones held.  When
 * a stage ends, this hook, called inside the transaction that records the
 * end (runner_record_end), decides what follows:
 *   - a stage completed and the next one still waits: its output is
 *     hard-linked into the next stage's directory as the input its argv
 *     names, and the next stage is released to the runner (a print stage:
 *     its fleet job is created, and it becomes that job's print task);
 *   - otherwise the chain has ended (the last stage completed, or a stage
 *     failed or was cancelled): every stage still waiting is cancelled
 *     with a reason naming the stage that ended it, and the chain's
 *     notifier is called once, under the chain's (first stage's) id.
 */
#ifndef RR_CHAIN_H
#define RR_CHAIN_H

#include "store/store.h"

/* Task id (already ended with status and reason) in spool: see above.
 * notify_id (RR_ID_LEN) and *notify tell whether the end calls the
 * task's notifier and under which id: the task's own for a task alone,
 * the chain's when the chain ended with it, none for a stage that passed
 * its output on.  Returns 0, or -1 on a store error (the caller rolls
 * back). */
int chain_task_end(struct store *st, const char *spool, const char *id,
                   enum task_status status, const char *reason,
                   char *notify_id, int *notify);

#endif
