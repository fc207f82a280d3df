/*
 * kv.h - the "key = value" file format of RepRapCloud's service files
 * (services/NAME.conf) and rrcloudrc, which rrcloud.conf shares.
 *
 * Lines starting with '#' and blank lines are skipped; " #" and a tab before
 * '#' start a trailing comment; "key = value" and "key: value" both work.
 * Key and value are trimmed of surrounding blanks (RepRapCloud kept trailing
 * blanks in values, which only ever caused bugs).  A key is [A-Za-z0-9_.-]+.
 */
#ifndef RR_KV_H
#define RR_KV_H

#include <stddef.h>

/* Called for each pair with NUL-terminated key and value (valid only during
 * the call).  Return 0 to go on; -1 stops parsing and kv_parse_* returns -1
 * (the callback should have filled err itself). */
typedef int (*kv_cb)(void *arg, const char *key, const char *value,
                     int lineno, char *err, size_t errlen);

/* Parses buf[0..len).  Returns 0, or -1 with a message "line N: ..." in err
 * for a malformed line or a callback error. */
int kv_parse_buf(const char *buf, size_t len, kv_cb cb, void *arg,
                 char *err, size_t errlen);

/* Reads path (at most 1 MiB) and parses it.  Returns 0, -1 with err set
 * ("PATH: line N: ..." or "PATH: strerror"), or -2 if the file does not
 * exist (err set too), so optional files are easy to skip. */
int kv_parse_file(const char *path, kv_cb cb, void *arg,
                  char *err, size_t errlen);

/* Parses a size such as "512", "64K", "32M", "1G" (binary units) into
 * *out.  Returns 0 or -1. */
int kv_parse_size(const char *s, unsigned long long *out);

/* Parses a non-negative integer with optional unit suffix s, m, h, d for a
 * duration in seconds.  Returns 0 or -1. */
int kv_parse_duration(const char *s, long long *out);

/* Parses yes/no/true/false/on/off/1/0.  Returns 0 or -1. */
int kv_parse_bool(const char *s, int *out);

#endif
