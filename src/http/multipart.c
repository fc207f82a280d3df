/* multipart.c - see multipart.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memmem */
#endif
#include "http/multipart.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum mp_state {
    ST_PREAMBLE,    /* discarding bytes until the first delimiter */
    ST_TAIL,        /* just after "--boundary" */
    ST_TAIL_PAD,    /* in transport padding after the boundary */
    ST_TAIL_DASH,   /* saw one '-' after the boundary */
    ST_TAIL_CR,     /* saw CR on the boundary line, LF must follow */
    ST_HEADERS,     /* collecting a part's header block */
    ST_BODY,        /* passing part bytes on, watching for the delimiter */
    ST_DONE,        /* closing boundary seen; the rest is epilogue */
    ST_ERROR
};

/* The delimiter searched for is LF "--" boundary; a CR before the LF
 * belongs to it too.  A body may end with a proper prefix of it, so hold
 * holds at most CR + (DELIM_MAX - 1) bytes. */
#define DELIM_MAX (MP_BOUNDARY_MAX + 3)

enum { M_NONE, M_PART, M_FULL };

struct mp_parser {
    enum mp_state state;
    int error;                  /* sticky enum mp_error once state is ERROR */
    unsigned nparts;            /* parts begun */
    int in_part;                /* on_part_begin done, on_part_end not yet */
    int cb_msg;                 /* a callback set err itself */
    struct mp_callbacks cb;
    void *arg;
    size_t max_hdr;
    unsigned max_parts;
    char delim[DELIM_MAX];      /* "\n--" boundary, not NUL-terminated */
    size_t dlen;
    char hold[DELIM_MAX + 1];   /* possible delimiter start from the last chunk */
    size_t hlen;
    int hold_fake;              /* hold[0] is the made-up LF, not data */
    char *hdr;                  /* max_hdr bytes: the current header block */
    size_t hdr_len;
    size_t line_start;          /* offset in hdr of the line being read */
    char *sbuf;                 /* max_hdr + 4 bytes: decoded part strings */
    char err[256];
};

/* Raw parameter of a header value, still quoted/escaped. */
struct param {
    const char *key;
    size_t keylen;
    const char *val;
    size_t vallen;
    int quoted;
};

static int fail(struct mp_parser *p, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct mp_parser *p, int code, const char *fmt, ...)
{
    va_list ap;

    /* A callback's own message wins over the generic one. */
    if (!(code == MP_ERR_CALLBACK && p->cb_msg)) {
        va_start(ap, fmt);
        vsnprintf(p->err, sizeof(p->err), fmt, ap);
        va_end(ap);
    }
    p->state = ST_ERROR;
    p->error = code;
    return code;
}

/* RFC 2046 bcharsnospace; a space is allowed too but not last. */
static int is_bchar(unsigned char c)
{
    static const char extra[] = "'()+_,-./:=?";

    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
        (c >= 'A' && c <= 'Z'))
        return 1;
    return c != '\0' && strchr(extra, c) != NULL;
}

static int boundary_valid(const char *b, size_t n)
{
    if (n < 1 || n > MP_BOUNDARY_MAX || b[n - 1] == ' ')
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (b[i] != ' ' && !is_bchar((unsigned char)b[i]))
            return 0;
    }
    return 1;
}

static const char *skip_ows(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    return s;
}

/* Reads the next "; key=value" of a header value from *sp.  Returns 1 with
 * *pr filled, 0 at the end, -1 if malformed.  A quoted value ends at the
 * first '"' not escaped as \" (see unquote for which escapes count); an
 * unquoted one runs to the next ';' less trailing blanks, which tolerates
 * clients that send filename=my file.stl. */
