/* conf.c - see conf.h.  Table-driven so each key is named once. */
#include "common/conf.h"

#include "common/kv.h"
#include "common/util.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc/rrcloud"
#endif
#ifndef LOCALSTATEDIR
#define LOCALSTATEDIR "/var/lib/rrcloud"
#endif
#ifndef PKGDATADIR
#define PKGDATADIR "/usr/share/rrcloud"
#endif

/* K_LINES: a key that may repeat; its values are joined with '\n'. */
enum conf_kind { K_STR, K_SIZE, K_INT, K_SECS, K_BOOL, K_LINES, K_MODE };

/* Longest duration taken: ten years (callers multiply by 1000). */
#define CONF_SECS_MAX (10LL * 366 * 24 * 3600)

struct conf_key {
    const char *name;
    enum conf_kind kind;
    size_t off;
    size_t size; /* buffer size for K_STR */
};

#define STR(f) { #f, K_STR, offsetof(struct rr_conf, f), \
                 sizeof(((struct rr_conf *)0)->f) }
#define NUM(f, k) { #f, k, offsetof(struct rr_conf, f), 0 }
#define LINES(key, f) { key, K_LINES, offsetof(struct rr_conf, f), \
                        sizeof(((struct rr_conf *)0)->f) }

static const struct conf_key conf_keys[] = {
    STR(server_name), STR(spool_dir), STR(database), STR(services_dir),
    STR(profiles_dir),
    STR(www_dir), STR(fcgi_socket), STR(wake_socket), STR(accel_prefix),
    STR(sendfile_mode), STR(notifier_secret), STR(log_level),
    STR(notifier_allow), STR(sandbox), STR(sandbox_user),
    NUM(max_body_size, K_SIZE), NUM(max_inline_size, K_SIZE),
    NUM(max_field_size, K_SIZE), NUM(max_part_header, K_SIZE),
    NUM(max_query, K_SIZE),
    NUM(max_files, K_INT), NUM(max_fields, K_INT), NUM(fcgi_threads, K_INT),
    NUM(body_threads, K_INT), NUM(body_timeout, K_SECS),
    NUM(max_held, K_INT), NUM(max_queued, K_INT),
    NUM(client_max_queued, K_INT), NUM(client_max_running, K_INT),
    NUM(client_max_held, K_INT), NUM(spool_quota, K_SIZE),
    NUM(info_all_clients, K_BOOL), NUM(fcgi_socket_mode, K_MODE),
    NUM(runner_slots, K_INT), NUM(default_timeout, K_SECS),
    NUM(kill_grace, K_SECS), NUM(max_data_retention, K_SECS),
    NUM(purge_interval, K_SECS), NUM(events_retention, K_SECS),
    NUM(max_reruns, K_INT), NUM(tmp_sweep_interval, K_SECS),
    NUM(min_free_space, K_SIZE),
    NUM(notifier_retries, K_INT), NUM(notifier_timeout, K_SECS),
    NUM(notifier_backoff, K_SECS),
    NUM(auth_fail_limit, K_INT), NUM(auth_fail_window, K_SECS),
    /* fleet */
    STR(admin_token), STR(enroll_token), STR(region_fallback),
    STR(fleet_share_allow), STR(fleet_share_patterns), STR(enroll_queues),
    LINES("octoprint_key", octoprint_keys), LINES("frontend", frontends),
    NUM(fleet_poll_interval, K_SECS), NUM(fleet_offline_backoff, K_SECS),
    NUM(fleet_status_interval, K_SECS),
    NUM(fleet_request_timeout, K_SECS), NUM(fleet_upload_timeout, K_SECS),
    NUM(fleet_max_connections, K_INT), NUM(fleet_lease, K_SECS),
    NUM(fleet_fail_per_printer, K_INT), NUM(fleet_fail_printers, K_INT),
    NUM(fleet_quarantine_after, K_INT), NUM(fleet_heatup_max, K_INT),
    NUM(fleet_heatup_time, K_SECS), NUM(fleet_age_boost, K_SECS),
    NUM(fleet_change_penalty, K_INT), NUM(fleet_max_copies, K_INT),
    NUM(fleet_delete_files, K_BOOL), NUM(fleet_unplaceable_timeout, K_SECS),
    NUM(fleet_slice_concurrency, K_INT), NUM(slice_cache_max, K_SIZE),
    NUM(slice_cache_max_age, K_SECS),
    NUM(frontend_capacity, K_INT), NUM(frontend_check_interval, K_SECS),
    NUM(frontend_fail_threshold, K_INT), NUM(frontend_grace, K_SECS),
    NUM(metrics_public, K_BOOL), NUM(max_json_body, K_SIZE),
    STR(anonymous_networks),
};

