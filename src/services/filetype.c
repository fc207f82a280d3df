/*
 * filetype.c - libmagic plus structural checks for slicer inputs
 * (see filetype.h for the table this implements).
 */
#include "services/filetype.h"
#include "services/cfgscan.h"
#include "services/zipdir.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <magic.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define FT_TAIL_LEN 4096            /* where "endsolid" must be */
#define FT_3MF_MODEL "3D/3dmodel.model"  /* the model part every 3MF has */
#define FT_CONFIG_MAX (1024 * 1024) /* largest config file we scan */

struct filetype {
    magic_t magic;
};

struct ft_ext {
    const char *ext;
    enum filetype_class cls;
};

static const struct ft_ext ft_exts[] = {
    { "stl", FILETYPE_STL },     { "obj", FILETYPE_OBJ },
    { "3mf", FILETYPE_3MF },     { "amf", FILETYPE_AMF },
    { "scad", FILETYPE_SCAD },   { "gcode", FILETYPE_GCODE },
    { "gco", FILETYPE_GCODE },   { "g", FILETYPE_GCODE },
    { "ini", FILETYPE_CONFIG },  { "conf", FILETYPE_CONFIG },
    { "cfg", FILETYPE_CONFIG },  { "json", FILETYPE_CONFIG },
    { "txt", FILETYPE_TEXT },
};

/* libmagic answers that no slicer input ever is (prefix match). */
static const char *const ft_denied[] = {
    "application/x-executable", "application/x-pie-executable",
    "application/x-sharedlib", "application/x-object", "application/x-elf",
    "application/x-coredump", "application/x-mach-binary",
    "application/x-dosexec", "application/x-msdownload",
    "application/vnd.microsoft.portable-executable",
    "application/x-bytecode", "application/java", "application/x-java",
    "application/wasm", "text/x-shellscript", "text/x-script",
    "text/x-perl", "text/x-python", "text/x-php", "text/x-ruby",
    "text/x-lua", "text/x-tcl", "text/x-awk", "text/x-msdos-batch",
    "text/html", "image/", "video/", "audio/", "font/",
    "application/pdf", "application/postscript", "application/msword",
    "application/vnd.ms-", "application/vnd.openxmlformats",
    "application/vnd.oasis", "application/x-sqlite3",
    "application/gzip", "application/x-gzip", "application/x-xz",
    "application/x-bzip", "application/x-7z", "application/x-rar",
    "application/vnd.rar", "application/x-tar", "application/zstd",
    "application/x-lzma", "application/x-lzip", "application/x-compress",
    "application/x-archive", "application/x-cpio", "application/x-iso9660",
    "application/vnd.debian", "application/x-rpm", "application/x-lz4",
    "application/x-shockwave-flash",
};

static pthread_mutex_t ft_open_lock = PTHREAD_MUTEX_INITIALIZER;

enum filetype_class filetype_class_of(const char *ext)
{
    if (ext == NULL)
        return FILETYPE_NONE;
    for (size_t i = 0; i < sizeof(ft_exts) / sizeof(ft_exts[0]); i++)
        if (strcmp(ext, ft_exts[i].ext) == 0)
            return ft_exts[i].cls;
    return FILETYPE_NONE;
}

const char *filetype_class_name(enum filetype_class c)
{
    switch (c) {
    case FILETYPE_STL: return "stl";
    case FILETYPE_OBJ: return "obj";
    case FILETYPE_3MF: return "3mf";
    case FILETYPE_AMF: return "amf";
    case FILETYPE_SCAD: return "scad";
    case FILETYPE_GCODE: return "gcode";
    case FILETYPE_CONFIG: return "config";
    case FILETYPE_TEXT: return "text";
    case FILETYPE_NONE: break;
    }
    return "none";
}

const char *filetype_class_label(enum filetype_class c)
{
    switch (c) {
    case FILETYPE_STL: return "an STL model";
    case FILETYPE_OBJ: return "an OBJ model";
    case FILETYPE_3MF: return "a 3MF model";
    case FILETYPE_AMF: return "an AMF model";
    case FILETYPE_SCAD: return "an OpenSCAD source";
    case FILETYPE_GCODE: return "G-code";
    case FILETYPE_CONFIG: return "a slicer config";
    case FILETYPE_TEXT: return "a text file";
    case FILETYPE_NONE: break;
    }
    return "a known type";
}

