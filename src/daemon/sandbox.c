/* sandbox.c - see sandbox.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* O_PATH, AT_EMPTY_PATH, setresuid numbers */
#endif
#include "daemon/sandbox.h"

#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <grp.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <pwd.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Debian 12's headers know Landlock up to ABI 2; the kernel may know
 * more.  The values are the kernel's ABI and never change. */
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif
#define SB_FS_TRUNCATE (1ULL << 14)       /* ABI 3 */
#define SB_FS_IOCTL_DEV (1ULL << 15)      /* ABI 5 */
#define SB_NET_BIND_TCP (1ULL << 0)       /* ABI 4 */
#define SB_NET_CONNECT_TCP (1ULL << 1)
#define SB_SCOPE_ABSTRACT_UNIX (1ULL << 0) /* ABI 6 */
#define SB_SCOPE_SIGNAL (1ULL << 1)

struct sb_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;  /* ABI 4 */
    uint64_t scoped;              /* ABI 6 */
};

#define SB_FS_READ (LANDLOCK_ACCESS_FS_EXECUTE | \
    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR)
/* Files and directories in the task directory, and nothing else: no
 * executing what is there (client uploads), no devices, and no symbolic
 * links, fifos or sockets, which the web server, sending the log or the
 * result while the task runs, would follow or block on. */
#define SB_FS_WRITE (LANDLOCK_ACCESS_FS_READ_FILE | \
    LANDLOCK_ACCESS_FS_READ_DIR | LANDLOCK_ACCESS_FS_WRITE_FILE | \
    LANDLOCK_ACCESS_FS_REMOVE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE | \
    LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_MAKE_REG | \
    LANDLOCK_ACCESS_FS_REFER | SB_FS_TRUNCATE)
#define SB_FS_DEVICE (LANDLOCK_ACCESS_FS_READ_FILE | \
    LANDLOCK_ACCESS_FS_WRITE_FILE | SB_FS_TRUNCATE | SB_FS_IOCTL_DEV)
/* The rights a rule on a file (not a directory) may carry. */
#define SB_FS_FILE (LANDLOCK_ACCESS_FS_EXECUTE | \
    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
    SB_FS_TRUNCATE | SB_FS_IOCTL_DEV)

/* Read-only system paths every program may need: its binary and
 * libraries, the loader's cache, time zone, fonts (OpenSCAD), the
 * interpreters' own configuration (slic3r is Perl, printcore Python).
 * Not /etc as a whole: /etc/passwd, /etc/shadow and friends stay out. */
static const char *const sb_system_paths[] = {
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
    "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
    "/etc/localtime", "/etc/timezone", "/etc/locale.alias", "/etc/fonts",
    "/etc/alternatives", "/etc/perl", "/etc/python3", "/etc/python3.11",
    "/etc/mime.types", "/etc/gtk-3.0", "/etc/OpenCL",
    "/sys/devices/system/cpu", "/dev/urandom", "/dev/random", NULL,
};
static const char *const sb_rw_devices[] = { "/dev/null", "/dev/zero", NULL };
/* With sandboxNetwork: what name lookups and TLS read. */
static const char *const sb_net_paths[] = {
    "/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/host.conf",
    "/etc/gai.conf", "/etc/ssl", "/etc/ca-certificates", NULL,
};

/* ---- seccomp: no socket(2), no io_uring, no new session or group -------- */
/* rrcloudd ends a task by signalling its process group: a process that
 * left it (setsid, setpgid) would outlive the task. */

#if defined(__x86_64__)
#define SB_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SB_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

#ifdef SB_AUDIT_ARCH
#define SB_LOAD(field) \
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define SB_DENY(nr, e) \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (e))
#ifdef __x86_64__
/* x32 system calls share the arch value and set bit 30. */
#define SB_NO_X32 \
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1), \
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
#else
#define SB_NO_X32
#endif
/* Another architecture's calls (i386's socketcall) get ENOSYS. */
#define SB_PROLOGUE \
    SB_LOAD(arch), \
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SB_AUDIT_ARCH, 1, 0), \
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS), \
    SB_LOAD(nr), SB_NO_X32 \
    SB_DENY(__NR_io_uring_setup, ENOSYS), \
    SB_DENY(__NR_setsid, EPERM), \
    SB_DENY(__NR_setpgid, EPERM)

