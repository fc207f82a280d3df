/* service_words.c - the word and name helpers of the service confs
 * (service_int.h): vectors of strings, splitting, substitution, ids and
 * task file names. */
#include "services/service_int.h"

#include <stdlib.h>
#include <string.h>

static int svc_is_blank(char c)
{
    return c == ' ' || c == '\t';
}

void svc_vec_free(char **v)
{
    if (v == NULL)
        return;
    for (char **p = v; *p != NULL; p++)
        free(*p);
    free(v);
}

/* Appends a copy of s (len bytes) to the NULL-ended vector *v of *n. */
int svc_vec_push(char ***v, size_t *n, const char *s, size_t len)
{
    char **nv = realloc(*v, (*n + 2) * sizeof(char *));

    if (nv == NULL)
        return -1;
    *v = nv;
    if ((nv[*n] = strndup(s, len)) == NULL)
        return -1;
    nv[++*n] = NULL;
    return 0;
}

/* Splits s at any of seps, trimming blanks; empty items are skipped.
 * Returns the item count (vector in *out, possibly NULL when 0) or -1. */
long svc_split(const char *s, const char *seps, char ***out)
{
    size_t n = 0;

    *out = NULL;
    while (*s != '\0') {
        size_t len = strcspn(s, seps), end = len;
        const char *w = s;

        while (end > 0 && svc_is_blank(w[end - 1]))
            end--;
        while (end > 0 && svc_is_blank(*w)) {
            w++;
            end--;
        }
        if (end > 0 && svc_vec_push(out, &n, w, end) != 0) {
            svc_vec_free(*out);
            *out = NULL;
            return -1;
        }
        s += len;
        if (*s != '\0')
            s++;
    }
    return (long)n;
}

/* tmpl with every var replaced by val; malloc'd or NULL. */
char *svc_subst(const char *tmpl, const char *var, const char *val)
{
    size_t vlen = strlen(var), n = 0, len;
    const char *p;
    char *out, *o;

    for (p = tmpl; (p = strstr(p, var)) != NULL; p += vlen)
        n++;
    len = strlen(tmpl) + n * strlen(val) + 1;
    if ((out = malloc(len)) == NULL)
        return NULL;
    for (o = out, p = tmpl; *p != '\0'; ) {
        if (strncmp(p, var, vlen) == 0) {
            o = stpcpy(o, val);
            p += vlen;
        } else {
            *o++ = *p++;
        }
    }
    *o = '\0';
    return out;
}

static int svc_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int svc_id_ok(const char *id)
{
    size_t n = 0;

    for (; id[n] != '\0'; n++)
        if (!svc_alnum(id[n]) && id[n] != '_' && id[n] != '-')
            return 0;
    return n > 0 && n <= SVC_ID_MAX;
}

/* A file name in the task directory: [A-Za-z0-9._-], no leading '.'/'-'. */
int svc_plain_name(const char *s)
{
    if (s == NULL || s[0] == '\0' || s[0] == '.' || s[0] == '-' ||
        strlen(s) > SVC_FILENAME_MAX || strstr(s, "..") != NULL)
        return 0;
    for (; *s != '\0'; s++)
        if (!svc_alnum(*s) && *s != '.' && *s != '_' && *s != '-')
            return 0;
    return 1;
}

