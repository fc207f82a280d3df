/*
 * slicing.h - what slicing a model job for a printer profile decides,
 * without I/O beyond reading the model (rrcloudd's daemon/slicer.c drives
 * it; rrcloud-fcgi checks a model job with it before taking it).
 *
 * A model job carries a model (STL, OBJ or 3MF) instead of G-code.  For
 * each profile its printers have, the model is sliced with the profile's
 * slicer, config, material config and the job's overrides; the G-code is
 * cached by a key over everything that changes it (slicing_cache_key).
 */
#ifndef RR_FLEET_SLICING_H
#define RR_FLEET_SLICING_H

#include <stddef.h>

#include "fleet/model.h"

struct profile;

#define SLICING_OVERRIDES_MAX 16        /* overrides on one job */
#define SLICING_OVERRIDES_LEN 1024      /* their "name=value\n" lines */

/* 1 if ext (lowercase, no dot) is a model type a slicer takes: stl,
 * obj, 3mf. */
int slicing_model_ext(const char *ext);
/* The accepted types as words, for messages: "stl, obj, 3mf". */
const char *slicing_model_exts(void);

/* The service that renders a source model to an STL, and the source type
 * it takes: a job may carry a .scad, which rrcloudd renders once with it
 * before slicing (daemon/render.c). */
#define SLICING_RENDER_SERVICE "openscad"
#define SLICING_SOURCE_EXT "scad"
/* 1 if ext is a model type a job may carry: a model's, or scad. */
int slicing_job_ext(const char *ext);
/* Those as words, for messages: "stl, obj, 3mf, scad". */
const char *slicing_job_exts(void);

/* A model's extent in mm. */
struct slicing_bbox {
    double min[3], max[3];
    int known;                          /* 0: type without a cheap bbox */
};

/* The bounding box of the model at path, of type ext: binary STL (84 +
 * 50 x triangles bytes), ASCII STL ("vertex x y z") and OBJ ("v x y z")
 * are read; 3MF leaves known = 0 (the slicer tells).  0, or -1 with err
 * when the file is not what its type says (no vertex, a truncated binary
 * STL, unreadable). */
int slicing_bbox_file(const char *path, const char *ext,
                      struct slicing_bbox *bb, char *err, size_t errlen);

/* Whether a model of bb fits p's bed and height (the slicer centres it
 * on the bed; it is not turned).  1, or 0 with the reason in why, e.g.
 * "the model (300.0 x 20.0 x 20.0 mm) is larger than the bed of mk3s
 * (250 x 210 x 210 mm)".  An unknown bbox fits. */
int slicing_fits(const struct profile *p, const struct slicing_bbox *bb,
                 char *why, size_t whylen);

/* A job's overrides as rrcloud stores them: "name=value" lines sorted by
 * name, names [a-z0-9_] 1..32 bytes, each once, values without control
 * characters, at most SLICING_OVERRIDES_MAX.  From n pairs into buf.
 * 0, or -1 with err naming the override. */
int slicing_overrides_canon(size_t n, const char *const *names,
                            const char *const *values, char *buf,
                            size_t len, char *err, size_t errlen);
/* Splits stored lines back (in place: buf is modified) into at most max
 * pairs; returns their number. */
size_t slicing_overrides_split(char *buf, const char **names,
                               const char **values, size_t max);

/* The cache key: SHA-256 hex over the model's SHA-256, the profile's name
 * and SHA-256 (its conf and config files), the material, the slicer
 * service and what is known of its version, and the overrides.  0 or -1. */
int slicing_cache_key(const char *model_sha256, const struct profile *p,
                      const char *material, const char *slicer_version,
                      const char *overrides, char key[FLEET_SHA256_HEX]);

#define SLICING_DEFINES_MAX 16          /* variables of one SCAD job */
#define SLICING_DEFINES_LEN 1024        /* their "name=value\n" lines */

/* A SCAD job's variables (define.NAME = VALUE, given to openscad as
 * -DNAME=VALUE) as rrcloud stores them: "name=value" lines sorted by
 * name, names [A-Za-z_][A-Za-z0-9_]* of 1..32 bytes, each once, values
 * finite numbers (the openscad service lets clients set numbers only),
 * at most SLICING_DEFINES_MAX.  0, or -1 with err naming the variable.
 * slicing_overrides_split splits them back. */
int slicing_defines_canon(size_t n, const char *const *names,
                          const char *const *values, char *buf, size_t len,
                          char *err, size_t errlen);

/* The render cache key: SHA-256 hex over the source's SHA-256, the render
 * service and what is known of its version, and the job's defines
 * (canonical lines, "" = none).  Distinct from every slicing_cache_key.
 * 0 or -1. */
int slicing_render_key(const char *source_sha256, const char *service,
                       const char *version, const char *defines,
                       char key[FLEET_SHA256_HEX]);

#endif