static struct sock_filter sb_filter_nonet[] = {
    SB_PROLOGUE,
    SB_DENY(__NR_socket, EACCES),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};
static struct sock_filter sb_filter_net[] = {
    SB_PROLOGUE,
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
};
static const struct sock_fprog sb_prog_nonet = {
    sizeof(sb_filter_nonet) / sizeof(sb_filter_nonet[0]), sb_filter_nonet,
};
static const struct sock_fprog sb_prog_net = {
    sizeof(sb_filter_net) / sizeof(sb_filter_net[0]), sb_filter_net,
};
#endif

/* ---- small helpers ------------------------------------------------------ */

static int sb_landlock_abi(void)
{
    long v = syscall(__NR_landlock_create_ruleset, NULL, 0,
                     LANDLOCK_CREATE_RULESET_VERSION);

    return v < 0 ? 0 : (int)v;
}

/* Every filesystem right the kernel's ABI knows. */
static uint64_t sb_fs_all(int abi)
{
    uint64_t a = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;   /* ABI 1 */

    if (abi >= 2)
        a |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3)
        a |= SB_FS_TRUNCATE;
    if (abi >= 5)
        a |= SB_FS_IOCTL_DEV;
    return abi >= 1 ? a : 0;
}

/* Raw system calls: glibc's setuid() and friends signal every thread of
 * the process so they all change, which a vfork child must never do. */
static int sb_set_ids(const struct sandbox_plan *p, const char **what)
{
    if (syscall(SYS_setgroups, (size_t)p->ngroups, p->groups) < 0) {
        *what = "setgroups";
        return errno;
    }
    if (syscall(SYS_setresgid, p->gid, p->gid, p->gid) < 0) {
        *what = "setresgid";
        return errno;
    }
    if (syscall(SYS_setresuid, p->uid, p->uid, p->uid) < 0) {
        *what = "setresuid";
        return errno;
    }
    return 0;
}

static int sb_add_fd_rule(int rfd, int fd, uint64_t access)
{
    struct landlock_path_beneath_attr pb;

    memset(&pb, 0, sizeof(pb));
    pb.allowed_access = access;
    pb.parent_fd = fd;
    return (int)syscall(__NR_landlock_add_rule, rfd,
                        LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
}

/* ---- start --------------------------------------------------------------- */

int sandbox_parse_mode(const char *s, enum sandbox_mode *out)
{
    if (!strcmp(s, "required") || !*s)
        *out = SANDBOX_REQUIRED;
    else if (!strcmp(s, "auto"))
        *out = SANDBOX_AUTO;
    else if (!strcmp(s, "off"))
        *out = SANDBOX_OFF;
    else
        return -1;
    return 0;
}

static int sb_lookup_user(struct sandbox *sb, const char *user, char *err,
                          size_t errlen)
{
    struct passwd pw, *res = NULL;
    char buf[4096];
    int e = getpwnam_r(user, &pw, buf, sizeof(buf), &res);

    if (!res) {
        snprintf(err, errlen, "sandbox_user %s: %s", user,
                 e ? strerror(e) : "no such user");
        return -1;
    }
    if (pw.pw_uid == 0 || pw.pw_gid == 0) {
        snprintf(err, errlen, "sandbox_user %s: uid or gid 0 is no sandbox",
                 user);
        return -1;
    }
    sb->uid = pw.pw_uid;
    sb->gid = pw.pw_gid;
    return 0;
}

/* In a child: can the sandbox user reach the spool's tasks directory,
 * and can a seccomp filter be installed?  Exit status: bits of what
 * failed (SB_PROBE_*). */
#define SB_PROBE_REACH 1
#define SB_PROBE_SECCOMP 2
#define SB_PROBE_IDS 4

__attribute__((noreturn))
static void sb_probe_child(const struct sandbox *sb, const char *tasks)
{
    struct sandbox_plan p;
    const char *what;
    int rc = 0;

    memset(&p, 0, sizeof(p));
    p.uid = sb->uid;
    p.gid = sb->gid;
    if (sb->switch_uid) {
        if (sb_set_ids(&p, &what) != 0)
            _exit(SB_PROBE_IDS);
        if (open(tasks, O_PATH | O_DIRECTORY) < 0)
            rc |= SB_PROBE_REACH;
    }
#ifdef SB_AUDIT_ARCH
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &sb_prog_nonet) < 0 ||
        socket(AF_UNIX, SOCK_STREAM, 0) >= 0 || errno != EACCES)
        rc |= SB_PROBE_SECCOMP;