const char *filetype_known_exts(void)
{
    return "stl, obj, 3mf, amf, scad, gcode, gco, g, ini, conf, cfg, txt";
}

/* ---- handles ---------------------------------------------------------- */

struct filetype *filetype_new(char *err, size_t errlen)
{
    struct filetype *ft = calloc(1, sizeof(*ft));

    if (ft == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (pthread_mutex_lock(&ft_open_lock) != 0) {
        snprintf(err, errlen, "filetype: lock failed");
        free(ft);
        return NULL;
    }
    ft->magic = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
    if (ft->magic == NULL) {
        snprintf(err, errlen, "magic_open: %s", strerror(errno));
    } else if (magic_load(ft->magic, NULL) != 0) {
        snprintf(err, errlen, "magic_load: %s", magic_error(ft->magic));
        magic_close(ft->magic);
        ft->magic = NULL;
    }
    pthread_mutex_unlock(&ft_open_lock);
    if (ft->magic == NULL) {
        free(ft);
        return NULL;
    }
    return ft;
}

void filetype_free(struct filetype *ft)
{
    if (ft == NULL)
        return;
    if (ft->magic != NULL)
        magic_close(ft->magic);
    free(ft);
}

int filetype_init(char *err, size_t errlen)
{
    struct filetype *ft = filetype_new(err, errlen);

    if (ft == NULL)
        return -1;
    filetype_free(ft);
    return 0;
}

/* ---- helpers ---------------------------------------------------------- */

static int ft_is_denied(const char *mime)
{
    for (size_t i = 0; i < sizeof(ft_denied) / sizeof(ft_denied[0]); i++)
        if (strncmp(mime, ft_denied[i], strlen(ft_denied[i])) == 0)
            return 1;
    return 0;
}

/* Text as filetype.h defines it. */
static int ft_is_text(const unsigned char *p, size_t len)
{
    size_t odd = 0;

    if (memchr(p, '\0', len) != NULL)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i];
        if (!(c >= 0x20 && c != 0x7f) && c != '\t' && c != '\n' && c != '\r')
            odd++;
    }
    return odd * 20 <= len;
}

/* Case-insensitive search of needle in p[0..len). */
static const unsigned char *ft_memcasemem(const unsigned char *p, size_t len,
                                          const char *needle)
{
    size_t n = strlen(needle);

    for (size_t i = 0; n <= len && i <= len - n; i++)
        if (strncasecmp((const char *)p + i, needle, n) == 0)
            return p + i;
    return NULL;
}

static const unsigned char *ft_skip_ws(const unsigned char *p, size_t *len)
{
    while (*len > 0 && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) {
        p++;
        (*len)--;
    }
    return p;
}

