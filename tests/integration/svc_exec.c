/*
 * svc_exec.c - runs one task of a shipped service the way rrcloudd would,
 * so services_real.sh can prove each shipped service conf works with the real
 * program: uploads checked (filetype + service rules), copied to the task
 * directory as inN.ext, argv built by service_build_argv(), exec'd there
 * with PATH = the service's path, the conf's rlimits and timeout applied.
 *
 *   svc_exec -d SERVICES_DIR -s NAME -t TASKDIR [-a OPTION]...
 *            [-P PREARG] -i FILE [[-P PREARG] -i FILE]...
 *
 * Prints "cmd: ..." and "ok SECONDS OUTPUT" and exits 0 when the command
 * exited 0 and wrote its output; 1 otherwise; 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "services/filetype.h"
#include "services/service.h"

#define MAXIN SERVICE_INPUT_MAX

struct job {
    const struct service *s;
    const char *taskdir;
    const char *opts[SERVICE_OPTION_MAX];
    size_t nopts;
    const char *src[MAXIN], *prearg[MAXIN];
    char names[MAXIN][32];
    const char *names_p[MAXIN];
    size_t nin;
};

static int copy_file(const char *from, const char *to)
{
    char buf[65536];
    int in = open(from, O_RDONLY), out = -1, rc = -1;
    ssize_t n;

    if (in < 0 || (out = open(to, O_WRONLY | O_CREAT | O_EXCL, 0644)) < 0)
        goto done;
    while ((n = read(in, buf, sizeof(buf))) > 0)
        if (write(out, buf, (size_t)n) != n)
            goto done;
    rc = n == 0 ? 0 : -1;
done:
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) != 0)
        rc = -1;
    return rc;
}

/* Checks input i like the HTTP layer would and copies it as inI.ext. */
static int stage_input(struct job *j, struct filetype *ft, size_t i)
{
    unsigned char head[FILETYPE_HEAD_LEN];
    char ext[SERVICE_EXT_MAX + 1], err[512], field[32], dst[512];
    const char *base = strrchr(j->src[i], '/');
    struct stat st;
    ssize_t n;
    int fd;

    snprintf(field, sizeof(field), "fileIn%zu", i);
    base = base != NULL ? base + 1 : j->src[i];
    if (service_check_filename(field, base, err, sizeof(err)) != 0 ||
        service_input_ext(base, ext, sizeof(ext)) != 0 ||
        (j->prearg[i] != NULL &&
         service_check_prearg(j->s, (int)i, j->prearg[i], err, sizeof(err)) != 0) ||
        service_check_input(j->s, (int)i, ext, j->prearg[i] != NULL, err, sizeof(err)) != 0)
        goto bad;
    if ((fd = open(j->src[i], O_RDONLY)) < 0 || fstat(fd, &st) != 0)
        return perror(j->src[i]), -1;
    n = read(fd, head, sizeof(head));
    close(fd);
    if (n < 0 || filetype_check(ft, j->src[i], head, (size_t)n, (unsigned long long)st.st_size,
                                ext, NULL, 0, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s: %s\n", field, n < 0 ? strerror(errno) : err);
        return -1;
    }
    snprintf(j->names[i], sizeof(j->names[i]), "in%zu.%s", i, ext);
    j->names_p[i] = j->names[i];
    snprintf(dst, sizeof(dst), "%s/%s", j->taskdir, j->names[i]);
    if (copy_file(j->src[i], dst) != 0)
        return perror(dst), -1;
    return 0;
bad:
    fprintf(stderr, "%s\n", err);
    return -1;
}

static void set_limit(int res, unsigned long long v)
{
    struct rlimit rl = { .rlim_cur = v, .rlim_max = v };

    if (v > 0 && setrlimit(res, &rl) != 0)
        _exit(126);
}

/* Child: into the task dir, log to "log", limits, a fresh environment
 * with PATH = the service's path, exec (execvp searches that PATH).
 * LANG=C.UTF-8, not LC_ALL=C: printcore dies at import under LC_ALL=C
 * (gettext gets no language from locale.getdefaultlocale()). */
static void child(const struct service *s, const char *taskdir, char **argv)
{
    int log;

    if (chdir(taskdir) != 0 || (log = open("log", O_WRONLY | O_CREAT | O_TRUNC, 0644)) < 0)
        _exit(126);
    if (dup2(log, 1) < 0 || dup2(log, 2) < 0)
        _exit(126);
    close(log);
    set_limit(RLIMIT_FSIZE, s->max_output);
    set_limit(RLIMIT_AS, s->max_memory);
    set_limit(RLIMIT_CPU, (unsigned long long)s->max_cpu);
    if (clearenv() != 0 || setenv("PATH", s->path, 1) != 0 ||
        setenv("HOME", taskdir, 1) != 0 || setenv("LANG", "C.UTF-8", 1) != 0)
        _exit(126);
    execvp(argv[0], argv);
    _exit(127);
}

static int run(const struct job *j, const char *id)
{
    struct service_task_spec spec = { id, j->nin, j->names_p, j->prearg, j->nopts,
                                      j->opts, NULL };
    char out[256], err[512], **argv = NULL, *cmd, outpath[512];
    struct timespec t0, t1;
    struct stat st;
    int status;
    pid_t pid;

    if (service_output_name(j->s, id, out, sizeof(out)) != 0)
        return fprintf(stderr, "output name\n"), 1;
    spec.output = out;
    if (service_build_argv(j->s, &spec, &argv, err, sizeof(err)) != 0)
        return fprintf(stderr, "%s\n", err), 1;
    cmd = service_argv_join(argv);
    printf("cmd: %s\n", cmd != NULL ? cmd : "?");
    free(cmd);
    fflush(stdout);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((pid = fork()) == 0)
        child(j->s, j->taskdir, argv);
    service_argv_free(argv);
    if (pid < 0)
        return perror("fork"), 1;
    for (;;) {               /* poll, so the conf's timeout can kill it */
        pid_t w = waitpid(pid, &status, WNOHANG);

        if (w < 0 && errno != EINTR)
            return perror("waitpid"), 1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (w == pid)
            break;
        if (j->s->timeout > 0 && t1.tv_sec - t0.tv_sec > j->s->timeout) {
            kill(pid, SIGKILL);
            fprintf(stderr, "timeout after %llds\n", (long long)j->s->timeout);
        }
        usleep(20000);
    }
    snprintf(outpath, sizeof(outpath), "%s/%s", j->taskdir, out);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "command failed (status 0x%x), see %s/log\n", status, j->taskdir);
        return 1;
    }
    if (!j->s->no_output && (stat(outpath, &st) != 0 || st.st_size == 0)) {
        fprintf(stderr, "no output %s\n", outpath);
        return 1;
    }
    printf("ok %.3f %s\n", (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9,
           j->s->no_output ? "-" : outpath);
    return 0;
}

