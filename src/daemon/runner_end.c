/* runner_end.c - see runner_int.h: how a task ended (its exit status,
 * a failLog line, its output), recorded with its chain and notifier in
 * one transaction, or kept and tried again until the store takes it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* strsignal */
#endif
#include "daemon/runner_int.h"

#include "common/log.h"
#include "common/util.h"
#include "daemon/chain.h"
#include "daemon/confine.h"
#include "daemon/loop.h"
#include "services/service.h"
#include "spool/spool.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

int runner_record_end(struct store *st, const char *spool, const char *id,
                      enum task_status status, int exit_code,
                      const char *reason, long long size_out,
                      const char *notifier)
{
    struct chain_prep prep;
    char call_id[RR_ID_LEN];
    int rc, call = 0;

    /* Files are copied and hashed before the write lock is taken. */
    chain_prepare(st, spool, id, status, &prep);
    if (store_begin(st) < 0)
        return -1;
    rc = store_task_finish(st, id, status, exit_code, reason, size_out);
    /* A pipeline stage passes its output on, or ends its chain. */
    if (rc == 0 && chain_task_end(st, spool, id, status, reason, &prep,
                                  call_id, &call) < 0)
        rc = -1;
    if (rc == 0 && call && notifier && *notifier &&
        store_notify_add(st, call_id, notifier, NULL) < 0)
        rc = -1;
    if (rc < 0) {
        store_rollback(st);
        return -1;
    }
    if (store_commit(st) < 0) {
        store_rollback(st);
        return -1;
    }
    return rc;
}

void runner_task_free(struct runner_task *t)
{
    if (!t)
        return;
    loop_timer_del(t->r->loop, t->timer);
    free(t->notifier);
    free(t->fail_log);
    free(t);
}

/* ---- ending a task ------------------------------------------------------ */

/* failLog: a command that exits 0 whatever happened may say in its log
 * that it failed; the line it said it in is the reason. */
static int runner_log_failed(struct runner *r, struct runner_task *t,
                             char *reason, size_t len)
{
    char path[4096], line[256];
    int rc;

    if (!t->fail_log ||
        spool_task_file(r->conf->spool_dir, t->id, SPOOL_LOG_NAME, path,
                        sizeof(path)) < 0)
        return 0;
    rc = service_log_match(t->fail_log, path, line, sizeof(line));
    if (rc < 0)
        log_warn("task %s: cannot read its log for failLog: %s", t->id,
                 strerror(errno));
    if (rc <= 0)
        return 0;
    rr_fmt(reason, len, "log: %s", line);
    return 1;
}

/* A command that failed says why in its last words, more often than not
 * (a file the sandbox kept from it: "Permission denied"): they go after
 * the exit code in the reason. */
static void runner_log_last(struct runner *r, struct runner_task *t,
                            char *reason, size_t len)
{
    char path[4096], line[160];
    size_t used = strlen(reason);

    if (spool_task_file(r->conf->spool_dir, t->id, SPOOL_LOG_NAME, path,
                        sizeof(path)) < 0 ||
        service_log_last(path, line, sizeof(line)) <= 0 || used >= len)
        return;
    rr_fmt(reason + used, len - used, "; log: %s", line);
}

/* Decides status and reason for a normal end (not one we caused). */
static enum task_status runner_judge(struct runner *r, struct runner_task *t,
                                     int ws, char *reason, size_t len,
                                     long long *size_out)
{
    char path[4096];
    struct stat sb;

    *size_out = -1;
    if (t->start_err[0]) {
        rr_fmt(reason, len, "%s", t->start_err);
        return TASK_FAILED;
    }
    if (WIFSIGNALED(ws)) {
        rr_fmt(reason, len, "killed by signal %d (%s)", WTERMSIG(ws),
               strsignal(WTERMSIG(ws)));
        runner_log_last(r, t, reason, len);
        return TASK_FAILED;
    }
    if (WEXITSTATUS(ws) != 0) {
        rr_fmt(reason, len, "exit code %d", WEXITSTATUS(ws));
        runner_log_last(r, t, reason, len);
        return TASK_FAILED;
    }
    if (runner_log_failed(r, t, reason, len))
        return TASK_FAILED;
    if (!t->out_name[0])
        return TASK_COMPLETE;
    /* lstat: a symlink left as "output" must not be served as a result. */
    if (spool_task_file(r->conf->spool_dir, t->id, t->out_name, path,
                        sizeof(path)) < 0 || lstat(path, &sb) < 0) {
        rr_fmt(reason, len, "produced no output file %s", t->out_name);
        return TASK_FAILED;
    }
    if (!S_ISREG(sb.st_mode)) {
        rr_fmt(reason, len, "output %s is not a regular file", t->out_name);
        return TASK_FAILED;
    }
    if (sb.st_size == 0) {
        rr_fmt(reason, len, "output file %s is empty", t->out_name);
        return TASK_FAILED;
    }
    *size_out = (long long)sb.st_size;
    return TASK_COMPLETE;
}

/* Puts a task cut off by our own stop back in the queue. */
static void runner_requeue_stopped(struct runner *r, struct runner_task *t,
                                   double secs)
{
    if (store_task_requeue(r->st, t->id) < 0)
        log_err("task %s: cannot requeue: %s", t->id, store_errmsg(r->st));
    else
        log_info("task %s stopped: service %s, pid %ld, %.2f s; queued "
                 "again for the next start", t->id, t->service,
                 (long)t->pid, secs);
}

void runner_end_free(struct runner_end *e)
{
    if (!e)
        return;
    free(e->reason);
    free(e->notifier);
    free(e);
}

/* Writes e to the store: 0 when it landed (or the task was already
 * final), -1 when it must be tried again. */
