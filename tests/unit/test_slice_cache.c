/*
 * test_slice_cache.c - the G-code cache of model jobs over its whole life
 * (store/store_slices.c, daemon/purge.c): the blob references and files
 * of a slice made, its job ended, the job purged and the cache entry
 * evicted; eviction least recently used first, by age, by size and under
 * spool_quota, never of a slice a queued job needs; and the slicing rows
 * no job needs any more (their tasks are cancelled), unless a twin job
 * waits for the same key.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/conf.h"
#include "common/util.h"
#include "daemon/purge.h"
#include "fleet/blob.h"
#include "store/store_fair.h"
#include "store/store_fleet.h"
#include "store/store_slices.h"
#include "tmpstore.h"

Suite *slice_cache_suite(void);

#define MODEL "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define KEY1 "1111111111111111111111111111111111111111111111111111111111111111"
#define KEY2 "2222222222222222222222222222222222222222222222222222222222222222"
#define KEY3 "3333333333333333333333333333333333333333333333333333333333333333"

static char dir[64];
static struct store *st;
static struct rr_conf conf;

static void setup(void)
{
    char tmp[96];

    st = tmpstore_open("slcache", dir, sizeof(dir));
    snprintf(tmp, sizeof(tmp), "%s/tmp", dir);
    ck_assert_int_eq(mkdir(tmp, 0700), 0);
    conf_defaults(&conf, dir);
    conf.slice_cache_max = 0;           /* each test sets its limit */
    conf.slice_cache_max_age = 0;
    conf.spool_quota = 0;
}

static void teardown(void)
{
    tmpstore_close(st, dir);
}

static long long model_job(int copies)
{
    struct fleet_job_file model;
    struct fleet_job_spec spec;
    long long id;

    memset(&model, 0, sizeof(model));
    snprintf(model.sha256, sizeof(model.sha256), MODEL);
    snprintf(model.filename, sizeof(model.filename), "cube.stl");
    ck_assert_int_eq(store_blob_put(st, MODEL, 500, 10), 0);
    memset(&spec, 0, sizeof(spec));
    spec.queue = "default";
    spec.copies = copies;
    spec.model = &model;
    ck_assert_int_eq(store_job_create(st, &spec, 10, &id), 0);
    return id;
}

static void plan(long long job, const char *profile, const char *key)
{
    struct store_slice r;
    int failed = -1;

    memset(&r, 0, sizeof(r));
    r.job_id = job;
    snprintf(r.profile, sizeof(r.profile), "%s", profile);
    r.state = SLICE_PENDING;
    snprintf(r.key, sizeof(r.key), "%s", key);
    ck_assert_int_eq(store_slice_plan(st, job, &r, 1, "none", 20, &failed),
                     0);
    ck_assert_int_eq(failed, 0);
}

/* A G-code file of n bytes (text tagged by tag) made a blob in the spool,
 * as the slicer does with a task's output: its sha256 into sha. */
static void gcode_blob(const char *tag, size_t n, char *sha)
{
    char path[256], *buf = malloc(n);
    long long size = 0;
    FILE *f;

    ck_assert_ptr_nonnull(buf);
    memset(buf, ';', n);
    memcpy(buf, tag, strlen(tag));
    snprintf(path, sizeof(path), "%s/out.gcode", dir);
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(buf, 1, n, f), n);
    fclose(f);
    free(buf);
    ck_assert_int_eq(fleet_blob_copy(dir, path, sha, &size), 0);
    ck_assert_int_eq(size, (long long)n);
    ck_assert_int_eq(store_blob_put(st, sha, size, rr_now()), 0);
    unlink(path);
}

static long long refs_of(const char *sha)
{
    long long refs = -1;

    ck_assert_int_eq(store_blob_get(st, sha, NULL, &refs), 0);
    return refs;
}

static int blob_on_disk(const char *sha)
{
    char path[256];

    ck_assert_int_eq(fleet_blob_path(dir, sha, path, sizeof(path)), 0);
    return access(path, F_OK) == 0;
}