/* Reads up to len bytes at offset off (off < 0: the last len bytes). */
static ssize_t ft_read_at(const char *path, long long off, unsigned char *buf,
                          size_t len, unsigned long long size)
{
    size_t got = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0)
        return -1;
    if (off < 0)
        off = size > len ? (long long)(size - len) : 0;
    while (got < len) {
        ssize_t n = pread(fd, buf + got, len - got, (off_t)(off + (long long)got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            close(fd);
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    return (ssize_t)got;
}

/* ---- structure checks: 0 = fine, -1 = err set ------------------------- */

static int ft_check_binary_stl(const unsigned char *head, size_t headlen,
                               unsigned long long size, char *err, size_t errlen)
{
    uint32_t n;

    if (size < 84 || headlen < 84) {
        snprintf(err, errlen, "not an STL model (.stl): too short for binary "
                 "STL (%llu bytes) and not ASCII STL", size);
        return -1;
    }
    n = (uint32_t)head[80] | (uint32_t)head[81] << 8 |
        (uint32_t)head[82] << 16 | (uint32_t)head[83] << 24;
    if (84ULL + 50ULL * n != size) {
        snprintf(err, errlen, "not an STL model (.stl): binary STL size %llu "
                 "is not 84 + 50 x %u triangles (%llu)", size, n,
                 84ULL + 50ULL * n);
        return -1;
    }
    if (n == 0) {
        snprintf(err, errlen, "not an STL model (.stl): binary STL with no "
                 "triangles");
        return -1;
    }
    return 0;
}

/* 1 = plausible ASCII STL, 0 = not ASCII STL, -1 = I/O error (err set). */
static int ft_is_ascii_stl(const char *path, const unsigned char *head,
                           size_t headlen, unsigned long long size,
                           char *err, size_t errlen)
{
    unsigned char tail[FT_TAIL_LEN];
    size_t len = headlen;
    const unsigned char *p = ft_skip_ws(head, &len);
    ssize_t n;

    if (len < 5 || strncasecmp((const char *)p, "solid", 5) != 0 ||
        !ft_is_text(head, headlen) || ft_memcasemem(p, len, "facet") == NULL)
        return 0;
    if (headlen >= size)
        return ft_memcasemem(head, headlen, "endsolid") != NULL;
    if (path == NULL)
        return 1;               /* judged on the head alone */
    if ((n = ft_read_at(path, -1, tail, sizeof(tail), size)) < 0) {
        snprintf(err, errlen, "cannot read file: %s", strerror(errno));
        return -1;
    }
    return ft_memcasemem(tail, (size_t)n, "endsolid") != NULL;
}

static int ft_check_stl(const char *path, const unsigned char *head,
                        size_t headlen, unsigned long long size,
                        const char *mime, char *err, size_t errlen)
{
    int ascii = ft_is_ascii_stl(path, head, headlen, size, err, errlen);

    if (ascii < 0)
        return -1;
    if (ascii) {
        if (mime[0] != '\0' && strncmp(mime, "text/", 5) != 0 &&
            strncmp(mime, "model/", 6) != 0) {
            snprintf(err, errlen, "content is %s, not an STL model (.stl)", mime);
            return -1;
        }
        return 0;
    }
    /* Binary STL headers are 80 free bytes, so libmagic may say anything
     * not denied; the length equation is the real test. */
    return ft_check_binary_stl(head, headlen, size, err, errlen);
}

static int ft_obj_keyword(const char *w, size_t n)
{
    static const char *const kw[] = { "v", "vt", "vn", "vp", "f", "l", "p",
        "o", "g", "s", "mtllib", "usemtl", "cstype", "deg", "curv", "surf",
        "parm", "end", "mg" };

    for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
        if (strlen(kw[i]) == n && strncmp(kw[i], w, n) == 0)
            return 1;
    return 0;
}

static int ft_check_obj(const unsigned char *head, size_t headlen,
                        unsigned long long size, char *err, size_t errlen)
{
    const char *p = (const char *)head, *end = p + headlen;
    int vertices = 0;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *w;
        size_t n = 0;

        if (nl == NULL && headlen < size)
            break;              /* cut-off last line of the head */
        if (nl == NULL)
            nl = end;
        while (p < nl && (*p == ' ' || *p == '\t'))
            p++;
        w = p;
        while (w + n < nl && w[n] != ' ' && w[n] != '\t' && w[n] != '\r')
            n++;
        if (n > 0 && w[0] != '#' && !ft_obj_keyword(w, n)) {
            snprintf(err, errlen, "not an OBJ model (.obj): unexpected "
                     "statement at the start of a line");
            return -1;
        }
        if (n == 1 && w[0] == 'v')
            vertices++;
        p = nl + 1;
    }
    if (vertices == 0 && headlen >= size) {
        snprintf(err, errlen, "not an OBJ model (.obj): no vertices");
        return -1;
    }
    return 0;
}

/* A 3MF is an OPC package: a zip whose directory lists the model part.
 * Only the directory decides; libmagic's name for the zip does not (it
 * calls some 3MF files "Microsoft OOXML", application/octet-stream). */
/* The settings a slicer would take from a 3MF or AMF (cfgscan.h). */
static int ft_check_embedded(const char *path, unsigned long long size,
                             int zip, enum filetype_class cls,
                             const unsigned char *head, size_t headlen,
                             char *err, size_t errlen)
{
    const char *label = cls == FILETYPE_3MF ? "3MF" : "AMF";
    char why[320];
    const char *what;
    unsigned long line;
    int rc;

    if (path == NULL && zip)
        return 0;               /* the zip's parts are checked with a path */
    if (path == NULL) {
        if ((line = cfgscan_buf_what(head, headlen, 1, &what)) == 0)
            return 0;
        snprintf(why, sizeof(why), "line %lu %s", line, what);
        rc = -2;
    } else {
        rc = zip ? cfgscan_zip(path, size, cls == FILETYPE_AMF, why,
                               sizeof(why))
                 : cfgscan_file(path, 1, why, sizeof(why));
    }
    if (rc == -2)
        snprintf(err, errlen, "%s model's settings: %s (the slicer would "
                 "run post_process as a program on the server); remove it",
                 label, why);
    else if (rc < 0)
        snprintf(err, errlen, "not a %s model (.%s): %s", label,
                 cls == FILETYPE_3MF ? "3mf" : "amf", why);
    return rc < 0 ? -1 : 0;
}

static int ft_check_3mf(const char *path, const unsigned char *head,
                        size_t headlen, unsigned long long size,
                        char *err, size_t errlen)
{
    char why[256];
    int rc;

    if (headlen < 4 || memcmp(head, "PK\x03\x04", 4) != 0) {
        snprintf(err, errlen, "not a 3MF model (.3mf): not a zip container");
        return -1;
    }
    if (path == NULL)
        return 0;
    rc = zipdir_has_entry(path, size, FT_3MF_MODEL, why, sizeof(why));
    if (rc < 0)
        snprintf(err, errlen, "not a 3MF model (.3mf): broken zip: %s", why);
    else if (rc == 0)
        snprintf(err, errlen, "not a 3MF model (.3mf): zip without a 3D model "
                 "part (" FT_3MF_MODEL ")");
    if (rc <= 0)
        return -1;
    return ft_check_embedded(path, size, 1, FILETYPE_3MF, head, headlen, err,
                             errlen);
}

static int ft_check_amf(const char *path, const unsigned char *head,
                        size_t headlen, unsigned long long size,
                        char *err, size_t errlen)
{
    int zip = headlen >= 4 && memcmp(head, "PK\x03\x04", 4) == 0;

    if (!zip && (!ft_is_text(head, headlen) ||
                 ft_memcasemem(head, headlen, "<amf") == NULL)) {
        snprintf(err, errlen, "not an AMF model (.amf): no <amf> element");
        return -1;
    }
    return ft_check_embedded(path, size, zip, FILETYPE_AMF, head, headlen,
                             err, errlen);
}

static int ft_check_gcode(const unsigned char *head, size_t headlen,
                          char *err, size_t errlen)
{
    size_t len = headlen;
    const unsigned char *p = head;

    if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0) {     /* UTF-8 BOM */
        p += 3;
        len -= 3;
    }
    p = ft_skip_ws(p, &len);
    if (len > 0 && strchr("GgMmTtNn;(%", *p) == NULL) {
        snprintf(err, errlen, "not G-code (.gcode): first line is no G-code "
                 "command or comment");
        return -1;
    }
    return 0;
}

