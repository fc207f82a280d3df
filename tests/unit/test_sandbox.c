/*
 * test_sandbox.c - the sandbox's rules (daemon/sandbox.h): a child that
 * enters a plan reads and writes its directory and the system paths, and
 * nothing else; no socket; a device named in argv and allowed by the
 * service is open to it.  Handing a directory over and taking it back
 * never follows a link.  The Landlock cases pass trivially (with a note)
 * on a kernel without Landlock.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/util.h"
#include "daemon/sandbox.h"

Suite *sandbox_suite(void);

static char dir[64], task[128], other[128];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/rrtest-sandbox-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(chmod(dir, 0711), 0);
    snprintf(task, sizeof(task), "%s/tasks", dir);
    ck_assert_int_eq(mkdir(task, 0711), 0);
    snprintf(task, sizeof(task), "%s/tasks/t1", dir);
    ck_assert_int_eq(mkdir(task, 0750), 0);
    snprintf(other, sizeof(other), "%s/tasks/t2", dir);
    ck_assert_int_eq(mkdir(other, 0755), 0);
}

static void teardown(void)
{
    rr_rmtree(dir);
}

static void put(const char *d, const char *name, const char *text)
{
    char p[256];
    int fd;

    snprintf(p, sizeof(p), "%s/%s", d, name);
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(rr_write_all(fd, text, strlen(text)), 0);
    close(fd);
}

/* In a child that entered p: 0 if path opens with flags, else errno. */
static int child_open(const struct sandbox_plan *p, const char *path,
                      int flags)
{
    const char *what;
    pid_t pid = fork();
    int ws, e;

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        if (sandbox_enter(p, &what) != 0)
            _exit(200);
        if (!path)
            _exit(socket(AF_INET, SOCK_STREAM, 0) < 0 ? errno : 0);
        if (flags == -1)    /* a symbolic link at path */
            _exit(symlink("/etc/shadow", path) < 0 ? errno : 0);
        e = open(path, flags | O_CLOEXEC, 0600) < 0 ? errno : 0;
        _exit(e);
    }
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    ck_assert(WIFEXITED(ws));
    ck_assert_int_ne(WEXITSTATUS(ws), 200);
    return WEXITSTATUS(ws);
}

/* sb for "auto" on this machine, or NULL (with a note) without Landlock. */
static int init_auto(struct sandbox *sb)
{
    char err[512];

    ck_assert_msg(sandbox_init(sb, "auto", "nobody", dir, err,
                               sizeof(err)) == 0, "%s", err);
    if (sb->abi < 1) {
        fprintf(stderr, "note: no Landlock here; rule checks skipped\n");
        return -1;
    }
    return 0;
}

START_TEST(test_parse_mode)
{
    enum sandbox_mode m;

    ck_assert_int_eq(sandbox_parse_mode("required", &m), 0);
    ck_assert_int_eq(m, SANDBOX_REQUIRED);
    ck_assert_int_eq(sandbox_parse_mode("auto", &m), 0);
    ck_assert_int_eq(m, SANDBOX_AUTO);
    ck_assert_int_eq(sandbox_parse_mode("off", &m), 0);
    ck_assert_int_eq(m, SANDBOX_OFF);
    ck_assert_int_eq(sandbox_parse_mode("yes", &m), -1);
}
END_TEST

START_TEST(test_rules)
{
    struct sandbox sb;
    struct sandbox_plan p;
    char err[512], path[256];
    char *argv[] = { (char *)"cp", NULL };

    if (init_auto(&sb) < 0)
        return;
    put(task, "in0.txt", "mine\n");
    put(other, "in0.txt", "theirs\n");
    ck_assert_msg(sandbox_hand_over(&sb, task, err, sizeof(err)) == 0, "%s",
                  err);
    ck_assert_msg(sandbox_plan_build(&sb, NULL, task, argv, &p, err,
                                     sizeof(err)) == 0, "%s", err);
    snprintf(path, sizeof(path), "%s/in0.txt", task);
    ck_assert_int_eq(child_open(&p, path, O_RDONLY), 0);
    snprintf(path, sizeof(path), "%s/out.txt", task);
    ck_assert_int_eq(child_open(&p, path, O_WRONLY | O_CREAT), 0);
    /* no link for the web server to follow while the task runs */
    snprintf(path, sizeof(path), "%s/log", task);
    ck_assert_int_eq(child_open(&p, path, -1), EACCES);
    ck_assert_int_eq(child_open(&p, "/usr/bin/env", O_RDONLY), 0);
    ck_assert_int_eq(child_open(&p, "/etc/ld.so.cache", O_RDONLY), 0);
    ck_assert_int_eq(child_open(&p, "/dev/null", O_WRONLY), 0);
    ck_assert_int_eq(child_open(&p, "/etc/passwd", O_RDONLY), EACCES);
    snprintf(path, sizeof(path), "%s/in0.txt", other);
    ck_assert_int_eq(child_open(&p, path, O_RDONLY), EACCES);
    snprintf(path, sizeof(path), "%s/x", other);
    ck_assert_int_eq(child_open(&p, path, O_WRONLY | O_CREAT), EACCES);
    snprintf(path, sizeof(path), "%s/x", dir);
    ck_assert_int_eq(child_open(&p, path, O_WRONLY | O_CREAT), EACCES);
    if (sb.seccomp)
        ck_assert_int_eq(child_open(&p, NULL, 0), EACCES);
    sandbox_plan_free(&p);
}
END_TEST

