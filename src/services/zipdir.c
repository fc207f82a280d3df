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
        if (memcmp(tail + i, "PK\005\006", 4) == 0 &&
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

int zipdir_has_entry(const char *path, unsigned long long size,
                     const char *name, char *err, size_t errlen)
{
    struct zd_dir d;
    unsigned char *buf = NULL;
    int fd, rc = -1;

    if (size < ZD_EOCD_LEN) {
        snprintf(err, errlen, "too short for a zip");
        return -1;
    }
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        snprintf(err, errlen, "cannot open: %s", strerror(errno));
        return -1;
    }
    memset(&d, 0, sizeof(d));
    if (zd_find_end(fd, size, &d, err, errlen) < 0 ||
        zd_check_dir(&d, err, errlen) < 0)
        goto out;
    if ((buf = malloc(d.size > 0 ? (size_t)d.size : 1)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    if (zd_read(fd, d.off, buf, (size_t)d.size) < 0) {
        snprintf(err, errlen, "cannot read the central directory");
        goto out;
    }
    rc = zd_walk(buf, &d, name, err, errlen);
out:
    free(buf);
    close(fd);
    return rc;
}