static int purge_blob(void *arg, const char *sha)
{
    char path[256];

    (void)arg;
    if (fleet_blob_path(dir, sha, path, sizeof(path)) == 0)
        unlink(path);
    return 0;
}

static long long cache_entries(void)
{
    long long bytes = 0, n = -1;

    ck_assert_int_eq(store_slice_cache_bytes(st, &bytes, &n), 0);
    return n;
}

/* A slice made, served to a job, cached; the job ends, is purged, and the
 * cache entry is evicted: each step's references, and the file on disk
 * until the last reference goes. */
START_TEST(refcounts_through_a_slice_life)
{
    char sha[FLEET_SHA256_HEX], got[FLEET_SHA256_HEX];
    long long job, size = 0;
    int ready = 0, live = 0;
    double t;

    job = model_job(1);
    plan(job, "mk3s", KEY1);
    gcode_blob("; slice 1\n", 1000, sha);
    ck_assert_int_eq(refs_of(sha), 0);       /* the blob alone */
    ck_assert_int_eq(store_slice_ready(st, KEY1, sha, "cube-mk3s.gcode",
                                       rr_now(), &ready), 0);
    ck_assert_int_eq(ready, 1);
    ck_assert_int_eq(refs_of(sha), 2);       /* the cache and the job */

    /* a queued job needs it: no limit evicts it */
    conf.slice_cache_max = 1;
    conf.slice_cache_max_age = 1;
    ck_assert_int_eq(purge_slice_cache(&conf, st, rr_now() + 3600), 0);
    ck_assert_int_eq(refs_of(sha), 2);
    ck_assert(blob_on_disk(sha));

    /* the job ends: still its reference until it is purged */
    ck_assert_int_eq(store_job_cancel(st, job, "done with it", rr_now(),
                                      &live), 0);
    ck_assert_int_eq(refs_of(sha), 2);
    ck_assert_int_eq(store_fleet_purge(st, rr_now() + 10, rr_now() + 10,
                                       purge_blob, NULL), 0);
    ck_assert_int_eq(refs_of(sha), 1);       /* the cache's */
    ck_assert(blob_on_disk(sha));
    ck_assert_int_eq(store_slice_cache_get(st, KEY1, got, &size), 0);
    ck_assert_str_eq(got, sha);

    /* unused for longer than slice_cache_max_age: evicted; the blob and
     * its file stay for PURGE_PRESSED_GRACE after the cache let go of them
     * (an upload that puts the same content meanwhile keeps them), then
     * go */
    conf.slice_cache_max = 0;
    conf.slice_cache_max_age = 60;
    t = rr_now() + 3600;
    ck_assert_int_eq(purge_slice_cache(&conf, st, t), 1);
    ck_assert_int_eq(refs_of(sha), 0);
    ck_assert(blob_on_disk(sha));
    ck_assert_int_eq(store_slice_cache_get(st, KEY1, got, &size),
                     STORE_NOTFOUND);
    ck_assert_int_eq(cache_entries(), 0);
    ck_assert_int_eq(purge_slice_cache(&conf, st, t + PURGE_PRESSED_GRACE -
                                       1), 0);
    ck_assert(blob_on_disk(sha));
    ck_assert_int_eq(purge_slice_cache(&conf, st, t + PURGE_PRESSED_GRACE +
                                       1), 0);
    ck_assert_int_eq(store_blob_get(st, sha, NULL, NULL), STORE_NOTFOUND);
    ck_assert(!blob_on_disk(sha));
    /* the model's reference went with the job */
    ck_assert_int_eq(store_fleet_purge(st, rr_now() + 10, rr_now() + 10,
                                       purge_blob, NULL), 0);
    ck_assert_int_eq(store_blob_get(st, MODEL, NULL, NULL), STORE_NOTFOUND);
}
END_TEST

