/* store_fleet_status.c - see store_fleet_status.h. */
#include "store/store_fleet_status.h"

#include "store/store_fleet_int.h"

static int current_from_row(sqlite3_stmt *s, void *obj)
{
    long long *v = obj;

    v[0] = sqlite3_column_int64(s, 0);
    v[1] = sqlite3_column_int64(s, 1);
    return 0;
}

int store_job_current(struct store *st, const char *owner,
                      long long *job_id, long long *printer_id)
{
    long long v[2] = { 0, 0 };
    int rc = sf_one(st, sf_bind(st, "SELECT j.id, COALESCE(a.printer_id, "
                                "0) FROM jobs j LEFT JOIN attempts a ON "
                                "a.job_id = j.id AND a.state < 4 WHERE (?1 "
                                "IS NULL OR j.owner = ?1) ORDER BY "
                                "a.id IS NULL, j.id DESC, a.id DESC LIMIT 1",
                                "t", owner),
                    current_from_row, v, "current job");

    *job_id = v[0];
    *printer_id = v[1];
    return rc;
}
