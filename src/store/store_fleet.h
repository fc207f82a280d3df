/*
 * store_fleet.h - the fleet's tables: printers, frontends, queues, jobs
 * with their copies and files, blobs, attempts, events and API keys
 * (schema migration 2).  Like store.h, the only code that speaks the
 * fleet's SQL; rrcloud-fcgi and rrcloudd both use it.
 *
 * Conventions (as store.h): one struct store per thread; every function
 * returns 0 on success, STORE_NOTFOUND (1) when the row named does not
 * exist, STORE_CONFLICT (2) when a rule of the fleet said no (the
 * function's comment says which), and -1 on a database error (logged, see
 * store_errmsg()).  Functions that read before they write run in one
 * BEGIN IMMEDIATE transaction of their own, except the *_tx variants,
 * which run inside the caller's (store_begin .. store_commit).
 * Callbacks get records valid only during the call; a non-zero return
 * stops the walk (the function still returns 0).  Times are rr_now()
 * seconds, passed in as "now" so tests can drive the clock.
 *
 * The invariant "exactly one live attempt per copy, ever" is held by a
 * partial UNIQUE index on attempts(job_id, copy) for the live states and
 * by store_attempt_create() checking and flipping the copy's state in the
 * same transaction.
 */
#ifndef RR_STORE_FLEET_H
#define RR_STORE_FLEET_H

#include <stddef.h>

#include "fleet/loadmgr.h"
#include "fleet/model.h"
#include "fleet/scheduler.h"
#include "store/store.h"

#define STORE_CONFLICT 2
#define STORE_CAPPED 3    /* an owner's cap refused an insert */

/* ======================================================================
 * printers
 * ====================================================================== */

/* Enrolls a printer.  From p: name, region, site, profile, material,
 * colour, queues (comma list; each must exist, else STORE_NOTFOUND with
 * *bad_queue naming it), tags, auto_eject, api_key, share_auth.  The
 * frontend is chosen with loadmgr_choose() over the current loads inside
 * the same transaction (no frontend fits: STORE_CONFLICT, nothing stored).
 * A random printer token is made and only its SHA-256 stored.  On success
 * *id, token (FLEET_TOKEN_MAX) and *fe (the chosen frontend) are set.
 * bad_queue may be NULL. */
int store_printer_enroll(struct store *st, const struct fleet_printer *p,
                         const struct fleet_policy *pol, double now,
                         long long *id, char *token, size_t token_len,
                         struct fleet_frontend *fe, char *bad_queue,
                         size_t bad_queue_len);

/* The printer a printer token belongs to: 0 and *id, or STORE_NOTFOUND. */
int store_printer_auth(struct store *st, const char *token, long long *id);

/* A heartbeat from the agent: last_heartbeat = now; if share_url is not
 * NULL and differs from the stored one it is stored; moonraker_version
 * (may be NULL) is stored.  A pending move is acknowledged (move_pending =
 * 0) when the share URL changed or agent_frontend (the frontend name the
 * agent says it now uses; may be NULL) is the assigned one.  Fills *p
 * (after the update) and *fe (its frontend; fleet_frontend_init'ed with id
 * 0 if none).  STORE_NOTFOUND for an unknown id.  The caller validates the
 * URL (http/https). */
int store_printer_heartbeat(struct store *st, long long id,
                            const char *share_url,
                            const char *moonraker_version,
                            const char *agent_frontend, double now,
                            struct fleet_printer *p, struct fleet_frontend *fe);

/* Sets the share URL (and basic auth, NULL = unchanged); acknowledges a
 * pending move as above. */
int store_printer_set_share(struct store *st, long long id, const char *url,
                            const char *share_auth, double now);

int store_printer_get(struct store *st, long long id, struct fleet_printer *out);

/* Filter for store_printer_list: state -1 = any, frontend_id 0 = any,
 * queue NULL = any. */
