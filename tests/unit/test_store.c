/* test_store.c - unit tests for src/store/store.c and store_health.c:
 * many processes opening one new database at the same moment, the
 * heartbeat, the write probe and the error message of a failed step. */
#include "common/util.h"
#include "store/store.h"
#include "store/schema.h"

#include <check.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

Suite *store_suite(void);

#define OPENERS 8
#define ROUNDS 40

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/rrtest-store-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    rr_rmtree(dir);
}

/* A child: waits until the parent closes the pipe, opens the database and
 * writes once, as rrcloudd's first heartbeat does.  Exit 0 if all went
 * well. */
static void opener(int gate, const char *path)
{
    char err[512], host[32], b;
    struct store *st;
    int rc;

    if (read(gate, &b, 1) != 0)
        _exit(3);
    st = store_open(path, err, sizeof(err));
    if (!st) {
        fprintf(stderr, "open: %s\n", err);
        _exit(1);
    }
    snprintf(host, sizeof(host), "h%ld", (long)getpid());
    rc = store_heartbeat(st, host, (long)getpid(), rr_now(), rr_now());
    store_close(st);
    _exit(rc == 0 ? 0 : 2);
}

/* OPENERS processes released together on a new database, ROUNDS times:
 * every one opens it, and the schema is complete. */
START_TEST(test_open_concurrently)
{
    int failed = 0;

    for (int round = 0; round < ROUNDS; round++) {
        pid_t pids[OPENERS];
        char path[128], err[512];
        struct store *st;
        int gate[2];

        snprintf(path, sizeof(path), "%s/r%d.db", dir, round);
        ck_assert_int_eq(pipe(gate), 0);
        for (int i = 0; i < OPENERS; i++) {
            pids[i] = fork();
            ck_assert_int_ge(pids[i], 0);
            if (pids[i] == 0) {
                close(gate[1]);
                opener(gate[0], path);
            }
        }
        close(gate[0]);
        close(gate[1]);          /* all of them go */
        for (int i = 0; i < OPENERS; i++) {
            int ws;

            ck_assert_int_eq(waitpid(pids[i], &ws, 0), pids[i]);
            if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0)
                failed++;
        }
        ck_assert_msg(failed == 0, "round %d: %d of %d opens failed", round,
                      failed, OPENERS);
        st = store_open(path, err, sizeof(err));
        ck_assert_msg(st != NULL, "%s", err);
        {
            sqlite3_stmt *s;
            ck_assert_int_eq(sqlite3_prepare_v2(store_db(st),
                             "SELECT (SELECT user_version FROM "
                             "pragma_user_version), count(*) FROM daemons",
                             -1, &s, NULL), SQLITE_OK);
            ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
            ck_assert_int_eq(sqlite3_column_int(s, 0), schema_count);
            ck_assert_int_eq(sqlite3_column_int(s, 1), OPENERS);
            sqlite3_finalize(s);
        }
        store_close(st);
    }
}
END_TEST

/* The heartbeat: none, a beat, a clean stop. */
START_TEST(test_heartbeat)
{
    char path[128], err[512];
    struct store_beat b;
    struct store *st;

    snprintf(path, sizeof(path), "%s/hb.db", dir);
    st = store_open(path, err, sizeof(err));
    ck_assert_msg(st != NULL, "%s", err);
    ck_assert_int_eq(store_heartbeat_get(st, &b), STORE_NOTFOUND);
    ck_assert_int_eq(store_heartbeat(st, "a", 42, 100, 110), 0);
    ck_assert_int_eq(store_heartbeat(st, "a", 42, 100, 112), 0);
    ck_assert_int_eq(store_heartbeat_get(st, &b), 0);
    ck_assert_str_eq(b.host, "a");
    ck_assert_int_eq(b.pid, 42);
    ck_assert(b.beat == 112 && b.started == 100);
    /* Another pid's stop does not touch it; its own does. */
    ck_assert_int_eq(store_heartbeat_stop(st, "a", 41, 113), 0);
    ck_assert_int_eq(store_heartbeat_get(st, &b), 0);
    ck_assert_int_eq(b.pid, 42);
    ck_assert_int_eq(store_heartbeat_stop(st, "a", 42, 114), 0);
    ck_assert_int_eq(store_heartbeat_get(st, &b), 0);
    ck_assert_int_eq(b.pid, 0);
    ck_assert(b.beat == 114);
    store_close(st);
}
END_TEST

