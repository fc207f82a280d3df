/*
 * chain.h - rrcloudd's side of task pipelines (POST / with then=...).
 *
 * The stages of a chain are task rows created together at submission
 * (fcgi/submit_chain.c): the first a run task, the later ones held.  When
 * a stage ends, this hook, called inside the transaction that records the
 * end (runner_record_end), decides what follows:
 *   - a stage completed and the next one still waits: its output is
 *     copied into the next stage's directory as the input its argv
 *     names, and the next stage is released to the runner (a print stage:
 *     its fleet job is created, and it becomes that job's print task);
 *   - otherwise the chain has ended (the last stage completed, or a stage
 *     failed or was cancelled): every stage still waiting is cancelled
 *     with a reason naming the stage that ended it, and the chain's
 *     notifier is called once, under the chain's (first stage's) id.
 */
#ifndef RR_CHAIN_H
#define RR_CHAIN_H

#include "fleet/model.h"   /* FLEET_SHA256_HEX */
#include "store/store.h"

/* The file work of a completed stage's end, done before the transaction
 * that records it (a copy and a hash of a large G-code would hold the
 * write lock): the output copied into the next stage's directory and, for
 * a print stage, into the blob store.  chain_task_end uses it when its
 * next stage is still the one prepared for, else does the work itself. */
struct chain_prep {
    char next_id[RR_ID_LEN];  /* "": nothing prepared */
    int failed;               /* the copy failed: why says so */
    int print;                /* sha256 and size are the print's blob */
    char sha256[FLEET_SHA256_HEX];
    long long size;
    char why[512];
};
void chain_prepare(struct store *st, const char *spool, const char *id,
                   enum task_status status, struct chain_prep *p);

/* Task id (already ended with status and reason) in spool: see above.
 * prep (may be NULL) is chain_prepare's for this end.
 * notify_id (RR_ID_LEN) and *notify tell whether the end calls the
 * task's notifier and under which id: the task's own for a task alone,
 * the chain's when the chain ended with it, none for a stage that passed
 * its output on.  Returns 0, or -1 on a store error (the caller rolls
 * back). */
int chain_task_end(struct store *st, const char *spool, const char *id,
                   enum task_status status, const char *reason,
                   const struct chain_prep *prep, char *notify_id,
                   int *notify);

#endif
