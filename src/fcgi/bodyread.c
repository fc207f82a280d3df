/* bodyread.c - see bodyread.h. */
#include "fcgi/bodyread.h"

#include "common/util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* FastCGI record types (the FastCGI specification, section 8). */
#define FCGI_REC_STDIN 5

int bodyread_params(int fd, size_t params_end)
{
    char *copy = malloc(params_end ? params_end : 1);
    int mfd = copy ? memfd_create("rrcloud-params", MFD_CLOEXEC) : -1;
    int err;

    if (mfd < 0) {
        err = copy ? errno : ENOMEM;
        free(copy);
        errno = err;
        return -1;
    }
    /* The bytes are waiting (the caller peeked them): one read takes
     * them all. */
    errno = 0;
    if (recv(fd, copy, params_end, MSG_WAITALL) != (ssize_t)params_end) {
        err = errno ? errno : EPROTO;
        goto lost;
    }
    if (rr_write_all(mfd, copy, params_end) < 0 ||
        lseek(mfd, 0, SEEK_SET) != 0) {
        err = errno;
        goto lost;
    }
    free(copy);
    return mfd;
lost:
    free(copy);
    close(mfd);
    errno = err;
    return -2;
}

void bodyread_init(struct bodyread *b, int fd, int request_id)
{
    memset(b, 0, sizeof(*b));
    b->fd = fd;
    b->request_id = request_id;
}

/* The next record's header is whole: what follows it. */
static void take_header(struct bodyread *b)
{
    const unsigned char *h = b->hdr;
    int id = h[2] << 8 | h[3];
    size_t clen = (size_t)h[4] << 8 | h[5];

    b->hlen = 0;
    b->pad = h[6];
    if (h[0] != 1) {
        b->failed = EPROTO;
    } else if (id != b->request_id) {
        /* Another request's, or a management record (the web servers
         * send none while a body comes): dropped. */
        b->skip = clen;
    } else if (h[1] != FCGI_REC_STDIN) {
        b->failed = EPROTO;    /* FCGI_ABORT_REQUEST (2) among them */
    } else if (clen == 0) {
        b->eof = 1;            /* its padding is never read */
    } else {
        b->content = clen;
    }
}

/* Hands the n bytes one read brought to the parts it was given: content
 * (or dropped content), padding, header.  Returns the content bytes. */
static size_t take(struct bodyread *b, size_t n, size_t want)
{
    size_t k = n < want ? n : want, got = 0;

    if (b->content) {
        b->content -= k;
        got = k;
    } else {
        b->skip -= k;
    }
    n -= k;
    k = n < b->pad ? n : b->pad;
    b->pad -= (unsigned)k;
    n -= k;
    b->hlen += (unsigned)n;
    if (b->hlen == sizeof(b->hdr))
        take_header(b);
    return got;
}

long bodyread_read(struct bodyread *b, char *dst, size_t len)
{
    unsigned char sink[4096], pad[256];
    size_t got = 0;

    while (!b->eof && !b->failed && got < len) {
        struct iovec iov[3];
        struct msghdr m = { .msg_iov = iov };
        size_t want = 0;
        ssize_t n;

        if (b->content) {
            want = b->content < len - got ? b->content : len - got;
            iov[m.msg_iovlen++] = (struct iovec){ dst + got, want };
        } else if (b->skip) {
            want = b->skip < sizeof(sink) ? b->skip : sizeof(sink);
            iov[m.msg_iovlen++] = (struct iovec){ sink, want };
        }
        /* With the rest of the record, its padding and the next header:
         * never past that, so nothing after the body is taken. */
        if (want == b->content + b->skip) {
            if (b->pad)
                iov[m.msg_iovlen++] = (struct iovec){ pad, b->pad };
            iov[m.msg_iovlen++] = (struct iovec){ b->hdr + b->hlen,
                                                  sizeof(b->hdr) - b->hlen };
        }
        n = recvmsg(b->fd, &m, got ? MSG_DONTWAIT : 0);
        if (n > 0) {
            got += take(b, (size_t)n, want);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && got)
            break;
        if (n < 0 && errno == EINTR) {
            if (got)
                break;
            return -1;
        }
        b->failed = n == 0 ? ECONNRESET : errno;
    }
    if (got || !b->failed)
        return (long)got;
    errno = b->failed;
    return -1;
}
