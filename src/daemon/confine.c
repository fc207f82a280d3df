/* confine.c - see confine.h. */
#include "daemon/confine.h"

#include "common/log.h"
#include "common/util.h"
#include "spool/spool.h"

#include <string.h>
#include <sys/stat.h>

/* Each of the row's inputs is a regular file in its directory. */
static int confine_inputs(const char *spool, const struct task *row,
                          char *err, size_t errlen)
{
    const char *p = row->inputs ? row->inputs : "";
    char name[256], path[4096];
    struct stat st;

    while (*p) {
        size_t len = strcspn(p, ",");

        if (rr_fmt(name, sizeof(name), "%.*s", (int)len, p) < 0 ||
            spool_task_file(spool, row->id, name, path, sizeof(path)) < 0 ||
            lstat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
            rr_fmt(err, errlen, "refused the stored command line: input "
                   "%.64s is not a file of the task", name);
            return -1;
        }
        p += len + (p[len] == ',');
    }
    return 0;
}

int confine_task(const struct sandbox *sb, const struct service_registry *reg,
                 const char *spool, const struct task *row,
                 struct spawn_plan *plan, char *err, size_t errlen)
{
    const struct service *s = service_find(reg, row->service);
    struct sandbox_svc ss;

    if (!s) {
        rr_fmt(err, errlen, "service %s is not configured", row->service);
        return -1;
    }
    if (service_check_argv(s, row->id, row->inputs, row->out_name,
                           plan->argv, err, errlen) < 0 ||
        confine_inputs(spool, row, err, errlen) < 0)
        return -1;
    memset(&ss, 0, sizeof(ss));
    ss.read = s->sandbox_read;
    ss.write = s->sandbox_write;
    ss.device = s->sandbox_device;
    ss.network = s->sandbox_network;
    /* RLIMIT_NPROC counts the uid's processes: only for the sandbox's. */
    if (sb->switch_uid && plan->lim.max_procs == 0)
        plan->lim.max_procs = SANDBOX_DEFAULT_NPROC;
    if (sandbox_plan_build(sb, &ss, plan->dir, plan->argv, &plan->sb, err,
                           errlen) < 0)
        return -1;
    return sandbox_hand_over(sb, plan->dir, err, errlen);
}

void confine_take_back(const struct sandbox *sb, const char *spool,
                       const char *id)
{
    char dir[4096], err[512];

    if (!sb || spool_task_dir(spool, id, dir, sizeof(dir)) < 0)
        return;
    if (sandbox_take_back(sb, dir, err, sizeof(err)) < 0)
        log_warn("task %s: %s", id, err);
}
