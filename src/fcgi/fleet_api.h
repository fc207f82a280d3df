/*
 * fleet_api.h - the fleet's HTTP interface inside rrcloud-fcgi: printers,
 * frontends, queues, jobs and events under /api/v1, the OctoPrint upload
 * emulation under /api, and /metrics.
 */
#ifndef RR_FLEET_API_H
#define RR_FLEET_API_H

#include "fcgi/request.h"

/* path is what follows "/api/v1" (e.g. "/printers/12/heartbeat").  Answers
 * 404 for a path that is not the fleet's.  Returns the HTTP status sent. */
int fleet_api_handle(struct req *r, const char *path);
/* path is what follows "/api" (e.g. "/version", "/files/local"). */
int octoprint_handle(struct req *r, const char *path);
/* GET /metrics in Prometheus text format. */
int metrics_handle(struct req *r);

#endif
