/* purge.c - see purge.h. */
#include "daemon/purge.h"

#include "common/log.h"
#include "common/util.h"
#include "spool/spool.h"
#include "store/store_fleet.h"

#include <errno.h>
#include <string.h>

#define PURGE_BATCH 256

struct purge_batch {
    char ids[PURGE_BATCH][RR_ID_LEN];
    int n;
};

static int purge_collect(void *arg, const struct task *t)
{
    struct purge_batch *b = arg;

    memcpy(b->ids[b->n++], t->id, RR_ID_LEN);
    return b->n == PURGE_BATCH;
}

/* Events older than events_retention, in batches: a year of a busy fleet
 * is millions of rows, and one DELETE of them would hold the write lock. */
static void purge_events(const struct rr_conf *conf, struct store *st,
                         double now)
{
    long long total = 0;
    int n;

    if (conf->events_retention <= 0)
        return;
    do {
        n = store_event_purge(st, now - (double)conf->events_retention,
                              PURGE_BATCH * 4);
        total += n > 0 ? n : 0;
    } while (n == PURGE_BATCH * 4);
    if (n < 0)
        log_warn("purge: events: %s", store_errmsg(st));
    if (total > 0)
        log_info("purge: removed %lld event(s) older than %lld s", total,
                 conf->events_retention);
}

int purge_run(const struct rr_conf *conf, struct store *st, double now)
{
    struct purge_batch b;
    double before = now - (double)conf->max_data_retention;
    int total = 0, files_failed = 0;

    purge_events(conf, st, now);
    if (conf->max_data_retention <= 0)
        return 0;
    do {
        b.n = 0;
        if (store_task_expired(st, before, PURGE_BATCH, purge_collect, &b) < 0)
            return -1;
        for (int i = 0; i < b.n; i++) {
            /* Files first: a crash in between leaves a row whose files
             * are gone, which the next round removes, never files that
             * no row names.  A failure is logged, not retried forever. */
            if (spool_task_remove(conf->spool_dir, b.ids[i]) < 0 &&
                errno != ENOENT) {
                log_warn("purge: task %s: cannot remove its files: %s",
                         b.ids[i], strerror(errno));
                files_failed++;
            }
            if (store_task_delete(st, b.ids[i]) < 0)
                return -1;
            total++;
        }
    } while (b.n == PURGE_BATCH);
    if (total > 0)
        log_info("purge: removed %d task(s) that ended more than %lld s ago"
                 "%s", total, conf->max_data_retention,
                 files_failed ? " (some files could not be removed)" : "");
    return total;
}
