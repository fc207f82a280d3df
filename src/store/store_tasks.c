/* store_tasks.c - tasks: insert (with the fair-share caps), read, list,
 * claim, finish, cancel, purge (store.h). */
#include "store/store.h"

#include "common/util.h"
#include "store/store_fair.h"
#include "store/store_int.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Whom t counts against: its client_key, else its owner's family (an
 * app's end users count as the app, as migration 8 keys old rows), else
 * its address. */
static void task_key(const struct task *t, char *buf, size_t len)
{
    if (t->client_key[0])
        snprintf(buf, len, "%s", t->client_key);
    else if (t->owner[0])
        snprintf(buf, len, "%.*s", (int)strcspn(t->owner, "/"), t->owner);
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
     * the task (a restart after a long stop purges before delivering).
     * Not a chain's stage while a stage of it is open: the first stage's
     * id names the chain (c.chain != '' lets tasks_chain serve). */
    static const char sql[] = "SELECT " TASK_COLS " FROM tasks "
                              "WHERE status >= 2 AND etime < ?1 AND NOT "
                              "EXISTS (SELECT 1 FROM notifications n WHERE "
                              "n.task_id = tasks.id AND n.state = 0) "
                              "AND NOT EXISTS (SELECT 1 FROM tasks c WHERE "
                              "tasks.chain != '' AND c.chain = tasks.chain "
                              "AND c.chain != '' AND c.status < 2) "
                              "ORDER BY etime LIMIT ?2";
    sqlite3_stmt *s = store_stmt(st, sql);

    if (!s)
        return -1;
    sqlite3_bind_double(s, 1, before);
    sqlite3_bind_int(s, 2, limit);
    return store_task_walk(st, s, cb, arg);
}
