/*
 * sandbox.h - confining a task's command (rrcloudd's side of issue 9).
 *
 * Every command rrcloudd starts is confined three ways, as far as the
 * kernel and rrcloudd's own privileges allow:
 *
 *  - Landlock (Linux 5.13+; no library, no setuid helper, works without
 *    privileges): the command reads and executes only the read-only system
 *    paths (/usr, /bin, /lib*, a few files of /etc, /dev/null and
 *    /dev/urandom, its own /proc/PID, /sys/devices/system/cpu) plus what
 *    its service's sandboxRead names; it reads and writes only its task
 *    directory, what sandboxWrite names, and the devices of sandboxDevice
 *    its argv names.  From ABI 4 it may neither connect nor bind a TCP
 *    port (unless sandboxNetwork = yes); from ABI 6 it may send no signal
 *    and reach no abstract unix socket outside its own domain.
 *  - seccomp: socket(2) fails with EACCES (unless sandboxNetwork = yes),
 *    so no unix socket path (rrcloud-fcgi's, the wake socket) is reachable
 *    either, and io_uring (which could open sockets past that filter) is
 *    not there.
 *  - Another uid: when rrcloudd runs as root, the command runs as
 *    sandbox_user (default nobody), who owns neither the database nor the
 *    spool.  The task directory is handed over to that user before the
 *    command starts and taken back after it ends, without ever following
 *    a symbolic link; links, fifos, sockets and devices the command left
 *    are removed then.
 *
 * rrcloud.conf's sandbox key says how much of it must be there:
 * "required" (the default): rrcloudd does not start unless files are
 * confined (Landlock), sockets refused (seccomp) and signals to rrcloudd
 * impossible (Landlock ABI 6, or the other uid); "auto": what the kernel
 * offers, the rest named in a warning at start; "off": nothing.
 *
 * The child part (sandbox_enter) runs between vfork and exec: syscalls
 * only, no allocation; everything else is prepared in the parent.
 */
#ifndef RR_SANDBOX_H
#define RR_SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

enum sandbox_mode { SANDBOX_OFF = 0, SANDBOX_AUTO, SANDBOX_REQUIRED };

/* RLIMIT_NPROC counts every process of a uid: with the sandbox's own uid
 * it caps all running tasks together, so it is set only then, to this
 * unless the service's maxProcs says otherwise. */
#define SANDBOX_DEFAULT_NPROC 512

#define SANDBOX_GROUPS_MAX 8

/* What rrcloudd enforces, decided once at start. */
struct sandbox {
    enum sandbox_mode mode;
    int abi;               /* Landlock ABI in use, 0 = none */
    int seccomp;           /* the socket filter is installed */
    int switch_uid;        /* children run as uid:gid */
    uid_t uid, self_uid;   /* the sandbox user; rrcloudd's own */
    gid_t gid, self_gid;
    char user[64];
};

/* Parses "required", "auto" or "off"; -1 for anything else. */
int sandbox_parse_mode(const char *s, enum sandbox_mode *out);

/* Probes the kernel and rrcloudd's privileges and fills sb for mode and
 * user; spool (its tasks/ directory) must be reachable by that user.
 * Returns 0, or -1 with err saying what is missing when mode is
 * required (or the sandbox user is unusable). */
int sandbox_init(struct sandbox *sb, const char *mode, const char *user,
                 const char *spool, char *err, size_t errlen);

/* One line for the log: what every task command gets, and what not. */
void sandbox_describe(const struct sandbox *sb, char *buf, size_t len);

/* A service's widening of the sandbox (its conf keys). */
struct sandbox_svc {
    char *const *read;     /* sandboxRead: absolute paths, NULL-ended */
    char *const *write;    /* sandboxWrite */
    char *const *device;   /* sandboxDevice: fnmatch patterns */
    int network;           /* sandboxNetwork */
};

/* One task's confinement, built in the parent. */
struct sandbox_plan {
    int landlock;          /* ruleset_fd is to be applied */
    int ruleset_fd;        /* -1 if none; the child adds its /proc/PID */
    int abi;
    int seccomp;           /* install the seccomp filter */
    int network;           /* ... one that lets socket(2) through */
    int set_ids;           /* switch to uid:gid with groups */
    uid_t uid;
    gid_t gid;
    gid_t groups[SANDBOX_GROUPS_MAX];
    int ngroups;
};

/* Builds the plan for a command with argv running in dir (absolute).
 * Devices: each argv word that is an absolute path matching one of
 * svc->device and names a character device is granted read and write,
 * and its group joins the command's groups.  Returns 0, or -1 with err;
 * p is always safe to pass to sandbox_plan_free(). */
int sandbox_plan_build(const struct sandbox *sb, const struct sandbox_svc *svc,
                       const char *dir, char *const *argv,
                       struct sandbox_plan *p, char *err, size_t errlen);
void sandbox_plan_free(struct sandbox_plan *p);

/* The child, between vfork and exec: groups and ids, no_new_privs,
 * Landlock, seccomp.  Returns 0, or an errno value with *what naming the
 * step ("setuid", "landlock", ...). */
int sandbox_enter(const struct sandbox_plan *p, const char **what);

/* Gives the task directory dir and the files and directories below it
 * that are rrcloudd's user's (a re-run finds the first run's) to the
 * sandbox user, their group left as it was, never following a link
 * (nothing when sb does not switch uid).  Returns 0 or -1 with err. */
int sandbox_hand_over(const struct sandbox *sb, const char *dir,
                      char *err, size_t errlen);

/* Takes dir back after the command ended: every entry below it that the
 * sandbox user owns is chowned to rrcloudd (fchownat, never following a
 * link); symbolic links, fifos, sockets and devices are removed.  Also
 * run without a uid switch, for the removal.  Returns 0 or -1 with err. */
int sandbox_take_back(const struct sandbox *sb, const char *dir,
                      char *err, size_t errlen);

#endif
