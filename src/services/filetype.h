/*
 * filetype.h - is an uploaded file plausibly what its extension says?
 *
 * libmagic only tells the coarse truth (it calls ASCII STL and G-code
 * text/plain, binary STL application/octet-stream, 3MF application/zip), so
 * each check is: (1) never an executable, script, image, archive, document
 * (libmagic's answer against a deny list, plus our own look at "#!" and the
 * ELF magic); (2) libmagic's answer must fit the type class; (3) a check of
 * the format's own structure.
 *
 *   ext               class   accepted mime (libmagic)           structure
 *   stl               stl     text/plain, application/octet-     ASCII: "solid", "facet", "endsolid";
 *                             stream, model/stl, model/x.stl-any   binary: size == 84 + 50 * n,
 *                             (binary: any not denied)           n = uint32 LE at offset 80, n > 0
 *   obj               obj     text/..., model/obj                lines start with v vt vn f o g ...,
 *                                                                at least one "v" line
 *   3mf               3mf     application/zip, model/3mf,        zip local header "PK\3\4"; with a
 *                             application/vnd.ms-package.any;     path: its central directory lists
 *                             with a path any not denied         3D/3dmodel.model (zipdir.h), and
 *                                                                no part but meshes and pictures
 *                                                                sets post_process (cfgscan.h)
 *   amf               amf     application/x-amf, text/xml,       "<amf" near the start, or a zip;
 *                             application/xml, text/plain,       no part sets post_process
 *                             application/zip                    (cfgscan.h)
 *   scad              scad    text/...                           text
 *   gcode gco g       gcode   text/...                           mostly printable text, first
 *                                                                line G/M/T/N/;/(/%
 *   ini conf cfg      config  text/...                           key = value / [section] / comments;
 *                                                                no non-empty post_process in any
 *                                                                case or spacing, comments too
 *                                                                (slicers run it through a shell;
 *                                                                cfgscan.h)
 *   txt               text    text/...                           text
 *
 * "text" means: no NUL byte, at most 5 % of bytes other than printable
 * ASCII, tab, CR, LF or bytes >= 0x80 (UTF-8).
 *
 * Handles: libmagic handles must not be shared between threads; make one
 * struct filetype per thread.  Creation is serialized internally (concurrent
 * magic_open is known to corrupt the heap).
 */
#ifndef RR_FILETYPE_H
#define RR_FILETYPE_H

#include <stddef.h>

/* Bytes of the file start that callers should pass as head (or the whole
 * file if smaller). */
#define FILETYPE_HEAD_LEN 8192

enum filetype_class {
    FILETYPE_NONE = 0,          /* unknown extension */
    FILETYPE_STL,
    FILETYPE_OBJ,
    FILETYPE_3MF,
    FILETYPE_AMF,
    FILETYPE_SCAD,
    FILETYPE_GCODE,
    FILETYPE_CONFIG,
    FILETYPE_TEXT
};

struct filetype;

/* Checks once, at program start, that libmagic and its database load.
 * Returns 0, or -1 with err set. */
int filetype_init(char *err, size_t errlen);

/* Makes a handle for the calling thread (magic_open(MAGIC_MIME_TYPE |
 * MAGIC_ERROR) + magic_load(NULL)).  Returns NULL with err set on failure.
 * Free with filetype_free(). */
struct filetype *filetype_new(char *err, size_t errlen);

/* Frees a handle; NULL is a no-op. */
void filetype_free(struct filetype *ft);

/* The class of a lowercase extension without the dot ("stl"), or
 * FILETYPE_NONE. */
enum filetype_class filetype_class_of(const char *ext);

/* Short class name ("stl", "config"), and a label for messages
 * ("an STL model").  Never NULL. */
const char *filetype_class_name(enum filetype_class c);
const char *filetype_class_label(enum filetype_class c);

/* Comma-separated list of all known extensions, for error messages. */
const char *filetype_known_exts(void);

/*
 * Decides whether a file with extension ext (lowercase, no dot) plausibly
 * is of that type.  head/headlen: the first bytes (FILETYPE_HEAD_LEN or the
 * whole file); size: the whole file's size; path_or_NULL: the file itself,
 * read for the checks that need more than the head (ASCII STL end, whole
 * config scan, 3MF directory); without it those parts are judged on head.
 * ft may be NULL to skip libmagic (structure checks only).
 *
 * Returns 0 if acceptable, -1 if not (or on an I/O or libmagic error), with
 * a message in err that does not name the field (the caller prefixes it):
 * "content is application/x-executable, not an STL model (.stl)".  The mime
 * type libmagic saw goes to mime_out ("" if ft is NULL); mime_out may be NULL.
 */
int filetype_check(struct filetype *ft, const char *path_or_NULL,
                   const unsigned char *head, size_t headlen,
                   unsigned long long size, const char *ext,
                   char *mime_out, size_t mimelen, char *err, size_t errlen);

/* filetype_check() in two steps, for a handle shared under a lock: the
 * libmagic verdict (mime "" without a handle; 0, or -1 with err), which
 * needs the handle, and every other check given that verdict, which does
 * not and may take long (a 3MF's or AMF's parts are inflated and scanned,
 * up to cfgscan.h's CFGSCAN_INFLATE_MAX). */
int filetype_magic(struct filetype *ft, const unsigned char *head,
                   size_t headlen, char *mime, size_t mimelen,
                   char *err, size_t errlen);
int filetype_check_mime(const char *path_or_NULL, const unsigned char *head,
                        size_t headlen, unsigned long long size,
                        const char *ext, const char *mime,
                        char *err, size_t errlen);

#endif
