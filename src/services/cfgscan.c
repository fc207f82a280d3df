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

/* Looking back from byte i of the chunk p being fed: the byte k places
 * back (0 = p[i]), lowercased, from the chunk or, before its start, from
 * the ring of the bytes fed before it.  -1 if there is none. */
static int cs_back(const struct cfgscan *s, const unsigned char *p, size_t i,
                   size_t k)
{
    if (k <= i)
        return cs_lower(p[i - k]);
    k -= i + 1;
    return k < s->wlen && k < sizeof(s->win)
               ? s->win[(s->wlen - 1 - k) % sizeof(s->win)] : -1;
}

/* 1 if the bytes up to p[i] end with post, up to 3 separators, process. */
static int cs_key_ends(const struct cfgscan *s, const unsigned char *p,
                       size_t i)
{
    static const char proc[] = "process", post[] = "post";
    size_t k = 0, seps = 0;
    int c;

    for (; k < 7; k++) {
        if (cs_back(s, p, i, k) != proc[6 - k])
            return 0;
    }
    while (seps < 3 && (c = cs_back(s, p, i, k)) >= 0 &&
           cs_sep((unsigned char)c)) {
        k++;
        seps++;
    }
    for (size_t j = 0; j < 4; j++) {
        if (cs_back(s, p, i, k + j) != post[3 - j])
            return 0;
    }
    return 1;
}

/* XML: does the quote at p[i] open a value?  It does after "value=",
 * blanks anywhere in between: looking back through the chunk, then
 * through the ring of the last non-blank bytes before it. */
