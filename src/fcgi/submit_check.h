/*
 * submit_check.h - the state of one submission being received, and the
 * checks that turn its fields into a task (submit_check.c).  Private to
 * submit.c and submit_check.c.
 */
#ifndef RR_SUBMIT_CHECK_H
#define RR_SUBMIT_CHECK_H

#include "common/buf.h"
#include "common/conf.h"
#include "fcgi/fair.h"
#include "fcgi/fields.h"
#include "fcgi/request.h"
#include "store/store.h"

struct wb;

#define SUBMIT_MAX_UPLOADS CONF_MAX_FILES
#define SUBMIT_NOT_A_TASK 2   /* service was info/meta/kill: not a submission */
#define SUBMIT_CHAIN_MAX 8    /* stages in one pipeline, the first included */

/* One fileInN, uploaded or given inline, on disk in the task directory. */
struct upload {
    int index;                  /* N */
    int is_file;                /* had a filename (else inline content) */
    int unnamed;                /* filename="": a file input left empty,
                                 * dropped if no bytes come */
    char field[24];             /* "fileInN" */
    char ext[16];               /* from the filename; "" for inline content
                                 * or a name without one (then sniffed) */
    char tmpname[24];           /* name while receiving */
    char name[40];              /* final name: inN.ext */
    int fd;                     /* open while receiving, else -1 */
    unsigned long long size;
    unsigned char head[8192];   /* first bytes, for the type check */
    size_t headlen;
};

struct submit {
    struct req *r;
    const struct rr_conf *conf;
    char dir[4096];             /* private directory under SPOOL/tmp */
    int committed;              /* dir was renamed into place */
    struct fields fields;       /* every non-file field */
    struct upload *up[SUBMIT_MAX_UPLOADS];
    int nup;
    struct upload *cur;         /* upload being received, or NULL */
    char curname[64];           /* field being received */
    struct buf curval;          /* its value (non-file fields) */
    char pending_ext[16];       /* ext checked by submit_filename_ext */
    int nfields;
    unsigned long long body_bytes;
    struct fair_spool spool;    /* the spool's floors for this body */
    struct wb *wb;              /* a large body's file writer, or NULL */
    char service_name[64];
    struct task task;           /* built by submit_prepare */
    struct task stages[SUBMIT_CHAIN_MAX - 1];  /* a pipeline's later
                                 * stages (then=...), submit_chain.c */
    int nstages;
    /* first error: HTTP status, field (may be ""), message */
    int status;
    char field[64];
    char msg[512];
};

/* Records the first error and returns -1. */
int submit_fail(struct submit *s, int status, const char *field,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* N for "fileInN", -1 for another name, -2 for a malformed fileIn name. */
int submit_file_index(const char *name);
struct upload *submit_upload_find(struct submit *s, int index);
/* Checks a client's upload filename and leaves its extension in
 * s->pending_ext.  0 or -1 (error recorded). */
int submit_filename_ext(struct submit *s, const char *field,
                        const char *filename);
struct service;
/* Collects prefix+"argN" (contiguous) and prefix+"nativeArgs" into opts
 * (at most max) after checking each against the value rules and svc's
 * allowlist; prefix is "" for the first stage of a submission, "thenN."
 * for a pipeline's later ones.  0 or -1 (error recorded). */
int submit_check_options(struct submit *s, const struct service *svc,
                         const char *prefix, const char **opts, int *nopts,
                         int max);
/* Builds t's argv for svc (t->id set) and stores it as JSON with its
 * inputs and output name.  0 or -1 (error recorded). */
int submit_build_argv(struct submit *s, const struct service *svc,
                      struct task *t, const char **inputs, int ninputs,
                      const char **preargs, const char **opts, int nopts);
/* then=SERVICE,SERVICE...: checks the later stages of a pipeline against
 * the first (s->task, built) and each other, and builds them into
 * s->stages.  0 (also without then) or -1 (error recorded). */
int submit_chain_prepare(struct submit *s, const struct service *first);
/* Gives the later stages their (empty) task directories and inserts every
 * stage's row in one transaction, s->task first and the only one checked
 * against caps (store_chain_insert_capped).  0; STORE_CONFLICT with
 * *which and *found when a cap refused (the caller answers it); -1 (error
 * recorded).  Either way nothing is left behind but s->task's directory,
 * the caller's. */
int submit_chain_commit(struct submit *s, const struct store_task_caps *caps,
                        enum store_cap *which, long long *found);

/* Checks every field against the service and fills s->task.  Returns 0,
 * SUBMIT_NOT_A_TASK, or -1 (error recorded); *async is set from async=1
 * or Prefer: respond-async. */
int submit_prepare(struct submit *s, int *async);

#endif