struct store_printer_filter {
    int state;
    long long frontend_id;
    const char *queue;
};
typedef int (*store_printer_cb)(void *arg, const struct fleet_printer *p);
/* Printers by id (filter may be NULL; limit <= 0 = all). */
int store_printer_list(struct store *st, const struct store_printer_filter *f,
                       int limit, int offset, store_printer_cb cb, void *arg);

/* What PATCH may change; NULL / -1 leave a field as it is.  queues is a
 * comma list replacing the served queues (each must exist: STORE_NOTFOUND
 * with *bad_queue).  A change of what a round weighs (site, profile,
 * material, colour, auto_eject, queues) releases the jobs the printer's
 * limits held (held_reason), to be weighed again. */
struct fleet_printer_patch {
    const char *name, *region, *site, *profile, *material, *colour;
    const char *queues, *tags, *api_key, *share_auth;
    int auto_eject;
};
void fleet_printer_patch_init(struct fleet_printer_patch *pp);
int store_printer_update(struct store *st, long long id,
                         const struct fleet_printer_patch *pp, double now,
                         char *bad_queue, size_t bad_queue_len);

/* Removes a printer.  STORE_CONFLICT while it holds a live attempt (cancel
 * it first).  Its attempts stay as history. */
int store_printer_remove(struct store *st, long long id, double now);

/* Operator holds.  cleared: the bed is clear (needs_clearing -> 0;
 * STORE_CONFLICT if it was not waiting for that).  maintenance on/off
 * (reason may be NULL).  release: ends a quarantine and resets the failure
 * streak (STORE_CONFLICT if not quarantined).  cleared and release also
 * forgive the printer's failures of jobs marked waiting (no printer could
 * take them): those may print there again ("forgiven" event). */
int store_printer_cleared(struct store *st, long long id, double now);
int store_printer_maintenance(struct store *st, long long id, int on,
                              const char *reason, double now);
int store_printer_release(struct store *st, long long id, double now);
/* A print that is not an attempt (started at the printer) ended: the bed
 * needs clearing, with an "external_print" event naming filename.
 * STORE_CONFLICT if it already waits for that or holds an attempt. */
int store_printer_print_ended(struct store *st, long long id,
                              const char *filename, double now);

/* Queues a pause/resume/cancel of the printer's current print for the
 * data plane (STORE_CONFLICT if it has no live attempt). */
int store_printer_command(struct store *st, long long id, enum printer_cmd c,
                          double now);
/* Data plane: printers with a pending command, and clearing one. */
int store_printer_commands(struct store *st, store_printer_cb cb, void *arg);
int store_printer_command_done(struct store *st, long long id);

/* Data plane: what a poll saw.  Call it when the observation changes
 * (and at most every few tens of seconds to refresh last_seen), not on
 * every poll: each call is a write transaction.  observed is one of PRINTER_OFFLINE,
 * PRINTER_READY (Klippy ready and print_stats idle: standby, complete,
 * cancelled, error), PRINTER_PRINTING, PRINTER_PAUSED, PRINTER_ERROR
 * (Klippy not ready).  klippy_state may be NULL.  last_seen = now unless
 * offline.  The effective state is recomputed from it, the holds and the
 * live attempt; *state (may be NULL) gets it.  When it becomes READY,
 * ready_since = now. */
int store_printer_observe(struct store *st, long long id,
                          enum printer_state observed,
                          const char *klippy_state, double now,
                          enum printer_state *state);

/* ======================================================================
 * frontends
 * ====================================================================== */

/* Adds a frontend (name, region, url, namespace_, canary_url, capacity
 * (<= 0: pol's default), enabled, from_conf).  STORE_CONFLICT if the name
 * is taken. */
int store_frontend_add(struct store *st, const struct fleet_frontend *f,
                       double now, long long *id);
/* By name; assigned and online are computed. */
int store_frontend_get(struct store *st, const char *name,
                       struct fleet_frontend *out);
int store_frontend_get_id(struct store *st, long long id,
                          struct fleet_frontend *out);
