/*
 * store_renders.h - the render stage of SCAD model jobs (issue 10 part 2):
 * a job whose model is a source (fleet_job_spec.render: a .scad) is
 * rendered once to an STL by the openscad service, then planned and
 * sliced like a job of that STL (store_slices.h).
 *
 * The job keeps its source as its model; the STL is its render_sha256,
 * a blob reference of the job like its model's.  A render is a relay
 * task (client rrcloudd-slicer) inserted by store_render_start; its STL
 * is cached in slice_cache under a key of its own (fleet/slicing.h's
 * slicing_render_key), so a second job of the same source renders
 * nothing: from the cache, or sharing the task of the job rendering it
 * (store_render_share), which then lives while either job is open.  A
 * failed render fails the job.  Data only: which service, which key, how
 * many at once is daemon/render.c's.
 */
#ifndef RR_STORE_RENDERS_H
#define RR_STORE_RENDERS_H

#include <stddef.h>

#include "fleet/model.h"
#include "store/store.h"

struct store_render {
    long long job_id;
    char model_sha256[FLEET_SHA256_HEX]; /* the source */
    char model_name[FLEET_FILENAME_MAX];
    char key[FLEET_SHA256_HEX];          /* cache key, "" until known */
    char task_id[RR_ID_LEN];             /* "" until a render started */
    char sha256[FLEET_SHA256_HEX];       /* the STL, "" until rendered */
    char defines[1024];                  /* its variables: "name=value"
                                          * lines, sorted ("" = none) */
    int planned;                         /* the job's slices are planned */
    int job_final;                       /* the job is final */
};

/* Render jobs not final, not yet rendered nor planned, oldest first, up
 * to limit: *out (free it) and *n. */
int store_renders_waiting(struct store *st, int limit,
                          struct store_render **out, size_t *n);
/* A job's render: STORE_NOTFOUND when its model needs none. */
int store_render_get(struct store *st, long long job_id,
                     struct store_render *out);

/* Render tasks queued or running (of any job; twins share one): slots in
 * use. */
int store_render_busy(struct store *st, long long *count);
/* The task (into task_id, RR_ID_LEN) by which a job other than job_id
 * renders key now: 0, or STORE_NOTFOUND. */
int store_render_twin_task(struct store *st, const char *key,
                           long long job_id, char *task_id);
/* The job (not final, no render of its own yet) waits for the twin's
 * task task_id rendering key: recorded as its own render, so the task
 * lives while the job is open (store_renders_unneeded), and its end gives
 * the job the STL (event "render_started").  STORE_NOTFOUND when the job
 * is final, rendered or rendering.  One transaction. */
int store_render_share(struct store *st, long long job_id, const char *key,
                       const char *task_id, double now);

/* Render tasks queued or running, not yet asked to stop, whose job ended
 * (cancelled, failed) while no other open job shares their key: up to
 * limit task ids in *ids (free it) and *n. */
int store_renders_unneeded(struct store *st, int limit,
                           char (**ids)[RR_ID_LEN], size_t *n);

/* Inserts the render task t (its files in place) and records it and key
 * on the job (event "render_started").  STORE_NOTFOUND (nothing written)
 * when the job is final or rendered.  One transaction. */
int store_render_start(struct store *st, long long job_id, const char *key,
                       const struct task *t, double now);

/* The job's STL is the blob sha256 (store_blob_put done): caches it under
 * key (one blob reference; "" = no caching) and gives it to the job (a
 * reference; event "render_ready").  STORE_NOTFOUND (nothing written)
 * when the job is final or rendered.  One transaction. */
int store_render_done(struct store *st, long long job_id, const char *key,
                      const char *sha256, double now);

/* The render failed: the job's queued copies fail with reason and the job
 * is planned (it waits for nothing more); event "render_failed".  One
 * transaction. */
int store_render_fail(struct store *st, long long job_id, const char *reason,
                      double now);

#endif
