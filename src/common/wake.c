/* wake.c - see wake.h. */
#include "common/wake.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static int wake_addr(const char *path, struct sockaddr_un *sa)
{
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof(sa->sun_path)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    memcpy(sa->sun_path, path, len + 1);
    return 0;
}

int wake_listen(const char *path)
{
    struct sockaddr_un sa;
    int fd, saved;

    if (wake_addr(path, &sa) < 0)
        return -1;
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    unlink(path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        chmod(path, 0660) < 0) {
        saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int wake_send(const char *path, enum wake_what what)
{
    /* One socket per thread, opened on first use, so the hot path is one
     * sendto(2). */
    static __thread int fd = -1;
    struct sockaddr_un sa;
    unsigned char b = (unsigned char)what;

    if (wake_addr(path, &sa) < 0)
        return -1;
    if (fd < 0) {
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -1;
    }
    if (sendto(fd, &b, 1, MSG_DONTWAIT, (struct sockaddr *)&sa,
               sizeof(sa)) < 0)
        return -1;
    return 0;
}

int wake_drain(int fd)
{
    unsigned char buf[64];
    int bits = 0;

    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (ssize_t i = 0; i < n; i++)
            bits |= buf[i];
    }
    return bits;
}
