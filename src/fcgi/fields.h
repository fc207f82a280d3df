/*
 * fields.h - the named values of one request (query string plus form
 * fields), in arrival order.  Uploaded files are not here: submit.c keeps
 * those on disk.
 */
#ifndef RR_FIELDS_H
#define RR_FIELDS_H

#include <stddef.h>

struct field {
    char *name;   /* owned */
    char *value;  /* owned, NUL-terminated */
    size_t len;
};

struct fields {
    struct field *v;
    int n, cap;
};

void fields_init(struct fields *f);
void fields_free(struct fields *f);
/* Adds a copy of name and value.  0 or -1 (out of memory). */
int fields_add(struct fields *f, const char *name, const char *value,
               size_t len);
/* First value named name, or NULL. */
const char *fields_get(const struct fields *f, const char *name);
/* The value named name as a decimal integer in 0..max: the number, -1 if
 * absent or empty, -2 if anything else. */
long long fields_get_uint(const struct fields *f, const char *name,
                          long long max);
/* Parses a query string into f.  0, or -1 with err naming the problem. */
int fields_parse_query(struct fields *f, const char *query, size_t max_fields,
                       size_t max_value, char *err, size_t errlen);

#endif