/* The cache lets go of a blob while an upload of the same content found
 * its file in place (fleet_blob_commit kept it) and is about to insert its
 * job: the blob and file stay through the job's reference. */
START_TEST(evicted_blob_an_upload_takes_again)
{
    struct fleet_job_file f;
    struct fleet_job_spec spec;
    char sha[FLEET_SHA256_HEX];
    long long job, id;
    int ready = 0, live = 0;
    double t0 = rr_now();

    job = model_job(1);
    plan(job, "mk3s", KEY1);
    gcode_blob("; again\n", 800, sha);
    ck_assert_int_eq(store_slice_ready(st, KEY1, sha, "a.gcode", t0,
                                       &ready), 0);
    ck_assert_int_eq(store_job_cancel(st, job, NULL, t0, &live), 0);
    ck_assert_int_eq(store_fleet_purge(st, rr_now() + 10, 0, NULL, NULL), 0);
    ck_assert_int_eq(refs_of(sha), 1);
    /* the upload's file is in place; the cache evicts; its job inserts */
    conf.spool_quota = 1000000;
    ck_assert_int_eq(purge_slice_cache_refused(&conf, st, t0 + 1), 1);
    ck_assert(blob_on_disk(sha));
    ck_assert_int_eq(store_blob_put(st, sha, 800, t0 + 1), 0);
    memset(&f, 0, sizeof(f));
    snprintf(f.sha256, sizeof(f.sha256), "%s", sha);
    snprintf(f.filename, sizeof(f.filename), "a.gcode");
    memset(&spec, 0, sizeof(spec));
    spec.queue = "default";
    spec.copies = 1;
    spec.files = &f;
    spec.nfiles = 1;
    ck_assert_int_eq(store_job_create(st, &spec, t0 + 1, &id), 0);
    ck_assert_int_eq(refs_of(sha), 1);
    /* (the model's blob, no reference since its job went, was never the
     * cache's: it waits the full grace) */
    ck_assert_int_eq(purge_blobs_pressed(&conf, st, t0 + 100), 0);
    ck_assert_int_eq(purge_slice_cache(&conf, st, t0 + 2 +
                                       FLEET_BLOB_GRACE), 0);
    ck_assert(blob_on_disk(sha));
    ck_assert_int_eq(refs_of(sha), 1);
}
END_TEST

/* A blob a live job also holds keeps its file when the cache lets go. */
START_TEST(evicted_blob_a_job_holds_stays)
{
    char sha[FLEET_SHA256_HEX];
    long long j1, j2;
    int ready = 0, live = 0;

    j1 = model_job(1);
    plan(j1, "mk3s", KEY1);
    gcode_blob("; shared\n", 500, sha);
    ck_assert_int_eq(store_slice_ready(st, KEY1, sha, "a.gcode", rr_now(),
                                       &ready), 0);
    /* a job of G-code files with the same content */
    j2 = model_job(1);
    plan(j2, "mk3s", KEY1);
    ck_assert_int_eq(store_slice_ready(st, KEY1, sha, "a.gcode", rr_now(),
                                       &ready), 0);
    ck_assert_int_eq(refs_of(sha), 3);
    ck_assert_int_eq(store_job_cancel(st, j1, NULL, rr_now(), &live), 0);
    ck_assert_int_eq(store_job_cancel(st, j2, NULL, rr_now(), &live), 0);
    /* ended, not purged: the jobs still hold it, the cache may go */
    conf.slice_cache_max_age = 1;
    ck_assert_int_eq(purge_slice_cache(&conf, st, rr_now() + 10), 1);
    ck_assert_int_eq(refs_of(sha), 2);
    ck_assert(blob_on_disk(sha));
}
END_TEST

/* Three entries no job needs: least recently used go first, to the size
 * limit; a hit counts as a use. */
