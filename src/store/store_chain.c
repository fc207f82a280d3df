/*
 * store_chain.c - task pipelines: the stages of a chain as rows of tasks
 * (see store.h).  Data only: when a stage is released or a chain ended is
 * decided by rrcloudd's chain hook (daemon/chain.c) and the relay.
 */
#include "store/store.h"

#include "store/store_fair.h"
#include "store/store_fleet_int.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

/* The status and kind numbers in the SQL below. */
_Static_assert(TASK_QUEUED == 0 && TASK_BUSY == 1 && TASK_CANCELLED == 4,
               "store_chain.c writes task statuses as numbers");
_Static_assert(TASK_KIND_RUN == 0 && TASK_KIND_PRINT == 1 &&
               TASK_KIND_HELD == 2,
               "store_chain.c writes task kinds as numbers");

int store_chain_insert_capped(struct store *st, const struct task *t, int n,
                              const struct store_task_caps *caps,
                              enum store_cap *which, long long *found)
{
    static const struct store_task_caps none;
    int rc = -1;

    if (store_begin(st) < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        rc = store_task_insert_capped(st, &t[i], i == 0 ? caps : &none,
                                      which, found);
        if (rc != 0)
            goto fail;
    }
    if ((rc = store_commit(st)) < 0)
        goto fail;
    return 0;
fail:
    store_rollback(st);
    return rc;
}

static int stage_read(sqlite3_stmt *s, void *obj)
{
    struct task_stage *g = obj;

    sf_col(s, 0, g->id, sizeof(g->id));
    sf_col(s, 1, g->service, sizeof(g->service));
    g->status = (enum task_status)sqlite3_column_int(s, 2);
    return 0;
}

int store_chain_stages(struct store *st, const char *chain,
                       struct task_stage **out, int *n)
{
    void *v = NULL;
    size_t cnt = 0;
    int rc;

    rc = sf_load(st, sf_bind(st, "SELECT id, service, status FROM tasks "
                             "WHERE chain = ?1 AND chain != '' "
                             "ORDER BY stage", "t", chain),
                 stage_read, sizeof(struct task_stage), &v, &cnt,
                 "chain stages");
    *out = v;
    *n = (int)cnt;
    return rc;
}

static int id_read(sqlite3_stmt *s, void *obj)
{
    sf_col(s, 0, obj, RR_ID_LEN);
    return 0;
}

int store_chain_next(struct store *st, const struct task *t,
                     struct task *out)
{
    char id[RR_ID_LEN] = "";
    int rc;

    memset(out, 0, sizeof(*out));
    if (!t->chain[0])
        return STORE_NOTFOUND;
    /* chain != '' lets the partial index tasks_chain serve (this runs in
     * the write transaction that records an end: no table scan there). */
    rc = sf_one(st, sf_bind(st, "SELECT id FROM tasks WHERE chain = ?1 "
                            "AND chain != '' AND stage = ?2", "ti", t->chain,
                            (long long)t->stage + 1),
                id_read, id, "next chain stage");
    if (rc != 0)
        return rc;
    return store_task_get(st, id, out);
}

int store_chain_release(struct store *st, const char *id)
{
    int n = sf_exec(st, "UPDATE tasks SET kind = 0 WHERE id = ?1 "
                    "AND kind = 2 AND status = 0", "t", id);

    if (n < 0)
        return -1;
    if (n == 0) {
        store_set_errmsg(st, "chain stage is no longer held");
        return STORE_NOTFOUND;
    }
    return 0;
}

int store_chain_release_print(struct store *st, const char *id)
{
    int n = sf_exec(st, "UPDATE tasks SET kind = 1 WHERE id = ?1 "
                    "AND kind = 2 AND status = 0", "t", id);

    if (n < 0)
        return -1;
    if (n == 0) {
        store_set_errmsg(st, "chain stage is no longer held");
        return STORE_NOTFOUND;
    }
    return 0;
}

int store_chain_cancel_open(struct store *st, const char *chain,
                            const char *reason, int *ended, int *busy)
{
    long long nbusy = 0;

    *busy = 0;
    *ended = sf_exec(st, "UPDATE tasks SET status = 4, reason = ?2, "
                     "etime = ?3 WHERE chain = ?1 AND chain != '' "
                     "AND status = 0", "ttd", chain, reason, rr_now());
    if (*ended < 0 ||
        sf_exec(st, "UPDATE tasks SET cancel_requested = 1, reason = ?2 "
                "WHERE chain = ?1 AND chain != '' AND status = 1",
                "tt", chain, reason) < 0 ||
        sf_ll(st, &nbusy, "SELECT count(*) FROM tasks WHERE chain = ?1 "
              "AND chain != '' AND status = 1", "t", chain) < 0)
        return -1;
    *busy = (int)nbusy;
    return 0;
}

int store_chain_cancel(struct store *st, const char *chain,
                       const char *reason, const char *url, int *busy)
{
    int ended;

    if (store_begin(st) < 0)
        return -1;
    if (store_chain_cancel_open(st, chain, reason, &ended, busy) < 0)
        goto fail;
    /* Nothing cancelled now: the chain had ended already (and notified). */
    if (ended > 0 && *busy == 0 && url && *url &&
        store_notify_add(st, chain, url, NULL) < 0)
        goto fail;
    if (store_commit(st) < 0)
        goto fail;
    return 0;
fail:
    store_rollback(st);
    return -1;
}
