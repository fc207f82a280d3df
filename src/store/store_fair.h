/*
 * store_fair.h - what fair share and the floors read: each client's run
 * tasks (queued, running), the bytes the spool holds, and a task insert
 * that checks the limits in the same transaction.
 *
 * The counts live in rows that triggers keep (schema migrations 8 and
 * 9), so a check reads one row whatever the queue holds.  Which limits
 * apply and what a refusal says is the caller's (src/fcgi/submit.c).
 */
#ifndef RR_STORE_FAIR_H
#define RR_STORE_FAIR_H

#include "store/store.h"
#include "store/store_fleet.h"   /* STORE_CONFLICT */

/* A client's run tasks queued and running now (0 and 0 if none). */
int store_client_tasks(struct store *st, const char *client_key,
                       long long *queued, long long *running);
/* Bytes the spool holds for run tasks (inputs and outputs) and blobs. */
int store_spool_bytes(struct store *st, long long *bytes);

/* Limits checked by store_task_insert_capped; 0 = none. */
struct store_task_caps {
    long long client_queued;  /* t->client_key's queued run tasks stay
                                 under it (t->client_key must be set) */
    const char *family;       /* store_owner_open(family) stays under */
    long long family_open;    /* family_open */
    long long spool_quota;    /* spool bytes + t->size_in stay within it */
};

/* Which cap refused. */
enum store_cap {
    STORE_CAP_NONE,
    STORE_CAP_CLIENT_QUEUED,
    STORE_CAP_FAMILY_OPEN,
    STORE_CAP_SPOOL_QUOTA,
};

/* store_task_insert if every cap holds, checked by the INSERT itself (a
 * write statement holds the write lock from its start): two requests
 * cannot both pass a check that only one of them fits.  0; STORE_CONFLICT
 * with *which and *found (the count or the bytes found) when a cap
 * refuses, nothing stored; -1.  (store.c) */
int store_task_insert_capped(struct store *st, const struct task *t,
                             const struct store_task_caps *caps,
                             enum store_cap *which, long long *found);
/* Inserts the n stages of a chain (t[i].chain and stage set by the
 * caller) in one transaction, all or none, each by
 * store_task_insert_capped: the first (the run task) against caps, the
 * later ones, held (TASK_KIND_HELD), without: a held stage is no queued
 * run task, in no count a cap reads, until rrcloudd's chain hook releases
 * it (the chain's previous stage has ended by then).  Returns as
 * store_task_insert_capped. */
int store_chain_insert_capped(struct store *st, const struct task *t, int n,
                              const struct store_task_caps *caps,
                              enum store_cap *which, long long *found);
/* Which cap t (client_key resolved) is over now: *which (STORE_CAP_NONE
 * if none) and *found.  0 or -1.  For store_task_insert_capped's answer
 * only: the insert decides. */
int store_task_cap_found(struct store *st, const struct task *t,
                         const struct store_task_caps *caps,
                         enum store_cap *which, long long *found);

#endif
