/*
 * runner.h - runs queued tasks: claim from the store, fork/exec the
 * service command in its own process group with limits, enforce the
 * timeout, act on cancel requests, record how it ended and queue its
 * notifier call.
 *
 * The runner lives on a loop (loop.h): it registers SIGCHLD and a 1 s tick
 * there, plus one timer per running task.  Nothing is polled faster than
 * that; rrcloud-fcgi's wake datagram (runner_poll from the owner's wake
 * handler) starts new work within milliseconds.
 *
 * A child gets: its own process group, cwd = the task directory, stdin
 * /dev/null, stdout+stderr appended to the task's log, no other fds,
 * umask 027, the service's rlimits (and no core files), default signal
 * handling, and only PATH (the service's path), HOME and TMPDIR (the task
 * directory) and LANG=C.UTF-8 in its environment.  argv comes from the
 * task row; no shell is ever involved.
 */
#ifndef RR_RUNNER_H
#define RR_RUNNER_H

#include <sys/types.h>

#include "common/conf.h"
#include "store/store.h"

struct loop;
struct runner;
struct service_registry;

/* Creates a runner on loop l.  conf, reg, st and l are borrowed and must
 * outlive it; st is used from the loop's thread only.  Registers SIGCHLD
 * and the tick with l (block SIGCHLD in main before starting threads).
 * Returns NULL with errno. */
struct runner *runner_new(const struct rr_conf *conf,
                          const struct service_registry *reg,
                          struct store *st, struct loop *l);
/* Frees the runner and its timers.  Tasks still running are left alone
 * (recovery at the next start takes care of them): stop them first with
 * runner_stop() when that is not what you want. */
void runner_free(struct runner *r);

/* Switches to a reloaded registry (SIGHUP).  Running tasks keep what they
 * took from the old one, so the caller may free it after this call. */
void runner_set_registry(struct runner *r, const struct service_registry *reg);
/* rrcloudd's confinement of every command (daemon/sandbox.h); sb must
 * outlive r.  With it set (rrcloudd always sets one, mode off included),
 * the runner also re-checks each stored argv against its service
 * (service_check_argv) and its inputs, and fails a task that does not
 * match; without it (the unit tests of process handling) the stored argv
 * runs as it is. */
struct sandbox;
void runner_set_sandbox(struct runner *r, const struct sandbox *sb);
/* fn(arg) is called whenever a notifier delivery was queued. */
void runner_set_notify(struct runner *r, void (*fn)(void *), void *arg);
/* fn(arg, id, service) is called whenever a task's end has been written
 * to the store, from inside the runner: fn must not call back into it
 * (defer that work to the loop). */
void runner_set_on_end(struct runner *r,
                       void (*fn)(void *, const char *, const char *),
                       void *arg);

/* Records kept ends, reaps exited children, kills tasks whose cancel was
 * requested, and starts queued tasks while slots are free (unless
 * stopping).  Returns the
 * number of tasks started, or -1 on a store error. */
int runner_poll(struct runner *r);
/* Tasks running now. */
int runner_running(const struct runner *r);
/* Ends of tasks that could not be recorded yet (the store failed).  Each
 * is kept and written again on every poll (and at runner_free) until it
 * lands; its notifier call is queued with it. */
int runner_pending_ends(const struct runner *r);

/* Graceful stop: claim nothing more; SIGTERM every task's process group,
 * SIGKILL after kill_grace; each one that ends is put back in the queue if
 * its service allows re-runs, else failed with "rrcloudd was stopped".
 * done(arg) is called (possibly at once) when no task runs any more.
 * Calling it again sends SIGKILL to everything at once. */
void runner_stop(struct runner *r, void (*done)(void *), void *arg);

/* Ends a task and, when it has a notifier, queues the call, in one
 * transaction so a crash cannot lose the call; a pipeline stage's end
 * goes through chain_task_end (daemon/chain.h) in the same transaction,
 * which may pass its output (in spool) to the next stage instead.
 * Returns 0, STORE_NOTFOUND if the task was already final (nothing
 * queued), or -1. */
int runner_record_end(struct store *st, const char *spool, const char *id,
                      enum task_status status, int exit_code,
                      const char *reason, long long size_out,
                      const char *notifier);

/* Start time of process pid (field 22 of /proc/PID/stat, clock ticks since
 * boot), to tell a process from a later one with a reused pid.  Returns -1
 * if there is no such process. */
long long runner_pid_start(pid_t pid);

#endif
