/* loadmgr.c - see loadmgr.h. */
#include "fleet/loadmgr.h"

#include <stdlib.h>
#include <string.h>

double loadmgr_load(const struct fleet_frontend *f)
{
    if (f->capacity <= 0)
        return 1.0;
    return (double)f->assigned / (double)f->capacity;
}

static int usable(const struct fleet_frontend *f, long long avoid_id)
{
    return f->enabled && f->healthy && f->id != avoid_id &&
           f->assigned < f->capacity;
}

/* 1 if a is a better pick than b (lower load, fewer printers, lower id). */
static int better(const struct fleet_frontend *a,
                  const struct fleet_frontend *b)
{
    /* Compare assigned/capacity without division rounding. */
    long long la = a->assigned * (long long)b->capacity;
    long long lb = b->assigned * (long long)a->capacity;

    if (la != lb)
        return la < lb;
    if (a->assigned != b->assigned)
        return a->assigned < b->assigned;
    return a->id < b->id;
}

/* Best usable frontend of region (NULL = any region, except the one in
 * `not_region` when given). */
static int best_in(const struct fleet_frontend *fe, size_t n,
                   const char *region, const char *not_region,
                   long long avoid_id)
{
    int best = -1;

    for (size_t i = 0; i < n; i++) {
        if (!usable(&fe[i], avoid_id))
            continue;
        if (region && strcmp(fe[i].region, region) != 0)
            continue;
        if (!region && not_region && strcmp(fe[i].region, not_region) == 0)
            continue;
        if (best < 0 || better(&fe[i], &fe[best]))
            best = (int)i;
    }
    return best;
}

/* Finds region's entry "region:a,b,c" in fallback; copies "a,b,c" into
 * list.  0 if found. */
static int fallback_of(const char *fallback, const char *region, char *list,
                       size_t len)
{
    const char *p = fallback;
    size_t rlen = strlen(region);

    while (p && *p) {
        const char *end = strchr(p, ';'), *colon;
        size_t elen;

        while (*p == ' ' || *p == '\t')
            p++;
        elen = end ? (size_t)(end - p) : strlen(p);
        colon = memchr(p, ':', elen);
        if (colon && (size_t)(colon - p) >= rlen &&
            strncmp(p, region, rlen) == 0) {
            const char *k = p + rlen;
            while (k < colon && (*k == ' ' || *k == '\t'))
                k++;
            if (k == colon) {
                size_t l = elen - (size_t)(colon + 1 - p);
                if (l >= len)
                    l = len - 1;
                memcpy(list, colon + 1, l);
                list[l] = '\0';
                return 0;
            }
        }
        p = end ? end + 1 : NULL;
    }
    return -1;
}

int loadmgr_choose(const struct fleet_frontend *fe, size_t n,
                   const char *region, const char *fallback,
                   long long avoid_id)
{
    char list[1024], *save = NULL, *tok;
    int best;

    if (!region || !*region)
        return best_in(fe, n, NULL, NULL, avoid_id);
    best = best_in(fe, n, region, NULL, avoid_id);
    if (best >= 0 || !fallback || !*fallback ||
        fallback_of(fallback, region, list, sizeof(list)) < 0)
        return best;
    for (tok = strtok_r(list, ", \t", &save); tok;
         tok = strtok_r(NULL, ", \t", &save)) {
        if (strcmp(tok, "*") == 0)
            best = best_in(fe, n, NULL, region, avoid_id);
        else
            best = best_in(fe, n, tok, NULL, avoid_id);
        if (best >= 0)
            return best;
    }
    return -1;
}

int loadmgr_must_drain(const struct fleet_frontend *f, double now,
                       double grace)
{
    if (!f->enabled)
        return 1;
    return !f->healthy && f->unhealthy_since > 0 &&
           now - f->unhealthy_since >= grace;
}

static int index_of(const struct fleet_frontend *fe, size_t n, long long id)
{
    for (size_t i = 0; i < n; i++) {
        if (fe[i].id == id)
            return (int)i;
    }
    return -1;
}

int loadmgr_rebalance(struct fleet_frontend *fe, size_t n,
                      const struct loadmgr_printer *p, size_t np,
                      const char *fallback, double now, double grace,
                      struct loadmgr_move **out, size_t *nout)
{
    char *drain = calloc(n ? n : 1, 1);
    struct fleet_frontend *work = NULL;
    size_t cap = 0;
    int rc = -1;

    *out = NULL;
    *nout = 0;
    if (!drain)
        goto out;
    for (size_t i = 0; i < n; i++)
        drain[i] = (char)loadmgr_must_drain(&fe[i], now, grace);
    /* The choice must not pick a drained frontend: hide them from it by
     * marking them unusable in a copy. */
    work = malloc((n ? n : 1) * sizeof(*work));
    if (!work)
        goto out;
    memcpy(work, fe, n * sizeof(*work));
    for (size_t i = 0; i < n; i++) {
        if (drain[i])
            work[i].enabled = 0;
    }
    for (size_t k = 0; k < np; k++) {
        int from = p[k].frontend_id ? index_of(fe, n, p[k].frontend_id) : -1;
        int to;

        if (p[k].frontend_id && from >= 0 && !drain[from])
            continue;          /* where it is is fine */
        to = loadmgr_choose(work, n, p[k].region, fallback, 0);
        if (to < 0)
            continue;          /* nowhere to go: stay, try next round */
        if (*nout >= cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct loadmgr_move *m = realloc(*out, ncap * sizeof(*m));
            if (!m)
                goto out;
            *out = m;
            cap = ncap;
        }
        (*out)[*nout].printer_id = p[k].id;
        (*out)[*nout].from_id = p[k].frontend_id;
        (*out)[*nout].to_id = work[to].id;
        (*nout)++;
        work[to].assigned++;
        fe[to].assigned++;
        if (from >= 0) {
            work[from].assigned--;
            fe[from].assigned--;
        }
    }
    rc = 0;
out:
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *nout = 0;
    }
    free(work);
    free(drain);
    return rc;
}
