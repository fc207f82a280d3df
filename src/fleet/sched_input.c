/* sched_input.c - building a round's input for the scheduler: interned
 * strings, printers, copies, exclusions, sites and needs (see
 * scheduler.h); the rounds themselves are in scheduler.c. */
#include "fleet/sched_int.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a */

    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

void sched_input_init(struct sched_input *in)
{
    memset(in, 0, sizeof(*in));
}

void sched_input_free(struct sched_input *in)
{
    if (in->strings) {
        for (size_t i = 1; i < in->strings->n; i++)
            free(in->strings->str[i]);
        free(in->strings->str);
        free(in->strings->slots);
        free(in->strings);
    }
    free(in->printers);
    free(in->copies);
    free(in->excluded);
    for (size_t i = 0; i < in->nsites; i++)
        free(in->sites[i].hours);
    free(in->sites);
    free(in->needs);
    sched_input_init(in);
}

int sched_grow(void **arr, size_t *cap, size_t n, size_t sz)
{
    size_t ncap;
    void *p;

    if (n < *cap)
        return 0;
    ncap = *cap ? *cap * 2 : 64;
    p = realloc(*arr, ncap * sz);
    if (!p)
        return -1;
    *arr = p;
    *cap = ncap;
    return 0;
}

static int strtab_rehash(struct sched_strtab *t, size_t nslots)
{
    int *slots = malloc(nslots * sizeof(*slots));

    if (!slots)
        return -1;
    for (size_t i = 0; i < nslots; i++)
        slots[i] = -1;
    for (size_t id = 1; id < t->n; id++) {
        size_t h = (size_t)hash_str(t->str[id]) & (nslots - 1);
        while (slots[h] >= 0)
            h = (h + 1) & (nslots - 1);
        slots[h] = (int)id;
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = nslots;
    return 0;
}

int sched_intern(struct sched_input *in, const char *s)
{
    struct sched_strtab *t = in->strings;
    size_t h;
    char *copy;

    if (!s || !*s)
        return 0;
    if (!t) {
        t = calloc(1, sizeof(*t));
        if (!t)
            return -1;
        in->strings = t;
        if (sched_grow((void **)&t->str, &t->cap, 0, sizeof(char *)) < 0 ||
            strtab_rehash(t, 256) < 0)
            return -1;
        t->str[0] = NULL;
        t->n = 1;
    }
    h = (size_t)hash_str(s) & (t->nslots - 1);
    while (t->slots[h] >= 0) {
        if (strcmp(t->str[t->slots[h]], s) == 0)
            return t->slots[h];
        h = (h + 1) & (t->nslots - 1);
    }
    if (t->n >= INT32_MAX || sched_grow((void **)&t->str, &t->cap, t->n,
                                  sizeof(char *)) < 0)
        return -1;
    copy = strdup(s);
    if (!copy)
        return -1;
    t->str[t->n] = copy;
    t->slots[h] = (int)t->n;
    t->n++;
    if (t->n * 2 > t->nslots && strtab_rehash(t, t->nslots * 2) < 0)
        return -1;
    return (int)t->n - 1;
}

const char *sched_string(const struct sched_input *in, int id)
{
    if (id <= 0 || !in->strings || (size_t)id >= in->strings->n)
        return "";
    return in->strings->str[id];
}

struct sched_printer *sched_add_printer(struct sched_input *in)
{
    struct sched_printer *p;

    if (sched_grow((void **)&in->printers, &in->printers_cap, in->nprinters,
             sizeof(*p)) < 0)
        return NULL;
    p = &in->printers[in->nprinters++];
    memset(p, 0, sizeof(*p));
    p->spool_g = -1;             /* unknown: no limit */
    return p;
}

struct sched_copy *sched_add_copy(struct sched_input *in)
{
    struct sched_copy *c;

    if (sched_grow((void **)&in->copies, &in->copies_cap, in->ncopies,
             sizeof(*c)) < 0)
        return NULL;
    c = &in->copies[in->ncopies++];
    memset(c, 0, sizeof(*c));
    return c;
}

int sched_add_excluded(struct sched_input *in, long long printer_id)
{
    if (sched_grow((void **)&in->excluded, &in->excluded_cap, in->nexcluded,
             sizeof(*in->excluded)) < 0)
        return -1;
    in->excluded[in->nexcluded++] = printer_id;
    return 0;
}

/* The entry of a site, made if needed; NULL if out of memory. */
static struct sched_site *site_get(struct sched_input *in, int site)
{
    struct sched_site *e;

    for (size_t i = 0; i < in->nsites; i++) {
        if (in->sites[i].site == site)
            return &in->sites[i];
    }
    if (sched_grow((void **)&in->sites, &in->sites_cap, in->nsites,
             sizeof(*in->sites)) < 0)
        return NULL;
    e = &in->sites[in->nsites++];
    memset(e, 0, sizeof(*e));
    e->site = site;
    return e;
}

int sched_set_heating(struct sched_input *in, int site, int heating)
{
    struct sched_site *e = site_get(in, site);

    if (!e)
        return -1;
    e->heating = heating;
    return 0;
}

int sched_set_hours(struct sched_input *in, int site,
                    const struct fleet_hours *h)
{
    struct sched_site *e = site_get(in, site);

    if (!e || (!e->hours && !(e->hours = malloc(sizeof(*e->hours)))))
        return -1;
    *e->hours = *h;
    for (size_t i = 0; i < in->nprinters; i++) {
        if (in->printers[i].site == site)
            in->printers[i].hours = e->hours;
    }
    return 0;
}

int sched_add_need(struct sched_input *in, double time_s, double grams)
{
    if (sched_grow((void **)&in->needs, &in->needs_cap, in->nneeds,
             sizeof(*in->needs)) < 0)
        return -1;
    in->needs[in->nneeds].time_s = time_s;
    in->needs[in->nneeds].grams = grams;
    in->nneeds++;
    return 0;
}

size_t sched_nstrings(const struct sched_input *in)
{
    return in->strings ? in->strings->n : 1;
}
