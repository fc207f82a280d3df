/* store.c - see store.h.  Connection, migrations, tasks, notifications. */
#include "store/store.h"

#include "common/log.h"
#include "fleet/model.h"
#include "store/schema.h"
#include "store/store_fair.h"
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

/* ---- tasks ---------------------------------------------------------------- */

#define TASK_COLS                                                          \
    "id, service, status, client, out_name, argv_json, inputs, notifier, " \
    "reason, ctime, stime, etime, size_in, size_out, timeout, pid, "       \
    "pid_start, exit_code, runs, cancel_requested, seq, kind, "             \
    "CASE WHEN kind = 1 THEN (SELECT id FROM jobs WHERE task_id = tasks.id) " \
    "END, owner, client_key, chain, stage, job_spec"

char *col_strdup(sqlite3_stmt *s, int i)
{
    const unsigned char *v = sqlite3_column_text(s, i);

    return v ? strdup((const char *)v) : NULL;
}

void col_copy(sqlite3_stmt *s, int i, char *dst, size_t len)
{
    const unsigned char *v = sqlite3_column_text(s, i);

    snprintf(dst, len, "%s", v ? (const char *)v : "");
}

/* Fills t from a row selected with TASK_COLS.  -1 if out of memory. */
static int task_from_row(sqlite3_stmt *s, struct task *t)
{
    int status;

    memset(t, 0, sizeof(*t));
    col_copy(s, 0, t->id, sizeof(t->id));
    col_copy(s, 1, t->service, sizeof(t->service));
    status = sqlite3_column_int(s, 2);
    t->status = (enum task_status)status;
    col_copy(s, 3, t->client, sizeof(t->client));
    col_copy(s, 4, t->out_name, sizeof(t->out_name));
    t->argv_json = col_strdup(s, 5);
    t->inputs = col_strdup(s, 6);
    t->notifier = col_strdup(s, 7);
    t->reason = col_strdup(s, 8);
    t->ctime = sqlite3_column_double(s, 9);
    t->stime = sqlite3_column_double(s, 10);
    t->etime = sqlite3_column_double(s, 11);
    t->size_in = sqlite3_column_int64(s, 12);
    t->size_out = sqlite3_column_int64(s, 13);
    t->timeout = sqlite3_column_int64(s, 14);
    t->pid = (long)sqlite3_column_int64(s, 15);
    t->pid_start = sqlite3_column_int64(s, 16);
    t->exit_code = sqlite3_column_int(s, 17);
    t->runs = sqlite3_column_int(s, 18);
    t->cancel_requested = sqlite3_column_int(s, 19);
    t->seq = sqlite3_column_int64(s, 20);
    t->kind = sqlite3_column_int(s, 21);
    t->job_id = sqlite3_column_int64(s, 22);   /* NULL reads as 0 */
    col_copy(s, 23, t->owner, sizeof(t->owner));
    col_copy(s, 24, t->client_key, sizeof(t->client_key));
    col_copy(s, 25, t->chain, sizeof(t->chain));
    t->stage = sqlite3_column_int(s, 26);
    t->job_spec = col_strdup(s, 27);
    if (!t->argv_json || !t->inputs) {
        task_clear(t);
        return -1;
    }
    return 0;
}

