/* runner.c - see runner.h: claiming and starting tasks, their deadlines
 * and cancels, the runner's life cycle (a task's end: runner_end.c). */
#include "daemon/runner_int.h"

#include "common/log.h"
#include "common/util.h"
#include "daemon/confine.h"
#include "daemon/loop.h"
#include "daemon/spawn.h"
#include "services/service.h"
#include "spool/spool.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What the runner needs from a service, copied at start so a registry
 * reload cannot pull it away from a running task. */
struct runner_svc {
    char path[1024];
    long long timeout;
    int rerun;
    const char *fail_log;       /* the registry's, for runner_task_new */
    struct spawn_limits lim;
};

/* ---- helpers ------------------------------------------------------------ */

long long runner_pid_start(pid_t pid)
{
    char path[64], buf[1024], *p;
    long long start = -1;
    FILE *f;
    int field;

    if (pid <= 0 || rr_fmt(path, sizeof(path), "/proc/%ld/stat",
                           (long)pid) < 0)
        return -1;
    f = fopen(path, "re");
    if (!f)
        return -1;
    if (!fgets(buf, sizeof(buf), f))
        goto out;
    /* The command name (field 2) may hold spaces and ')': skip past the
     * last ')'.  Field 3 follows it. */
    p = strrchr(buf, ')');
    if (!p)
        goto out;
    p++;
    for (field = 3; field < 22 && p; field++) {
        p = strchr(p + 1, ' ');
    }
    if (p)
        start = strtoll(p + 1, NULL, 10);
out:
    fclose(f);
    return start;
}

static int runner_service(const struct service_registry *reg,
                          const char *name, struct runner_svc *out)
{
    const struct service *s = reg ? service_find(reg, name) : NULL;

    memset(out, 0, sizeof(*out));
    if (!s)
        return -1;
    if (rr_fmt(out->path, sizeof(out->path), "%s", s->path ? s->path : "") < 0)
        return -1;
    out->timeout = s->timeout;
    out->rerun = s->rerun;
    out->fail_log = s->fail_log;
    out->lim.max_output = s->max_output;
    out->lim.max_memory = s->max_memory;
    out->lim.max_cpu = s->max_cpu > 0 ? (unsigned long long)s->max_cpu : 0;
    out->lim.max_procs = s->max_procs > 0 ? (unsigned long long)s->max_procs
                                          : 0;
    out->lim.nice = s->nice;
    return 0;
}

/* ---- killing ------------------------------------------------------------ */

static void runner_on_grace(struct loop *l, struct loop_timer *tm, void *arg)
{
    struct runner_task *t = arg;

    t->timer = NULL;
    log_warn("task %s: still running %lld s after SIGTERM; sending SIGKILL",
             t->id, t->r->conf->kill_grace);
    kill(-t->pid, SIGKILL);
}

/* Starts ending t: SIGTERM to its group now, SIGKILL after kill_grace. */
static void runner_kill(struct runner_task *t, enum task_status status,
                        const char *reason)
{
    struct runner *r = t->r;

    if (t->stopping)
        return;
    t->stopping = 1;
    t->kill_status = status;
    rr_fmt(t->kill_reason, sizeof(t->kill_reason), "%s", reason);
    loop_timer_del(r->loop, t->timer);
    t->timer = NULL;
    if (r->conf->kill_grace <= 0) {
        kill(-t->pid, SIGKILL);
        return;
    }
    kill(-t->pid, SIGTERM);
    t->timer = loop_add_timer(r->loop, r->conf->kill_grace * 1000, 0,
                              runner_on_grace, t);
    if (!t->timer)
        kill(-t->pid, SIGKILL);
}

static void runner_timeout(struct runner_task *t)
{
    char reason[64];

    rr_fmt(reason, sizeof(reason), "timed out after %lld s", t->timeout);
    log_warn("task %s: %s; stopping it", t->id, reason);
    runner_kill(t, TASK_FAILED, reason);
}

static void runner_on_timeout(struct loop *l, struct loop_timer *tm,
                              void *arg)
{
    struct runner_task *t = arg;

    t->timer = NULL;
    runner_timeout(t);
}

/* A safety net for a timer that could not be created. */
static void runner_check_deadlines(struct runner *r)
{
    long long now = rr_mono_ms();

    for (int i = 0; i < r->nslots; i++) {
        struct runner_task *t = r->slots[i];

        if (t && !t->stopping && t->timeout > 0 &&
            now - t->started_ms > t->timeout * 1000 + RUNNER_TICK_MS)
            runner_timeout(t);
    }
}

static struct runner_task *runner_find(struct runner *r, const char *id)
{
    for (int i = 0; i < r->nslots; i++) {
        if (r->slots[i] && strcmp(r->slots[i]->id, id) == 0)
            return r->slots[i];
    }
    return NULL;
}

