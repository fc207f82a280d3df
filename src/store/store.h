/*
 * store.h - the only module that speaks SQL.
 *
 * Tasks, their notifier deliveries, and (later) the fleet live in one SQLite
 * database in WAL mode.  A struct store is one connection and must only be
 * used by one thread at a time; every thread opens its own.  All functions
 * return 0 on success, STORE_NOTFOUND where a row may legitimately be
 * missing, and -1 on error (the reason is logged and kept in
 * store_errmsg()).  Writes that read first run in BEGIN IMMEDIATE so two
 * processes never both claim a task.
 */
#ifndef RR_STORE_H
#define RR_STORE_H

#include <stddef.h>

#include "common/util.h"

#define STORE_NOTFOUND 1

enum task_status {
    TASK_QUEUED,
    TASK_BUSY,
    TASK_COMPLETE,
    TASK_FAILED,
    TASK_CANCELLED,
};

/* "queued", "busy", ... and back; task_status_parse returns -1 if unknown. */
const char *task_status_name(enum task_status s);
int task_status_parse(const char *s, enum task_status *out);
static inline int task_status_final(enum task_status s)
{
    return s >= TASK_COMPLETE;
}

/* One stage of a task pipeline as info shows it (store_chain.c). */
struct task_stage {
    char id[RR_ID_LEN];
    char service[64];
    enum task_status status;
};

/* One task row.  Strings in fixed arrays are bounded by the HTTP layer's
 * checks; the heap strings are owned by the struct (task_clear frees them). */
struct task {
    char id[RR_ID_LEN];
    char service[64];
    enum task_status status;
    char client[64];       /* REMOTE_ADDR of the submitter */
    char out_name[128];    /* output file in the task dir, "" if none */
    char *argv_json;       /* JSON array: the exact argv to exec */
    char *inputs;          /* comma list of input files in the task dir */
    char *notifier;        /* URL after $id/$myip substitution, or NULL */
    char *reason;          /* why it failed or was cancelled, or NULL */
    double ctime, stime, etime; /* created, started, ended (0 = not yet) */
    long long size_in;     /* bytes of all inputs */
    long long size_out;    /* bytes of the output, -1 unknown */
    long long timeout;     /* seconds */
    long pid;              /* process group leader while busy */
    long long pid_start;   /* its start time (/proc), to spot pid reuse */
    int exit_code;         /* -1 until it exits; 128+sig if killed */
    int runs;              /* how often it was started */
    int cancel_requested;  /* a cancel arrived while busy */
    long long seq;         /* insertion order */
    int kind;              /* TASK_KIND_RUN or TASK_KIND_PRINT */
    long long job_id;      /* a print task's fleet job (jobs.task_id), else 0 */
    char owner[128];       /* its user ("user" or "app/end-user"), "" for an
                              anonymous task (its client address owns it) */
    char client_key[128];  /* whom it counts against for fair share and
                              per-client limits (fcgi/fair.h); "" at
                              insert = owner, or "ip:" and client */
    char chain[RR_ID_LEN]; /* a pipeline stage: its first stage's id (the
                              chain's id); "" for a task alone */
    int stage;             /* its place in the chain, from 0 */
    char *job_spec;        /* a print stage's job fields (JSON), or NULL */
    /* Every stage of its chain, for info to show; set only on a copy by
     * the relay before formatting (store_chain_stages), never owned. */
    const struct task_stage *stages;
    int nstages;
};

/* A run task is executed by rrcloudd's runner; a print task stands for a
 * fleet job and follows that job's state (the runner never claims it); a
 * held task is a later stage of a chain whose previous stage has not
 * completed: queued, but nobody takes it until rrcloudd's chain hook
 * (daemon/chain.c) gives it its input and makes it a run task. */
enum { TASK_KIND_RUN = 0, TASK_KIND_PRINT = 1, TASK_KIND_HELD = 2 };
/* The client of the tasks rrcloudd makes itself (model jobs' renders and
 * slices): no caller but an admin cancels them. */
#define TASK_CLIENT_SLICER "rrcloudd-slicer"

void task_clear(struct task *t);  /* frees the heap strings, zeroes t */

struct store;

/* Opens (creating if needed) the database and brings its schema up to
 * date.  Any number of processes may do this at once on a new or an
 * existing database: when another one is in the way (SQLITE_BUSY from the
 * journal-mode change or the migration) it tries again with a growing,
 * jittered delay, for up to a minute, logging once.  Returns NULL with err
 * set. */
