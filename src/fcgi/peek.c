/* peek.c - see peek.h. */
#include "fcgi/peek.h"

/* FastCGI record types (the FastCGI specification, section 8). */
#define FCGI_REC_BEGIN 1
#define FCGI_REC_PARAMS 4
#define FCGI_REC_STDIN 5

enum peek_state peek_classify(const unsigned char *buf, size_t n, size_t cap,
                              size_t *params_end)
{
    size_t pos = 0, body = 0;

    while (pos + 8 <= n) {
        size_t clen = (size_t)buf[pos + 4] << 8 | buf[pos + 5];
        size_t have = n - pos - 8;

        if (buf[pos] != 1)
            return PEEK_FLOWING;
        switch (buf[pos + 1]) {
        case FCGI_REC_BEGIN:
            break;
        case FCGI_REC_PARAMS:
            /* The first end counts: what follows is the body, for
             * libfcgi as for bodyread. */
            if (clen == 0 && !*params_end)
                *params_end = pos + 8 + buf[pos + 6];
            break;
        case FCGI_REC_STDIN:
            if (!*params_end)
                return PEEK_FLOWING;
            if (clen == 0)
                return PEEK_COMPLETE;
            /* Only what is here counts: a record may be announced
             * whole and arrive a byte at a time. */
            body += clen < have ? clen : have;
            if (body >= PEEK_READY_BYTES)
                return PEEK_FLOWING;
            break;
        default:
            return PEEK_FLOWING;
        }
        pos += 8 + clen + buf[pos + 6];
    }
    return n >= cap ? PEEK_FLOWING : PEEK_WAIT;
}