static int runner_on_cancel(void *arg, const struct task *row)
{
    struct runner_task *t = runner_find(arg, row->id);

    if (t && !t->stopping) {
        log_info("task %s: cancel requested; stopping it", t->id);
        runner_kill(t, TASK_CANCELLED, "cancelled by client");
    }
    return 0;
}

/* ---- starting ----------------------------------------------------------- */

/* Ends a claimed task that cannot be started at all. */
static void runner_reject(struct runner *r, const struct task *row,
                          const char *reason)
{
    struct runner_end *e = runner_end_new(row->id, row->service, TASK_FAILED,
                                          -1, reason, row->notifier);

    if (e)
        runner_end_submit(r, e);
}

/* A re-run must not find the output of the run that was cut off. */
static void runner_clear_output(struct runner *r, const struct task *row)
{
    char path[4096];

    if (row->runs > 1 && row->out_name[0] &&
        spool_task_file(r->conf->spool_dir, row->id, row->out_name, path,
                        sizeof(path)) == 0 &&
        unlink(path) < 0 && errno != ENOENT)
        log_warn("task %s: cannot remove old output: %s", row->id,
                 strerror(errno));
}

static struct runner_task *runner_task_new(struct runner *r,
                                           const struct task *row,
                                           const struct runner_svc *svc)
{
    struct runner_task *t = calloc(1, sizeof(*t));

    if (!t)
        return NULL;
    t->r = r;
    memcpy(t->id, row->id, sizeof(t->id));
    rr_fmt(t->service, sizeof(t->service), "%s", row->service);
    rr_fmt(t->out_name, sizeof(t->out_name), "%s", row->out_name);
    if (row->notifier && !(t->notifier = strdup(row->notifier))) {
        free(t);
        return NULL;
    }
    t->rerun = svc->rerun;
    if (svc->fail_log && !(t->fail_log = strdup(svc->fail_log))) {
        free(t->notifier);
        free(t);
        return NULL;
    }
    t->timeout = row->timeout > 0 ? row->timeout
                 : svc->timeout > 0 ? svc->timeout
                 : r->conf->default_timeout;
    return t;
}

/* Starts row in slot i.  Returns 1 if a child runs, 0 if the task was
 * failed instead, -1 if it went back to the queue (stop claiming). */
static int runner_start(struct runner *r, int i, const struct task *row)
{
    struct spawn_plan plan;
    struct runner_svc svc;
    struct runner_task *t;
    char err[512];

    if (runner_service(r->reg, row->service, &svc) < 0) {
        rr_fmt(err, sizeof(err), "service %s is not configured",
               row->service);
        runner_reject(r, row, err);
        return 0;
    }
    if (spawn_plan_build(&plan, r->conf->spool_dir, row->id, row->argv_json,
                         svc.path, &svc.lim, err, sizeof(err)) < 0 ||
        (r->sb && confine_task(r->sb, r->reg, r->conf->spool_dir, row, &plan,
                               err, sizeof(err)) < 0)) {
        spawn_plan_free(&plan);
        runner_reject(r, row, err);
        return 0;
    }
    t = runner_task_new(r, row, &svc);
    if (!t)
        goto requeue;
    runner_clear_output(r, row);
    t->pid = spawn_run(&plan, t->start_err, sizeof(t->start_err));
    if (t->pid < 0) {
        log_err("task %s: %s", row->id, t->start_err);
        goto requeue;
    }
    spawn_plan_free(&plan);
    t->started_ms = rr_mono_ms();
    if (store_task_set_pid(r->st, t->id, t->pid, runner_pid_start(t->pid)) < 0)
        log_err("task %s: cannot record pid: %s", t->id, store_errmsg(r->st));
    /* timeout 0 everywhere means no limit. */
    if (t->timeout > 0 &&
        !(t->timer = loop_add_timer(r->loop, t->timeout * 1000, 0,
                                    runner_on_timeout, t)))
        log_warn("task %s: no timer (%s); the tick enforces the timeout",
                 t->id, strerror(errno));
    r->slots[i] = t;
    r->running++;
    log_info("task %s started: service %s, pid %ld, timeout %lld s%s",
             t->id, t->service, (long)t->pid, t->timeout,
             row->runs > 1 ? ", re-run" : "");
    return 1;
requeue:
    spawn_plan_free(&plan);
    runner_task_free(t);
    if (store_task_requeue(r->st, row->id) < 0)
        log_err("task %s: cannot requeue: %s", row->id, store_errmsg(r->st));
    return -1;
}

