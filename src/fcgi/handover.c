/* handover.c - see handover.h. */
#include "fcgi/handover.h"

#include "common/log.h"
#include "fcgi/bodyread.h"
#include "fcgi/peek.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int handover_request(FCGX_Request *f, int listener, int rfd)
{
    /* libfcgi reads from ipcFd when it is set.  keepConnection keeps the
     * FCGX_Finish_r that FCGX_Accept_r starts with from closing it; the
     * BEGIN record then sets it as the web server asks.  On a malformed
     * request libfcgi closes rfd and accepts anew on the listener, where
     * accept fails (after libfcgi's own check of at most 2 s). */
    if (FCGX_InitRequest(f, listener, 0) != 0) {
        close(rfd);
        return -1;
    }
    f->ipcFd = rfd;
    f->keepConnection = 1;
    if (FCGX_Accept_r(f) < 0) {
        FCGX_Free(f, 1);
        return -1;
    }
    /* One request per connection: nobody would read a second one on a
     * kept connection (the shipped confs do not ask to keep it). */
    f->keepConnection = 0;
    return 0;
}

int handover_body(FCGX_Request *f, int listener, int fd, struct bodyread *b)
{
    unsigned char buf[PEEK_CAP];
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT);
    size_t end = 0;
    int mfd = -1;

    if (n > 0 && peek_classify(buf, (size_t)n, sizeof(buf), &end) ==
                     PEEK_BAD) {
        close(fd);      /* a record out of place came since the gate's peek */
        return -2;
    }
    if (end && end <= (size_t)n)
        mfd = bodyread_params(fd, end);
    if (mfd == -1)
        return handover_request(f, listener, fd) < 0 ? -1 : 0;
    if (mfd < 0) {
        log_err("body thread: cannot copy a request's parameters: %s",
                strerror(errno));
        close(fd);
        return -1;
    }
    if (handover_request(f, listener, mfd) < 0) {
        close(fd);
        return -1;
    }
    /* The answer goes to the connection, which FCGX_Finish_r closes. */
    f->ipcFd = fd;
    close(mfd);
    bodyread_init(b, fd, f->requestId);
    return 1;
}