/* One config line: blank, comment, [section] or key = value.  (Whether
 * it sets post_process is cfgscan's question.) */
static int ft_config_line(const char *p, const char *nl)
{
    const char *k;

    while (p < nl && (*p == ' ' || *p == '\t' || *p == '\v' || *p == '\f'))
        p++;
    if (p == nl || *p == '\r' || *p == '#' || *p == ';' || *p == '[')
        return 0;
    k = p;
    while (p < nl && *p != '=' && *p != ':' && *p != '\r')
        p++;
    if (p == nl || *p == '\r' || p == k)
        return -1;
    return 0;
}

/* A JSON settings file (CuraEngine's -j): one object, and none that
 * names other files for the slicer to find ("inherits", extruder
 * trains), whose search would leave the task's own files. */
static int ft_check_json_config(const unsigned char *p, size_t len,
                                char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *o = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES,
                           &jerr);
    json_t *meta = json_object_get(o, "metadata");
    int rc = -1;

    if (!json_is_object(o))
        snprintf(err, errlen, "not a slicer config (.json): %s",
                 o ? "not one JSON object" : jerr.text);
    else if (json_object_get(o, "inherits") ||
             json_object_get(meta, "machine_extruder_trains"))
        snprintf(err, errlen, "slicer config: \"%s\" names other "
                 "definition files: give every setting in this one",
                 json_object_get(o, "inherits") ? "inherits"
                                                : "machine_extruder_trains");
    else
        rc = 0;
    json_decref(o);
    return rc;
}