static int next_param(const char **sp, const char *end, struct param *pr)
{
    const char *s = skip_ows(*sp, end);

    if (s == end)
        return 0;
    if (*s != ';')
        return -1;
    s = skip_ows(s + 1, end);
    if (s == end)
        return 0; /* a trailing ';' is harmless */
    pr->key = s;
    while (s < end && *s != '=' && *s != ';' && *s != ' ' && *s != '\t')
        s++;
    pr->keylen = (size_t)(s - pr->key);
    s = skip_ows(s, end);
    if (pr->keylen == 0 || s == end || *s != '=')
        return -1;
    s = skip_ows(s + 1, end);
    if (s < end && *s == '"') {
        pr->val = ++s;
        while (s < end && *s != '"') {
            if (*s == '\\' && s + 1 < end && (s[1] == '"' || s[1] == '\\'))
                s++;
            s++;
        }
        if (s == end)
            return -1;
        pr->vallen = (size_t)(s - pr->val);
        pr->quoted = 1;
        s++;
    } else {
        const char *e;

        pr->val = s;
        while (s < end && *s != ';')
            s++;
        e = s;
        while (e > pr->val && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        pr->vallen = (size_t)(e - pr->val);
        pr->quoted = 0;
        if (pr->vallen == 0)
            return -1;
    }
    *sp = s;
    return 1;
}

/* Copies a parameter value to out (room for vallen + 1), undoing \" and
 * \\ in quoted strings.  Other backslashes stay: browsers send Windows
 * paths unescaped, and HTML forms never escape with backslashes.  Returns
 * the length written (out NUL-terminated). */
static size_t unquote(const struct param *pr, char *out)
{
    size_t n = 0;

    for (size_t i = 0; i < pr->vallen; i++) {
        char c = pr->val[i];

        if (pr->quoted && c == '\\' && i + 1 < pr->vallen &&
            (pr->val[i + 1] == '"' || pr->val[i + 1] == '\\'))
            c = pr->val[++i];
        out[n++] = c;
    }
    out[n] = '\0';
    return n;
}

static int key_is(const struct param *pr, const char *key)
{
    return pr->keylen == strlen(key) && strncasecmp(pr->key, key, pr->keylen) == 0;
}

int mp_boundary_from_content_type(const char *ctype, char *out, size_t outlen)
{
    const char *s, *end;
    struct param pr, found = { 0 };
    size_t n;
    int r;

    if (ctype == NULL || out == NULL || strncasecmp(ctype, "multipart/", 10) != 0)
        return -1;
    end = ctype + strlen(ctype);
    s = strchr(ctype, ';');
    if (s == NULL)
        return -1;
    while ((r = next_param(&s, end, &pr)) == 1) {
        if (!key_is(&pr, "boundary"))
            continue;
        if (found.key != NULL)
            return -1; /* two boundaries: refuse to guess */
        found = pr;
    }
    if (r < 0 || found.key == NULL || found.vallen >= outlen ||
        found.vallen > MP_BOUNDARY_MAX)
        return -1;
    n = unquote(&found, out);
    if (!boundary_valid(out, n)) {
        out[0] = '\0';
        return -1;
    }
    return 0;
}

/* The body may start with "--boundary" itself (RFC 2046 for the first one;
 * an empty part sent without the CRLF before its delimiter, for the rest):
 * pretend a LF came before it, one that is never passed on as data. */
static void hold_fake_lf(struct mp_parser *p)
{
    p->hold[0] = '\n';
    p->hlen = 1;
    p->hold_fake = 1;
}

struct mp_parser *mp_parser_new(const char *boundary,
                                const struct mp_limits *lim,
                                const struct mp_callbacks *cb, void *arg)
{
    struct mp_parser *p;
    size_t blen;

    if (boundary == NULL)
        return NULL;
    blen = strlen(boundary);
    if (!boundary_valid(boundary, blen))
        return NULL;
    p = calloc(1, sizeof(*p));
    if (p == NULL)
        return NULL;
    p->max_hdr = lim && lim->max_header_bytes ? lim->max_header_bytes
                                               : MP_DEFAULT_MAX_HEADER_BYTES;
    p->max_parts = lim && lim->max_parts ? lim->max_parts : MP_DEFAULT_MAX_PARTS;
    if (p->max_hdr > MP_MAX_HEADER_BYTES_CAP) {
        free(p);
        return NULL;
    }
    if (cb != NULL)
        p->cb = *cb;
    p->arg = arg;
    memcpy(p->delim, "\n--", 3);
    memcpy(p->delim + 3, boundary, blen);
    p->dlen = blen + 3;
    hold_fake_lf(p);
    p->state = ST_PREAMBLE;
    p->hdr = malloc(p->max_hdr);
    p->sbuf = malloc(p->max_hdr + 4);
    if (p->hdr == NULL || p->sbuf == NULL) {
        mp_parser_free(p);
        return NULL;
    }
    return p;
}

void mp_parser_free(struct mp_parser *p)
{
    if (p == NULL)
        return;
    free(p->hdr);
    free(p->sbuf);
    free(p);
}

/* Passes part bytes on (preamble bytes are dropped). */
static int emit(struct mp_parser *p, const char *data, size_t len)
{
    if (p->state != ST_BODY || len == 0 || p->cb.on_part_data == NULL)
        return 0;
    p->cb_msg = 0;
    if (p->cb.on_part_data(p->arg, data, len) != 0)
        return fail(p, MP_ERR_CALLBACK, "part %u: data rejected by the application",
                    p->nparts);
    return 0;
}

/* Is buf[0..n), which starts with LF, the delimiter or a prefix of it? */
static int delim_cmp(const struct mp_parser *p, const char *buf, size_t n)
{
    if (n >= p->dlen)
        return memcmp(buf, p->delim, p->dlen) == 0 ? M_FULL : M_NONE;
    return memcmp(buf, p->delim, n) == 0 ? M_PART : M_NONE;
}

/* The held bytes from the last chunk joined with the first bytes of this
 * one: either the delimiter straddles the two, or the hold grows (short
 * chunk), or the hold was data after all.  Only a delimiter that starts in
 * the hold (or at data[0] right after a held CR) is looked for here. */
static int resolve_hold(struct mp_parser *p, const char *data, size_t len,
                        size_t *used)
{
    char w[2 * DELIM_MAX + 1];
    size_t take = len < p->dlen ? len : p->dlen;
    size_t wn = p->hlen + take;
    size_t skip = p->hold_fake ? 1 : 0;

    memcpy(w, p->hold, p->hlen);
    memcpy(w + p->hlen, data, take);
    for (size_t j = 0; j <= p->hlen && j < wn; j++) {
        size_t start;
        int m;

        if (w[j] != '\n')
            continue;
        m = delim_cmp(p, w + j, wn - j);
        if (m == M_NONE)
            continue;
        start = j > 0 && w[j - 1] == '\r' ? j - 1 : j;
        /* start <= hlen: only hold bytes go out here. */
        if (start > skip && emit(p, w + skip, start - skip) != 0)
            return p->error;
        if (m == M_FULL) {
            *used = j + p->dlen - p->hlen;
            p->hlen = 0;
            p->hold_fake = 0;
            p->state = ST_TAIL;
            return 0;
        }
        /* M_PART needs wn - j < dlen, so all of data is in w. */
        memmove(p->hold, w + start, wn - start);
        p->hlen = wn - start;
        p->hold_fake = start == 0 ? p->hold_fake : 0;
        *used = len;
        return 0;
    }
    p->hlen = 0;
    p->hold_fake = 0;
    *used = 0;
    return wn - take > skip ? emit(p, w + skip, wn - take - skip) : 0;
}

/* Scans a chunk (no hold pending) for the delimiter.  Full matches are
 * found with memmem; a possible delimiter cut by the chunk end (LF "--"
 * prefix, or a lone CR) is held back and everything before it passed on
 * in one span. */
static int scan_data(struct mp_parser *p, const char *data, size_t len,
                     size_t *used)
{
    const char *q = memmem(data, len, p->delim, p->dlen);
    size_t j, end;

    if (q != NULL) {
        j = (size_t)(q - data);
        end = j > 0 && data[j - 1] == '\r' ? j - 1 : j;
        if (emit(p, data, end) != 0)
            return p->error;
        *used = j + p->dlen;
        p->state = ST_TAIL;
        return 0;
    }
    *used = len;
    j = len >= p->dlen ? len - (p->dlen - 1) : 0;
    while ((q = memchr(data + j, '\n', len - j)) != NULL) {
        j = (size_t)(q - data);
        if (delim_cmp(p, q, len - j) == M_PART) {
            end = j > 0 && data[j - 1] == '\r' ? j - 1 : j;
            p->hlen = len - end;
            memcpy(p->hold, data + end, p->hlen);
            return emit(p, data, end);
        }
        j++;
    }
    if (len > 0 && data[len - 1] == '\r') {
        p->hold[0] = '\r';
        p->hlen = 1;
        return emit(p, data, len - 1);
    }
    return emit(p, data, len);
}

static int feed_body(struct mp_parser *p, const char *data, size_t len,
                     size_t *used)
{
    enum mp_state st = p->state;
    size_t n = 0, m = 0;
    int rc;

    if (p->hlen > 0) {
        rc = resolve_hold(p, data, len, &n);
        if (rc != 0 || p->state != st || n == len) {
            *used = n;
            return rc;
        }
    }
    rc = scan_data(p, data + n, len - n, &m);
    *used = n + m;
    return rc;
}

/* A delimiter line is complete: the part before it (if any) is whole. */
static int end_part(struct mp_parser *p)
{
    if (!p->in_part)
        return 0;
    p->in_part = 0;
    p->cb_msg = 0;
    if (p->cb.on_part_end != NULL && p->cb.on_part_end(p->arg) != 0)
        return fail(p, MP_ERR_CALLBACK, "part %u: rejected by the application",
                    p->nparts);
    return 0;
}

/* The boundary line is complete: end the previous part, expect headers. */
static int boundary_line_done(struct mp_parser *p)
{
    if (end_part(p) != 0)
        return p->error;
    if (p->nparts >= p->max_parts)
        return fail(p, MP_ERR_TOO_MANY_PARTS, "too many parts (limit %u)",
                    p->max_parts);
    p->nparts++;
    p->hdr_len = 0;
    p->line_start = 0;
    p->state = ST_HEADERS;
    return 0;
}


/* One byte of what follows "--boundary": "--", or padding and a line end. */
static int feed_tail(struct mp_parser *p, char c)
{
    switch (p->state) {
    case ST_TAIL:
    case ST_TAIL_PAD:
        if (c == '-' && p->state == ST_TAIL) {
            p->state = ST_TAIL_DASH;
            return 0;
        }
        if (c == ' ' || c == '\t') {
            p->state = ST_TAIL_PAD;
            return 0;
        }
        if (c == '\r') {
            p->state = ST_TAIL_CR;
            return 0;
        }
        if (c == '\n')
            return boundary_line_done(p);
        break;
    case ST_TAIL_DASH:
        if (c == '-') {
            p->state = ST_DONE;
            return end_part(p);
        }
        break;
    case ST_TAIL_CR:
        if (c == '\n')
            return boundary_line_done(p);
        break;
    default:
        break;
    }
    if (p->nparts == 0)
        return fail(p, MP_ERR_BOUNDARY, "malformed first boundary line");
    return fail(p, MP_ERR_BOUNDARY, "malformed boundary line after part %u",
                p->nparts);
}

/* Checks a decoded name or filename for control bytes. */
static int has_ctl(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c < 0x20 || c == 0x7f)
            return 1;
    }
    return 0;
}

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

