/* form.c - see form.h. */
#include "http/form.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes one character of s[0..n) at *i, advancing *i.  Returns the byte
 * (0..255) or -1 for a malformed escape. */
static int next_char(const char *s, size_t n, size_t *i)
{
    char c = s[*i];
    int hi, lo;

    if (c == '+') {
        (*i)++;
        return ' ';
    }
    if (c != '%') {
        (*i)++;
        return (unsigned char)c;
    }
    if (*i + 2 >= n)
        return -1;
    hi = hexval(s[*i + 1]);
    lo = hexval(s[*i + 2]);
    if (hi < 0 || lo < 0)
        return -1;
    *i += 3;
    return hi << 4 | lo;
}

/* Decodes s[0..n) into out, writing at most cap bytes but counting all.
 * Returns the decoded length, or -1 with *bad at the malformed '%'. */
static ssize_t decode(const char *s, size_t n, char *out, size_t cap,
                      size_t *bad)
{
    size_t i = 0, k = 0;

    while (i < n) {
        size_t at = i;
        int c = next_char(s, n, &i);

        if (c < 0) {
            *bad = at;
            return -1;
        }
        if (k < cap)
            out[k] = (char)c;
        k++;
    }
    return (ssize_t)k;
}

/* Copies s[0..n) for an error message: at most 64 bytes, anything not
 * printable ASCII as '?', so client bytes cannot forge log lines. */
static void safe_copy(char *dst, size_t dstsz, const char *s, size_t n)
{
    size_t k = 0;

    for (size_t i = 0; i < n && k + 1 < dstsz && k < 64; i++) {
        unsigned char c = (unsigned char)s[i];

        dst[k++] = c >= 0x20 && c < 0x7f && c != '"' ? (char)c : '?';
    }
    dst[k] = '\0';
}

