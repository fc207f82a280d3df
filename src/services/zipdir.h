/*
 * zipdir.h - the names in a zip file's central directory, read with hard
 * bounds and no decompression (zipdir_has_entry): enough to tell a 3MF
 * package (a zip whose directory lists 3D/3dmodel.model) from any other zip, which libmagic
 * cannot (it calls some 3MF files "Microsoft OOXML").
 *
 * What is read: the end-of-central-directory record (in the last
 * 64 KiB + 22 bytes; its comment must end exactly at the end of the file),
 * the zip64 record it points to when a field is saturated, and the central
 * directory itself (at most ZIPDIR_MAX_DIR bytes, ZIPDIR_MAX_ENTRIES
 * entries).  Every entry must lie inside the directory, the directory
 * before its end record, and the entry count must match the walk.
 * Multi-disk archives are refused.
 */
#ifndef RR_ZIPDIR_H
#define RR_ZIPDIR_H

#include <stddef.h>

#define ZIPDIR_MAX_DIR (8u * 1024 * 1024)   /* central directory bytes */
#define ZIPDIR_MAX_ENTRIES 65535u

/* Is there an entry called name in the zip file at path, of size bytes?
 * Names compare ASCII case-insensitively (OPC part names do).  Returns 1
 * if there is, 0 if the zip is well formed but has none, -1 if the file
 * is no well-formed zip or cannot be read, with err saying why
 * ("central directory runs past its end record"). */
int zipdir_has_entry(const char *path, unsigned long long size,
                     const char *name, char *err, size_t errlen);

/* Reading the entries themselves (stored or deflated), for the slicer
 * configs inside 3MF and AMF files.  want(arg, name) says whether an
 * entry is read (name NUL-terminated, valid during the call); its bytes,
 * inflated, go to data(arg, name, bytes, len) in pieces, then once with
 * len 0 at its end.  At most max bytes in all are inflated (a zip bomb
 * stops there with an error).  Entries must lie before the central
 * directory, their local headers match it, and their sizes and CRC-32
 * hold; encrypted entries and other methods than stored and deflate are
 * errors.  Returns 0, or -1 with err naming the entry; a data callback
 * returning non-zero stops the walk with -1 and err left as it set it. */
typedef int (*zipdir_want_cb)(void *arg, const char *name);
typedef int (*zipdir_data_cb)(void *arg, const char *name,
                              const unsigned char *data, size_t len,
                              char *err, size_t errlen);
int zipdir_read_entries(const char *path, unsigned long long size,
                        unsigned long long max, zipdir_want_cb want,
                        zipdir_data_cb data, void *arg,
                        char *err, size_t errlen);

#endif
