/*
 * main.c - rrcloudd: options, start-up, signals, shutdown.
 *
 * One thread runs the event loop (wake socket, runner, retention); the
 * notifier has its own thread.  See rrcloudd(8).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include "common/conf.h"
#include "common/log.h"
#include "common/util.h"
#include "common/wake.h"
#include "daemon/loop.h"
#include "daemon/notify.h"
#include "daemon/purge.h"
#include "daemon/recover.h"
#include "daemon/runner.h"
#include "daemon/sandbox.h"
#include "daemon/slicer.h"
#include "fleet/fleet.h"
#include "http/netcheck.h"
#include "services/service.h"
#include "spool/spool.h"
#include "store/store.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

/* Between tries of a start that met a full disk or a busy store. */
#define START_RETRY_MS 5000
/* rrcloudd's heartbeat in the store, which /healthz reads. */
#define BEAT_MS 2000
/* How often model jobs' slicing tasks are looked at (new jobs come by
 * wake at once, a slice's end by the runner's end hook: this is the
 * fallback). */
#define SLICE_TICK_MS 250

struct daemon {
    struct rr_conf conf;
    const char *conf_path;
    int foreground, once;
    int ready_fd;            /* tells the waiting parent we are up */
    int lock_fd, wake_fd;
    struct loop *loop;
    struct store *st;
    struct service_registry *reg;
    struct runner *runner;
    struct notify *notify;
    struct fleet *fleet;     /* printers; NULL with --once */
    struct slicer *slicer;   /* model jobs; NULL with --once */
    struct loop_timer *slice_timer;
    struct loop_timer *slice_soon; /* a one-shot tick: a slice ended */
    struct loop_timer *pressed_soon; /* one-shot: blobs a 507 freed go */
    long long spool_evicted_ms; /* last eviction for a 507 (monotonic) */
    struct loop_timer *purge_timer;
    struct loop_timer *sweep_timer;
    struct loop_timer *beat_timer;
    struct loop_timer *retry_timer; /* start_work again; NULL once up */
    int up;                  /* start_work succeeded */
    int start_failed;        /* a later try of start_work met a hard error */
    int stopping;
    char host[256];
    double started;
    int beat_failed;         /* the last heartbeat could not be written */
    int space_low;           /* a disk was under min_free_space */
    struct sandbox sb;       /* what confines every task command */
    int sb_ready;            /* sb decided (once, at the first start) */
};

static void usage(FILE *f)
{
    fprintf(f,
        "usage: rrcloudd [-c CONF] [-f] [--once]\n"
        "  -c, --config CONF  configuration file (default %s)\n"
        "  -f, --foreground   stay in the foreground, log to stderr\n"
        "      --once         run the queued tasks, deliver due notifier\n"
        "                     calls, then exit\n"
        "  -h, --help         this text\n"
        "  -V, --version      print the version\n",
        conf_default_path());
}

