/*
 * output.c - what rrcloud prints.  Data goes to stdout, messages to
 * stderr; whatever came from a server is sanitised first.
 */
#include "cli/cli.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int out_quiet;

size_t cli_out_sanitize(char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)buf[i];

        if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
            buf[i] = '?';
        } else if (c == 0xc2 && i + 1 < len &&
                   (unsigned char)buf[i + 1] >= 0x80 &&
                   (unsigned char)buf[i + 1] <= 0x9f) {
            /* U+0080..U+009F: C1 controls such as CSI */
            buf[i] = '?';
            buf[++i] = '?';
        }
    }
    return len;
}

void cli_out_set_quiet(int quiet)
{
    out_quiet = quiet;
}

static void vmsg(const char *prefix, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void vmsg(const char *prefix, const char *fmt, va_list ap)
{
    char line[1024];

    vsnprintf(line, sizeof(line), fmt, ap);
    fflush(stdout);
    fprintf(stderr, "%s%s\n", prefix, line);
}

void cli_out_error(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmsg("error: ", fmt, ap);
    va_end(ap);
}

void cli_out_warn(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vmsg("warning: ", fmt, ap);
    va_end(ap);
}

void cli_out_note(const char *fmt, ...)
{
    va_list ap;

    if (out_quiet)
        return;
    va_start(ap, fmt);
    vmsg("", fmt, ap);
    va_end(ap);
}

/* A value as one line of text: malloc'd, sanitised, NULL on no memory. */
static char *value_line(const json_t *v)
{
    char *s;

    if (json_is_string(v))
        s = strndup(json_string_value(v), json_string_length(v));
    else if (json_is_null(v))
        s = strdup("");
    else
        s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY |
                       JSON_REAL_PRECISION(16));
    if (!s)
        return NULL;
    for (char *p = s; *p; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    }
    cli_out_sanitize(s, strlen(s));
    return s;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void cli_out_record(FILE *f, const json_t *rec)
{
    size_t n = json_object_size(rec), i = 0;
    const char **keys;
    const char *k;
    json_t *v;

    if (n == 0)
        return;
    keys = calloc(n, sizeof(*keys));
    if (!keys)
        return;
    json_object_foreach((json_t *)rec, k, v)
        keys[i++] = k;
    qsort(keys, n, sizeof(*keys), cmp_str);
    for (i = 0; i < n; i++) {
        char *key = strdup(keys[i]);
        char *val = value_line(json_object_get(rec, keys[i]));

        if (key && val) {
            cli_out_sanitize(key, strlen(key));
            fprintf(f, "%s: %s\n", key, val);
        }
        free(key);
        free(val);
    }
    free(keys);
}

void cli_out_list(FILE *f, const json_t *arr)
{
    size_t i;
    json_t *rec;

    json_array_foreach(arr, i, rec) {
        char *id = value_line(json_object_get(rec, "id"));

        if (!json_is_object(rec))
            continue;
        fprintf(f, "=== id: %s\n", id ? id : "");
        free(id);
        cli_out_record(f, rec);
        fputc('\n', f);
    }
}

void cli_out_json(FILE *f, const json_t *v)
{
    json_dumpf(v, f, JSON_INDENT(2) | JSON_ENCODE_ANY |
               JSON_REAL_PRECISION(16));
    fputc('\n', f);
}

void cli_out_log(FILE *f, const char *data, size_t len, size_t dropped)
{
    char *copy;

    if (dropped)
        fprintf(f, "[... %zu bytes of the log skipped]\n", dropped);
    if (len == 0)
        return;
    copy = malloc(len);
    if (!copy)
        return;
    memcpy(copy, data, len);
    cli_out_sanitize(copy, len);
    fwrite(copy, 1, len, f);
    if (copy[len - 1] != '\n')
        fputc('\n', f);
    free(copy);
}

/* {"error": {"message": ..., "field": ...}} or {"error": "..."}. */
static int json_message(const char *body, size_t len, char *buf,
                        size_t buflen)
{
    json_t *doc = json_loadb(body, len, 0, NULL);
    const json_t *e = json_object_get(doc, "error");
    const char *msg = NULL, *field = NULL;

    if (json_is_string(e)) {
        msg = json_string_value(e);
    } else if (json_is_object(e)) {
        msg = cli_rec_str(e, "message");
        field = cli_rec_str(e, "field");
    }
    if (msg && field && field[0])
        snprintf(buf, buflen, "%s (field %s)", msg, field);
    else if (msg)
        snprintf(buf, buflen, "%s", msg);
    json_decref(doc);
    return msg ? 0 : -1;
}

/* "error: message" at the start of a line of a text body. */
static int text_message(const char *body, size_t len, char *buf,
                        size_t buflen)
{
    const char *p = body, *end = body + len;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;

        if ((size_t)(eol - p) > 7 && !strncasecmp(p, "error: ", 7)) {
            int n = (int)(eol - p - 7);

            if (n > 0 && p[7 + n - 1] == '\r')
                n--;
            snprintf(buf, buflen, "%.*s", n, p + 7);
            return 0;
        }
        p = eol + 1;
    }
    return -1;
}

