/*
 * fuzz_multipart.c - the streaming multipart parser (http/multipart.h).
 *
 * Input: a Content-Type line, then the body.  The body is fed in chunks
 * whose sizes come from the Content-Type line's length, so both one-byte
 * and whole-body feeds are tried; limits are small so that every limit is
 * reached.  The callbacks check what multipart.h promises.
 */
#include "fuzz.h"

#include "http/multipart.h"

#include <stdlib.h>
#include <string.h>

struct mp_state {
    int in_part;
    size_t bytes;
};

static int on_begin(void *arg, const struct mp_part *p)
{
    struct mp_state *st = arg;

    if (st->in_part || !p->name || p->index < 1)
        abort();
    st->in_part = 1;
    /* Read each string to its end: ASan checks they are terminated. */
    st->bytes += strlen(p->name);
    if (p->filename)
        st->bytes += strlen(p->filename);
    if (p->content_type)
        st->bytes += strlen(p->content_type);
    return p->name[0] == '!';   /* a callback refusing */
}

static int on_data(void *arg, const char *d, size_t len)
{
    struct mp_state *st = arg;

    if (!st->in_part || len == 0)
        abort();
    /* Touch every byte so ASan checks the span. */
    for (size_t i = 0; i < len; i++)
        st->bytes += (unsigned char)d[i] != 0;
    return 0;
}

static int on_end(void *arg)
{
    struct mp_state *st = arg;

    if (!st->in_part)
        abort();
    st->in_part = 0;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct mp_callbacks cb = { on_begin, on_data, on_end };
    struct mp_limits lim = { .max_header_bytes = 200, .max_parts = 8 };
    const uint8_t *nl = memchr(data, '\n', size);
    char ctype[256], boundary[MP_BOUNDARY_MAX + 1];
    struct mp_state st = { 0, 0 };
    struct mp_parser *p;
    size_t hl, off, chunk;

    if (!nl || (hl = (size_t)(nl - data)) >= sizeof(ctype))
        return 0;
    memcpy(ctype, data, hl);
    ctype[hl] = '\0';
    if (mp_boundary_from_content_type(ctype, boundary, sizeof(boundary)) < 0)
        return 0;
    if (!(p = mp_parser_new(boundary, &lim, &cb, &st)))
        return 0;
    chunk = hl % 7 == 0 ? size : hl % 7;   /* 1..6 bytes, or all at once */
    for (off = hl + 1; off < size; off += chunk) {
        size_t n = size - off < chunk ? size - off : chunk;
        /* An exact copy per chunk: reading past it is an ASan report. */
        char *c = malloc(n);
        int rc;

        if (!c)
            break;
        memcpy(c, data + off, n);
        rc = mp_parser_feed(p, c, n);
        free(c);
        if (rc != MP_OK || mp_parser_done(p))
            break;
    }
    if (mp_parser_finish(p) != MP_OK && !*mp_parser_error(p))
        abort();   /* an error always has a message */
    mp_parser_part_count(p);
    mp_parser_free(p);
    return 0;
}