/* A .json config is CuraEngine's settings, checked as JSON; anything else
 * is read as a .ini, line by line and for post_process, whatever its
 * first byte: the choice goes by the name, never by the content. */
static int ft_check_config(const char *path, const char *ext,
                           const unsigned char *head, size_t headlen,
                           unsigned long long size, char *err, size_t errlen)
{
    unsigned char *all = NULL;
    const char *p, *end;
    unsigned long danger;
    const char *what;
    int rc = -1;

    if (headlen < size && path != NULL) {
        ssize_t n;
        if (size > FT_CONFIG_MAX) {
            snprintf(err, errlen, "not a slicer config (.ini): larger than %d bytes",
                     FT_CONFIG_MAX);
            return -1;
        }
        if ((all = malloc((size_t)size)) == NULL) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        if ((n = ft_read_at(path, 0, all, (size_t)size, size)) < 0) {
            snprintf(err, errlen, "cannot read file: %s", strerror(errno));
            goto out;
        }
        if (!ft_is_text(all, (size_t)n)) {
            snprintf(err, errlen, "not a slicer config (.ini): not text");
            goto out;
        }
        head = all;
        headlen = (size_t)n;
    }
    if (strcasecmp(ext, "json") == 0) {
        if (headlen < size) {   /* a JSON object is checked whole */
            snprintf(err, errlen, "not a slicer config (.json): cannot "
                     "read it whole");
            goto out;
        }
        rc = ft_check_json_config(head, headlen, err, errlen);
        goto out;
    }
    for (p = (const char *)head, end = p + headlen; p < end; ) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL && headlen < size)
            break;
        if (nl == NULL)
            nl = end;
        if (ft_config_line(p, nl) != 0) {
            snprintf(err, errlen, "not a slicer config (.ini): a line is "
                     "neither 'key = value', [section] nor a comment");
            goto out;
        }
        p = nl + 1;
    }
    if ((danger = cfgscan_buf_what(head, headlen, 0, &what)) != 0) {
        snprintf(err, errlen, "slicer config %s (line %lu); post_process "
                 "runs programs on the server: remove that line", what,
                 danger);
        goto out;
    }
    rc = 0;
out:
    free(all);
    return rc;
}

/* ---- entry point ------------------------------------------------------ */

/* libmagic's verdict into mime (or "" without a handle). */
static int ft_magic(struct filetype *ft, const unsigned char *head,
                    size_t headlen, char *mime, size_t mimelen,
                    char *err, size_t errlen)
{
    const char *m;

    mime[0] = '\0';
    if (ft == NULL)
        return 0;
    if ((m = magic_buffer(ft->magic, head, headlen)) == NULL) {
        snprintf(err, errlen, "libmagic: %s", magic_error(ft->magic) ?
                 magic_error(ft->magic) : "unknown error");
        return -1;
    }
    snprintf(mime, mimelen, "%s", m);
    return 0;
}

static int ft_check_class(enum filetype_class cls, const char *path,
                          const unsigned char *head, size_t headlen,
                          unsigned long long size, const char *mime,
                          const char *ext, char *err, size_t errlen)
{
    int is_zip = strcmp(mime, "application/zip") == 0 ||
                 strcmp(mime, "model/3mf") == 0 ||
                 strncmp(mime, "application/vnd.ms-package", 26) == 0;
    int texty = cls != FILETYPE_STL && cls != FILETYPE_3MF && cls != FILETYPE_AMF;

    if (texty && ((mime[0] != '\0' && strncmp(mime, "text/", 5) != 0 &&
                   strcmp(mime, "model/obj") != 0 &&
                   !(cls == FILETYPE_CONFIG &&
                     strcmp(mime, "application/json") == 0)) ||
                  !ft_is_text(head, headlen))) {
        snprintf(err, errlen, "content is %s, not %s (.%s)",
                 mime[0] != '\0' ? mime : "binary", filetype_class_label(cls), ext);
        return -1;
    }
    /* With the file at hand its zip directory decides (ft_check_3mf). */
    if (cls == FILETYPE_3MF && mime[0] != '\0' && !is_zip && path == NULL) {
        snprintf(err, errlen, "content is %s, not a 3MF model (.%s)", mime, ext);
        return -1;
    }
    if (cls == FILETYPE_AMF && mime[0] != '\0' && !is_zip &&
        strcmp(mime, "application/x-amf") != 0 && strcmp(mime, "text/xml") != 0 &&
        strcmp(mime, "application/xml") != 0 && strcmp(mime, "text/plain") != 0) {
        snprintf(err, errlen, "content is %s, not an AMF model (.%s)", mime, ext);
        return -1;
    }
    switch (cls) {
    case FILETYPE_STL:
        return ft_check_stl(path, head, headlen, size, mime, err, errlen);
    case FILETYPE_OBJ:
        return ft_check_obj(head, headlen, size, err, errlen);
    case FILETYPE_3MF:
        return ft_check_3mf(path, head, headlen, size, err, errlen);
    case FILETYPE_AMF:
        return ft_check_amf(path, head, headlen, size, err, errlen);
    case FILETYPE_GCODE:
        return ft_check_gcode(head, headlen, err, errlen);
    case FILETYPE_CONFIG:
        return ft_check_config(path, ext, head, headlen, size, err, errlen);
    case FILETYPE_SCAD:
    case FILETYPE_TEXT:
    case FILETYPE_NONE:
        break;
    }
    return 0;
}

