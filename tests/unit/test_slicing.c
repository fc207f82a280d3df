/*
 * test_slicing.c - model jobs: bounding boxes of STL (ASCII, binary) and
 * OBJ, the bed check, overrides in their stored form, the cache key
 * (fleet/slicing.c), and a model job's slices in the store
 * (store/store_slices.c): planning, a slice ready for every job that
 * waits for its key, the cache, exclusions and a job failing when no
 * profile is left, the model blob's reference.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/conf.h"
#include "common/util.h"
#include "daemon/slicer.h"
#include "fleet/blob.h"
#include "fleet/profile.h"
#include "fleet/slicing.h"
#include "services/service.h"
#include "spool/spool.h"
#include "store/store_fleet.h"
#include "store/store_renders.h"
#include "store/store_slices.h"

Suite *slicing_suite(void);

static const char *src_root(void)
{
    const char *d = getenv("top_srcdir");

    if (d == NULL || d[0] == '\0')
        d = getenv("srcdir");
    return d != NULL && d[0] != '\0' ? d : ".";
}

static char dir[64];
static struct store *st;
static char err[512];

static void setup(void)
{
    char path[128];

    snprintf(dir, sizeof(dir), "/tmp/rr-slice-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/t.db", dir);
    st = store_open(path, err, sizeof(err));
    ck_assert_msg(st != NULL, "%s", err);
}

static void teardown(void)
{
    store_close(st);
    rr_rmtree(dir);
}

static void write_file(const char *name, const void *data, size_t len,
                       char *path, size_t pathlen)
{
    FILE *f;

    snprintf(path, pathlen, "%s/%s", dir, name);
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static struct profile prof(const char *name, double x, double y, double z)
{
    struct profile p;

    memset(&p, 0, sizeof(p));
    snprintf(p.name, sizeof(p.name), "%s", name);
    snprintf(p.slicer, sizeof(p.slicer), "prusa-slicer");
    snprintf(p.sha256, sizeof(p.sha256), "%064d", 1);
    p.bed_x = x;
    p.bed_y = y;
    p.height = z;
    return p;
}

/* ---- bounding boxes -------------------------------------------------------- */

START_TEST(bbox_ascii_and_binary_stl)
{
    struct slicing_bbox bb;
    char path[512];

    snprintf(path, sizeof(path), "%s/tests/data/cube.stl", src_root());
    ck_assert_int_eq(slicing_bbox_file(path, "stl", &bb, err, sizeof(err)),
                     0);
    ck_assert_int_eq(bb.known, 1);
    ck_assert_double_eq_tol(bb.max[0] - bb.min[0], 20, 1e-6);
    ck_assert_double_eq_tol(bb.max[2] - bb.min[2], 20, 1e-6);
    snprintf(path, sizeof(path), "%s/tests/data/cube_bin.stl", src_root());
    ck_assert_int_eq(slicing_bbox_file(path, "stl", &bb, err, sizeof(err)),
                     0);
    ck_assert_int_eq(bb.known, 1);
    ck_assert(bb.max[0] - bb.min[0] > 0);
}
END_TEST

START_TEST(bbox_binary_built)
{
    unsigned char b[84 + 50];
    float v[12] = { 0, 0, 1,  -5, 0, 0,  295, 0, 0,  0, 40, 12 };
    struct slicing_bbox bb;
    char path[512];

    memset(b, 0, sizeof(b));
    memcpy(b, "solid but binary", 16);  /* a binary STL may say solid */
    b[80] = 1;
    memcpy(b + 84, v, sizeof(v));       /* the test host is little-endian */
    write_file("bin.stl", b, sizeof(b), path, sizeof(path));
    ck_assert_int_eq(slicing_bbox_file(path, "stl", &bb, err, sizeof(err)),
                     0);
    ck_assert_double_eq_tol(bb.max[0] - bb.min[0], 300, 1e-6);
    ck_assert_double_eq_tol(bb.max[1] - bb.min[1], 40, 1e-6);
    ck_assert_double_eq_tol(bb.max[2] - bb.min[2], 12, 1e-6);
    /* one triangle short of what the header says */
    b[80] = 2;
    write_file("short.stl", b, sizeof(b), path, sizeof(path));
    ck_assert_int_eq(slicing_bbox_file(path, "stl", &bb, err, sizeof(err)),
                     -1);
    ck_assert_msg(strstr(err, "solid") == NULL || strstr(err, "vertex"),
                  "%s", err);
}
END_TEST

