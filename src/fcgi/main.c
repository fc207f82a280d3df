/*
 * rrcloud-fcgi - the FastCGI front of rrcloud.
 *
 * One process, fcgi_threads worker threads accepting on one socket (libfcgi
 * lets threads call accept concurrently), and one holder thread for
 * synchronous submissions.  Workers never run service commands: they
 * validate, spool, write the task row and wake rrcloudd.
 */
#include "config.h"

#include "common/conf.h"
#include "common/log.h"
#include "common/util.h"
#include "fcgi/authlimit.h"
#include "fcgi/gate.h"
#include "fcgi/hold.h"
#include "fcgi/request.h"
#include "fcgi/taskcache.h"
#include "fcgi/worker.h"
#include "fleet/profile.h"
#include "http/netcheck.h"
#include "services/filetype.h"
#include "services/service.h"
#include "spool/spool.h"
#include "store/store.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcgiapp.h>
#include <getopt.h>
#include <jansson.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define FCGI_CACHE_KIB 256

struct thread_arg {
    struct app *app;
    int listen_fd;
    struct store *st;   /* opened by main, owned by the thread once started */
    pthread_t tid;
};

static void usage(FILE *f)
{
    fprintf(f,
            "Usage: rrcloud-fcgi [-c CONF] [-s SOCKET] [-t THREADS]\n"
            "\n"
            "FastCGI responder of rrcloud: accepts RepRapCloud task uploads and\n"
            "the /api/v1 JSON API behind nginx or lighttpd.\n"
            "\n"
            "  -c, --config=FILE   configuration (default %s)\n"
            "  -s, --socket=PATH   unix socket to listen on (default: fcgi_socket\n"
            "                      from the configuration; if stdin is a socket,\n"
            "                      as with spawn-fcgi or lighttpd bin-path, it is used)\n"
            "  -t, --threads=N     worker threads (default: fcgi_threads)\n"
            "  -h, --help          show this help\n"
            "  -V, --version       show the version\n",
            conf_default_path());
}

/* Accepts the next connection; -1 when the listener was shut down.  A
 * full descriptor table is waited out: libfcgi's own accept returned an
 * error there, and the worker ended for good. */
static int worker_accept(int listen_fd)
{
    static _Thread_local double last_warn;

    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

        if (fd >= 0)
            return fd;
        switch (errno) {
        case EINTR:
        case ECONNABORTED:
        case EPROTO:
            continue;
        case EMFILE:
        case ENFILE:
        case ENOBUFS:
        case ENOMEM:
            if (rr_now() - last_warn > 10) {
                last_warn = rr_now();
                log_warn("accept: %s; waiting", strerror(errno));
            }
            usleep(50 * 1000);
            continue;
        default:
            return -1;
        }
    }
}

/* Worker thread: accept, let the gate keep what is not complete, handle,
 * finish; a request handed to the holder is replaced by a fresh
 * FCGX_Request. */
static void *worker_main(void *arg)
{
    struct thread_arg *ta = arg;
    struct worker w = { .app = ta->app, .st = ta->st,
                        .tasks = taskcache_new() };
    FCGX_Request *f = NULL;

    ta->st = NULL;
    for (;;) {
        struct req r;
        int fd;

        if (!f && !(f = malloc(sizeof(*f)))) {
            log_err("worker: out of memory");
            break;
        }
        fd = worker_accept(ta->listen_fd);
        if (fd < 0)
            break;
        if (!gate_take(ta->app->gate, fd, rr_now()) ||
            gate_request(ta->app->gate, f, fd) < 0)
            continue;
        req_init(&r, f, &w);
        if (route_request(&r) == REQ_HELD) {
            req_free(&r);
            f = NULL; /* the holder owns it now */
            continue;
        }
        req_free(&r);
        FCGX_Finish_r(f);
    }
    free(f);
    store_close(w.st);
    taskcache_free(w.tasks);
    return NULL;
}

/* spawn-fcgi and lighttpd's bin-path hand us the socket on fd 0. */
static int stdin_is_socket(void)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);

    return getsockname(0, (struct sockaddr *)&ss, &len) == 0;
}

