/*
 * service_log.c - failLog: judging a command by what it logged (see
 * service.h).  Some programs exit 0 whatever happened (printcore when it
 * cannot open the port); their log says what their status does not.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "services/service.h"
#include "services/service_int.h"

#define SVC_LOG_CHUNK 65536

/* One line being gathered, and the patterns it is held against. */
struct svc_log_scan {
    char **pats;
    char line[SERVICE_LOG_LINE_MAX + 1];
    size_t len;
};

/* Does the gathered line match?  Resets it either way. */
static int svc_log_line_ends(struct svc_log_scan *sc)
{
    int hit = 0;

    sc->line[sc->len] = '\0';
    for (char **p = sc->pats; sc->len > 0 && *p != NULL && !hit; p++)
        hit = fnmatch(*p, sc->line, 0) == 0;
    if (!hit)
        sc->len = 0;
    return hit;
}

/* Feeds buf[0..n); 1 as soon as a line matched (it stays in sc->line). */
static int svc_log_feed(struct svc_log_scan *sc, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (buf[i] == '\n' || buf[i] == '\r') {
            if (svc_log_line_ends(sc))
                return 1;
        } else if (sc->len < SERVICE_LOG_LINE_MAX) {
            sc->line[sc->len++] = buf[i];
        }
    }
    return 0;
}

static int svc_log_scan_fd(struct svc_log_scan *sc, int fd)
{
    char *buf = malloc(SVC_LOG_CHUNK);
    ssize_t n;
    int rc = -1;

    if (buf == NULL)
        return -1;
    for (;;) {
        n = read(fd, buf, SVC_LOG_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto out;
        if (n == 0)
            break;
        if (svc_log_feed(sc, buf, (size_t)n)) {
            rc = 1;
            goto out;
        }
    }
    rc = svc_log_line_ends(sc);     /* a last line without its newline */
out:
    free(buf);
    return rc;
}

int service_log_match(const char *fail_log, const char *path,
                      char *line, size_t len)
{
    struct svc_log_scan *sc;
    int fd, rc = -1;

    if (len > 0)
        line[0] = '\0';
    if (fail_log == NULL || fail_log[0] == '\0')
        return 0;
    if ((sc = calloc(1, sizeof(*sc))) == NULL)
        return -1;
    if (svc_split(fail_log, ",", &sc->pats) <= 0)
        goto out;
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        goto out;
    rc = svc_log_scan_fd(sc, fd);
    close(fd);
    for (size_t i = 0; rc == 1 && len > 0 && i < sc->len && i < len - 1; i++) {
        unsigned char c = (unsigned char)sc->line[i];

        line[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
        line[i + 1] = '\0';
    }
out:
    svc_vec_free(sc->pats);
    free(sc);
    return rc;
}

#define SVC_LOG_TAIL 4096

int service_log_last(const char *path, char *line, size_t len)
{
    char buf[SVC_LOG_TAIL + 1];
    off_t end;
    ssize_t n;
    size_t e, b, k = 0;
    int fd;

    if (len > 0)
        line[0] = '\0';
    if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return -1;
    end = lseek(fd, 0, SEEK_END);
    if (end < 0 || lseek(fd, end > SVC_LOG_TAIL ? end - SVC_LOG_TAIL : 0,
                         SEEK_SET) < 0) {
        close(fd);
        return -1;
    }
    do {
        n = read(fd, buf, SVC_LOG_TAIL);
    } while (n < 0 && errno == EINTR);
    close(fd);
    if (n < 0)
        return -1;
    /* The last line with something in it (LF or CR end a line). */
    for (e = (size_t)n; e > 0 && (buf[e - 1] == '\n' || buf[e - 1] == '\r' ||
                                  buf[e - 1] == ' ' || buf[e - 1] == '\t');)
        e--;
    for (b = e; b > 0 && buf[b - 1] != '\n' && buf[b - 1] != '\r'; b--)
        ;
    while (b < e && (buf[b] == ' ' || buf[b] == '\t'))
        b++;
    for (; b < e && len > 0 && k < len - 1; b++, k++) {
        unsigned char c = (unsigned char)buf[b];

        line[k] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    if (len > 0)
        line[k] = '\0';
    return k > 0;
}