START_TEST(bbox_obj_and_refusals)
{
    static const char obj[] = "# box\nv 0 0 0\nv 10 0 0\nv 10 30 0\n"
                              "v 0 0 5\nvt 500 500\nf 1 2 3\n";
    static const char junk[] = "GIF89a not a model at all, long enough to "
                               "pass the size check of eighty-four bytes...";
    struct slicing_bbox bb;
    char path[512];

    write_file("m.obj", obj, sizeof(obj) - 1, path, sizeof(path));
    ck_assert_int_eq(slicing_bbox_file(path, "obj", &bb, err, sizeof(err)),
                     0);
    ck_assert_double_eq_tol(bb.max[0], 10, 1e-9);
    ck_assert_double_eq_tol(bb.max[1], 30, 1e-9);   /* vt is no vertex */
    ck_assert_double_eq_tol(bb.max[2], 5, 1e-9);
    write_file("j.stl", junk, sizeof(junk) - 1, path, sizeof(path));
    ck_assert_int_eq(slicing_bbox_file(path, "stl", &bb, err, sizeof(err)),
                     -1);
    ck_assert_msg(strstr(err, "not an STL file") != NULL, "%s", err);
    write_file("e.obj", "# nothing\n", 10, path, sizeof(path));
    ck_assert_int_eq(slicing_bbox_file(path, "obj", &bb, err, sizeof(err)),
                     -1);
    ck_assert_str_eq(err, "the obj model has no vertex");
    /* 3MF: the slicer tells */
    ck_assert_int_eq(slicing_bbox_file(path, "3mf", &bb, err, sizeof(err)),
                     0);
    ck_assert_int_eq(bb.known, 0);
    ck_assert(slicing_model_ext("stl") && slicing_model_ext("3mf") &&
              slicing_model_ext("obj"));
    ck_assert(!slicing_model_ext("scad") && !slicing_model_ext("gcode"));
}
END_TEST

START_TEST(fits_the_bed)
{
    struct profile mk3s = prof("mk3s", 250, 210, 210);
    struct profile voron = prof("voron24-0.4", 350, 350, 340);
    struct slicing_bbox bb = { { 0, 0, 0 }, { 300, 20, 10 }, 1 };
    char why[256] = "";

    ck_assert_int_eq(slicing_fits(&mk3s, &bb, why, sizeof(why)), 0);
    ck_assert_str_eq(why, "the model (300.0 x 20.0 x 10.0 mm) is larger "
                     "than the bed of mk3s (250 x 210 x 210 mm)");
    ck_assert_int_eq(slicing_fits(&voron, &bb, why, sizeof(why)), 1);
    bb.max[0] = 250;
    ck_assert_int_eq(slicing_fits(&mk3s, &bb, why, sizeof(why)), 1);
    bb.max[2] = 211;
    ck_assert_int_eq(slicing_fits(&mk3s, &bb, why, sizeof(why)), 0);
    bb.known = 0;
    ck_assert_int_eq(slicing_fits(&mk3s, &bb, why, sizeof(why)), 1);
}
END_TEST

/* ---- overrides and the key ------------------------------------------------- */

