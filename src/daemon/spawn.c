/* spawn.c - see spawn.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* close_range, pipe2, asprintf */
#endif
#include "daemon/spawn.h"

#include "common/util.h"
#include "spool/spool.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#define SPAWN_MAX_ARGS 4096

/* What the child was doing when it failed (sent through the pipe). */
enum spawn_stage {
    SP_SETPGID, SP_CHDIR, SP_STDIN, SP_LOG, SP_DUP, SP_CLOSE, SP_RLIMIT,
    SP_SANDBOX, SP_EXEC,
};

static const char *const spawn_stage_names[] = {
    "setpgid", "chdir to the task directory", "open /dev/null",
    "open the log file", "dup2", "close fds", "setrlimit", "sandbox", "exec",
};

struct spawn_report {
    int stage;
    int err;
    const char *what;   /* SP_SANDBOX: the step, a static string (the vfork
                           child shares our memory) */
};

static void spawn_free_vec(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

void spawn_plan_free(struct spawn_plan *p)
{
    spawn_free_vec(p->argv);
    spawn_free_vec(p->progs);
    for (int i = 0; p->envp[i]; i++)
        free(p->envp[i]);
    sandbox_plan_free(&p->sb);
    memset(p, 0, sizeof(*p));
    p->sb.ruleset_fd = -1;
}

/* argv from the task's JSON array: strings only, no NUL inside. */
static int spawn_parse_argv(struct spawn_plan *p, const char *argv_json,
                            char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *a = json_loads(argv_json ? argv_json : "", 0, &jerr);
    size_t n;
    int rc = -1;

    if (!json_is_array(a) || (n = json_array_size(a)) == 0 ||
        n > SPAWN_MAX_ARGS) {
        snprintf(err, errlen, "bad argv in the task record");
        goto out;
    }
    p->argv = calloc(n + 1, sizeof(char *));
    if (!p->argv)
        goto oom;
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_array_get(a, i);
        const char *v = json_string_value(s);

        if (!v || strlen(v) != json_string_length(s) || (i == 0 && !*v)) {
            snprintf(err, errlen, "bad argv[%zu] in the task record", i);
            goto out;
        }
        p->argv[i] = strdup(v);
        if (!p->argv[i])
            goto oom;
    }
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "out of memory");
out:
    json_decref(a);
    return rc;
}

/* The paths to try for argv[0].  Relative PATH entries are dropped: they
 * would resolve inside the task directory, which holds client files. */
