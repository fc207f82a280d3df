/*
 * api.h - the JSON API under /api/v1 (tasks and services; the fleet adds
 * its own routes) and /healthz (health.c).
 */
#ifndef RR_API_H
#define RR_API_H

#include "fcgi/request.h"

/* path is what follows "/api/v1". */
int api_handle(struct req *r, const char *path);
int api_healthz(struct req *r);

#endif
