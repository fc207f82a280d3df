/*
 * store_fleet_int.h - the SQL helper layer (store_sf.c) and helpers shared
 * by the store_fleet*.c files (printers, frontends, queues, keys, events,
 * metrics, jobs, blobs, attempts, scheduling).  Private to the store.
 */
#ifndef RR_STORE_FLEET_INT_H
#define RR_STORE_FLEET_INT_H

#include <sqlite3.h>

#include "store/store_fleet.h"

/* Prepares sql and binds the variadic arguments by type letters:
 *   'i' long long, 'd' double, 't' const char * (NULL binds NULL).
 * Returns the statement (release with sf_done) or NULL (logged). */
sqlite3_stmt *sf_bind(struct store *st, const char *sql, const char *types,
                      ...);
void sf_done(sqlite3_stmt *s);
/* Reuse statements on this thread until sf_cache_end, which finalizes
 * them (call it before store_close).  Begin while on is harmless; one end
 * ends it.  For bulk work (a dispatch round) or a long-lived loop thread
 * (rrcloudd's fleet); statements are keyed by the SQL literal's address
 * and checked to belong to the connection in use. */
void sf_cache_begin(void);
void sf_cache_end(void);
int sf_cache_on(void);
/* Runs a statement to completion; returns the number of rows changed, or
 * -1.  A UNIQUE violation returns -2 (so callers can answer a conflict). */
int sf_exec(struct store *st, const char *sql, const char *types, ...);
/* First column of the first row as an integer: 0 and *out, STORE_NOTFOUND
 * if no row, -1. */
int sf_ll(struct store *st, long long *out, const char *sql,
          const char *types, ...);
/* Logs the connection's last error for `what`, keeps it for
 * store_errmsg(), and returns -1. */
int sf_fail(struct store *st, const char *what);

/* A row reader: fills the struct obj points to from s's current row;
 * 0, or -1 when out of memory. */
typedef int (*sf_read_fn)(sqlite3_stmt *s, void *obj);
/* Steps s once and reads its row into out: 0, STORE_NOTFOUND without a
 * row, or -1 (s NULL, a failed step or read; logged for `what`).  Callers
 * initialize out first; s is finished in every case. */
int sf_one(struct store *st, sqlite3_stmt *s, sf_read_fn read, void *out,
           const char *what);
/* Reads every row of s into a malloc'd array of elements of `size` bytes:
 * 0 with *out (free it; NULL when empty) and *n, or -1 (s NULL, a failed
 * step or read, out of memory; logged for `what`) with *out NULL and *n
 * 0.  For rows without heap members: on a failure the elements read so
 * far are freed with the array, not cleared.  Finishes s. */
int sf_load(struct store *st, sqlite3_stmt *s, sf_read_fn read, size_t size,
            void **out, size_t *n, const char *what);

/* Copies column i as text into dst (len), "" for NULL. */
void sf_col(sqlite3_stmt *s, int i, char *dst, size_t len);
/* Column i as a malloc'd string, NULL for NULL. */
char *sf_col_dup(sqlite3_stmt *s, int i);

/* SHA-256 hex of a secret (printer tokens, api keys). */
void sf_hash_secret(const char *secret, char out[FLEET_SHA256_HEX]);

/* Re-derives a printer's effective state from observed, holds and its
 * live attempt; sets state_since/ready_since on a change.  Inside the
 * caller's transaction.  *state (may be NULL) gets it. */
int sf_printer_recompute(struct store *st, long long id, double now,
                         enum printer_state *state);

/* Writes an observation of a printer (observed state, klippy_state unless
 * NULL, last_seen), an event if its health changed (fleet_health_change)
 * and recomputes.  Inside the caller's transaction.  0, STORE_NOTFOUND,
 * or -1. */
int sf_printer_observed(struct store *st, long long id,
                        enum printer_state observed, const char *klippy,
                        double now, enum printer_state *state);

/* Makes a job final when no copy is queued or live (complete / failed /
 * cancelled); *ended (may be NULL) = 1 if it became final now.  Inside
 * the caller's transaction. */
int sf_job_settle(struct store *st, long long job_id, double now,
                  const char *reason, int *ended, enum job_state *state);

/* store_event_add's body, usable inside a transaction. */
int sf_event(struct store *st, double now, const char *kind,
             long long printer_id, long long job_id, long long attempt_id,
             const char *msg);

/* store_sites.c: every site's staffed hours into a round's input; a
 * completed attempt's filament debited from its printer's spool (in the
 * transaction that ends it; nothing when either is unknown); a job marked
 * held with reason, with a "job_held" event only when the reason changes.
 * 0 or -1. */
int sf_sched_hours(struct store *st, struct sched_input *in);
int sf_spool_debit(struct store *st, const struct fleet_attempt *a,
                   double now);
int sf_job_held(struct store *st, long long job_id, long long printer_id,
                const char *reason, double now);
/* A round's holds (sched_run_why): sf_job_held for each held job, its
 * reason cleared with a "job_unheld" event for each released one, and
 * cleared without an event for jobs that wait no more (ended, cancelling,
 * no queued copy).  Writes only rows that change.  0 or -1. */
int sf_sched_held(struct store *st, const struct sched_input *in,
                  const struct sched_hold *held, size_t n, double now);
/* 1 if a held job waits no more (sf_sched_held would clear it), 0 if
 * none, -1 on error: a round with nothing to write skips its write
 * transaction. */
int sf_held_done(struct store *st);
/* Releases (a "job_unheld" event saying why) the jobs held by printer
 * printer_id's limits, or with site non-NULL by those of the printers at
 * site: what held them changed (spool, hours, printer removed); the next
 * round weighs them again.  0 or -1. */
int sf_held_release(struct store *st, long long printer_id, const char *site,
                    const char *why, double now);

/* Runs call inside BEGIN IMMEDIATE .. COMMIT; rolls back unless it returned
 * 0 (STORE_NOTFOUND and STORE_CONFLICT roll back too, so a refused
 * operation leaves nothing behind). */
#define SF_TX(st, call)                        \
    do {                                       \
        int sf_rc_;                            \
        if (store_begin(st) < 0)               \
            return -1;                         \
        sf_rc_ = (call);                       \
        if (sf_rc_ != 0) {                     \
            store_rollback(st);                \
            return sf_rc_;                     \
        }                                      \
        if (store_commit(st) < 0) {            \
            store_rollback(st);                \
            return -1;                         \
        }                                      \
        return 0;                              \
    } while (0)

#endif