void bind_text_or_null(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

/* Whom t counts against: its client_key, else its owner, else its
 * address. */
static void task_key(const struct task *t, char *buf, size_t len)
{
    if (t->client_key[0])
        snprintf(buf, len, "%s", t->client_key);
    else if (t->owner[0])
        snprintf(buf, len, "%s", t->owner);
    else
        snprintf(buf, len, "ip:%s", t->client);
}

/* Binds what store_task_insert_capped's statement checks (0 = no cap):
 * ?14 client's queued, ?15..?19 the family's open work (store_owner_open
 * as a range), ?20 the spool quota.  (?21..?23 are the chain columns.) */
static int bind_caps(struct store *st, sqlite3_stmt *s,
                     const struct store_task_caps *caps, char *lo, char *hi,
                     size_t len)
{
    const char *family = caps->family ? caps->family : "";

    if (rr_fmt(lo, len, "%s/", family) < 0 ||
        rr_fmt(hi, len, "%s0", family) < 0) {
        store_set_errmsg(st, "owner name too long");
        return -1;
    }
    sqlite3_bind_int64(s, 14, caps->client_queued);
    sqlite3_bind_int64(s, 15, caps->family ? caps->family_open : 0);
    sqlite3_bind_text(s, 16, family, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 17, lo, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 18, hi, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 19, JOB_COMPLETE);
    sqlite3_bind_int64(s, 20, caps->spool_quota);
    return 0;
}

/* The INSERT of store_task_insert_capped and the checks it makes. */
#define TASK_INSERT_SELECT                                                  \
    "INSERT INTO tasks (id, service, status, client, out_name, "          \
    "argv_json, inputs, notifier, ctime, size_in, timeout, kind, owner, " \
    "client_key, chain, stage, job_spec) SELECT ?1, ?2, 0, ?3, ?4, ?5, "  \
    "?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?21, ?22, ?23 "                  \
    "WHERE (?14 <= 0 OR coalesce((SELECT queued FROM task_clients "       \
    "  WHERE key = ?13), 0) < ?14) "                                      \
    "AND (?20 <= 0 OR (SELECT bytes FROM spool_usage WHERE id = 1) "      \
    "  + ?9 <= ?20)"
#define TASK_INSERT_FAMILY                                                  \
    " AND (SELECT count(*) FROM tasks WHERE (owner = ?16 "                \
    "  OR (owner >= ?17 AND owner < ?18)) AND status < 2 AND kind = 0) "  \
    "  + (SELECT count(*) FROM jobs WHERE (owner = ?16 OR (owner >= ?17 " \
    "  AND owner < ?18)) AND state < ?19) < ?15"

int store_task_insert_capped(struct store *st, const struct task *t,
                             const struct store_task_caps *caps,
                             enum store_cap *which, long long *found)
{
    /* One statement: a write statement holds the write lock from its
     * start, so the counts it reads are the ones it inserts against.
     * SQLite computes a subquery that does not depend on the row once,
     * before the WHERE, whatever an OR in front of it says: so the
     * family's count, which walks that owner's tasks, is in a statement
     * of its own, used only with a family cap; the others are one seek. */
    static const char sql[] = TASK_INSERT_SELECT;
    static const char sql_family[] = TASK_INSERT_SELECT TASK_INSERT_FAMILY;
    int family = caps->family && caps->family_open > 0;
    sqlite3_stmt *s;
    char key[sizeof(t->client_key)], lo[256], hi[256];
    struct task keyed;
    int rc, retried = 0;

again:
    *which = STORE_CAP_NONE;
    *found = 0;
    s = store_stmt(st, family ? sql_family : sql);
    if (!s)
        return -1;
    task_key(t, key, sizeof(key));
    sqlite3_bind_text(s, 1, t->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, t->service, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, t->client, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, t->out_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, t->argv_json ? t->argv_json : "[]", -1,
                      SQLITE_STATIC);
    sqlite3_bind_text(s, 6, t->inputs ? t->inputs : "", -1, SQLITE_STATIC);
    bind_text_or_null(s, 7, t->notifier);
    sqlite3_bind_double(s, 8, t->ctime);
    sqlite3_bind_int64(s, 9, t->size_in);
    sqlite3_bind_int64(s, 10, t->timeout);
    sqlite3_bind_int(s, 11, t->kind);
    sqlite3_bind_text(s, 12, t->owner, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 13, key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 21, t->chain, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 22, t->stage);
    bind_text_or_null(s, 23, t->job_spec);
    if (bind_caps(st, s, caps, lo, hi, sizeof(lo)) < 0) {
        sqlite3_reset(s);
        return -1;
    }
    rc = store_write(st, s, "insert task");
    if (rc != STORE_NOTFOUND)
        return rc;
    /* Refused: which cap, read again for the message only.  If none is
     * over any more (a task started meanwhile), the insert is tried once
     * more. */
    keyed = *t;
    memcpy(keyed.client_key, key, sizeof(key));
    rc = store_task_cap_found(st, &keyed, caps, which, found);
    if (rc == 0 && *which == STORE_CAP_NONE && !retried) {
        retried = 1;
        goto again;
    }
    return rc < 0 ? -1 : STORE_CONFLICT;
}

int store_task_insert(struct store *st, const struct task *t)
{
    static const struct store_task_caps none;
    enum store_cap which;
    long long found;

    return store_task_insert_capped(st, t, &none, &which, &found);
}

int store_task_get(struct store *st, const char *id, struct task *out)
{
    static const char sql[] = "SELECT " TASK_COLS " FROM tasks WHERE id = ?1";
    sqlite3_stmt *s = store_stmt(st, sql);
    int rc;

    memset(out, 0, sizeof(*out));
    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_DONE)
        return STORE_NOTFOUND;
    if (rc != SQLITE_ROW)
        return store_step_fail(st, s, "get task");
    rc = task_from_row(s, out);
    /* A statement left on a row keeps its read transaction open, and in WAL
     * mode every later read on this connection would see that old
     * snapshot. */
    sqlite3_reset(s);
    return rc;
}

