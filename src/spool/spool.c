/* spool.c - see spool.h. */
#include "spool/spool.h"

#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

int spool_init(const char *spool)
{
    char p[4096];

    if (rr_mkdirs(spool, 0750) < 0)
        return -1;
    if (rr_fmt(p, sizeof(p), "%s/tmp", spool) < 0 || rr_mkdirs(p, 0750) < 0)
        return -1;
    if (rr_fmt(p, sizeof(p), "%s/tasks", spool) < 0 || rr_mkdirs(p, 0750) < 0)
        return -1;
    return 0;
}

int spool_tmp_open(const char *spool, char *path, size_t pathlen)
{
    int fd;

    if (rr_fmt(path, pathlen, "%s/tmp/up-%ld-XXXXXX", spool,
               (long)getpid()) < 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0)
        fchmod(fd, 0640);
    return fd;
}

int spool_tmp_dir(const char *spool, char *path, size_t pathlen)
{
    if (rr_fmt(path, pathlen, "%s/tmp/task-%ld-XXXXXX", spool,
               (long)getpid()) < 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (!mkdtemp(path))
        return -1;
    /* The web server reads results out of this directory. */
    return chmod(path, 0750);
}

int spool_task_dir(const char *spool, const char *id, char *buf, size_t len)
{
    return rr_fmt(buf, len, "%s/tasks/%s", spool, id);
}

int spool_task_file(const char *spool, const char *id, const char *name,
                    char *buf, size_t len)
{
    return rr_fmt(buf, len, "%s/tasks/%s/%s", spool, id, name);
}

int spool_task_commit(const char *spool, const char *tmpdir, const char *id)
{
    char dst[4096];

    if (spool_task_dir(spool, id, dst, sizeof(dst)) < 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return rename(tmpdir, dst);
}

int spool_task_remove(const char *spool, const char *id)
{
    char dir[4096];

    if (spool_task_dir(spool, id, dir, sizeof(dir)) < 0)
        return -1;
    return rr_rmtree(dir);
}

/* The process that made a tmp entry ("up-PID-XXXXXX", "task-PID-XXXXXX"),
 * or 0 for a name without one (made before names carried it). */
static long tmp_maker(const char *name)
{
    const char *p = strchr(name, '-');
    char *end;
    long pid;

    if (!p || !(p[1] >= '1' && p[1] <= '9'))
        return 0;
    errno = 0;
    pid = strtol(p + 1, &end, 10);
    return errno == 0 && *end == '-' ? pid : 0;
}

/* Its maker is gone: nobody writes it any more.  EPERM means a process
 * of another user has that pid: alive. */
static int tmp_orphan(const char *name)
{
    long pid = tmp_maker(name);

    return pid > 0 && kill((pid_t)pid, 0) < 0 && errno == ESRCH;
}

int spool_sweep_tmp(const char *spool, long long max_age)
{
    char dir[4096], p[4096];
    struct dirent *e;
    struct stat st;
    time_t now = time(NULL);
    int n = 0;
    DIR *d;

    if (rr_fmt(dir, sizeof(dir), "%s/tmp", spool) < 0 || !(d = opendir(dir)))
        return 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (rr_fmt(p, sizeof(p), "%s/%s", dir, e->d_name) < 0 ||
            lstat(p, &st) < 0 ||
            (now - st.st_mtime < max_age && !tmp_orphan(e->d_name)))
            continue;
        if (rr_rmtree(p) == 0)
            n++;
    }
    closedir(d);
    return n;
}

int spool_free_space(const char *path, unsigned long long *out)
{
    struct statvfs sv;

    if (statvfs(path, &sv) < 0)
        return -1;
    *out = (unsigned long long)sv.f_bavail * (unsigned long long)sv.f_frsize;
    return 0;
}