/* sandboxRead, sandboxWrite and sandboxDevice widen it, and only so. */
START_TEST(test_widened)
{
    struct sandbox sb;
    struct sandbox_plan p;
    struct sandbox_svc svc;
    char err[512], path[256], *rd[] = { other, NULL };
    char *dev[] = { (char *)"/dev/ttyUSB*", (char *)"/dev/ful?", other,
                    NULL };
    char *argv[] = { (char *)"printcore", (char *)"/dev/full", other, NULL };

    if (init_auto(&sb) < 0)
        return;
    put(other, "in0.txt", "theirs\n");
    snprintf(path, sizeof(path), "%s/in0.txt", other);
    /* only Landlock says no */
    ck_assert_int_eq(chmod(other, 0777), 0);
    ck_assert_int_eq(chmod(path, 0666), 0);
    memset(&svc, 0, sizeof(svc));
    svc.read = rd;
    svc.device = dev;
    ck_assert_msg(sandbox_plan_build(&sb, &svc, task, argv, &p, err,
                                     sizeof(err)) == 0, "%s", err);
    snprintf(path, sizeof(path), "%s/in0.txt", other);
    ck_assert_int_eq(child_open(&p, path, O_RDONLY), 0);
    /* a device pattern that names a directory grants nothing there */
    ck_assert_int_eq(child_open(&p, path, O_WRONLY), EACCES);
    snprintf(path, sizeof(path), "%s/x", other);
    ck_assert_int_eq(child_open(&p, path, O_WRONLY | O_CREAT), EACCES);
    /* argv names /dev/full, which a pattern allows */
    ck_assert_int_eq(child_open(&p, "/dev/full", O_RDWR), 0);
    sandbox_plan_free(&p);
    svc.read = NULL;
    svc.write = rd;
    svc.device = NULL;
    ck_assert_msg(sandbox_plan_build(&sb, &svc, task, argv, &p, err,
                                     sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(child_open(&p, path, O_WRONLY | O_CREAT), 0);
    /* no pattern: argv naming a device opens nothing */
    ck_assert_int_eq(child_open(&p, "/dev/full", O_RDWR), EACCES);
    if (sb.seccomp)
        ck_assert_int_eq(child_open(&p, NULL, 0), EACCES);
    ck_assert_int_eq(child_open(&p, "/etc/hosts", O_RDONLY), EACCES);
    sandbox_plan_free(&p);
    svc.network = 1;    /* sandboxNetwork = yes: sockets, name lookups */
    ck_assert_msg(sandbox_plan_build(&sb, &svc, task, argv, &p, err,
                                     sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(child_open(&p, NULL, 0), 0);
    ck_assert_int_eq(child_open(&p, "/etc/hosts", O_RDONLY), 0);
    sandbox_plan_free(&p);
}
END_TEST

/* Links, fifos and the like go; files and directories stay, and the
 * sandbox user's become rrcloudd's (when root). */
START_TEST(test_take_back)
{
    struct sandbox sb;
    char err[512], p[256], link[256];
    struct stat st;

    (void)init_auto(&sb);   /* taking back needs no Landlock */
    put(task, "out.txt", "result\n");
    snprintf(p, sizeof(p), "%s/sub", task);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    snprintf(link, sizeof(link), "%s/sub/shadow", task);
    ck_assert_int_eq(symlink("/etc/shadow", link), 0);
    snprintf(p, sizeof(p), "%s/fifo", task);
    ck_assert_int_eq(mkfifo(p, 0600), 0);
    ck_assert_msg(sandbox_hand_over(&sb, task, err, sizeof(err)) == 0, "%s",
                  err);
    snprintf(p, sizeof(p), "%s/out.txt", task);
    ck_assert_int_eq(stat(p, &st), 0);
    if (sb.switch_uid) {
        ck_assert_int_eq(st.st_uid, sb.uid);
        /* a re-run finds the first run's directories, and gets them */
        snprintf(p, sizeof(p), "%s/sub", task);
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert_int_eq(st.st_uid, sb.uid);
        ck_assert_int_eq(stat(task, &st), 0);
        ck_assert_int_eq(st.st_uid, sb.uid);
        ck_assert_int_eq(st.st_gid, getegid());  /* the group stays */
    }
    ck_assert_msg(sandbox_take_back(&sb, task, err, sizeof(err)) == 0, "%s",
                  err);
    ck_assert_int_eq(lstat(link, &st), -1);
    snprintf(p, sizeof(p), "%s/fifo", task);
    ck_assert_int_eq(lstat(p, &st), -1);
    snprintf(p, sizeof(p), "%s/out.txt", task);
    ck_assert_int_eq(lstat(p, &st), 0);
    ck_assert_int_eq(st.st_uid, geteuid());
    ck_assert_int_eq(stat(task, &st), 0);
    ck_assert_int_eq(st.st_uid, geteuid());
    snprintf(p, sizeof(p), "%s/sub", task);
    ck_assert_int_eq(stat(p, &st), 0);
    ck_assert_int_eq(st.st_uid, geteuid());
    if (stat("/etc/shadow", &st) == 0)
        ck_assert_int_eq(st.st_uid, 0);     /* the link was not followed */
}
END_TEST

/* In a child that entered p: 0 if a signal to our own process (the
 * parent) would go through, or a TCP connection to port on loopback (port
 * > 0) is made; else errno. */
static int child_reach(const struct sandbox_plan *p, int port)
{
    const char *what;
    pid_t parent = getpid(), pid = fork();
    int ws;

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct sockaddr_in a;
        int fd;

        if (sandbox_enter(p, &what) != 0)
            _exit(200);
        if (port <= 0)
            _exit(kill(parent, 0) < 0 ? errno : 0);
        if ((fd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
            _exit(201);
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_port = htons((uint16_t)port);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        _exit(connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ? errno : 0);
    }
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    ck_assert(WIFEXITED(ws));
    ck_assert_int_lt(WEXITSTATUS(ws), 200);
    return WEXITSTATUS(ws);
}

/* Landlock alone (rrcloudd's own uid, no seccomp): even as root the
 * command reads no /etc/shadow, signals nobody outside and connects to no
 * TCP port. */
START_TEST(test_landlock_alone)
{
    struct sandbox sb;
    struct sandbox_plan p;
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    char err[512], *argv[] = { (char *)"x", NULL };
    int lfd;

    if (init_auto(&sb) < 0)
        return;
    sb.switch_uid = 0;
    sb.seccomp = 0;
    ck_assert_msg(sandbox_plan_build(&sb, NULL, task, argv, &p, err,
                                     sizeof(err)) == 0, "%s", err);
    ck_assert_int_eq(child_open(&p, "/etc/shadow", O_RDONLY),
                     access("/etc/shadow", F_OK) == 0 ? EACCES : ENOENT);
    if (sb.abi >= 6)
        ck_assert_int_eq(child_reach(&p, 0), EPERM);
    if (sb.abi >= 4) {
        lfd = socket(AF_INET, SOCK_STREAM, 0);
        ck_assert_int_ge(lfd, 0);
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ck_assert_int_eq(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
        ck_assert_int_eq(listen(lfd, 1), 0);
        ck_assert_int_eq(getsockname(lfd, (struct sockaddr *)&a, &alen), 0);
        ck_assert_int_eq(child_reach(&p, ntohs(a.sin_port)), EACCES);
        close(lfd);
    }
    sandbox_plan_free(&p);
}
END_TEST

/* Not root: no other uid, Landlock and seccomp alone, and the log line
 * says so; "required" still starts where Landlock has ABI 6. */
START_TEST(test_not_root)
{
    struct sandbox probe;
    pid_t pid;
    int ws;

    if (init_auto(&probe) < 0)
        return;
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct sandbox sb;
        char err[512], what[512];

        if (geteuid() == 0 && (setgroups(0, NULL) < 0 ||
                               setresgid(65534, 65534, 65534) < 0 ||
                               setresuid(65534, 65534, 65534) < 0))
            _exit(10);
        if (sandbox_init(&sb, probe.abi >= 6 && probe.seccomp ? "required"
                                                              : "auto",
                         "nobody", dir, err, sizeof(err)) < 0)
            _exit(11);
        sandbox_describe(&sb, what, sizeof(what));
        _exit(sb.switch_uid ? 12 : !strstr(what, "(not root: no other uid)")
                                   ? 13 : sb.abi != probe.abi ? 14 : 0);
    }
    ck_assert_int_eq(waitpid(pid, &ws, 0), pid);
    ck_assert(WIFEXITED(ws));
    ck_assert_int_eq(WEXITSTATUS(ws), 0);
}
END_TEST

Suite *sandbox_suite(void)
{
    Suite *s = suite_create("sandbox");
    TCase *tc = tcase_create("sandbox");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_parse_mode);
    tcase_add_test(tc, test_rules);
    tcase_add_test(tc, test_widened);
    tcase_add_test(tc, test_take_back);
    tcase_add_test(tc, test_not_root);
    tcase_add_test(tc, test_landlock_alone);
    suite_add_tcase(s, tc);
    return s;
}