static int open_listener(const char *path, int mode)
{
    int fd;

    /* FCGX_OpenSocket calls exit() on a long path: check first. */
    if (strlen(path) >= 100) {
        log_err("socket path too long: %s", path);
        return -1;
    }
    fd = FCGX_OpenSocket(path, 1024);
    if (fd < 0) {
        log_err("cannot listen on %s: %s", path, strerror(errno));
        return -1;
    }
    if (chmod(path, (mode_t)mode) < 0)
        log_warn("chmod %s: %s", path, strerror(errno));
    return fd;
}

/* One connection per worker, opened here so that "ready" means every
 * worker can answer, and a database that cannot be opened stops the start
 * instead of leaving threads missing.  The first open creates or migrates
 * the schema. */
static int open_stores(struct app *app, struct thread_arg *threads, int n)
{
    char err[512];

    for (int i = 0; i < n; i++) {
        threads[i].st = store_open(app->conf.database, err, sizeof(err));
        if (!threads[i].st) {
            log_err("%s", err);
            return -1;
        }
        /* Lookups by key touch a handful of pages; one small cache per
         * thread keeps the process small (RSS is a benchmark target). */
        store_set_cache_kib(threads[i].st, FCGI_CACHE_KIB);
    }
    return 0;
}

/* A connection waiting at the gate for its body costs a descriptor and no
 * thread: allow as many as the hard limit lets us. */
static void raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            log_warn("cannot raise the descriptor limit: %s",
                     strerror(errno));
    }
}

