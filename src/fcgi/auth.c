/* auth.c - see auth.h. */
#include "fcgi/auth.h"

#include "common/log.h"
#include "common/util.h"
#include "fcgi/authlimit.h"
#include "fcgi/request.h"
#include "fcgi/worker.h"
#include "http/netcheck.h"
#include "store/store.h"
#include "store/store_fleet.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AUTH_TOKEN_MAX 256
#define B(a) (1u << (a))

/* The role matrix: what each role may do.  Printers act only for
 * themselves (auth_require_printer); anonymous callers may only use the
 * relay, and only from anonymous_networks. */
static const unsigned auth_rights[ROLE_COUNT] = {
    [ROLE_ADMIN] = B(AUTH_COUNT) - 1,
    [ROLE_OPERATOR] = B(AUTH_RELAY) | B(AUTH_PRINT) | B(AUTH_JOBS_ALL) |
                      B(AUTH_QUEUES) | B(AUTH_PRINTERS) | B(AUTH_FRONTENDS) |
                      B(AUTH_ENROLL) | B(AUTH_EVENTS) | B(AUTH_METRICS) |
                      B(AUTH_PROFILES),
    /* Whoever may print sees the profiles its jobs are sliced for. */
    [ROLE_USER] = B(AUTH_RELAY) | B(AUTH_PRINT) | B(AUTH_PROFILES),
    [ROLE_APP] = B(AUTH_RELAY) | B(AUTH_PRINT) | B(AUTH_PROFILES),
    [ROLE_ENROLL] = B(AUTH_ENROLL),
    [ROLE_OCTOPRINT] = B(AUTH_UPLOAD),
};

static const char *const auth_action_names[AUTH_COUNT] = {
    "relay", "tasks_all", "print", "jobs_all", "queues", "printers",
    "frontends", "enroll", "keys", "events", "metrics", "upload",
    "profiles",
};

const char *auth_action_name(enum auth_action a)
{
    return (unsigned)a < AUTH_COUNT ? auth_action_names[a] : "unknown";
}

/* ---- who is asking ------------------------------------------------------ */

static void as_key(struct auth_caller *c, enum fleet_role role,
                   const char *owner)
{
    c->who = AUTH_KEY;
    c->role = role;
    c->key.role = role;
    snprintf(c->owner, sizeof(c->owner), "%s", owner);
    rr_fmt(c->who_str, sizeof(c->who_str), "key:%s", owner);
}

/* A stored key: refused when expired or revoked; an app acts for the end
 * user it names. */
static void as_stored_key(struct req *r, struct auth_caller *c)
{
    const struct fleet_apikey *k = &c->key;
    const char *end_user = r->on_behalf_of;
    char owner[AUTH_OWNER_MAX];

    if (k->revoked > 0) {
        c->bad = "this key was revoked";
        return;
    }
    if (k->expires > 0 && k->expires <= rr_now()) {
        c->bad = "this key has expired";
        return;
    }
    snprintf(owner, sizeof(owner), "%s", k->user[0] ? k->user : k->name);
    if (k->role == ROLE_APP && end_user && *end_user) {
        if (!fleet_name_valid(end_user)) {
            c->matched = 1;     /* a right key: no guess to count */
            c->bad = "X-On-Behalf-Of: not a user name (1..63 characters "
                     "of A-Z a-z 0-9 . _ # + -)";
            return;
        }
        rr_fmt(owner, sizeof(owner), "%s/%s",
               k->user[0] ? k->user : k->name, end_user);
    }
    as_key(c, k->role, owner);
    snprintf(c->who_str, sizeof(c->who_str), "key:%s%s%s", k->name,
             strchr(owner, '/') ? " for " : "",
             strchr(owner, '/') ? strchr(owner, '/') + 1 : "");
}

