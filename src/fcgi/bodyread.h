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
 * and no copy.  A body thread's connection comes to it once libfcgi has
 * read the parameters, from a copy (bodyread_params), and nothing past
 * them (handover.h).
 */
#ifndef RR_BODYREAD_H
#define RR_BODYREAD_H

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

/* Moves the first params_end bytes waiting in the connection fd (a
 * request's records up to its empty PARAMS one, seen with MSG_PEEK) into
 * a new memfd, positioned at its start: libfcgi reads the parameters from
 * there, and so takes nothing past them.  Returns the memfd; -1 with
 * errno when nothing was taken (no memory or descriptor for the copy: fd
 * is as it was); -2 with errno when the bytes were taken but could not be
 * copied (the request is lost: close fd). */
int bodyread_params(int fd, size_t params_end);

/* Starts reading the body of request_id from fd, a blocking socket
 * positioned just past the request's parameters. */
void bodyread_init(struct bodyread *b, int fd, int request_id);

/* Reads up to len (> 0) body bytes into dst: it blocks until some are
 * there, then takes what more is waiting without blocking.  Returns the
 * bytes read, 0 at the end of the body, or -1 with errno set: EINTR when
 * a signal interrupted it before any byte came (call again), EPROTO for
 * a malformed stream or a body the web server aborted, ECONNRESET when
 * the connection ended before the body did.  After an error other than
 * EINTR, every call fails.  Nothing past the empty STDIN record that
 * ends the body is read (not even its padding). */
long bodyread_read(struct bodyread *b, char *dst, size_t len);

#endif
