/*
 * multipart.h - streaming multipart/form-data parser (RFC 7578, RFC 2046).
 *
 * The body is fed in chunks of any size (one byte works); the parser calls
 * back at the start of each part with its name, filename and content type,
 * then with the part's bytes in large spans taken straight from the caller's
 * chunks, then at its end.  It never holds a whole part: the only body bytes
 * it copies are the few at a chunk's end that may begin a boundary.
 *
 * Accepted: a preamble before the first boundary and an epilogue after the
 * closing one (both ignored); transport padding (spaces, tabs) after a
 * boundary; CRLF or bare LF line ends in boundary lines and part headers, and
 * a body ending in LF--boundary as well as CRLF--boundary (the CR before the
 * LF, when present, is part of the delimiter).  Rejected with an error: bytes
 * after a boundary other than "--", padding and a line end; header lines
 * without a colon or folded; a part without Content-Disposition form-data and
 * a name; names or filenames with control bytes; more parts or header bytes
 * than the limits allow; a body that ends before the closing boundary.
 *
 * One parser per request, used by one thread; no global state.
 */
#ifndef RR_MULTIPART_H
#define RR_MULTIPART_H

#include <stddef.h>

/* RFC 2046: a boundary is 1..70 characters. */
#define MP_BOUNDARY_MAX 70

#define MP_DEFAULT_MAX_HEADER_BYTES 8192
#define MP_DEFAULT_MAX_PARTS        256
#define MP_MAX_HEADER_BYTES_CAP     (1024 * 1024)

enum mp_error {
    MP_OK = 0,
    MP_ERR_BOUNDARY = -1,        /* junk after a boundary */
    MP_ERR_HEADER = -2,          /* malformed part header line */
    MP_ERR_HEADER_TOO_LONG = -3, /* part headers over max_header_bytes */
    MP_ERR_DISPOSITION = -4,     /* missing/malformed Content-Disposition */
    MP_ERR_TOO_MANY_PARTS = -5,  /* over max_parts */
    MP_ERR_TRUNCATED = -6,       /* EOF before the closing boundary */
    MP_ERR_CALLBACK = -7         /* a callback returned non-zero */
};

/* Limits; a zero member takes the MP_DEFAULT_* value.  The parser
 * allocates 2 x max_header_bytes up front. */
struct mp_limits {
    size_t max_header_bytes;     /* one part's header block, line ends and the
                                  * blank line included; at most
                                  * MP_MAX_HEADER_BYTES_CAP */
    unsigned max_parts;
};

/* What on_part_begin learns about a part.  All strings are NUL-terminated,
 * owned by the parser and valid only during the callback: copy what you keep.
 * filename is the client's, untrusted (it may hold '/', '\\' or ".."); never
 * use it as a path. */
struct mp_part {
    unsigned index;              /* 1 for the first part */
    const char *name;            /* Content-Disposition name=, never NULL */
    const char *filename;        /* filename*= or filename=, NULL if absent,
                                  * "" for a file input left empty */
    const char *content_type;    /* Content-Type value with its parameters,
                                  * NULL if absent (RFC 7578: text/plain) */
};

/* Each callback may be NULL.  A non-zero return stops the parser with
 * MP_ERR_CALLBACK; the callback may first call mp_parser_set_error() to say
 * why (otherwise the message is a generic "part N: ... rejected by the
 * application").
 * on_part_data gets at least one byte per call, pointing into the chunk
 * being fed (or into parser memory for bytes held back from the previous
 * chunk), valid only during the call.  on_part_end comes once the
 * delimiter line after the part is complete: a part that got it is whole
 * (but only mp_parser_finish() == MP_OK says the body is). */
struct mp_callbacks {
    int (*on_part_begin)(void *arg, const struct mp_part *part);
    int (*on_part_data)(void *arg, const char *data, size_t len);
    int (*on_part_end)(void *arg);
};

struct mp_parser;

/* Copies the boundary parameter of a multipart/<any> Content-Type (quoted or
 * not, other parameters skipped) into out, NUL-terminated.  Returns 0, or -1
 * if ctype is not multipart, has no or two boundary parameters, the boundary
 * is not 1..70 RFC 2046 characters, or it does not fit in outlen (give
 * MP_BOUNDARY_MAX + 1 bytes). */
int mp_boundary_from_content_type(const char *ctype, char *out, size_t outlen);

/* Makes a parser for the given boundary (copied); lim and cb are copied,
 * either may be NULL (defaults; no callbacks).  arg is passed to every
 * callback.  Returns NULL if the boundary is not valid, max_header_bytes is
 * over the cap, or memory runs out.
 * Free with mp_parser_free(). */
struct mp_parser *mp_parser_new(const char *boundary,
                                const struct mp_limits *lim,
                                const struct mp_callbacks *cb, void *arg);

/* Frees the parser; NULL is fine. */
void mp_parser_free(struct mp_parser *p);

/* Parses the next len bytes of the body.  Returns MP_OK or a negative
 * enum mp_error; mp_parser_error() then says what was wrong.  Errors are
 * final: later feeds and finish return the same code.  Bytes after the
 * closing boundary are ignored (check mp_parser_done() to stop reading). */
int mp_parser_feed(struct mp_parser *p, const char *data, size_t len);

/* Says the body ended.  Returns MP_OK if the closing boundary was seen,
 * MP_ERR_TRUNCATED if not, or the earlier error. */
int mp_parser_finish(struct mp_parser *p);

/* 1 once the closing boundary was parsed, else 0. */
int mp_parser_done(const struct mp_parser *p);

/* Number of parts begun so far. */
unsigned mp_parser_part_count(const struct mp_parser *p);

/* The message of the last error, e.g. "part 3: header too long (limit 8192
 * bytes)"; "" if none.  Owned by the parser. */
const char *mp_parser_error(const struct mp_parser *p);

/* For callbacks about to return non-zero: sets the message that
 * mp_parser_error() will return (printf format, truncated to 256 bytes). */
void mp_parser_set_error(struct mp_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A short static text for an enum mp_error value. */
const char *mp_strerror(int err);

#endif