#else
    rc |= SB_PROBE_SECCOMP;
#endif
    _exit(rc);
}

/* The sandbox user must pass through the spool to its task directory
 * (programs use $HOME, which is that directory, by its absolute path):
 * search, not read, for others on rrcloudd's own two levels.  A task
 * directory itself stays closed to others. */
static int sb_open_spool(const char *spool, const char *tasks, char *err,
                         size_t errlen)
{
    const char *dirs[] = { spool, tasks };
    struct stat st;

    for (int i = 0; i < 2; i++) {
        if (stat(dirs[i], &st) < 0 ||
            (!(st.st_mode & S_IXOTH) &&
             chmod(dirs[i], (st.st_mode & 07777) | S_IXOTH) < 0)) {
            snprintf(err, errlen, "sandbox: %s: %s", dirs[i],
                     strerror(errno));
            return -1;
        }
    }
    return 0;
}

static int sb_probe(struct sandbox *sb, const char *spool, char *err,
                    size_t errlen)
{
    char tasks[4096];
    pid_t pid;
    int ws;

    if (rr_fmt(tasks, sizeof(tasks), "%s/tasks", spool) < 0) {
        snprintf(err, errlen, "spool path too long");
        return -1;
    }
    if (sb->switch_uid && sb_open_spool(spool, tasks, err, errlen) < 0)
        return -1;
    pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "sandbox probe: fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0)
        sb_probe_child(sb, tasks);
    while (waitpid(pid, &ws, 0) < 0) {
        if (errno != EINTR) {
            snprintf(err, errlen, "sandbox probe: waitpid: %s",
                     strerror(errno));
            return -1;
        }
    }
    ws = WIFEXITED(ws) ? WEXITSTATUS(ws) : 0xff;
    if (ws & SB_PROBE_IDS) {
        snprintf(err, errlen, "sandbox: cannot switch to sandbox_user %s "
                 "(setgroups, setresgid or setresuid failed)", sb->user);
        return -1;
    }
    if (ws & SB_PROBE_REACH) {
        snprintf(err, errlen, "sandbox_user %s cannot reach %s: every "
                 "directory above it must be searchable (x) by that user",
                 sb->user, tasks);
        return -1;
    }
    sb->seccomp = !(ws & SB_PROBE_SECCOMP);
    return 0;
}

int sandbox_init(struct sandbox *sb, const char *mode, const char *user,
                 const char *spool, char *err, size_t errlen)
{
    memset(sb, 0, sizeof(*sb));
    sb->self_uid = geteuid();
    sb->self_gid = getegid();
    if (sandbox_parse_mode(mode, &sb->mode) < 0) {
        snprintf(err, errlen, "sandbox: '%.32s' is not required, auto or off",
                 mode);
        return -1;
    }
    if (sb->mode == SANDBOX_OFF)
        return 0;
    rr_fmt(sb->user, sizeof(sb->user), "%s", user && *user ? user : "nobody");
    if (sb->self_uid == 0) {
        if (sb_lookup_user(sb, sb->user, err, errlen) < 0)
            return -1;
        sb->switch_uid = 1;
    }
    sb->abi = sb_landlock_abi();
    if (sb_probe(sb, spool, err, errlen) < 0)
        return -1;
    if (sb->mode != SANDBOX_REQUIRED)
        return 0;
    if (sb->abi < 1 || !sb->seccomp || (sb->abi < 6 && !sb->switch_uid)) {
        snprintf(err, errlen, "sandbox = required, but %s; set sandbox = auto "
                 "in rrcloud.conf to run task commands with less",
                 sb->abi < 1 ? "this kernel has no Landlock (files would "
                               "not be confined)"
                 : !sb->seccomp ? "no seccomp filter can be installed "
                                  "(sockets would not be refused)"
                 : "Landlock is older than ABI 6 and rrcloudd is not root "
                   "(tasks could signal rrcloudd)");
        return -1;
    }
    return 0;
}

