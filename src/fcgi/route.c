/* route.c - which handler answers which path. */
#include "fcgi/api.h"
#include "fcgi/auth.h"
#include "fcgi/fleet_api.h"
#include "fcgi/files.h"
#include "fcgi/relay.h"
#include "fcgi/worker.h"
#include "common/log.h"
#include "common/util.h"
#include "store/store.h"
#include "store/store_fleet.h"

#include <string.h>

static int route_options(struct req *r)
{
    buf_reset(&r->out);
    req_send(r, 204, "text/plain",
             "Access-Control-Allow-Methods: GET, POST, DELETE, OPTIONS\r\n"
             "Access-Control-Allow-Headers: Content-Type, Prefer, "
             "Authorization, X-Api-Key, X-On-Behalf-Of\r\n"
             "Access-Control-Max-Age: 86400\r\n");
    return 204;
}

static int route_dispatch(struct req *r)
{
    const char *p = r->path;

    if (strcmp(r->method, "OPTIONS") == 0)
        return route_options(r);
    if (strcmp(p, "/healthz") != 0 && r->caller->presented &&
        r->caller->who == AUTH_ANON) {
        if (strncmp(p, "/api/", 5) == 0) {
            r->api = 1;
            r->format = FMT_JSON;
        }
        return auth_check_presented(r, r->caller);
    }
    if (strlen(r->query) > r->w->app->conf.max_query)
        return req_error(r, 414, "query", "query string longer than %llu "
                         "bytes (max_query)", r->w->app->conf.max_query);
    if (strcmp(p, "/") == 0 || strcmp(p, "/index.cgi") == 0)
        return relay_handle(r);
    if (strncmp(p, "/api/v1", 7) == 0 && (p[7] == '/' || p[7] == '\0'))
        return api_handle(r, p + 7);
    /* OctoPrint's upload API, as slicers' "send to printer host" uses it. */
    if (strncmp(p, "/api/", 5) == 0)
        return octoprint_handle(r, p + 4);
    if (strcmp(p, "/metrics") == 0)
        return metrics_handle(r);
    if (strncmp(p, "/tasks/out/", 11) == 0)
        return strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0
                   ? files_out(r, p + 11)
                   : req_error(r, 405, NULL, "use GET");
    if (strncmp(p, "/tasks/log/", 11) == 0)
        return files_log(r, p + 11);
    if (strcmp(p, "/healthz") == 0)
        return api_healthz(r);
    r->api = r->api || strncmp(p, "/api/", 5) == 0;
    return req_error(r, 404, NULL, "nothing at %.200s", p);
}

/* A call that changes something (every method but GET, HEAD and
 * OPTIONS), taken before it is dispatched: a held submission's request
 * (its FastCGI parameters) belongs to the holder thread once parked. */
struct route_call {
    char method[16];
    char path[201];
    char addr[64];
    int heartbeat;              /* .../heartbeat */
};

/* 1 and call filled if r changes something, else 0. */
static int route_call_of(const struct req *r, struct route_call *call)
{
    size_t n = strlen(r->path);

    if (req_is(r, "GET") || req_is(r, "HEAD") || req_is(r, "OPTIONS"))
        return 0;
    snprintf(call->method, sizeof(call->method), "%s", r->method);
    snprintf(call->path, sizeof(call->path), "%s", r->path);
    snprintf(call->addr, sizeof(call->addr), "%s",
             r->remote_addr ? r->remote_addr : "");
    call->heartbeat = n > 10 && strcmp(r->path + n - 10, "/heartbeat") == 0;
    return 1;
}

/* Records a call in the events: who, what, from where, when, and how it
 * was answered, granted or refused.  A printer's own accepted heartbeat
 * is left out: it comes every few seconds from every printer and says
 * only that it lives (last_seen has that).  So are the calls of
 * anonymous callers from outside anonymous_networks (all refused) and of
 * addresses blocked after failed authentications: anyone could fill the
 * table with them.  Wrong, expired and revoked tokens are recorded, at
 * most auth_fail_limit per address and window. */
static void route_record(struct store *st, const struct route_call *call,
                         const struct auth_caller *c, int rc)
{
    if (c->blocked_s > 0 ||
        (c->who == AUTH_ANON && !c->presented && !c->anon_net))
        return;
    if (c->who == AUTH_PRINTER && rc < 400 && call->heartbeat)
        return;
    if (store_event_add(st, rr_now(), "api", 0, 0, 0,
                        "%s %s %s -> %d from %s", c->who_str, call->method,
                        call->path, rc == REQ_HELD ? 200 : rc,
                        call->addr) < 0)
        log_warn("event for %s %s not recorded: %s", call->method,
                 call->path, store_errmsg(st));
}

int route_request(struct req *r)
{
    struct store *st = r->w->st;
    struct route_call call;
    struct auth_caller c;
    int rc, record;

    record = route_call_of(r, &call);
    auth_identify(r, &c);
    r->caller = &c;
    rc = c.blocked_s > 0 ? auth_too_many(r, &c) : route_dispatch(r);
    if (record)
        route_record(st, &call, &c, rc);
    r->caller = NULL;
    return rc;
}
