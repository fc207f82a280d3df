/*
 * service_int.h - helpers shared by service.c (conf loading) and
 * service_argv.c (client value checks, argv); not part of the contract.
 */
#ifndef RR_SERVICE_INT_H
#define RR_SERVICE_INT_H

#include <stddef.h>

#define SVC_FILENAME_MAX 255
#define SVC_ID_MAX 64

/* Frees a NULL-ended vector of malloc'd strings; NULL is a no-op. */
void svc_vec_free(char **v);

/* Appends a copy of s[0..len) to the NULL-ended vector *v holding *n
 * strings.  Returns 0 or -1 (out of memory; *v stays valid). */
int svc_vec_push(char ***v, size_t *n, const char *s, size_t len);

/* Splits s at any byte of seps, trims blanks, skips empty items.  Returns
 * the count with the vector in *out (NULL when 0), or -1. */
long svc_split(const char *s, const char *seps, char ***out);

/* tmpl with every occurrence of var replaced by val; malloc'd or NULL. */
char *svc_subst(const char *tmpl, const char *var, const char *val);

/* id is [A-Za-z0-9_-]{1,SVC_ID_MAX}. */
int svc_id_ok(const char *id);

/* s is a plain file name in the task directory: [A-Za-z0-9._-], at most
 * SVC_FILENAME_MAX bytes, no leading '.' or '-', no "..". */
int svc_plain_name(const char *s);

struct service;
/* A slicer service (service.h, key slicer) forces --post-process and lets
 * no client option set it: 0, or -1 with err saying what is missing. */
int svc_check_slicer(const struct service *s, char *err, size_t errlen);

#endif