static int auth_token(struct req *r, const char *tok, struct auth_caller *c)
{
    const struct rr_conf *conf = &r->w->app->conf;
    char err[128];
    int rc;

    if (fleet_secret_in_list(conf->admin_token, tok)) {
        as_key(c, ROLE_ADMIN, AUTH_BOOTSTRAP_OWNER);
    } else if (strncmp(tok, "rrp_", 4) == 0) {
        rc = store_printer_auth(r->w->st, tok, &c->printer_id);
        if (rc == 0) {
            c->who = AUTH_PRINTER;
            snprintf(c->who_str, sizeof(c->who_str), "printer:%lld",
                     c->printer_id);
            /* owns nothing: no task or job has this owner */
            snprintf(c->owner, sizeof(c->owner), "%s", c->who_str);
        }
        return rc < 0 && rc != STORE_NOTFOUND ? -1 : 0;
    } else if (fleet_secret_in_list(conf->enroll_token, tok)) {
        as_key(c, ROLE_ENROLL, "enroll");
    } else if (fleet_octoprint_key_find(conf->octoprint_keys, tok, &c->key,
                                        err, sizeof(err)) == 0) {
        as_key(c, ROLE_OCTOPRINT, c->key.name[0] ? c->key.name
                                                 : "octoprint");
    } else if ((rc = store_apikey_auth(r->w->st, tok, &c->key)) == 0) {
        as_stored_key(r, c);
    } else if (rc != STORE_NOTFOUND) {
        return -1;
    }
    return 0;
}

int auth_identify(struct req *r, struct auth_caller *c)
{
    struct authlimit *al = r->w->app->authlimit;
    const char *auth = r->authorization;
    const char *key = r->api_key;
    char tok[AUTH_TOKEN_MAX];
    const char *t = NULL;
    int rc;

    memset(c, 0, sizeof(*c));
    c->addr = r->remote_addr ? r->remote_addr : "";
    snprintf(c->who_str, sizeof(c->who_str), "anonymous");
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0)
        t = auth + 7;
    else if (key && *key)
        t = key;
    if (!t) {
        c->anon_net = netcheck_allow_has(&r->w->app->anon_nets, c->addr);
        return 0;
    }
    c->presented = 1;
    c->bad = "unknown key";
    c->blocked_s = authlimit_blocked(al, c->addr, rr_mono_ms());
    if (c->blocked_s > 0)
        return 0;
    while (*t == ' ')
        t++;
    if (!*t || strlen(t) >= sizeof(tok))
        return 0;
    snprintf(tok, sizeof(tok), "%s", t);
    tok[strcspn(tok, " \t\r\n")] = '\0';
    rc = auth_token(r, tok, c);
    if (c->who != AUTH_ANON) {
        c->bad = NULL;
    } else if (rc < 0) {
        c->bad = "the key could not be checked (store error)";
        return -1;
    }
    if (c->who == AUTH_ANON) {
        memset(&c->key, 0, sizeof(c->key));
        /* Only a token that matches nothing is a guess: an app's end user
         * with a malformed name must not lock its whole server out. */
        if (!c->matched && authlimit_failed(al, c->addr, rr_mono_ms()))
            log_warn("auth: %s blocked for %llds after %d failed "
                     "authentications (auth_fail_limit)", c->addr,
                     authlimit_window(al), authlimit_limit(al));
    }
    return 0;
}

int auth_too_many(struct req *r, const struct auth_caller *c)
{
    const struct authlimit *al = r->w->app->authlimit;
    char hdr[48];

    snprintf(hdr, sizeof(hdr), "Retry-After: %lld\r\n", c->blocked_s);
    return req_error_hdr(r, 429, hdr, "Authorization", "too many failed "
                         "authentications from %s (auth_fail_limit %d in "
                         "auth_fail_window %llds): try again in %llds",
                         c->addr, authlimit_limit(al), authlimit_window(al),
                         c->blocked_s);
}

/* ---- rights -------------------------------------------------------------- */

int auth_may(const struct auth_caller *c, enum auth_action a)
{
    if ((unsigned)a >= AUTH_COUNT)
        return 0;
    if (c->who == AUTH_KEY)
        return (unsigned)c->role < ROLE_COUNT &&
               (auth_rights[c->role] & B(a)) != 0;
    if (c->who == AUTH_ANON)
        return !c->presented && a == AUTH_RELAY && c->anon_net;
    return 0;
}

