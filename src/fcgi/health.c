/* health.c - /healthz: whether this stack can take and finish work.
 *
 * 200 when every check passes, else 503; the body names each cause in
 * "problems".  The checks are cheap enough for a probe every second: one
 * indexed count, the heartbeat row, the write lock taken and given back
 * (no page written), two statvfs calls.
 */
#include "config.h"

#include "fcgi/api.h"

#include "common/util.h"
#include "fcgi/worker.h"
#include "spool/spool.h"
#include "store/store.h"

#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* rrcloudd writes its heartbeat every 2 s; three missed ones and more mean
 * it is not running (or its loop is stuck). */
#define HEALTH_BEAT_STALE_S 10.0
/* Longest wait for the write lock before the database counts as
 * unwritable. */
#define HEALTH_WRITE_WAIT_MS 1000

/* The write probe takes the database's write lock: anyone may call
 * /healthz, so its answer is shared by the process's workers for this
 * long, and a flood of calls probes once a second, not once a call. */
#define HEALTH_PROBE_REUSE_S 1.0

static pthread_mutex_t probe_lock = PTHREAD_MUTEX_INITIALIZER;
static double probe_at;               /* when; 0 = never */
static int probe_ok;
static char probe_msg[256];           /* why not, when !probe_ok */

static void health_problem(json_t *list, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void health_problem(json_t *list, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    json_array_append_new(list, json_string(msg));
}

/* Whether process pid on this host has ended: gone, or a zombie that its
 * parent has not reaped yet (kill(pid, 0) still finds those). */
static int health_pid_gone(long pid)
{
    char path[64], buf[512], *p;
    FILE *f;
    int gone = 0;

    if (kill((pid_t)pid, 0) < 0)
        return errno == ESRCH;
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    f = fopen(path, "re");
    if (!f)
        return errno == ENOENT;
    /* "PID (COMM) STATE ...": COMM may hold ')', so the last one. */
    if (fgets(buf, sizeof(buf), f) && (p = strrchr(buf, ')')) && p[1] == ' ')
        gone = p[2] == 'Z' || p[2] == 'X';
    fclose(f);
    return gone;
}

/* Is rrcloudd running?  Its heartbeat row says when it last beat and, on
 * this host, its pid can be asked directly (a kill -9 shows at once). */
static const char *health_daemon(struct req *r, json_t *problems)
{
    const struct app *app = r->w->app;
    struct store_beat b;
    double age;
    int rc = store_heartbeat_get(r->w->st, &b);

    if (rc < 0)
        return "unknown";       /* the store check names the cause */
    if (rc == STORE_NOTFOUND) {
        health_problem(problems, "rrcloudd not running: it never started "
                       "on this database");
        return "not running";
    }
    age = rr_now() - b.beat;
    if (b.pid == 0) {
        health_problem(problems, "rrcloudd not running: it stopped %.0f s "
                       "ago", age);
        return "not running";
    }
    if (strcmp(b.host, app->hostname) == 0 && health_pid_gone(b.pid)) {
        health_problem(problems, "rrcloudd not running: its process %ld is "
                       "gone", b.pid);
        return "not running";
    }
    if (age > HEALTH_BEAT_STALE_S) {
        health_problem(problems, "rrcloudd not running: its last heartbeat "
                       "(pid %ld on %s) is %.0f s old", b.pid, b.host, age);
        return "not running";
    }
    return "ok";
}

/* Free space on the disk holding path, against min_free_space. */
static void health_space(struct req *r, const char *what, const char *path,
                         json_t *root, json_t *problems)
{
    unsigned long long floor = r->w->app->conf.min_free_space, avail;

    if (spool_free_space(path, &avail) < 0) {
        health_problem(problems, "%s %s: %s", what, path, strerror(errno));
        return;
    }
    json_object_set_new(root, what, json_integer((json_int_t)avail));
    if (floor > 0 && avail < floor)
        health_problem(problems, "free space under min_free_space: %s has "
                       "%llu bytes free, the floor is %llu", path, avail,
                       floor);
}

/* Whether the database takes a write, probed at most once a second per
 * process.  0, or -1 with the reason in msg. */
static int health_writable(struct req *r, char *msg, size_t len)
{
    double now = rr_now();
    int ok;

    pthread_mutex_lock(&probe_lock);
    if (probe_at <= 0 || now - probe_at > HEALTH_PROBE_REUSE_S ||
        now < probe_at) {
        probe_ok = store_probe_write(r->w->st, HEALTH_WRITE_WAIT_MS) == 0;
        snprintf(probe_msg, sizeof(probe_msg), "%s",
                 probe_ok ? "" : store_errmsg(r->w->st));
        probe_at = now;
    }
    ok = probe_ok;
    snprintf(msg, len, "%s", probe_msg);
    pthread_mutex_unlock(&probe_lock);
    return ok ? 0 : -1;
}

int api_healthz(struct req *r)
{
    const struct rr_conf *conf = &r->w->app->conf;
    json_t *root = json_object(), *problems = json_array(), *free_space;
    char dbdir[sizeof(conf->database)];
    const char *daemon, *store = "ok";
    char why[256];
    long long queued = 0;
    int status;

    free_space = json_object();
    if (!root || !problems || !free_space)
        goto oom;
    if (store_task_count(r->w->st, TASK_QUEUED, &queued) < 0) {
        health_problem(problems, "database unreadable: %s",
                       store_errmsg(r->w->st));
        store = "unreadable";
    } else if (health_writable(r, why, sizeof(why)) < 0) {
        health_problem(problems, "database unwritable: %s", why);
        store = "unwritable";
    }
    daemon = health_daemon(r, problems);
    health_space(r, "spool", conf->spool_dir, free_space, problems);
    rr_fmt(dbdir, sizeof(dbdir), "%s", conf->database);
    health_space(r, "database", dirname(dbdir), free_space, problems);
    status = json_array_size(problems) == 0 ? 200 : 503;
    json_object_set_new(root, "status",
                        json_string(status == 200 ? "ok" : "error"));
    json_object_set_new(root, "problems", problems);
    json_object_set_new(root, "store", json_string(store));
    json_object_set_new(root, "rrcloudd", json_string(daemon));
    json_object_set_new(root, "queued", json_integer(queued));
    json_object_set_new(root, "free_space", free_space);
    json_object_set_new(root, "version", json_string(PACKAGE_VERSION));
    return req_send_json(r, status, root, NULL);
oom:
    json_decref(root);
    json_decref(problems);
    json_decref(free_space);
    return req_error(r, 500, NULL, "out of memory");
}
