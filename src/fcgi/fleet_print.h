/*
 * fleet_print.h - service=print through RepRapCloud's POST (and POST
 * /api/v1/tasks): a task of a "type = print" service is a fleet job.
 *
 * Fields besides fileIn0 (the G-code): queue (default "default"), copies
 * (default 1, at most fleet_max_copies), material, colour, priority
 * (-1000..1000), printer (an id: only that printer), profile (the printer
 * profile the G-code was sliced for; default any; one of the loaded
 * profiles when there are any, fleet/profile.h).  The task's status
 * follows its job: busy once a copy is dispatched, then complete, failed
 * or cancelled with the job; its notifier gets the job as JSON.
 * Private to submit.c and submit_check.c, which call it.
 */
#ifndef RR_FLEET_PRINT_H
#define RR_FLEET_PRINT_H

#include "fcgi/submit_check.h"

/* Checks the job fields (each error names its field; 422 when no enrolled
 * printer could ever take the job) and marks the task TASK_KIND_PRINT.
 * 0, or -1 with the error recorded (submit_fail). */
int fleet_print_prepare(struct submit *s);

/* A pipeline's print stage (fcgi/submit_chain.c): the same checks of its
 * job fields, named prefix+field ("then2.queue"), into *spec as JSON
 * (malloc'd) for rrcloudd to create the job from when the G-code exists
 * (daemon/chain.c).  0, or -1 with the error recorded. */
int fleet_print_stage(struct submit *s, const char *prefix, char **spec);

/* In place of store_task_insert, after the task directory is committed:
 * stores fileIn0 as a blob (hard link, no copy) and inserts the task and
 * its job in one transaction, then wakes rrcloudd's fleet.  0, or -1 with
 * the error recorded. */
int fleet_print_commit(struct submit *s);

#endif
