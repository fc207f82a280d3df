/* store.c - see store.h.  The connection, its statements and
 * transactions, migrations; tasks are in store_tasks.c. */
#include "store/store.h"

#include "common/log.h"
#include "store/schema.h"
#include "store/store_int.h"

#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>

#define STORE_MAX_STMTS 48
/* How long a statement waits for another connection's lock. */
#define STORE_BUSY_MS 5000
/* How long store_open keeps trying while other processes create or
 * migrate the database (each try also waits up to STORE_BUSY_MS). */
#define STORE_OPEN_PATIENCE_MS 60000

struct store {
    sqlite3 *db;
    /* Prepared statements keyed by the address of their SQL literal: the
     * hot paths (info lookups) then cost one sqlite3_step. */
    struct {
        const char *sql;
        sqlite3_stmt *stmt;
    } cache[STORE_MAX_STMTS];
    int ncache;
    int opening;        /* in store_open: a busy error is retried, not logged */
    char errmsg[256];
};

static const char *const status_names[] = {
    "queued", "busy", "complete", "failed", "cancelled",
};

const char *task_status_name(enum task_status s)
{
    return (unsigned)s < 5 ? status_names[s] : "unknown";
}

int task_status_parse(const char *s, enum task_status *out)
{
    for (int i = 0; i < 5; i++) {
        if (strcmp(s, status_names[i]) == 0) {
            *out = (enum task_status)i;
            return 0;
        }
    }
    return -1;
}

void task_clear(struct task *t)
{
    free(t->argv_json);
    free(t->inputs);
    free(t->notifier);
    free(t->reason);
    free(t->job_spec);
    memset(t, 0, sizeof(*t));
}

static int store_fail(struct store *st, const char *what)
{
    snprintf(st->errmsg, sizeof(st->errmsg), "%s: %s", what,
             sqlite3_errmsg(st->db));
    log_err("store: %s", st->errmsg);
    return -1;
}

/* A statement left after SQLITE_BUSY still counts as running, and the
 * next COMMIT on this connection would fail with "SQL statements in
 * progress": reset it. */
int store_step_fail(struct store *st, sqlite3_stmt *s, const char *what)
{
    store_fail(st, what);
    sqlite3_reset(s);
    return -1;
}

int store_set_error(struct store *st, const char *what)
{
    return store_fail(st, what);
}

void store_set_errmsg(struct store *st, const char *msg)
{
    snprintf(st->errmsg, sizeof(st->errmsg), "%s", msg);
}

const char *store_errmsg(struct store *st)
{
    return st->errmsg;
}

struct sqlite3 *store_db(struct store *st)
{
    return st->db;
}

sqlite3_stmt *store_stmt(struct store *st, const char *sql)
{
    sqlite3_stmt *s;

    for (int i = 0; i < st->ncache; i++) {
        if (st->cache[i].sql == sql) {
            s = st->cache[i].stmt;
            sqlite3_reset(s);
            sqlite3_clear_bindings(s);
            return s;
        }
    }
    if (sqlite3_prepare_v3(st->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s,
                           NULL) != SQLITE_OK) {
        store_fail(st, "prepare");
        return NULL;
    }
    if (st->ncache < STORE_MAX_STMTS) {
        st->cache[st->ncache].sql = sql;
        st->cache[st->ncache].stmt = s;
        st->ncache++;
    } else {
        /* Should not happen: the number of distinct statements is fixed. */
        log_warn("store: statement cache full");
    }
    return s;
}

static int store_rc_busy(int rc);

static int store_exec(struct store *st, const char *sql)
{
    char *msg = NULL;
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, &msg);

    if (rc != SQLITE_OK) {
        snprintf(st->errmsg, sizeof(st->errmsg), "%s", msg ? msg : "?");
        if (!st->opening || !store_rc_busy(rc))
            log_err("store: %s", st->errmsg);
        sqlite3_free(msg);
        return -1;
    }
    return 0;
}

int store_write(struct store *st, sqlite3_stmt *s, const char *what)
{
    if (sqlite3_step(s) != SQLITE_DONE)
        return store_step_fail(st, s, what);
    return sqlite3_changes(st->db) > 0 ? 0 : STORE_NOTFOUND;
}