static int parse_args(struct daemon *d, int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "foreground", no_argument, NULL, 'f' },
        { "once", no_argument, NULL, 'o' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    int c;

    while ((c = getopt_long(argc, argv, "c:fhV", opts, NULL)) != -1) {
        switch (c) {
        case 'c': d->conf_path = optarg; break;
        case 'f': d->foreground = 1; break;
        case 'o': d->once = 1; d->foreground = 1; break;
        case 'h': usage(stdout); exit(0);
        case 'V': printf("rrcloudd %s\n", PACKAGE_VERSION); exit(0);
        default: usage(stderr); return -1;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return -1;
    }
    return 0;
}

static int load_conf(struct daemon *d)
{
    const char *path = d->conf_path ? d->conf_path : conf_default_path();
    enum log_level lvl;
    char err[512];

    conf_defaults(&d->conf, NULL);
    if (!d->conf_path && access(path, F_OK) < 0 && errno == ENOENT) {
        log_warn("%s does not exist; using built-in defaults", path);
    } else if (conf_load(&d->conf, path, err, sizeof(err)) < 0 ||
               netcheck_conf_check(&d->conf, err, sizeof(err)) < 0) {
        log_err("%s", err);
        return -1;
    }
    if (log_level_parse(d->conf.log_level, &lvl) < 0) {
        log_err("%s: log_level must be debug, info, warn or error", path);
        return -1;
    }
    log_init("rrcloudd", lvl);
    return 0;
}

/* fds 0-2 must exist, or the first file we open would become "stderr". */
static void fix_stdio(void)
{
    int fd;

    while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
        ;
    if (fd > 2)
        close(fd);
}

/* Forks into the background.  The parent waits until the child says it
 * is ready (exit 0) or fails (exit 1), so start-up errors reach the shell
 * that started us. */
static int daemonize(struct daemon *d)
{
    int p[2];
    char b;
    pid_t pid;

    if (pipe2(p, O_CLOEXEC) < 0 || (pid = fork()) < 0) {
        log_err("cannot go to the background: %s", strerror(errno));
        return -1;
    }
    if (pid > 0) {
        close(p[1]);
        _exit(read(p[0], &b, 1) == 1 ? 0 : 1);
    }
    close(p[0]);
    d->ready_fd = p[1];
    if (setsid() < 0)
        return -1;
    return 0;
}

/* Start-up is done: release the parent, drop the terminal. */
static void announce_ready(struct daemon *d)
{
    int fd;

    if (d->ready_fd < 0)
        return;
    if (write(d->ready_fd, "", 1) < 0) {
        /* the parent is gone; nothing to tell */
    }
    close(d->ready_fd);
    d->ready_fd = -1;
    log_use_syslog();
    fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
}

static int take_lock(struct daemon *d)
{
    char path[4096], pid[32];

    if (rr_fmt(path, sizeof(path), "%s/rrcloudd.lock", d->conf.spool_dir) < 0)
        return -1;
    d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (d->lock_fd < 0) {
        int e = errno;          /* the caller judges it: ENOSPC waits */

        log_err("%s: %s", path, strerror(e));
        errno = e;
        return -1;
    }
    /* Two daemons would kill each other's tasks in recovery. */
    if (flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        log_err("another rrcloudd is running on %s (%s is locked)",
                d->conf.spool_dir, path);
        return -1;
    }
    /* The file also tells an operator which process holds it. */
    if (rr_fmt(pid, sizeof(pid), "%ld\n", (long)getpid()) < 0 ||
        ftruncate(d->lock_fd, 0) < 0 ||
        rr_write_all(d->lock_fd, pid, strlen(pid)) < 0)
        log_warn("%s: cannot write the pid: %s", path, strerror(errno));
    return 0;
}

/* ---- event handlers ----------------------------------------------------- */

/* Model jobs: slicing tasks started go to the runner at once, G-code
 * that became ready to the scheduler. */
static void slice_tick(struct daemon *d)
{
    int ready = 0, started = slicer_tick(d->slicer, &ready);

    if (started > 0 && runner_poll(d->runner) < 0)
        log_err("runner: %s", store_errmsg(d->st));
    if (ready > 0 && d->fleet)
        fleet_poll(d->fleet);
    /* New G-code may have taken the spool near its quota. */
    if (ready > 0 && purge_slice_cache(&d->conf, d->st, rr_now()) < 0)
        log_err("purge: slice cache: %s", store_errmsg(d->st));
}

static void on_slice(struct loop *l, struct loop_timer *t, void *arg)
{
    slice_tick(arg);
}

static void on_slice_soon(struct loop *l, struct loop_timer *t, void *arg)
{
    struct daemon *d = arg;

    d->slice_soon = NULL;       /* the loop lets a one-shot timer go */
    slice_tick(d);
}

/* Whether a task of svc may be the slicer's: its slices write G-code (a
 * render for one, a model).  Other ends are no news to the slicer, and
 * an echo flood should not cost a slicer tick per task. */
static int feeds_slicer(const struct service *svc)
{
    size_t n = svc->file_out ? strlen(svc->file_out) : 0;

    return (n > 6 && strcmp(svc->file_out + n - 6, ".gcode") == 0) ||
           (n > 4 && strcmp(svc->file_out + n - 4, ".stl") == 0);
}

/* A task's end is in the store: when it was a slice, its G-code goes to
 * the scheduler (and the next slice into the freed slot) now rather than
 * at the next SLICE_TICK_MS, which a first print waited for, 125 ms on
 * average (bench/bench_model.sh).  From the loop: the runner is mid-call
 * here. */
static void on_task_end(void *arg, const char *id, const char *service)
{
    struct daemon *d = arg;
    const struct service *svc = service_find(d->reg, service);

    if (!d->slicer || d->slice_soon || !svc || !feeds_slicer(svc))
        return;
    d->slice_soon = loop_add_timer(d->loop, 0, 0, on_slice_soon, d);
}

static void on_pressed_soon(struct loop *l, struct loop_timer *t, void *arg)
{
    struct daemon *d = arg;

    d->pressed_soon = NULL;
    if (purge_blobs_pressed(&d->conf, d->st, rr_now()) < 0)
        log_err("purge: blobs: %s", store_errmsg(d->st));
}

/* An upload was refused for spool_quota: the cache yields all it can, at
 * most once per PURGE_REFUSED_EVERY (a client retrying in a loop gets no
 * more), and the blobs it leaves unreferenced go once their short grace
 * ends (purge.h), so that a retry then fits. */
static void spool_refused(struct daemon *d)
{
    long long now = rr_mono_ms();

    if (d->spool_evicted_ms &&
        now - d->spool_evicted_ms < PURGE_REFUSED_EVERY * 1000LL)
        return;
    d->spool_evicted_ms = now;
    if (purge_slice_cache_refused(&d->conf, d->st, rr_now()) < 0)
        log_err("purge: slice cache: %s", store_errmsg(d->st));
    if (!d->pressed_soon)
        d->pressed_soon = loop_add_timer(d->loop,
                                         (long long)(PURGE_PRESSED_GRACE *
                                                     1000) + 500, 0,
                                         on_pressed_soon, d);
}

static void on_wake(struct loop *l, int fd, uint32_t events, void *arg)
{
    struct daemon *d = arg;
    int bits = wake_drain(fd);

    if ((bits & (WAKE_TASK | WAKE_CANCEL)) && runner_poll(d->runner) < 0)
        log_err("runner: %s", store_errmsg(d->st));
    if (bits & WAKE_NOTIFY)
        notify_kick(d->notify);
    if (bits & WAKE_SPOOL)
        spool_refused(d);
    if ((bits & WAKE_FLEET) && d->fleet)
        fleet_poll(d->fleet);
    if ((bits & WAKE_FLEET) && d->slicer)
        slice_tick(d);
}

static void on_purge(struct loop *l, struct loop_timer *t, void *arg)
{
    struct daemon *d = arg;

    if (purge_run(&d->conf, d->st, rr_now()) < 0)
        log_err("purge: %s", store_errmsg(d->st));
}

/* Parts of uploads whose rrcloud-fcgi was killed (spool_sweep_tmp). */
static void on_sweep(struct loop *l, struct loop_timer *t, void *arg)
{
    struct daemon *d = arg;
    int n = spool_sweep_tmp(d->conf.spool_dir, SPOOL_TMP_MAX_AGE);

    if (n > 0)
        log_info("removed %d stale upload(s) from %s/tmp", n,
                 d->conf.spool_dir);
}

static void on_runner_stopped(void *arg)
{
    struct daemon *d = arg;

    loop_stop(d->loop);
}

static void on_term(struct loop *l, int signo, void *arg)
{
    struct daemon *d = arg;

    if (!d->stopping)
        log_info("signal %d: stopping", signo);
    else
        log_info("signal %d again: killing the remaining tasks", signo);
    d->stopping = 1;
    if (!d->runner) {
        loop_stop(d->loop);       /* still waiting to start */
        return;
    }
    fleet_stop(d->fleet);
    runner_stop(d->runner, on_runner_stopped, d);
}

static void on_hup(struct loop *l, int signo, void *arg)
{
    struct daemon *d = arg;
    struct service_registry *reg;
    char err[512];

    reg = service_registry_load(d->conf.services_dir, err, sizeof(err));
    if (!reg) {
        log_err("SIGHUP: keeping the old services: %s", err);
        return;
    }
    if (d->runner)
        runner_set_registry(d->runner, reg);
    if (d->slicer)
        slicer_set_services(d->slicer, reg);
    service_registry_free(d->reg);
    d->reg = reg;
    log_info("SIGHUP: %zu services loaded from %s",
             service_count(reg), d->conf.services_dir);
}

static void kick_notifier(void *arg)
{
    notify_kick(arg);
}

/* ---- start-up and shutdown ---------------------------------------------- */

static int setup_signals(struct daemon *d)
{
    sigset_t s;

    /* Blocked before any thread starts, so only the loop receives them. */
    sigemptyset(&s);
    sigaddset(&s, SIGCHLD);
    sigaddset(&s, SIGTERM);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGHUP);
    if (pthread_sigmask(SIG_BLOCK, &s, NULL) != 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

/* Logs, once per change, whether the spool's or the database's disk has
 * less than min_free_space free: the likely cause of store errors. */
static void check_space(struct daemon *d)
{
    char dbdir[sizeof(d->conf.database)];
    const char *paths[2] = { d->conf.spool_dir, NULL };
    unsigned long long avail;
    int low = 0;

    if (d->conf.min_free_space == 0)
        return;
    rr_fmt(dbdir, sizeof(dbdir), "%s", d->conf.database);
    paths[1] = dirname(dbdir);
    for (int i = 0; i < 2; i++) {
        if (spool_free_space(paths[i], &avail) < 0 ||
            avail >= d->conf.min_free_space)
            continue;
        low = 1;
        if (!d->space_low)
            log_warn("%s: %llu bytes free, under min_free_space (%llu); "
                     "task ends and uploads may fail until space returns",
                     paths[i], avail, d->conf.min_free_space);
    }
    if (d->space_low && !low)
        log_info("free space is above min_free_space again");
    d->space_low = low;
}

static void beat(struct daemon *d)
{
    if (store_heartbeat(d->st, d->host, (long)getpid(), d->started,
                        rr_now()) < 0) {
        if (!d->beat_failed)
            log_err("heartbeat: cannot write it (%s); /healthz reports "
                    "rrcloudd as not running until it can",
                    store_errmsg(d->st));
        d->beat_failed = 1;
    } else if (d->beat_failed) {
        log_info("heartbeat: written again");
        d->beat_failed = 0;
    }
    check_space(d);
}

static void on_beat(struct loop *l, struct loop_timer *t, void *arg)
{
    beat(arg);
}

/* Undoes a start_work that failed part-way (the lock stays taken). */
static void stop_work(struct daemon *d)
{
    loop_timer_del(d->loop, d->slice_timer);
    d->slice_timer = NULL;
    loop_timer_del(d->loop, d->slice_soon);
    d->slice_soon = NULL;
    loop_timer_del(d->loop, d->pressed_soon);
    d->pressed_soon = NULL;
    slicer_free(d->slicer);
    d->slicer = NULL;
    fleet_free(d->fleet);
    d->fleet = NULL;
    notify_stop(d->notify);
    d->notify = NULL;
    runner_free(d->runner);
    d->runner = NULL;
    if (d->wake_fd >= 0) {
        close(d->wake_fd);
        unlink(d->conf.wake_socket);
        d->wake_fd = -1;
    }
    store_close(d->st);
    d->st = NULL;
}

/* A failure of a start step that may pass (a full disk, a busy store):
 * errno values of the file steps that are worth waiting for. */
static int errno_transient(int e)
{
    return e == ENOSPC || e == EDQUOT || e == EIO || e == EROFS ||
           e == ENOMEM || e == EAGAIN;
}

/* Decides once what confines task commands, and says it in the log. */
static int start_sandbox(struct daemon *d)
{
    char err[512], what[512];

    if (sandbox_init(&d->sb, d->conf.sandbox, d->conf.sandbox_user,
                     d->conf.spool_dir, err, sizeof(err)) < 0) {
        log_err("%s", err);
        return -1;
    }
    sandbox_describe(&d->sb, what, sizeof(what));
    if (d->sb.mode == SANDBOX_OFF || d->sb.abi < 6 || !d->sb.seccomp ||
        !d->sb.switch_uid)
        log_warn("%s", what);
    else
        log_info("%s", what);
    d->sb_ready = 1;
    return 0;
}

/* Everything that needs the disk and the store.  0 when rrcloudd is up;
 * 1 when a step failed in a way that may pass (logged; try again later);
 * -1 when it cannot work at all. */
static int start_work(struct daemon *d)
{
    char err[512];
    int transient = 0;

    if (spool_init(d->conf.spool_dir) < 0) {
        int e = errno;          /* logging may change errno */

        log_err("spool %s: %s", d->conf.spool_dir, strerror(e));
        return errno_transient(e) ? 1 : -1;
    }
    if (d->lock_fd < 0 && take_lock(d) < 0)
        return d->lock_fd < 0 && errno_transient(errno) ? 1 : -1;
    if (!d->sb_ready && start_sandbox(d) < 0)
        return -1;
    d->st = store_open_ex(d->conf.database, err, sizeof(err), &transient);
    if (!d->st) {
        log_err("%s", err);
        return transient ? 1 : -1;
    }
    beat(d);
    /* Tasks left busy by an earlier run are settled before any is
     * claimed; a store error here is retried with the whole start. */
    if (recover_run(&d->conf, d->reg, &d->sb, d->st) < 0)
        goto retry;
    if (purge_run(&d->conf, d->st, rr_now()) < 0)
        log_warn("purge: %s; tried again in %lld s", store_errmsg(d->st),
                 d->conf.purge_interval);
    d->wake_fd = wake_listen(d->conf.wake_socket);
    if (d->wake_fd < 0) {
        int e = errno;

        log_err("wake socket %s: %s", d->conf.wake_socket, strerror(e));
        if (errno_transient(e))
            goto retry;
        return -1;
    }
    d->runner = runner_new(&d->conf, d->reg, d->st, d->loop);
    if (!d->runner) {
        log_err("cannot create the runner");
        return -1;
    }
    d->notify = notify_start(&d->conf, err, sizeof(err));
    if (!d->notify) {
        log_err("%s", err);
        goto retry;
    }
    runner_set_notify(d->runner, kick_notifier, d->notify);
    runner_set_sandbox(d->runner, &d->sb);
    if (!d->once) {
        d->fleet = fleet_new(&d->conf, d->st, d->loop, err, sizeof(err));
        if (!d->fleet) {
            log_err("%s", err);
            goto retry;
        }
        fleet_set_notify(d->fleet, kick_notifier, d->notify);
        d->slicer = slicer_new(&d->conf, d->reg, d->st, err, sizeof(err));
        if (!d->slicer) {
            log_err("%s", err);
            return -1;
        }
        d->slice_timer = loop_add_timer(d->loop, SLICE_TICK_MS, 1, on_slice,
                                        d);
        if (!d->slice_timer)
            return -1;
        runner_set_on_end(d->runner, on_task_end, d);
    }
    if (loop_add_fd(d->loop, d->wake_fd, EPOLLIN, on_wake, d) < 0)
        return -1;
    /* Even when tasks are kept for ever (max_data_retention 0), the
     * round evicts the slice cache and removes the blobs it let go of. */
    if (d->conf.purge_interval > 0) {
        d->purge_timer = loop_add_timer(d->loop,
                                        d->conf.purge_interval * 1000, 1,
                                        on_purge, d);
        if (!d->purge_timer)
            return -1;
    }
    if (d->conf.tmp_sweep_interval > 0) {
        d->sweep_timer = loop_add_timer(d->loop,
                                        d->conf.tmp_sweep_interval * 1000, 1,
                                        on_sweep, d);
        if (!d->sweep_timer)
            return -1;
    }
    d->beat_timer = loop_add_timer(d->loop, BEAT_MS, 1, on_beat, d);
    if (!d->beat_timer)
        return -1;
    d->up = 1;
    return 0;
retry:
    stop_work(d);
    return 1;
}

static void log_ready(struct daemon *d)
{
    log_info("rrcloudd %s ready: %d runner slots, %zu services, spool %s, "
             "database %s", PACKAGE_VERSION, d->conf.runner_slots,
             service_count(d->reg), d->conf.spool_dir, d->conf.database);
}

static void on_retry(struct loop *l, struct loop_timer *t, void *arg)
{
    struct daemon *d = arg;
    int rc;

    d->retry_timer = NULL;
    rc = start_work(d);
    if (rc < 0) {
        log_err("cannot start; stopping");
        d->start_failed = 1;
        loop_stop(d->loop);
        return;
    }
    if (rc > 0) {
        check_space(d);
        d->retry_timer = loop_add_timer(l, START_RETRY_MS, 0, on_retry, d);
        return;
    }
    log_ready(d);
    if (runner_poll(d->runner) < 0)
        log_err("runner: %s", store_errmsg(d->st));
}

static int start(struct daemon *d)
{
    char err[512];
    int rc;

    if (gethostname(d->host, sizeof(d->host) - 1) < 0)
        rr_fmt(d->host, sizeof(d->host), "localhost");
    d->started = rr_now();
    d->reg = service_registry_load(d->conf.services_dir, err, sizeof(err));
    if (!d->reg) {
        log_err("%s", err);
        return -1;
    }
    d->loop = loop_new();
    if (!d->loop)
        return -1;
    if (loop_add_signal(d->loop, SIGTERM, on_term, d) < 0 ||
        loop_add_signal(d->loop, SIGINT, on_term, d) < 0 ||
        loop_add_signal(d->loop, SIGHUP, on_hup, d) < 0)
        return -1;
    rc = start_work(d);
    if (rc <= 0)
        return rc;
    if (d->once)
        return -1;
    /* Up, but waiting for the disk or the store: say so and keep trying
     * rather than exit (the init system would only restart us into the
     * same wall). */
    check_space(d);
    log_warn("rrcloudd waits for the spool and the database; trying again "
             "every %d s", START_RETRY_MS / 1000);
    d->retry_timer = loop_add_timer(d->loop, START_RETRY_MS, 0, on_retry, d);
    return d->retry_timer ? 0 : -1;
}

/* --once: run until nothing is queued or running, then let the notifier
 * make its due calls. */
static int run_once(struct daemon *d)
{
    long long queued = 1;

    while (!d->stopping) {
        if (runner_poll(d->runner) < 0 ||
            store_task_count(d->st, TASK_QUEUED, &queued) < 0)
            return -1;
        if (queued == 0 && runner_running(d->runner) == 0)
            break;
        if (loop_run_once(d->loop, 200) < 0)
            return -1;
    }
    if (d->stopping) {
        /* A signal arrived: let the graceful stop finish. */
        return loop_run(d->loop);
    }
    if (notify_wait_idle(d->notify, d->conf.notifier_timeout * 1000 + 1000) < 0)
        log_warn("--once: notifier calls still in flight; they stay queued");
    return 0;
}

static void finish(struct daemon *d)
{
    loop_timer_del(d->loop, d->retry_timer);
    loop_timer_del(d->loop, d->beat_timer);
    if (d->st && store_heartbeat_stop(d->st, d->host, (long)getpid(),
                                      rr_now()) < 0)
        log_warn("heartbeat: cannot mark the stop: %s", store_errmsg(d->st));
    stop_work(d);
    loop_free(d->loop);
    service_registry_free(d->reg);
    if (d->lock_fd >= 0)
        close(d->lock_fd);
}

int main(int argc, char **argv)
{
    struct daemon d = { .ready_fd = -1, .lock_fd = -1, .wake_fd = -1 };
    int rc = 1;

    log_init("rrcloudd", LOG_LVL_INFO);
    if (parse_args(&d, argc, argv) < 0)
        return 2;
    fix_stdio();
    if (load_conf(&d) < 0)
        return 1;
    /* Spool and results for the group (the web server sends results),
     * nothing for others; the store makes the database 0600. */
    umask(027);
    if (!d.foreground && daemonize(&d) < 0)
        return 1;
    if (setup_signals(&d) < 0)
        return 1;
    curl_global_init(CURL_GLOBAL_DEFAULT);
    json_object_seed(0);
    if (start(&d) < 0)
        goto out;
    if (d.up)
        log_ready(&d);
    announce_ready(&d);
    if (d.up && runner_poll(d.runner) < 0)
        log_err("runner: %s", store_errmsg(d.st));
    if ((d.once ? run_once(&d) : loop_run(d.loop)) < 0)
        log_err("event loop: %s", strerror(errno));
    else
        rc = d.start_failed;
    log_info("stopped");
out:
    finish(&d);
    curl_global_cleanup();
    return rc;
}