void cli_out_server_message(long status, const char *body, size_t len,
                            char *buf, size_t buflen)
{
    if (buflen == 0)
        return;
    buf[0] = '\0';
    if (!body || len == 0 ||
        (json_message(body, len, buf, buflen) < 0 &&
         text_message(body, len, buf, buflen) < 0))
        snprintf(buf, buflen, "the server answered HTTP %ld", status);
    for (char *p = buf; *p; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    }
    cli_out_sanitize(buf, strlen(buf));
}

/* --- tables -------------------------------------------------------- */

void cli_out_cell(const json_t *v, char *buf, size_t len)
{
    size_t i, n = 0;
    json_t *it;

    if (len == 0)
        return;
    buf[0] = '\0';
    if (json_is_string(v)) {
        snprintf(buf, len, "%s", json_string_value(v));
    } else if (json_is_integer(v)) {
        snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        snprintf(buf, len, "%g", json_real_value(v));
    } else if (json_is_boolean(v)) {
        snprintf(buf, len, "%s", json_is_true(v) ? "yes" : "no");
    } else if (json_is_array(v)) {
        json_array_foreach(v, i, it) {
            char item[256];

            cli_out_cell(it, item, sizeof(item));
            if (n < len)
                n += (size_t)snprintf(buf + n, len - n, "%s%s",
                                      i ? "," : "", item);
        }
    }
    if (!buf[0] || !strcmp(buf, "-"))
        snprintf(buf, len, "-");
    for (char *p = buf; *p; p++) {
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    }
    cli_out_sanitize(buf, strlen(buf));
}

void cli_out_age(double then, double now, char *buf, size_t len)
{
    double d = now - then;

    if (then <= 0) {
        snprintf(buf, len, "never");
        return;
    }
    if (d < 0)
        d = 0;
    if (d < 120)
        snprintf(buf, len, "%.0fs ago", d);
    else if (d < 7200)
        snprintf(buf, len, "%.0fm ago", d / 60);
    else if (d < 172800)
        snprintf(buf, len, "%.0fh ago", d / 3600);
    else
        snprintf(buf, len, "%.0fd ago", d / 86400);
}

void cli_out_duration(double secs, char *buf, size_t len)
{
    long long s = secs > 0 ? (long long)(secs + 0.5) : 0;

    if (s < 60)
        snprintf(buf, len, "%llds", s);
    else if (s < 3600)
        snprintf(buf, len, "%lldm %02llds", s / 60, s % 60);
    else if (s < 86400)
        snprintf(buf, len, "%lldh %02lldm", s / 3600, s % 3600 / 60);
    else
        snprintf(buf, len, "%lldd %lldh", s / 86400, s % 86400 / 3600);
}

int cli_table_init(struct cli_table *t, size_t ncols, const char *const *head)
{
    memset(t, 0, sizeof(*t));
    t->ncols = ncols;
    return cli_table_add(t, head);
}

int cli_table_add(struct cli_table *t, const char *const *cells)
{
    size_t at = t->nrows * t->ncols;

    if (t->ncols == 0)
        return -1;
    if ((t->nrows + 1) * t->ncols > t->cap) {
        size_t cap = t->cap ? t->cap * 2 : t->ncols * 16;
        char **p;

        while (cap < (t->nrows + 1) * t->ncols)
            cap *= 2;
        if (!(p = realloc(t->cells, cap * sizeof(*p))))
            return -1;
        t->cells = p;
        t->cap = cap;
    }
    for (size_t c = 0; c < t->ncols; c++) {
        char *s = strdup(cells[c] ? cells[c] : "");

        if (!s) {
            while (c-- > 0)
                free(t->cells[at + c]);
            return -1;
        }
        for (char *p = s; *p; p++) {
            if (*p == '\n' || *p == '\r' || *p == '\t')
                *p = ' ';
        }
        cli_out_sanitize(s, strlen(s));
        t->cells[at + c] = s;
    }
    t->nrows++;
    return 0;
}

/* Characters in s: UTF-8 continuation bytes do not count. */
static size_t text_width(const char *s)
{
    size_t n = 0;

    for (; *s; s++) {
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    }
    return n;
}

void cli_table_print(FILE *f, const struct cli_table *t)
{
    size_t *w = calloc(t->ncols ? t->ncols : 1, sizeof(*w));

    if (!w)
        return;
    for (size_t r = 0; r < t->nrows; r++) {
        for (size_t c = 0; c < t->ncols; c++) {
            size_t n = text_width(t->cells[r * t->ncols + c]);

            if (n > w[c])
                w[c] = n;
        }
    }
    for (size_t r = 0; r < t->nrows; r++) {
        size_t last = t->ncols;

        /* empty cells at the end of a row would leave trailing blanks */
        while (last > 1 && !t->cells[r * t->ncols + last - 1][0])
            last--;
        for (size_t c = 0; c < last; c++) {
            const char *s = t->cells[r * t->ncols + c];

            fputs(s, f);
            if (c + 1 < last)
                fprintf(f, "%*s", (int)(w[c] - text_width(s) + 2), "");
        }
        fputc('\n', f);
    }
    free(w);
}

void cli_table_free(struct cli_table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof(*t));
}