/* Walks a prepared SELECT of TASK_COLS, calling cb per row. */
static int store_task_walk(struct store *st, sqlite3_stmt *s,
                           store_task_cb cb, void *arg)
{
    struct task t;
    int rc;

    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int stop;

        if (task_from_row(s, &t) < 0) {
            sqlite3_reset(s);
            return -1;
        }
        stop = cb(arg, &t);
        task_clear(&t);
        if (stop)
            break;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_step_fail(st, s, "list tasks");
    return 0;
}

int store_task_list(struct store *st, const char *client, const char *owner,
                    int status, int limit, int offset, store_task_cb cb,
                    void *arg)
{
    /* One statement per filter, each walking one index (tasks_client,
     * tasks_owner, the rowid): "?1 IS NULL OR" would defeat them. */
    static const char sql_all[] =
        "SELECT " TASK_COLS " FROM tasks WHERE (?2 < 0 OR status = ?2) "
        "ORDER BY seq DESC LIMIT ?3 OFFSET ?4";
    static const char sql_client[] =
        "SELECT " TASK_COLS " FROM tasks WHERE client = ?1 AND owner = '' "
        "AND (?2 < 0 OR status = ?2) ORDER BY seq DESC LIMIT ?3 OFFSET ?4";
    static const char sql_owner[] =
        "SELECT " TASK_COLS " FROM tasks WHERE owner = ?1 "
        "AND (?2 < 0 OR status = ?2) ORDER BY seq DESC LIMIT ?3 OFFSET ?4";
    sqlite3_stmt *s = store_stmt(st, owner ? sql_owner
                                     : client ? sql_client : sql_all);

    if (!s)
        return -1;
    bind_text_or_null(s, 1, owner ? owner : client);
    sqlite3_bind_int(s, 2, status);
    sqlite3_bind_int(s, 3, limit);
    sqlite3_bind_int(s, 4, offset);
    return store_task_walk(st, s, cb, arg);
}

int store_task_count(struct store *st, int status, long long *out)
{
    /* Two statements: "?1 < 0 OR status = ?1" cannot use the status
     * index, and the submit path counts the queued tasks every time. */
    static const char sql_all[] = "SELECT count(*) FROM tasks";
    static const char sql_one[] =
        "SELECT count(*) FROM tasks WHERE status = ?1";
    sqlite3_stmt *s = store_stmt(st, status < 0 ? sql_all : sql_one);

    if (!s)
        return -1;
    if (status >= 0)
        sqlite3_bind_int(s, 1, status);
    if (sqlite3_step(s) != SQLITE_ROW)
        return store_step_fail(st, s, "count tasks");
    *out = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return 0;
}