static int spawn_find_progs(struct spawn_plan *p, const char *path,
                            char *err, size_t errlen)
{
    const char *prog = p->argv[0], *s = path ? path : "";
    size_t n = 0, cap = 1;
    char buf[4096];

    for (const char *c = s; *c; c++)
        cap += *c == ':';
    p->progs = calloc(cap + 1, sizeof(char *));
    if (!p->progs)
        goto oom;
    if (strchr(prog, '/')) {
        if (prog[0] != '/') {
            snprintf(err, errlen, "program '%.100s' is neither a name nor "
                     "an absolute path", prog);
            return -1;
        }
        p->progs[0] = strdup(prog);
        return p->progs[0] ? 0 : (snprintf(err, errlen, "out of memory"), -1);
    }
    while (*s) {
        size_t len = strcspn(s, ":");

        if (len > 0 && s[0] == '/' && n < cap &&
            rr_fmt(buf, sizeof(buf), "%.*s/%s", (int)len, s, prog) == 0) {
            p->progs[n] = strdup(buf);
            if (!p->progs[n++])
                goto oom;
        }
        s += len;
        if (*s == ':')
            s++;
    }
    if (n == 0) {
        snprintf(err, errlen, "the service has no absolute path to find "
                 "'%.100s' in", prog);
        return -1;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    return -1;
}

static char *spawn_var(const char *name, const char *value)
{
    char *v;

    if (asprintf(&v, "%s=%s", name, value) < 0)
        return NULL;
    return v;
}

static int spawn_env(struct spawn_plan *p, const char *path)
{
    p->envp[0] = spawn_var("PATH", path ? path : "");
    p->envp[1] = p->envp[0] ? spawn_var("HOME", p->dir) : NULL;
    p->envp[2] = p->envp[1] ? spawn_var("TMPDIR", p->dir) : NULL;
    p->envp[3] = p->envp[2] ? spawn_var("LANG", "C.UTF-8") : NULL;
    return p->envp[3] ? 0 : -1;
}

int spawn_plan_build(struct spawn_plan *p, const char *spool, const char *id,
                     const char *argv_json, const char *path,
                     const struct spawn_limits *lim, char *err,
                     size_t errlen)
{
    char rel[4096], cwd[2048];

    memset(p, 0, sizeof(*p));
    p->sb.ruleset_fd = -1;
    if (lim)
        p->lim = *lim;
    if (spool_task_dir(spool, id, rel, sizeof(rel)) < 0)
        goto toolong;
    /* HOME and TMPDIR must still be right after the child's chdir. */
    if (rel[0] == '/') {
        memcpy(p->dir, rel, strlen(rel) + 1);
    } else if (!getcwd(cwd, sizeof(cwd)) ||
               rr_fmt(p->dir, sizeof(p->dir), "%s/%s", cwd, rel) < 0) {
        goto toolong;
    }
    if (rr_fmt(p->log, sizeof(p->log), "%s/%s", p->dir, SPOOL_LOG_NAME) < 0)
        goto toolong;
    if (spawn_parse_argv(p, argv_json, err, errlen) < 0 ||
        spawn_find_progs(p, path, err, errlen) < 0)
        return -1;
    if (spawn_env(p, path) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
toolong:
    snprintf(err, errlen, "task directory path too long");
    return -1;
}

/* ---- the child: async-signal-safe calls only ---------------------------- */

__attribute__((noreturn))
static void spawn_fail_what(int efd, int stage, int err, const char *what)
{
    struct spawn_report rep = { stage, err, what };

    if (write(efd, &rep, sizeof(rep)) < 0) {
        /* nothing left to tell anyone */
    }
    _exit(127);
}

__attribute__((noreturn))
static void spawn_fail(int efd, int stage, int err)
{
    spawn_fail_what(efd, stage, err, NULL);
}

/* Raises the child's niceness to n; lowering it would need privilege, so a
 * rrcloudd that runs nicer already passes on its own.  Best effort: a
 * host policy that refuses setpriority costs the relay some CPU, not the
 * task.  Before the sandbox, whose seccomp filter need not allow it. */
static void spawn_nice(int n)
{
    int cur;

    errno = 0;
    cur = getpriority(PRIO_PROCESS, 0);
    if (errno == 0 && cur < n)
        (void)setpriority(PRIO_PROCESS, 0, n);
}

static void spawn_limit(int efd, int res, unsigned long long soft,
                        unsigned long long hard)
{
    struct rlimit rl;

    if (getrlimit(res, &rl) < 0)
        spawn_fail(efd, SP_RLIMIT, errno);
    /* Lowering is always allowed; never try to raise a hard limit. */
    if (rl.rlim_max != RLIM_INFINITY && hard > rl.rlim_max)
        hard = rl.rlim_max;
    if (soft > hard)
        soft = hard;
    rl.rlim_cur = soft;
    rl.rlim_max = hard;
    if (setrlimit(res, &rl) < 0)
        spawn_fail(efd, SP_RLIMIT, errno);
}

static void spawn_close_from(int efd, int lo)
{
    struct rlimit rl;

    if (close_range((unsigned)lo, ~0U, 0) == 0)
        return;
    if (errno != ENOSYS && errno != EINVAL)
        spawn_fail(efd, SP_CLOSE, errno);
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur > 1 << 20)
        rl.rlim_cur = 1 << 20;
    for (int fd = lo; fd < (int)rl.rlim_cur; fd++)
        close(fd);
}

/* Keeps only 0-2 and efd (which stays close-on-exec). */
static void spawn_close_fds(int efd)
{
    if (efd > 3 && close_range(3, (unsigned)efd - 1, 0) < 0) {
        for (int fd = 3; fd < efd; fd++)
            close(fd);
    }
    spawn_close_from(efd, efd + 1);
}

static void spawn_signals(void)
{
    struct sigaction sa;
    sigset_t none;

    /* SIG_IGN survives exec (the daemon ignores SIGPIPE), so reset all;
     * SIGKILL, SIGSTOP and libc's own signals just refuse. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_DFL;
    for (int sig = 1; sig < NSIG; sig++)
        sigaction(sig, &sa, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

__attribute__((noreturn))
static void spawn_child(const struct spawn_plan *p, int efd)
{
    int nfd, lfd, err = ENOENT, eacces = 0;
    const char *what = NULL;

    /* Keep the report pipe clear of the 0-2 we are about to replace. */
    if (efd < 3 && (efd = fcntl(efd, F_DUPFD_CLOEXEC, 3)) < 0)
        _exit(127);
    if (setpgid(0, 0) < 0)
        spawn_fail(efd, SP_SETPGID, errno);
    spawn_signals();
    if (chdir(p->dir) < 0)
        spawn_fail(efd, SP_CHDIR, errno);
    if ((nfd = open("/dev/null", O_RDONLY)) < 0)
        spawn_fail(efd, SP_STDIN, errno);
    lfd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW,
               0640);
    if (lfd < 0)
        spawn_fail(efd, SP_LOG, errno);
    if (dup2(nfd, 0) < 0 || dup2(lfd, 1) < 0 || dup2(lfd, 2) < 0)
        spawn_fail(efd, SP_DUP, errno);
    spawn_nice(p->lim.nice);
    /* The log is open (as rrcloudd's user): from here on, the sandbox. */
    if ((err = sandbox_enter(&p->sb, &what)) != 0)
        spawn_fail_what(efd, SP_SANDBOX, err, what);
    err = ENOENT;
    spawn_close_fds(efd);
    umask(027);
    spawn_limit(efd, RLIMIT_CORE, 0, 0);
    if (p->lim.max_output)
        spawn_limit(efd, RLIMIT_FSIZE, p->lim.max_output, p->lim.max_output);
    if (p->lim.max_memory)
        spawn_limit(efd, RLIMIT_AS, p->lim.max_memory, p->lim.max_memory);
    /* The soft limit sends SIGXCPU, which says why; the hard one kills. */
    if (p->lim.max_procs)
        spawn_limit(efd, RLIMIT_NPROC, p->lim.max_procs, p->lim.max_procs);
    if (p->lim.max_cpu)
        spawn_limit(efd, RLIMIT_CPU, p->lim.max_cpu, p->lim.max_cpu + 1);
    for (char **prog = p->progs; *prog; prog++) {
        execve(*prog, p->argv, p->envp);
        err = errno;
        if (err == EACCES)
            eacces = 1;
        else if (err != ENOENT && err != ENOTDIR)
            break;
    }
    spawn_fail(efd, SP_EXEC, eacces && (err == ENOENT || err == ENOTDIR)
                                 ? EACCES : err);
}

