/*
 * taskcache.h - a worker's cache of ended tasks, for info.
 *
 * An ended task (complete, failed, cancelled) never changes: every UPDATE
 * of tasks is limited to queued and busy ones.  It can only go, when
 * rrcloudd purges it after maxDataRetention.  So a record read less than
 * TASKCACHE_TTL seconds ago is still the answer, give or take that second
 * after a purge, and a client polling a finished task costs no query.
 * Callers still check who may see the task: the cache knows no callers.
 *
 * One per worker thread; no locking.  Direct-mapped: an id has one slot,
 * and a newer task in it pushes the older one out.
 */
#ifndef RR_TASKCACHE_H
#define RR_TASKCACHE_H

#include "store/store.h"

#define TASKCACHE_SLOTS 64
#define TASKCACHE_TTL 1.0

struct taskcache;

/* A new, empty cache, or NULL (out of memory; a NULL cache keeps
 * nothing). */
struct taskcache *taskcache_new(void);
void taskcache_free(struct taskcache *c);

/* The ended task id read at most TASKCACHE_TTL s before now, or NULL.
 * Borrowed until the next taskcache_put. */
const struct task *taskcache_get(struct taskcache *c, const char *id,
                                 double now);

/* Keeps *t, read at now, if it has ended: moves it in (t is left empty)
 * and returns the cached record (borrowed as above).  A task that has
 * not ended is left in t, and NULL returned. */
const struct task *taskcache_put(struct taskcache *c, struct task *t,
                                 double now);

#endif