/* The write probe fails, naming the lock, while another connection holds
 * the write lock; a failed write leaves no statement running, so the next
 * transaction commits. */
START_TEST(test_probe_and_failed_step)
{
    char path[128], err[512];
    struct store *st, *st2;
    struct task t;

    snprintf(path, sizeof(path), "%s/p.db", dir);
    st = store_open(path, err, sizeof(err));
    ck_assert_msg(st != NULL, "%s", err);
    st2 = store_open(path, err, sizeof(err));
    ck_assert_msg(st2 != NULL, "%s", err);
    ck_assert_int_eq(store_probe_write(st, 100), 0);
    ck_assert_int_eq(store_begin(st2), 0);
    ck_assert_int_eq(store_probe_write(st, 50), -1);
    ck_assert_ptr_nonnull(strstr(store_errmsg(st), "locked"));
    store_set_busy_ms(st, 50);
    memset(&t, 0, sizeof(t));
    snprintf(t.id, sizeof(t.id), "1-2-3");
    snprintf(t.service, sizeof(t.service), "echo");
    t.ctime = rr_now();
    ck_assert_int_eq(store_task_insert(st, &t), -1);
    ck_assert_ptr_nonnull(strstr(store_errmsg(st), "insert task"));
    store_rollback(st2);
    ck_assert_int_eq(store_begin(st), 0);
    ck_assert_int_eq(store_task_insert(st, &t), 0);
    ck_assert_int_eq(store_commit(st), 0);
    store_close(st2);
    store_close(st);
}
END_TEST

static unsigned file_mode(const char *path)
{
    struct stat sb;

    ck_assert_int_eq(stat(path, &sb), 0);
    return (unsigned)(sb.st_mode & 07777);
}

/* The database holds secrets: created 0600 under a lax umask (its -wal
 * and -shm follow), and an old world-readable one is made private. */
START_TEST(test_open_private)
{
    char path[128], side[160], err[512];
    struct store *st;
    mode_t old = umask(022);
    int fd;

    snprintf(path, sizeof(path), "%s/new.db", dir);
    st = store_open(path, err, sizeof(err));
    ck_assert_msg(st != NULL, "%s", err);
    ck_assert_int_eq(store_heartbeat(st, "h", 1, rr_now(), rr_now()), 0);
    ck_assert_uint_eq(file_mode(path), 0600);
    snprintf(side, sizeof(side), "%s-wal", path);
    ck_assert_uint_eq(file_mode(side), 0600);
    snprintf(side, sizeof(side), "%s-shm", path);
    ck_assert_uint_eq(file_mode(side), 0600);
    store_close(st);

    snprintf(path, sizeof(path), "%s/old.db", dir);
    fd = open(path, O_WRONLY | O_CREAT, 0644);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(fchmod(fd, 0644), 0);
    close(fd);
    snprintf(side, sizeof(side), "%s-wal", path);
    fd = open(side, O_WRONLY | O_CREAT, 0644);      /* an empty WAL */
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(fchmod(fd, 0644), 0);
    close(fd);
    st = store_open(path, err, sizeof(err));
    ck_assert_msg(st != NULL, "%s", err);
    ck_assert_uint_eq(file_mode(path), 0600);
    ck_assert_uint_eq(file_mode(side), 0600);
    store_close(st);
    umask(old);
}
END_TEST

Suite *store_suite(void)
{
    Suite *s = suite_create("store");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_open_concurrently);
    tcase_add_test(tc, test_heartbeat);
    tcase_add_test(tc, test_probe_and_failed_step);
    tcase_add_test(tc, test_open_private);
    suite_add_tcase(s, tc);
    return s;
}
