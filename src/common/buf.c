/* buf.c - see buf.h. */
#include "common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t max)
{
    memset(b, 0, sizeof(*b));
    b->max = max;
}

void buf_free(struct buf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

/* Makes room for len more bytes plus a NUL. */
int buf_reserve(struct buf *b, size_t len)
{
    size_t need, cap;
    char *p;

    if (len > b->max || b->len > b->max - len)
        return -1;
    need = b->len + len + 1;
    if (need <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    p = realloc(b->data, cap);
    if (!p)
        return -1;
    b->data = p;
    b->cap = cap;
    return 0;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
    if (buf_reserve(b, len) < 0)
        return -1;
    if (len)
        memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

int buf_puts(struct buf *b, const char *s)
{
    return buf_append(b, s, strlen(s));
}

int buf_putc(struct buf *b, char c)
{
    return buf_append(b, &c, 1);
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
    size_t room = b->cap > b->len ? b->cap - b->len : 0;
    va_list ap;
    int n;

    /* One pass when it fits in the room there is: most calls. */
    va_start(ap, fmt);
    n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -1;
    if ((size_t)n >= room) {
        if (buf_reserve(b, (size_t)n) < 0) {
            if (b->data)
                b->data[b->len] = '\0';
            return -1;
        }
        va_start(ap, fmt);
        vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
    } else if ((size_t)n > b->max || b->len > b->max - (size_t)n) {
        b->data[b->len] = '\0';    /* over the cap: as it was */
        return -1;
    }
    b->len += (size_t)n;
    return 0;
}

/* 1 for the bytes a JSON string cannot hold as they are */
static const unsigned char json_special[256] = {
    [0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1,
    [0x06] = 1, [0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1,
    [0x0c] = 1, [0x0d] = 1, [0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1,
    [0x12] = 1, [0x13] = 1, [0x14] = 1, [0x15] = 1, [0x16] = 1, [0x17] = 1,
    [0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1, [0x1c] = 1, [0x1d] = 1,
    [0x1e] = 1, [0x1f] = 1, ['"'] = 1, ['\\'] = 1,
};

int buf_json_escape(struct buf *b, const char *s)
{
    const char *run = s;

    for (;; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];

        if (!json_special[c])
            continue;
        if (buf_append(b, run, (size_t)(s - run)) < 0)
            return -1;
        if (c == '\0')
            return 0;
        switch (c) {
        case '"': strcpy(esc, "\\\""); break;
        case '\\': strcpy(esc, "\\\\"); break;
        case '\n': strcpy(esc, "\\n"); break;
        case '\r': strcpy(esc, "\\r"); break;
        case '\t': strcpy(esc, "\\t"); break;
        default: snprintf(esc, sizeof(esc), "\\u%04x", c); break;
        }
        if (buf_puts(b, esc) < 0)
            return -1;
        run = s + 1;
    }
}

int buf_html_escape(struct buf *b, const char *s)
{
    const char *run = s;

    for (; *s; s++) {
        const char *esc;

        switch (*s) {
        case '&': esc = "&amp;"; break;
        case '<': esc = "&lt;"; break;
        case '>': esc = "&gt;"; break;
        case '"': esc = "&quot;"; break;
        case '\'': esc = "&#39;"; break;
        default: continue;
        }
        if (buf_append(b, run, (size_t)(s - run)) < 0 || buf_puts(b, esc) < 0)
            return -1;
        run = s + 1;
    }
    return buf_append(b, run, (size_t)(s - run));
}