int runner_poll(struct runner *r)
{
    int started = 0, rc;

    runner_retry_ends(r);
    runner_reap(r);
    if (r->running > 0 &&
        store_task_cancel_pending(r->st, runner_on_cancel, r) < 0)
        return -1;
    runner_check_deadlines(r);
    while (!r->stopping && r->running < r->nslots) {
        struct task row;
        int i = 0;

        /* Round-robin across clients (store.h); client_max_running
         * leaves a slot free rather than give a client one more. */
        rc = store_task_claim_max(r->st, r->conf->client_max_running, &row);
        if (rc == STORE_NOTFOUND)
            break;
        if (rc < 0) {
            task_clear(&row);
            return -1;
        }
        while (r->slots[i])
            i++;
        rc = runner_start(r, i, &row);
        task_clear(&row);
        if (rc < 0)
            break;
        started += rc;
    }
    return started;
}

int runner_running(const struct runner *r)
{
    return r->running;
}

int runner_pending_ends(const struct runner *r)
{
    return r->nends;
}

/* ---- life cycle --------------------------------------------------------- */

static void runner_on_sigchld(struct loop *l, int signo, void *arg)
{
    /* A freed slot is refilled at once, not at the next tick. */
    if (runner_poll(arg) < 0)
        log_err("runner: %s", store_errmsg(((struct runner *)arg)->st));
}

static void runner_on_tick(struct loop *l, struct loop_timer *tm, void *arg)
{
    if (runner_poll(arg) < 0)
        log_err("runner: %s", store_errmsg(((struct runner *)arg)->st));
}

struct runner *runner_new(const struct rr_conf *conf,
                          const struct service_registry *reg,
                          struct store *st, struct loop *l)
{
    struct runner *r = calloc(1, sizeof(*r));

    if (!r)
        return NULL;
    r->conf = conf;
    r->reg = reg;
    r->st = st;
    r->loop = l;
    r->nslots = conf->runner_slots > 0 ? conf->runner_slots : 1;
    r->slots = calloc((size_t)r->nslots, sizeof(*r->slots));
    if (!r->slots)
        goto fail;
    if (loop_add_signal(l, SIGCHLD, runner_on_sigchld, r) < 0)
        goto fail;
    r->tick = loop_add_timer(l, RUNNER_TICK_MS, 1, runner_on_tick, r);
    if (!r->tick)
        goto fail;
    return r;
fail:
    runner_free(r);
    return NULL;
}

void runner_free(struct runner *r)
{
    if (!r)
        return;
    loop_del_signal(r->loop, SIGCHLD);
    loop_timer_del(r->loop, r->tick);
    for (int i = 0; r->slots && i < r->nslots; i++)
        runner_task_free(r->slots[i]);
    /* A last try; the notifier may be gone already, and a call queued
     * now is made after the next start. */
    r->notify_fn = NULL;
    r->end_fn = NULL;
    runner_retry_ends(r);
    while (r->ends) {
        struct runner_end *e = r->ends;

        log_err("task %s: its end (%s) was never recorded; the recovery "
                "at the next start decides it", e->id,
                task_status_name(e->status));
        r->ends = e->next;
        runner_end_free(e);
    }
    free(r->slots);
    free(r);
}

void runner_set_registry(struct runner *r, const struct service_registry *reg)
{
    r->reg = reg;
}

void runner_set_sandbox(struct runner *r, const struct sandbox *sb)
{
    r->sb = sb;
}

void runner_set_notify(struct runner *r, void (*fn)(void *), void *arg)
{
    r->notify_fn = fn;
    r->notify_arg = arg;
}

void runner_set_on_end(struct runner *r,
                       void (*fn)(void *, const char *, const char *),
                       void *arg)
{
    r->end_fn = fn;
    r->end_arg = arg;
}

void runner_stop(struct runner *r, void (*done)(void *), void *arg)
{
    if (r->stopping) {
        log_warn("runner: stopping now: SIGKILL to %d task(s)", r->running);
        for (int i = 0; i < r->nslots; i++) {
            if (r->slots[i])
                kill(-r->slots[i]->pid, SIGKILL);
        }
        return;
    }
    r->stopping = 1;
    r->stop_done = done;
    r->stop_arg = arg;
    if (r->running > 0)
        log_info("runner: stopping %d running task(s)", r->running);
    for (int i = 0; i < r->nslots; i++) {
        struct runner_task *t = r->slots[i];

        /* One already ending (timeout, cancel) keeps that outcome. */
        if (t && !t->stopping) {
            t->shutdown = 1;
            runner_kill(t, TASK_FAILED, "rrcloudd was stopped");
        }
    }
    if (r->running == 0 && r->stop_done) {
        r->stop_done = NULL;
        done(arg);
    }
}