static int runner_end_record(struct runner *r, const struct runner_end *e)
{
    int rc = runner_record_end(r->st, r->conf->spool_dir, e->id, e->status,
                               e->code, e->reason, e->size_out, e->notifier);

    if (rc < 0)
        return -1;
    if (e->secs < 0)
        log_warn("task %s ended: service %s, failed (%s) before it started",
                 e->id, e->service, e->reason ? e->reason : "");
    else
        log_info("task %s ended: service %s, pid %ld, %s%s%s%s, exit %d, "
                 "%.2f s", e->id, e->service, e->pid,
                 task_status_name(e->status), e->reason ? " (" : "",
                 e->reason ? e->reason : "", e->reason ? ")" : "", e->code,
                 e->secs);
    if (rc == 0 && e->notifier && r->notify_fn)
        r->notify_fn(r->notify_arg);
    if (rc == 0 && r->end_fn)
        r->end_fn(r->end_arg, e->id, e->service);
    return 0;
}

/* Records e now, or keeps it for the next poll.  Takes e. */
void runner_end_submit(struct runner *r, struct runner_end *e)
{
    struct runner_end **pp;

    if (runner_end_record(r, e) == 0) {
        runner_end_free(e);
        return;
    }
    log_err("task %s: cannot record its end (%s): %s; kept, and tried "
            "again every %d ms", e->id, task_status_name(e->status),
            store_errmsg(r->st), RUNNER_TICK_MS);
    for (pp = &r->ends; *pp; pp = &(*pp)->next)
        ;
    e->next = NULL;
    *pp = e;
    r->nends++;
}

/* Writes the kept ends, oldest first, until one fails again. */
void runner_retry_ends(struct runner *r)
{
    while (r->ends) {
        struct runner_end *e = r->ends;

        if (runner_end_record(r, e) < 0)
            return;
        log_info("task %s: its end is recorded now", e->id);
        r->ends = e->next;
        r->nends--;
        runner_end_free(e);
    }
}

/* A new end for task id; NULL when out of memory (logged). */
struct runner_end *runner_end_new(const char *id, const char *service,
                                  enum task_status status, int code,
                                  const char *reason, const char *notifier)
{
    struct runner_end *e = calloc(1, sizeof(*e));

    if (!e)
        goto oom;
    rr_fmt(e->id, sizeof(e->id), "%s", id);
    rr_fmt(e->service, sizeof(e->service), "%s", service);
    e->status = status;
    e->code = code;
    e->size_out = -1;
    e->secs = -1;
    if ((reason && *reason && !(e->reason = strdup(reason))) ||
        (notifier && !(e->notifier = strdup(notifier)))) {
        runner_end_free(e);
        goto oom;
    }
    return e;
oom:
    /* Recovery at the next start finds the task busy and decides. */
    log_err("task %s: out of memory for its end", id);
    return NULL;
}

static void runner_end(struct runner *r, struct runner_task *t, int ws)
{
    char reason[512] = "";
    enum task_status status;
    long long size_out = -1;
    double secs = (double)(rr_mono_ms() - t->started_ms) / 1000.0;
    int code = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    struct runner_end *e;

    /* A task that ended well just as we stopped is judged as usual. */
    if (t->shutdown && WIFEXITED(ws) && WEXITSTATUS(ws) == 0 &&
        !t->start_err[0])
        t->stopping = 0;
    if (t->stopping && t->shutdown && t->rerun) {
        runner_requeue_stopped(r, t, secs);
        return;
    }
    if (t->stopping) {
        status = t->kill_status;
        rr_fmt(reason, sizeof(reason), "%s", t->kill_reason);
    } else {
        status = runner_judge(r, t, ws, reason, sizeof(reason), &size_out);
    }
    e = runner_end_new(t->id, t->service, status, code, reason, t->notifier);
    if (!e)
        return;
    e->size_out = size_out;
    e->pid = (long)t->pid;
    e->secs = secs;
    runner_end_submit(r, e);
}

/* Reaps every finished child; returns how many. */
int runner_reap(struct runner *r)
{
    int n = 0;

    for (int i = 0; i < r->nslots; i++) {
        struct runner_task *t = r->slots[i];
        siginfo_t si;
        int ws = 0xff00; /* exit code 255 if the status is lost */

        if (!t)
            continue;
        /* Look without reaping: while the leader is a zombie its pid,
         * and so its group id, cannot be handed to anyone else. */
        memset(&si, 0, sizeof(si));
        if (waitid(P_PID, (id_t)t->pid, &si,
                   WEXITED | WNOHANG | WNOWAIT) < 0) {
            if (errno == EINTR)
                continue;
            log_err("task %s: waitid: %s", t->id, strerror(errno));
            if (!t->start_err[0])
                rr_fmt(t->start_err, sizeof(t->start_err),
                       "exit status lost");
        } else if (si.si_pid == 0) {
            continue;  /* still running */
        }
        /* Whatever the leader left behind in its group goes too. */
        kill(-t->pid, SIGKILL);
        if (waitpid(t->pid, &ws, 0) < 0 && !t->start_err[0])
            rr_fmt(t->start_err, sizeof(t->start_err), "exit status lost");
        /* rrcloudd's again before its output is judged. */
        confine_take_back(r->sb, r->conf->spool_dir, t->id);
        runner_end(r, t, ws);
        r->slots[i] = NULL;
        r->running--;
        runner_task_free(t);
        n++;
    }
    if (r->stopping && r->running == 0 && r->stop_done) {
        void (*done)(void *) = r->stop_done;
        r->stop_done = NULL;
        done(r->stop_arg);
    }
    return n;
}