typedef int (*store_frontend_cb)(void *arg, const struct fleet_frontend *f);
/* All frontends by name, with assigned and online. */
int store_frontend_list(struct store *st, store_frontend_cb cb, void *arg);
/* All of them into a malloc'd array (caller frees), for the load manager. */
int store_frontend_load_all(struct store *st, struct fleet_frontend **out,
                            size_t *n);

struct fleet_frontend_patch {
    const char *region, *url, *namespace_, *canary_url;
    int capacity;                     /* -1 = unchanged */
    int enabled;                      /* -1 = unchanged */
};
void fleet_frontend_patch_init(struct fleet_frontend_patch *fp);
int store_frontend_update(struct store *st, const char *name,
                          const struct fleet_frontend_patch *fp);
/* Removes a frontend; STORE_CONFLICT while printers are assigned to it
 * (disable it and let rebalancing move them). */
int store_frontend_remove(struct store *st, const char *name);

/* Health checker: records one check.  ok = 0 counts a failure; after
 * pol->frontend_fail_threshold failures in a row it is unhealthy
 * (unhealthy_since = now); one success makes it healthy.  *changed (may be
 * NULL) is set to 1 when healthy flipped; an event is logged then. */
int store_frontend_health(struct store *st, long long id, int ok,
                          const char *error, const struct fleet_policy *pol,
                          double now, int *changed);

/* Applies loadmgr_rebalance(): printers on drained/unhealthy frontends
 * (past the grace) or on none get a new frontend and move_pending = 1, one
 * event each.  *moved (may be NULL) = how many.  One transaction. */
int store_fleet_rebalance(struct store *st, const struct fleet_policy *pol,
                          double now, int *moved);

/* Upserts the frontends named by "frontend = ..." lines of the conf
 * (fleet_frontend_parse_conf) and the api keys of "octoprint_key = ..."
 * lines are NOT stored (they are read from the conf at each request).  Run
 * once by rrcloudd at start.  Frontends defined in the conf but no longer
 * there are disabled, never deleted. */
int store_fleet_sync_conf(struct store *st, const struct rr_conf *conf,
                          const struct fleet_policy *pol, double now);

/* ======================================================================
 * queues
 * ====================================================================== */

/* STORE_CONFLICT if it exists.  Migration 2 creates "default". */
int store_queue_add(struct store *st, const char *name, double now);
/* With printers, jobs_active, depth and live computed. */
int store_queue_get(struct store *st, const char *name, struct fleet_queue *out);
typedef int (*store_queue_cb)(void *arg, const struct fleet_queue *q);
int store_queue_list(struct store *st, store_queue_cb cb, void *arg);
/* STORE_CONFLICT while jobs are active in it or printers serve it. */
int store_queue_remove(struct store *st, const char *name);

/* ======================================================================
 * blobs (the G-code store: SPOOL/blobs/ab/cdef..., see fleet/blob.h)
 * ====================================================================== */

/* Records a blob whose file is already in place (refcount unchanged; new
 * rows start at 0).  Jobs take references in store_job_create. */
int store_blob_put(struct store *st, const char *sha256, long long size,
                   double now);
/* Up to max blobs whose G-code comments were not read yet (rrcloudd reads
 * them): their ids into sha256; the count, or -1. */
int store_blob_meta_todo(struct store *st, char (*sha256)[FLEET_SHA256_HEX],
                         int max);
/* Records what the slicer says about a blob (gcode_meta.h; -1 = not
 * said) and that it was read.  0 or -1. */
struct gcode_meta;
int store_blob_meta_set(struct store *st, const char *sha256,
                        const struct gcode_meta *m);
/* 0 and *size, or STORE_NOTFOUND. */
int store_blob_get(struct store *st, const char *sha256, long long *size,
                   long long *refcount);

/* ======================================================================
 * jobs
 * ====================================================================== */

