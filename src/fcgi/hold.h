/*
 * hold.h - synchronous submissions waiting for their task to end.
 *
 * RepRapCloud's CGI answered a POST only when the task had ended, and its
 * *.cloud clients rely on that.  Parking each such request on a worker
 * thread would let a few hundred slow slices starve every other request, so
 * a worker hands the request to the holder and goes back to accepting.  One
 * holder thread asks the store every HOLD_TICK_MS which tasks ended and
 * answers their requests; a held request costs memory, not a thread.
 */
#ifndef RR_HOLD_H
#define RR_HOLD_H

#include <fcgiapp.h>

#include "fcgi/request.h"

#define HOLD_TICK_MS 25

struct app;
struct holder;

/* Creates the holder with its own store connection and starts its thread.
 * Returns NULL with err set. */
struct holder *holder_start(struct app *app, char *err, size_t errlen);
/* Answers every held request with the task's current state, stops the
 * thread and frees everything. */
void holder_stop(struct holder *h);

/* Takes ownership of f (malloc'd, accepted, not finished) until task id
 * ends or deadline (epoch seconds) passes; format and api say how to
 * answer.  Returns 0, or -1 when max_held requests are already waiting,
 * or client_max_held of client's (a task's client_key) (f stays the
 * caller's). */
int holder_add(struct holder *h, FCGX_Request *f, const char *id,
               const char *client, enum req_format format, int api,
               double deadline);
/* Number of requests waiting now: all, and those of one client. */
int holder_count(struct holder *h);
int holder_client_count(struct holder *h, const char *client);

#endif
