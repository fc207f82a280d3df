/*
 * blob.h - G-code files of print jobs, stored once by content.
 *
 *   SPOOL/blobs/ab/cdef...   (ab = first two hex digits of the SHA-256)
 *
 * An upload is streamed into SPOOL/tmp while it is hashed, then renamed to
 * its blob path (or dropped if that blob exists already), so the same
 * G-code sent for 200 printers is one file.  The rows (refcounts) live in
 * the store (store_blob_put, store_job_create, store_fleet_purge).
 */
#ifndef RR_FLEET_BLOB_H
#define RR_FLEET_BLOB_H

#include <stddef.h>

#include "fleet/model.h"

/* Seconds a blob no one references keeps its file before a purge removes
 * it: an upload that found the file in place (fleet_blob_commit) takes
 * its reference only when its job is inserted, after that. */
#define FLEET_BLOB_GRACE 3600.0

/* SPOOL/blobs/ab/cdef... into buf.  0, or -1 if sha256 is not 64 lowercase
 * hex digits or buf is too small. */
int fleet_blob_path(const char *spool, const char *sha256, char *buf,
                    size_t len);

/* A blob being written.  Owns its fd, temp file and hash state. */
struct fleet_blob_writer {
    int fd;
    char tmp[4096];
    void *md;                         /* EVP_MD_CTX */
    long long size;
    long long max;                    /* cap; 0 = none */
};

/* Opens a temp file in SPOOL/tmp.  max caps the size (write fails with
 * EFBIG past it).  0 or -1 with errno. */
int fleet_blob_open(struct fleet_blob_writer *w, const char *spool,
                    long long max);
/* Appends and hashes.  0 or -1 with errno. */
int fleet_blob_write(struct fleet_blob_writer *w, const void *data,
                     size_t len);
/* Finishes: fsync, rename into the blob path (mkdir as needed; an existing
 * blob is kept and the temp file dropped).  sha256 (FLEET_SHA256_HEX) and
 * *size are set.  The writer is closed either way.  0 or -1 with errno. */
int fleet_blob_commit(struct fleet_blob_writer *w, const char *spool,
                      char *sha256, long long *size);
/* Drops an unfinished blob (closes, unlinks).  Safe after commit. */
void fleet_blob_abort(struct fleet_blob_writer *w);

/* Imports an existing file (moved, not copied) the same way; path must
 * be a regular file, not a link to one. */
int fleet_blob_import(const char *spool, const char *path, char *sha256,
                      long long *size);
/* Copies the regular file path (never through a link: a task may have
 * left one) into a blob of its own inode, so what wrote path cannot
 * write the blob.  0 or -1 with errno. */
int fleet_blob_copy(const char *spool, const char *path, char *sha256,
                    long long *size);

struct store;

/* Reads what the slicer says (gcode_meta.h) of up to max blobs not read
 * yet and records it; a blob that cannot be read is recorded as saying
 * nothing, with a warning.  The number done, or -1 (store error). */
int fleet_blob_read_meta(struct store *st, const char *spool, int max);

#endif