void conf_defaults(struct rr_conf *c, const char *statedir)
{
    const char *st = statedir ? statedir : LOCALSTATEDIR;

    memset(c, 0, sizeof(*c));
    snprintf(c->spool_dir, sizeof(c->spool_dir), "%s", st);
    snprintf(c->database, sizeof(c->database), "%s/rrcloud.db", st);
    snprintf(c->services_dir, sizeof(c->services_dir), "%s/services",
             PKGDATADIR);
    snprintf(c->profiles_dir, sizeof(c->profiles_dir), "%s/profiles",
             PKGDATADIR);
    snprintf(c->www_dir, sizeof(c->www_dir), "%s/www", PKGDATADIR);
    snprintf(c->fcgi_socket, sizeof(c->fcgi_socket), "/run/rrcloud/fcgi.sock");
    snprintf(c->wake_socket, sizeof(c->wake_socket),
             "/run/rrcloud/rrcloudd.sock");
    snprintf(c->accel_prefix, sizeof(c->accel_prefix), "/_spool");
    snprintf(c->sendfile_mode, sizeof(c->sendfile_mode), "accel");
    snprintf(c->log_level, sizeof(c->log_level), "info");
    c->max_body_size = 1ULL << 30;
    c->max_inline_size = 16ULL << 20;
    c->max_field_size = 4096;
    c->max_part_header = 8192;
    c->max_query = 64 * 1024;
    c->max_files = 16;
    c->max_fields = 64;
    c->fcgi_threads = 8;
    c->body_threads = 8;
    c->body_timeout = 300;
    c->max_held = 1024;
    c->max_queued = 10000;
    c->client_max_queued = 1000;
    c->client_max_running = 0;
    c->client_max_held = 256;
    c->spool_quota = 0;
    c->info_all_clients = 0;
    c->fcgi_socket_mode = 0660;
    c->runner_slots = 2;
    c->default_timeout = 1800;
    c->kill_grace = 5;
    rr_fmt(c->sandbox, sizeof(c->sandbox), "required");
    rr_fmt(c->sandbox_user, sizeof(c->sandbox_user), "nobody");
    c->max_data_retention = 24 * 3600;
    c->events_retention = 90LL * 24 * 3600;
    c->purge_interval = 300;
    c->tmp_sweep_interval = 60;
    c->max_reruns = 1;
    c->min_free_space = 32ULL << 20;
    c->notifier_retries = 8;
    c->notifier_timeout = 10;
    c->notifier_backoff = 2;
    c->auth_fail_limit = 10;
    c->auth_fail_window = 60;
    c->fleet_poll_interval = 2;
    c->fleet_status_interval = 10;
    c->fleet_offline_backoff = 60;
    c->fleet_request_timeout = 10;
    c->fleet_upload_timeout = 600;
    c->fleet_max_connections = 512;
    c->fleet_lease = 300;
    c->fleet_fail_per_printer = 1;
    c->fleet_fail_printers = 3;
    c->fleet_quarantine_after = 3;
    c->fleet_heatup_max = 0;
    c->fleet_heatup_time = 300;
    c->fleet_age_boost = 3600;
    c->fleet_change_penalty = 1;
    c->fleet_max_copies = 1000;
    c->fleet_slice_concurrency = 1;
    c->slice_cache_max = 1ULL << 30;
    c->slice_cache_max_age = 30LL * 24 * 3600;
    c->fleet_delete_files = 1;
    c->fleet_unplaceable_timeout = 0;
    c->frontend_capacity = 150;
    c->frontend_check_interval = 15;
    c->frontend_fail_threshold = 2;
    c->frontend_grace = 60;
    c->metrics_public = 0;
    snprintf(c->anonymous_networks, sizeof(c->anonymous_networks),
             "127.0.0.0/8, ::1");
    c->max_json_body = 64 * 1024;
    snprintf(c->enroll_queues, sizeof(c->enroll_queues), "default");
}

