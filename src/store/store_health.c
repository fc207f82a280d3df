/* store_health.c - see store.h: rrcloudd's heartbeat and the write probe
 * behind /healthz. */
#include "store/store.h"
#include "store/store_fleet_int.h"

#include <sqlite3.h>
#include <string.h>

int store_heartbeat(struct store *st, const char *host, long pid,
                    double started, double now)
{
    int rc = sf_exec(st, "INSERT INTO daemons (host, pid, started, beat) "
                         "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (host) DO "
                         "UPDATE SET pid = ?2, started = ?3, beat = ?4",
                     "tidd", host, (long long)pid, started, now);

    return rc < 0 ? -1 : 0;
}

int store_heartbeat_stop(struct store *st, const char *host, long pid,
                         double now)
{
    int rc = sf_exec(st, "UPDATE daemons SET pid = 0, beat = ?3 "
                         "WHERE host = ?1 AND pid = ?2",
                     "tid", host, (long long)pid, now);

    return rc < 0 ? -1 : 0;
}

static int beat_read(sqlite3_stmt *s, void *obj)
{
    struct store_beat *b = obj;

    sf_col(s, 0, b->host, sizeof(b->host));
    b->pid = (long)sqlite3_column_int64(s, 1);
    b->started = sqlite3_column_double(s, 2);
    b->beat = sqlite3_column_double(s, 3);
    return 0;
}

int store_heartbeat_get(struct store *st, struct store_beat *out)
{
    memset(out, 0, sizeof(*out));
    return sf_one(st, sf_bind(st, "SELECT host, pid, started, beat FROM "
                                  "daemons ORDER BY beat DESC LIMIT 1", NULL),
                  beat_read, out, "heartbeat");
}

int store_probe_write(struct store *st, int wait_ms)
{
    int rc;

    /* Takes the write lock and gives it back: no page is written, so the
     * probe costs no I/O, yet a read-only database or a lock held past
     * wait_ms fails it. */
    store_set_busy_ms(st, wait_ms);
    rc = store_begin(st);
    store_set_busy_ms(st, 0);
    if (rc < 0)
        return -1;
    store_rollback(st);
    return 0;
}
