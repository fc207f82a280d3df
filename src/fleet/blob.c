/* blob.c - see blob.h. */
#include "fleet/blob.h"

#include "common/log.h"
#include "common/util.h"
#include "fleet/gcode_meta.h"
#include "spool/spool.h"
#include "store/store_fleet.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int fleet_blob_path(const char *spool, const char *sha256, char *buf,
                    size_t len)
{
    if (!fleet_sha256_valid(sha256))
        return -1;
    return rr_fmt(buf, len, "%s/blobs/%.2s/%s", spool, sha256, sha256 + 2);
}

int fleet_blob_open(struct fleet_blob_writer *w, const char *spool,
                    long long max)
{
    memset(w, 0, sizeof(*w));
    w->fd = -1;
    w->max = max;
    w->md = EVP_MD_CTX_new();
    if (!w->md || EVP_DigestInit_ex(w->md, EVP_sha256(), NULL) != 1) {
        fleet_blob_abort(w);
        errno = ENOMEM;
        return -1;
    }
    w->fd = spool_tmp_open(spool, w->tmp, sizeof(w->tmp));
    if (w->fd < 0) {
        int e = errno;
        w->tmp[0] = '\0';
        fleet_blob_abort(w);
        errno = e;
        return -1;
    }
    return 0;
}

int fleet_blob_write(struct fleet_blob_writer *w, const void *data,
                     size_t len)
{
    if (w->fd < 0) {
        errno = EBADF;
        return -1;
    }
    if (w->max > 0 && w->size + (long long)len > w->max) {
        errno = EFBIG;
        return -1;
    }
    if (EVP_DigestUpdate(w->md, data, len) != 1) {
        errno = EIO;
        return -1;
    }
    if (rr_write_all(w->fd, data, len) < 0)
        return -1;
    w->size += (long long)len;
    return 0;
}

/* Renames from into the blob path of sha256 (mkdir ab/ first); when the
 * blob is there already, from is dropped instead. */
static int blob_place(const char *spool, const char *from, const char *sha256)
{
    char path[4200], dir[4200];
    struct stat sb;

    if (fleet_blob_path(spool, sha256, path, sizeof(path)) < 0 ||
        rr_fmt(dir, sizeof(dir), "%s/blobs/%.2s", spool, sha256) < 0) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (stat(path, &sb) == 0 && S_ISREG(sb.st_mode)) {
        /* Same content by hash: keep the old file (it may be uploading). */
        unlink(from);
        return 0;
    }
    if (rr_mkdirs(dir, 0750) < 0)
        return -1;
    return rename(from, path);
}

int fleet_blob_commit(struct fleet_blob_writer *w, const char *spool,
                      char *sha256, long long *size)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    int rc = -1, e = 0;

    if (w->fd < 0) {
        errno = EBADF;
        goto out;
    }
    if (fsync(w->fd) < 0 || close(w->fd) < 0) {
        e = errno;
        w->fd = -1;
        goto out;
    }
    w->fd = -1;
    if (EVP_DigestFinal_ex(w->md, md, &mdlen) != 1 || mdlen != 32) {
        e = EIO;
        goto out;
    }
    rr_hex(md, mdlen, sha256);
    if (blob_place(spool, w->tmp, sha256) < 0) {
        e = errno;
        goto out;
    }
    w->tmp[0] = '\0';   /* moved or dropped: nothing left to clean */
    *size = w->size;
    rc = 0;
out:
    fleet_blob_abort(w);
    if (rc < 0 && e)
        errno = e;
    return rc;
}

void fleet_blob_abort(struct fleet_blob_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    if (w->tmp[0])
        unlink(w->tmp);
    w->tmp[0] = '\0';
    if (w->md)
        EVP_MD_CTX_free(w->md);
    w->md = NULL;
}

int fleet_blob_import(const char *spool, const char *path, char *sha256,
                      long long *size)
{
    unsigned char md[EVP_MAX_MD_SIZE], buf[65536];
    unsigned mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    struct stat sb;
    long long total = 0;
    int fd = -1, rc = -1, e = EIO;
    ssize_t n;

    if (!ctx || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
        goto out;
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        e = errno;
        goto out;
    }
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        e = EINVAL;
        goto out;
    }
    while ((n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            e = errno;
            goto out;
        }
        if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1)
            goto out;
        total += n;
    }
    if (EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)
        goto out;
    rr_hex(md, mdlen, sha256);
    if (blob_place(spool, path, sha256) < 0) {
        e = errno;
        goto out;
    }
    *size = total;
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    EVP_MD_CTX_free(ctx);
    if (rc < 0)
        errno = e;
    return rc;
}

int fleet_blob_copy(const char *spool, const char *path, char *sha256,
                    long long *size)
{
    struct fleet_blob_writer w;
    struct stat sb;
    char buf[65536];
    ssize_t n = -1;
    int fd, rc = -1, e = EIO;

    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        errno = EINVAL;
        return -1;
    }
    if (fleet_blob_open(&w, spool, 0) < 0) {
        e = errno;
        goto out;
    }
    while ((n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || fleet_blob_write(&w, buf, (size_t)n) < 0) {
            e = errno;
            break;
        }
    }
    if (n == 0) {
        rc = fleet_blob_commit(&w, spool, sha256, size);
        e = errno;
    }
    fleet_blob_abort(&w);
out:
    close(fd);
    if (rc < 0)
        errno = e;
    return rc;
}

int fleet_blob_read_meta(struct store *st, const char *spool, int max)
{
    char todo[16][FLEET_SHA256_HEX], path[4096];
    int n;

    if (max > 16)
        max = 16;
    if ((n = store_blob_meta_todo(st, todo, max)) < 0)
        return -1;
    for (int i = 0; i < n; i++) {
        struct gcode_meta m;

        if (fleet_blob_path(spool, todo[i], path, sizeof(path)) < 0 ||
            gcode_meta_read(path, &m) < 0) {
            log_warn("fleet: blob %s: cannot read its G-code comments: %s",
                     todo[i], strerror(errno));
            gcode_meta_parse("", 0, NULL, 0, &m);   /* all unknown */
        }
        if (store_blob_meta_set(st, todo[i], &m) < 0)
            return -1;
    }
    return n;
}