struct fleet_job_spec {
    const char *queue;                 /* NULL/"" with printer_id */
    long long printer_id;              /* 0 = any printer of the queue */
    const char *name;                  /* NULL = first file's name */
    int priority;
    int copies;                        /* >= 1 */
    const char *material, *colour;     /* NULL/"" = any */
    const char *task_id;               /* service=print task, or NULL */
    const char *notifier;              /* or NULL */
    const char *owner;                 /* or NULL */
    const struct fleet_job_file *files;/* 1..FLEET_PROFILES_MAX, profiles
                                        * distinct; blobs must exist */
    size_t nfiles;
    /* A model job (store_slices.h): no files (nfiles 0) but a model blob
     * that rrcloudd slices for each printer profile, with the job's
     * overrides ("name=value" lines, sorted) and the profiles it may be
     * sliced for (comma list, "" = every profile). */
    const struct fleet_job_file *model;  /* or NULL */
    const char *overrides;             /* or NULL */
    const char *slice_profiles;        /* or NULL */
    int render;                        /* the model is a source (.scad)
                                        * rendered first (store_renders.h) */
    const char *defines;               /* its variables ("name=value"
                                        * lines, sorted), or NULL */
};

/* Is there an enrolled printer (any state: holds end) that could ever take
 * this job?  0 if so; STORE_CONFLICT if not, with field set to the first
 * reason in this order: "queue" (no printer serves it) / "printer" (the
 * target does not exist), "profile", "material", "colour"; msg (may be
 * NULL) says it in words, e.g. "no printer of queue farm has material
 * petg (loaded: pla, abs)". */
int store_job_feasible(struct store *st, const struct fleet_job_spec *spec,
                       char *field, size_t field_len, char *msg,
                       size_t msg_len);

/* Creates a job, its copies (queued) and files (taking a blob reference
 * each).  STORE_NOTFOUND if the queue, the target printer or a blob does
 * not exist.  Does not check feasibility.  The _tx form runs inside the
 * caller's transaction: submit.c inserts a print task and its job
 * atomically with store_begin, store_task_insert, store_job_create_tx,
 * store_commit. */
int store_job_create(struct store *st, const struct fleet_job_spec *spec,
                     double now, long long *id);
/* store_job_create with store_owner_cap_tx(owner, max_open) made in its
 * transaction: STORE_CAPPED and *open when the owner is at its cap. */
int store_job_create_capped(struct store *st,
                            const struct fleet_job_spec *spec, double now,
                            const char *owner, long long max_open,
                            long long *open, long long *id);
int store_job_create_tx(struct store *st, const struct fleet_job_spec *spec,
                        double now, long long *id);

/* With the copy counts; clears *out first (fleet_job_clear it after). */
int store_job_get(struct store *st, long long id, struct fleet_job *out);
/* The job of a print task (STORE_NOTFOUND if none). */
int store_job_by_task(struct store *st, const char *task_id,
                      struct fleet_job *out);
typedef int (*store_job_file_cb)(void *arg, const struct fleet_job_file *f);
int store_job_files(struct store *st, long long id, store_job_file_cb cb,
                    void *arg);
typedef int (*store_attempt_cb)(void *arg, const struct fleet_attempt *a);
/* A job's attempts, oldest first. */
int store_job_attempts(struct store *st, long long id, store_attempt_cb cb,
                       void *arg);

typedef int (*store_job_cb)(void *arg, const struct fleet_job *j);
/* Jobs of a queue (NULL = all) in queue order: active ones by priority
 * desc, position asc; then final ones, newest first.  state -1 = any. */
int store_job_list(struct store *st, const char *queue, int state, int limit,
                   int offset, store_job_cb cb, void *arg);
/* The same, only owner's jobs unless owner is NULL. */
int store_job_list_owner(struct store *st, const char *queue,
                         const char *owner, int state, int limit, int offset,
                         store_job_cb cb, void *arg);

/* Cancels a job: queued copies become cancelled at once; the printers of
 * live attempts get a cancel command (their attempts end as cancelled
 * and then the job is final).  STORE_CONFLICT if already final. *live
 * (may be NULL) = live attempts still to stop. */
int store_job_cancel(struct store *st, long long id, const char *reason,
                     double now, int *live);

