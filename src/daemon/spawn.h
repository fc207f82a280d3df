/*
 * spawn.h - starting one task's command (the runner's vfork/exec half).
 *
 * Everything the child needs is prepared by spawn_plan_build() in the
 * parent, because the child (a vfork child, sharing the daemon's memory
 * until it execs) may only make plain syscalls between vfork and exec: no
 * malloc, no stdio, no logging, no writes to anything but its own locals.
 * The child reports a failure before or at exec through a
 * close-on-exec pipe, so "program not found" is told apart from a program
 * that ran and exited 127.
 */
#ifndef RR_SPAWN_H
#define RR_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#include "daemon/sandbox.h"

/* Resource limits; 0 = leave unlimited (nice: 0 = rrcloudd's own). */
struct spawn_limits {
    int nice;                       /* niceness, never below rrcloudd's */
    unsigned long long max_output;  /* RLIMIT_FSIZE, bytes */
    unsigned long long max_memory;  /* RLIMIT_AS, bytes */
    unsigned long long max_cpu;     /* RLIMIT_CPU, seconds */
    unsigned long long max_procs;   /* RLIMIT_NPROC (per uid!) */
};

struct spawn_plan {
    char dir[4096];        /* cwd, HOME and TMPDIR: the task directory */
    char log[4096];        /* stdout + stderr go here (appended) */
    char **argv;           /* owned, NULL-terminated */
    char **progs;          /* owned: paths to try for argv[0], in order */
    char *envp[5];         /* owned strings, NULL-terminated */
    struct spawn_limits lim;
    struct sandbox_plan sb;  /* owned; applied in the child after its log
                                is open (sandbox_plan_build fills it) */
};

/* Fills p for task id in spool: argv from argv_json (a JSON array of
 * strings), argv[0] looked up in the colon list path (absolute entries
 * only; an argv[0] with a '/' must itself be absolute).  p->sb is left
 * empty (no sandbox).  Returns 0, or -1 with err set; p is always safe to
 * pass to spawn_plan_free(). */
int spawn_plan_build(struct spawn_plan *p, const char *spool, const char *id,
                     const char *argv_json, const char *path,
                     const struct spawn_limits *lim, char *err,
                     size_t errlen);
void spawn_plan_free(struct spawn_plan *p);

/* Starts p (vfork, exec) in a new process group (pgid = the returned pid).
 * Returns the pid, with err "" when the program runs, or with err set
 * ("exec failed: ...", "cannot start: chdir: ...") when the child could
 * not get there: it has exited and must still be reaped.  Returns -1 with
 * err set if vfork itself failed. */
pid_t spawn_run(const struct spawn_plan *p, char *err, size_t errlen);

#endif