START_TEST(evicts_least_recently_used_to_the_size_limit)
{
    char s1[FLEET_SHA256_HEX], s2[FLEET_SHA256_HEX], s3[FLEET_SHA256_HEX];
    char got[FLEET_SHA256_HEX];
    long long j, bytes = 0;
    int ready = 0, live = 0;
    double t0 = rr_now();

    j = model_job(1);
    plan(j, "a", KEY1);
    gcode_blob("; one\n", 1000, s1);
    gcode_blob("; two\n", 1000, s2);
    gcode_blob("; three\n", 1000, s3);
    ck_assert_int_eq(store_slice_ready(st, KEY1, s1, "1.gcode", t0, &ready),
                     0);
    ck_assert_int_eq(store_slice_ready(st, KEY2, s2, "2.gcode", t0 + 1,
                                       &ready), 0);
    ck_assert_int_eq(store_slice_ready(st, KEY3, s3, "3.gcode", t0 + 2,
                                       &ready), 0);
    ck_assert_int_eq(store_job_cancel(st, j, NULL, t0, &live), 0);
    /* KEY1, the oldest, is used again (a second job's hit) */
    ck_assert_int_eq(store_slice_ready(st, KEY1, s1, "1.gcode", t0 + 3,
                                       &ready), 0);
    conf.slice_cache_max = 2500;
    ck_assert_int_eq(purge_slice_cache(&conf, st, t0 + 4), 1);
    ck_assert_int_eq(store_slice_cache_get(st, KEY2, got, NULL),
                     STORE_NOTFOUND);
    ck_assert_int_eq(store_slice_cache_get(st, KEY1, got, NULL), 0);
    ck_assert_int_eq(store_slice_cache_get(st, KEY3, got, NULL), 0);
    ck_assert(blob_on_disk(s2));             /* for its grace */
    ck_assert_int_eq(refs_of(s2), 0);
    ck_assert_int_eq(store_slice_cache_bytes(st, &bytes, NULL), 0);
    ck_assert_int_eq(bytes, 2000);
    /* within the limit: nothing more */
    ck_assert_int_eq(purge_slice_cache(&conf, st, t0 + 5), 0);
    conf.slice_cache_max = 1000;
    ck_assert_int_eq(purge_slice_cache(&conf, st, t0 + 6), 1);
    ck_assert_int_eq(store_slice_cache_get(st, KEY3, got, NULL),
                     STORE_NOTFOUND);
    ck_assert_int_eq(store_slice_cache_get(st, KEY1, got, NULL), 0);
}
END_TEST

/* Over 9/10 of spool_quota the cache yields what no job needs, by the
 * excess: the spool's count (what the quota checks) goes down when the
 * blob's grace ends, and meanwhile no more entries go for the same
 * excess. */