static int app_load_index(struct app *app)
{
    char path[1200];

    if (rr_fmt(path, sizeof(path), "%s/index.html", app->conf.www_dir) < 0)
        return -1;
    app->index_html = rr_read_file(path, 1u << 20, &app->index_len);
    if (!app->index_html)
        log_warn("no browser page: %s: %s", path, strerror(errno));
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        { "config", required_argument, NULL, 'c' },
        { "socket", required_argument, NULL, 's' },
        { "threads", required_argument, NULL, 't' },
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 },
    };
    const char *conf_path = conf_default_path(), *sock = NULL;
    struct thread_arg *threads = NULL;
    static struct app app;
    char err[1024];
    enum log_level lvl;
    sigset_t sigs;
    int threads_opt = 0, nthreads, fd = -1, c, sig, rc = 1;

    log_init(argv[0], LOG_LVL_INFO);
    /* A fixed threshold: glibc raises it to the size of each large block
     * freed, after which upload buffers (256 KiB) stayed resident in every
     * thread's arena, a few MiB in all; mapped, they go back when freed. */
    mallopt(M_MMAP_THRESHOLD, 128 * 1024);
    /* As rrcloudd and the systemd units: uploads and the spool readable by
     * the group only (the web server's, which sends results), nothing for
     * others.  The database is made 0600 by the store itself. */
    umask(027);
    while ((c = getopt_long(argc, argv, "c:s:t:hV", opts, NULL)) != -1) {
        switch (c) {
        case 'c': conf_path = optarg; break;
        case 's': sock = optarg; break;
        case 't':
            threads_opt = atoi(optarg);
            if (threads_opt < 1 || threads_opt > 1024) {
                fprintf(stderr, "rrcloud-fcgi: --threads must be 1..1024\n");
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("rrcloud-fcgi %s\n", PACKAGE_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    conf_defaults(&app.conf, NULL);
    if (conf_load(&app.conf, conf_path, err, sizeof(err)) < 0 ||
        netcheck_conf_check(&app.conf, err, sizeof(err)) < 0 ||
        netcheck_allow_parse(&app.anon_nets, app.conf.anonymous_networks,
                             err, sizeof(err)) < 0) {
        log_err("%s", err);
        return 1;
    }
    if (log_level_parse(app.conf.log_level, &lvl) == 0)
        log_init(argv[0], lvl);
    nthreads = threads_opt ? threads_opt : app.conf.fcgi_threads;
    app.start_time = rr_now();
    if (gethostname(app.hostname, sizeof(app.hostname) - 1) < 0)
        strcpy(app.hostname, "localhost");
    app.services = service_registry_load(app.conf.services_dir, err,
                                         sizeof(err));
    if (!app.services) {
        log_err("%s", err);
        return 1;
    }
    /* A default profiles directory that is not there (a services_dir of
     * one's own, an install from before profiles) means none, as before;
     * one named in the conf must be there. */
    if (!app.conf.profiles_dir_set && access(app.conf.profiles_dir, F_OK) != 0
        && errno == ENOENT) {
        log_info("no %s: no printer profiles", app.conf.profiles_dir);
        app.conf.profiles_dir[0] = '\0';
    }
    app.profiles = profile_registry_load(app.conf.profiles_dir, app.services,
                                         err, sizeof(err));
    if (!app.profiles) {
        log_err("%s", err);
        goto out;
    }
    if (spool_init(app.conf.spool_dir) < 0) {
        log_err("spool %s: %s", app.conf.spool_dir, strerror(errno));
        goto out;
    }
    /* Before any worker makes its own: parts a killed rrcloud-fcgi left
     * (others' live uploads are kept: spool_sweep_tmp). */
    if ((c = spool_sweep_tmp(app.conf.spool_dir, SPOOL_TMP_MAX_AGE)) > 0)
        log_info("removed %d stale upload(s) from %s/tmp", c,
                 app.conf.spool_dir);
    app_load_index(&app);
    app.ft = filetype_new(err, sizeof(err));
    if (!app.ft) {
        log_err("%s", err);
        goto out;
    }
    pthread_mutex_init(&app.ft_lock, NULL);
    app.authlimit = authlimit_new(app.conf.auth_fail_limit,
                                  app.conf.auth_fail_window);
    if (!app.authlimit && app.conf.auth_fail_limit > 0) {
        log_err("out of memory");
        goto out;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    json_object_seed(0);
    if (FCGX_Init() != 0) {
        log_err("FCGX_Init failed");
        goto out;
    }
    if (!sock && stdin_is_socket()) {
        fd = 0;
    } else {
        sock = sock ? sock : app.conf.fcgi_socket;
        fd = open_listener(sock, app.conf.fcgi_socket_mode);
    }
    if (fd < 0)
        goto out;
    /* libfcgi leaves the listener inheritable; no child may keep it. */
    rr_set_cloexec(fd);

    /* Signals go to sigwait below, never to a worker. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    app.holder = holder_start(&app, err, sizeof(err));
    if (!app.holder) {
        log_err("%s", err);
        goto out;
    }
    raise_nofile();
    app.gate = gate_start(&app, err, sizeof(err));
    if (!app.gate) {
        log_err("%s", err);
        goto out;
    }
    threads = calloc((size_t)nthreads, sizeof(*threads));
    if (!threads || open_stores(&app, threads, nthreads) < 0)
        goto out;
    for (int i = 0; i < nthreads; i++) {
        threads[i].app = &app;
        threads[i].listen_fd = fd;
        if (pthread_create(&threads[i].tid, NULL, worker_main, &threads[i])) {
            log_err("cannot start worker %d", i);
            for (int j = i; j < nthreads; j++)
                store_close(threads[j].st);
            nthreads = i;
            break;
        }
    }
    log_info("ready: %d workers, up to %d body threads, %zu services, "
             "spool %s, database %s", nthreads, app.conf.body_threads,
             service_count(app.services),
             app.conf.spool_dir, app.conf.database);
    do {
        if (sigwait(&sigs, &sig) != 0)
            break;
        if (sig == SIGHUP)
            log_info("SIGHUP ignored: restart to reload the configuration");
    } while (sig == SIGHUP);
    log_info("shutting down (signal %d)", sig);
    FCGX_ShutdownPending();
    /* Wakes every accept(); a signal would only wake one thread. */
    shutdown(fd, SHUT_RDWR);
    for (int i = 0; i < nthreads; i++)
        pthread_join(threads[i].tid, NULL);
    rc = 0;
out:
    gate_stop(app.gate);
    holder_stop(app.holder);
    for (int i = 0; threads && i < nthreads; i++)
        store_close(threads[i].st);   /* those of threads never started */
    free(threads);
    if (fd > 0) {
        close(fd);
        unlink(sock);
    }
    free(app.index_html);
    filetype_free(app.ft);
    authlimit_free(app.authlimit);
    profile_registry_free(app.profiles);
    service_registry_free(app.services);
    curl_global_cleanup();
    return rc;
}
