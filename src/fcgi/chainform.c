/* chainform.c - see chainform.h. */
#include "fcgi/chainform.h"

#include <string.h>

int chainform_split(char *list, const char **names, int max)
{
    char *p = list;
    int n = 0;

    for (;;) {
        char *comma = strchr(p, ',');

        if (comma)
            *comma = '\0';
        if (!*p)
            return CHAINFORM_EMPTY;
        if (n == max)
            return CHAINFORM_TOO_MANY;
        names[n++] = p;
        if (!comma)
            return n;
        p = comma + 1;
    }
}

int chainform_job_field(const char *name)
{
    static const char *const job[] = {
        "queue", "copies", "material", "color", "colour", "priority",
        "printer", "profile",
    };

    for (size_t i = 0; i < sizeof(job) / sizeof(job[0]); i++) {
        if (strcmp(name, job[i]) == 0)
            return 1;
    }
    return 0;
}

int chainform_field_stage(const char *name)
{
    const char *p = name + 4;
    int n = 0;

    if (strncmp(name, "then", 4) != 0 || *p < '0' || *p > '9')
        return 0;
    if (*p == '0')
        return -1;      /* then0: "service" and its fields are stage 0 */
    for (; *p >= '0' && *p <= '9'; p++) {
        if (p - name >= 4 + 3)
            return -1;  /* more digits than any stage number has */
        n = n * 10 + (*p - '0');
    }
    if (*p++ != '.')
        return -1;
    if (strcmp(p, "nativeArgs") == 0 || chainform_job_field(p))
        return n;
    if (strncmp(p, "arg", 3) == 0 && p[3] >= '0' && p[3] <= '9')
        return n;
    return -1;
}
