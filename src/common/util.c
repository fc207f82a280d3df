/* util.c - see util.h. */
#include "common/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int fill_random(void *buf, size_t len)
{
    unsigned char *p = buf;

    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Fills out[0..n-1] with uniform decimal digits: bytes of 250 and above
 * are dropped so that every digit is equally likely. */
static int random_digits(char *out, size_t n)
{
    unsigned char raw[32];
    size_t have = 0;

    while (have < n) {
        if (fill_random(raw, sizeof(raw)) < 0)
            return -1;
        for (size_t i = 0; i < sizeof(raw) && have < n; i++)
            if (raw[i] < 250)
                out[have++] = (char)('0' + raw[i] % 10);
    }
    return 0;
}

int rr_id_new(char out[RR_ID_LEN])
{
    char rnd[RR_ID_RAND_DIGITS + 1];
    struct timespec ts;

    out[0] = '\0';
    if (random_digits(rnd, RR_ID_RAND_DIGITS) < 0)
        return -1;
    rnd[RR_ID_RAND_DIGITS] = '\0';
    clock_gettime(CLOCK_REALTIME, &ts);
    snprintf(out, RR_ID_LEN, "%010llu-%05u-%s",
             (unsigned long long)(ts.tv_sec % 10000000000LL),
             (unsigned)(ts.tv_nsec / 10000) % 100000u, rnd);
    return 0;
}

static int id_has_shape(const char *s, const char *shape)
{
    size_t i;

    for (i = 0; shape[i] != '\0'; i++) {
        if (shape[i] == 'd' ? (s[i] < '0' || s[i] > '9') : s[i] != '-')
            return 0;
    }
    return s[i] == '\0';
}

int rr_id_valid(const char *s)
{
    /* 10 digits '-' 5 digits '-' 20 (now) or 6 (before) random digits */
    return id_has_shape(s, "dddddddddd-ddddd-dddddddddddddddddddd") ||
           id_has_shape(s, "dddddddddd-ddddd-dddddd");
}

int rr_id_shaped(const char *s)
{
    int groups = 1, digits = 0;

    for (; *s; s++) {
        if (*s >= '0' && *s <= '9') {
            if (++digits > 20)
                return 0;
        } else if (*s == '-' && digits > 0 && groups < 3) {
            groups++;
            digits = 0;
        } else {
            return 0;
        }
    }
    return groups >= 2 && digits > 0;
}

void rr_hex(const unsigned char *d, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[d[i] >> 4];
        out[2 * i + 1] = digits[d[i] & 15];
    }
    out[2 * n] = '\0';
}

int rr_random_hex(char *out, size_t outlen, size_t nbytes)
{
    unsigned char raw[64];

    if (nbytes > sizeof(raw) || outlen < 2 * nbytes + 1)
        return -1;
    if (fill_random(raw, nbytes) < 0)
        return -1;
    rr_hex(raw, nbytes, out);
    return 0;
}

double rr_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

long long rr_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int rr_fmt(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

char *rr_lltoa(char *out, long long v)
{
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v
                                  : (unsigned long long)v;
    char rev[24];
    size_t n = 0, i = 0;

    do {
        rev[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        out[i++] = '-';
    while (n)
        out[i++] = rev[--n];
    out[i] = '\0';
    return out;
}

int rr_mkdirs(const char *path, mode_t mode)
{
    char tmp[4096];
    size_t len = strlen(path);

    if (len == 0 || len >= sizeof(tmp)) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(tmp, path, len + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, mode) < 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(tmp, mode) < 0 && errno != EEXIST)
        return -1;
    return 0;
}

int rr_rmtree(const char *path)
{
    DIR *d = opendir(path);
    struct dirent *e;
    int rc = 0;

    if (!d)
        return errno == ENOENT ? 0 : (errno == ENOTDIR ? unlink(path) : -1);
    while ((e = readdir(d)) != NULL) {
        char sub[4096];
        struct stat st;

        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (rr_fmt(sub, sizeof(sub), "%s/%s", path, e->d_name) < 0 ||
            lstat(sub, &st) < 0) {
            rc = -1;
            continue;
        }
        if (S_ISDIR(st.st_mode) ? rr_rmtree(sub) : unlink(sub))
            rc = -1;
    }
    closedir(d);
    if (rmdir(path) < 0 && errno != ENOENT)
        rc = -1;
    return rc;
}

int rr_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int rr_write_file_atomic(const char *path, const void *data, size_t len)
{
    char tmp[4096];
    int fd, saved;

    if (rr_fmt(tmp, sizeof(tmp), "%s.tmp", path) < 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return -1;
    if (rr_write_all(fd, data, len) < 0 || fsync(fd) < 0)
        goto fail;
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    if (rename(tmp, path) < 0) {
        fd = -1;
        goto fail;
    }
    return 0;
fail:
    saved = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    errno = saved;
    return -1;
}

char *rr_read_file(const char *path, size_t max, size_t *len_out)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    int saved;

    if (fd < 0)
        return NULL;
    if (fstat(fd, &st) < 0)
        goto fail;
    if (!S_ISREG(st.st_mode)) {
        errno = EINVAL;
        goto fail;
    }
    if ((unsigned long long)st.st_size > max) {
        errno = EFBIG;
        goto fail;
    }
    buf = malloc((size_t)st.st_size + 1);
    if (!buf)
        goto fail;
    while (len < (size_t)st.st_size) {
        ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto fail;
        if (n == 0)
            break;
        len += (size_t)n;
    }
    buf[len] = '\0';
    close(fd);
    if (len_out)
        *len_out = len;
    return buf;
fail:
    saved = errno;
    free(buf);
    close(fd);
    errno = saved;
    return NULL;
}

int rr_set_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);

    return fl < 0 ? -1 : fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

int rr_set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

int rr_prefix_ci(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}
