/* confdir.c - see confdir.h. */
#include "common/confdir.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void confdir_free(char **names)
{
    if (names == NULL)
        return;
    for (char **p = names; *p != NULL; p++)
        free(*p);
    free(names);
}

static int confdir_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_conf(const char *name)
{
    size_t len = strlen(name);

    return name[0] != '.' && len > 5 && strcmp(name + len - 5, ".conf") == 0;
}

long confdir_list(const char *dir, size_t max, const char *what,
                  char ***out, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **v = NULL, **nv;
    size_t n = 0;

    *out = NULL;
    if (d == NULL) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (!is_conf(e->d_name))
            continue;
        if (n >= max) {
            snprintf(err, errlen, "%s: more than %zu %s", dir, max, what);
            goto fail;
        }
        if ((nv = realloc(v, (n + 2) * sizeof(*v))) == NULL ||
            ((v = nv), (v[n] = strdup(e->d_name)) == NULL)) {
            snprintf(err, errlen, "out of memory");
            goto fail;
        }
        v[++n] = NULL;
    }
    closedir(d);
    if (n > 0)
        qsort(v, n, sizeof(*v), confdir_cmp);
    *out = v;
    return (long)n;
fail:
    closedir(d);
    confdir_free(v);
    return -1;
}
