/*
 * profile.h - printer profiles (profiles/NAME.conf): for one printer
 * model, which slicer service slices for it, with which config files, and
 * which slicer options a job may override.
 *
 * A printer names its profile ("profile": "mk3s"); the material it has
 * loaded stays the printer's own setting, as the scheduler matches it
 * today, so a profile is a printer model and carries one config file per
 * material it prints.  Slicing for a printer of profile P loaded with
 * material M is then: P's slicer service with P's config, then M's
 * config, each as an input with the service's argInput (--load=), then
 * the model, plus the job's overrides mapped through P's allowlist.
 *
 * profiles/NAME.conf is in the key = value form of the services
 * (common/kv.h); NAME is the file name before ".conf", a fleet name in
 * lowercase ([a-z0-9._#+-], 1..63 bytes: "voron24-0.4").  Unknown or repeated keys are
 * errors.  Keys:
 *   description   one line for the listing.
 *   slicer        the slicer service (services/NAME.conf): a run service
 *                 that takes stl models and config files through its
 *                 argInput (prusa-slicer, slic3r).  Required.
 *   config        the printer's config file for that slicer (bed, nozzle,
 *                 speeds, start G-code): a plain file name in the
 *                 profiles directory whose extension the service takes as
 *                 a config (ini, conf, cfg).  Required.
 *   material.M    the config file for material M (temperatures, fan,
 *                 filament type), loaded after config; M is a lowercase
 *                 fleet name (pla, petg).  Any number, at most
 *                 PROFILE_MATERIALS_MAX.
 *   defaultMaterial  the material used for a printer that names none;
 *                 must be one of the material.M keys.
 *   bed           the printable area in mm, WIDTHxDEPTH ("250x210").
 *   height        the printable height in mm.
 *   nozzle        the nozzle diameter in mm.  bed, height and nozzle are
 *                 required; they are what the scheduler will compare a
 *                 model with, so where config sets bed_shape,
 *                 max_print_height or nozzle_diameter it must agree.
 *   override.NAME the slicer option a job's override NAME ([a-z0-9_],
 *                 1..32 bytes, e.g. layer_height) becomes: one word with
 *                 $value where the job's value goes ("--layer-height=
 *                 $value"), or without $value a switch the job turns on
 *                 with yes ("--support-material").  Each must be allowed
 *                 by the slicer service's own options.
 * Config files must not set post_process (the slicer services force it
 * off; a shipped config that asks for it is a mistake to refuse early).
 *
 * Each profile has a SHA-256 over its conf and every config file it
 * names, so anything that changes what it slices changes the hash (the
 * G-code cache keys on it).
 */
#ifndef RR_FLEET_PROFILE_H
#define RR_FLEET_PROFILE_H

#include <stddef.h>

#include <jansson.h>

#include "fleet/model.h"

struct service_registry;

#define PROFILE_MATERIALS_MAX 16
#define PROFILE_OVERRIDES_MAX 32
#define PROFILE_OVERRIDE_NAME_MAX 32
#define PROFILE_FILE_MAX (1024 * 1024)  /* largest config file */

struct profile_material {
    char name[FLEET_NAME_MAX];
    char *file;                 /* plain name in the profiles directory */
};

struct profile_override {
    char name[PROFILE_OVERRIDE_NAME_MAX + 1];
    char *option;               /* template, "$value" at most once */
    int is_switch;              /* no $value: on with yes, off with no */
};

/* One loaded profile.  The registry owns every pointer in it. */
struct profile {
    char name[FLEET_NAME_MAX];
    char *file;                 /* the .conf path as loaded */
    char *description;          /* "" if absent */
    char slicer[FLEET_NAME_MAX];
    char *config;               /* plain name in the profiles directory */
    char *dir;                  /* absolute profiles directory */
    struct profile_material materials[PROFILE_MATERIALS_MAX];
    size_t n_materials;         /* sorted by name */
    char default_material[FLEET_NAME_MAX];  /* "" = none */
    double bed_x, bed_y, height, nozzle;    /* mm */
    struct profile_override overrides[PROFILE_OVERRIDES_MAX];
    size_t n_overrides;         /* sorted by name */
    char sha256[FLEET_SHA256_HEX];
};

/* A loaded registry is never modified, so threads may share it. */
struct profile_registry;

/* Loads every *.conf in dir, checking each against its slicer service in
 * services.  dir "" gives an empty registry (profiles not configured);
 * so does a directory without *.conf files.  Returns the registry, or
 * NULL with err naming the file and key, e.g. "profiles/x.conf: slicer:
 * no slicer service 'cura' (services: echo,prusa-slicer,...)".  Free
 * with profile_registry_free(). */
struct profile_registry *profile_registry_load(
    const char *dir, const struct service_registry *services,
    char *err, size_t errlen);

/* Frees the registry; NULL is a no-op. */
void profile_registry_free(struct profile_registry *reg);

/* The profile called name, or NULL.  Safe with any client string. */
const struct profile *profile_find(const struct profile_registry *reg,
                                   const char *name);

/* In name order: profile_at(reg, i) for i < profile_count(reg). */
size_t profile_count(const struct profile_registry *reg);
const struct profile *profile_at(const struct profile_registry *reg,
                                 size_t i);

/* The material called name in p, or NULL. */
const struct profile_material *profile_material(const struct profile *p,
                                                const char *name);

/* A printer's profile setting: "" (none) always passes, and so does any
 * name while no profiles are configured; else it must be one of them.
 * 0, or -1 with "no printer profile 'x' (profiles: mk3s, voron24-0.4)"
 * in err (the caller names the field). */
int profile_check_name(const struct profile_registry *reg, const char *name,
                       char *err, size_t errlen);

/* A job's overrides for p: each name one of p's override names, each
 * value a value that may reach argv (service_check_value), a switch's
 * yes or no.  0, or -1 with err naming the field: "brim: profile mk3s
 * allows no override 'brim' (allowed: infill, layer_height)". */
int profile_check_overrides(const struct profile *p, size_t n,
                            const char *const *names,
                            const char *const *values,
                            char *err, size_t errlen);

/* The slicer option for override name = value (already checked) into
 * buf: "--layer-height=0.2".  Returns 1 with buf set, 0 for a switch
 * turned off (no option), -1 if name is not an override of p or buf is
 * too small. */
int profile_override_option(const struct profile *p, const char *name,
                            const char *value, char *buf, size_t len);

/* p as the API shows it (a new reference, NULL on allocation failure). */
json_t *profile_json(const struct profile *p);

#endif