void sandbox_describe(const struct sandbox *sb, char *buf, size_t len)
{
    const char *m = sb->mode == SANDBOX_REQUIRED ? "required"
                    : sb->mode == SANDBOX_AUTO ? "auto" : "off";
    char uid[128];

    if (sb->mode == SANDBOX_OFF) {
        rr_fmt(buf, len, "sandbox off: task commands run unconfined, as "
               "rrcloudd's own user");
        return;
    }
    if (sb->switch_uid)
        rr_fmt(uid, sizeof(uid), "as %s (uid %ld)", sb->user, (long)sb->uid);
    else
        rr_fmt(uid, sizeof(uid), "as rrcloudd's own user (not root: no "
               "other uid)");
    if (!sb->abi) {
        rr_fmt(buf, len, "sandbox %s: no Landlock: files NOT confined; %s; "
               "tasks run %s; rlimits per service", m,
               sb->seccomp ? "seccomp (no sockets)" : "no seccomp", uid);
        return;
    }
    rr_fmt(buf, len, "sandbox %s: Landlock ABI %d (files%s%s), %s, %s; "
           "rlimits per service", m, sb->abi,
           sb->abi >= 4 ? ", TCP" : ", no TCP rules",
           sb->abi >= 6 ? ", signals" : ", no signal scoping",
           sb->seccomp ? "seccomp (no sockets)" : "no seccomp", uid);
}

/* ---- one task ------------------------------------------------------------ */

void sandbox_plan_free(struct sandbox_plan *p)
{
    if (p->ruleset_fd >= 0)
        close(p->ruleset_fd);
    memset(p, 0, sizeof(*p));
    p->ruleset_fd = -1;
}

/* Adds a rule for path; a path that does not exist is skipped unless
 * must.  Rights meant for directories are dropped for a file.  With dev,
 * path is to be a character device: anything else is skipped, and its
 * stat goes to *dev. */