/* What a missing right is called in a refusal. */
static const char *auth_need(enum auth_action a)
{
    switch (a) {
    case AUTH_RELAY:     return "a key that may submit tasks";
    case AUTH_TASKS_ALL: return "an admin key";
    case AUTH_PRINT:     return "a key that may print (user, app, operator "
                                "or admin)";
    case AUTH_JOBS_ALL:  return "an operator or admin key";
    case AUTH_QUEUES:    return "an operator or admin key (queues)";
    case AUTH_PRINTERS:  return "an operator or admin key (printers)";
    case AUTH_FRONTENDS: return "an operator or admin key (frontends)";
    case AUTH_ENROLL:    return "an enrollment token, an operator or admin "
                                "key";
    case AUTH_KEYS:      return "an admin key (users and keys)";
    case AUTH_EVENTS:    return "an operator or admin key (events)";
    case AUTH_METRICS:   return "an operator or admin key (metrics)";
    case AUTH_UPLOAD:    return "an octoprint key";
    case AUTH_PROFILES:  return "a key that may print (user, app, operator "
                                "or admin)";
    default:             return "a key";
    }
}

int auth_refusal(const struct auth_caller *c, enum auth_action a,
                 char *msg, size_t len)
{
    if (auth_may(c, a))
        return 0;
    /* The one place a 401 is decided. */
    if (c->who == AUTH_ANON && c->presented) {
        rr_fmt(msg, len, "%s (needs %s)", c->bad ? c->bad : "unknown key",
               auth_need(a));
        return 401;
    }
    if (c->who == AUTH_ANON && a == AUTH_RELAY) {
        rr_fmt(msg, len, "anonymous tasks are taken only from "
               "anonymous_networks, not from %s: send an API key as "
               "'Authorization: Bearer KEY'", c->addr);
        return 401;
    }
    if (c->who == AUTH_ANON) {
        rr_fmt(msg, len, "missing key: send %s as 'Authorization: Bearer "
               "KEY' or 'X-Api-Key: KEY'", auth_need(a));
        return 401;
    }
    rr_fmt(msg, len, "this %s may not do that (needs %s)",
           c->who == AUTH_PRINTER ? "printer token"
                                  : fleet_role_name(c->role), auth_need(a));
    return 403;
}

int auth_require(struct req *r, const struct auth_caller *c,
                 enum auth_action a)
{
    char msg[256];
    int status = auth_refusal(c, a, msg, sizeof(msg));

    return status ? req_error(r, status, "Authorization", "%s", msg) : 0;
}

int auth_check_presented(struct req *r, const struct auth_caller *c)
{
    if (c->who != AUTH_ANON || !c->presented)
        return 0;
    return req_error(r, 401, "Authorization", "%s",
                     c->bad ? c->bad : "unknown key");
}

int auth_require_printer(struct req *r, const struct auth_caller *c,
                         long long printer_id)
{
    if (c->who == AUTH_PRINTER && c->printer_id == printer_id)
        return 0;
    if (c->who == AUTH_PRINTER)
        return req_error(r, 403, "Authorization", "a printer token acts "
                         "only for its own printer (%lld, not %lld)",
                         c->printer_id, printer_id);
    return auth_require(r, c, AUTH_PRINTERS);
}

/* ---- limits ---------------------------------------------------------------- */

const char *auth_family(const struct auth_caller *c)
{
    const struct fleet_apikey *k = &c->key;

    /* An app's end users are its own family ("user/END-USER"): a limit
     * counts them all, or a fresh X-On-Behalf-Of per request escaped it. */
    if (k->role == ROLE_APP && strchr(c->owner, '/'))
        return k->user[0] ? k->user : k->name;
    return c->owner;
}

