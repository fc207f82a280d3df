/*
 * main.c - rrcloud-printersim: one process that simulates up to 10,000
 * Moonraker printers (reference/moonraker.md) so the fleet router can be
 * tried and tested without hardware.  Printer ID lives at /p/ID on one port.
 *
 * Why libmicrohttpd: the simulator is a test double, not a deployment, so
 * it should start as one plain process with no web server in front (a
 * FastCGI responder behind nginx would need nginx in every test).  MHD is
 * Debian's well-kept embeddable HTTP server: its internal epoll threads
 * serve thousands of keep-alive connections, its post processor streams
 * multipart uploads, and suspend/resume lets a printer answer late (added
 * latency, "hanging" offline printers) without blocking the others.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "sim/sim.h"
#include "common/kv.h"
#include "common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1.0"
#endif

struct main_opts {
    const char *listen;
    unsigned port, threads, max_conn;
    enum log_level level;
};

enum {
    O_PORT = 256, O_LISTEN, O_PRINTERS, O_THREADS, O_MAXCONN, O_SCALE,
    O_PSECS, O_JITTER, O_FAIL, O_SHUT, O_OFFRATE, O_OFFPERIOD, O_OFFMODE,
    O_HANG, O_LAT, O_LATJ, O_KEY, O_SEED, O_MAXUP, O_MAXFILES, O_HIST,
    O_RESTART, O_LOG, O_HELP, O_VERSION
};

static const struct option main_longopts[] = {
    { "port", required_argument, NULL, O_PORT },
    { "listen", required_argument, NULL, O_LISTEN },
    { "printers", required_argument, NULL, O_PRINTERS },
    { "threads", required_argument, NULL, O_THREADS },
    { "max-connections", required_argument, NULL, O_MAXCONN },
    { "time-scale", required_argument, NULL, O_SCALE },
    { "print-seconds", required_argument, NULL, O_PSECS },
    { "jitter", required_argument, NULL, O_JITTER },
    { "fail-rate", required_argument, NULL, O_FAIL },
    { "klippy-shutdown-rate", required_argument, NULL, O_SHUT },
    { "offline-rate", required_argument, NULL, O_OFFRATE },
    { "offline-period", required_argument, NULL, O_OFFPERIOD },
    { "offline-mode", required_argument, NULL, O_OFFMODE },
    { "hang-ms", required_argument, NULL, O_HANG },
    { "latency-ms", required_argument, NULL, O_LAT },
    { "latency-jitter-ms", required_argument, NULL, O_LATJ },
    { "api-key", required_argument, NULL, O_KEY },
    { "seed", required_argument, NULL, O_SEED },
    { "max-upload", required_argument, NULL, O_MAXUP },
    { "max-files", required_argument, NULL, O_MAXFILES },
    { "history", required_argument, NULL, O_HIST },
    { "restart-seconds", required_argument, NULL, O_RESTART },
    { "log-level", required_argument, NULL, O_LOG },
    { "help", no_argument, NULL, O_HELP },
    { "version", no_argument, NULL, O_VERSION },
    { NULL, 0, NULL, 0 }
};

static void main_usage(FILE *f)
{
    fputs(
"Usage: rrcloud-printersim [OPTION]...\n"
"Simulate many Moonraker printers on one port; printer ID is at /p/ID.\n"
"\n"
"  --port=N                 listen port, 0 = any free one (default 7125)\n"
"  --listen=ADDR            listen address (default 127.0.0.1)\n"
"  --printers=N             number of printers, 1..10000 (default 10)\n"
"  --threads=N              HTTP polling threads (default: CPUs, max 4)\n"
"  --max-connections=N      concurrent connections (default 10000)\n"
"  --time-scale=F           simulated seconds per real second (default 1)\n"
"  --print-seconds=S        simulated print time of a file (default 600)\n"
"  --jitter=F               per-file print time varies by +-F (0..1)\n"
"  --fail-rate=P            probability a print ends in error\n"
"  --klippy-shutdown-rate=P probability a print ends in a Klippy shutdown\n"
"  --offline-rate=P         share of offline periods per printer\n"
"  --offline-period=S       simulated seconds per offline period (600)\n"
"  --offline-mode=MODE      drop (close connection), hang, or 502\n"
"  --hang-ms=N              how long 'hang' holds a request (60000)\n"
"  --latency-ms=N           delay added to every printer request\n"
"  --latency-jitter-ms=N    random extra delay, 0..N\n"
"  --api-key=KEY            require X-Api-Key: KEY on every printer\n"
"  --seed=N                 seed for every random choice (default 1)\n"
"  --max-upload=BYTES       larger uploads get 413 (K/M/G suffix; 1G)\n"
"  --max-files=N            files kept per printer (default 100)\n"
"  --history=N              history entries kept per printer (100)\n"
"  --restart-seconds=S      simulated Klippy start-up time (default 2)\n"
"  --log-level=LEVEL        debug, info, warn or error (default info)\n"
"  --help, --version\n"
"\n"
"Control API: /sim/stats, /sim/history, /sim/printers/ID[/history],\n"
"POST /sim/printers/ID|all/{offline,online,auto,shutdown,disconnect,\n"
"connect,eject,latency,fail-next}, POST /sim/clock?advance=S.\n"
"See rrcloud-printersim(1).\n", f);
}

/* Parses a number with an optional K/M/G/T suffix (kv_parse_size: overflow
 * is an error) in [lo, hi]. */