START_TEST(yields_under_spool_quota)
{
    char s1[FLEET_SHA256_HEX], s2[FLEET_SHA256_HEX], s3[FLEET_SHA256_HEX];
    char got[FLEET_SHA256_HEX];
    long long j1, j2, j3, held = 0, before = 0;
    int ready = 0, live = 0;
    double t0 = rr_now();

    j1 = model_job(1);
    plan(j1, "a", KEY1);
    j2 = model_job(1);
    plan(j2, "a", KEY2);
    j3 = model_job(1);
    plan(j3, "a", KEY3);
    gcode_blob("; old\n", 4000, s1);
    gcode_blob("; new\n", 4000, s2);
    gcode_blob("; newer\n", 1000, s3);
    ck_assert_int_eq(store_slice_ready(st, KEY1, s1, "1.gcode", t0, &ready),
                     0);
    ck_assert_int_eq(store_slice_ready(st, KEY2, s2, "2.gcode", t0 + 1,
                                       &ready), 0);
    ck_assert_int_eq(store_slice_ready(st, KEY3, s3, "3.gcode", t0 + 1.5,
                                       &ready), 0);
    ck_assert_int_eq(store_job_cancel(st, j1, NULL, t0, &live), 0);
    ck_assert_int_eq(store_job_cancel(st, j3, NULL, t0, &live), 0);
    ck_assert_int_eq(store_fleet_purge(st, rr_now() + 10, 0, NULL, NULL), 0);
    ck_assert_int_eq(store_spool_bytes(st, &before), 0);
    /* the model (500) and three slices: 9500 bytes */
    ck_assert_int_eq(before, 9500);
    conf.spool_quota = 20000;                /* far under: nothing */
    ck_assert_int_eq(purge_slice_cache(&conf, st, t0 + 2), 0);
    conf.spool_quota = 10000;                /* 9500 > 9000 */
    ck_assert_int_eq(purge_slice_cache(&conf, st, t0 + 2), 1);
    ck_assert_int_eq(store_slice_cache_get(st, KEY1, got, NULL),
                     STORE_NOTFOUND);
    ck_assert_int_eq(store_spool_bytes(st, &held), 0);
    ck_assert_int_eq(held, 9500);            /* its blob's grace */
    /* KEY1's 4000 bytes count as going: KEY3 stays */
    ck_assert_int_eq(purge_slice_cache(&conf, st, t0 + 3), 0);
    ck_assert_int_eq(store_slice_cache_get(st, KEY3, got, NULL), 0);
    ck_assert_int_eq(purge_slice_cache(&conf, st, t0 + 3 +
                                       FLEET_BLOB_GRACE), 0);
    ck_assert_int_eq(store_spool_bytes(st, &held), 0);
    ck_assert_int_eq(held, 5500);
    ck_assert(!blob_on_disk(s1));
    /* KEY2's job is queued: it stays, however full the spool */
    conf.spool_quota = 1000;
    ck_assert_int_eq(purge_slice_cache(&conf, st, t0 + 3 +
                                       FLEET_BLOB_GRACE), 1);   /* KEY3 */
    ck_assert_int_eq(purge_slice_cache_refused(&conf, st, t0 + 4 +
                                               FLEET_BLOB_GRACE), 0);
    ck_assert_int_eq(store_slice_cache_get(st, KEY2, got, NULL), 0);
}
END_TEST

/* An upload refused for spool_quota: every slice no job needs goes, not
 * only the spool's excess over 9/10 (the upload's size is not known). */
START_TEST(a_refusal_takes_every_unneeded_slice)
{
    char s1[FLEET_SHA256_HEX], s2[FLEET_SHA256_HEX], got[FLEET_SHA256_HEX];
    char s3[FLEET_SHA256_HEX];
    long long j;
    int ready = 0, live = 0;
    double t0 = rr_now();

    j = model_job(1);
    plan(j, "a", KEY1);
    gcode_blob("; one\n", 1000, s1);
    gcode_blob("; two\n", 1000, s2);
    /* an upload's part, put and not yet referenced by its job */
    gcode_blob("; in flight\n", 500, s3);
    ck_assert_int_eq(store_slice_ready(st, KEY1, s1, "1.gcode", t0, &ready),
                     0);
    ck_assert_int_eq(store_slice_ready(st, KEY2, s2, "2.gcode", t0 + 1,
                                       &ready), 0);
    ck_assert_int_eq(store_job_cancel(st, j, NULL, t0, &live), 0);
    ck_assert_int_eq(store_fleet_purge(st, rr_now() + 10, 0, NULL, NULL), 0);
    conf.spool_quota = 1000000;              /* far from 9/10 */
    ck_assert_int_eq(purge_slice_cache(&conf, st, t0 + 2), 0);
    ck_assert_int_eq(purge_slice_cache_refused(&conf, st, t0 + 2), 2);
    ck_assert_int_eq(store_slice_cache_get(st, KEY1, got, NULL),
                     STORE_NOTFOUND);
    ck_assert_int_eq(cache_entries(), 0);
    /* the files stay for PURGE_PRESSED_GRACE, then go */
    ck_assert(blob_on_disk(s1) && blob_on_disk(s2));
    ck_assert_int_eq(purge_blobs_pressed(&conf, st, t0 + 1 +
                                         PURGE_PRESSED_GRACE), 0);
    ck_assert(blob_on_disk(s1) && blob_on_disk(s2));
    ck_assert_int_eq(purge_slice_cache_refused(&conf, st, t0 + 3 +
                                               PURGE_PRESSED_GRACE), 0);
    ck_assert(!blob_on_disk(s1) && !blob_on_disk(s2));
    /* never what an upload in progress put: it waits for its job */
    ck_assert(blob_on_disk(s3));
    ck_assert_int_eq(store_blob_get(st, s3, NULL, NULL), 0);
}
END_TEST

