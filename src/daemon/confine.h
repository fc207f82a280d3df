/*
 * confine.h - the runner's side of the sandbox: what happens to a claimed
 * task between its row and its command (the privileged side re-checks),
 * and after the command ended.
 */
#ifndef RR_CONFINE_H
#define RR_CONFINE_H

#include <stddef.h>

#include "daemon/sandbox.h"
#include "daemon/spawn.h"
#include "services/service.h"
#include "store/store.h"

/* For row, whose plan spawn_plan_build() made: its stored argv must be
 * exactly what its service builds (service_check_argv), its inputs
 * regular files of its directory; then plan->sb is filled for sb and the
 * service's sandbox keys, and the directory handed over to the sandbox
 * user.  Returns 0, or -1 with err, the reason the task fails with
 * ("refused the stored command line: ..."). */
int confine_task(const struct sandbox *sb, const struct service_registry *reg,
                 const char *spool, const struct task *row,
                 struct spawn_plan *plan, char *err, size_t errlen);

/* After task id's command ended (its process group killed): its
 * directory is taken back (sandbox_take_back); a failure is logged. */
void confine_take_back(const struct sandbox *sb, const char *spool,
                       const char *id);

#endif