int store_task_claim_max(struct store *st, int max_running, struct task *out)
{
    /* The client whose turn it is: fewest tasks running, then the one
     * served longest ago (task_clients_turn gives it as its first entry);
     * then that client's oldest task (tasks_fifo).  Two index seeks
     * whatever the queue holds.  Without ANALYZE's statistics the planner
     * would rather walk tasks_status in seq order, past every task of the
     * client ahead: hence INDEXED BY.  One UPDATE is atomic: two runners never
     * take one task. */
    static const char sql[] =
        "UPDATE tasks SET status = 1, stime = ?1, runs = runs + 1, "
        "pid = 0, pid_start = 0 "
        "WHERE seq = (SELECT seq FROM tasks INDEXED BY tasks_fifo "
        "WHERE status = 0 AND kind = 0 "
        "AND client_key = (SELECT key FROM task_clients WHERE queued > 0 "
        "AND running < ?2 ORDER BY running, served LIMIT 1) "
        "ORDER BY seq LIMIT 1) RETURNING " TASK_COLS;
    sqlite3_stmt *s = store_stmt(st, sql);
    int rc;

    memset(out, 0, sizeof(*out));
    if (!s)
        return -1;
    sqlite3_bind_double(s, 1, rr_now());
    sqlite3_bind_int64(s, 2, max_running > 0 ? max_running : 1LL << 62);
    rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
        sqlite3_reset(s);
        return STORE_NOTFOUND;
    }
    if (rc != SQLITE_ROW)
        return store_step_fail(st, s, "claim task");
    rc = task_from_row(s, out);
    /* Finish the statement so the write commits now. */
    while (sqlite3_step(s) == SQLITE_ROW)
        ;
    sqlite3_reset(s);
    return rc;
}

int store_task_claim(struct store *st, struct task *out)
{
    return store_task_claim_max(st, 0, out);
}

int store_write(struct store *st, sqlite3_stmt *s, const char *what)
{
    if (sqlite3_step(s) != SQLITE_DONE)
        return store_step_fail(st, s, what);
    return sqlite3_changes(st->db) > 0 ? 0 : STORE_NOTFOUND;
}

int store_task_set_pid(struct store *st, const char *id, long pid,
                       long long pid_start)
{
    static const char sql[] =
        "UPDATE tasks SET pid = ?2, pid_start = ?3 WHERE id = ?1";
    sqlite3_stmt *s = store_stmt(st, sql);

    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, pid);
    sqlite3_bind_int64(s, 3, pid_start);
    return store_write(st, s, "set pid");
}

int store_task_finish(struct store *st, const char *id,
                      enum task_status status, int exit_code,
                      const char *reason, long long size_out)
{
    static const char sql[] =
        "UPDATE tasks SET status = ?2, exit_code = ?3, reason = ?4, "
        "size_out = ?5, etime = ?6, pid = 0, cancel_requested = 0 "
        "WHERE id = ?1 AND status < 2";
    sqlite3_stmt *s = store_stmt(st, sql);

    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, (int)status);
    sqlite3_bind_int(s, 3, exit_code);
    bind_text_or_null(s, 4, reason);
    sqlite3_bind_int64(s, 5, size_out);
    sqlite3_bind_double(s, 6, rr_now());
    return store_write(st, s, "finish task");
}

int store_task_requeue(struct store *st, const char *id)
{
    static const char sql[] =
        "UPDATE tasks SET status = 0, pid = 0, pid_start = 0, stime = 0 "
        "WHERE id = ?1 AND status = 1";
    sqlite3_stmt *s = store_stmt(st, sql);

    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    return store_write(st, s, "requeue task");
}

int store_task_cancel(struct store *st, const char *id, const char *reason,
                      enum task_status *now_status)
{
    static const char sql_q[] =
        "UPDATE tasks SET status = 4, reason = ?2, etime = ?3 "
        "WHERE id = ?1 AND status = 0";
    static const char sql_b[] =
        "UPDATE tasks SET cancel_requested = 1, reason = ?2 "
        "WHERE id = ?1 AND status = 1";
    /* A print task stays open: the fleet cancels its job, and the job's
     * end finishes the task and queues its notifier like any other end. */
    static const char sql_p[] =
        "UPDATE tasks SET cancel_requested = 1, reason = ?2 "
        "WHERE id = ?1 AND status < 2";
    struct task t;
    sqlite3_stmt *s;
    int rc, now_final;