static struct task slice_task(const char *id)
{
    struct task t;

    memset(&t, 0, sizeof(t));
    snprintf(t.id, sizeof(t.id), "%s", id);
    snprintf(t.service, sizeof(t.service), "prusa-slicer");
    t.timeout = 10;
    return t;
}

/* A slicing row whose job was cancelled is unneeded unless a twin job
 * waits for the same key; put back, it is pending and never starts. */
START_TEST(unneeded_slices_unless_a_twin_waits)
{
    struct store_slice *rows = NULL;
    struct task t = slice_task("1700000000-00001-000001");
    long long ja, jb;
    size_t n = 9;
    int live = 0;

    ja = model_job(1);
    plan(ja, "mk3s", KEY1);
    ck_assert_int_eq(store_slice_start(st, ja, "mk3s", &t, 30), 0);
    jb = model_job(1);
    plan(jb, "mk3s", KEY1);                 /* waits for ja's slice */
    ck_assert_int_eq(store_slices_unneeded(st, 10, &rows, &n), 0);
    ck_assert_uint_eq(n, 0);
    free(rows);

    ck_assert_int_eq(store_job_cancel(st, ja, NULL, 40, &live), 0);
    ck_assert_int_eq(store_slices_unneeded(st, 10, &rows, &n), 0);
    ck_assert_uint_eq(n, 0);                 /* jb shares it */
    free(rows);

    ck_assert_int_eq(store_job_cancel(st, jb, NULL, 50, &live), 0);
    ck_assert_int_eq(store_slices_unneeded(st, 10, &rows, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(rows[0].job_id, ja);
    ck_assert_str_eq(rows[0].task_id, t.id);
    ck_assert_int_eq(store_slice_unstart(st, &rows[0], "not needed", 60), 0);
    ck_assert_int_eq(store_slice_unstart(st, &rows[0], "not needed", 60),
                     STORE_NOTFOUND);
    free(rows);
    ck_assert_int_eq(store_slices_unneeded(st, 10, &rows, &n), 0);
    ck_assert_uint_eq(n, 0);
    free(rows);
    ck_assert_int_eq(store_job_slices(st, ja, &rows, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(rows[0].state, SLICE_PENDING);
    ck_assert_str_eq(rows[0].task_id, "");
    free(rows);
    /* neither job's pending row starts: both were cancelled */
    ck_assert_int_eq(store_slices_in_state(st, SLICE_PENDING, 10, &rows, &n),
                     0);
    ck_assert_uint_eq(n, 0);
    free(rows);
    task_clear(&t);
}
END_TEST

Suite *slice_cache_suite(void)
{
    Suite *s = suite_create("slice_cache");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, refcounts_through_a_slice_life);
    tcase_add_test(tc, evicted_blob_a_job_holds_stays);
    tcase_add_test(tc, evicted_blob_an_upload_takes_again);
    tcase_add_test(tc, evicts_least_recently_used_to_the_size_limit);
    tcase_add_test(tc, yields_under_spool_quota);
    tcase_add_test(tc, a_refusal_takes_every_unneeded_slice);
    tcase_add_test(tc, unneeded_slices_unless_a_twin_waits);
    suite_add_tcase(s, tc);
    return s;
}
