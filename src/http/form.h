/*
 * form.h - application/x-www-form-urlencoded bodies and query strings.
 *
 * Pairs are separated by '&' or ';' (CGI.pm took both, and RepRapCloud's
 * clients rely on CGI.pm); empty pairs ("a=1&&b=2", a trailing '&') are
 * skipped; a pair without '=' is a name with an empty value.  Names and
 * values are decoded: '+' is a space, %XX a byte (either case of hex);
 * a '%' not followed by two hex digits is an error, never passed through.
 * No state, thread-safe.
 */
#ifndef RR_FORM_H
#define RR_FORM_H

#include <stddef.h>

#define FORM_DEFAULT_MAX_FIELDS    256
#define FORM_DEFAULT_MAX_NAME_LEN  256
#define FORM_DEFAULT_MAX_VALUE_LEN (1024 * 1024)

enum form_error {
    FORM_OK = 0,
    FORM_ERR_SYNTAX = -1,   /* bad percent escape, NUL in a name */
    FORM_ERR_LIMIT = -2,    /* too many fields, name or value too long */
    FORM_ERR_CALLBACK = -3, /* the callback returned non-zero */
    FORM_ERR_NOMEM = -4
};

/* Caps, all on decoded sizes; a zero member takes the FORM_DEFAULT_*. */
struct form_limits {
    size_t max_fields;      /* pairs, empty ones not counted */
    size_t max_name_len;
    size_t max_value_len;
};

/* Gets each decoded pair, in order.  name and value are NUL-terminated
 * copies in a scratch buffer owned by form_parse, valid only during the
 * call.  A name never holds a NUL byte; a value may (%00): use value_len.
 * Return 0 to go on, non-zero to stop with FORM_ERR_CALLBACK. */
typedef int (*form_cb)(void *arg, const char *name, size_t name_len,
                       const char *value, size_t value_len);

/* Parses s[0..len) (need not be NUL-terminated) and calls cb per pair.
 * lim may be NULL (defaults).  Returns FORM_OK or a negative enum
 * form_error with a message in err (if errlen > 0) naming the field and the
 * limit, e.g. "field \"fileIn0\": value too long (limit 1048576 bytes)".
 * Pairs before the failing one have been passed to cb already. */
int form_parse(const char *s, size_t len, const struct form_limits *lim,
               form_cb cb, void *arg, char *err, size_t errlen);

/* Looks up the first pair named name (compared after decoding) in the
 * NUL-terminated query and copies its decoded value, NUL-terminated, to
 * out.  Returns 0, -1 if there is no such pair, -2 if the value does not
 * fit in outlen, holds a NUL byte (%00), or the pairs up to it hold a
 * malformed escape (out is then "" when outlen > 0). */
int form_get(const char *query, const char *name, char *out, size_t outlen);

#define FORM_DECODE_ERROR ((size_t)-1)

/* Decodes the NUL-terminated s in place ('+' is a space, %XX a byte) and
 * returns its new length, or FORM_DECODE_ERROR (s unchanged) on a malformed
 * escape or %00.  For query/form components, not for URL paths. */
size_t form_url_decode(char *s);

#endif
