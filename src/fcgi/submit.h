/*
 * submit.h - a task submission: POST / (RepRapCloud) and POST /api/v1/tasks.
 *
 * The body (multipart/form-data or urlencoded) is streamed into a private
 * directory under SPOOL/tmp; every field is checked against the service
 * before anything becomes visible; then the directory is renamed into
 * place, the row inserted and rrcloudd woken.  A rejected request leaves
 * nothing behind.
 */
#ifndef RR_SUBMIT_H
#define RR_SUBMIT_H

#include "fcgi/request.h"

/* Returns REQ_HELD if the request was parked until the task ends, else the
 * HTTP status sent. */
int submit_handle(struct req *r);

#endif
