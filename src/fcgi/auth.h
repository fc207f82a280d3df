/*
 * auth.h - who is asking, and what they may do: the one place rrcloud-fcgi
 * decides a 401 or a 403 (README "Security").
 *
 * A caller is resolved once per request (route.c) from "Authorization:
 * Bearer T" or "X-Api-Key: T":
 *   - rrcloud.conf's admin_token: the bootstrap admin (owner "admin");
 *   - rrp_...: a printer token, acting only for its own printer;
 *   - rrcloud.conf's enroll_token and octoprint_key lines;
 *   - rrk_...: an API key from the store (one lookup of its hash), with
 *     its role, user, expiry, revocation and limits.  An app key acts for
 *     the end user named in X-On-Behalf-Of, kept apart from the others;
 *   - nothing: anonymous, with its address; relay calls are allowed only
 *     from anonymous_networks (default loopback).
 * A credential that is sent but unknown, expired or revoked is always
 * 401, never anonymous.
 *
 * Rights come from one table (auth.c): each role against each action.
 * Ownership: a keyed caller's tasks and jobs belong to its owner ("user",
 * "user/end-user" for an app); an anonymous task to its client address.
 * Others get 404, not 403, so ids do not leak.
 */
#ifndef RR_AUTH_H
#define RR_AUTH_H

#include "fleet/model.h"

struct req;
struct store;
struct task;

enum auth_who {
    AUTH_ANON = 0,      /* no credential, or a refused one (bad set) */
    AUTH_KEY,           /* a key with a role: conf token or api key */
    AUTH_PRINTER,       /* a printer token: printer_id is its printer */
};

/* What a request does.  Keep auth_action_names in step. */
enum auth_action {
    AUTH_RELAY = 0,     /* submit relay tasks; see and cancel one's own */
    AUTH_TASKS_ALL,     /* see and cancel every task */
    AUTH_PRINT,         /* submit print jobs; see and cancel one's own */
    AUTH_JOBS_ALL,      /* see, move and cancel every job */
    AUTH_QUEUES,        /* create and delete queues */
    AUTH_PRINTERS,      /* list, change, command and remove printers */
    AUTH_FRONTENDS,     /* manage frontends */
    AUTH_ENROLL,        /* enroll a printer */
    AUTH_KEYS,          /* manage users and keys */
    AUTH_EVENTS,        /* read the event log */
    AUTH_METRICS,       /* scrape /metrics */
    AUTH_UPLOAD,        /* OctoPrint uploads into the key's queue */
    AUTH_PROFILES,      /* read the printer profiles */
    AUTH_COUNT
};

#define AUTH_OWNER_MAX 128

/* The owner of what the bootstrap admin_token makes; no user and no key
 * without a user may take this name. */
#define AUTH_BOOTSTRAP_OWNER "admin"

struct auth_caller {
    enum auth_who who;
    enum fleet_role role;            /* AUTH_KEY */
    struct fleet_apikey key;         /* AUTH_KEY: name, limits, ... */
    long long printer_id;            /* AUTH_PRINTER */
    char owner[AUTH_OWNER_MAX];      /* what it owns; "" anonymous */
    char who_str[AUTH_OWNER_MAX];    /* for events: "key:NAME", "anonymous" */
    const char *addr;                /* REMOTE_ADDR */
    int presented;                   /* a credential was sent */
    int matched;                     /* ... and it is a right key refused
                                      * only for a bad X-On-Behalf-Of (an
                                      * expired or revoked key counts as
                                      * a failed authentication) */
    const char *bad;                 /* why it was refused, or NULL */
    int anon_net;                    /* addr is in anonymous_networks */
    long long blocked_s;             /* > 0: addr is blocked this long
                                      * after failed authentications
                                      * (fcgi/authlimit.h); token unread */
};

/* Resolves r's caller into c.  Never answers; 0, or -1 on a store error
 * (then c is anonymous with bad set, so every check answers 401).  A
 * token from an address blocked after failed authentications is not
 * checked (c->blocked_s set); one that matches nothing counts as a failed
 * authentication of its address. */
int auth_identify(struct req *r, struct auth_caller *c);
/* The 429 with Retry-After for a caller whose address is blocked. */
int auth_too_many(struct req *r, const struct auth_caller *c);

/* 1 if c may do a. */
int auth_may(const struct auth_caller *c, enum auth_action a);
/* 0 if c may do a, else answers 401 (no, an unknown, expired or revoked
 * credential; an anonymous relay call from outside anonymous_networks)
 * or 403 (a key without the right, naming it) and returns that. */
int auth_require(struct req *r, const struct auth_caller *c,
                 enum auth_action a);
/* auth_require without the answer: 0, or 401/403 with the message. */
int auth_refusal(const struct auth_caller *c, enum auth_action a,
                 char *msg, size_t len);
/* 0, or 401 for a credential that was sent but refused (unknown,
 * expired, revoked): such a caller is never taken as anonymous. */
int auth_check_presented(struct req *r, const struct auth_caller *c);
/* The printer itself (its token) or a caller with AUTH_PRINTERS; 403 for
 * another printer's token. */
int auth_require_printer(struct req *r, const struct auth_caller *c,
                         long long printer_id);

/* What a keyed caller's limits count: its owner, or for an app key
 * acting for an end user ("user/END-USER") the app's user. */
const char *auth_family(const struct auth_caller *c);
/* The key's limits for a submission: queue (NULL for a relay task) among
 * its queues, copies and priority within its maxima, fewer open tasks and
 * jobs than max_queued.  0, or the status (403, 429; 500 on a store
 * error) with the field and a message naming the limit. */
int auth_limits(struct store *st, const struct auth_caller *c,
                const char *queue, int copies, int priority, char *field,
                size_t flen, char *msg, size_t mlen);
/* max_queued again where the work is inserted (store_owner_cap_tx), as
 * two submissions checked at once could both pass auth_limits: the key's
 * max_queued and its family in *family, or 0 (no cap). */
long long auth_max_open(const struct auth_caller *c, const char **family);
/* The refusal of a key at its max_queued with open tasks and jobs: the
 * field and the message; returns 429. */
int auth_max_queued_refusal(long long open, char *field, size_t flen,
                            char *msg, size_t mlen);
/* A job aimed at printer_id (0: none) in queue: the printer must exist
 * and, unless c may handle every job (an operator), serve the queue, so a
 * key kept to some queues cannot reach another's printers.  0, or the
 * status (404: the same answer for a printer that does not exist and one
 * outside the queue, so ids do not leak; 500 on a store error) with the
 * message.  The field is "printer". */
int auth_aim(struct store *st, const struct auth_caller *c,
             const char *queue, long long printer_id, char *msg,
             size_t mlen);
/* 1 if c may see, read and cancel task t: a caller with AUTH_TASKS_ALL;
 * a keyed task's owner; for an anonymous task, an anonymous caller from
 * its address (any anonymous caller when all_clients). */
int auth_owns_task(const struct auth_caller *c, const struct task *t,
                   int all_clients);
/* The store_task_list filter for c: *client / *owner (NULL = no filter). */
void auth_task_filter(const struct auth_caller *c, int all_clients,
                      const char **client, const char **owner);
/* 1 if c may see and cancel a job of this owner (AUTH_JOBS_ALL, or its
 * own). */
int auth_owns_job(const struct auth_caller *c, const char *owner);

const char *auth_action_name(enum auth_action a);

#endif