/* RFC 5987 ext-value: charset'language'percent-encoded.  Only UTF-8 and
 * US-ASCII are taken (bytes are passed as they are).  Writes out (room for
 * vallen + 1); returns the length or -1. */
static long ext_value(const struct param *pr, char *out)
{
    size_t n = unquote(pr, out), i, k = 0;
    char *q1 = memchr(out, '\'', n), *q2;

    if (q1 == NULL)
        return -1;
    q2 = memchr(q1 + 1, '\'', n - (size_t)(q1 + 1 - out));
    if (q2 == NULL)
        return -1;
    if (!((q1 - out == 5 && strncasecmp(out, "utf-8", 5) == 0) ||
          (q1 - out == 8 && strncasecmp(out, "us-ascii", 8) == 0)))
        return -1;
    for (i = (size_t)(q2 + 1 - out); i < n; i++) {
        if (out[i] == '%') {
            int hi, lo;

            if (i + 2 >= n)
                return -1;
            hi = hexval(out[i + 1]);
            lo = hexval(out[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            out[k++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[k++] = out[i];
        }
    }
    out[k] = '\0';
    return (long)k;
}

/* Parses the Content-Disposition value s..end into part; the strings go to
 * *op in sbuf, which is left after them. */
static int parse_disposition(struct mp_parser *p, const char *s,
                             const char *end, struct mp_part *part, char **op)
{
    struct param pr, name = { 0 }, fname = { 0 }, fstar = { 0 };
    const char *t = s;
    char *o = *op;
    long n;
    int r;

    while (t < end && *t != ';' && *t != ' ' && *t != '\t')
        t++;
    if (t - s != 9 || strncasecmp(s, "form-data", 9) != 0)
        return fail(p, MP_ERR_DISPOSITION,
                    "part %u: Content-Disposition is not form-data", p->nparts);
    while ((r = next_param(&t, end, &pr)) == 1) {
        struct param *slot = key_is(&pr, "name") ? &name
                           : key_is(&pr, "filename") ? &fname
                           : key_is(&pr, "filename*") ? &fstar : NULL;

        if (slot == NULL)
            continue;
        if (slot->key != NULL)
            return fail(p, MP_ERR_DISPOSITION,
                        "part %u: malformed Content-Disposition (two %.*s parameters)",
                        p->nparts, (int)pr.keylen, pr.key);
        *slot = pr;
    }
    if (r < 0)
        return fail(p, MP_ERR_DISPOSITION, "part %u: malformed Content-Disposition",
                    p->nparts);
    if (name.key == NULL || name.vallen == 0)
        return fail(p, MP_ERR_DISPOSITION,
                    "part %u: malformed Content-Disposition (no field name)", p->nparts);
    n = (long)unquote(&name, o);
    if (has_ctl(o, (size_t)n))
        return fail(p, MP_ERR_DISPOSITION, "part %u: control byte in field name",
                    p->nparts);
    part->name = o;
    o += n + 1;
    part->filename = NULL;
    if (fstar.key != NULL) {
        /* RFC 6266: filename* wins over filename. */
        n = ext_value(&fstar, o);
        if (n < 0)
            return fail(p, MP_ERR_DISPOSITION,
                        "part %u (%s): malformed or non-UTF-8 filename*",
                        p->nparts, part->name);
    } else if (fname.key != NULL) {
        n = (long)unquote(&fname, o);
    }
    if (fstar.key != NULL || fname.key != NULL) {
        if (has_ctl(o, (size_t)n))
            return fail(p, MP_ERR_DISPOSITION, "part %u (%s): control byte in filename",
                        p->nparts, part->name);
        part->filename = o;
        o += n + 1;
    }
    *op = o;
    return 0;
}

static int name_is(const char *s, size_t n, const char *want)
{
    return n == strlen(want) && strncasecmp(s, want, n) == 0;
}

/* Checks one header line s..le (no line end) and notes the two headers
 * that matter, their values without surrounding blanks. */
static int header_line(struct mp_parser *p, const char *s, const char *le,
                       const char **disp, const char **disp_end,
                       const char **ct, const char **ct_end)
{
    const char *colon = memchr(s, ':', (size_t)(le - s));
    const char *v, *ve;

    if (*s == ' ' || *s == '\t')
        return fail(p, MP_ERR_HEADER, "part %u: folded header line (not supported)",
                    p->nparts);
    if (colon == NULL || colon == s || memchr(s, ' ', (size_t)(colon - s)) ||
        memchr(s, '\t', (size_t)(colon - s)) || has_ctl(s, (size_t)(colon - s)))
        return fail(p, MP_ERR_HEADER, "part %u: malformed header line", p->nparts);
    v = skip_ows(colon + 1, le);
    ve = le;
    while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
        ve--;
    for (const char *c = v; c < ve; c++) {
        if ((unsigned char)*c < 0x20 && *c != '\t')
            return fail(p, MP_ERR_HEADER, "part %u: control byte in %.*s header",
                        p->nparts, (int)(colon - s), s);
    }
    if (name_is(s, (size_t)(colon - s), "Content-Disposition")) {
        if (*disp != NULL)
            return fail(p, MP_ERR_DISPOSITION, "part %u: two Content-Disposition headers",
                        p->nparts);
        *disp = v;
        *disp_end = ve;
    } else if (name_is(s, (size_t)(colon - s), "Content-Type")) {
        if (*ct != NULL)
            return fail(p, MP_ERR_HEADER, "part %u: two Content-Type headers",
                        p->nparts);
        *ct = v;
        *ct_end = ve;
    }
    return 0;
}

/* The header block hdr[0..line_start) is complete: parse it and start the
 * part's body. */
static int begin_part(struct mp_parser *p)
{
    const char *s = p->hdr, *end = p->hdr + p->line_start;
    const char *disp = NULL, *disp_end = NULL, *ct = NULL, *ct_end = NULL;
    struct mp_part part = { 0 };
    char *o = p->sbuf;

    part.index = p->nparts;
    while (s < end) {
        const char *eol = memchr(s, '\n', (size_t)(end - s));
        const char *le = eol;

        if (le > s && le[-1] == '\r')
            le--;
        if (header_line(p, s, le, &disp, &disp_end, &ct, &ct_end) != 0)
            return p->error;
        s = eol + 1;
    }
    if (disp == NULL)
        return fail(p, MP_ERR_DISPOSITION, "part %u: no Content-Disposition header",
                    p->nparts);
    if (parse_disposition(p, disp, disp_end, &part, &o) != 0)
        return p->error;
    if (ct != NULL) {
        memcpy(o, ct, (size_t)(ct_end - ct));
        o[ct_end - ct] = '\0';
        part.content_type = o;
    }
    p->state = ST_BODY;
    hold_fake_lf(p);
    p->cb_msg = 0;
    if (p->cb.on_part_begin != NULL && p->cb.on_part_begin(p->arg, &part) != 0)
        return fail(p, MP_ERR_CALLBACK, "part %u (%s): rejected by the application",
                    p->nparts, part.name);
    p->in_part = 1;
    return 0;
}

/* Collects header lines (LF or CRLF ended) up to the empty line. */
static int feed_headers(struct mp_parser *p, const char *data, size_t len,
                        size_t *used)
{
    size_t pos = 0;

    while (pos < len) {
        const char *q = memchr(data + pos, '\n', len - pos);
        size_t n = q ? (size_t)(q - data) - pos + 1 : len - pos;
        size_t ll;

        if (n > p->max_hdr - p->hdr_len) {
            *used = pos;
            return fail(p, MP_ERR_HEADER_TOO_LONG,
                        "part %u: header too long (limit %zu bytes)",
                        p->nparts, p->max_hdr);
        }
        memcpy(p->hdr + p->hdr_len, data + pos, n);
        p->hdr_len += n;
        pos += n;
        if (q == NULL)
            break;
        ll = p->hdr_len - p->line_start;
        if (ll == 1 || (ll == 2 && p->hdr[p->line_start] == '\r')) {
            *used = pos;
            return begin_part(p);
        }
        p->line_start = p->hdr_len;
    }
    *used = pos;
    return 0;
}

int mp_parser_feed(struct mp_parser *p, const char *data, size_t len)
{
    size_t pos = 0;

    while (pos < len) {
        size_t used = 1;
        int rc;

        switch (p->state) {
        case ST_ERROR:
            return p->error;
        case ST_DONE:
            return MP_OK; /* epilogue */
        case ST_PREAMBLE:
        case ST_BODY:
            rc = feed_body(p, data + pos, len - pos, &used);
            break;
        case ST_HEADERS:
            rc = feed_headers(p, data + pos, len - pos, &used);
            break;
        default:
            rc = feed_tail(p, data[pos]);
            break;
        }
        if (rc != 0)
            return rc;
        pos += used;
    }
    return p->state == ST_ERROR ? p->error : MP_OK;
}

int mp_parser_finish(struct mp_parser *p)
{
    switch (p->state) {
    case ST_DONE:
        return MP_OK;
    case ST_ERROR:
        return p->error;
    case ST_PREAMBLE:
        return fail(p, MP_ERR_TRUNCATED,
                    "body ended before the first boundary (wrong boundary?)");
    default:
        return fail(p, MP_ERR_TRUNCATED,
                    "part %u: body ended before the closing boundary", p->nparts);
    }
}

int mp_parser_done(const struct mp_parser *p)
{
    return p->state == ST_DONE;
}

unsigned mp_parser_part_count(const struct mp_parser *p)
{
    return p->nparts;
}

const char *mp_parser_error(const struct mp_parser *p)
{
    return p->err;
}

void mp_parser_set_error(struct mp_parser *p, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(p->err, sizeof(p->err), fmt, ap);
    va_end(ap);
    p->cb_msg = 1;
}

const char *mp_strerror(int err)
{
    switch (err) {
    case MP_OK:                  return "success";
    case MP_ERR_BOUNDARY:        return "malformed boundary line";
    case MP_ERR_HEADER:          return "malformed part header";
    case MP_ERR_HEADER_TOO_LONG: return "part header too long";
    case MP_ERR_DISPOSITION:     return "malformed Content-Disposition";
    case MP_ERR_TOO_MANY_PARTS:  return "too many parts";
    case MP_ERR_TRUNCATED:       return "body ended before the closing boundary";
    case MP_ERR_CALLBACK:        return "rejected by the application";
    default:                     return "unknown multipart error";
    }
}
