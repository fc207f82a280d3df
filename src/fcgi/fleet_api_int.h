/*
 * fleet_api_int.h - what the fleet's HTTP files share: who is asking
 * (fcgi/auth.h), JSON in and
 * out, field checks that name the field, and G-code uploads into blobs.
 *
 *   fleet_api.c         routing, who is asking, JSON and field helpers
 *   fleet_api_printers.c printers (enroll, heartbeat, share, holds)
 *   fleet_api_jobs.c    queues, jobs, events
 *   fleet_api_keys.c    users and api keys
 *   fleet_api_front.c   frontends
 *   fleet_api_profiles.c printer profiles (read-only)
 *   fleet_api_sites.c   sites' staffed hours, printers' spools
 *   fleet_api_upload.c  multipart G-code uploads (jobs and OctoPrint)
 *   octoprint.c         /api/version, /api/files/local
 *   metrics.c           /metrics
 *   fleet_print.c       service=print through the RepRapCloud POST
 *
 * Handlers return the HTTP status they sent.  Helpers that may answer on
 * their own return 0 when the caller goes on, else the status they sent.
 */
#ifndef RR_FLEET_API_INT_H
#define RR_FLEET_API_INT_H

#include <jansson.h>

#include "fcgi/auth.h"
#include "fcgi/request.h"
#include "fleet/model.h"
#include "store/store_fleet.h"

/* Who is asking: r->caller (fcgi/auth.h), passed to each handler. */

/* ---- JSON ------------------------------------------------------------- */

/* Answers go out with req_send_json() (fcgi/request.h). */
/* Reads a JSON object body (Content-Type application/json or none, at
 * most max_json_body bytes).  0 and *out (caller decrefs), or answers
 * 400/413/415 and returns that.  An empty body gives an empty object. */
int fa_read_json(struct req *r, json_t **out);
/* A JSON body {"name": NAME} (a queue's, a user's): 0 with name set, or
 * answers 400 naming "name" (missing, not a name) and returns that. */
int fa_read_name(struct req *r, char *name, size_t len);

/* 1 if o has key with a value other than null: a setting the request
 * changes. */
int fa_given(json_t *o, const char *key);

/* Field readers for a JSON object o.  Each returns 0 (value set, or left
 * as is when the key is absent or null), or answers 400 naming the field
 * and the rule and returns 400. */
int fa_get_name(struct req *r, json_t *o, const char *key, char *dst,
                size_t len, int lower);            /* fleet_name_valid or "" */
int fa_get_text(struct req *r, json_t *o, const char *key, char *dst,
                size_t len);                       /* printable text */
int fa_get_int(struct req *r, json_t *o, const char *key, long long min,
               long long max, long long *dst);
int fa_get_bool(struct req *r, json_t *o, const char *key, int *dst);
/* A list given as an array of names or a comma string, into a comma list
 * (validated names, at most maxn items). */
int fa_get_list(struct req *r, json_t *o, const char *key, char *dst,
                size_t len, int maxn, int names);

/* Same rules for strings from a form or query (field names the value). */
int fa_check_name(struct req *r, const char *field, const char *v, char *dst,
                  size_t len, int lower);
int fa_check_int(struct req *r, const char *field, const char *v,
                 long long min, long long max, long long *dst);
/* An http(s) URL (curl_url); 0 or answers 400. */
int fa_check_url(struct req *r, const char *field, const char *v);
/* fa_check_url() plus netcheck's deny list and notifier_allow (the
 * literal host; rrcloudd checks what it resolves to). */
int fa_check_notifier(struct req *r, const char *v);

/* Parses a positive decimal id; 0 if not one. */
long long fa_id(const char *s, size_t len);

/* The fleet policy from the conf. */
void fa_policy(const struct req *r, struct fleet_policy *pol);
/* Tells rrcloudd the fleet changed. */
void fa_wake(const struct req *r);