static int conf_set(void *arg, const char *key, const char *value, int lineno,
                    char *err, size_t errlen)
{
    struct rr_conf *c = arg;
    const struct conf_key *k = NULL;
    char *field;
    unsigned long long sz;
    long long secs;
    char *end;
    long v;
    int b;

    for (size_t i = 0; i < sizeof(conf_keys) / sizeof(conf_keys[0]); i++) {
        if (strcmp(conf_keys[i].name, key) == 0) {
            k = &conf_keys[i];
            break;
        }
    }
    if (!k) {
        snprintf(err, errlen, "line %d: unknown key '%s'", lineno, key);
        return -1;
    }
    field = (char *)c + k->off;
    switch (k->kind) {
    case K_STR:
        if (strlen(value) >= k->size) {
            snprintf(err, errlen, "line %d: %s is longer than %zu bytes",
                     lineno, key, k->size - 1);
            return -1;
        }
        memcpy(field, value, strlen(value) + 1);
        return 0;
    case K_SIZE:
        if (kv_parse_size(value, &sz) < 0)
            goto bad;
        memcpy(field, &sz, sizeof(sz));
        return 0;
    case K_SECS:
        if (kv_parse_duration(value, &secs) < 0 || secs > CONF_SECS_MAX)
            goto bad;
        memcpy(field, &secs, sizeof(secs));
        return 0;
    case K_BOOL:
        if (kv_parse_bool(value, &b) < 0)
            goto bad;
        memcpy(field, &b, sizeof(b));
        return 0;
    case K_LINES: {
        size_t have = strlen(field), add = strlen(value);

        if (have + add + 2 > k->size) {
            snprintf(err, errlen, "line %d: %s lines exceed %zu bytes in "
                     "all", lineno, key, k->size - 1);
            return -1;
        }
        if (have)
            field[have++] = '\n';
        memcpy(field + have, value, add + 1);
        return 0;
    }
    case K_MODE:            /* octal, as chmod takes it: 660 or 0660 */
        v = strtol(value, &end, 8);
        if (*value == '\0' || *end != '\0' || v < 0 || v > 0777)
            goto bad;
        b = (int)v;
        memcpy(field, &b, sizeof(b));
        return 0;
    case K_INT:
        v = strtol(value, &end, 10);
        if (*value == '\0' || *end != '\0' || v < 0 || v > 1000000)
            goto bad;
        b = (int)v;
        memcpy(field, &b, sizeof(b));
        return 0;
    }
bad:
    snprintf(err, errlen, "line %d: %s: bad value '%s'", lineno, key, value);
    return -1;
}

/* 0 if every secret in list (separated by any of seps) is at least
 * CONF_TOKEN_MIN long; else -1 naming the key and the entry, never the
 * secret itself (the error goes to logs). */
static int check_secrets(const char *path, const char *key, const char *list,
                         const char *seps, char *err, size_t errlen)
{
    int n = 0;

    for (const char *p = list; *p;) {
        size_t len = strcspn(p, seps);

        if (len > 0) {
            n++;
            if (len < CONF_TOKEN_MIN) {
                snprintf(err, errlen, "%s: %s: entry %d is %zu characters; "
                         "a token needs at least %d (make one with "
                         "'openssl rand -hex 16')", path, key, n, len,
                         CONF_TOKEN_MIN);
                return -1;
            }
        }
        p += len;
        p += *p != '\0';
    }
    return 0;
}

/* The key of each octoprint_key line is its first word. */
static int check_octoprint_keys(const char *path, const char *lines,
                                char *err, size_t errlen)
{
    int n = 0;

    for (const char *p = lines; *p;) {
        size_t skip = strspn(p, " \t"), len = strcspn(p + skip, " \t\n");

        n++;
        if (len < CONF_TOKEN_MIN) {
            snprintf(err, errlen, "%s: octoprint_key: line %d's key is %zu "
                     "characters; a key needs at least %d (make one with "
                     "'openssl rand -hex 16')", path, n, len, CONF_TOKEN_MIN);
            return -1;
        }
        p += strcspn(p, "\n");
        p += *p != '\0';
    }
    return 0;
}

static int conf_check_tokens(const struct rr_conf *c, const char *path,
                             char *err, size_t errlen)
{
    if (check_secrets(path, "admin_token", c->admin_token, ", ", err,
                      errlen) < 0 ||
        check_secrets(path, "enroll_token", c->enroll_token, ", ", err,
                      errlen) < 0 ||
        check_octoprint_keys(path, c->octoprint_keys, err, errlen) < 0)
        return -1;
    /* One HMAC key, spaces and all. */
    if (c->notifier_secret[0] && strlen(c->notifier_secret) < CONF_TOKEN_MIN) {
        snprintf(err, errlen, "%s: notifier_secret is %zu characters; it "
                 "needs at least %d", path, strlen(c->notifier_secret),
                 CONF_TOKEN_MIN);
        return -1;
    }
    return 0;
}

/* A file that moves services_dir but names no profiles_dir gets the
 * profiles directory beside it, as installed (SRCDIR/services and
 * SRCDIR/profiles in a source tree).  "\1" marks "not set". */
