/* zipdir.c - see zipdir.h.  Layout: PKWARE APPNOTE.TXT, sections 4.3.12
 * (central directory header), 4.3.14-16 (zip64 and end records). */
#include "services/zipdir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zlib.h>

#define ZD_EOCD_LEN 22u
#define ZD_EOCD_SEARCH (65535u + ZD_EOCD_LEN)   /* longest comment + record */
#define ZD_LOC64_LEN 20u
#define ZD_EOCD64_LEN 56u
#define ZD_CDH_LEN 46u

/* Where the central directory is, from the end records. */
struct zd_dir {
    unsigned long long off, size, entries;
    unsigned long long end;     /* offset of the first end record */
};

static unsigned zd_u16(const unsigned char *p)
{
    return (unsigned)p[0] | (unsigned)p[1] << 8;
}

static unsigned long zd_u32(const unsigned char *p)
{
    return (unsigned long)zd_u16(p) | (unsigned long)zd_u16(p + 2) << 16;
}

static unsigned long long zd_u64(const unsigned char *p)
{
    return (unsigned long long)zd_u32(p) |
           (unsigned long long)zd_u32(p + 4) << 32;
}

/* Reads exactly len bytes at off; -1 on a short read or error. */
static int zd_read(int fd, unsigned long long off, unsigned char *buf,
                   size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + got));

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

/* The zip64 end record, for an end record with a saturated field. */
static int zd_find_zip64(int fd, struct zd_dir *d, char *err, size_t errlen)
{
    unsigned char loc[ZD_LOC64_LEN], rec[ZD_EOCD64_LEN];
    unsigned long long off;

    if (d->end < ZD_LOC64_LEN ||
        zd_read(fd, d->end - ZD_LOC64_LEN, loc, sizeof(loc)) < 0 ||
        memcmp(loc, "PK\006\007", 4) != 0) {
        snprintf(err, errlen, "saturated end record without a zip64 locator");
        return -1;
    }
    off = zd_u64(loc + 8);
    if (zd_u32(loc + 4) != 0 || zd_u32(loc + 16) > 1) {
        snprintf(err, errlen, "multi-disk zip");
        return -1;
    }
    if (off > d->end - ZD_LOC64_LEN ||
        d->end - ZD_LOC64_LEN - off < ZD_EOCD64_LEN ||
        zd_read(fd, off, rec, sizeof(rec)) < 0 ||
        memcmp(rec, "PK\006\006", 4) != 0) {
        snprintf(err, errlen, "zip64 locator points at no zip64 end record");
        return -1;
    }
    if (zd_u32(rec + 16) != 0 || zd_u32(rec + 20) != 0 ||
        zd_u64(rec + 24) != zd_u64(rec + 32)) {
        snprintf(err, errlen, "multi-disk zip");
        return -1;
    }
    d->entries = zd_u64(rec + 32);
    d->size = zd_u64(rec + 40);
    d->off = zd_u64(rec + 48);
    d->end = off;               /* the directory must end before this */
    return 0;
}

