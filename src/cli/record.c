/*
 * record.c - task records as the server sends them, checked before any
 * value names a URL or a local file (reprapcloud.md 11.4).
 */
#include "cli/cli.h"

#include <ctype.h>
#include <stdarg.h>
#include <string.h>

#include "common/util.h"

#define ID_MAX 40
#define OUT_NAME_MAX 128

static const char safe_name_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-";

int cli_rec_id_valid(const char *s)
{
    size_t n = strlen(s), run = 0;
    int groups = 1;

    if (n == 0 || n > ID_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (isdigit((unsigned char)s[i])) {
            run++;
        } else if (s[i] == '-' && run > 0) {
            run = 0;
            groups++;
        } else {
            return 0;
        }
    }
    /* RepRapCloud 0.019 ids have three groups; older ones two. */
    return run > 0 && groups >= 2 && groups <= 3;
}

enum cli_status cli_rec_status(const char *s)
{
    static const struct {
        const char *word;
        enum cli_status st;
    } map[] = {
        { "queued", CLI_ST_QUEUED },       { "busy", CLI_ST_BUSY },
        { "complete", CLI_ST_COMPLETE },   { "failed", CLI_ST_FAILED },
        { "cancelled", CLI_ST_CANCELLED },
    };

    for (size_t i = 0; s && i < sizeof(map) / sizeof(map[0]); i++) {
        if (!strcmp(s, map[i].word))
            return map[i].st;
    }
    return CLI_ST_UNKNOWN;
}

const char *cli_rec_str(const json_t *rec, const char *key)
{
    const json_t *v = json_object_get(rec, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

int cli_rec_out_name(const char *out, char *name, size_t len)
{
    const char *p = out;
    size_t n;

    if (*p == '/')
        p++;
    if (strncmp(p, "tasks/out/", 10) != 0)
        return -1;
    p += 10;
    n = strlen(p);
    if (n == 0 || n > OUT_NAME_MAX || n >= len || p[0] == '.' ||
        strspn(p, safe_name_chars) != n)
        return -1;
    memcpy(name, p, n + 1);
    return 0;
}

/* RepRapCloud's text answer: "key: value" lines. */
static json_t *parse_text(const char *body, size_t len)
{
    json_t *obj = json_object();
    const char *p = body, *end = body + len;

    while (obj && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        size_t klen = strcspn(p, ": \t\r\n");
        char key[64];

        if (p + klen + 1 < eol && klen > 0 && klen < sizeof(key) &&
            p[klen] == ':' && p[klen + 1] == ' ') {
            const char *v = p + klen + 2;
            size_t vlen = (size_t)(eol - v);

            if (vlen > 0 && v[vlen - 1] == '\r')
                vlen--;
            memcpy(key, p, klen);
            key[klen] = '\0';
            if (json_object_set_new(obj, key, json_stringn(v, vlen)) < 0) {
                json_decref(obj);
                return NULL;
            }
        }
        p = eol + 1;
    }
    if (obj && json_object_size(obj) == 0) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

json_t *cli_rec_parse(const char *body, size_t len, char *err, size_t errlen)
{
    size_t i = 0;
    json_error_t je;
    json_t *v;

    while (i < len && isspace((unsigned char)body[i]))
        i++;
    if (i < len && (body[i] == '{' || body[i] == '[')) {
        v = json_loadb(body, len, 0, &je);
        if (!v)
            snprintf(err, errlen, "bad JSON in answer: %s (line %d)",
                     je.text, je.line);
        return v;
    }
    v = parse_text(body, len);
    if (!v)
        snprintf(err, errlen, "the answer is neither JSON nor key: value "
                 "lines");
    return v;
}

int cli_rec_default_output(const char *input, const char *out_name,
                           char *buf, size_t len)
{
    const char *ext = strrchr(out_name, '.');
    const char *base, *dot;
    size_t stem;

    if (!ext || ext == out_name || !ext[1])
        ext = ".out";
    if (!input)
        return rr_fmt(buf, len, "%s", out_name);
    base = strrchr(input, '/');
    base = base ? base + 1 : input;
    dot = strrchr(base, '.');
    stem = (dot && dot != base) ? (size_t)(dot - base) : strlen(base);
    if (stem == 0)
        return -1;
    return rr_fmt(buf, len, "%.*s%s", (int)stem, base, ext);
}
