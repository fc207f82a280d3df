/*
 * spool.h - the files half of the shared state.
 *
 *   SPOOL/tmp/       uploads being received: up-PID-XXXXXX files and
 *                    task-PID-XXXXXX directories, PID their maker's
 *   SPOOL/tasks/ID/  one task: its inputs, output and log, nothing else
 *
 * A task directory appears (by rename from tmp/) before its row is
 * inserted, so a row never names missing files; a directory without a row
 * is debris of a crash and is swept.
 */
#ifndef RR_SPOOL_H
#define RR_SPOOL_H

#include <stddef.h>

/* Creates SPOOL, SPOOL/tmp and SPOOL/tasks.  0 or -1 with errno. */
int spool_init(const char *spool);
/* Opens a new empty file in SPOOL/tmp (O_CLOEXEC, 0640); its path goes to
 * path.  Returns the fd or -1. */
int spool_tmp_open(const char *spool, char *path, size_t pathlen);
/* Makes a new empty directory in SPOOL/tmp for a task being assembled. */
int spool_tmp_dir(const char *spool, char *path, size_t pathlen);
/* SPOOL/tasks/ID into buf.  0 or -1 if it does not fit. */
int spool_task_dir(const char *spool, const char *id, char *buf, size_t len);
/* SPOOL/tasks/ID/NAME into buf. */
int spool_task_file(const char *spool, const char *id, const char *name,
                    char *buf, size_t len);
/* Moves an assembled tmp directory into place as task ID.  0 or -1. */
int spool_task_commit(const char *spool, const char *tmpdir, const char *id);
/* Removes a task's directory.  0 or -1. */
int spool_task_remove(const char *spool, const char *id);
/* Removes the entries of SPOOL/tmp whose maker has exited (a killed
 * rrcloud-fcgi's parts) and any older than max_age seconds (a name
 * without a pid, or a pid used again).  Every process sharing a spool must
 * see the others' pids: one host, one pid namespace.  Returns the number
 * removed. */
int spool_sweep_tmp(const char *spool, long long max_age);
/* What rrcloud-fcgi and rrcloudd pass as max_age. */
#define SPOOL_TMP_MAX_AGE 3600

/* Bytes an unprivileged writer may still use on the filesystem holding
 * path (statvfs f_bavail).  0 or -1 with errno. */
int spool_free_space(const char *path, unsigned long long *out);

/* Name of the log file inside a task directory. */
#define SPOOL_LOG_NAME "log"

#endif
