/*
 * notify.h - the notifier: a thread that delivers the webhook calls queued
 * in the store (store_notify_add) when tasks end.
 *
 * The thread has its own store connection and its own libcurl multi
 * handle; it sleeps in curl_multi_poll() and is woken by notify_kick().
 * A delivery is an HTTP(S) GET (or a POST of application/json when the row
 * has a body) with the headers
 *   User-Agent: rrcloud/VERSION
 *   X-Rrcloud-Task: ID
 *   X-Rrcloud-Timestamp: UNIX-SECONDS (these two only when
 *   X-Rrcloud-Signature: sha256=HEX    notifier_secret is set)
 * for every kind of call: a task's end and a print job's JSON.
 * A 2xx answer is delivered; anything else is retried notifier_backoff *
 * 2^(attempt-1) seconds later (at most an hour), and given up after
 * 1 + notifier_retries attempts.  Redirects are not followed.  Pending
 * deliveries live in the store, so they survive restarts; one cut off by
 * notify_stop() is attempted again by the next run.
 */
#ifndef RR_NOTIFY_H
#define RR_NOTIFY_H

#include <stddef.h>

#include "common/conf.h"

#define NOTIFY_SIG_LEN 72 /* "sha256=" + 64 hex + NUL */

struct notify;

/* Opens a store connection to conf->database and starts the thread
 * (with every signal blocked).  conf is copied.  Call curl_global_init()
 * in main before.  Returns NULL with err set. */
struct notify *notify_start(const struct rr_conf *conf, char *err,
                            size_t errlen);
/* Makes the thread look at the store now (new delivery queued).
 * Thread-safe, never blocks; NULL is a no-op. */
void notify_kick(struct notify *n);
/* Waits until nothing is due now and nothing is in flight, at most max_ms.
 * Returns 0 when idle, -1 on timeout. */
int notify_wait_idle(struct notify *n, long long max_ms);
/* Stops the thread (transfers in flight are abandoned and stay pending),
 * joins it and frees everything.  NULL is a no-op. */
void notify_stop(struct notify *n);

/* Writes "sha256=" and the hex HMAC-SHA256, keyed with secret, of
 * "TS\nID\nURL" (plus "\nBODY" when body is not NULL) into out, TS
 * being the X-Rrcloud-Timestamp sent.  Receivers recompute it to know the
 * call came from this server, and compare TS with their clock to refuse
 * a replayed call.  0 or -1. */
int notify_signature(const char *secret, long long ts, const char *task_id,
                     const char *url, const char *body,
                     char out[NOTIFY_SIG_LEN]);

#endif
