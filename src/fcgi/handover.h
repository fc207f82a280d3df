/*
 * handover.h - a connection the gate accepted becomes libfcgi's request.
 *
 * rrcloud-fcgi accepts connections itself (the gate, gate.h, decides who
 * reads them) and hands each to libfcgi through FCGX_Request.ipcFd.  A
 * body thread's request goes further: libfcgi is given only its
 * parameters, and bodyread (bodyread.h) reads the body.
 */
#ifndef RR_HANDOVER_H
#define RR_HANDOVER_H

#include <fcgiapp.h>

struct bodyread;

/* Readies f (allocated by the caller) for the request libfcgi reads from
 * rfd: the connection, or a copy of its parameters.  listener is what
 * libfcgi accepts on after a malformed request: one that never yields a
 * connection (gate.c's socketpair end).  Returns 0, or -1 with rfd
 * closed. */
int handover_request(FCGX_Request *f, int listener, int rfd);

/* As handover_request for the connection fd, with its body left to b:
 * libfcgi reads the parameters from a copy of them, bodyread the body
 * from fd.  That needs the parameters whole in what has come (they are,
 * unless they pass PEEK_CAP) and a descriptor for the copy; else libfcgi
 * reads it all.  Returns 1 with b ready, 0 (libfcgi reads the body), -1
 * (fd closed), -2 (fd closed: not one request, PEEK_BAD). */
int handover_body(FCGX_Request *f, int listener, int fd, struct bodyread *b);

#endif
