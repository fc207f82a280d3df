/* store_fair.c - see store_fair.h. */
#include "store/store_fair.h"

#include "store/store_fleet_int.h"

int store_client_tasks(struct store *st, const char *client_key,
                       long long *queued, long long *running)
{
    sqlite3_stmt *s = sf_bind(st, "SELECT queued, running FROM task_clients "
                              "WHERE key = ?1", "t", client_key);
    int rc;

    *queued = *running = 0;
    if (!s)
        return -1;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *queued = sqlite3_column_int64(s, 0);
        *running = sqlite3_column_int64(s, 1);
    }
    sf_done(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0
                                                 : sf_fail(st, "client tasks");
}

int store_spool_bytes(struct store *st, long long *bytes)
{
    int rc = sf_ll(st, bytes, "SELECT bytes FROM spool_usage WHERE id = 1",
                   "");

    if (rc == STORE_NOTFOUND) {
        store_set_errmsg(st, "spool usage: no row (schema 8 missing?)");
        return -1;
    }
    return rc;
}

/* Records the cap that is over; 0. */
static int cap_over(enum store_cap *which, long long *found,
                    enum store_cap cap, long long n)
{
    *which = cap;
    *found = n;
    return 0;
}

int store_task_cap_found(struct store *st, const struct task *t,
                         const struct store_task_caps *caps,
                         enum store_cap *which, long long *found)
{
    long long n, running;

    *which = STORE_CAP_NONE;
    *found = 0;
    if (caps->client_queued > 0) {
        if (store_client_tasks(st, t->client_key, &n, &running) < 0)
            return -1;
        if (n >= caps->client_queued)
            return cap_over(which, found, STORE_CAP_CLIENT_QUEUED, n);
    }
    if (caps->family && caps->family_open > 0) {
        if (store_owner_open(st, caps->family, &n) < 0)
            return -1;
        if (n >= caps->family_open)
            return cap_over(which, found, STORE_CAP_FAMILY_OPEN, n);
    }
    if (caps->spool_quota > 0) {
        if (store_spool_bytes(st, &n) < 0)
            return -1;
        if (n + t->size_in > caps->spool_quota)
            return cap_over(which, found, STORE_CAP_SPOOL_QUOTA, n);
    }
    return 0;
}