static int sb_allow(struct sandbox_plan *p, const char *path, uint64_t access,
                    int must, struct stat *dev, char *err, size_t errlen)
{
    struct stat st;
    int fd = open(path, O_PATH | O_CLOEXEC), rc = -1;

    if (fd < 0) {
        if (!must && (errno == ENOENT || errno == ENOTDIR))
            return 0;
        snprintf(err, errlen, "sandbox: %s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0) {
        snprintf(err, errlen, "sandbox: %s: %s", path, strerror(errno));
        goto out;
    }
    if (dev) {
        *dev = st;
        if (!S_ISCHR(st.st_mode)) {
            rc = 0;
            goto out;
        }
    }
    if (!S_ISDIR(st.st_mode))
        access &= SB_FS_FILE;
    access &= sb_fs_all(p->abi);
    if (access && sb_add_fd_rule(p->ruleset_fd, fd, access) < 0) {
        snprintf(err, errlen, "sandbox: rule for %s: %s", path,
                 strerror(errno));
        goto out;
    }
    rc = 0;
out:
    close(fd);
    return rc;
}

static int sb_allow_list(struct sandbox_plan *p, const char *const *v,
                         uint64_t access, int must, char *err, size_t errlen)
{
    for (; v && *v; v++)
        if (sb_allow(p, *v, access, must, NULL, err, errlen) < 0)
            return -1;
    return 0;
}

/* sandboxDevice: argv words naming a device the service allows. */
static int sb_allow_devices(struct sandbox_plan *p,
                            const struct sandbox_svc *svc, char *const *argv,
                            char *err, size_t errlen)
{
    for (size_t i = 1; svc->device && argv[i]; i++) {
        const char *w = argv[i];
        int match = 0;
        struct stat st;

        for (char *const *pat = svc->device; *pat && !match; pat++)
            match = w[0] == '/' && fnmatch(*pat, w, FNM_PATHNAME) == 0;
        if (!match)
            continue;
        memset(&st, 0, sizeof(st));
        if (sb_allow(p, w, SB_FS_DEVICE, 0, &st, err, errlen) < 0)
            return -1;
        /* Its group (dialout) lets the other uid open it; Landlock still
         * keeps every other device of that group out. */
        if (S_ISCHR(st.st_mode) && p->set_ids &&
            p->ngroups < SANDBOX_GROUPS_MAX && st.st_gid != 0)
            p->groups[p->ngroups++] = st.st_gid;
    }
    return 0;
}

static int sb_ruleset(struct sandbox_plan *p, int network, char *err,
                      size_t errlen)
{
    struct sb_ruleset_attr a;
    size_t size = p->abi >= 6 ? sizeof(a)
                  : p->abi >= 4 ? offsetof(struct sb_ruleset_attr, scoped)
                  : offsetof(struct sb_ruleset_attr, handled_access_net);

    memset(&a, 0, sizeof(a));
    a.handled_access_fs = sb_fs_all(p->abi);
    if (p->abi >= 4 && !network)
        a.handled_access_net = SB_NET_BIND_TCP | SB_NET_CONNECT_TCP;
    if (p->abi >= 6)
        a.scoped = SB_SCOPE_ABSTRACT_UNIX | SB_SCOPE_SIGNAL;
    p->ruleset_fd = (int)syscall(__NR_landlock_create_ruleset, &a, size, 0);
    if (p->ruleset_fd < 0) {
        snprintf(err, errlen, "sandbox: landlock_create_ruleset: %s",
                 strerror(errno));
        return -1;
    }
    return 0;
}

int sandbox_plan_build(const struct sandbox *sb, const struct sandbox_svc *svc,
                       const char *dir, char *const *argv,
                       struct sandbox_plan *p, char *err, size_t errlen)
{
    static const struct sandbox_svc none;

    memset(p, 0, sizeof(*p));
    p->ruleset_fd = -1;
    if (!sb || sb->mode == SANDBOX_OFF)
        return 0;
    if (!svc)
        svc = &none;
    p->abi = sb->abi;
    p->seccomp = sb->seccomp;
    p->network = svc->network;
    if (sb->switch_uid) {
        p->set_ids = 1;
        p->uid = sb->uid;
        p->gid = sb->gid;
        p->groups[p->ngroups++] = sb->gid;
    }
    if (p->abi >= 1) {
        p->landlock = 1;
        if (sb_ruleset(p, svc->network, err, errlen) < 0 ||
            sb_allow_list(p, sb_system_paths, SB_FS_READ, 0, err, errlen) < 0 ||
            sb_allow_list(p, sb_rw_devices, SB_FS_DEVICE, 0, err, errlen) < 0 ||
            (svc->network &&
             sb_allow_list(p, sb_net_paths, SB_FS_READ, 0, err, errlen) < 0) ||
            sb_allow(p, dir, SB_FS_WRITE, 1, NULL, err, errlen) < 0 ||
            sb_allow_list(p, (const char *const *)svc->read, SB_FS_READ, 0,
                          err, errlen) < 0 ||
            /* read and write, never execute: what is written there
             * could be run */
            sb_allow_list(p, (const char *const *)svc->write, SB_FS_WRITE,
                          0, err, errlen) < 0)
            return -1;
    }
    /* Without Landlock the devices still need their group. */
    return sb_allow_devices(p, svc, argv, err, errlen);
}

/* ---- the child ----------------------------------------------------------- */

int sandbox_enter(const struct sandbox_plan *p, const char **what)
{
    int e, fd;

    *what = "sandbox";
    if (p->set_ids && (e = sb_set_ids(p, what)) != 0)
        return e;
    if ((p->landlock || p->seccomp) &&
        prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
        *what = "no_new_privs";
        return errno;
    }
    if (p->landlock) {
        /* Its own /proc/PID (the loader and TBB read /proc/self/...),
         * known only now; no other process's. */
        fd = open("/proc/self", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0) {
            sb_add_fd_rule(p->ruleset_fd, fd, (LANDLOCK_ACCESS_FS_READ_FILE |
                                               LANDLOCK_ACCESS_FS_READ_DIR));
            close(fd);
        }
        if (syscall(__NR_landlock_restrict_self, p->ruleset_fd, 0) < 0) {
            *what = "landlock_restrict_self";
            return errno;
        }
    }
#ifdef SB_AUDIT_ARCH
    if (p->seccomp && prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER,
                            p->network ? &sb_prog_net : &sb_prog_nonet) < 0) {
        *what = "seccomp";
        return errno;
    }
#endif
    return 0;
}