START_TEST(overrides_canonical)
{
    const char *n[] = { "layer_height", "brim", "supports" };
    const char *v[] = { "0.2", "3", "yes" };
    const char *bad[] = { "Layer" };
    const char *twice[] = { "brim", "brim" };
    const char *names[8], *values[8];
    char buf[256];

    ck_assert_int_eq(slicing_overrides_canon(3, n, v, buf, sizeof(buf), err,
                                             sizeof(err)), 0);
    ck_assert_str_eq(buf, "brim=3\nlayer_height=0.2\nsupports=yes\n");
    ck_assert_uint_eq(slicing_overrides_split(buf, names, values, 8), 3);
    ck_assert_str_eq(names[1], "layer_height");
    ck_assert_str_eq(values[1], "0.2");
    ck_assert_int_eq(slicing_overrides_canon(1, bad, v, buf, sizeof(buf),
                                             err, sizeof(err)), -1);
    ck_assert_msg(strncmp(err, "Layer:", 6) == 0, "%s", err);
    ck_assert_int_eq(slicing_overrides_canon(2, twice, v, buf, sizeof(buf),
                                             err, sizeof(err)), -1);
    ck_assert_str_eq(err, "brim: given twice");
    v[0] = "0.2\nbrim=9";
    ck_assert_int_eq(slicing_overrides_canon(1, n, v, buf, sizeof(buf), err,
                                             sizeof(err)), -1);
    ck_assert_int_eq(slicing_overrides_canon(0, n, v, buf, sizeof(buf), err,
                                             sizeof(err)), 0);
    ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(cache_key_covers_each_input)
{
    struct profile p = prof("mk3s", 250, 210, 210), q = p;
    const char *m = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    char k[6][FLEET_SHA256_HEX], again[FLEET_SHA256_HEX];

    ck_assert_int_eq(slicing_cache_key(m, &p, "pla", "v1", "", k[0]), 0);
    ck_assert_int_eq(slicing_cache_key(m, &p, "pla", "v1", "", again), 0);
    ck_assert_str_eq(k[0], again);
    ck_assert(fleet_sha256_valid(k[0]));
    snprintf(q.sha256, sizeof(q.sha256), "%064d", 2);
    ck_assert_int_eq(slicing_cache_key(m, &q, "pla", "v1", "", k[1]), 0);
    ck_assert_int_eq(slicing_cache_key(m, &p, "petg", "v1", "", k[2]), 0);
    ck_assert_int_eq(slicing_cache_key(m, &p, "pla", "v2", "", k[3]), 0);
    ck_assert_int_eq(slicing_cache_key(m, &p, "pla", "v1", "brim=3\n",
                                       k[4]), 0);
    ck_assert_int_eq(slicing_cache_key("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
                                       "bbbbbbbbbbbbbbbbbbbbbbbbbbbb", &p,
                                       "pla", "v1", "", k[5]), 0);
    for (int i = 0; i < 6; i++)
        for (int j = i + 1; j < 6; j++)
            ck_assert_str_ne(k[i], k[j]);
}
END_TEST

START_TEST(render_key_covers_each_input)
{
    const char *a = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const char *b = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    struct profile p = prof("mk3s", 250, 210, 210);
    char k[6][FLEET_SHA256_HEX], again[FLEET_SHA256_HEX];

    ck_assert(slicing_job_ext("scad") && slicing_job_ext("stl") &&
              !slicing_model_ext("scad") && !slicing_job_ext("png"));
    ck_assert_int_eq(slicing_render_key(a, "openscad", "v1", "", k[0]), 0);
    ck_assert_int_eq(slicing_render_key(a, "openscad", "v1", NULL, again),
                     0);
    ck_assert_str_eq(k[0], again);
    ck_assert(fleet_sha256_valid(k[0]));
    ck_assert_int_eq(slicing_render_key(b, "openscad", "v1", "", k[1]), 0);
    ck_assert_int_eq(slicing_render_key(a, "openscad", "v2", "", k[2]), 0);
    ck_assert_int_eq(slicing_render_key(a, "openscad2", "v1", "", k[3]), 0);
    ck_assert_int_eq(slicing_render_key(a, "openscad", "v1", "size=30\n",
                                        k[5]), 0);
    /* never a slice's key, though both live in slice_cache */
    ck_assert_int_eq(slicing_cache_key(a, &p, "", "v1", "", k[4]), 0);
    for (int i = 0; i < 6; i++)
        for (int j = i + 1; j < 6; j++)
            ck_assert_str_ne(k[i], k[j]);
}
END_TEST

/* A SCAD job's variables: names as OpenSCAD's, numbers only, sorted. */
START_TEST(defines_canonical)
{
    const char *n[] = { "size", "Wall_2", "h" };
    const char *v[] = { "20", "-1.5", "2e3" };
    const char *bad[][2] = { { "2x", "1" }, { "size", "\"a\"" },
                             { "size", "[1,2]" }, { "size", "$fn" },
                             { "size", "" }, { "a-b", "1" },
                             { "size", "1e999" }, { "", "1" },
                             { "module", "3" }, { "true", "1" },
                             { "include", "1" } };
    char buf[256], why[256];

    ck_assert_int_eq(slicing_defines_canon(3, n, v, buf, sizeof(buf), why,
                                           sizeof(why)), 0);
    ck_assert_str_eq(buf, "Wall_2=-1.5\nh=2e3\nsize=20\n");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *bn[] = { bad[i][0] }, *bv[] = { bad[i][1] };

        ck_assert_msg(slicing_defines_canon(1, bn, bv, buf, sizeof(buf), why,
                                            sizeof(why)) == -1,
                      "%s=%s taken", bad[i][0], bad[i][1]);
    }
    ck_assert_ptr_nonnull(strstr(why, "set to a number"));
    {
        const char *tn[] = { "size", "size" }, *tv[] = { "1", "2" };

        ck_assert_int_eq(slicing_defines_canon(2, tn, tv, buf, sizeof(buf),
                                               why, sizeof(why)), -1);
        ck_assert_str_eq(why, "size: given twice");
    }
}
END_TEST

/* ---- the store ------------------------------------------------------------- */

#define MODEL "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
#define GCODE "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
#define KEY1 "1111111111111111111111111111111111111111111111111111111111111111"

static long long model_job(void)
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
    spec.copies = 1;
    spec.model = &model;
    spec.overrides = "layer_height=0.2\n";
    ck_assert_int_eq(store_job_create(st, &spec, 10, &id), 0);
    return id;
}

#define SCAD "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"
#define STL "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
#define RKEY "2222222222222222222222222222222222222222222222222222222222222222"

static long long scad_job(void)
{
    struct fleet_job_file model;
    struct fleet_job_spec spec;
    long long id;

    memset(&model, 0, sizeof(model));
    snprintf(model.sha256, sizeof(model.sha256), SCAD);
    snprintf(model.filename, sizeof(model.filename), "cube.scad");
    ck_assert_int_eq(store_blob_put(st, SCAD, 50, 10), 0);
    memset(&spec, 0, sizeof(spec));
    spec.queue = "default";
    spec.copies = 1;
    spec.model = &model;
    spec.render = 1;
    ck_assert_int_eq(store_job_create(st, &spec, 10, &id), 0);
    return id;
}

