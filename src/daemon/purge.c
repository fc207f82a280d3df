/* purge.c - see purge.h. */
#include "daemon/purge.h"

#include "common/log.h"
#include "common/util.h"
#include "fleet/blob.h"
#include "spool/spool.h"
#include "store/store_fair.h"
#include "store/store_fleet.h"
#include "store/store_slices.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

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

/* ---- the slice cache ------------------------------------------------------ */

/* The cache may hold max bytes (-1: any); while the spool holds more than
 * 9/10 of spool_quota, less by the excess: cached G-code and STLs are the
 * one thing in the spool that can be made again, so they yield before
 * uploads and tasks get 507.  (The tenth left is headroom for uploads.)
 * Blobs no one references count as going already: they leave the spool
 * when their grace ends, and an eviction that did not count them would
 * take another entry at each look until then. */
static int cache_budget(const struct rr_conf *conf, struct store *st,
                        long long *max)
{
    long long held = 0, cached = 0, unref = 0, high, want;

    *max = conf->slice_cache_max > 0 ? (long long)conf->slice_cache_max : -1;
    if (conf->spool_quota == 0)
        return 0;
    high = (long long)(conf->spool_quota / 10 * 9);
    if (store_spool_bytes(st, &held) < 0 ||
        store_blob_unref_bytes(st, &unref) < 0)
        return -1;
    held -= unref;
    if (held <= high)
        return 0;
    if (store_slice_cache_bytes(st, &cached, NULL) < 0)
        return -1;
    want = cached - (held - high);
    if (want < 0)
        want = 0;
    if (*max < 0 || want < *max)
        *max = want;
    return 0;
}

static int remove_blob(void *arg, const char *sha256)
{
    const struct rr_conf *conf = arg;
    char path[4096];

    if (fleet_blob_path(conf->spool_dir, sha256, path, sizeof(path)) == 0 &&
        unlink(path) < 0 && errno != ENOENT)
        log_warn("purge: cannot remove blob %s: %s", path, strerror(errno));
    return 0;
}

/* Removes the blobs no one has referenced for grace seconds (rows first,
 * then files).  The number, or -1. */
static int blobs_purge(const struct rr_conf *conf, struct store *st,
                       double now, double grace, int evicted)
{
    int n = store_blob_purge(st, now, now - grace, evicted, remove_blob,
                             (void *)conf);

    if (n > 0)
        log_info("purge: removed %d blob(s) %s %.0f s ago", n, evicted ?
                 "the slice cache let go of" : "unreferenced since", grace);
    return n;
}

/* Evicts what store_slice_cache_evict picks by before and max, in
 * batches, and logs why.  Their blobs stay for their grace. */
static int cache_evict(struct store *st, double now, double before,
                       long long max, const char *why)
{
    struct store_evicted g;
    long long bytes = 0;
    int total = 0;

    do {
        if (store_slice_cache_evict(st, before, max, now, &g) < 0)
            return -1;
        total += g.entries;
        bytes += g.bytes;
    } while (g.entries == STORE_EVICT_BATCH);
    if (total > 0)
        log_info("purge: evicted %d cached slice(s) or render(s), %lld "
                 "bytes of G-code or STL no job needs (%s)", total, bytes,
                 why);
    return total;
}

int purge_slice_cache(const struct rr_conf *conf, struct store *st,
                      double now)
{
    double before = conf->slice_cache_max_age > 0
                        ? now - (double)conf->slice_cache_max_age : 0;
    long long max;
    int n;

    if (cache_budget(conf, st, &max) < 0 ||
        (n = cache_evict(st, now, before, max, "least recently used")) < 0 ||
        blobs_purge(conf, st, now, FLEET_BLOB_GRACE, 0) < 0 ||
        /* what the cache let go of, also under quota pressure, need not
         * wait the full grace: no upload has put it since */
        purge_blobs_pressed(conf, st, now) < 0)
        return -1;
    return n;
}

int purge_slice_cache_refused(const struct rr_conf *conf, struct store *st,
                              double now)
{
    int n;

    /* How much the refused upload wanted is not known here: all goes. */
    n = cache_evict(st, now, 0, 0, "an upload was refused for "
                    "spool_quota");
    if (n < 0 || purge_blobs_pressed(conf, st, now) < 0)
        return -1;
    return n;
}

int purge_blobs_pressed(const struct rr_conf *conf, struct store *st,
                        double now)
{
    return blobs_purge(conf, st, now, PURGE_PRESSED_GRACE, 1);
}

/* ---- tasks ------------------------------------------------------------------- */

int purge_run(const struct rr_conf *conf, struct store *st, double now)
{
    struct purge_batch b;
    double before = now - (double)conf->max_data_retention;
    int total = 0, files_failed = 0;

    purge_events(conf, st, now);
    if (purge_slice_cache(conf, st, now) < 0)
        log_warn("purge: slice cache: %s", store_errmsg(st));
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