/* The end record: the last "PK\5\6" whose comment ends the file. */
static int zd_find_end(int fd, unsigned long long size, struct zd_dir *d,
                       char *err, size_t errlen)
{
    size_t len = size < ZD_EOCD_SEARCH ? (size_t)size : ZD_EOCD_SEARCH;
    unsigned char *tail = malloc(len), *e = NULL;
    int rc = -1;

    if (tail == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (zd_read(fd, size - len, tail, len) < 0) {
        snprintf(err, errlen, "cannot read the file");
        goto out;
    }
    for (size_t i = len - ZD_EOCD_LEN + 1; i-- > 0; ) {
        if (tail[i] == 'P' && memcmp(tail + i, "PK\005\006", 4) == 0 &&
            zd_u16(tail + i + 20) == len - i - ZD_EOCD_LEN) {
            e = tail + i;
            break;
        }
    }
    if (e == NULL) {
        snprintf(err, errlen, "no end of central directory record");
        goto out;
    }
    if (zd_u16(e + 4) != 0 || zd_u16(e + 6) != 0 ||
        zd_u16(e + 8) != zd_u16(e + 10)) {
        snprintf(err, errlen, "multi-disk zip");
        goto out;
    }
    d->end = size - len + (unsigned long long)(e - tail);
    d->entries = zd_u16(e + 10);
    d->size = zd_u32(e + 12);
    d->off = zd_u32(e + 16);
    if (d->entries == 0xffff || d->size == 0xffffffffUL ||
        d->off == 0xffffffffUL)
        rc = zd_find_zip64(fd, d, err, errlen);
    else
        rc = 0;
out:
    free(tail);
    return rc;
}

static int zd_check_dir(const struct zd_dir *d, char *err, size_t errlen)
{
    if (d->off > d->end || d->size > d->end - d->off) {
        snprintf(err, errlen, "central directory runs past its end record");
        return -1;
    }
    if (d->size > ZIPDIR_MAX_DIR || d->entries > ZIPDIR_MAX_ENTRIES) {
        snprintf(err, errlen, "central directory larger than %u bytes or "
                 "%u entries", ZIPDIR_MAX_DIR, ZIPDIR_MAX_ENTRIES);
        return -1;
    }
    if (d->entries * ZD_CDH_LEN > d->size) {
        snprintf(err, errlen, "%llu entries cannot fit in a central directory "
                 "of %llu bytes", d->entries, d->size);
        return -1;
    }
    return 0;
}

/* Walks every entry of the directory in buf; 1/0 for name found or not. */
static int zd_walk(const unsigned char *buf, const struct zd_dir *d,
                   const char *name, char *err, size_t errlen)
{
    size_t pos = 0, nlen = strlen(name);
    int found = 0;

    for (unsigned long long i = 0; i < d->entries; i++) {
        const unsigned char *h = buf + pos;
        size_t n, total;

        if (d->size - pos < ZD_CDH_LEN || memcmp(h, "PK\001\002", 4) != 0) {
            snprintf(err, errlen, "central directory entry %llu is damaged", i);
            return -1;
        }
        n = zd_u16(h + 28);
        total = ZD_CDH_LEN + n + zd_u16(h + 30) + zd_u16(h + 32);
        if (d->size - pos < total) {
            snprintf(err, errlen, "central directory entry %llu runs past "
                     "the directory", i);
            return -1;
        }
        if (zd_u32(h + 42) != 0xffffffffUL && zd_u32(h + 42) >= d->off) {
            snprintf(err, errlen, "central directory entry %llu points past "
                     "the file data", i);
            return -1;
        }
        if (n == nlen && strncasecmp((const char *)h + ZD_CDH_LEN, name, n) == 0)
            found = 1;
        pos += total;
    }
    if (pos != d->size) {
        snprintf(err, errlen, "central directory holds more than its %llu "
                 "entries", d->entries);
        return -1;
    }
    return found;
}

/* Opens path and reads its central directory into *buf (caller frees it
 * and closes *fd, also on error). */
static int zd_load(const char *path, unsigned long long size, int *fd,
                   struct zd_dir *d, unsigned char **buf,
                   char *err, size_t errlen)
{
    *buf = NULL;
    *fd = -1;
    if (size < ZD_EOCD_LEN) {
        snprintf(err, errlen, "too short for a zip");
        return -1;
    }
    if ((*fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return -1;
    }
    memset(d, 0, sizeof(*d));
    if (zd_find_end(*fd, size, d, err, errlen) < 0 ||
        zd_check_dir(d, err, errlen) < 0)
        return -1;
    if ((*buf = malloc(d->size > 0 ? (size_t)d->size : 1)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (zd_read(*fd, d->off, *buf, (size_t)d->size) < 0) {
        snprintf(err, errlen, "cannot read the central directory");
        return -1;
    }
    return 0;
}

int zipdir_has_entry(const char *path, unsigned long long size,
                     const char *name, char *err, size_t errlen)
{
    struct zd_dir d;
    unsigned char *buf;
    int fd, rc = -1;

    if (zd_load(path, size, &fd, &d, &buf, err, errlen) == 0)
        rc = zd_walk(buf, &d, name, err, errlen);
    free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}

/* ---- reading entries ------------------------------------------------- */

#define ZD_LFH_LEN 30u
#define ZD_CHUNK (16u * 1024)

/* One entry as the central directory describes it. */
struct zd_entry {
    char *name;
    unsigned flags, method;
    unsigned long crc;
    unsigned long long csize, usize, off;
};

/* The entry at h (whose bounds zd_walk checked), zip64 sizes included. */
static int zd_entry_parse(const unsigned char *h, struct zd_entry *e,
                          char *err, size_t errlen)
{
    size_t n = zd_u16(h + 28), m = zd_u16(h + 30);
    const unsigned char *x = h + ZD_CDH_LEN + n, *xend = x + m;

    e->flags = zd_u16(h + 8);
    e->method = zd_u16(h + 10);
    e->crc = zd_u32(h + 16);
    e->csize = zd_u32(h + 20);
    e->usize = zd_u32(h + 24);
    e->off = zd_u32(h + 42);
    if (memchr(h + ZD_CDH_LEN, '\0', n) || !(e->name = strndup((const char *)
                                                          h + ZD_CDH_LEN, n))) {
        snprintf(err, errlen, "an entry name holds a NUL byte (or out of memory)");
        return -1;
    }
    /* APPNOTE 4.5.3: the zip64 field holds the saturated values, in order. */
    while (xend - x >= 4) {
        unsigned id = zd_u16(x), len = zd_u16(x + 2);
        const unsigned char *v = x + 4, *vend = v + len;

        if ((size_t)(xend - v) < len)
            break;
        if (id == 1) {
            unsigned long long *f[3] = { &e->usize, &e->csize, &e->off };
            for (int i = 0; i < 3; i++) {
                if (*f[i] != 0xffffffffULL)
                    continue;
                if (vend - v < 8)
                    break;
                *f[i] = zd_u64(v);
                v += 8;
            }
        }
        x = vend;
    }
    if (e->usize == 0xffffffffULL || e->csize == 0xffffffffULL ||
        e->off == 0xffffffffULL) {
        snprintf(err, errlen, "%.200s: saturated size without zip64 field",
                 e->name);
        return -1;
    }
    return 0;
}

/* Where e's data starts: after its local header, which must be one. */
static int zd_data_start(int fd, const struct zd_dir *d,
                         const struct zd_entry *e, unsigned long long *start,
                         char *err, size_t errlen)
{
    unsigned char lh[ZD_LFH_LEN];

    if (e->off > d->off || d->off - e->off < ZD_LFH_LEN ||
        zd_read(fd, e->off, lh, sizeof(lh)) < 0 ||
        memcmp(lh, "PK\003\004", 4) != 0) {
        snprintf(err, errlen, "%.200s: no local header where the directory "
                 "says", e->name);
        return -1;
    }
    *start = e->off + ZD_LFH_LEN + zd_u16(lh + 26) + zd_u16(lh + 28);
    if (*start > d->off || e->csize > d->off - *start) {
        snprintf(err, errlen, "%.200s: data runs into the central directory",
                 e->name);
        return -1;
    }
    return 0;
}

struct zd_reader {
    int fd;
    unsigned long long left;    /* of max */
    zipdir_data_cb data;
    void *arg;
    unsigned char in[ZD_CHUNK], out[ZD_CHUNK];
};

/* Hands len inflated bytes on, counting them against the cap. */
static int zd_emit(struct zd_reader *r, const struct zd_entry *e,
                   const unsigned char *p, size_t len, unsigned long *crc,
                   unsigned long long *got, char *err, size_t errlen)
{
    if (len > r->left || len > e->usize - *got) {
        snprintf(err, errlen, "%.200s: inflates to more than %s", e->name,
                 len > r->left ? "the size checked (a zip bomb?)"
                               : "its stated size");
        return -1;
    }
    if (len == 0)
        return 0;               /* len 0 tells the callback the end */
    r->left -= len;
    *got += len;
    *crc = crc32(*crc, p, (uInt)len);
    return r->data(r->arg, e->name, p, len, err, errlen) ? -2 : 0;
}

/* Streams one entry's data to r->data.  -1 with err, -2 if the callback
 * stopped. */
static int zd_entry_read(struct zd_reader *r, unsigned long long start,
                         const struct zd_entry *e, char *err, size_t errlen)
{
    unsigned long long pos = 0, got = 0;
    unsigned long crc = crc32(0, Z_NULL, 0);
    z_stream z;
    int zrc = Z_OK, rc = -1;

    memset(&z, 0, sizeof(z));
    if (e->method == 8 && inflateInit2(&z, -MAX_WBITS) != Z_OK) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    while (pos < e->csize && zrc != Z_STREAM_END) {
        size_t n = e->csize - pos < ZD_CHUNK ? (size_t)(e->csize - pos)
                                             : ZD_CHUNK;
        if (zd_read(r->fd, start + pos, r->in, n) < 0) {
            snprintf(err, errlen, "%.200s: cannot read", e->name);
            goto out;
        }
        pos += n;
        if (e->method == 0) {
            if ((rc = zd_emit(r, e, r->in, n, &crc, &got, err, errlen)) < 0)
                goto out;
            continue;
        }
        z.next_in = r->in;
        z.avail_in = (uInt)n;
        /* A full output buffer means zlib may hold more output even when
         * it has taken all the input: go on until it says it needs input
         * (Z_BUF_ERROR, no progress: not bad data) or the stream ends. */
        do {
            z.next_out = r->out;
            z.avail_out = ZD_CHUNK;
            zrc = inflate(&z, Z_NO_FLUSH);
            if (zrc == Z_BUF_ERROR)
                break;
            if (zrc != Z_OK && zrc != Z_STREAM_END) {
                snprintf(err, errlen, "%.200s: bad deflate data", e->name);
                rc = -1;
                goto out;
            }
            if ((rc = zd_emit(r, e, r->out, ZD_CHUNK - z.avail_out, &crc,
                              &got, err, errlen)) < 0)
                goto out;
        } while (zrc != Z_STREAM_END && (z.avail_in > 0 || z.avail_out == 0));
    }
    rc = -1;
    if ((e->method == 8 && zrc != Z_STREAM_END) || got != e->usize ||
        crc != e->crc) {
        snprintf(err, errlen, "%.200s: data does not match its size or "
                 "CRC", e->name);
        goto out;
    }
    rc = r->data(r->arg, e->name, r->out, 0, err, errlen) ? -2 : 0;
out:
    if (e->method == 8)
        inflateEnd(&z);
    return rc;
}

/* Reads entry i at h, if wanted. */
static int zd_entry_visit(struct zd_reader *r, const struct zd_dir *d,
                          const unsigned char *h, zipdir_want_cb want,
                          char *err, size_t errlen)
{
    struct zd_entry e;
    unsigned long long start;
    int rc = -1;

    memset(&e, 0, sizeof(e));
    if (zd_entry_parse(h, &e, err, errlen) < 0)
        goto out;
    if (!want(r->arg, e.name)) {
        rc = 0;
        goto out;
    }
    if (e.flags & 1) {
        snprintf(err, errlen, "%.200s: encrypted", e.name);
        goto out;
    }
    if (e.method != 0 && e.method != 8) {
        snprintf(err, errlen, "%.200s: compression method %u (only stored "
                 "and deflate are read)", e.name, e.method);
        goto out;
    }
    if (e.method == 0 && e.csize != e.usize) {
        snprintf(err, errlen, "%.200s: stored with two sizes", e.name);
        goto out;
    }
    if (zd_data_start(r->fd, d, &e, &start, err, errlen) == 0)
        rc = zd_entry_read(r, start, &e, err, errlen);
out:
    free(e.name);
    return rc;
}

int zipdir_read_entries(const char *path, unsigned long long size,
                        unsigned long long max, zipdir_want_cb want,
                        zipdir_data_cb data, void *arg,
                        char *err, size_t errlen)
{
    struct zd_reader *r = NULL;
    struct zd_dir d;
    unsigned char *buf;
    size_t pos = 0;
    int fd, rc = -1;

    if (zd_load(path, size, &fd, &d, &buf, err, errlen) < 0 ||
        zd_walk(buf, &d, "", err, errlen) < 0)
        goto out;
    if (!(r = malloc(sizeof(*r)))) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    r->fd = fd;
    r->left = max;
    r->data = data;
    r->arg = arg;
    /* zd_walk checked every entry's bounds. */
    for (unsigned long long i = 0; i < d.entries; i++) {
        const unsigned char *h = buf + pos;

        if (zd_entry_visit(r, &d, h, want, err, errlen) < 0)
            goto out;
        pos += ZD_CDH_LEN + zd_u16(h + 28) + zd_u16(h + 30) + zd_u16(h + 32);
    }
    rc = 0;
out:
    free(r);
    free(buf);
    if (fd >= 0)
        close(fd);
    return rc;
}
