/*
 * kv.c - parser for RepRapCloud's "key = value" files (see kv.h).
 */
#include "common/kv.h"
#include "common/util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define KV_FILE_MAX (1024 * 1024)

static int kv_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int kv_is_keychar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

/* Cuts a trailing comment: '#' preceded by a blank starts one, so values
 * such as "#fff" or "a#b" keep their '#'. */
static void kv_strip_comment(char *s)
{
    for (char *p = s + 1; *p != '\0'; p++) {
        if (*p == '#' && kv_is_blank(p[-1])) {
            *p = '\0';
            return;
        }
    }
}

static char *kv_trim(char *s)
{
    char *end;

    while (kv_is_blank(*s))
        s++;
    end = s + strlen(s);
    while (end > s && (kv_is_blank(end[-1]) || end[-1] == '\r'))
        *--end = '\0';
    return s;
}

/* Parses one NUL-terminated line in place; 0 = skipped or passed to cb. */
static int kv_parse_line(char *line, int lineno, kv_cb cb, void *arg,
                         char *err, size_t errlen)
{
    char *p = kv_trim(line), *key, *value;

    if (*p == '\0' || *p == '#')
        return 0;
    kv_strip_comment(p);
    key = p;
    while (kv_is_keychar(*p))
        p++;
    if (p == key) {
        snprintf(err, errlen, "line %d: a key must start the line ([A-Za-z0-9_.-])",
                 lineno);
        return -1;
    }
    value = p;
    while (kv_is_blank(*value))
        value++;
    if (*value != '=' && *value != ':') {
        snprintf(err, errlen, "line %d: expected 'key = value' or 'key: value'",
                 lineno);
        return -1;
    }
    *p = '\0';                  /* ends the key (p <= value) */
    value = kv_trim(value + 1);
    for (const char *c = value; *c != '\0'; c++) {
        if ((unsigned char)*c < 0x20 && *c != '\t') {
            snprintf(err, errlen, "line %d: control character in value of '%s'",
                     lineno, key);
            return -1;
        }
    }
    if (cb(arg, key, value, lineno, err, errlen) != 0) {
        if (err[0] == '\0')
            snprintf(err, errlen, "line %d: '%s' rejected", lineno, key);
        return -1;
    }
    return 0;
}

int kv_parse_buf(const char *buf, size_t len, kv_cb cb, void *arg,
                 char *err, size_t errlen)
{
    char *copy, *line;
    int lineno = 1, rc = 0;

    if (errlen > 0)
        err[0] = '\0';
    if (memchr(buf, '\0', len) != NULL) {
        snprintf(err, errlen, "NUL byte in text");
        return -1;
    }
    if ((copy = malloc(len + 1)) == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(copy, buf, len);
    copy[len] = '\0';
    line = copy;
    while (line != NULL && *line != '\0') {
        char *nl = strchr(line, '\n');

        if (nl != NULL)
            *nl = '\0';
        if (kv_parse_line(line, lineno, cb, arg, err, errlen) != 0) {
            rc = -1;
            break;
        }
        line = nl != NULL ? nl + 1 : NULL;
        lineno++;
    }
    free(copy);
    return rc;
}

/* Reads a whole regular file of at most KV_FILE_MAX bytes into *out. */
static int kv_read_file(const char *path, char **out, size_t *outlen,
                        char *err, size_t errlen)
{
    int e;

    if ((*out = rr_read_file(path, KV_FILE_MAX, outlen)) != NULL)
        return 0;
    e = errno;
    if (e == EINVAL || e == EFBIG)
        snprintf(err, errlen, "%s: not a regular file of at most %d bytes",
                 path, KV_FILE_MAX);
    else
        snprintf(err, errlen, "%s: %s", path, strerror(e));
    return e == ENOENT ? -2 : -1;
}

int kv_parse_file(const char *path, kv_cb cb, void *arg,
                  char *err, size_t errlen)
{
    char *buf = NULL, inner[512];
    size_t len = 0;
    int rc;

    if (errlen > 0)
        err[0] = '\0';
    rc = kv_read_file(path, &buf, &len, err, errlen);
    if (rc != 0)
        return rc;
    rc = kv_parse_buf(buf, len, cb, arg, inner, sizeof(inner));
    if (rc != 0)
        snprintf(err, errlen, "%s: %s", path, inner);
    free(buf);
    return rc;
}

/* Parses leading decimal digits into *out; returns the rest or NULL. */
static const char *kv_parse_digits(const char *s, unsigned long long *out)
{
    unsigned long long v = 0;
    const char *p = s;

    while (*p >= '0' && *p <= '9') {
        unsigned d = (unsigned)(*p - '0');

        if (v > (ULLONG_MAX - d) / 10)
            return NULL;
        v = v * 10 + d;
        p++;
    }
    if (p == s)
        return NULL;
    *out = v;
    return p;
}

int kv_parse_size(const char *s, unsigned long long *out)
{
    unsigned long long v, mult = 1;
    const char *p;

    if (s == NULL || (p = kv_parse_digits(s, &v)) == NULL)
        return -1;
    switch (*p) {
    case 'k': case 'K': mult = 1ULL << 10; p++; break;
    case 'm': case 'M': mult = 1ULL << 20; p++; break;
    case 'g': case 'G': mult = 1ULL << 30; p++; break;
    case 't': case 'T': mult = 1ULL << 40; p++; break;
    default: break;
    }
    /* "64K", "64KB" and "64KiB" all mean 65536 */
    if (mult > 1 && p[0] == 'i' && p[1] == 'B')
        p += 2;
    else if (*p == 'B' || *p == 'b')
        p++;
    if (*p != '\0' || v > ULLONG_MAX / mult)
        return -1;
    *out = v * mult;
    return 0;
}

int kv_parse_duration(const char *s, long long *out)
{
    unsigned long long v, mult = 1;
    const char *p;

    if (s == NULL || (p = kv_parse_digits(s, &v)) == NULL)
        return -1;
    switch (*p) {
    case 's': p++; break;
    case 'm': mult = 60; p++; break;
    case 'h': mult = 3600; p++; break;
    case 'd': mult = 86400; p++; break;
    default: break;
    }
    if (*p != '\0' || v > (unsigned long long)LLONG_MAX / mult)
        return -1;
    *out = (long long)(v * mult);
    return 0;
}

int kv_parse_bool(const char *s, int *out)
{
    static const char *const yes[] = { "yes", "true", "on", "1" };
    static const char *const no[] = { "no", "false", "off", "0" };

    if (s == NULL)
        return -1;
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return -1;
}