/* Reorders: priority (if has_priority) and/or position = index in the
 * queue's current order of active jobs (0 = first; if has_position): the
 * job takes the priority of the job at that index and a position just
 * before it.  STORE_CONFLICT if the job is final. */
int store_job_move(struct store *st, long long id, int has_position,
                   int position, int has_priority, int priority);

/* Data plane: final jobs whose print task is not final yet (to end the
 * task with runner_record_end and a fleet_job_json body), and print tasks
 * cancelled through the relay API (status cancelled, or busy with
 * cancel_requested) whose jobs still run: each such job is cancelled here
 * (its live prints get a cancel command); *cancelled (may be NULL) says
 * how many. */
int store_job_ended_tasks(struct store *st, int limit, store_job_cb cb,
                          void *arg);
int store_job_cancel_by_tasks(struct store *st, double now, int *cancelled);

/* An open job with queued copies that no printer can take: none that
 * serves it (its queue, or its own printer) is out of quarantine, fits it
 * (profile, material, colour) and has failed it fewer than K times.  Or a
 * job marked waiting that may no longer be so (stuck = 0).  For a stuck
 * job, the printers that serve it and why each cannot take it. */
struct store_unplaced {
    long long job_id;
    int stuck;                    /* 1 = no printer can take it now */
    int marked;                   /* waiting_reason is set */
    double waiting_since;
    long long printer_id;         /* the job's own printer, 0 = a queue */
    char queue[FLEET_NAME_MAX];
    int serving, quarantined, failed, unfit;
};
typedef int (*store_unplaced_cb)(void *arg, const struct store_unplaced *u);
/* Walks at most 256 such jobs (fail_per_printer = K).  0 or -1. */
int store_job_unplaceable(struct store *st, int fail_per_printer,
                          store_unplaced_cb cb, void *arg);
/* Marks job id waiting with reason (NULL: not waiting any more), once per
 * change of reason with a "job_waiting" / "job_placeable" event;
 * waiting_since is kept while it stays waiting.  0, STORE_CONFLICT if
 * nothing changed, or -1. */
int store_job_waiting(struct store *st, long long id, const char *reason,
                      double now);
/* Fails the queued copies of job id with reason (its live ones go on) and
 * settles the job; *ended (may be NULL) says if it ended.  0 or -1. */
int store_job_fail_queued(struct store *st, long long id, const char *reason,
                          double now, int *ended);

/* ======================================================================
 * scheduling and attempts
 * ====================================================================== */

/* Loads one scheduling round: every printer in state READY without a live
 * attempt, every queued copy of a non-final job, each job's exclusions
 * (printers where it failed pol->fail_per_printer times) and the heat-up
 * counts per site (attempts dispatching/uploading, or printing for less
 * than pol->heatup_time).  in must be sched_input_init'ed. */
int store_fleet_sched_load(struct store *st, const struct fleet_policy *pol,
                           double now, struct sched_input *in);

/* Creates a dispatching attempt for (job, copy) on printer: in one
 * transaction checks the job is active, the copy queued and the printer
 * READY without a live attempt, picks the job's file for the printer's
 * profile (else the any-profile file), inserts the attempt (lease_until =
 * now + pol->lease, ready_at = the printer's ready_since, filename
 * rr-J-C-A.gcode), marks the copy live, the printer UPLOADING, the job
 * PRINTING and its print task busy.  STORE_CONFLICT if any check fails or
 * the copy already has a live attempt; nothing changes then.  *out (may be
 * NULL) gets the attempt. */
int store_attempt_create(struct store *st, long long job_id, int copy,
                         long long printer_id,
                         const struct fleet_policy *pol, double now,
                         struct fleet_attempt *out);

/* One whole round: store_fleet_sched_load, sched_run, then
 * store_attempt_create for each assignment (conflicts are skipped: the
 * world moved since the load), all in one transaction.  cb gets each
 * attempt created (may be NULL).  *created (may be NULL) = how many. */
int store_fleet_dispatch(struct store *st, const struct fleet_policy *pol,
                         double now, store_attempt_cb cb, void *arg,
                         int *created);

