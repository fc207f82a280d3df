/* fuzz_fastcgi.c - what a web server sends on rrcloud-fcgi's socket: the
 * gate's judgement (fcgi/peek.c) of every prefix of the bytes, and, when
 * they are one whole request, its body as bodyread (fcgi/bodyread.c)
 * takes it from a socket, in pieces of a size the first byte picks.  The
 * two parsers must agree: the body read is the content of the request's
 * STDIN records, then its end. */
#include "fuzz.h"

#include "fcgi/bodyread.h"
#include "fcgi/peek.h"

#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Prefixes judged one by one up to this length, then every 61st. */
#define EVERY_PREFIX 1024
/* What the socket takes in one write without a reader (unix sockets
 * hold about 200 KiB). */
#define SOCKET_MAX (64 * 1024)

static enum peek_state judge(const uint8_t *p, size_t n, size_t *end)
{
    *end = 0;
    return peek_classify(p, n, PEEK_CAP, end);
}

/* A longer prefix keeps what a shorter one decided: BAD and COMPLETE
 * stay, and so does the parameters' end once seen. */
static void prefixes(const uint8_t *p, size_t size)
{
    enum peek_state was = PEEK_WAIT;
    size_t was_end = 0;

    for (size_t n = 0; n <= size && n <= PEEK_CAP;
         n += n < EVERY_PREFIX ? 1 : 61) {
        size_t end;
        enum peek_state st = judge(p, n, &end);

        if (st != PEEK_WAIT && st != PEEK_COMPLETE && st != PEEK_FLOWING &&
            st != PEEK_BAD)
            abort();
        if (end && (end < 24 || end > n + 255))
            abort();
        if ((was == PEEK_BAD || was == PEEK_COMPLETE) && st != was)
            abort();
        if (was_end && end != was_end)
            abort();
        was = st;
        was_end = end;
    }
}

/* The body the records from off on carry, up to the empty STDIN record;
 * its length, or -1 if that record is not within size. */
static long expected_body(const uint8_t *p, size_t size, size_t off,
                          uint8_t *out)
{
    size_t len = 0;

    while (off + 8 <= size) {
        size_t clen = (size_t)p[off + 4] << 8 | p[off + 5];

        if (clen == 0)
            return (long)len;
        if (off + 8 + clen > size)
            return -1;
        memcpy(out + len, p + off + 8, clen);
        len += clen;
        off += 8 + clen + p[off + 6];
    }
    return -1;
}

static void body(const uint8_t *p, size_t size, size_t piece)
{
    size_t end;
    uint8_t *want, *got;
    long n, wlen;
    size_t glen = 0;
    int sv[2];
    struct bodyread b;

    if (judge(p, size, &end) != PEEK_COMPLETE || end > size ||
        size - end > SOCKET_MAX)
        return;
    want = malloc(size);
    got = malloc(size + piece);     /* room for a read too many */
    if (!want || !got)
        abort();
    wlen = expected_body(p, size, end, want);
    if (wlen < 0)
        abort();        /* peek saw an end that is not there */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        abort();
    if (size > end && write(sv[1], p + end, size - end) !=
                          (ssize_t)(size - end))
        abort();
    close(sv[1]);       /* a read past what was sent ends, never blocks */
    bodyread_init(&b, sv[0], p[2] << 8 | p[3]);
    while ((n = bodyread_read(&b, (char *)got + glen, piece)) > 0) {
        glen += (size_t)n;
        if (glen > (size_t)wlen)
            abort();
    }
    if (n < 0 || glen != (size_t)wlen || memcmp(got, want, glen) != 0)
        abort();
    close(sv[0]);
    free(want);
    free(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* The first byte picks the reads' size (1 to 64 KiB), the rest is
     * the stream. */
    size_t piece = data[0] < 128 ? (size_t)data[0] % 7 + 1
                                 : (size_t)(data[0] - 127) * 512;

    prefixes(data + 1, size - 1);
    body(data + 1, size - 1, piece);
    return 0;
}
