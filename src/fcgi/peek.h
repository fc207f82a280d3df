/*
 * peek.h - what a FastCGI connection has sent so far, judged from a copy
 * of the bytes waiting in its socket (recv with MSG_PEEK), before anyone
 * reads them.  The gate (gate.h) decides with it who reads the request.
 */
#ifndef RR_PEEK_H
#define RR_PEEK_H

#include <stddef.h>

/* Body bytes waiting in the socket that make a body "flowing". */
#define PEEK_READY_BYTES (32 * 1024)
/* A peek's size: room for the parameters (nginx sends 1-2 KiB) and
 * PEEK_READY_BYTES. */
#define PEEK_CAP (PEEK_READY_BYTES + 32 * 1024)

enum peek_state {
    PEEK_WAIT,      /* parameters or body still coming, slowly */
    PEEK_COMPLETE,  /* the end of the body (an empty STDIN record) is there */
    PEEK_FLOWING,   /* PEEK_READY_BYTES of body are there, or a full
                     * buffer (parameters of 32 KiB or more); without the
                     * parameters' end in sight libfcgi reads them, under
                     * the body deadline */
    PEEK_CLOSED,    /* the web server closed the connection */
    PEEK_BAD,       /* not one responder request: a first record other
                     * than BEGIN_REQUEST (a management record such as
                     * FCGI_GET_VALUES too), a record of another request
                     * id or of a type out of place.
                     * There is nothing to answer (libfcgi would wait for
                     * a request that never comes), so it is closed. */
};

/* Judges the n bytes in buf, a peek of at most cap bytes.  Once the
 * empty PARAMS record (the end of the parameters) is among them, sets
 * *params_end to the offset just past it (its padding included; it may
 * be past n while that padding is still coming); 0 until then. */
enum peek_state peek_classify(const unsigned char *buf, size_t n, size_t cap,
                              size_t *params_end);

#endif
