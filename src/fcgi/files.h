/*
 * files.h - task results and logs at RepRapCloud's URLs.
 */
#ifndef RR_FILES_H
#define RR_FILES_H

#include "fcgi/request.h"

/* GET /tasks/out/NAME: the output of a complete task. */
int files_out(struct req *r, const char *name);
/* GET /tasks/log/ID: the task's captured stdout and stderr. */
int files_log(struct req *r, const char *id);

#endif
