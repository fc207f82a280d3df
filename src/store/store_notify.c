/* store_notify.c - see store.h: the notifier deliveries' rows. */
#include "store/store.h"
#include "store/store_int.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

void notification_clear(struct notification *n)
{
    free(n->url);
    free(n->body);
    memset(n, 0, sizeof(*n));
}

/* ---- notifications -------------------------------------------------------- */

int store_notify_add(struct store *st, const char *task_id, const char *url,
                     const char *body)
{
    static const char sql[] =
        "INSERT INTO notifications (task_id, url, body, next_at, created) "
        "VALUES (?1, ?2, ?3, ?4, ?4)";
    sqlite3_stmt *s = store_stmt(st, sql);

    if (!s)
        return -1;
    sqlite3_bind_text(s, 1, task_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, url, -1, SQLITE_STATIC);
    bind_text_or_null(s, 3, body);
    sqlite3_bind_double(s, 4, rr_now());
    if (sqlite3_step(s) != SQLITE_DONE)
        return store_step_fail(st, s, "add notification");
    return 0;
}

int store_notify_due(struct store *st, double now, int limit,
                     store_notify_cb cb, void *arg)
{
    static const char sql[] =
        "SELECT id, task_id, url, body, attempts, next_at FROM notifications "
        "WHERE state = 0 AND next_at <= ?1 ORDER BY next_at LIMIT ?2";
    sqlite3_stmt *s = store_stmt(st, sql);
    struct notification *v;
    int n = 0, rc = SQLITE_DONE, ret = -1;

    if (!s || limit <= 0)
        return s ? 0 : -1;
    v = calloc((size_t)limit, sizeof(*v));
    if (!v)
        return -1;
    sqlite3_bind_double(s, 1, now);
    sqlite3_bind_int(s, 2, limit);
    while (n < limit && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        v[n].id = sqlite3_column_int64(s, 0);
        col_copy(s, 1, v[n].task_id, sizeof(v[n].task_id));
        v[n].url = col_strdup(s, 2);
        v[n].body = col_strdup(s, 3);
        v[n].attempts = sqlite3_column_int(s, 4);
        v[n].next_at = sqlite3_column_double(s, 5);
        if (!v[n++].url)
            goto out;
    }
    if (n < limit && rc != SQLITE_DONE) {
        store_step_fail(st, s, "due notifications");
        goto out;
    }
    /* The rows are read and the statement reset before any callback: a
     * callback that writes (a delivery that cannot even be set up is
     * recorded at once) must not upgrade this read to a write, which
     * SQLite refuses at once, without waiting, while another connection
     * writes. */
    sqlite3_reset(s);
    for (int i = 0; i < n; i++) {
        if (cb(arg, &v[i]))
            break;
    }
    ret = 0;
out:
    sqlite3_reset(s);
    for (int i = 0; i < n; i++)
        notification_clear(&v[i]);
    free(v);
    return ret;
}

int store_notify_next(struct store *st, double now, double *wait_s)
{
    static const char sql[] =
        "SELECT min(next_at) FROM notifications WHERE state = 0";
    sqlite3_stmt *s = store_stmt(st, sql);

    if (!s)
        return -1;
    if (sqlite3_step(s) != SQLITE_ROW)
        return store_step_fail(st, s, "next notification");
    if (sqlite3_column_type(s, 0) == SQLITE_NULL) {
        *wait_s = -1;
    } else {
        double w = sqlite3_column_double(s, 0) - now;
        *wait_s = w < 0 ? 0 : w;
    }
    sqlite3_reset(s);
    return 0;
}

int store_notify_result(struct store *st, long long id, int done,
                        double next_at, const char *last_error)
{
    static const char sql[] =
        "UPDATE notifications SET attempts = attempts + 1, state = ?2, "
        "next_at = ?3, last_error = ?4 WHERE id = ?1";
    sqlite3_stmt *s = store_stmt(st, sql);

    if (!s)
        return -1;
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_int(s, 2, done == 1 ? 1 : done < 0 ? 2 : 0);
    sqlite3_bind_double(s, 3, next_at);
    bind_text_or_null(s, 4, last_error);
    return store_write(st, s, "notification result");
}

int store_notify_counts(struct store *st, long long *pending,
                        long long *delivered, long long *failed)
{
    static const char sql[] =
        "SELECT state, count(*) FROM notifications GROUP BY state";
    sqlite3_stmt *s = store_stmt(st, sql);
    int rc;

    *pending = *delivered = *failed = 0;
    if (!s)
        return -1;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        long long n = sqlite3_column_int64(s, 1);

        switch (sqlite3_column_int(s, 0)) {
        case 0: *pending = n; break;
        case 1: *delivered = n; break;
        default: *failed = n; break;
        }
    }
    if (rc != SQLITE_DONE)
        return store_step_fail(st, s, "count notifications");
    sqlite3_reset(s);
    return 0;
}