struct store *store_open(const char *path, char *err, size_t errlen);
/* store_open that also tells, in *transient, whether the failure may pass
 * by itself (the database still busy, the disk full, an I/O error), so a
 * daemon can wait and try again instead of exiting. */
struct store *store_open_ex(const char *path, char *err, size_t errlen,
                            int *transient);
void store_close(struct store *st);
/* Sets this connection's page cache to kib KiB (store_open leaves 1 MiB).
 * rrcloud-fcgi's lookups by key need little; the fleet loop more. */
int store_set_cache_kib(struct store *st, int kib);
const char *store_errmsg(struct store *st);
/* How long a statement on this connection waits for another connection's
 * lock before failing with "database is locked" (default 5 s; ms <= 0
 * restores it). */
void store_set_busy_ms(struct store *st, int ms);

/* --- tasks --------------------------------------------------------------- */

/* Inserts t (status queued).  The task's files must already be in place. */
int store_task_insert(struct store *st, const struct task *t);
/* Reads one task; STORE_NOTFOUND if there is none.  Clears *out first. */
int store_task_get(struct store *st, const char *id, struct task *out);

/* Calls cb for tasks in submission order, newest first: with owner, only
 * that owner's; else with client, only that address's anonymous tasks;
 * else all; and optionally of one status (-1 = any).  cb's task is
 * valid only during the call; a non-zero return stops the walk. */
typedef int (*store_task_cb)(void *arg, const struct task *t);
int store_task_list(struct store *st, const char *client, const char *owner,
                    int status, int limit, int offset, store_task_cb cb,
                    void *arg);
/* Counts tasks with the given status (-1 = all). */
int store_task_count(struct store *st, int status, long long *out);

/* Takes a queued run task (never a print task) and marks it busy (stime =
 * now, runs + 1): round-robin across clients (client_key), the client with
 * the fewest tasks running first and, among equals, the one whose last
 * task started longest ago; each client's tasks in submission order.  A
 * client with max_running tasks running already waits (<= 0: no cap).
 * Returns STORE_NOTFOUND when nothing can be taken. */
int store_task_claim_max(struct store *st, int max_running, struct task *out);
/* store_task_claim_max without a cap. */
int store_task_claim(struct store *st, struct task *out);
/* Records the process group running a busy task. */
int store_task_set_pid(struct store *st, const char *id, long pid,
                       long long pid_start);
/* Ends a task: status, exit code, reason (may be NULL), output size,
 * etime = now.  Only a task that is not yet final is changed; returns
 * STORE_NOTFOUND otherwise. */
int store_task_finish(struct store *st, const char *id,
                      enum task_status status, int exit_code,
                      const char *reason, long long size_out);
/* Puts a busy task back to queued (crash recovery re-run). */
int store_task_requeue(struct store *st, const char *id);

/* Cancels: a queued task becomes cancelled at once; a busy one, and a
 * print task in any open status, gets cancel_requested for rrcloudd to act
 * on (a print task ends with its job, notifier and all).  *now_status
 * tells which.
 * STORE_NOTFOUND for an unknown id; a final task is left alone. */
int store_task_cancel(struct store *st, const char *id, const char *reason,
                      enum task_status *now_status);
/* Busy run tasks with cancel_requested set (rrcloudd polls this on wake;
 * a print task's cancel is the fleet's). */
int store_task_cancel_pending(struct store *st, store_task_cb cb, void *arg);
/* Calls cb with the id of each task that became final at or after
 * `since` (etime), so a waiter can find what ended without asking about
 * every task it waits for. */
typedef int (*store_id_cb)(void *arg, const char *id);
int store_task_finished_since(struct store *st, double since,
                              store_id_cb cb, void *arg);
/* Deletes a task row and its notifications. */
int store_task_delete(struct store *st, const char *id);
/* Final tasks whose etime is before `before` and that have no notifier
 * call still pending. */
int store_task_expired(struct store *st, double before, int limit,
                       store_task_cb cb, void *arg);

/* --- task pipelines (store_chain.c) --------------------------------------
 * A chain is tasks with the same chain (its first stage's id) and stages
 * 0..n-1; stage 0 is a run task, the others are held until the stage
 * before them completes. */

/* The insert of a chain's n stages, checked against the caps as one
 * task is, is store_chain_insert_capped (store_fair.h). */
/* The stages of chain, in order: 0 with *out (malloc'd, free it) and *n,
 * or -1. */
int store_chain_stages(struct store *st, const char *chain,
                       struct task_stage **out, int *n);
