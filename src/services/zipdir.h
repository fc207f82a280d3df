/*
 * zipdir.h - the names in a zip file's central directory, read with hard
 * bounds and no decompression: enough to tell a 3MF package (a zip whose
 * directory lists 3D/3dmodel.model) from any other zip, which libmagic
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

#endif