static struct store_slice row(long long job, const char *profile,
                              enum slice_state state, const char *key,
                              const char *reason)
{
    struct store_slice r;

    memset(&r, 0, sizeof(r));
    r.job_id = job;
    snprintf(r.profile, sizeof(r.profile), "%s", profile);
    snprintf(r.material, sizeof(r.material), "pla");
    r.state = state;
    snprintf(r.key, sizeof(r.key), "%s", key);
    snprintf(r.reason, sizeof(r.reason), "%s", reason);
    return r;
}

static int file_count(void *arg, const struct fleet_job_file *f)
{
    ck_assert_str_eq(f->sha256, GCODE);
    (*(int *)arg)++;
    return 0;
}

START_TEST(store_slices_lifecycle)
{
    struct store_model_job *mj = NULL;
    struct store_slice rows[2], *got = NULL;
    struct task t;
    struct fleet_job j;
    char sha[FLEET_SHA256_HEX];
    long long j1, j2, refs, busy;
    size_t n = 0;
    int failed = -1, ready = 0, files = 0;

    j1 = model_job();
    ck_assert_int_eq(store_blob_get(st, MODEL, NULL, &refs), 0);
    ck_assert_int_eq(refs, 1);
    ck_assert_int_eq(store_model_jobs_unplanned(st, 10, &mj, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(mj[0].model_name, "cube.stl");
    ck_assert_str_eq(mj[0].overrides, "layer_height=0.2\n");
    free(mj);
    rows[0] = row(j1, "mk3s", SLICE_EXCLUDED, "", "too big");
    rows[1] = row(j1, "voron", SLICE_PENDING, KEY1, "");
    ck_assert_int_eq(store_slice_plan(st, j1, rows, 2, "none", 20, &failed),
                     0);
    ck_assert_int_eq(failed, 0);
    ck_assert_int_eq(store_model_jobs_unplanned(st, 10, &mj, &n), 0);
    ck_assert_uint_eq(n, 0);                 /* planned once */
    free(mj);

    /* slicing: the task row and the slice row in one go */
    memset(&t, 0, sizeof(t));
    snprintf(t.id, sizeof(t.id), "1700000000-00001-000001");
    snprintf(t.service, sizeof(t.service), "prusa-slicer");
    t.timeout = 10;
    ck_assert_int_eq(store_slice_start(st, j1, "voron", &t, 30), 0);
    ck_assert_int_eq(store_slice_start(st, j1, "voron", &t, 30), -1);
    ck_assert_int_eq(store_slice_busy(st, &busy), 0);
    ck_assert_int_eq(busy, 1);

    /* a twin job waits for the same key, then both get the G-code */
    j2 = model_job();
    rows[0] = row(j2, "voron", SLICE_PENDING, KEY1, "");
    ck_assert_int_eq(store_slice_plan(st, j2, rows, 1, "none", 35, &failed),
                     0);
    ck_assert_int_eq(store_slice_cache_get(st, KEY1, sha, NULL),
                     STORE_NOTFOUND);
    ck_assert_int_eq(store_blob_put(st, GCODE, 900, 40), 0);
    ck_assert_int_eq(store_slice_ready(st, KEY1, GCODE, "cube-voron.gcode",
                                       40, &ready), 0);
    ck_assert_int_eq(ready, 2);
    ck_assert_int_eq(store_slice_cache_get(st, KEY1, sha, NULL), 0);
    ck_assert_str_eq(sha, GCODE);
    ck_assert_int_eq(store_blob_get(st, GCODE, NULL, &refs), 0);
    ck_assert_int_eq(refs, 3);               /* the cache and two jobs */
    ck_assert_int_eq(store_job_files(st, j1, file_count, &files), 0);
    ck_assert_int_eq(store_job_files(st, j2, file_count, &files), 0);
    ck_assert_int_eq(files, 2);
    ck_assert_int_eq(store_job_slices(st, j1, &got, &n), 0);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(got[0].profile, "mk3s");
    ck_assert_str_eq(slice_state_name(got[0].state), "excluded");
    ck_assert_str_eq(got[0].reason, "too big");
    ck_assert_str_eq(slice_state_name(got[1].state), "ready");
    ck_assert_str_eq(got[1].task_id, "1700000000-00001-000001");
    free(got);
    ck_assert_int_eq(store_job_get(st, j1, &j), 0);
    ck_assert_int_eq(j.state, JOB_QUEUED);   /* voron can take it */
    fleet_job_clear(&j);
}
END_TEST

START_TEST(store_slices_job_fails_when_none_left)
{
    struct store_slice rows[2];
    struct fleet_job j;
    long long id, refs;
    int failed = -1;

    id = model_job();
    rows[0] = row(id, "mk3s", SLICE_EXCLUDED, "", "too big");
    rows[1] = row(id, "voron", SLICE_PENDING, KEY1, "");
    ck_assert_int_eq(store_slice_plan(st, id, rows, 2, "none", 20, &failed),
                     0);
    ck_assert_int_eq(failed, 0);
    ck_assert_int_eq(store_slice_exclude(st, id, "voron", "slicer said no",
                                         "none left", 30, &failed), 0);
    ck_assert_int_eq(failed, 1);
    ck_assert_int_eq(store_job_get(st, id, &j), 0);
    ck_assert_int_eq(j.state, JOB_FAILED);
    ck_assert_str_eq(j.reason, "none left");
    fleet_job_clear(&j);
    /* no profile at all: the planner's reason */
    id = model_job();
    ck_assert_int_eq(store_slice_plan(st, id, NULL, 0, "no profile here", 40,
                                      &failed), 0);
    ck_assert_int_eq(failed, 1);
    ck_assert_int_eq(store_job_get(st, id, &j), 0);
    ck_assert_int_eq(j.state, JOB_FAILED);
    ck_assert_str_eq(j.reason, "no profile here");
    fleet_job_clear(&j);
    /* the purge drops the ended jobs' model references */
    ck_assert_int_eq(store_fleet_purge(st, rr_now() + 10, 0, NULL, NULL), 0);
    ck_assert_int_eq(store_blob_get(st, MODEL, NULL, &refs), 0);
    ck_assert_int_eq(refs, 0);
}
END_TEST

/* A SCAD job waits for its render before it is planned; the STL is
 * cached and referenced; a twin of the same key waits; a second job takes
 * the STL from the cache; a failed render fails the job; the purge drops
 * the jobs' STL references. */
START_TEST(store_renders_lifecycle)
{
    struct store_model_job *mj = NULL;
    struct store_render *rw = NULL, r;
    struct task t;
    struct fleet_job j;
    char sha[FLEET_SHA256_HEX];
    long long j1, j2, j3, busy, refs;
    size_t n = 0;
    char twin[RR_ID_LEN];

    j1 = scad_job();
    ck_assert_int_eq(store_renders_waiting(st, 10, &rw, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(rw[0].model_name, "cube.scad");
    ck_assert_str_eq(rw[0].task_id, "");
    free(rw);
    ck_assert_int_eq(store_model_jobs_unplanned(st, 10, &mj, &n), 0);
    ck_assert_uint_eq(n, 0);                 /* not before its render */
    free(mj);
    memset(&t, 0, sizeof(t));
    snprintf(t.id, sizeof(t.id), "1700000000-00001-000002");
    snprintf(t.service, sizeof(t.service), "openscad");
    t.timeout = 10;
    ck_assert_int_eq(store_render_start(st, j1, RKEY, &t, 20), 0);
    ck_assert_int_eq(store_render_busy(st, &busy), 0);
    ck_assert_int_eq(busy, 1);
    j2 = scad_job();
    ck_assert_int_eq(store_render_twin_task(st, RKEY, j2, twin), 0);
    ck_assert_str_eq(twin, "1700000000-00001-000002");
    ck_assert_int_eq(store_render_twin_task(st, RKEY, j1, twin),
                     STORE_NOTFOUND);        /* itself is no twin */

    ck_assert_int_eq(store_blob_put(st, STL, 700, 30), 0);
    ck_assert_int_eq(store_render_done(st, j1, RKEY, STL, 30), 0);
    ck_assert_int_eq(store_render_done(st, j1, RKEY, STL, 30),
                     STORE_NOTFOUND);        /* once */
    ck_assert_int_eq(store_render_busy(st, &busy), 0);
    ck_assert_int_eq(busy, 0);
    ck_assert_int_eq(store_slice_cache_get(st, RKEY, sha, NULL), 0);
    ck_assert_str_eq(sha, STL);
    ck_assert_int_eq(store_render_get(st, j1, &r), 0);
    ck_assert_str_eq(r.sha256, STL);
    ck_assert_str_eq(r.task_id, "1700000000-00001-000002");
    ck_assert_int_eq(store_model_jobs_unplanned(st, 10, &mj, &n), 0);
    ck_assert_uint_eq(n, 1);                 /* now it is planned */
    ck_assert_int_eq(mj[0].id, j1);
    ck_assert_str_eq(mj[0].model_sha256, SCAD);  /* the source stays */
    free(mj);
    /* the twin from the cache, no task */
    ck_assert_int_eq(store_render_done(st, j2, RKEY, STL, 40), 0);
    ck_assert_int_eq(store_blob_get(st, STL, NULL, &refs), 0);
    ck_assert_int_eq(refs, 3);               /* the cache and two jobs */

    /* a render that fails fails its job */
    j3 = scad_job();
    ck_assert_int_eq(store_render_fail(st, j3, "the model did not render "
                                       "(openscad: syntax error)", 50), 0);
    ck_assert_int_eq(store_job_get(st, j3, &j), 0);
    ck_assert_int_eq(j.state, JOB_FAILED);
    ck_assert_str_eq(j.reason, "the model did not render (openscad: syntax "
                     "error)");
    fleet_job_clear(&j);
    ck_assert_int_eq(store_renders_waiting(st, 10, &rw, &n), 0);
    ck_assert_uint_eq(n, 0);
    free(rw);
    ck_assert_int_eq(store_model_job_get(st, j1, &(struct store_model_job){
                                             0 }), 0);
    ck_assert_int_eq(store_render_get(st, model_job(), &r), STORE_NOTFOUND);

    /* the purge drops the ended jobs' STL references, not the cache's */
    ck_assert_int_eq(store_job_cancel(st, j1, "done", 60, NULL), 0);
    ck_assert_int_eq(store_job_cancel(st, j2, "done", 60, NULL), 0);
    ck_assert_int_eq(store_fleet_purge(st, rr_now() + 10, 0, NULL, NULL), 0);
    ck_assert_int_eq(store_blob_get(st, STL, NULL, &refs), 0);
    ck_assert_int_eq(refs, 1);
}
END_TEST

/* A render whose job ended is unneeded, unless another open job waits
 * for the same key (store_render_twin_shares_the_task); one that got its
 * STL from the cache waits for nothing. */
START_TEST(store_renders_unneeded_when_job_ends)
{
    char (*ids)[RR_ID_LEN] = NULL;
    struct task t;
    long long j1, j2;
    size_t n = 9;

    j1 = scad_job();
    memset(&t, 0, sizeof(t));
    snprintf(t.id, sizeof(t.id), "1700000000-00001-000003");
    snprintf(t.service, sizeof(t.service), "openscad");
    t.timeout = 10;
    ck_assert_int_eq(store_render_start(st, j1, RKEY, &t, 20), 0);
    ck_assert_int_eq(store_renders_unneeded(st, 10, &ids, &n), 0);
    ck_assert_uint_eq(n, 0);
    free(ids);
    /* a second open job of the key that has its STL already (from the
     * cache) does not need it: once j1 is cancelled, it goes */
    j2 = scad_job();
    ck_assert_int_eq(store_blob_put(st, STL, 700, 30), 0);
    ck_assert_int_eq(store_render_done(st, j2, RKEY, STL, 30), 0);
    ck_assert_int_eq(store_renders_unneeded(st, 10, &ids, &n), 0);
    ck_assert_uint_eq(n, 0);                /* j1 is open */
    free(ids);
    ck_assert_int_eq(store_job_cancel(st, j1, "no", 40, NULL), 0);
    ck_assert_int_eq(store_renders_unneeded(st, 10, &ids, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(ids[0], "1700000000-00001-000003");
    free(ids);
}
END_TEST

/* A job whose twin renders the same key shares the twin's task: the
 * render lives while either is open, and its end gives the waiting job
 * the STL. */
START_TEST(store_render_twin_shares_the_task)
{
    char (*ids)[RR_ID_LEN] = NULL;
    char tid[RR_ID_LEN];
    struct store_render r;
    struct task t;
    long long j1, j2, j3, busy = -1;
    size_t n = 9;

    j1 = scad_job();
    j2 = scad_job();
    j3 = scad_job();
    memset(&t, 0, sizeof(t));
    snprintf(t.id, sizeof(t.id), "1700000000-00001-000005");
    snprintf(t.service, sizeof(t.service), "openscad");
    t.timeout = 10;
    ck_assert_int_eq(store_render_start(st, j1, RKEY, &t, 20), 0);
    ck_assert_int_eq(store_render_twin_task(st, RKEY, j1, tid),
                     STORE_NOTFOUND);         /* itself is no twin */
    ck_assert_int_eq(store_render_twin_task(st, RKEY, j2, tid), 0);
    ck_assert_str_eq(tid, t.id);
    ck_assert_int_eq(store_render_share(st, j2, RKEY, tid, 21), 0);
    ck_assert_int_eq(store_render_share(st, j2, RKEY, tid, 22),
                     STORE_NOTFOUND);         /* once */
    ck_assert_int_eq(store_render_share(st, j3, RKEY, tid, 23), 0);
    ck_assert_int_eq(store_render_busy(st, &busy), 0);
    ck_assert_int_eq(busy, 1);               /* one task, one slot */
    /* cancelling the job that started it keeps what the twins wait for */
    ck_assert_int_eq(store_job_cancel(st, j1, "no", 30, NULL), 0);
    ck_assert_int_eq(store_job_cancel(st, j3, "no", 30, NULL), 0);
    ck_assert_int_eq(store_renders_unneeded(st, 10, &ids, &n), 0);
    ck_assert_uint_eq(n, 0);
    free(ids);
    ck_assert_int_eq(store_render_get(st, j2, &r), 0);
    ck_assert_str_eq(r.task_id, t.id);       /* render_end looks at it */
    ck_assert_str_eq(r.key, RKEY);
    /* once the last of them ends, the task is listed once */
    ck_assert_int_eq(store_job_cancel(st, j2, "no", 40, NULL), 0);
    ck_assert_int_eq(store_renders_unneeded(st, 10, &ids, &n), 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_str_eq(ids[0], t.id);
    free(ids);
}
END_TEST

/* A running render asked to stop is not picked again on the next tick
 * (it was logged, counted and the runner polled every tick). */
START_TEST(store_renders_unneeded_once)
{
    char (*ids)[RR_ID_LEN] = NULL;
    enum task_status now;
    struct task t, c;
    long long j1;
    size_t n = 9;

    j1 = scad_job();
    memset(&t, 0, sizeof(t));
    snprintf(t.id, sizeof(t.id), "1700000000-00001-000004");
    snprintf(t.service, sizeof(t.service), "openscad");
    t.timeout = 10;
    ck_assert_int_eq(store_render_start(st, j1, RKEY, &t, 20), 0);
    ck_assert_int_eq(store_task_claim(st, &c), 0);      /* running */
    ck_assert_str_eq(c.id, t.id);
    task_clear(&c);
    ck_assert_int_eq(store_job_cancel(st, j1, "no", 40, NULL), 0);
    ck_assert_int_eq(store_renders_unneeded(st, 10, &ids, &n), 0);
    ck_assert_uint_eq(n, 1);
    free(ids);
    ck_assert_int_eq(store_task_cancel(st, t.id, "no job needs it", &now), 0);
    ck_assert_int_eq(now, TASK_BUSY);       /* the runner stops it */
    ck_assert_int_eq(store_renders_unneeded(st, 10, &ids, &n), 0);
    ck_assert_uint_eq(n, 0);
    free(ids);
    /* a new job of the same model does not take a task that is stopping:
     * it would end cancelled and fail the job; it renders on its own */
    {
        char tid[RR_ID_LEN];
        long long j2 = scad_job();

        ck_assert_int_eq(store_render_twin_task(st, RKEY, j2, tid),
                         STORE_NOTFOUND);
        ck_assert_int_eq(store_render_share(st, j2, RKEY, t.id, 50),
                         STORE_NOTFOUND);
    }
}
END_TEST

/* A render's cache entry records its use, made and on each hit: the age
 * limit of the slice cache (slice_cache_max_age) keeps a fresh one. */
START_TEST(store_render_cache_survives_age)
{
    struct store_evicted g;
    char sha[FLEET_SHA256_HEX];
    long long j1, j2;

    j1 = scad_job();
    j2 = scad_job();
    ck_assert_int_eq(store_blob_put(st, STL, 700, 30), 0);
    ck_assert_int_eq(store_render_done(st, j1, RKEY, STL, 100), 0);
    ck_assert_int_eq(store_slice_cache_evict(st, 90, -1, 100, &g), 0);
    ck_assert_int_eq(g.entries, 0);
    ck_assert_int_eq(store_render_done(st, j2, RKEY, STL, 200), 0); /* hit */
    ck_assert_int_eq(store_slice_cache_evict(st, 150, -1, 200, &g), 0);
    ck_assert_int_eq(g.entries, 0);
    ck_assert_int_eq(store_slice_cache_get(st, RKEY, sha, NULL), 0);
    ck_assert_int_eq(store_slice_cache_evict(st, 201, -1, 300, &g), 0);
    ck_assert_int_eq(g.entries, 1);          /* it can age out */
}
END_TEST

/* A render whose task cannot be assembled for a cause that may pass (no
 * descriptor left: EMFILE) waits for the next tick: its job does not
 * fail, and the next tick starts the render. */
START_TEST(render_assembly_retries_a_passing_failure)
{
    static const char svc[] = "cmd = openscad\nfileOut = $id.stl\n"
                              "output = -o$fileOut\ninputTypes = scad\n"
                              "inputMin = 1\ninputMax = 1\n";
    static const char scad[] = "cube(10);\n";
    struct fleet_job_file model;
    struct fleet_job_spec spec;
    struct service_registry *reg;
    struct rlimit rl, low;
    struct rr_conf conf;
    struct slicer *s;
    struct fleet_job j;
    char path[256], sha[FLEET_SHA256_HEX], e[256];
    long long id, size = 0, busy = -1;
    int fd;

    snprintf(path, sizeof(path), "%s/services", dir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    write_file("services/openscad.conf", svc, strlen(svc), path,
               sizeof(path));
    snprintf(path, sizeof(path), "%s/services", dir);
    reg = service_registry_load(path, e, sizeof(e));
    ck_assert_msg(reg != NULL, "%s", e);
    ck_assert_int_eq(spool_init(dir), 0);
    write_file("cube.scad", scad, strlen(scad), path, sizeof(path));
    ck_assert_int_eq(fleet_blob_copy(dir, path, sha, &size), 0);
    ck_assert_int_eq(store_blob_put(st, sha, size, 10), 0);
    memset(&model, 0, sizeof(model));
    snprintf(model.sha256, sizeof(model.sha256), "%s", sha);
    snprintf(model.filename, sizeof(model.filename), "cube.scad");
    memset(&spec, 0, sizeof(spec));
    spec.queue = "default";
    spec.copies = 1;
    spec.model = &model;
    spec.render = 1;
    ck_assert_int_eq(store_job_create(st, &spec, 10, &id), 0);
    conf_defaults(&conf, dir);
    conf.fleet_slice_concurrency = 1;
    s = slicer_new(&conf, reg, st, e, sizeof(e));
    ck_assert_msg(s != NULL, "%s", e);

    /* no descriptor left above the lowest free one: copying the source
     * into the task directory fails with EMFILE */
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    fd = dup(0);
    ck_assert_int_ge(fd, 0);
    close(fd);
    low = rl;
    low.rlim_cur = (rlim_t)fd;
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
    ck_assert_int_eq(slicer_tick(s, NULL), 0);
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
    ck_assert_int_eq(store_job_get(st, id, &j), 0);
    ck_assert_int_lt(j.state, 2);            /* not failed */
    fleet_job_clear(&j);
    ck_assert_int_eq(store_render_busy(st, &busy), 0);
    ck_assert_int_eq(busy, 0);
    /* the cause passed: the next tick starts it */
    ck_assert_int_eq(slicer_tick(s, NULL), 1);
    ck_assert_int_eq(store_render_busy(st, &busy), 0);
    ck_assert_int_eq(busy, 1);
    slicer_free(s);
    service_registry_free(reg);
}
END_TEST

static int count_ready(void *arg, const struct fleet_event *e)
{
    *(long long *)arg += strcmp(e->kind, "render_ready") == 0;
    return 0;
}

/* A render that ends after its job was cancelled gives the job nothing:
 * no STL, no event "render_ready". */
START_TEST(store_render_done_after_cancel)
{
    struct store_render r;
    long long j1, events = -1;

    j1 = scad_job();
    ck_assert_int_eq(store_blob_put(st, STL, 700, 30), 0);
    ck_assert_int_eq(store_job_cancel(st, j1, "no", 40, NULL), 0);
    ck_assert_int_eq(store_render_done(st, j1, RKEY, STL, 50),
                     STORE_NOTFOUND);
    ck_assert_int_eq(store_render_get(st, j1, &r), 0);
    ck_assert_str_eq(r.sha256, "");
    events = 0;
    ck_assert_int_eq(store_event_list(st, 0, 0, count_ready, &events), 0);
    ck_assert_int_eq(events, 0);
}
END_TEST

static int stuck_of(void *arg, const struct store_unplaced *u)
{
    int *v = arg;

    if (u->job_id == v[0])
        v[1] = u->stuck;
    return 0;
}

/* A model job being sliced waits for its G-code, not for a printer: it is
 * no "unplaceable" job (whose queued copies fleet_unplaceable_timeout
 * would fail) until its slices are done. */
START_TEST(slicing_job_is_not_unplaceable)
{
    struct store_slice r;
    int v[2], failed, ready;

    v[0] = (int)model_job();
    v[1] = -1;
    ck_assert_int_eq(store_job_unplaceable(st, 1, stuck_of, v), 0);
    ck_assert_int_eq(v[1], -1);              /* not planned yet */
    r = row(v[0], "voron", SLICE_PENDING, KEY1, "");
    ck_assert_int_eq(store_slice_plan(st, v[0], &r, 1, "none", 20, &failed),
                     0);
    ck_assert_int_eq(store_job_unplaceable(st, 1, stuck_of, v), 0);
    ck_assert_int_eq(v[1], -1);              /* slicing */
    ck_assert_int_eq(store_blob_put(st, GCODE, 900, 40), 0);
    ck_assert_int_eq(store_slice_ready(st, KEY1, GCODE, "c.gcode", 40,
                                       &ready), 0);
    ck_assert_int_eq(store_job_unplaceable(st, 1, stuck_of, v), 0);
    ck_assert_int_eq(v[1], 1);               /* no voron serves default */
}
END_TEST

Suite *slicing_suite(void)
{
    Suite *s = suite_create("slicing");
    TCase *tc = tcase_create("core");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, bbox_ascii_and_binary_stl);
    tcase_add_test(tc, bbox_binary_built);
    tcase_add_test(tc, bbox_obj_and_refusals);
    tcase_add_test(tc, fits_the_bed);
    tcase_add_test(tc, overrides_canonical);
    tcase_add_test(tc, cache_key_covers_each_input);
    tcase_add_test(tc, render_key_covers_each_input);
    tcase_add_test(tc, defines_canonical);
    tcase_add_test(tc, store_slices_lifecycle);
    tcase_add_test(tc, store_slices_job_fails_when_none_left);
    tcase_add_test(tc, slicing_job_is_not_unplaceable);
    tcase_add_test(tc, store_renders_lifecycle);
    tcase_add_test(tc, store_renders_unneeded_when_job_ends);
    tcase_add_test(tc, store_renders_unneeded_once);
    tcase_add_test(tc, store_render_twin_shares_the_task);
    tcase_add_test(tc, store_render_done_after_cancel);
    tcase_add_test(tc, store_render_cache_survives_age);
    tcase_add_test(tc, render_assembly_retries_a_passing_failure);
    suite_add_tcase(s, tc);
    return s;
}