int store_begin(struct store *st)
{
    return store_exec(st, "BEGIN IMMEDIATE");
}

int store_commit(struct store *st)
{
    return store_exec(st, "COMMIT");
}

void store_rollback(struct store *st)
{
    sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

int store_savepoint(struct store *st)
{
    return store_exec(st, "SAVEPOINT rr_step");
}

int store_savepoint_release(struct store *st)
{
    return store_exec(st, "RELEASE rr_step");
}

void store_savepoint_undo(struct store *st)
{
    sqlite3_exec(st->db, "ROLLBACK TO rr_step; RELEASE rr_step", NULL, NULL,
                 NULL);
}

/* True for the failures that pass when the other connection is done:
 * another process creating or migrating the database at the same moment
 * (SQLite does not call the busy handler for a journal-mode change or a
 * read lock upgraded to a write lock; it fails at once). */
static int store_rc_busy(int rc)
{
    rc &= 0xff;
    return rc == SQLITE_BUSY || rc == SQLITE_LOCKED;
}

/* Reads PRAGMA user_version; -1 on error. */
static int store_user_version(struct store *st, int *version)
{
    sqlite3_stmt *s;
    int rc;

    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s, NULL) !=
        SQLITE_OK)
        return -1;
    rc = sqlite3_step(s);
    *version = rc == SQLITE_ROW ? sqlite3_column_int(s, 0) : 0;
    sqlite3_finalize(s);
    return rc == SQLITE_ROW ? 0 : -1;
}

/* Brings the schema up to date in one BEGIN IMMEDIATE transaction, so of
 * processes starting together one migrates and the others, waiting on its
 * write lock, find the work done when they get it. */
static int store_migrate(struct store *st, char *err, size_t errlen)
{
    char pragma[64];
    int version;

    /* The usual case, an up-to-date database, takes no write lock. */
    if (store_user_version(st, &version) < 0)
        goto fail;
    if (version == schema_count)
        return 0;
    if (store_begin(st) < 0)
        goto fail;
    if (store_user_version(st, &version) < 0)
        goto fail_rb;
    if (version == schema_count) {
        /* Another process migrated while we waited for its lock. */
        store_rollback(st);
        return 0;
    }
    if (version > schema_count) {
        store_rollback(st);
        snprintf(err, errlen, "database schema %d is newer than this "
                 "program (%d)", version, schema_count);
        return -1;
    }
    for (int v = version; v < schema_count; v++) {
        if (store_exec(st, schema_migrations[v]) < 0)
            goto fail_rb;
    }
    snprintf(pragma, sizeof(pragma), "PRAGMA user_version=%d", schema_count);
    if (store_exec(st, pragma) < 0 || store_commit(st) < 0)
        goto fail_rb;
    log_info("store: database schema %d -> %d", version, schema_count);
    return 0;
fail_rb:
    store_rollback(st);
fail:
    snprintf(err, errlen, "migrating database: %s", sqlite3_errmsg(st->db));
    return -1;
}

/* Journal mode, connection settings, schema.  Returns 0, -1 with err set,
 * or STORE_RETRY when another connection was in the way. */
#define STORE_RETRY 2
static int store_setup(struct store *st, const char *path, char *err,
                       size_t errlen)
{
    if (store_exec(st, "PRAGMA journal_mode=WAL") < 0 ||
        store_exec(st, "PRAGMA synchronous=NORMAL") < 0 ||
        store_exec(st, "PRAGMA foreign_keys=ON") < 0 ||
        /* 1 MiB per connection instead of 2: rrcloud-fcgi has one per
         * thread, and its lookups touch few pages. */
        store_exec(st, "PRAGMA cache_size=-1024") < 0) {
        snprintf(err, errlen, "%s: %s", path, st->errmsg);
        goto fail;
    }
    if (store_migrate(st, err, errlen) < 0)
        goto fail;
    return 0;
fail:
    return store_rc_busy(sqlite3_extended_errcode(st->db)) ? STORE_RETRY
                                                           : -1;
}

/* Sleeps between tries: 10 ms doubling to 1 s, each a random 50-100 % of
 * that so processes that collided once do not collide again. */