    if (store_begin(st) < 0)
        return -1;
    rc = store_task_get(st, id, &t);
    if (rc != 0)
        goto out;
    *now_status = t.status;
    if (task_status_final(t.status))
        goto out;
    now_final = t.status == TASK_QUEUED && t.kind != TASK_KIND_PRINT;
    s = store_stmt(st, t.kind == TASK_KIND_PRINT ? sql_p :
                       now_final ? sql_q : sql_b);
    if (!s) {
        rc = -1;
        goto out;
    }
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, reason, -1, SQLITE_STATIC);
    if (now_final) {
        sqlite3_bind_double(s, 3, rr_now());
        *now_status = TASK_CANCELLED;
    }
    rc = store_write(st, s, "cancel task");
out:
    task_clear(&t);
    if (rc < 0) {
        store_rollback(st);
        return -1;
    }
    if (store_commit(st) < 0)
        return -1;
    return rc == STORE_NOTFOUND && *now_status != TASK_CANCELLED &&
                   task_status_final(*now_status)
               ? 0
               : rc;
}

int store_task_cancel_pending(struct store *st, store_task_cb cb, void *arg)
{
    static const char sql[] = "SELECT " TASK_COLS " FROM tasks "
                              "WHERE status = 1 AND cancel_requested = 1 "
                              "AND kind = 0";
    sqlite3_stmt *s = store_stmt(st, sql);

    if (!s)
        return -1;
    return store_task_walk(st, s, cb, arg);
}

int store_task_finished_since(struct store *st, double since,
                              store_id_cb cb, void *arg)
{
    static const char sql[] =
        "SELECT id FROM tasks WHERE status >= 2 AND etime >= ?1";
    sqlite3_stmt *s = store_stmt(st, sql);
    int rc;

    if (!s)
        return -1;
    sqlite3_bind_double(s, 1, since);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (cb(arg, (const char *)sqlite3_column_text(s, 0)))
            break;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return store_step_fail(st, s, "finished tasks");
    sqlite3_reset(s);
    return 0;
}

int store_task_delete(struct store *st, const char *id)
{
    static const char sql_n[] = "DELETE FROM notifications WHERE task_id = ?1";
    static const char sql_t[] = "DELETE FROM tasks WHERE id = ?1";
    sqlite3_stmt *s;
    int rc;

    if (store_begin(st) < 0)
        return -1;
    s = store_stmt(st, sql_n);
    if (!s)
        goto fail;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    if (store_write(st, s, "delete notifications") < 0)
        goto fail;
    s = store_stmt(st, sql_t);
    if (!s)
        goto fail;
    sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
    rc = store_write(st, s, "delete task");
    if (rc < 0)
        goto fail;
    if (store_commit(st) < 0)
        return -1;
    return rc;
fail:
    store_rollback(st);
    return -1;
}

int store_task_expired(struct store *st, double before, int limit,
                       store_task_cb cb, void *arg)
{
    /* Not while a notifier call is still to be made: it would go with
     * the task (a restart after a long stop purges before delivering). */
    static const char sql[] = "SELECT " TASK_COLS " FROM tasks "
                              "WHERE status >= 2 AND etime < ?1 AND NOT "
                              "EXISTS (SELECT 1 FROM notifications n WHERE "
                              "n.task_id = tasks.id AND n.state = 0) "
                              "ORDER BY etime LIMIT ?2";
    sqlite3_stmt *s = store_stmt(st, sql);

    if (!s)
        return -1;
    sqlite3_bind_double(s, 1, before);
    sqlite3_bind_int(s, 2, limit);
    return store_task_walk(st, s, cb, arg);
}