/* The stage after t (same chain, stage + 1) into *out: 0, STORE_NOTFOUND
 * when t is the last, -1.  Clears *out first. */
int store_chain_next(struct store *st, const struct task *t,
                     struct task *out);
/* Makes held stage id a run task the runner may claim (inside the
 * caller's transaction).  STORE_NOTFOUND if it is no longer held and
 * queued (cancelled meanwhile). */
int store_chain_release(struct store *st, const char *id);
/* Makes held print stage id a print task, its job just created (inside
 * the caller's transaction).  STORE_NOTFOUND as store_chain_release. */
int store_chain_release_print(struct store *st, const char *id);
/* Ends every open stage of chain (inside the caller's transaction): a
 * queued one (held or not) is cancelled now with reason (*ended counts
 * them), a busy one gets cancel_requested for the runner (*busy counts
 * them: their end ends the chain). */
int store_chain_cancel_open(struct store *st, const char *chain,
                            const char *reason, int *ended, int *busy);
/* A client's cancel of a chain, in one transaction: store_chain_cancel_open,
 * and when it cancelled a stage and none is left busy, the chain has ended
 * now: its notifier (url, may be NULL) is queued under the chain's id.
 * *busy as above. */
int store_chain_cancel(struct store *st, const char *chain,
                       const char *reason, const char *url, int *busy);

/* --- notifier deliveries -------------------------------------------------- */

struct notification {
    long long id;
    char task_id[RR_ID_LEN];
    char *url;           /* owned */
    char *body;          /* owned; NULL = GET, else POST application/json */
    int attempts;
    double next_at;
};
void notification_clear(struct notification *n);

/* Queues a delivery of url (and body, may be NULL) due at once. */
int store_notify_add(struct store *st, const char *task_id, const char *url,
                     const char *body);
/* Calls cb for up to limit deliveries due at or before now, oldest first,
 * after reading them: cb may write through st. */
typedef int (*store_notify_cb)(void *arg, const struct notification *n);
int store_notify_due(struct store *st, double now, int limit,
                     store_notify_cb cb, void *arg);
/* Seconds until the next pending delivery is due (-1 if none). */
int store_notify_next(struct store *st, double now, double *wait_s);
/* Records an attempt: delivered (done = 1), or failed with next_at for the
 * retry, or given up (done = -1).  last_error may be NULL. */
int store_notify_result(struct store *st, long long id, int done,
                        double next_at, const char *last_error);
/* Counts deliveries by state: pending, delivered, failed. */
int store_notify_counts(struct store *st, long long *pending,
                        long long *delivered, long long *failed);

/* --- rrcloudd's heartbeat (store_health.c) -------------------------------- */

/* One row per host that runs rrcloudd. */
struct store_beat {
    char host[256];
    long pid;            /* 0 once it stopped cleanly */
    double started;      /* when it started */
    double beat;         /* its last heartbeat (or its stop) */
};
/* Writes rrcloudd's heartbeat for host: pid, start time, now. */
int store_heartbeat(struct store *st, const char *host, long pid,
                    double started, double now);
/* Marks host's rrcloudd (pid) stopped cleanly. */
int store_heartbeat_stop(struct store *st, const char *host, long pid,
                         double now);
/* The most recent heartbeat of any host; STORE_NOTFOUND if rrcloudd never
 * ran on this database. */
int store_heartbeat_get(struct store *st, struct store_beat *out);
/* Whether this connection can take the write lock within wait_ms: 0, or
 * -1 (busy past wait_ms, read-only; the reason in store_errmsg()).
 * Writes nothing. */
int store_probe_write(struct store *st, int wait_ms);

/* --- raw access for other store_*.c files (fleet) -------------------------- */
struct sqlite3;
struct sqlite3 *store_db(struct store *st);
/* Sets store_errmsg() to "what: <the connection's last error>", logs it,
 * and returns -1. */
int store_set_error(struct store *st, const char *what);
/* Sets store_errmsg() to msg (a refusal: STORE_NOTFOUND, STORE_CONFLICT). */
void store_set_errmsg(struct store *st, const char *msg);
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int store_begin(struct store *st);
int store_commit(struct store *st);
void store_rollback(struct store *st);
/* A savepoint inside the caller's transaction: a step that may be refused
 * half-way (a job's rows) is undone alone, the rest kept.  One at a time. */
int store_savepoint(struct store *st);
int store_savepoint_release(struct store *st);
void store_savepoint_undo(struct store *st);

#endif
