/* recover.c - see recover.h. */
#include "daemon/recover.h"

#include "common/log.h"
#include "common/util.h"
#include "daemon/confine.h"
#include "daemon/runner.h"
#include "services/service.h"
#include "spool/spool.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RECOVER_WAIT_MS 1000     /* for a killed group to vanish */

struct recover_item {
    char id[RR_ID_LEN];
    char service[64];
    long pid;
    long long pid_start;
    int runs;
    int cancel;      /* the client cancelled it before the stop */
    int killed;      /* we sent SIGKILL to its group */
    char *notifier;  /* owned */
};

struct recover_list {
    struct recover_item *v;
    size_t n, cap;
    int oom;
};

static int recover_collect(void *arg, const struct task *t)
{
    struct recover_list *l = arg;
    struct recover_item *it;

    /* A print task has no process here: it follows its fleet job, which
     * the fleet loop reconciles with the printer itself. */
    if (t->kind == TASK_KIND_PRINT)
        return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        struct recover_item *v = realloc(l->v, cap * sizeof(*v));
        if (!v) {
            l->oom = 1;
            return 1;
        }
        l->v = v;
        l->cap = cap;
    }
    it = &l->v[l->n];
    memset(it, 0, sizeof(*it));
    memcpy(it->id, t->id, sizeof(it->id));
    rr_fmt(it->service, sizeof(it->service), "%s", t->service);
    it->pid = t->pid;
    it->pid_start = t->pid_start;
    it->runs = t->runs;
    it->cancel = t->cancel_requested;
    if (t->notifier && !(it->notifier = strdup(t->notifier))) {
        l->oom = 1;
        return 1;
    }
    l->n++;
    return 0;
}

/* Kills what is left of the task's process group, if it is still ours. */
static void recover_kill(struct recover_item *it)
{
    long long start;
    pid_t pg = (pid_t)it->pid;

    if (pg <= 1)
        return;
    start = runner_pid_start(pg);
    /* A live leader with another start time is a stranger with a reused
     * pid.  With the leader gone, a group with its id can only be ours:
     * Linux does not hand out a pid still used as a process group id. */
    if (start >= 0 && start != it->pid_start) {
        log_info("task %s: pid %ld is another process now; left alone",
                 it->id, it->pid);
        return;
    }
    if (kill(-pg, 0) < 0)
        return;
    log_warn("task %s: killing its process group %ld left from before",
             it->id, it->pid);
    if (kill(-pg, SIGKILL) == 0)
        it->killed = 1;
}

/* Lets killed groups die before a re-run writes into the same directory.
 * Bounded: a zombie nobody reaps still counts as a member. */
static void recover_wait(const struct recover_list *l)
{
    for (int waited = 0; waited < RECOVER_WAIT_MS; waited += 10) {
        int alive = 0;

        for (size_t i = 0; i < l->n; i++) {
            if (l->v[i].killed && !(kill(-(pid_t)l->v[i].pid, 0) < 0 &&
                                    errno == ESRCH))
                alive++;
        }
        if (!alive)
            return;
        nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000000L }, NULL);
    }
}

static int recover_one(const struct rr_conf *conf,
                       const struct service_registry *reg, struct store *st,
                       const struct recover_item *it)
{
    const struct service *svc = reg ? service_find(reg, it->service) : NULL;
    char reason[256];
    int rc;

    if (it->cancel) {
        /* Cancelled while it ran: end it so, never run it again. */
        if (runner_record_end(st, conf->spool_dir, it->id, TASK_CANCELLED,
                              -1, "cancelled by client", -1,
                              it->notifier) < 0)
            return -1;
        log_info("task %s: cancelled (requested before rrcloudd stopped)",
                 it->id);
        return 0;
    }
    if (svc && svc->rerun && it->runs <= conf->max_reruns) {
        if (store_task_requeue(st, it->id) < 0)
            return -1;
        log_info("re-running task %s after restart (run %d of at most %d)",
                 it->id, it->runs + 1, conf->max_reruns + 1);
        return 0;
    }
    if (!svc)
        rr_fmt(reason, sizeof(reason), "rrcloudd stopped while the task "
               "ran; not re-run (service %s is not configured)",
               it->service);
    else if (!svc->rerun)
        rr_fmt(reason, sizeof(reason), "rrcloudd stopped while the task "
               "ran; not re-run (service %s does not allow it)",
               it->service);
    else
        rr_fmt(reason, sizeof(reason), "rrcloudd stopped while the task "
               "ran; not re-run (it already ran %d times)", it->runs);
    rc = runner_record_end(st, conf->spool_dir, it->id, TASK_FAILED, -1,
                           reason, -1, it->notifier);
    if (rc < 0)
        return -1;
    log_warn("task %s failed: %s", it->id, reason);
    return 0;
}

int recover_run(const struct rr_conf *conf,
                const struct service_registry *reg,
                const struct sandbox *sb, struct store *st)
{
    struct recover_list l = { 0 };
    int n, rc = -1;

    n = spool_sweep_tmp(conf->spool_dir, SPOOL_TMP_MAX_AGE);
    if (n > 0)
        log_info("recovery: removed %d stale upload(s) from %s/tmp", n,
                 conf->spool_dir);
    /* Collect first: the walk must not run while its rows change. */
    if (store_task_list(st, NULL, NULL, TASK_BUSY, -1, 0, recover_collect, &l) < 0)
        goto out;
    if (l.oom) {
        log_err("recovery: out of memory");
        goto out;
    }
    for (size_t i = 0; i < l.n; i++)
        recover_kill(&l.v[i]);
    recover_wait(&l);
    for (size_t i = 0; i < l.n; i++) {
        /* Ended or run again, its directory is rrcloudd's first: a crash
         * must not leave it the sandbox user's, with the modes it set. */
        confine_take_back(sb, conf->spool_dir, l.v[i].id);
        if (recover_one(conf, reg, st, &l.v[i]) < 0) {
            log_err("recovery: task %s: %s", l.v[i].id, store_errmsg(st));
            goto out;
        }
    }
    if (l.n > 0)
        log_info("recovery: %zu task(s) were busy when rrcloudd last "
                 "stopped", l.n);
    rc = (int)l.n;
out:
    for (size_t i = 0; i < l.n; i++)
        free(l.v[i].notifier);
    free(l.v);
    return rc;
}
