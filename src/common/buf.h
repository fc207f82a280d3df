/*
 * buf.h - a growable byte buffer with a hard cap, for building responses
 * and collecting bounded input.  An append past the cap fails and leaves
 * the buffer as it was.
 */
#ifndef RR_BUF_H
#define RR_BUF_H

#include <stddef.h>

struct buf {
    char *data;   /* NUL-terminated when len > 0; owned */
    size_t len;
    size_t cap;
    size_t max;   /* hard cap on len */
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);            /* len = 0, keeps memory */
/* Each returns 0, or -1 if out of memory or over the cap. */
/* Makes room for len more bytes (and a NUL) at once: fewer reallocations
 * for a caller that knows about what it will append. */
int buf_reserve(struct buf *b, size_t len);
int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s with the JSON string escapes (no quotes added). */
int buf_json_escape(struct buf *b, const char *s);
/* Appends s with &<>"' escaped for HTML text and attributes. */
int buf_html_escape(struct buf *b, const char *s);

#endif
