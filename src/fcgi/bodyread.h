/*
 * bodyread.h - a request body read straight from its FastCGI connection.
 *
 * libfcgi reads its socket 8 KiB at a time into a buffer of its own and
 * copies from there, a size fixed inside the library.  For an upload of a
 * gigabyte that is 130,000 reads and a second copy of every byte, and the
 * web server, whose send buffer on the socket is small (unix sockets:
 * net.core.wmem_default, about 200 KiB), sleeps until a quarter of it is
 * free again.  bodyread takes the body (the FCGI_STDIN records) from the
 * socket itself: the content of each record goes straight into the
 * caller's buffer, its padding and the next record's header come in the
 * same read, so it costs one read per record (nginx sends 32 KiB ones)
 * and no copy.  The gate hands a body thread's connection to it once
 * libfcgi has read the parameters and nothing past them (gate.c).
 */
#ifndef RR_BODYREAD_H
#define RR_BODYREAD_H

#include <fcgiapp.h>
#include <stddef.h>

struct bodyread {
    int fd;                 /* borrowed: the connection */
    int request_id;         /* the FastCGI request's (FCGX_Request) */
    size_t content;         /* left of the current STDIN record's content */
    size_t skip;            /* left of content to drop (another request's) */
    unsigned pad;           /* left of the current record's padding */
    unsigned char hdr[8];   /* the next record's header, as far as read */
    unsigned hlen;
    int eof;                /* the empty STDIN record came */
    int failed;             /* a malformed stream, or the peer went away */
};

/* Readies f for the request on the connection fd, whose parameters (the
 * records up to the empty PARAMS one) are the first params_end bytes
 * waiting in it, and b for its body.  libfcgi reads the parameters from a
 * copy of them in a memfd, so it takes nothing past them; its answer goes
 * to fd, which FCGX_Finish_r closes.  listener is what libfcgi may accept
 * on after a malformed request (gate.c's dummy, which takes nothing).
 * Returns 0, or -1 with fd closed. */
int bodyread_accept(FCGX_Request *f, int listener, int fd,
                    size_t params_end, struct bodyread *b);

/* Starts reading the body of request_id from fd, positioned just past
 * the request's parameters. */
void bodyread_init(struct bodyread *b, int fd, int request_id);

/* Reads up to len body bytes into dst: it blocks until some are there,
 * then takes what more is waiting without blocking.  Returns the bytes
 * read, 0 at the end of the body, or -1 with errno set: EINTR when a
 * signal interrupted it before any byte came (call again), EPROTO for a
 * malformed stream or a body the web server aborted, ECONNRESET when the
 * connection ended before the body did.  After an error other than
 * EINTR, every call fails. */
long bodyread_read(struct bodyread *b, char *dst, size_t len);

#endif
