/*
 * slicer_int.h - private to rrcloudd's slicing (slicer.c, render.c): the
 * slicer object and the task helpers both stages use.
 */
#ifndef RR_DAEMON_SLICER_INT_H
#define RR_DAEMON_SLICER_INT_H

#include <stddef.h>

#include "daemon/slicer.h"

struct profile_registry;
struct service;
struct store_model_job;
struct task;

struct slicer {
    const struct rr_conf *conf;
    const struct service_registry *services;
    struct profile_registry *profiles;      /* owned */
    struct store *st;
};

/* ---- slicer.c ---- */

/* What is cheaply known of a service's program version, into buf. */
void slicer_version(const struct service *svc, char *buf, size_t len);
/* Copies src into the task dir as inIDX.EXT; its name into name, its
 * bytes added to *size.  0 or -1 with errno. */
int slicer_add_input(const char *dir, int idx, const char *src,
                     const char *ext, char *name, size_t namelen,
                     long long *size);
/* t->argv_json for svc with these inputs and options.  0, or -1 with
 * err. */
int slicer_task_argv(const struct service *svc, struct task *t,
                     const char *const *inputs, const char *const *prearg,
                     size_t nin, const char *const *opts, size_t nopts,
                     char *err, size_t errlen);
/* The task's output copied into a blob (recorded).  0 or -1. */
int slicer_output_blob(struct slicer *s, const struct task *t, char *sha256,
                       long long *size);
/* The last line of the task's log with text, "" if none. */
void slicer_log_tail(struct slicer *s, const struct task *t, char *buf,
                     size_t len);

/* ---- render.c: SCAD jobs rendered to an STL first (store_renders.h) ---- */

/* One round of renders: cancels those no open job needs, starts them
 * (within fleet_slice_concurrency, shared with the slices), serves them
 * from the cache, takes in their ends, fails the jobs whose render
 * failed.  The number of tasks started or cancelled (the runner has work),
 * or -1 on a store error. */
int slicer_render_tick(struct slicer *s);
/* A model job as slicing sees it: a rendered SCAD job's model becomes
 * its STL (NAME.stl), any other is left alone.  0 or -1. */
int slicer_model_rendered(struct slicer *s, struct store_model_job *m);
/* store_model_job_get, then slicer_model_rendered. */
int slicer_model_get(struct slicer *s, long long job_id,
                     struct store_model_job *m);
/* Slicing and rendering tasks queued or running: the slots in use. */
int slicer_busy(struct slicer *s, long long *busy);

#endif
