/* peek.c - see peek.h. */
#include "fcgi/peek.h"

/* FastCGI record types (the FastCGI specification, section 8). */
#define FCGI_REC_BEGIN 1
#define FCGI_REC_PARAMS 4
#define FCGI_REC_STDIN 5

/* A request as a web server that does not multiplex sends it: BEGIN,
 * PARAMS to their empty end, STDIN to its empty end, all of one request
 * id.  Anything else is PEEK_BAD: the gate would otherwise trust a
 * parameters' end or a body's end that libfcgi does not see, and block
 * in libfcgi waiting for the rest. */
static enum peek_state classify(const unsigned char *buf, size_t n,
                                size_t cap, size_t *params_end)
{
    size_t pos = 0, body = 0;
    unsigned id = 0;

    while (pos + 8 <= n) {
        size_t clen = (size_t)buf[pos + 4] << 8 | buf[pos + 5];
        size_t have = n - pos - 8;
        unsigned rid = (unsigned)buf[pos + 2] << 8 | buf[pos + 3];

        if (buf[pos] != 1)
            return PEEK_BAD;
        if (pos == 0) {
            /* Management records (request id 0: FCGI_GET_VALUES) too:
             * libfcgi 2.4 reads one and then waits for a request, with
             * no answer. */
            if (buf[1] != FCGI_REC_BEGIN || rid == 0 || clen != 8)
                return PEEK_BAD;
            id = rid;
        } else if (rid != id) {
            return PEEK_BAD;
        } else if (!*params_end) {
            if (buf[pos + 1] != FCGI_REC_PARAMS)
                return PEEK_BAD;
            if (clen == 0)
                *params_end = pos + 8 + buf[pos + 6];
        } else {
            if (buf[pos + 1] != FCGI_REC_STDIN)
                return PEEK_BAD;
            if (clen == 0)
                return PEEK_COMPLETE;
            /* Only what is here counts: a record may be announced
             * whole and arrive a byte at a time. */
            body += clen < have ? clen : have;
            if (body >= PEEK_READY_BYTES)
                return PEEK_FLOWING;
        }
        pos += 8 + clen + buf[pos + 6];
    }
    return n >= cap ? PEEK_FLOWING : PEEK_WAIT;
}

enum peek_state peek_classify(const unsigned char *buf, size_t n, size_t cap,
                              size_t *params_end)
{
    size_t end = 0;
    enum peek_state st = classify(buf, n, cap, &end);

    /* The caller's may be set from an earlier peek of the same bytes. */
    if (end)
        *params_end = end;
    return st;
}