static void store_backoff(int attempt)
{
    long long ms = 10LL << (attempt < 7 ? attempt : 7);
    unsigned short r = 0;
    struct timespec ts;

    if (ms > 1000)
        ms = 1000;
    if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
        r = (unsigned short)rr_mono_ms();
    ms = ms / 2 + (ms / 2) * r / 65535;
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Takes group and world bits off path, if it is a regular file.  By path,
 * never through an fd: closing any fd of a database file drops every
 * POSIX lock this process holds on it, the locks of SQLite connections in
 * other threads included (the -shm's among them), which corrupts WAL. */
static int store_chmod_private(const char *path, char *err, size_t errlen)
{
    struct stat sb;

    if (lstat(path, &sb) < 0 || !S_ISREG(sb.st_mode) || !(sb.st_mode & 077))
        return 0;
    if (chmod(path, sb.st_mode & 0700) < 0) {
        snprintf(err, errlen, "%s: others may read it (mode %04o) and "
                 "chmod failed: %s", path, (unsigned)(sb.st_mode & 07777),
                 strerror(errno));
        return -1;
    }
    return 0;
}

/* The database holds Moonraker API keys, printer tokens' hashes and share
 * passwords: it is created 0600 before SQLite sees it, whatever the umask
 * (mknod: no fd, see above), and one left group- or world-readable by an
 * earlier version is made private, with its -wal and -shm (SQLite gives
 * new ones the database's mode).  Returns 0, or -1 with err set and errno
 * kept. */
static int store_private_file(const char *path, char *err, size_t errlen)
{
    static const char *const side[] = { "", "-wal", "-shm" };
    char p[4096];

    if (path[0] == '\0' || path[0] == ':' || strncmp(path, "file:", 5) == 0)
        return 0;   /* in-memory, temporary or URI: nothing to create */
    if (mknod(path, S_IFREG | 0600, 0) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < sizeof(side) / sizeof(side[0]); i++) {
        if (rr_fmt(p, sizeof(p), "%s%s", path, side[i]) < 0)
            continue;   /* SQLite will refuse the path itself */
        if (store_chmod_private(p, err, errlen) < 0)
            return -1;
    }
    return 0;
}

struct store *store_open_ex(const char *path, char *err, size_t errlen,
                            int *transient)
{
    struct store *st = calloc(1, sizeof(*st));
    long long deadline = rr_mono_ms() + STORE_OPEN_PATIENCE_MS;
    int rc;

    if (transient)
        *transient = 0;
    if (!st) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (store_private_file(path, err, errlen) < 0) {
        if (transient)
            *transient = errno == ENOSPC || errno == EDQUOT || errno == EIO;
        goto fail;
    }
    if (sqlite3_open_v2(path, &st->db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", path,
                 st->db ? sqlite3_errmsg(st->db) : "cannot open");
        goto fail;
    }
    sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
    st->opening = 1;
    for (int attempt = 0;; attempt++) {
        rc = store_setup(st, path, err, errlen);
        if (rc != STORE_RETRY)
            break;
        if (rr_mono_ms() > deadline) {
            rc = -1;
            break;
        }
        if (attempt == 0)
            log_warn("store: %s; another process is opening the database, "
                     "trying again", err);
        store_backoff(attempt);
    }
    st->opening = 0;
    if (rc < 0)
        goto fail;
    return st;
fail:
    if (transient && st->db) {
        int e = sqlite3_extended_errcode(st->db) & 0xff;

        *transient = store_rc_busy(e) || e == SQLITE_FULL ||
                     e == SQLITE_IOERR;
    }
    store_close(st);
    return NULL;
}

struct store *store_open(const char *path, char *err, size_t errlen)
{
    return store_open_ex(path, err, errlen, NULL);
}

void store_set_busy_ms(struct store *st, int ms)
{
    sqlite3_busy_timeout(st->db, ms > 0 ? ms : STORE_BUSY_MS);
}

int store_set_cache_kib(struct store *st, int kib)
{
    char sql[64];

    snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%d", kib > 0 ? kib : 1);
    return store_exec(st, sql);
}

void store_close(struct store *st)
{
    if (!st)
        return;
    for (int i = 0; i < st->ncache; i++)
        sqlite3_finalize(st->cache[i].stmt);
    sqlite3_close(st->db);
    free(st);
}
