/* test_runner.c - unit tests for src/daemon/{runner,spawn,recover,purge}.c:
 * real children (/bin/echo, /bin/sleep, ...) in a temporary spool. */
#include "common/conf.h"
#include "common/util.h"
#include "daemon/loop.h"
#include "daemon/purge.h"
#include "daemon/recover.h"
#include "daemon/runner.h"
#include "daemon/sandbox.h"
#include "services/service.h"
#include "spool/spool.h"
#include "store/store.h"
#include "store/store_fleet.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

Suite *runner_suite(void);

static char dir[64];
static struct rr_conf conf;
static struct store *st;
static struct service_registry *reg;
static struct loop *lp;
static struct runner *rn;
static int kicks;
static int ends;                /* the end hook's calls */
static char end_id[RR_ID_LEN], end_service[64];
static int end_in_store;        /* the end was in the store at the call */

static void write_text(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(rr_write_all(fd, text, strlen(text)), 0);
    close(fd);
}

/* Services: "run" may re-run, "once" may not; both take any program from
 * /bin:/usr/bin (the tests put the argv in the row themselves). */
static void write_services(void)
{
    char p[256];

    snprintf(p, sizeof(p), "%s/services", dir);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    snprintf(p, sizeof(p), "%s/services/run.conf", dir);
    write_text(p, "path = /usr/bin:/bin\ncmd = echo\nnoOutput = yes\n"
                  "inputTypes = txt\ntimeout = 5\nrerun = yes\n");
    snprintf(p, sizeof(p), "%s/services/once.conf", dir);
    write_text(p, "path = /usr/bin:/bin\ncmd = echo\nnoOutput = yes\n"
                  "inputTypes = txt\ntimeout = 5\nrerun = no\n");
    snprintf(p, sizeof(p), "%s/services/eager.conf", dir);
    write_text(p, "path = /usr/bin:/bin\ncmd = echo\nnoOutput = yes\n"
                  "inputTypes = txt\ntimeout = 5\nnice = 0\n");
    snprintf(p, sizeof(p), "%s/services/watch.conf", dir);
    write_text(p, "path = /usr/bin:/bin\ncmd = echo\nnoOutput = yes\n"
                  "inputTypes = txt\ntimeout = 5\n"
                  "failLog = Could not connect to *, *halted*\n");
}

static void count_kick(void *arg)
{
    kicks++;
}

static void count_end(void *arg, const char *id, const char *service)
{
    struct task t;

    ends++;
    snprintf(end_id, sizeof(end_id), "%s", id);
    snprintf(end_service, sizeof(end_service), "%s", service);
    end_in_store = 0;
    if (store_task_get(st, id, &t) == 0) {
        end_in_store = task_status_final(t.status);
        task_clear(&t);
    }
}