static int parse_u64(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    unsigned long long v;

    if (kv_parse_size(s, &v) < 0 || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
    uint64_t v;

    if (parse_u64(s, lo, hi, &v) < 0)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int parse_dbl(const char *s, double lo, double hi, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

static int parse_offmode(const char *s, enum sim_offmode *out)
{
    if (strcmp(s, "drop") == 0)
        *out = SIM_OFF_DROP;
    else if (strcmp(s, "hang") == 0)
        *out = SIM_OFF_HANG;
    else if (strcmp(s, "502") == 0)
        *out = SIM_OFF_502;
    else
        return -1;
    return 0;
}

/* Applies one option; returns 0, or -1 when its value is invalid. */
static int main_option(int c, const char *a, struct main_opts *o)
{
    struct sim_config *g = &sim_cfg;

    switch (c) {
    case O_PORT: return parse_uint(a, 0, 65535, &o->port);
    case O_LISTEN: o->listen = a; return 0;
    case O_PRINTERS: return parse_uint(a, 1, SIM_MAX_PRINTERS, &g->printers);
    case O_THREADS: return parse_uint(a, 1, 64, &o->threads);
    case O_MAXCONN: return parse_uint(a, 16, 1000000, &o->max_conn);
    case O_SCALE: return parse_dbl(a, 0.001, 1e6, &g->time_scale);
    case O_PSECS: return parse_dbl(a, 1, 1e7, &g->print_seconds);
    case O_JITTER: return parse_dbl(a, 0, 0.99, &g->jitter);
    case O_FAIL: return parse_dbl(a, 0, 1, &g->fail_rate);
    case O_SHUT: return parse_dbl(a, 0, 1, &g->shutdown_rate);
    case O_OFFRATE: return parse_dbl(a, 0, 1, &g->offline_rate);
    case O_OFFPERIOD: return parse_dbl(a, 0.001, 1e9, &g->offline_period);
    case O_OFFMODE: return parse_offmode(a, &g->offline_mode);
    case O_HANG: return parse_uint(a, 0, 3600000, &g->hang_ms);
    case O_LAT: return parse_uint(a, 0, 3600000, &g->latency_ms);
    case O_LATJ: return parse_uint(a, 0, 3600000, &g->latency_jitter_ms);
    case O_KEY: g->api_key = *a ? a : NULL; return 0;
    case O_SEED: return parse_u64(a, 0, UINT64_MAX, &g->seed);
    case O_MAXUP: return parse_u64(a, 1, UINT64_MAX / 2, &g->max_upload);
    case O_MAXFILES: return parse_uint(a, 1, 100000, &g->max_files);
    case O_HIST: return parse_uint(a, 1, 100000, &g->history_max);
    case O_RESTART: return parse_dbl(a, 0, 1e6, &g->restart_seconds);
    case O_LOG: return log_level_parse(a, &o->level);
    default: return -1;
    }
}

/* Fills addr from o->listen and port; returns 0 (v4), 1 (v6) or -1. */
static int main_addr(const char *listen, unsigned port,
                     struct sockaddr_in6 *addr)
{
    struct sockaddr_in *v4 = (struct sockaddr_in *)addr;
    char host[64];
    size_t n = strlen(listen);

    memset(addr, 0, sizeof(*addr));
    if (inet_pton(AF_INET, listen, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        return 0;
    }
    if (n >= 2 && listen[0] == '[' && listen[n - 1] == ']' &&
        n - 2 < sizeof(host)) {
        memcpy(host, listen + 1, n - 2);
        host[n - 2] = '\0';
        listen = host;
    }
    if (inet_pton(AF_INET6, listen, &addr->sin6_addr) == 1) {
        addr->sin6_family = AF_INET6;
        addr->sin6_port = htons((uint16_t)port);
        return 1;
    }
    return -1;
}

/* Lifts the open-file limit to the hard limit: a fleet router keeps many
 * connections open. */
static void main_raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            log_warn("setrlimit(NOFILE): %s", strerror(errno));
    }
}

static int main_parse(int argc, char **argv, struct main_opts *o)
{
    int c;

    while ((c = getopt_long(argc, argv, "", main_longopts, NULL)) != -1) {
        if (c == O_HELP) {
            main_usage(stdout);
            exit(0);
        }
        if (c == O_VERSION) {
            printf("rrcloud-printersim %s\n", PACKAGE_VERSION);
            exit(0);
        }
        if (c == '?' || main_option(c, optarg, o) < 0) {
            if (c != '?')
                fprintf(stderr, "rrcloud-printersim: invalid value '%s' "
                        "for --%s\n", optarg,
                        main_longopts[c - O_PORT].name);
            main_usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "rrcloud-printersim: unexpected argument '%s'\n",
                argv[optind]);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct main_opts o = { "127.0.0.1", 7125, 0, 10000, LOG_LVL_INFO };
    struct sockaddr_in6 addr;
    sigset_t sigs;
    uint16_t port;
    int ipv6, sig, rc = 1;
    long ncpu;

    if (main_parse(argc, argv, &o) < 0)
        return 2;
    log_init("rrcloud-printersim", o.level);
    ipv6 = main_addr(o.listen, o.port, &addr);
    if (ipv6 < 0) {
        log_err("--listen: not an IPv4 or IPv6 address: %s", o.listen);
        return 2;
    }
    if (!o.threads) {
        ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        o.threads = ncpu < 1 ? 1 : ncpu > 4 ? 4 : (unsigned)ncpu;
    }
    main_raise_nofile();
    /* the HTTP threads inherit this mask; main waits in sigwait() */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);
    json_object_seed(0);
    sim_clock_init();
    if (sim_fleet_init(sim_cfg.printers) < 0) {
        log_err("cannot allocate %u printers", sim_cfg.printers);
        return 1;
    }
    if (sim_delay_start(o.max_conn) < 0)
        goto out_fleet;
    if (sim_http_start(&addr, ipv6, o.threads, o.max_conn, &port) < 0) {
        sim_delay_stop();
        goto out_fleet;
    }
    printf("rrcloud-printersim: listening on http://%s%s%s:%u, %u printers "
           "at /p/1 .. /p/%u\n", ipv6 ? "[" : "", o.listen, ipv6 ? "]" : "",
           port, sim_cfg.printers, sim_cfg.printers);
    fflush(stdout);
    log_info("time scale %g, print %gs, %u threads%s", sim_cfg.time_scale,
             sim_cfg.print_seconds, o.threads,
             sim_cfg.api_key ? ", api key required" : "");
    if (sigwait(&sigs, &sig) != 0)
        sig = 0;
    log_info("signal %d: shutting down", sig);
    sim_http_stop();
    rc = 0;
out_fleet:
    sim_fleet_free();
    return rc;
}
