/*
 * gate.h - keeps slow request bodies away from rrcloud-fcgi's threads.
 *
 * The web servers stream bodies (nginx fastcgi_request_buffering off,
 * lighttpd stream-request-body 2), so a client that sends one byte every
 * few seconds held a libfcgi thread for as long as it liked: a few dozen
 * such clients took every worker, and every read (info, meta, healthz)
 * waited behind them.
 *
 * A worker that accepts a connection first looks at what the web server
 * has sent without reading it (MSG_PEEK of the FastCGI records):
 *   - the whole request is there (every bodiless GET, small uploads):
 *     the worker answers it, and no read of it can block;
 *   - the body is flowing (PEEK_READY_BYTES of it are waiting): a body
 *     thread (body_threads of them, started when needed) reads it, with
 *     bodyread (bodyread.h) rather than libfcgi's 8 KiB reads;
 *   - the body is trickling: the gate thread keeps the connection in an
 *     epoll set, costing a file descriptor and no thread, until it is
 *     complete or flowing.
 * A request must be whole within body_timeout of its acceptance.  One still
 * waiting at the gate is answered 408 without a handler seeing it; for one
 * being read by a body thread, the gate thread marks it cut and interrupts
 * the blocked read with a signal, so that the read fails and the handler
 * cleans up (req_read answers the 408).  While flowing uploads wait for a body thread,
 * bodies that stalled (a burst, then a trickle) are cut the same way, and a
 * freed thread takes the waiting upload with the most bytes already sent.
 * What is not one request (peek.h: PEEK_BAD) is closed unanswered.
 */
#ifndef RR_GATE_H
#define RR_GATE_H

#include <fcgiapp.h>
#include <stddef.h>

struct app;
struct gate;

/* Starts the gate thread.  Returns NULL with err set. */
struct gate *gate_start(struct app *app, char *err, size_t errlen);
/* Stops the gate and body threads (after the workers have stopped) and
 * closes every connection still waiting. */
void gate_stop(struct gate *g);

/* Takes a connection fd just accepted at time t0 (rr_now()).  Returns 1 if
 * its request is complete: the caller answers it (gate_request).  Returns
 * 0 if the gate or a body thread owns it now, or it was closed. */
int gate_take(struct gate *g, int fd, double t0);

/* Prepares f (allocated by the caller) for the connection fd: libfcgi
 * reads the request from fd and never accepts another connection on its
 * behalf.  Returns 0, or -1 (fd closed) if the request is unreadable. */
int gate_request(struct gate *g, FCGX_Request *f, int fd);

#endif