int filetype_magic(struct filetype *ft, const unsigned char *head,
                   size_t headlen, char *mime, size_t mimelen,
                   char *err, size_t errlen)
{
    return ft_magic(ft, head, headlen, mime, mimelen, err, errlen);
}

int filetype_check_mime(const char *path_or_NULL, const unsigned char *head,
                        size_t headlen, unsigned long long size,
                        const char *ext, const char *mime,
                        char *err, size_t errlen)
{
    enum filetype_class cls = filetype_class_of(ext);

    if (errlen > 0)
        err[0] = '\0';
    if (cls == FILETYPE_NONE) {
        snprintf(err, errlen, "extension .%s is not a known type (known: %s)",
                 ext != NULL ? ext : "", filetype_known_exts());
        return -1;
    }
    if (size == 0 || headlen == 0 || head == NULL) {
        snprintf(err, errlen, "empty file");
        return -1;
    }
    if (headlen > size)
        headlen = (size_t)size;
    /* our own look first, so the verdict does not hang on the magic db */
    if (headlen >= 4 && memcmp(head, "\177ELF", 4) == 0) {
        snprintf(err, errlen, "content is %s, not %s (.%s)",
                 mime[0] != '\0' ? mime : "an ELF executable",
                 filetype_class_label(cls), ext);
        return -1;
    }
    if (headlen >= 2 && head[0] == '#' && head[1] == '!') {
        snprintf(err, errlen, "content is a script (#!), not %s (.%s)",
                 filetype_class_label(cls), ext);
        return -1;
    }
    if (mime[0] != '\0' && ft_is_denied(mime) &&
        !(cls == FILETYPE_3MF && strcmp(mime, "application/vnd.ms-package.3dmanufacturing-3dmodel+xml") == 0)) {
        snprintf(err, errlen, "content is %s, not %s (.%s)", mime,
                 filetype_class_label(cls), ext);
        return -1;
    }
    if (mime[0] != '\0' && strcmp(mime, "application/zip") == 0 &&
        cls != FILETYPE_3MF && cls != FILETYPE_AMF) {
        snprintf(err, errlen, "content is %s, not %s (.%s)", mime,
                 filetype_class_label(cls), ext);
        return -1;
    }
    return ft_check_class(cls, path_or_NULL, head, headlen, size, mime, ext,
                          err, errlen);
}

int filetype_check(struct filetype *ft, const char *path_or_NULL,
                   const unsigned char *head, size_t headlen,
                   unsigned long long size, const char *ext,
                   char *mime_out, size_t mimelen, char *err, size_t errlen)
{
    char mime[128] = "";

    if (errlen > 0)
        err[0] = '\0';
    if (mime_out != NULL && mimelen > 0)
        mime_out[0] = '\0';
    if (filetype_class_of(ext) != FILETYPE_NONE && size > 0 && headlen > 0 &&
        head != NULL &&
        ft_magic(ft, head, headlen > size ? (size_t)size : headlen, mime,
                 sizeof(mime), err, errlen) != 0)
        return -1;
    if (mime_out != NULL && mimelen > 0)
        snprintf(mime_out, mimelen, "%s", mime);
    return filetype_check_mime(path_or_NULL, head, headlen, size, ext, mime,
                               err, errlen);
}
