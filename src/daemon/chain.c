/* chain.c - see chain.h. */
#include "daemon/chain.h"

#include "common/log.h"
#include "common/util.h"
#include "fleet/blob.h"
#include "spool/spool.h"
#include "store/store_fleet.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Copies prev's output into next's directory under the input name next's
 * argv expects (in0.<type>).  A copy, not a link: prev ran as the sandbox
 * user, and one inode shared with next's input (and, for a print stage,
 * the blob) would stay writable by it.  The output is opened without
 * following a link and must be a regular file.  A copy left by an end
 * that was recorded but rolled back is replaced. */
static int chain_copy(const char *from, const char *to)
{
    char buf[65536];
    struct stat sb;
    ssize_t n;
    int in, out = -1, rc = -1, e;

    in = open(from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0)
        return -1;
    if (fstat(in, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        errno = EINVAL;
        goto out;
    }
    if (unlink(to) < 0 && errno != ENOENT)
        goto out;
    out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
               0640);
    if (out < 0)
        goto out;
    while ((n = read(in, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || rr_write_all(out, buf, (size_t)n) < 0)
            goto out;
    }
    rc = 0;
out:
    e = errno;
    if (out >= 0 && close(out) < 0 && rc == 0) {
        e = errno;
        rc = -1;
    }
    if (rc < 0 && out >= 0)
        unlink(to);
    close(in);
    errno = e;
    return rc;
}

static int chain_pass(const char *spool, const struct task *prev,
                      const struct task *next, char *why, size_t len)
{
    char from[4096], to[4096];

    if (!prev->out_name[0] || !next->inputs || !next->inputs[0] ||
        strchr(next->inputs, ',') || strchr(next->inputs, '/')) {
        rr_fmt(why, len, "stage %d has no single input to take",
               next->stage);
        return -1;
    }
    if (spool_task_file(spool, prev->id, prev->out_name, from,
                        sizeof(from)) < 0 ||
        spool_task_file(spool, next->id, next->inputs, to, sizeof(to)) < 0) {
        rr_fmt(why, len, "spool path too long");
        return -1;
    }
    if (chain_copy(from, to) == 0)
        return 0;
    rr_fmt(why, len, "cannot pass %s to stage %d: %s", prev->out_name,
           next->stage, strerror(errno));
    return -1;
}

/* fleet: a print stage's job from its fields (job_spec, JSON, checked at
 * submission) and its input, the G-code chain_pass gave it, copied into
 * the blob store (a blob of its own inode, never a link): the stage
 * becomes the print task of that job, which the fleet takes from here.
 * 0, -1 with why, or a store error (-2). */
static int chain_print(struct store *st, const char *spool,
                       const struct task *next, const struct chain_prep *prep,
                       char *why, size_t len)
{
    struct fleet_job_spec spec;
    struct fleet_job_file file;
    char from[4096], name[64];
    json_t *o = json_loads(next->job_spec, 0, NULL);
    json_int_t printer = 0;
    const char *queue = "", *material = "", *colour = "", *profile = "";
    long long id;
    int rc = -1;

    memset(&spec, 0, sizeof(spec));
    memset(&file, 0, sizeof(file));
    if (!o || json_unpack(o, "{s:s, s:I, s:i, s:i, s:s, s:s, s:s}", "queue",
                          &queue, "printer", &printer, "copies",
                          &spec.copies, "priority", &spec.priority,
                          "material", &material, "colour", &colour,
                          "profile", &profile) < 0) {
        rr_fmt(why, len, "stage %d: unreadable job fields", next->stage);
        goto out;
    }
    if (prep && prep->print) {
        memcpy(file.sha256, prep->sha256, sizeof(file.sha256));
        file.size = prep->size;
    } else if (spool_task_file(spool, next->id, next->inputs, from,
                               sizeof(from)) < 0 ||
               fleet_blob_copy(spool, from, file.sha256, &file.size) < 0) {
        goto fail_file;
    }
    rr_fmt(file.filename, sizeof(file.filename), "%s", next->inputs);
    rr_fmt(file.profile, sizeof(file.profile), "%s", profile);
    rr_fmt(name, sizeof(name), "task %s", next->id);
    spec.queue = queue;
    spec.printer_id = (long long)printer;
    spec.material = material;
    spec.colour = colour;
    spec.name = name;
    spec.task_id = next->id;
    spec.owner = next->owner;
    spec.files = &file;
    spec.nfiles = 1;
    /* What store_job_create_tx refuses with -1, like a store error: said
     * here, it ends the chain instead of being retried forever. */
    if (spec.copies < 1 || (!*queue && !printer)) {
        rr_fmt(why, len, "stage %d: no copies, or neither queue nor "
               "printer", next->stage);
        goto out;
    }
    if (store_blob_put(st, file.sha256, file.size, rr_now()) < 0 ||
        store_savepoint(st) < 0) {
        rc = -2;
        goto out;
    }
    rc = store_job_create_tx(st, &spec, rr_now(), &id);
    if (rc != 0)
        store_savepoint_undo(st);   /* no half a job */
    else if (store_savepoint_release(st) < 0)
        rc = -2;
    if (rc == STORE_NOTFOUND)
        rr_fmt(why, len, "stage %d: queue %s or printer %lld went away",
               next->stage, queue, (long long)printer);
    else if (rc > 0)
        rr_fmt(why, len, "stage %d: the print job was refused: %s",
               next->stage, store_errmsg(st));
    if (rc != 0) {
        /* a refusal repeats: the chain ends with why; a store error is
         * retried with the whole end */
        rc = rc > 0 ? -1 : -2;
        goto out;
    }
    log_info("task %s: print job %lld", next->id, id);
    rc = 0;
    goto out;
fail_file:
    rr_fmt(why, len, "cannot store %s of stage %d as a blob: %s",
           next->inputs, next->stage, strerror(errno));
out:
    json_decref(o);
    return rc;
}

/* The reason the later stages of t's chain end with, t having ended with
 * status. */
static void chain_reason(const struct task *t, enum task_status status,
                         const char *why, char *out, size_t len)
{
    rr_fmt(out, len, "stage %d (%s %s) %s%s%s", t->stage, t->service, t->id,
           task_status_name(status), why && *why ? ": " : "",
           why ? why : "");
}

/* A completed stage's next one, if it still waits, gets its input and is
 * released.  1 if it was, 0 if the chain has ended (t was the last stage,
 * or the next was cancelled), -1 on a store error; why gets the reason a
 * pass failed. */
static int chain_advance(struct store *st, const char *spool,
                         const struct task *t, const struct chain_prep *prep,
                         char *why, size_t len)
{
    struct task next;
    int rc = store_chain_next(st, t, &next);

    if (rc == STORE_NOTFOUND)
        return 0;
    if (rc < 0)
        return -1;
    rc = 0;
    if (next.status != TASK_QUEUED || next.kind != TASK_KIND_HELD)
        goto out;
    /* Prepared before the transaction for this same next stage: done. */
    if (!prep || strcmp(prep->next_id, next.id) != 0) {
        prep = NULL;
        if (chain_pass(spool, t, &next, why, len) < 0)
            goto out;
    } else if (prep->failed) {
        rr_fmt(why, len, "%s", prep->why);
        goto out;
    }
    if (next.job_spec) {
        /* fleet: -1 ends the chain with why, -2 is the store's error */
        rc = chain_print(st, spool, &next, prep, why, len);
        if (rc == -1) {
            rc = 0;
            goto out;
        }
        if (rc == 0)
            rc = store_chain_release_print(st, next.id);
    } else {
        rc = store_chain_release(st, next.id);
    }
    if (rc == 0) {
        log_info("task %s: stage %d of chain %s, takes %s from %s%s",
                 next.id, next.stage, next.chain, next.inputs, t->id,
                 next.job_spec ? ", a print job" : "");
        rc = 1;
    } else if (rc == STORE_NOTFOUND) {
        rc = 0;
    }
out:
    task_clear(&next);
    return rc;
}

void chain_prepare(struct store *st, const char *spool, const char *id,
                   enum task_status status, struct chain_prep *p)
{
    struct task t, next;
    char path[4096];

    memset(p, 0, sizeof(*p));
    memset(&next, 0, sizeof(next));
    if (status != TASK_COMPLETE || store_task_get(st, id, &t) != 0)
        return;
    if (!t.chain[0] || store_chain_next(st, &t, &next) != 0 ||
        next.status != TASK_QUEUED || next.kind != TASK_KIND_HELD)
        goto out;
    rr_fmt(p->next_id, sizeof(p->next_id), "%s", next.id);
    if (chain_pass(spool, &t, &next, p->why, sizeof(p->why)) < 0) {
        p->failed = 1;
        goto out;
    }
    /* A failed blob copy is left to chain_print, which says why. */
    if (next.job_spec &&
        spool_task_file(spool, next.id, next.inputs, path,
                        sizeof(path)) == 0 &&
        fleet_blob_copy(spool, path, p->sha256, &p->size) == 0)
        p->print = 1;
out:
    task_clear(&next);
    task_clear(&t);
}

int chain_task_end(struct store *st, const char *spool, const char *id,
                   enum task_status status, const char *reason,
                   const struct chain_prep *prep, char *notify_id,
                   int *notify)
{
    char why[512] = "", why_all[768];
    struct task t;
    int rc, ended, busy;

    rr_fmt(notify_id, RR_ID_LEN, "%s", id);
    *notify = 1;
    rc = store_task_get(st, id, &t);
    if (rc != 0 || !t.chain[0])
        goto out;
    *notify = 0;
    rr_fmt(notify_id, RR_ID_LEN, "%s", t.chain);
    if (status == TASK_COMPLETE) {
        rc = chain_advance(st, spool, &t, prep, why, sizeof(why));
        if (rc != 0)
            goto out;
        if (why[0])
            log_warn("task %s: chain %s ends: %s", id, t.chain, why);
    } else {
        rr_fmt(why, sizeof(why), "%s", reason ? reason : "");
    }
    /* The chain has ended: whatever still waits in it will never run. */
    chain_reason(&t, status, why, why_all, sizeof(why_all));
    rc = store_chain_cancel_open(st, t.chain, why_all, &ended, &busy);
    if (rc < 0)
        goto out;
    if (ended > 0)
        log_info("chain %s: %d later stage(s) cancelled: %s", t.chain,
                 ended, why_all);
    /* A stage still busy (cannot be: one runs at a time) calls it. */
    *notify = busy == 0;
out:
    task_clear(&t);
    return rc < 0 ? -1 : 0;
}