/* ---- handing the directory over and back --------------------------------- */

#define SB_DEPTH_MAX 32

/* Walks the directory dfd (which it closes), never following a link.
 * back = 0 (hand over): files and directories of rrcloudd's user become
 * the sandbox user's, their group left (the web server's may read on).
 * back = 1 (take back): the sandbox user's become rrcloudd's, and what is
 * neither file nor directory is removed: a link could point the web
 * server or a later chown at /etc/shadow, a fifo block a reader.
 * A file with more than one name is never handed either way (one inode
 * shared with another task's input or a blob would be the sandbox
 * user's): taken back, it is removed.  Taken back, modes are reset to
 * what umask 027 gives (Landlock does not govern chmod: a task may have
 * made its directory 0777 or set setgid or sticky bits). */
/* The mode umask 027 gives, on fd (an O_PATH descriptor: fchmod refuses
 * those, its /proc/self/fd name does not).  Only rrcloudd's inodes. */
static int sb_reset_mode(int fd)
{
    struct stat st;
    mode_t want;
    char p[64];

    if (fstat(fd, &st) < 0)
        return -1;
    want = S_ISDIR(st.st_mode) ? 0750 : (st.st_mode & 0750) | 0640;
    if (st.st_uid != geteuid() || (st.st_mode & 07777) == want)
        return 0;
    snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
    return chmod(p, want);
}

static int sb_walk(const struct sandbox *sb, int dfd, int back, int depth)
{
    DIR *d = fdopendir(dfd);
    struct dirent *e;
    int rc = 0;

    if (!d) {
        close(dfd);
        return -1;
    }
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        struct stat st;
        int fd;

        if (n[0] == '.' && (!n[1] || (n[1] == '.' && !n[2])))
            continue;
        if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        if ((!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) ||
            (S_ISREG(st.st_mode) && st.st_nlink > 1)) {
            if (back && unlinkat(dirfd(d), n, 0) < 0)
                rc = -1;
            continue;
        }
        fd = openat(dirfd(d), n, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            continue;
        if (fstat(fd, &st) < 0 ||
            (S_ISREG(st.st_mode) && st.st_nlink > 1)) {
            close(fd);
            continue;
        }
        if (sb->switch_uid && st.st_uid == (back ? sb->uid : sb->self_uid) &&
            fchownat(fd, "", back ? sb->self_uid : sb->uid,
                     back ? sb->self_gid : (gid_t)-1, AT_EMPTY_PATH) < 0)
            rc = -1;
        if (back && sb_reset_mode(fd) < 0)
            rc = -1;
        close(fd);
        if (S_ISDIR(st.st_mode) && depth < SB_DEPTH_MAX) {
            fd = openat(dirfd(d), n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                        O_CLOEXEC);
            if (fd >= 0 && sb_walk(sb, fd, back, depth + 1) < 0)
                rc = -1;
        }
    }
    closedir(d);
    return rc;
}

int sandbox_hand_over(const struct sandbox *sb, const char *dir,
                      char *err, size_t errlen)
{
    int dfd;

    if (!sb || !sb->switch_uid)
        return 0;
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        goto fail;
    /* What a run before this one left (a re-run) is handed over too. */
    if (fchown(dfd, sb->uid, (gid_t)-1) < 0) {
        close(dfd);
        goto fail;
    }
    if (sb_walk(sb, dfd, 0, 0) < 0)
        goto fail;
    return 0;
fail:
    snprintf(err, errlen, "sandbox: cannot hand %s over to %s: %s", dir,
             sb->user, strerror(errno));
    return -1;
}

int sandbox_take_back(const struct sandbox *sb, const char *dir,
                      char *err, size_t errlen)
{
    int dfd;

    if (!sb || sb->mode == SANDBOX_OFF)
        return 0;
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dfd < 0)
        goto fail;
    if ((sb->switch_uid && fchown(dfd, sb->self_uid, sb->self_gid) < 0) ||
        fchmod(dfd, 0750) < 0) {
        close(dfd);
        goto fail;
    }
    if (sb_walk(sb, dfd, 1, 0) < 0)
        goto fail;
    return 0;
fail:
    snprintf(err, errlen, "sandbox: cannot take %s back: %s", dir,
             strerror(errno));
    return -1;
}