static void setup(void)
{
    char err[512];

    snprintf(dir, sizeof(dir), "/tmp/rrtest-runner-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    conf_defaults(&conf, dir);
    snprintf(conf.services_dir, sizeof(conf.services_dir), "%s/services",
             dir);
    conf.runner_slots = 2;
    conf.kill_grace = 1;
    conf.max_reruns = 1;
    write_services();
    ck_assert_int_eq(spool_init(dir), 0);
    st = store_open(conf.database, err, sizeof(err));
    ck_assert_msg(st != NULL, "%s", err);
    reg = service_registry_load(conf.services_dir, err, sizeof(err));
    ck_assert_msg(reg != NULL, "%s", err);
    lp = loop_new();
    ck_assert_ptr_nonnull(lp);
    rn = runner_new(&conf, reg, st, lp);
    ck_assert_ptr_nonnull(rn);
    kicks = 0;
    runner_set_notify(rn, count_kick, NULL);
    ends = end_in_store = 0;
    end_id[0] = end_service[0] = '\0';
}

static void teardown(void)
{
    runner_free(rn);
    loop_free(lp);
    service_registry_free(reg);
    store_close(st);
    rr_rmtree(dir);
}

/* Inserts a queued task running argv_json; its directory holds in0.txt. */
static void add_task(char id[RR_ID_LEN], const char *service,
                     const char *argv_json, const char *out_name,
                     long long timeout, const char *notifier)
{
    struct task t;
    char p[512];

    memset(&t, 0, sizeof(t));
    rr_id_new(t.id);
    snprintf(t.service, sizeof(t.service), "%s", service);
    snprintf(t.out_name, sizeof(t.out_name), "%s", out_name);
    snprintf(t.client, sizeof(t.client), "127.0.0.1");
    t.argv_json = (char *)argv_json;
    t.inputs = (char *)"in0.txt";
    t.notifier = (char *)notifier;
    t.ctime = rr_now();
    t.timeout = timeout;
    t.size_out = -1;
    t.exit_code = -1;
    ck_assert_int_eq(spool_task_dir(dir, t.id, p, sizeof(p)), 0);
    ck_assert_int_eq(mkdir(p, 0750), 0);
    ck_assert_int_eq(spool_task_file(dir, t.id, "in0.txt", p, sizeof(p)), 0);
    write_text(p, "hello\n");
    ck_assert_int_eq(store_task_insert(st, &t), 0);
    memcpy(id, t.id, RR_ID_LEN);
}

/* Drives the loop until task id is final (or max_ms); returns it in *t. */
static void wait_final(const char *id, long long max_ms, struct task *t)
{
    long long end = rr_mono_ms() + max_ms;

    for (;;) {
        ck_assert_int_eq(store_task_get(st, id, t), 0);
        if (task_status_final(t->status) || rr_mono_ms() > end)
            return;
        task_clear(t);
        ck_assert_int_ge(loop_run_once(lp, 20), 0);
    }
}

static void wait_busy(const char *id, struct task *t)
{
    long long end = rr_mono_ms() + 2000;

    for (;;) {
        ck_assert_int_eq(store_task_get(st, id, t), 0);
        if ((t->status == TASK_BUSY && t->pid > 0) || rr_mono_ms() > end)
            break;
        task_clear(t);
        ck_assert_int_ge(runner_poll(rn), 0);
        ck_assert_int_ge(loop_run_once(lp, 20), 0);
    }
    ck_assert_str_eq(task_status_name(t->status), "busy");
}

static char *read_task_file(const char *id, const char *name)
{
    char p[512];
    size_t len;
    char *s;

    ck_assert_int_eq(spool_task_file(dir, id, name, p, sizeof(p)), 0);
    s = rr_read_file(p, 1 << 20, &len);
    ck_assert_msg(s != NULL, "%s: %s", p, strerror(errno));
    return s;
}

/* Reaps orphans handed to us (we are their subreaper) and says whether
 * anything of process group pg is left. */
static int group_alive(pid_t pg)
{
    for (int i = 0; i < 100; i++) {
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        if (kill(-pg, 0) < 0 && errno == ESRCH)
            return 0;
        usleep(10000);
    }
    return 1;
}

START_TEST(test_complete_with_log)
{
    char id[RR_ID_LEN];
    struct task t;
    char *log;

    add_task(id, "run", "[\"echo\", \"hello\", \"world\"]", "", 5,
             "http://127.0.0.1:9/hook");
    ck_assert_int_eq(runner_poll(rn), 1);
    wait_final(id, 2000, &t);
    ck_assert_str_eq(task_status_name(t.status), "complete");
    ck_assert_int_eq(t.exit_code, 0);
    ck_assert_ptr_null(t.reason);
    ck_assert_int_eq(t.pid, 0);
    ck_assert(t.etime >= t.stime && t.stime > 0);
    log = read_task_file(id, "log");
    ck_assert_str_eq(log, "hello world\n");
    free(log);
    task_clear(&t);
    /* The notifier call was queued with the end, and the notifier told. */
    {
        long long pending, delivered, failed;
        ck_assert_int_eq(store_notify_counts(st, &pending, &delivered,
                                             &failed), 0);
        ck_assert_int_eq(pending, 1);
        ck_assert_int_eq(kicks, 1);
    }
}
END_TEST

START_TEST(test_exit_code)
{
    char id[RR_ID_LEN];
    struct task t;

    add_task(id, "run", "[\"sh\", \"-c\", \"echo oops >&2; exit 3\"]", "", 5,
             NULL);
    ck_assert_int_eq(runner_poll(rn), 1);
    wait_final(id, 2000, &t);
    ck_assert_str_eq(task_status_name(t.status), "failed");
    ck_assert_int_eq(t.exit_code, 3);
    ck_assert_str_eq(t.reason, "exit code 3; log: oops");
    task_clear(&t);
    {
        char *log = read_task_file(id, "log");
        ck_assert_str_eq(log, "oops\n");
        free(log);
    }
}
END_TEST

/* failLog: exit 0 is not enough when the log says it failed. */
START_TEST(test_fail_log)
{
    char id[RR_ID_LEN], id2[RR_ID_LEN];
    struct task t;

    add_task(id, "watch", "[\"sh\", \"-c\", \"printf 'Progress: 00.0%%\\\\r'; "
             "echo 'Could not connect to /dev/ttyUSB9 at baudrate 115200:' >&2; "
             "echo 'Serial error: no such file' >&2\"]", "", 5, NULL);
    add_task(id2, "watch", "[\"sh\", \"-c\", \"printf 'Progress: 00.0%%\\\\r"
             "Progress: 100.0%%\\\\r'\"]", "", 5, NULL);
    ck_assert_int_eq(runner_poll(rn), 2);
    wait_final(id, 2000, &t);
    ck_assert_str_eq(task_status_name(t.status), "failed");
    ck_assert_int_eq(t.exit_code, 0);
    ck_assert_str_eq(t.reason, "log: Could not connect to /dev/ttyUSB9 at "
                     "baudrate 115200:");
    task_clear(&t);
    wait_final(id2, 2000, &t);
    ck_assert_str_eq(task_status_name(t.status), "complete");
    ck_assert_ptr_null(t.reason);
    task_clear(&t);
    /* the same command under a service without failLog completes */
    add_task(id, "run", "[\"sh\", \"-c\", \"echo 'Could not connect to x'\"]",
             "", 5, NULL);
    ck_assert_int_eq(runner_poll(rn), 1);
    wait_final(id, 2000, &t);
    ck_assert_str_eq(task_status_name(t.status), "complete");
    task_clear(&t);
}
END_TEST

START_TEST(test_no_output_file)
{
    char id[RR_ID_LEN];
    struct task t;

    add_task(id, "run", "[\"true\"]", "model.stl", 5, NULL);
    ck_assert_int_eq(runner_poll(rn), 1);
    wait_final(id, 2000, &t);
    ck_assert_str_eq(task_status_name(t.status), "failed");
    ck_assert_str_eq(t.reason, "produced no output file model.stl");
    task_clear(&t);
}
END_TEST

START_TEST(test_output_written)
{
    char id[RR_ID_LEN];
    struct task t;

    add_task(id, "run", "[\"cp\", \"in0.txt\", \"out.txt\"]", "out.txt", 5,
             NULL);
    ck_assert_int_eq(runner_poll(rn), 1);
    wait_final(id, 2000, &t);
    ck_assert_str_eq(task_status_name(t.status), "complete");
    ck_assert_int_eq(t.size_out, 6);
    task_clear(&t);
}
END_TEST

START_TEST(test_exec_failure)
{
    char id[RR_ID_LEN];
    struct task t;

    add_task(id, "run", "[\"no-such-program-rrcloud\"]", "", 5, NULL);
    ck_assert_int_eq(runner_poll(rn), 1);
    wait_final(id, 2000, &t);
    ck_assert_str_eq(task_status_name(t.status), "failed");
    ck_assert_str_eq(t.reason, "exec failed: No such file or directory");
    task_clear(&t);
}
END_TEST

START_TEST(test_unknown_service)
{
    char id[RR_ID_LEN];
    struct task t;

    add_task(id, "gone", "[\"true\"]", "", 5, NULL);
    ck_assert_int_eq(runner_poll(rn), 0);
    ck_assert_int_eq(store_task_get(st, id, &t), 0);
    ck_assert_str_eq(task_status_name(t.status), "failed");
    ck_assert_str_eq(t.reason, "service gone is not configured");
    task_clear(&t);
}
END_TEST

START_TEST(test_timeout_kills_group)
{
    char id[RR_ID_LEN];
    struct task t;
    long long t0;
    pid_t pg;

    /* Orphans of the group come to us, so we can see them go. */
    ck_assert_int_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    add_task(id, "run", "[\"sh\", \"-c\", \"sleep 30 & exec sleep 31\"]", "",
             1, NULL);
    t0 = rr_mono_ms();
    wait_busy(id, &t);
    pg = (pid_t)t.pid;
    task_clear(&t);
    wait_final(id, 3000, &t);
    ck_assert_str_eq(task_status_name(t.status), "failed");
    ck_assert_str_eq(t.reason, "timed out after 1 s");
    ck_assert_int_lt(rr_mono_ms() - t0, 2500);
    ck_assert_int_ge(rr_mono_ms() - t0, 900);
    task_clear(&t);
    ck_assert_msg(!group_alive(pg), "process group %d survived", (int)pg);
}
END_TEST

START_TEST(test_kill_grace)
{
    char id[RR_ID_LEN];
    struct task t;
    long long t0;

    /* A command that ignores SIGTERM gets SIGKILL kill_grace later. */
    add_task(id, "run", "[\"sh\", \"-c\", \"trap '' TERM; sleep 30\"]", "",
             1, NULL);
    t0 = rr_mono_ms();
    wait_busy(id, &t);
    task_clear(&t);
    wait_final(id, 4000, &t);
    ck_assert_str_eq(task_status_name(t.status), "failed");
    ck_assert_str_eq(t.reason, "timed out after 1 s");
    ck_assert_int_ge(rr_mono_ms() - t0, 1900);
    ck_assert_int_lt(rr_mono_ms() - t0, 3500);
    task_clear(&t);
}
END_TEST

START_TEST(test_cancel_busy)
{
    char id[RR_ID_LEN];
    enum task_status now;
    struct task t;
    long long t0;

    add_task(id, "run", "[\"sleep\", \"30\"]", "", 30, NULL);
    wait_busy(id, &t);
    task_clear(&t);
    ck_assert_int_eq(store_task_cancel(st, id, "cancelled by client", &now),
                     0);
    ck_assert_str_eq(task_status_name(now), "busy");
    t0 = rr_mono_ms();
    ck_assert_int_ge(runner_poll(rn), 0);  /* what WAKE_CANCEL does */
    wait_final(id, 2000, &t);
    ck_assert_str_eq(task_status_name(t.status), "cancelled");
    ck_assert_str_eq(t.reason, "cancelled by client");
    ck_assert_int_lt(rr_mono_ms() - t0, 500);
    task_clear(&t);
}
END_TEST

START_TEST(test_slots)
{
    char id[3][RR_ID_LEN];
    long long n;

    for (int i = 0; i < 3; i++)
        add_task(id[i], "run", "[\"sleep\", \"30\"]", "", 30, NULL);
    ck_assert_int_eq(runner_poll(rn), 2);
    ck_assert_int_eq(runner_poll(rn), 0);
    ck_assert_int_eq(runner_running(rn), 2);
    ck_assert_int_eq(store_task_count(st, TASK_QUEUED, &n), 0);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(store_task_count(st, TASK_BUSY, &n), 0);
    ck_assert_int_eq(n, 2);
}
END_TEST

/* The child sees no fd but 0-2 and a minimal environment. */
START_TEST(test_child_hygiene)
{
    char id[RR_ID_LEN], expect[512];
    struct task t;
    char *log;

    add_task(id, "run", "[\"sh\", \"-c\", \"ls /proc/$$/fd; env | sort; "
                        "umask\"]", "", 5, NULL);
    ck_assert_int_eq(runner_poll(rn), 1);
    wait_final(id, 2000, &t);
    ck_assert_str_eq(task_status_name(t.status), "complete");
    task_clear(&t);
    log = read_task_file(id, "log");
    snprintf(expect, sizeof(expect),
             "0\n1\n2\nHOME=%s/tasks/%s\nLANG=C.UTF-8\nPATH=/usr/bin:/bin\n"
             "PWD=%s/tasks/%s\nTMPDIR=%s/tasks/%s\n0027\n",
             dir, id, dir, id, dir, id);
    ck_assert_str_eq(log, expect);
    free(log);
}
END_TEST

/* The niceness a service's command got (nice(1) prints its own). */
static int task_nice(const char *service)
{
    char id[RR_ID_LEN], *log;
    struct task t;
    int n;

    add_task(id, service, "[\"nice\"]", "", 5, NULL);
    ck_assert_int_eq(runner_poll(rn), 1);
    wait_final(id, 2000, &t);
    ck_assert_str_eq(task_status_name(t.status), "complete");
    task_clear(&t);
    log = read_task_file(id, "log");
    n = atoi(log);
    free(log);
    return n;
}

/* Commands run at niceness 10 unless their service says otherwise, and
 * never below rrcloudd's own (here, this test's). */
START_TEST(test_nice)
{
    int own = getpriority(PRIO_PROCESS, 0);

    ck_assert_int_eq(task_nice("run"), own > 10 ? own : 10);
    ck_assert_int_eq(task_nice("eager"), own > 0 ? own : 0);
}
END_TEST

static void set_flag(void *arg)
{
    *(int *)arg = 1;
}

START_TEST(test_stop_requeues_or_fails)
{
    char a[RR_ID_LEN], b[RR_ID_LEN];
    struct task t;
    int done = 0;

    add_task(a, "run", "[\"sleep\", \"30\"]", "", 30, NULL);
    add_task(b, "once", "[\"sleep\", \"30\"]", "", 30, NULL);
    ck_assert_int_eq(runner_poll(rn), 2);
    runner_stop(rn, set_flag, &done);
    ck_assert_int_eq(done, 0);
    for (int i = 0; i < 100 && !done; i++)
        ck_assert_int_ge(loop_run_once(lp, 20), 0);
    ck_assert_int_eq(done, 1);
    ck_assert_int_eq(runner_running(rn), 0);
    ck_assert_int_eq(store_task_get(st, a, &t), 0);
    ck_assert_str_eq(task_status_name(t.status), "queued");
    task_clear(&t);
    ck_assert_int_eq(store_task_get(st, b, &t), 0);
    ck_assert_str_eq(task_status_name(t.status), "failed");
    ck_assert_str_eq(t.reason, "rrcloudd was stopped");
    task_clear(&t);
    /* Stopping claims nothing new. */
    ck_assert_int_eq(runner_poll(rn), 0);
}
END_TEST

/* A process in its own group, as a previous rrcloudd would have left it. */
static pid_t spawn_orphan(void)
{
    pid_t pid = fork();

    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        setpgid(0, 0);
        execl("/bin/sleep", "sleep", "30", (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    return pid;
}

/* Claims task id as a crashed daemon would have, run by pid. */
static void claim_as_crashed(const char *id, pid_t pid)
{
    struct task t;

    ck_assert_int_eq(store_task_claim(st, &t), 0);
    ck_assert_str_eq(t.id, id);
    task_clear(&t);
    ck_assert_int_eq(store_task_set_pid(st, id, pid, runner_pid_start(pid)),
                     0);
}

START_TEST(test_recover)
{
    char a[RR_ID_LEN], b[RR_ID_LEN], c[RR_ID_LEN], tdir[4096];
    struct sandbox sb = { .mode = SANDBOX_AUTO };   /* no uid switch */
    struct stat sbuf;
    struct task t;
    pid_t pa, pb;
    int ws;

    add_task(a, "run", "[\"true\"]", "", 5, NULL);
    pa = spawn_orphan();
    claim_as_crashed(a, pa);
    add_task(b, "once", "[\"true\"]", "", 5, "http://127.0.0.1:9/x");
    pb = spawn_orphan();
    claim_as_crashed(b, pb);
    /* c already ran twice (max_reruns 1): no third run. */
    add_task(c, "run", "[\"true\"]", "", 5, NULL);
    claim_as_crashed(c, 0);
    ck_assert_int_eq(store_task_requeue(st, c), 0);
    claim_as_crashed(c, 0);

    /* The crashed runs opened their directories to all (chmod is not
     * Landlock's); recovery takes them back. */
    ck_assert_int_eq(spool_task_dir(conf.spool_dir, a, tdir, sizeof(tdir)), 0);
    ck_assert_int_eq(rr_mkdirs(tdir, 0750), 0);
    ck_assert_int_eq(chmod(tdir, 0777), 0);
    ck_assert_int_eq(spool_task_dir(conf.spool_dir, b, tdir, sizeof(tdir)), 0);
    ck_assert_int_eq(rr_mkdirs(tdir, 0750), 0);
    ck_assert_int_eq(chmod(tdir, 0777), 0);
    ck_assert_int_eq(recover_run(&conf, reg, &sb, st), 3);
    ck_assert_int_eq(stat(tdir, &sbuf), 0);
    ck_assert_int_eq(sbuf.st_mode & 07777, 0750);
    ck_assert_int_eq(spool_task_dir(conf.spool_dir, a, tdir, sizeof(tdir)), 0);
    ck_assert_int_eq(stat(tdir, &sbuf), 0);
    ck_assert_int_eq(sbuf.st_mode & 07777, 0750);
    ck_assert_int_eq(waitpid(pa, &ws, 0), pa);
    ck_assert(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);
    ck_assert_int_eq(waitpid(pb, &ws, 0), pb);
    ck_assert(WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL);

    ck_assert_int_eq(store_task_get(st, a, &t), 0);
    ck_assert_str_eq(task_status_name(t.status), "queued");
    task_clear(&t);
    ck_assert_int_eq(store_task_get(st, b, &t), 0);
    ck_assert_str_eq(task_status_name(t.status), "failed");
    ck_assert_str_eq(t.reason, "rrcloudd stopped while the task ran; not "
                     "re-run (service once does not allow it)");
    task_clear(&t);
    ck_assert_int_eq(store_task_get(st, c, &t), 0);
    ck_assert_str_eq(task_status_name(t.status), "failed");
    ck_assert_str_eq(t.reason, "rrcloudd stopped while the task ran; not "
                     "re-run (it already ran 2 times)");
    task_clear(&t);
    {
        long long pending, delivered, failed;
        ck_assert_int_eq(store_notify_counts(st, &pending, &delivered,
                                             &failed), 0);
        ck_assert_int_eq(pending, 1);  /* b's notifier */
    }
    /* The re-run starts and completes. */
    ck_assert_int_eq(runner_poll(rn), 1);
    wait_final(a, 2000, &t);
    ck_assert_str_eq(task_status_name(t.status), "complete");
    ck_assert_int_eq(t.runs, 2);
    task_clear(&t);
}
END_TEST

/* Cancelled while busy, then rrcloudd died: it ends cancelled, not re-run
 * (its service would allow a re-run). */
START_TEST(test_recover_keeps_a_cancel)
{
    char a[RR_ID_LEN];
    enum task_status now;
    struct task t;

    add_task(a, "run", "[\"true\"]", "", 5, NULL);
    claim_as_crashed(a, 0);
    ck_assert_int_eq(store_task_cancel(st, a, "cancelled by client", &now),
                     0);
    ck_assert_str_eq(task_status_name(now), "busy");
    ck_assert_int_eq(recover_run(&conf, reg, NULL, st), 1);
    ck_assert_int_eq(store_task_get(st, a, &t), 0);
    ck_assert_str_eq(task_status_name(t.status), "cancelled");
    ck_assert_int_eq(t.runs, 1);
    task_clear(&t);
}
END_TEST

START_TEST(test_recover_leaves_strangers)
{
    char a[RR_ID_LEN];
    struct task t;
    pid_t p;
    int ws;

    /* The recorded start time does not match: a reused pid, not ours. */
    add_task(a, "run", "[\"true\"]", "", 5, NULL);
    p = spawn_orphan();
    ck_assert_int_eq(store_task_claim(st, &t), 0);
    task_clear(&t);
    ck_assert_int_eq(store_task_set_pid(st, a, p, runner_pid_start(p) + 1),
                     0);
    ck_assert_int_eq(recover_run(&conf, reg, NULL, st), 1);
    ck_assert_int_eq(waitpid(p, &ws, WNOHANG), 0);
    kill(p, SIGKILL);
    ck_assert_int_eq(waitpid(p, &ws, 0), p);
}
END_TEST

static int count_event(void *arg, const struct fleet_event *e)
{
    (void)e;
    ++*(long long *)arg;
    return 0;
}

START_TEST(test_purge)
{
    char a[RR_ID_LEN], b[RR_ID_LEN], p[512];
    struct task t;
    struct stat sb;

    conf.max_data_retention = 60;
    add_task(a, "run", "[\"true\"]", "", 5, NULL);
    add_task(b, "run", "[\"true\"]", "", 5, NULL);
    ck_assert_int_eq(runner_poll(rn), 2);
    wait_final(a, 2000, &t);
    task_clear(&t);
    wait_final(b, 2000, &t);
    task_clear(&t);
    /* Nothing is old enough yet. */
    ck_assert_int_eq(purge_run(&conf, st, rr_now()), 0);
    ck_assert_int_eq(purge_run(&conf, st, rr_now() + 61), 2);
    ck_assert_int_eq(store_task_get(st, a, &t), STORE_NOTFOUND);
    task_clear(&t);
    ck_assert_int_eq(spool_task_dir(dir, a, p, sizeof(p)), 0);
    ck_assert_int_eq(stat(p, &sb), -1);
}
END_TEST

/* Events older than events_retention go, in batches; newer ones stay. */
START_TEST(test_purge_events)
{
    long long n = 0;
    double now = rr_now();

    conf.events_retention = 3600;
    for (int i = 0; i < 1500; i++)
        ck_assert_int_eq(store_event_add(st, now - 7200 + i * 0.001, "api",
                                         0, 0, 0, "old %d", i), 0);
    ck_assert_int_eq(store_event_add(st, now - 10, "api", 0, 0, 0, "new"),
                     0);
    ck_assert_int_eq(purge_run(&conf, st, now), 0);
    ck_assert_int_eq(store_event_list(st, 0, 0, count_event, &n), 0);
    ck_assert_int_eq(n, 1);
    conf.events_retention = 0;               /* 0 keeps them all */
    ck_assert_int_eq(purge_run(&conf, st, now + 1e6), 0);
    n = 0;
    ck_assert_int_eq(store_event_list(st, 0, 0, count_event, &n), 0);
    ck_assert_int_eq(n, 1);
}
END_TEST

/* A task whose notifier call is still pending is kept until it is made. */
START_TEST(test_purge_keeps_pending_notifier)
{
    char a[RR_ID_LEN], b[RR_ID_LEN];
    struct task t;

    conf.max_data_retention = 60;
    add_task(a, "run", "[\"true\"]", "", 5, "http://127.0.0.1:9/done");
    add_task(b, "run", "[\"true\"]", "", 5, NULL);
    ck_assert_int_eq(runner_poll(rn), 2);
    wait_final(a, 2000, &t);
    task_clear(&t);
    wait_final(b, 2000, &t);
    task_clear(&t);
    ck_assert_int_eq(purge_run(&conf, st, rr_now() + 61), 1);
    ck_assert_int_eq(store_task_get(st, a, &t), 0);
    task_clear(&t);
    ck_assert_int_eq(store_task_get(st, b, &t), STORE_NOTFOUND);
}
END_TEST

/* A task whose end cannot be recorded (another connection holds the write
 * lock past the busy timeout) is kept, not lost: it stays busy meanwhile,
 * its end lands on the first poll after the lock goes, the notifier call
 * is queued with it and the notifier told once, and it does not run
 * again. */
START_TEST(test_end_kept_until_recorded)
{
    char id[RR_ID_LEN], err[512];
    long long pending, delivered, failed, end;
    struct store *st2;
    struct task t;

    add_task(id, "run", "[\"echo\", \"hi\"]", "", 5,
             "http://127.0.0.1:9/hook");
    st2 = store_open(conf.database, err, sizeof(err));
    ck_assert_msg(st2 != NULL, "%s", err);
    store_set_busy_ms(st, 50);
    ck_assert_int_eq(runner_poll(rn), 1);
    wait_busy(id, &t);
    task_clear(&t);
    ck_assert_int_eq(store_begin(st2), 0);          /* the store is busy */
    end = rr_mono_ms() + 3000;
    while (runner_pending_ends(rn) == 0 && rr_mono_ms() < end)
        ck_assert_int_ge(loop_run_once(lp, 20), 0);
    ck_assert_int_eq(runner_pending_ends(rn), 1);
    ck_assert_int_eq(runner_running(rn), 0);
    ck_assert_int_eq(store_task_get(st, id, &t), 0);
    ck_assert_str_eq(task_status_name(t.status), "busy");
    task_clear(&t);
    ck_assert_int_eq(kicks, 0);
    /* Still busy: the next poll keeps it. */
    ck_assert_int_ge(runner_poll(rn), -1);
    ck_assert_int_eq(runner_pending_ends(rn), 1);
    store_rollback(st2);                            /* the store is back */
    ck_assert_int_eq(runner_poll(rn), 0);
    ck_assert_int_eq(runner_pending_ends(rn), 0);
    ck_assert_int_eq(store_task_get(st, id, &t), 0);
    ck_assert_str_eq(task_status_name(t.status), "complete");
    ck_assert_int_eq(t.exit_code, 0);
    ck_assert_int_eq(t.runs, 1);
    task_clear(&t);
    ck_assert_int_eq(store_notify_counts(st, &pending, &delivered, &failed),
                     0);
    ck_assert_int_eq(pending, 1);
    ck_assert_int_eq(kicks, 1);
    store_close(st2);
}
END_TEST

/* The end hook (rrcloudd's slicer looks at once when a slice ends) is
 * called once per end, after the end is in the store, with the task's id
 * and service: for a command that ran and for one that never started. */
START_TEST(test_end_hook)
{
    char id[RR_ID_LEN], id2[RR_ID_LEN];
    struct task t;

    runner_set_on_end(rn, count_end, NULL);
    add_task(id, "run", "[\"echo\", \"hi\"]", "", 5, NULL);
    ck_assert_int_eq(runner_poll(rn), 1);
    ck_assert_int_eq(ends, 0);
    wait_final(id, 2000, &t);
    task_clear(&t);
    ck_assert_int_eq(ends, 1);
    ck_assert_str_eq(end_id, id);
    ck_assert_str_eq(end_service, "run");
    ck_assert_int_eq(end_in_store, 1);
    add_task(id2, "run", "[\"no-such-program-rrcloud\"]", "", 5, NULL);
    ck_assert_int_eq(runner_poll(rn), 1);
    wait_final(id2, 2000, &t);
    task_clear(&t);
    ck_assert_int_eq(ends, 2);
    ck_assert_str_eq(end_id, id2);
    ck_assert_int_eq(end_in_store, 1);
}
END_TEST

START_TEST(test_pid_start)
{
    ck_assert_int_gt(runner_pid_start(getpid()), 0);
    ck_assert_int_eq(runner_pid_start(getpid()), runner_pid_start(getpid()));
    ck_assert_int_eq(runner_pid_start(0), -1);
}
END_TEST

Suite *runner_suite(void)
{
    Suite *s = suite_create("runner");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 10);
    tcase_add_test(tc, test_complete_with_log);
    tcase_add_test(tc, test_exit_code);
    tcase_add_test(tc, test_fail_log);
    tcase_add_test(tc, test_no_output_file);
    tcase_add_test(tc, test_output_written);
    tcase_add_test(tc, test_exec_failure);
    tcase_add_test(tc, test_unknown_service);
    tcase_add_test(tc, test_timeout_kills_group);
    tcase_add_test(tc, test_kill_grace);
    tcase_add_test(tc, test_cancel_busy);
    tcase_add_test(tc, test_slots);
    tcase_add_test(tc, test_child_hygiene);
    tcase_add_test(tc, test_nice);
    tcase_add_test(tc, test_stop_requeues_or_fails);
    tcase_add_test(tc, test_recover);
    tcase_add_test(tc, test_recover_keeps_a_cancel);
    tcase_add_test(tc, test_recover_leaves_strangers);
    tcase_add_test(tc, test_purge);
    tcase_add_test(tc, test_purge_keeps_pending_notifier);
    tcase_add_test(tc, test_purge_events);
    tcase_add_test(tc, test_pid_start);
    tcase_add_test(tc, test_end_kept_until_recorded);
    tcase_add_test(tc, test_end_hook);
    suite_add_tcase(s, tc);
    return s;
}
