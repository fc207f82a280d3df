/*
 * runner_int.h - what runner.c (starting, killing, the life cycle) and
 * runner_end.c (a task's end: judged, recorded, kept until it lands)
 * share.  Not for other modules: runner.h is the runner's contract.
 */
#ifndef RR_RUNNER_INT_H
#define RR_RUNNER_INT_H

#include "daemon/runner.h"

#include <sys/types.h>

struct loop_timer;
struct sandbox;

/* The runner's tick: deadlines and the ends kept are looked at again. */
#define RUNNER_TICK_MS 1000

/* One running task. */
struct runner_task {
    struct runner *r;
    char id[RR_ID_LEN];
    char service[64];
    char out_name[128];
    char *notifier;             /* owned, may be NULL */
    pid_t pid;                  /* also the process group id */
    long long timeout;          /* s */
    long long started_ms;       /* monotonic */
    int rerun;                  /* service allows re-runs */
    char *fail_log;             /* owned: the service's failLog, or NULL */
    char start_err[256];        /* exec/setup failure, "" if it ran */
    /* Set once we decide to end it ourselves; the first cause wins. */
    int stopping;
    int shutdown;               /* ended because rrcloudd stops */
    enum task_status kill_status;
    char kill_reason[128];
    struct loop_timer *timer;   /* timeout, then grace; NULL if none */
};

/* A task's end that could not be recorded yet (the store failed: disk
 * full, busy past its timeout).  Its process is gone; the end is kept
 * here and written again on every poll until it lands, so the task
 * neither stays busy nor runs again. */
struct runner_end {
    struct runner_end *next;
    char id[RR_ID_LEN];
    char service[64];
    enum task_status status;
    int code;
    long long size_out;
    long pid;
    double secs;               /* its run time, for the log; < 0 = never ran */
    char *reason;              /* owned, may be NULL */
    char *notifier;            /* owned, may be NULL */
};

struct runner {
    const struct rr_conf *conf;
    const struct service_registry *reg;
    struct store *st;
    struct loop *loop;
    struct loop_timer *tick;
    struct runner_task **slots;  /* conf->runner_slots entries */
    int nslots;
    int running;
    int stopping;
    void (*stop_done)(void *);
    void *stop_arg;
    void (*notify_fn)(void *);
    void *notify_arg;
    void (*end_fn)(void *, const char *, const char *);
    void *end_arg;
    struct runner_end *ends;     /* not yet recorded, oldest first */
    int nends;
    const struct sandbox *sb;    /* NULL: no re-check, no sandbox */
};

/* Frees t and its timer (its process must be gone). */
void runner_task_free(struct runner_task *t);

/* A task's end, made to be recorded (runner_end_submit); NULL when out
 * of memory (logged: recovery at the next start decides). */
struct runner_end *runner_end_new(const char *id, const char *service,
                                  enum task_status status, int code,
                                  const char *reason, const char *notifier);
/* Records e, or keeps it in r->ends to try again; takes e. */
void runner_end_submit(struct runner *r, struct runner_end *e);
/* Tries again to record the ends kept, oldest first. */
void runner_retry_ends(struct runner *r);
void runner_end_free(struct runner_end *e);

/* Reaps every finished child, records its end; returns how many.  Calls
 * r->stop_done once the last task is gone while stopping. */
int runner_reap(struct runner *r);

#endif