int auth_limits(struct store *st, const struct auth_caller *c,
                const char *queue, int copies, int priority, char *field,
                size_t flen, char *msg, size_t mlen)
{
    const struct fleet_apikey *k = &c->key;
    long long open = 0;

    if (c->who != AUTH_KEY)
        return 0;
    if (queue && k->queues[0] && !fleet_list_has(k->queues, queue)) {
        snprintf(field, flen, "queue");
        rr_fmt(msg, mlen, "queue: this key may print only to %s, not %s",
               k->queues, queue);
        return 403;
    }
    if (k->max_copies > 0 && copies > k->max_copies) {
        snprintf(field, flen, "copies");
        rr_fmt(msg, mlen, "copies: this key may ask for at most %d copies "
               "(max_copies), not %d", k->max_copies, copies);
        return 403;
    }
    if (queue && k->has_max_priority && priority > k->max_priority) {
        snprintf(field, flen, "priority");
        rr_fmt(msg, mlen, "priority: this key may ask for at most %d "
               "(max_priority), not %d", k->max_priority, priority);
        return 403;
    }
    if (k->max_queued <= 0)
        return 0;
    if (store_owner_open(st, auth_family(c), &open) < 0) {
        snprintf(field, flen, "store");
        rr_fmt(msg, mlen, "store error");
        return 500;
    }
    if (open < k->max_queued)
        return 0;
    return auth_max_queued_refusal(open, field, flen, msg, mlen);
}

long long auth_max_open(const struct auth_caller *c, const char **family)
{
    *family = NULL;
    if (c->who != AUTH_KEY || c->key.max_queued <= 0)
        return 0;
    *family = auth_family(c);
    return c->key.max_queued;
}

int auth_max_queued_refusal(long long open, char *field, size_t flen,
                            char *msg, size_t mlen)
{
    snprintf(field, flen, "max_queued");
    rr_fmt(msg, mlen, "max_queued: this key has %lld open tasks and jobs, "
           "its limit; try again when one has ended", open);
    return 429;
}

int auth_aim(struct store *st, const struct auth_caller *c,
             const char *queue, long long printer_id, char *msg,
             size_t mlen)
{
    struct fleet_printer *p;
    int rc, serves;

    if (!printer_id)
        return 0;
    if (!(p = malloc(sizeof(*p)))) {
        rr_fmt(msg, mlen, "out of memory");
        return 500;
    }
    rc = store_printer_get(st, printer_id, p);
    serves = rc == 0 && (auth_may(c, AUTH_JOBS_ALL) ||
                         fleet_list_has(p->queues, queue));
    free(p);
    if (rc < 0 && rc != STORE_NOTFOUND) {
        rr_fmt(msg, mlen, "store error");
        return 500;
    }
    if (serves)
        return 0;
    rr_fmt(msg, mlen, "printer: no printer %lld serves queue '%.64s'",
           printer_id, queue);
    return 404;
}

/* ---- ownership ------------------------------------------------------------ */

int auth_owns_task(const struct auth_caller *c, const struct task *t,
                   int all_clients)
{
    if (auth_may(c, AUTH_TASKS_ALL))
        return 1;
    if (t->owner[0])
        return c->who == AUTH_KEY && strcmp(c->owner, t->owner) == 0;
    /* all_clients opens anonymous tasks to anonymous_networks only: the
     * rest of the world sees none but its own address's */
    return c->who == AUTH_ANON && !c->presented &&
           ((all_clients && c->anon_net) || strcmp(c->addr, t->client) == 0);
}

void auth_task_filter(const struct auth_caller *c, int all_clients,
                      const char **client, const char **owner)
{
    *client = NULL;
    *owner = NULL;
    if (auth_may(c, AUTH_TASKS_ALL))
        return;
    if (c->who != AUTH_ANON)
        *owner = c->owner;
    else if (all_clients && c->anon_net && !c->presented)
        *owner = "";                 /* every anonymous task */
    else
        *client = c->addr;           /* its own address's */
}

int auth_owns_job(const struct auth_caller *c, const char *owner)
{
    return auth_may(c, AUTH_JOBS_ALL) ||
           (c->who == AUTH_KEY && strcmp(c->owner, owner) == 0);
}