int store_attempt_get(struct store *st, long long id, struct fleet_attempt *out);
/* The live attempt on a printer whose Moonraker file name is filename
 * (reconciling a printer that returns: print_stats.filename).  Also finds
 * a final one, so the caller can tell "ours but already lost". */
int store_attempt_by_filename(struct store *st, long long printer_id,
                              const char *filename, struct fleet_attempt *out);
/* Live attempts (data plane restart, lease checks), by id. */
int store_attempt_live(struct store *st, store_attempt_cb cb, void *arg);
/* Live attempts whose lease ended before now. */
int store_attempt_expired(struct store *st, double now, store_attempt_cb cb,
                          void *arg);

/* Moves a live attempt forward: UPLOADING (upload_at = now: the dispatch
 * latency is upload_at - ready_at), PRINTING (started = now, the
 * printer's last_material/colour become the job's), PAUSED, or back to
 * PRINTING from PAUSED.  Renews the lease.  The printer's effective state
 * follows.  STORE_CONFLICT if the attempt is final or the state would go
 * backwards. */
int store_attempt_set_state(struct store *st, long long id,
                            enum attempt_state state,
                            const struct fleet_policy *pol, double now);
/* lease_until = now + pol->lease (the printer was seen running it).  A
 * write: renew when half the lease is gone, not on every poll. */
int store_attempt_renew(struct store *st, long long id,
                        const struct fleet_policy *pol, double now);

/* What ending an attempt did. */
struct fleet_attempt_outcome {
    enum copy_state copy_state;      /* COPY_QUEUED = requeued for a retry */
    enum job_state job_state;
    int job_ended;                   /* the job became final just now */
    int printer_excluded;            /* the job may not return there (K) */
    int printer_quarantined;         /* the printer was quarantined now */
    enum printer_state printer_state;
};

/* Ends a live attempt with result COMPLETE, FAILED, CANCELLED or LOST and
 * applies the policy in one transaction:
 *  - COMPLETE: copy complete; printer needs clearing unless auto_eject;
 *    its failure streak resets.
 *  - FAILED (and CANCELLED while the job is not being cancelled: someone
 *    stopped the print at the printer): the job's failures on this printer
 *    grow; at pol->fail_per_printer the printer is excluded for the job;
 *    when the job has failed on pol->fail_printers printers it fails (its
 *    queued copies fail, its live ones run out); else the copy is requeued.
 *    The printer needs clearing (unless auto_eject) and its streak grows;
 *    at pol->quarantine_after it is quarantined.
 *  - CANCELLED of a job being cancelled: copy cancelled.
 *  - LOST: copy requeued, the job not blamed; the printer's streak grows
 *    and it needs clearing if the print had started.
 * The job becomes final when no copy is queued or live: complete if every
 * copy completed, else failed (some failed) or cancelled.  reason may be
 * NULL.  STORE_CONFLICT if the attempt is already final.  out may be
 * NULL. */
int store_attempt_end(struct store *st, long long id,
                      enum attempt_state result, const char *reason,
                      const struct fleet_policy *pol, double now,
                      struct fleet_attempt_outcome *out);

/* ======================================================================
 * events
 * ====================================================================== */