static void conf_profiles_beside(struct rr_conf *c, const char *old_profiles,
                                 const char *old_services)
{
    char dir[sizeof(c->services_dir)], *slash;
    size_t n;

    c->profiles_dir_set = strcmp(c->profiles_dir, "\1") != 0;
    if (c->profiles_dir_set)
        return;
    if (strcmp(c->services_dir, old_services) == 0) {
        snprintf(c->profiles_dir, sizeof(c->profiles_dir), "%s",
                 old_profiles);
        return;
    }
    snprintf(dir, sizeof(dir), "%s", c->services_dir);
    for (n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--)
        dir[n - 1] = '\0';
    slash = strrchr(dir, '/');
    if (slash == NULL)
        snprintf(c->profiles_dir, sizeof(c->profiles_dir), "profiles");
    else
        snprintf(c->profiles_dir, sizeof(c->profiles_dir), "%.*s/profiles",
                 (int)(slash - dir), dir);
}

/* The checks across keys, once every line is read. */
static int conf_check(const struct rr_conf *c, const char *path, char *err,
                      size_t errlen)
{
    if (c->fcgi_threads < 1 || c->runner_slots < 1 || c->max_files < 1 ||
        c->body_threads < 1 || c->body_timeout < 1) {
        snprintf(err, errlen, "%s: fcgi_threads, body_threads, body_timeout, "
                 "runner_slots and max_files must be at least 1", path);
        return -1;
    }
    if (strcmp(c->sandbox, "required") != 0 && strcmp(c->sandbox, "auto") != 0 &&
        strcmp(c->sandbox, "off") != 0) {
        snprintf(err, errlen, "%s: sandbox must be required, auto or off",
                 path);
        return -1;
    }
    if (c->body_threads > CONF_MAX_BODY_THREADS) {
        snprintf(err, errlen, "%s: body_threads is at most %d", path,
                 CONF_MAX_BODY_THREADS);
        return -1;
    }
    if (c->max_files > CONF_MAX_FILES) {
        snprintf(err, errlen, "%s: max_files is at most %d", path,
                 CONF_MAX_FILES);
        return -1;
    }
    if (c->fleet_fail_per_printer < 1 || c->fleet_fail_printers < 1 ||
        c->frontend_fail_threshold < 1 || c->fleet_max_copies < 1) {
        snprintf(err, errlen, "%s: fleet_fail_per_printer, "
                 "fleet_fail_printers, frontend_fail_threshold and "
                 "fleet_max_copies must be at least 1", path);
        return -1;
    }
    if (c->fleet_slice_concurrency < 0 ||
        c->fleet_slice_concurrency > c->runner_slots) {
        snprintf(err, errlen, "%s: fleet_slice_concurrency is 0 to "
                 "runner_slots (%d)", path, c->runner_slots);
        return -1;
    }
    if (strcmp(c->sendfile_mode, "accel") != 0 &&
        strcmp(c->sendfile_mode, "sendfile") != 0) {
        snprintf(err, errlen, "%s: sendfile_mode must be accel or sendfile",
                 path);
        return -1;
    }
    if (c->auth_fail_limit > 0 && c->auth_fail_window < 1) {
        snprintf(err, errlen, "%s: auth_fail_window must be at least 1s "
                 "(auth_fail_limit = 0 turns the limit off)", path);
        return -1;
    }
    return conf_check_tokens(c, path, err, errlen);
}

/* Saves what profiles_dir defaults to, and marks it unset for the lines
 * to come (conf_profiles_beside settles it after them). */
static void conf_profiles_mark(struct rr_conf *c, char *old_profiles,
                               char *old_services)
{
    snprintf(old_profiles, sizeof(c->profiles_dir), "%s", c->profiles_dir);
    snprintf(old_services, sizeof(c->services_dir), "%s", c->services_dir);
    snprintf(c->profiles_dir, sizeof(c->profiles_dir), "\1");
}

int conf_load(struct rr_conf *c, const char *path, char *err, size_t errlen)
{
    char msg[512], old_profiles[sizeof(c->profiles_dir)],
         old_services[sizeof(c->services_dir)];
    int rc;

    conf_profiles_mark(c, old_profiles, old_services);
    rc = kv_parse_file(path, conf_set, c, msg, sizeof(msg));
    conf_profiles_beside(c, old_profiles, old_services);
    if (rc < 0) {
        snprintf(err, errlen, "%s", msg);
        return -1;
    }
    return conf_check(c, path, err, errlen);
}

int conf_load_buf(struct rr_conf *c, const char *name, const char *buf,
                  size_t len, char *err, size_t errlen)
{
    char msg[512], old_profiles[sizeof(c->profiles_dir)],
         old_services[sizeof(c->services_dir)];
    int rc;

    conf_profiles_mark(c, old_profiles, old_services);
    rc = kv_parse_buf(buf, len, conf_set, c, msg, sizeof(msg));
    conf_profiles_beside(c, old_profiles, old_services);
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", name, msg);
        return -1;
    }
    return conf_check(c, name, err, errlen);
}

const char *conf_default_path(void)
{
    const char *env = getenv("RRCLOUD_CONF");

    return env && *env ? env : SYSCONFDIR "/rrcloud.conf";
}