static int cs_opens_value(const struct cfgscan *s, const unsigned char *p,
                          size_t i)
{
    static const char value[] = "value=";
    size_t j = 0, r = 0;

    while (j < 6 && i > 0) {
        unsigned char c = cs_lower(p[--i]);

        if (cs_blank(c))
            continue;
        if (c != (unsigned char)value[5 - j])
            return 0;
        j++;
    }
    for (; j < 6; j++, r++) {
        if (r >= s->nblen || r >= sizeof(s->nb) ||
            s->nb[(s->nblen - 1 - r) % sizeof(s->nb)] !=
                (unsigned char)value[5 - j])
            return 0;
    }
    return 1;
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

/* What a danger is (cfgscan_what). */
enum { CS_KEY, CS_CHARREF, CS_MARKUP, CS_UESCAPE };

/* The first danger found is the one reported. */
static void cs_flag(struct cfgscan *s, int why)
{
    if (!s->danger) {
        s->danger = s->line;
        s->why = why;
    }
}

static void cs_danger(struct cfgscan *s)
{
    cs_flag(s, CS_KEY);
    s->state = 0;
}

/* Could a decoded character be part of the key? */
static int cs_key_char(unsigned long v)
{
    return (v >= 'a' && v <= 'z') || (v >= 'A' && v <= 'Z') ||
           (v >= '0' && v <= '9') || v == '_' || v == '-';
}

static int cs_hex(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = cs_lower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A digit of the reference or escape being read: 1 if c was one. */
static int cs_ref_digit(struct cfgscan *s, unsigned char c)
{
    int hex = s->ref != 2, d = hex ? cs_hex(c) : c >= '0' && c <= '9'
                                                    ? c - '0' : -1;

    if (d < 0)
        return 0;
    /* past the last code point it stays past it: no overflow */
    if (s->refval <= 0x10ffff)
        s->refval = s->refval * (hex ? 16 : 10) + (unsigned long)d;
    s->refdigits++;
    if (s->ref == 5 && s->refdigits == 4) {
        if (cs_key_char(s->refval))
            cs_flag(s, CS_UESCAPE);
        s->ref = 0;
    }
    return 1;
}

/* What a slicer decodes before it reads a key, byte c: in XML "<!" and
 * "&#N;" / "&#xH;", in text (JSON) a backslash, u and four hex digits.
 * The key could be spelt or split in them, and real configs never need
 * them, so they are refused rather than decoded. */
static void cs_decoded(struct cfgscan *s, unsigned char c)
{
    if (s->lt && c == '!')
        cs_flag(s, CS_MARKUP);
    s->lt = s->xml && c == '<';
    if (s->ref == 1 && c == '#') {
        s->ref = 2;
        s->refval = 0;
        s->refdigits = 0;
        return;
    }
    if (s->ref == 2 && s->refdigits == 0 && (c == 'x' || c == 'X')) {
        s->ref = 3;
        return;
    }
    if (s->ref == 4 && c == 'u') {
        s->ref = 5;
        s->refval = 0;
        s->refdigits = 0;
        return;
    }
    if (s->ref >= 2 && cs_ref_digit(s, c))
        return;
    if ((s->ref == 2 || s->ref == 3) && c == ';' && s->refdigits > 0 &&
        cs_key_char(s->refval))
        cs_flag(s, CS_CHARREF);
    s->ref = s->xml && c == '&' ? 1 : !s->xml && c == '\\' ? 4 : 0;
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


/* Bytes the scan must stop at outside a value: the end of "process" and
 * line ends (1), in XML element starts, quotes and references (2), in
 * text escapes (4).  A table, as this is the test every byte of a large
 * AMF goes through. */
static const unsigned char cs_hot[256] = {
    ['s'] = 1, ['S'] = 1, ['\n'] = 1, ['<'] = 2, ['"'] = 2, ['\''] = 2,
    ['&'] = 2, ['\\'] = 4,
};

/* One byte, p[i], the slow way. */
static void cs_byte(struct cfgscan *s, const unsigned char *p, size_t i)
{
    unsigned char c = p[i];

    cs_decoded(s, c);
    if (s->state)
        cs_after_key(s, c);
    if (c == '\n')
        s->line++;
    if (s->xml && s->quote && !cs_blank(c)) {
        /* the first byte inside a value="..." */
        if (c != s->quote)
            s->elem_value = 1;
        s->quote = 0;
    } else if (s->xml && c == '<') {
        s->elem_value = 0;
    } else if (s->xml && (c == '"' || c == '\'') && cs_opens_value(s, p, i)) {
        s->quote = c;
    }
    if (!s->state && (c == 's' || c == 'S') && cs_key_ends(s, p, i)) {
        if (s->xml && s->elem_value)
            cs_danger(s);
        else {
            s->state = 1;
            s->rlen = 0;
        }
    }
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
    size_t i = 0, keep;

    unsigned char hot = s->xml ? 3 : 5;      /* hot[] values hot here */

    while (i < len) {
        /* Most bytes are none of the hot ones: skip them fast. */
        if (!s->state && !s->quote && !s->lt && !s->ref &&
            !(cs_hot[p[i]] & hot)) {
            i++;
            continue;
        }
        cs_byte(s, p, i++);
    }
    /* The rings keep the chunk's last bytes, and its last non-blank
     * ones, for the next chunk. */
    keep = len < sizeof(s->win) ? len : sizeof(s->win);
    for (i = len - keep; i < len; i++)
        s->win[s->wlen++ % sizeof(s->win)] = cs_lower(p[i]);
    for (i = len, keep = 0; i > 0 && keep < sizeof(s->nb); i--)
        keep += !cs_blank(p[i - 1]);
    for (; i < len; i++) {
        if (!cs_blank(p[i]))
            s->nb[s->nblen++ % sizeof(s->nb)] = cs_lower(p[i]);
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

const char *cfgscan_what(const struct cfgscan *s)
{
    switch (s->why) {
    case CS_CHARREF:
        return "has a character reference (&#...;) to a letter, digit, "
               "'_' or '-', which could spell post_process";
    case CS_MARKUP:
        return "has an XML comment, CDATA section or DOCTYPE (<!...), "
               "which could hide post_process";
    case CS_UESCAPE:
        return "has a \\u escape of a letter, digit, '_' or '-', which "
               "could spell post_process";
    default:
        return "sets post_process";
    }
}

unsigned long cfgscan_buf_what(const void *data, size_t len, int xml,
                               const char **what)
{
    struct cfgscan s;
    unsigned long line;

    cfgscan_init(&s, xml);
    cfgscan_feed(&s, data, len);
    line = cfgscan_finish(&s);
    if (what != NULL)
        *what = cfgscan_what(&s);
    return line;
}

unsigned long cfgscan_buf(const void *data, size_t len, int xml)
{
    return cfgscan_buf_what(data, len, xml, NULL);
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
    snprintf(err, errlen, "line %lu %s", line, cfgscan_what(&s));
    return -2;
}

/* ---- configs inside zips ---------------------------------------------- */

struct cs_zip {
    int amf;
    int in_entry;
    int seen_text;          /* a non-blank byte of the part was seen */
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
        z->seen_text = 0;
    }
    /* A part whose text starts with '<' is XML whatever its name
     * (Orca's Metadata/model_settings.config). */
    for (size_t i = 0; !z->seen_text && i < len; i++) {
        if (cs_blank(data[i]))
            continue;
        z->seen_text = 1;
        if (data[i] == '<')
            z->s.xml = 1;
    }
    if (len > 0) {
        cfgscan_feed(&z->s, data, len);
        return 0;
    }
    z->in_entry = 0;
    if ((line = cfgscan_finish(&z->s)) == 0)
        return 0;
    snprintf(err, errlen, "%.200s line %lu %s", name, line,
             cfgscan_what(&z->s));
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
