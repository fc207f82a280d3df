/*
 * store_slices.h - model jobs and their slices (issue 10 part 3): the
 * rows rrcloudd's slicing module (fleet/slicing.h) keeps for each model
 * job and printer profile, and the G-code cache by content key.
 *
 * A model job (store_fleet.h: fleet_job_spec.model) starts without files.
 * rrcloudd plans it once (store_slice_plan): one job_slices row per
 * profile that has printers able to take it, pending or excluded with a
 * reason.  A pending row becomes slicing when its relay task is inserted
 * (store_slice_start) and ready when the G-code is in (store_slice_ready:
 * the cache entry and the job's file for that profile, so the scheduler,
 * which only offers a job to printers of a profile it has a file for,
 * dispatches it unchanged), or excluded (store_slice_exclude).  A job
 * whose every row is excluded fails.  Data only: the policy (which
 * profiles, keys, limits) is the slicing module's.
 */
#ifndef RR_STORE_SLICES_H
#define RR_STORE_SLICES_H

#include <stddef.h>

#include "fleet/model.h"
#include "store/store.h"

/* Persisted in job_slices.state: append only. */
enum slice_state {
    SLICE_PENDING = 0,          /* waiting for a slot (or a twin's slice) */
    SLICE_SLICING = 1,          /* its task is queued or running */
    SLICE_READY = 2,            /* the job has the G-code for the profile */
    SLICE_EXCLUDED = 3,         /* the profile cannot take it: reason */
    SLICE_STATE_COUNT
};
/* "pending", "slicing", "ready", "excluded"; "unknown" for a bad value. */
const char *slice_state_name(enum slice_state s);

struct store_slice {
    long long job_id;
    char profile[FLEET_NAME_MAX];
    char material[FLEET_NAME_MAX];
    enum slice_state state;
    char key[FLEET_SHA256_HEX];          /* cache key, "" if excluded early */
    char task_id[RR_ID_LEN];             /* "" until slicing */
    char reason[FLEET_REASON_MAX];       /* why excluded, "" otherwise */
    double updated;
};

/* A model job as the planner needs it. */
struct store_model_job {
    long long id;
    char queue[FLEET_NAME_MAX];
    long long printer_id;
    char material[FLEET_NAME_MAX];
    char model_sha256[FLEET_SHA256_HEX];
    char model_name[FLEET_FILENAME_MAX];
    char overrides[1024];                /* "name=value\n" lines, sorted */
    char slice_profiles[FLEET_LIST_MAX]; /* comma list, "" = any */
};

/* Up to limit model jobs, not final, not yet planned and not waiting for
 * a render (store_renders.h), oldest first:
 * *out (free it) and *n. */
int store_model_jobs_unplanned(struct store *st, int limit,
                               struct store_model_job **out, size_t *n);
/* The model of a job: STORE_NOTFOUND when it is no model job. */
int store_model_job_get(struct store *st, long long id,
                        struct store_model_job *out);

/* The distinct profiles of the printers that serve the job (its target
 * printer, or its queue's printers), "" left out, in name order: a
 * malloc'd array of FLEET_NAME_MAX names in *out (free it) and *n. */
int store_model_job_profiles(struct store *st, long long job_id,
                             char (**out)[FLEET_NAME_MAX], size_t *n);

/* Plans a job: inserts rows (pending or excluded), an event for each
 * exclusion, marks the job planned, and fails its queued copies with
 * fail_reason when no row is left that is not excluded (*failed = 1).
 * One transaction. */
int store_slice_plan(struct store *st, long long job_id,
                     const struct store_slice *rows, size_t n,
                     const char *fail_reason, double now, int *failed);

/* Rows of one state (pending: of jobs neither final nor being cancelled),
 * up to limit: *out (free it) and *n. */
int store_slices_in_state(struct store *st, enum slice_state state,
                          int limit, struct store_slice **out, size_t *n);
/* A job's rows, in profile order (any job state). */
int store_job_slices(struct store *st, long long job_id,
                     struct store_slice **out, size_t *n);
/* Rows slicing now (of any job): the slots in use. */
int store_slice_busy(struct store *st, long long *count);
/* 1 if another row with this key is slicing (its end serves this one). */
int store_slice_twin_busy(struct store *st, const char *key, int *busy);

/* Slicing rows that no job needs any more, up to limit: no pending or
 * slicing row with the same key belongs to a job that is neither final
 * nor being cancelled.  *out (free it) and *n. */
int store_slices_unneeded(struct store *st, int limit,
                          struct store_slice **out, size_t *n);
/* Puts row (slicing with its task_id) back to pending without a task,
 * with an event "slice_cancelled" saying why: its task was cancelled (a
 * pending row of a job that wants it no more never starts).  STORE_NOTFOUND
 * if the row is no longer slicing with that task.  One transaction. */
int store_slice_unstart(struct store *st, const struct store_slice *row,
                        const char *why, double now);

/* The cache: the G-code blob of key.  0, or STORE_NOTFOUND. */
int store_slice_cache_get(struct store *st, const char *key, char *sha256,
                          long long *size);

/* Inserts the slicing task t (a run task whose files are in place) and
 * marks the row slicing with it.  One transaction. */
int store_slice_start(struct store *st, long long job_id,
                      const char *profile, const struct task *t, double now);

/* The G-code of key is in the blob sha256 (store_blob_put done): caches it
 * (one blob reference) and makes every pending or slicing row with that
 * key ready, each job taking the blob as its file for the row's profile
 * (filename) and an event.  *jobs (may be NULL) = rows made ready. */
int store_slice_ready(struct store *st, const char *key, const char *sha256,
                      const char *filename, double now, int *jobs);

/* Excludes a row (not yet ready) with reason (event "slice_excluded"),
 * and fails the job's queued copies with fail_reason when no row of it is
 * left that is not excluded (*failed = 1).  One transaction. */
int store_slice_exclude(struct store *st, long long job_id,
                        const char *profile, const char *reason,
                        const char *fail_reason, double now, int *failed);

/* ---- eviction (the policy, the limits, is the caller's) ---------------- */

/* The cache's G-code bytes and entries (entries may be NULL). */
int store_slice_cache_bytes(struct store *st, long long *bytes,
                            long long *entries);

#define STORE_EVICT_BATCH 256   /* entries evicted per transaction */

/* What one store_slice_cache_evict removed. */
struct store_evicted {
    int entries;
    long long bytes;            /* the entries' sizes (G-code or STL) */
};

/* Evicts cache entries that no job still needs (no pending, slicing or
 * ready row of a job that is not final names the key), least recently
 * used first (store_slice_ready is a use): every one last used before
 * used_before, then more until the cache holds at most max_bytes (< 0:
 * no size limit), at most STORE_EVICT_BATCH (call again while it evicts
 * that many).  Each drops its blob reference; a blob that loses its last
 * one is kept, zero_since = now, for store_blob_purge once its grace has
 * passed (an upload of the same content may reference it again
 * meanwhile): the spool's count goes down then, not now.  One
 * transaction. */
int store_slice_cache_evict(struct store *st, double used_before,
                            long long max_bytes, double now,
                            struct store_evicted *gone);

#endif