static int set_err(char *err, size_t errlen, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int set_err(char *err, size_t errlen, int code, const char *fmt, ...)
{
    va_list ap;

    if (err != NULL && errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return code;
}

/* Finds the end of the pair starting at s[pos]: the next '&' or ';'. */
static size_t pair_end(const char *s, size_t len, size_t pos)
{
    while (pos < len && s[pos] != '&' && s[pos] != ';')
        pos++;
    return pos;
}

int form_parse(const char *s, size_t len, const struct form_limits *lim,
               form_cb cb, void *arg, char *err, size_t errlen)
{
    size_t max_fields = lim && lim->max_fields ? lim->max_fields
                                               : FORM_DEFAULT_MAX_FIELDS;
    size_t max_name = lim && lim->max_name_len ? lim->max_name_len
                                               : FORM_DEFAULT_MAX_NAME_LEN;
    size_t max_value = lim && lim->max_value_len ? lim->max_value_len
                                                 : FORM_DEFAULT_MAX_VALUE_LEN;
    size_t pos = 0, nfields = 0, bad = 0;
    char *buf = NULL, shown[80];
    int rc = FORM_OK;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (len == 0)
        return FORM_OK;
    /* Decoding never grows: name + value + two NULs fit in len + 2. */
    buf = malloc(len + 2);
    if (buf == NULL)
        return set_err(err, errlen, FORM_ERR_NOMEM, "out of memory");
    while (pos < len) {
        size_t end = pair_end(s, len, pos);
        const char *eq = memchr(s + pos, '=', end - pos);
        size_t nlen = eq ? (size_t)(eq - s) - pos : end - pos;
        const char *v = eq ? eq + 1 : s + end;
        size_t vlen = (size_t)(s + end - v);
        ssize_t dn, dv;

        if (end == pos) {
            pos++;
            continue;
        }
        if (++nfields > max_fields) {
            rc = set_err(err, errlen, FORM_ERR_LIMIT, "too many fields (limit %zu)",
                         max_fields);
            goto out;
        }
        dn = decode(s + pos, nlen, buf, nlen, &bad);
        if (dn < 0) {
            safe_copy(shown, sizeof(shown), s + pos + bad, nlen - bad < 3 ? nlen - bad : 3);
            rc = set_err(err, errlen, FORM_ERR_SYNTAX,
                         "field %zu: bad percent escape \"%s\" in name", nfields, shown);
            goto out;
        }
        buf[dn] = '\0';
        safe_copy(shown, sizeof(shown), buf, (size_t)dn);
        if ((size_t)dn > max_name) {
            rc = set_err(err, errlen, FORM_ERR_LIMIT,
                         "field %zu: name too long (limit %zu bytes)", nfields, max_name);
            goto out;
        }
        if (memchr(buf, '\0', (size_t)dn) != NULL) {
            rc = set_err(err, errlen, FORM_ERR_SYNTAX,
                         "field %zu: NUL byte in name \"%s\"", nfields, shown);
            goto out;
        }
        dv = decode(v, vlen, buf + dn + 1, vlen, &bad);
        if (dv < 0) {
            char esc[8];

            safe_copy(esc, sizeof(esc), v + bad, vlen - bad < 3 ? vlen - bad : 3);
            rc = set_err(err, errlen, FORM_ERR_SYNTAX,
                         "field \"%s\": bad percent escape \"%s\"", shown, esc);
            goto out;
        }
        if ((size_t)dv > max_value) {
            rc = set_err(err, errlen, FORM_ERR_LIMIT,
                         "field \"%s\": value too long (limit %zu bytes)", shown, max_value);
            goto out;
        }
        buf[dn + 1 + dv] = '\0';
        if (cb != NULL && cb(arg, buf, (size_t)dn, buf + dn + 1, (size_t)dv) != 0) {
            rc = set_err(err, errlen, FORM_ERR_CALLBACK, "field \"%s\": rejected", shown);
            goto out;
        }
        pos = end + 1;
    }
out:
    free(buf);
    return rc;
}

/* 1 if s[0..n) decodes to want, 0 if not, -1 if it holds a bad escape. */
static int decoded_eq(const char *s, size_t n, const char *want)
{
    size_t i = 0, j = 0;
    int eq = 1;

    while (i < n) {
        int c = next_char(s, n, &i);

        if (c < 0)
            return -1;
        if (eq && (want[j] == '\0' || (unsigned char)want[j] != c))
            eq = 0;
        else if (eq)
            j++;
    }
    return eq && want[j] == '\0';
}

int form_get(const char *query, const char *name, char *out, size_t outlen)
{
    size_t len = strlen(query), pos = 0, bad;

    if (outlen > 0)
        out[0] = '\0';
    while (pos < len) {
        size_t end = pair_end(query, len, pos);
        const char *eq = memchr(query + pos, '=', end - pos);
        size_t nlen = eq ? (size_t)(eq - query) - pos : end - pos;
        const char *v = eq ? eq + 1 : query + end;
        ssize_t dv;
        int m;

        if (end == pos) {
            pos++;
            continue;
        }
        m = decoded_eq(query + pos, nlen, name);
        if (m < 0)
            return -2;
        if (m == 0) {
            pos = end + 1;
            continue;
        }
        dv = decode(v, (size_t)(query + end - v), out, outlen, &bad);
        if (dv < 0 || (size_t)dv >= outlen || memchr(out, '\0', (size_t)dv)) {
            if (outlen > 0)
                out[0] = '\0';
            return -2;
        }
        out[dv] = '\0';
        return 0;
    }
    return -1;
}

size_t form_url_decode(char *s)
{
    size_t n = strlen(s), i = 0, k = 0;

    /* Check first so that a bad string is left as it was; c == 0 can only
     * come from %00. */
    while (i < n) {
        if (next_char(s, n, &i) <= 0)
            return FORM_DECODE_ERROR;
    }
    i = 0;
    while (i < n)
        s[k++] = (char)next_char(s, n, &i);
    s[k] = '\0';
    return k;
}