/* Appends an event (ids 0 = not about one; message printf-style). */
int store_event_add(struct store *st, double now, const char *kind,
                    long long printer_id, long long job_id,
                    long long attempt_id, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
/* Deletes at most limit events older than before, oldest first: the
 * number deleted, or -1. */
int store_event_purge(struct store *st, double before, int limit);
typedef int (*store_event_cb)(void *arg, const struct fleet_event *e);
/* Events with id > since_id, oldest first, at most limit. */
int store_event_list(struct store *st, long long since_id, int limit,
                     store_event_cb cb, void *arg);

/* ======================================================================
 * API keys (hashed; conf keys are checked by the HTTP layer itself)
 * ====================================================================== */

/* Makes a key for k (role, user, expiry, limits and, for ROLE_OCTOPRINT,
 * its queue etc.) as rrk_<id>_<secret> and stores its hash; the key goes
 * to key_out (FLEET_TOKEN_MAX), its id to k->kid.  STORE_CONFLICT for a
 * name in use, STORE_NOTFOUND when k->user is not a user. */
int store_apikey_add(struct store *st, struct fleet_apikey *k,
                     double now, char *key_out, size_t key_len);
/* The key's record by the key itself (one lookup of its hash, expired
 * and revoked keys included: the caller judges), or STORE_NOTFOUND. */
int store_apikey_auth(struct store *st, const char *key,
                      struct fleet_apikey *out);
/* Every key, by name (never their secrets): 0 and a malloc'd array. */
int store_apikey_list(struct store *st, struct fleet_apikey **out,
                      size_t *n);
/* Revokes (revoked = now) or removes the key with this name or id;
 * STORE_NOTFOUND if none, STORE_CONFLICT if revoked already. */
int store_apikey_revoke(struct store *st, const char *name_or_id,
                        double now);
int store_apikey_remove(struct store *st, const char *name_or_id);

/* Users: names that own keys, tasks and jobs.  STORE_CONFLICT if the
 * name exists. */
int store_user_add(struct store *st, const char *name, double now);
typedef int (*store_user_cb)(void *arg, const char *name, double created,
                             long long keys);
int store_user_list(struct store *st, store_user_cb cb, void *arg);
/* Open relay tasks (queued, busy) and open jobs owned by owner or by
 * "owner/..." (an app's end users). */
int store_owner_open(struct store *st, const char *owner, long long *n);
/* Inside the caller's write transaction (store_begin), so that the count
 * is the one the caller's insert goes in against: STORE_CAPPED with *n
 * when store_owner_open(owner) is max or more, else 0 (also with max <= 0,
 * no cap); -1 on a store error. */
int store_owner_cap_tx(struct store *st, const char *owner, long long max,
                       long long *n);

/* ======================================================================
 * metrics and housekeeping
 * ====================================================================== */

/* Printers counted by (state, frontend name; "" = none). */
typedef int (*store_count2_cb)(void *arg, const char *a, const char *b,
                               long long n);
int store_fleet_count_printers(struct store *st, store_count2_cb cb,
                               void *arg);
/* Waiting copies per queue (every queue, 0 included; b is ""). */
int store_fleet_count_queues(struct store *st, store_count2_cb cb, void *arg);
/* Attempts by state name (b is ""). */
int store_fleet_count_attempts(struct store *st, store_count2_cb cb,
                               void *arg);
/* Dispatch latency (upload_at - ready_at) histogram over attempts that
 * reached uploading: counts[i] = attempts with latency <= bounds[i]
 * (cumulative, Prometheus style), *total and *sum over all of them. */
int store_fleet_latency_hist(struct store *st, const double *bounds,
                             size_t nbounds, long long *counts,
                             long long *total, double *sum);

/* Deletes final jobs that ended before `before` (with their copies, files
 * and attempts) and events older than it, and drops blob references.
 * cb (may be NULL) gets the sha256 of each blob no job references any more
 * and that has had none since before `grace_before`; its row is deleted
 * and the caller unlinks the file (fleet_blob_path). */
int store_fleet_purge(struct store *st, double before, double grace_before,
                      int (*cb)(void *arg, const char *sha256), void *arg);
/* Only the blobs part of store_fleet_purge (the slice cache's eviction
 * drops references and leaves the blobs to this): a blob with no
 * reference gets zero_since = now if it had none; those with none since
 * before grace_before are deleted, cb (may be NULL) getting each sha256
 * after the commit.  evicted: only blobs the slice cache let go of
 * before grace_before (and no upload has put since), never one an upload
 * in progress put and has yet to reference.  The number deleted, or -1. */
int store_blob_purge(struct store *st, double now, double grace_before,
                     int evicted,
                     int (*cb)(void *arg, const char *sha256), void *arg);
/* The bytes of the blobs no one references (their files stay until
 * their grace ends). */
int store_blob_unref_bytes(struct store *st, long long *bytes);

#endif