/* ---- the parent --------------------------------------------------------- */

/* vfork, not fork: the child borrows the daemon's memory until its exec, so
 * no page tables are copied and no page of ours turns copy-on-write.  With
 * fork, every page the daemon wrote after a spawn faulted: that was most of
 * its CPU per task.  The child writes nothing of ours (its own locals, and
 * errno), calls only syscalls, and never returns from here. */
static pid_t spawn_vfork(const struct spawn_plan *p, int efd)
{
    pid_t pid = vfork();

    if (pid == 0)
        spawn_child(p, efd);
    return pid;
}

pid_t spawn_run(const struct spawn_plan *p, char *err, size_t errlen)
{
    struct spawn_report rep;
    sigset_t all, old;
    int pfd[2], e;
    ssize_t n;
    pid_t pid;

    err[0] = '\0';
    if (pipe2(pfd, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "cannot start: pipe: %s", strerror(errno));
        return -1;
    }
    /* No handler of ours may run in the child before it resets them. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid = spawn_vfork(p, pfd[1]);
    e = errno;
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    close(pfd[1]);
    if (pid < 0) {
        snprintf(err, errlen, "cannot start: vfork: %s", strerror(e));
        close(pfd[0]);
        return -1;
    }
    /* vfork returned: the child has exec'd (its own setpgid done) or
     * failed.  The pipe gives 0 bytes at exec (close-on-exec), or the
     * child's report. */
    do {
        n = read(pfd[0], &rep, sizeof(rep));
    } while (n < 0 && errno == EINTR);
    close(pfd[0]);
    if (n == (ssize_t)sizeof(rep)) {
        if (rep.stage == SP_EXEC)
            snprintf(err, errlen, "exec failed: %s", strerror(rep.err));
        else if (rep.stage == SP_SANDBOX)
            snprintf(err, errlen, "cannot start: sandbox: %s: %s",
                     rep.what ? rep.what : "?", strerror(rep.err));
        else if (rep.stage >= 0 && rep.stage < SP_EXEC)
            snprintf(err, errlen, "cannot start: %s: %s",
                     spawn_stage_names[rep.stage], strerror(rep.err));
        else
            snprintf(err, errlen, "cannot start");
    }
    return pid;
}