/* ---- jobs (fleet_api_jobs.c) ------------------------------------------ */

/* Checks spec (queue, printer and blobs exist: 404; some printer could
 * ever take it: else 422 naming the field), creates the job, wakes
 * rrcloudd and answers 201 with the job. */
int fa_job_submit(struct req *r, const struct fleet_job_spec *spec);
/* The same without the answer: 0 and *id, or the status sent. */
int fa_job_create(struct req *r, const struct fleet_job_spec *spec,
                  long long *id);
/* Answers the job with its files and attempts (404 if none). */
int fa_send_job(struct req *r, long long id, int status);
/* A job body's "files" array into files[] (FA_MAX_FILES) and *n: 0, or
 * answers 400 naming the field and returns that. */
int fa_json_files(struct req *r, json_t *o, struct fleet_job_file *files,
                  size_t *n);

/* ---- printers (fleet_api_printers.c) ---------------------------------- */

/* The settings of an enrollment or a PATCH body into p: 0, or answers 400
 * naming the field and returns that. */
int fa_printer_settings(struct req *r, json_t *b, struct fleet_printer *p);

/* ---- sites and spools (fleet_api_sites.c) ----------------------------- */

struct fa_spool {
    double grams;                      /* < 0 = unknown */
    char material[FLEET_NAME_MAX], colour[FLEET_NAME_MAX];
    int has_material, has_colour;      /* given: set the printer's */
};
/* A spool object into sp (field names in errors start with prefix): 0 or
 * the 400 sent. */
int fa_spool_parse(struct req *r, json_t *o, const char *prefix,
                   struct fa_spool *sp);
/* Stores sp on printer id and wakes rrcloudd: 0 or the 404/500 sent. */
int fa_spool_store(struct req *r, long long id, const struct fa_spool *sp);
/* GET/PUT/PATCH /printers/ID/spool, the caller having checked the role. */
int fa_printer_spool(struct req *r, long long id);

/* ---- handlers in the other files -------------------------------------- */

int fa_printers(struct req *r, const struct auth_caller *c, const char *rest);
int fa_frontends(struct req *r, const struct auth_caller *c, const char *rest);
int fa_queues(struct req *r, const struct auth_caller *c, const char *rest);
int fa_jobs(struct req *r, const struct auth_caller *c, const char *rest);
int fa_events(struct req *r, const struct auth_caller *c);
int fa_keys(struct req *r, const struct auth_caller *c, const char *rest);
int fa_users(struct req *r, const struct auth_caller *c, const char *rest);
int fa_profiles(struct req *r, const struct auth_caller *c, const char *rest);
int fa_sites(struct req *r, const struct auth_caller *c, const char *rest);

/* ---- G-code uploads (fleet_api_upload.c) ------------------------------ */

#define FA_MAX_FILES FLEET_PROFILES_MAX

/* A multipart body with G-code file parts and plain fields, received into
 * blobs as it streams.  File parts: "file" (for the profile in field
 * "profile", else any) and "file_<profile>" (one per profile), or, with
 * octoprint set, OctoPrint's single "file". */
struct fa_upload {
    int octoprint;
    struct fleet_job_file files[FA_MAX_FILES];
    size_t nfiles;
    struct fleet_job_file model;  /* a model job's model (fleet_model.h) */
    int has_model;
    char *fields[32][2];          /* name, value (owned) */
    int nfields;
    /* first error: status, field, message */
    int status;
    char field[64];
    char msg[256];
};

/* Receives the request body.  0 when complete (files in blobs and
 * recorded with store_blob_put), else answers the first error and returns
 * its status.  fa_upload_free in either case. */
int fa_upload_receive(struct req *r, struct fa_upload *u);
const char *fa_upload_field(const struct fa_upload *u, const char *name);
void fa_upload_free(struct fa_upload *u);
/* 1 if name has a G-code extension (.gcode .g .gco .gc .nc). */
int fa_gcode_name(const char *name);

#endif
