/*
 * slicer.h - rrcloudd slices model jobs ahead of need (issue 10 part 3).
 *
 * A model job (store_slices.h) is planned once: each printer profile its
 * printers have gets a slice row, or is excluded with the reason (no
 * config for the job's material, an override it does not allow, a model
 * larger than its bed, its slicer does not take the model's type).  A
 * pending row whose G-code is in the cache (fleet/slicing.h's key) is
 * ready at once; otherwise it becomes an ordinary run task of the
 * profile's slicer service (inputs: the profile's config and material
 * config with the service's argInput, then the model; the overrides as
 * the options the profile maps them to), inserted as a store row for the
 * runner, which runs it like any task under the same limits.  At most
 * fleet_slice_concurrency such tasks exist at once, so the other runner
 * slots stay for users' tasks; a row whose twin (same key) is slicing
 * waits for it.  Each tick notices the slicing tasks that ended: the
 * G-code goes into a blob, the cache, and every job waiting for that key
 * as its file for the profile (so the scheduler dispatches as for any
 * job); a failed slice excludes its profile with the slicer's reason, and
 * a job that every profile excluded fails.  A slice whose job was
 * cancelled or ended and that no other waiting job shares is cancelled:
 * its task stops and the row stays pending.
 *
 * A job whose model is a .scad is first rendered to an STL by a task of
 * the openscad service (render.c, store_renders.h), within the same
 * concurrency and cached by content; a failed render fails the job.
 *
 * The runner is untouched: this module writes rows and reads them back.
 */
#ifndef RR_DAEMON_SLICER_H
#define RR_DAEMON_SLICER_H

#include <stddef.h>

struct rr_conf;
struct service_registry;
struct store;

struct slicer;

/* Loads the printer profiles (profiles_dir, as rrcloud-fcgi does) against
 * services.  NULL with err on a bad profile or no memory. */
struct slicer *slicer_new(const struct rr_conf *conf,
                          const struct service_registry *services,
                          struct store *st, char *err, size_t errlen);
void slicer_free(struct slicer *s);
/* After a SIGHUP reload of the services (the registry outlives no tick). */
void slicer_set_services(struct slicer *s,
                         const struct service_registry *services);

/* One round: renders .scad models, plans new model jobs, takes in the
 * ends of slicing tasks, serves pending rows from the cache, starts
 * slicing tasks up to the limit, and cancels the renders and slices no
 * job needs any more (a job cancelled or ended, and no other job waiting
 * for the same key).  Returns the number of tasks started or cancelled
 * (the caller polls the runner), or -1 on a store error (logged).  *ready
 * (may be NULL) = the rows that became ready (the caller wakes the
 * scheduler). */
int slicer_tick(struct slicer *s, int *ready);

#endif
