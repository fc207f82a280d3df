/*
 * fleet_model.h - model jobs as rrcloud-fcgi takes them (issue 10 part 2),
 * through /api/v1/queues/Q/jobs (a "model" part, or a "file" part with a
 * model's extension) and the relay's service=print (fileIn0 a model): the
 * checks before anything is written, and the job's slicing as the API
 * shows it.  rrcloudd slices it (daemon/slicer.h).
 *
 * Fields of a model job besides the G-code job's: profile (a comma list
 * of printer profiles it may be sliced for; default every profile) and
 * override.NAME = VALUE (a slicer setting each profile maps through its
 * allowlist: override.layer_height=0.2, override.supports=yes).
 *
 * The model may be a source (a .scad): rrcloudd renders it once with the
 * openscad service and slices the STL (daemon/render.c), with the job's
 * variables define.NAME = VALUE (openscad's -DNAME=VALUE: numbers).
 */
#ifndef RR_FCGI_FLEET_MODEL_H
#define RR_FCGI_FLEET_MODEL_H

#include <stddef.h>

#include <jansson.h>

#include "store/store_fleet.h"

struct profile_registry;
struct service_registry;

/* The prefix of an override field, and of a SCAD variable's. */
#define FLEET_MODEL_OVERRIDE "override."
#define FLEET_MODEL_DEFINE "define."

/* A model job's choices, as fields give them.  Owns nothing. */
struct fleet_model_req {
    char profiles[FLEET_LIST_MAX];      /* checked comma list, "" = any */
    char overrides[1024];               /* canonical lines (slicing.h) */
    char defines[1024];                 /* the same, of define.* */
};

/* From the field pairs (names[i] = values[i], any fields; only profile,
 * override.* and define.* are read) into m.  0, or an HTTP status (400)
 * with the field and message. */
int fleet_model_fields(const struct profile_registry *reg, size_t n,
                       const char *const *names, const char *const *values,
                       struct fleet_model_req *m, char *field, size_t flen,
                       char *msg, size_t mlen);

/* For a job that carries G-code: 400 with the field and message if any
 * field is an override.* or define.* (which only a model takes), else 0. */
int fleet_model_stray(size_t n, const char *const *names, char *field,
                      size_t flen, char *msg, size_t mlen);

/* The material a model job is sliced with, into material (in place): one
 * it names stays; none becomes the first defaultMaterial (in profile name
 * order) of the profiles it may be sliced for that all of them have a
 * config for (the job then names it, so the scheduler sends its G-code
 * only to printers loaded with what it was sliced for).  0, or 400 with
 * field and message when there is none ("name one"). */
int fleet_model_material(const struct profile_registry *reg,
                         const char *slice_profiles, char *material,
                         size_t len, char *field, size_t flen, char *msg,
                         size_t mlen);

/* 1 if a model of this file name is a source rendered before slicing
 * (fleet_job_spec.render): a .scad. */
int fleet_model_source(const char *filename);

/* Checks a model job (spec->model set, its overrides and slice_profiles
 * from fleet_model_fields, render from fleet_model_source) before it is
 * written: profiles must be configured, a source needs the openscad
 * service, which must allow each of its defines as an option (-DN=V),
 * and only a source takes defines; and some printer of a profile it may be sliced for must be
 * able to take it (store_job_feasible).  0, or an HTTP status (422, 500)
 * with field and message. */
int fleet_model_check(const struct profile_registry *reg,
                      const struct service_registry *services,
                      struct store *st, const struct fleet_job_spec *spec,
                      char *field, size_t flen, char *msg, size_t mlen);

/* Adds the model job's "model", "overrides", "slices" and
 * "excluded_profiles" to the job object o, and a SCAD job's "render"
 * (service, state: pending, rendering, ready, failed or cancelled; task;
 * the STL's sha256).  Nothing for a G-code job.  0 or -1 (store error). */
int fleet_model_json(struct store *st, long long job_id, json_t *o);

#endif