int main(int argc, char **argv)
{
    struct service_registry *reg = NULL;
    struct filetype *ft = NULL;
    struct job j = { 0 };
    const char *dir = NULL, *name = NULL, *pending = NULL;
    char err[512];
    int opt, rc = 1;

    while ((opt = getopt(argc, argv, "d:s:t:a:P:i:")) != -1) {
        switch (opt) {
        case 'd': dir = optarg; break;
        case 's': name = optarg; break;
        case 't': j.taskdir = optarg; break;
        case 'a':
            if (j.nopts < SERVICE_OPTION_MAX)
                j.opts[j.nopts++] = optarg;
            break;
        case 'P': pending = optarg; break;
        case 'i':
            if (j.nin < MAXIN) {
                j.prearg[j.nin] = pending;
                j.src[j.nin++] = optarg;
            }
            pending = NULL;
            break;
        default: goto usage;
        }
    }
    if (dir == NULL || name == NULL || j.taskdir == NULL)
        goto usage;
    if ((reg = service_registry_load(dir, err, sizeof(err))) == NULL ||
        (ft = filetype_new(err, sizeof(err))) == NULL) {
        fprintf(stderr, "%s\n", err);
        goto done;
    }
    if ((j.s = service_find(reg, name)) == NULL) {
        fprintf(stderr, "no service %s\n", name);
        goto done;
    }
    for (size_t i = 0; i < j.nopts; i++) {
        char field[32];
        snprintf(field, sizeof(field), "arg%zu", i);
        if (service_check_option(j.s, field, j.opts[i], err, sizeof(err)) != 0) {
            fprintf(stderr, "%s\n", err);
            goto done;
        }
    }
    for (size_t i = 0; i < j.nin; i++)
        if (stage_input(&j, ft, i) != 0)
            goto done;
    rc = run(&j, "task-1");
done:
    filetype_free(ft);
    service_registry_free(reg);
    return rc;
usage:
    fprintf(stderr, "usage: svc_exec -d SERVICES_DIR -s NAME -t TASKDIR [-a OPTION]... "
            "[-P PREARG] -i FILE...\n");
    return 2;
}
