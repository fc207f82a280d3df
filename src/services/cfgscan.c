/* cfgscan.c - see cfgscan.h. */
#include "services/cfgscan.h"

#include "services/zipdir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* Whitespace as Boost's trim sees it (the C locale's isspace). */
static int cs_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

/* What may stand around an empty value in a text format. */
static int cs_empty_char(unsigned char c)
{
    return c == '"' || c == '\'' || c == '=' || c == ':' || c == ',' ||
           c == '[' || c == ']';
}

static int cs_sep(unsigned char c)
{
    return c == '_' || c == '-' || c == ' ' || c == '\t';
}

static unsigned char cs_lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Appends c to a window of n bytes holding *len. */
static void cs_push(unsigned char *win, size_t n, size_t *len,
                    unsigned char c)
{
    if (*len == n) {
        memmove(win, win + 1, n - 1);
        (*len)--;
    }
    win[(*len)++] = c;
}

/* 1 if the window ends with post, up to 3 separators, process. */
static int cs_key_ends(const struct cfgscan *s)
{
    size_t n = s->wlen, seps = 0;

    if (n < 11 || memcmp(s->win + n - 7, "process", 7) != 0)
        return 0;
    n -= 7;
    while (n > 0 && seps < 3 && cs_sep(s->win[n - 1])) {
        n--;
        seps++;
    }
    return n >= 4 && memcmp(s->win + n - 4, "post", 4) == 0;
}

/* XML: is rest (the non-blank bytes after the key) an empty attribute or
 * element?  1 yes, 0 no, -1 not yet known (a prefix of one). */
static int cs_xml_empty(const char *rest, size_t n)
{
    static const char *const forms[] = {
        "\"/>", "'/>", "\"value=\"\"/>", "'value=''/>", "\"value=''/>",
        "'value=\"\"/>", "\"></metadata>", "'></metadata>",
    };
    int prefix = 0;

    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        size_t fl = strlen(forms[i]);

        if (n >= fl && strncmp(rest, forms[i], fl) == 0)
            return 1;
        if (n < fl && strncmp(rest, forms[i], n) == 0)
            prefix = 1;
    }
    return prefix ? -1 : 0;
}

static void cs_danger(struct cfgscan *s)
{
    if (!s->danger)
        s->danger = s->line;
    s->state = 0;
}

/* One byte after the key. */
static void cs_after_key(struct cfgscan *s, unsigned char c)
{
    int v;

    if (!s->xml) {
        /* Only LF ends a line for getline; CR, VT and FF are trimmed
         * off the value, so the value goes on past them. */
        if (c == '\n')
            s->state = 0;       /* the line ended: no value */
        else if (!cs_blank(c) && !cs_empty_char(c))
            cs_danger(s);
        return;
    }
    if (cs_blank(c))
        return;
    s->rest[s->rlen++] = (char)cs_lower(c);
    v = cs_xml_empty(s->rest, s->rlen);
    if (v == 1)
        s->state = 0;
    else if (v == 0)
        cs_danger(s);
    /* -1: rlen stays below the longest form, shorter than rest[] */
}

/* XML: notes a non-empty value="..." (or '...') in the current element. */
static void cs_xml_value(struct cfgscan *s, unsigned char c)
{
    size_t n = s->cwlen;

    if (c == '<') {
        s->elem_value = 0;
        return;
    }
    if (n >= 7 && memcmp(s->cwin + n - 7, "value=", 6) == 0 &&
        (s->cwin[n - 1] == '"' || s->cwin[n - 1] == '\'') &&
        c != s->cwin[n - 1])
        s->elem_value = 1;
}

void cfgscan_init(struct cfgscan *s, int xml)
{
    memset(s, 0, sizeof(*s));
    s->xml = xml;
    s->line = 1;
}

