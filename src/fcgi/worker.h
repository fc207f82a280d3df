/*
 * worker.h - what rrcloud-fcgi shares between its threads (struct app,
 * read-only after start) and what each thread owns (struct worker).
 */
#ifndef RR_WORKER_H
#define RR_WORKER_H

#include <pthread.h>

#include "common/conf.h"
#include "http/netcheck.h"

struct store;
struct filetype;
struct service_registry;
struct profile_registry;
struct holder;
struct gate;
struct authlimit;
struct req;
struct taskcache;

struct app {
    struct rr_conf conf;
    struct service_registry *services;  /* owned */
    struct profile_registry *profiles;  /* owned; none when empty */
    struct holder *holder;              /* owned */
    struct gate *gate;                  /* owned */
    double start_time;
    char hostname[256];
    char *index_html;                   /* www/index.html, owned; may be NULL */
    size_t index_len;
    /* One libmagic handle for all workers: each handle maps the whole
     * magic database (about 9 MB of RSS), and a type check is a small part
     * of a submission, so sharing it behind a lock costs nothing. */
    struct filetype *ft;                /* owned; use under ft_lock */
    pthread_mutex_t ft_lock;
    struct authlimit *authlimit;        /* owned; NULL = no limit */
    struct netcheck_allow anon_nets;    /* conf.anonymous_networks */
};

struct worker {
    struct app *app;          /* borrowed */
    struct store *st;         /* owned: this thread's connection */
    struct taskcache *tasks;  /* owned: ended tasks read lately, or NULL */
};

/* The return value of a handler that passed the request to the holder:
 * the worker must not finish it. */
#define REQ_HELD 1

/* Dispatches one request; returns REQ_HELD or 0. */
int route_request(struct req *r);

#endif
