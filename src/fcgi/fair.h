/*
 * fair.h - fair share and floors as rrcloud-fcgi applies them: what a
 * client is, its limits (client_max_queued, client_max_held; the runner
 * applies client_max_running), and the spool's floors (spool_quota,
 * min_free_space) for every upload.
 *
 * A client is a key's user (an app key's end users count as its user) or,
 * without a key, an address: "ip:ADDRESS".  The limits are checked before
 * the body is read, so a refused client does not spend the upload (for a
 * relay submission, a body over 64K or of unknown length: a small POST
 * may be service=info), and again where they are decided: the queued
 * counts and the quota by the insert (store_task_insert_capped), held
 * requests in the holder, free space while the body streams.  The spool's size is a running total the store
 * keeps (schema 8's triggers: task inputs and outputs, blobs), so a check
 * reads one row instead of walking the tree; logs and uploads in flight
 * are not in it.
 */
#ifndef RR_FAIR_H
#define RR_FAIR_H

#include <stddef.h>

#include "fcgi/request.h"
#include "store/store_fair.h"

/* A refusal: the field (the conf key that refused) and a message naming
 * the limit and its value. */
struct fair_err {
    char field[32];
    char msg[320];
};

/* r's client key into buf (len >= 128). */
void fair_client_key(const struct req *r, char *buf, size_t len);

/* Before the body: does the client have client_max_queued tasks queued?
 * 0, 429, or 500 (store error). */
int fair_admit(struct req *r, const char *key, struct fair_err *e);
/* A synchronous submission when the client holds client_max_held already:
 * 429, else 0. */
int fair_hold_check(struct req *r, const char *key, struct fair_err *e);

/* The limits store_task_insert_capped checks for r's task; the refusal
 * it returned, as a status (429 or 507) and e. */
void fair_caps(const struct req *r, struct store_task_caps *caps);
int fair_cap_refusal(const struct req *r, const struct task *t,
                     enum store_cap which, long long found,
                     struct fair_err *e);

/* An upload against the spool's floors. */
struct fair_spool {
    const char *spool;
    const char *wake;               /* rrcloudd's wake socket */
    unsigned long long quota, floor;
    long long held;                 /* spool bytes when it began */
    long long total;                /* the body's Content-Length, or -1 */
    unsigned long long next_look;   /* bytes at which statvfs looks again */
};
/* Reads the floors and what the spool holds now.  0 or 500. */
int fair_spool_init(struct fair_spool *g, struct req *r, struct fair_err *e);
/* Would more bytes (Content-Length) still fit under spool_quota and leave
 * min_free_space free?  0 or 507 (500 if statvfs fails). */
int fair_spool_fits(struct fair_spool *g, unsigned long long more,
                    struct fair_err *e);
/* While a body streams, received bytes so far: 0 or 507.  Free space is
 * looked at once per MiB, or now with force. */
int fair_spool_check(struct fair_spool *g, unsigned long long received,
                     int force, struct fair_err *e);

#endif