void cfgscan_feed(struct cfgscan *s, const void *data, size_t len)
{
    const unsigned char *p = data;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = p[i], lc = cs_lower(c);

        if (s->state)
            cs_after_key(s, c);
        if (c == '\n')
            s->line++;
        if (s->xml && !cs_blank(c)) {
            cs_xml_value(s, lc);
            cs_push(s->cwin, sizeof(s->cwin), &s->cwlen, lc);
        }
        cs_push(s->win, sizeof(s->win), &s->wlen, lc);
        if (!s->state && lc == 's' && cs_key_ends(s)) {
            if (s->xml && s->elem_value)
                cs_danger(s);
            else {
                s->state = 1;
                s->rlen = 0;
            }
        }
    }
}

unsigned long cfgscan_finish(struct cfgscan *s)
{
    /* Text: the input ended after the key, as at a line end.  XML: an
     * element left open after the key is no well-formed empty one. */
    if (s->state && s->xml)
        cs_danger(s);
    s->state = 0;
    return s->danger;
}

unsigned long cfgscan_buf(const void *data, size_t len, int xml)
{
    struct cfgscan s;

    cfgscan_init(&s, xml);
    cfgscan_feed(&s, data, len);
    return cfgscan_finish(&s);
}

int cfgscan_file(const char *path, int xml, char *err, size_t errlen)
{
    struct cfgscan s;
    unsigned char buf[16384];
    unsigned long line;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0) {
        snprintf(err, errlen, "cannot read file: %s", strerror(errno));
        return -1;
    }
    cfgscan_init(&s, xml);
    while ((n = read(fd, buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "cannot read file: %s", strerror(errno));
            close(fd);
            return -1;
        }
        cfgscan_feed(&s, buf, (size_t)n);
    }
    close(fd);
    if ((line = cfgscan_finish(&s)) == 0)
        return 0;
    snprintf(err, errlen, "line %lu sets post_process", line);
    return -2;
}

/* ---- configs inside zips ---------------------------------------------- */

struct cs_zip {
    int amf;
    int in_entry;
    int danger;
    struct cfgscan s;
};

static int cs_ends(const char *name, const char *suffix)
{
    size_t n = strlen(name), k = strlen(suffix);

    return n >= k && strcasecmp(name + n - k, suffix) == 0;
}

static int cs_want(void *arg, const char *name)
{
    static const char *const skip[] = { ".model", ".png", ".jpg", ".jpeg",
                                        ".gif", ".webp", ".bmp" };
    const struct cs_zip *z = arg;

    if (z->amf)
        return 1;
    for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++) {
        if (cs_ends(name, skip[i]))
            return 0;
    }
    return 1;
}

static int cs_xml_name(const char *name)
{
    return cs_ends(name, ".model") || cs_ends(name, ".amf") ||
           cs_ends(name, ".xml") || cs_ends(name, ".rels") ||
           cs_ends(name, "_model.config");
}

static int cs_data(void *arg, const char *name, const unsigned char *data,
                   size_t len, char *err, size_t errlen)
{
    struct cs_zip *z = arg;
    unsigned long line;

    if (!z->in_entry) {
        cfgscan_init(&z->s, cs_xml_name(name));
        z->in_entry = 1;
    }
    if (len > 0) {
        cfgscan_feed(&z->s, data, len);
        return 0;
    }
    z->in_entry = 0;
    if ((line = cfgscan_finish(&z->s)) == 0)
        return 0;
    snprintf(err, errlen, "%.200s line %lu sets post_process", name, line);
    z->danger = 1;
    return 1;
}

int cfgscan_zip(const char *path, unsigned long long size, int amf,
                char *err, size_t errlen)
{
    struct cs_zip z;

    memset(&z, 0, sizeof(z));
    z.amf = amf;
    if (zipdir_read_entries(path, size, CFGSCAN_INFLATE_MAX, cs_want,
                            cs_data, &z, err, errlen) == 0)
        return 0;
    return z.danger ? -2 : -1;
}
