/* fields.c - see fields.h. */
#include "fcgi/fields.h"

#include "http/form.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void fields_init(struct fields *f)
{
    memset(f, 0, sizeof(*f));
}

void fields_free(struct fields *f)
{
    for (int i = 0; i < f->n; i++) {
        free(f->v[i].name);
        free(f->v[i].value);
    }
    free(f->v);
    memset(f, 0, sizeof(*f));
}

int fields_add(struct fields *f, const char *name, const char *value,
               size_t len)
{
    struct field *nf;

    if (f->n == f->cap) {
        int cap = f->cap ? f->cap * 2 : 16;
        struct field *p = realloc(f->v, sizeof(*p) * (size_t)cap);
        if (!p)
            return -1;
        f->v = p;
        f->cap = cap;
    }
    nf = &f->v[f->n];
    nf->name = strdup(name);
    nf->value = malloc(len + 1);
    if (!nf->name || !nf->value) {
        free(nf->name);
        free(nf->value);
        return -1;
    }
    memcpy(nf->value, value, len);
    nf->value[len] = '\0';
    nf->len = len;
    f->n++;
    return 0;
}

const char *fields_get(const struct fields *f, const char *name)
{
    for (int i = 0; i < f->n; i++) {
        if (strcmp(f->v[i].name, name) == 0)
            return f->v[i].value;
    }
    return NULL;
}

long long fields_get_uint(const struct fields *f, const char *name,
                          long long max)
{
    const char *v = fields_get(f, name);
    char *end;
    long long n;

    if (!v || !*v)
        return -1;
    errno = 0;
    n = strtoll(v, &end, 10);
    if (*end || errno || n < 0 || n > max || !(*v >= '0' && *v <= '9'))
        return -2;
    return n;
}

static int fields_form_cb(void *arg, const char *name, size_t name_len,
                          const char *value, size_t value_len)
{
    (void)name_len;
    return fields_add(arg, name, value, value_len);
}

int fields_parse_query(struct fields *f, const char *query, size_t max_fields,
                       size_t max_value, char *err, size_t errlen)
{
    struct form_limits lim = { .max_fields = max_fields,
                               .max_value_len = max_value };

    return form_parse(query, strlen(query), &lim, fields_form_cb, f, err,
                      errlen) == FORM_OK ? 0 : -1;
}
