/* scheduler.c - see scheduler.h. */
#include "fleet/sched_int.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- the rules ------------------------------------------------------------ */

static long long base_score(const struct sched_params *prm,
                            const struct sched_copy *c)
{
    long long s = c->priority;
    double age = prm->now - c->created;

    if (prm->age_boost > 0 && age > 0)
        s += (long long)floor(age / prm->age_boost);
    return s;
}

/* Would printer p have to change spool for a copy of this material and
 * colour?  Only a printer without a fixed material/colour can. */
static int needs_change(const struct sched_printer *p, int material,
                        int colour)
{
    if (!p->material && material && p->last_material &&
        material != p->last_material)
        return 1;
    if (!p->colour && colour && p->last_colour && colour != p->last_colour)
        return 1;
    return 0;
}

long long sched_score(const struct sched_params *prm,
                      const struct sched_printer *p,
                      const struct sched_copy *c)
{
    long long s = base_score(prm, c);

    if (needs_change(p, c->material, c->colour))
        s -= prm->change_penalty;
    return s;
}

static int excluded(const struct sched_input *in, const struct sched_copy *c,
                    long long printer_id)
{
    for (size_t i = 0; i < c->nexcl; i++) {
        if (in->excluded[c->excl_off + i] == printer_id)
            return 1;
    }
    return 0;
}

static int serves(const struct sched_printer *p, const struct sched_copy *c)
{
    if (c->target)
        return c->target == p->id;
    for (int i = 0; i < p->nqueues; i++) {
        if (p->queues[i] == c->queue)
            return 1;
    }
    return 0;
}

static int spool_fits(int printer_v, int copy_v)
{
    return !copy_v || !printer_v || copy_v == printer_v;
}

/* The profile of the file printer p would print of copy c: its own, else
 * 0 for the any-profile file; -1 if c has neither. */
static int file_profile(const struct sched_printer *p,
                        const struct sched_copy *c)
{
    int any = 0;

    for (int i = 0; i < c->nprofiles; i++) {
        if (c->profiles[i] == 0)
            any = 1;
        else if (p->profile && c->profiles[i] == p->profile)
            return p->profile;
    }
    return any ? 0 : -1;
}

int sched_fits(const struct sched_input *in, const struct sched_printer *p,
               const struct sched_copy *c, int *profile)
{
    int prof;

    if (!serves(p, c) || !spool_fits(p->material, c->material) ||
        !spool_fits(p->colour, c->colour))
        return 0;
    if ((prof = file_profile(p, c)) < 0 || excluded(in, c, p->id))
        return 0;
    *profile = prof;
    return 1;
}

/* Order of two candidates with already-adjusted scores: < 0 if a first. */
static int cand_cmp(long long sa, const struct sched_copy *a, long long sb,
                    const struct sched_copy *b)
{
    if (sa != sb)
        return sa > sb ? -1 : 1;
    if (a->position != b->position)
        return a->position < b->position ? -1 : 1;
    if (a->created != b->created)
        return a->created < b->created ? -1 : 1;
    if (a->job_id != b->job_id)
        return a->job_id < b->job_id ? -1 : 1;
    if (a->copy != b->copy)
        return a->copy < b->copy ? -1 : 1;
    return 0;
}

/* Printers in service order: longest idle first, then by id. */
static int printer_order_cmp(const void *x, const void *y, void *arg)
{
    const struct sched_printer *pr = arg;
    const struct sched_printer *a = &pr[*(const size_t *)x];
    const struct sched_printer *b = &pr[*(const size_t *)y];

    if (a->ready_since != b->ready_since)
        return a->ready_since < b->ready_since ? -1 : 1;
    return (a->id > b->id) - (a->id < b->id);
}

static size_t *printer_order(const struct sched_input *in)
{
    size_t *ord = malloc((in->nprinters ? in->nprinters : 1) * sizeof(*ord));

    if (!ord)
        return NULL;
    for (size_t i = 0; i < in->nprinters; i++)
        ord[i] = i;
    qsort_r(ord, in->nprinters, sizeof(*ord), printer_order_cmp,
            in->printers);
    return ord;
}

/* Heat-up slots: heating per interned site, from in->sites. */
static int *site_heating(const struct sched_input *in)
{
    size_t n = sched_nstrings(in);
    int *h = calloc(n ? n : 1, sizeof(*h));

    if (!h)
        return NULL;
    for (size_t i = 0; i < in->nsites; i++) {
        if (in->sites[i].site >= 0 && (size_t)in->sites[i].site < n)
            h[in->sites[i].site] = in->sites[i].heating;
    }
    return h;
}

static int site_full(const struct sched_params *prm, const int *heating,
                     const struct sched_printer *p)
{
    return prm->heatup_max > 0 && heating[p->site] >= prm->heatup_max;
}

static int push_assignment(struct sched_assignment **out, size_t *n,
                           size_t *cap, const struct sched_printer *p,
                           const struct sched_copy *c, int profile)
{
    if (sched_grow((void **)out, cap, *n, sizeof(**out)) < 0)
        return -1;
    (*out)[*n].printer_id = p->id;
    (*out)[*n].job_id = c->job_id;
    (*out)[*n].copy = c->copy;
    (*out)[*n].profile = profile;
    (*n)++;
    return 0;
}

/* ---- the reference: every printer scans every copy -------------------------- */

int sched_run_naive(const struct sched_input *in,
                    const struct sched_params *prm,
                    struct sched_assignment **out, size_t *nout)
{
    size_t *ord = printer_order(in), cap = 0;
    int *heating = site_heating(in);
    char *taken = calloc(in->ncopies ? in->ncopies : 1, 1);
    int rc = -1;

    *out = NULL;
    *nout = 0;
    if (!ord || !heating || !taken)
        goto out;
    for (size_t k = 0; k < in->nprinters; k++) {
        const struct sched_printer *p = &in->printers[ord[k]];
        const struct sched_copy *best = NULL;
        long long best_s = 0;
        size_t best_i = 0;
        int best_prof = 0, prof;

        if (site_full(prm, heating, p))
            continue;
        for (size_t i = 0; i < in->ncopies; i++) {
            const struct sched_copy *c = &in->copies[i];
            long long s;

            if (taken[i] || !sched_fits(in, p, c, &prof) ||
                sched_check(in, prm, p, c, prof) != SCHED_OK)
                continue;
            s = sched_score(prm, p, c);
            if (!best || cand_cmp(s, c, best_s, best) < 0) {
                best = c;
                best_s = s;
                best_i = i;
                best_prof = prof;
            }
        }
        if (!best)
            continue;
        taken[best_i] = 1;
        heating[p->site]++;
        if (push_assignment(out, nout, &cap, p, best, best_prof) < 0)
            goto out;
    }
    rc = 0;
out:
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *nout = 0;
    }
    free(ord);
    free(heating);
    free(taken);
    return rc;
}

/* ---- the fast path: buckets of jobs with heaps ---------------------------- */

/* A unit is one job's waiting copies (they share every rule and score);
 * copies are handed out lowest index first. */
struct unit {
    const struct sched_copy *first;  /* copy used for the rules */
    size_t *copies;                   /* indices into in->copies, sorted */
    size_t ncopies, next;             /* next copy to hand out */
    long long score;                  /* base score */
};

struct bucket {
    long long owner;                  /* queue id, or -printer id */
    int profile, material, colour;
    size_t *heap;                     /* unit indices */
    size_t n, cap;
    size_t next_in_group;             /* chain, SIZE_MAX = end */
};

struct group {                        /* buckets of one (owner, profile) */
    long long owner;
    int profile;
    size_t first_bucket;              /* SIZE_MAX = none */
};

struct sched_ctx {
    const struct sched_input *in;
    const struct sched_params *prm;
    struct unit *units;
    size_t nunits;
    size_t *copy_idx;                 /* in->copies sorted by job, copy */
    struct bucket *buckets;
    size_t nbuckets, bcap;
    struct group *groups;             /* open addressing */
    size_t ngslots;
    size_t *stash;                    /* units set aside (excluded) */
    size_t nstash, stash_cap;
    unsigned char *noted;             /* per unit: a limit held it back */
    int want_holds;
};

static int unit_less(const struct sched_ctx *x, size_t a, size_t b)
{
    return cand_cmp(x->units[a].score, x->units[a].first, x->units[b].score,
                    x->units[b].first) < 0;
}

static int heap_push(struct sched_ctx *x, struct bucket *b, size_t u)
{
    size_t i;

    if (sched_grow((void **)&b->heap, &b->cap, b->n, sizeof(*b->heap)) < 0)
        return -1;
    i = b->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!unit_less(x, u, b->heap[parent]))
            break;
        b->heap[i] = b->heap[parent];
        i = parent;
    }
    b->heap[i] = u;
    return 0;
}

static void heap_pop(struct sched_ctx *x, struct bucket *b)
{
    size_t i = 0, last;

    if (!b->n)
        return;
    last = b->heap[--b->n];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        size_t mv = last;
        if (l < b->n && unit_less(x, b->heap[l], mv)) {
            m = l;
            mv = b->heap[l];
        }
        if (r < b->n && unit_less(x, b->heap[r], mv))
            m = r;
        if (m == i)
            break;
        b->heap[i] = b->heap[m];
        i = m;
    }
    if (b->n)
        b->heap[i] = last;
}

static size_t group_slot(const struct sched_ctx *x, long long owner,
                         int profile)
{
    uint64_t h = (uint64_t)owner * 0x9E3779B97F4A7C15ULL ^
                 (uint64_t)(unsigned)profile * 0xC2B2AE3D27D4EB4FULL;
    size_t s = (size_t)(h ^ (h >> 29)) & (x->ngslots - 1);

    while (x->groups[s].first_bucket != SIZE_MAX &&
           (x->groups[s].owner != owner || x->groups[s].profile != profile))
        s = (s + 1) & (x->ngslots - 1);
    return s;
}

/* The bucket for (owner, profile, material, colour), made if needed. */
static struct bucket *bucket_get(struct sched_ctx *x, long long owner,
                                 int profile, int material, int colour)
{
    size_t s = group_slot(x, owner, profile), b;
    struct group *g = &x->groups[s];

    for (b = g->first_bucket; b != SIZE_MAX; b = x->buckets[b].next_in_group) {
        if (x->buckets[b].material == material &&
            x->buckets[b].colour == colour)
            return &x->buckets[b];
    }
    if (sched_grow((void **)&x->buckets, &x->bcap, x->nbuckets,
             sizeof(*x->buckets)) < 0)
        return NULL;
    b = x->nbuckets++;
    memset(&x->buckets[b], 0, sizeof(x->buckets[b]));
    x->buckets[b].owner = owner;
    x->buckets[b].profile = profile;
    x->buckets[b].material = material;
    x->buckets[b].colour = colour;
    x->buckets[b].next_in_group = g->first_bucket;
    g->owner = owner;
    g->profile = profile;
    g->first_bucket = b;
    return &x->buckets[b];
}

static int copy_idx_cmp(const void *a, const void *b, void *arg)
{
    const struct sched_copy *c = arg;
    const struct sched_copy *x = &c[*(const size_t *)a];
    const struct sched_copy *y = &c[*(const size_t *)b];

    if (x->job_id != y->job_id)
        return x->job_id < y->job_id ? -1 : 1;
    return (x->copy > y->copy) - (x->copy < y->copy);
}

/* Groups copies into units and units into buckets. */
static int build(struct sched_ctx *x)
{
    const struct sched_input *in = x->in;
    size_t n = in->ncopies, i = 0, entries = 0;

    /* Every (owner, profile) group comes from some copy's profile: twice
     * that many slots keep the open addressing short and never full. */
    for (size_t k = 0; k < n; k++)
        entries += (size_t)(in->copies[k].nprofiles > 0
                                ? in->copies[k].nprofiles : 0);
    x->copy_idx = malloc((n ? n : 1) * sizeof(*x->copy_idx));
    x->units = malloc((n ? n : 1) * sizeof(*x->units));
    for (x->ngslots = 64; x->ngslots < 2 * entries + 64; x->ngslots *= 2)
        ;
    x->groups = malloc(x->ngslots * sizeof(*x->groups));
    x->noted = calloc(n ? n : 1, 1);
    if (!x->copy_idx || !x->units || !x->groups || !x->noted)
        return -1;
    for (size_t s = 0; s < x->ngslots; s++)
        x->groups[s].first_bucket = SIZE_MAX;
    for (size_t k = 0; k < n; k++)
        x->copy_idx[k] = k;
    qsort_r(x->copy_idx, n, sizeof(*x->copy_idx), copy_idx_cmp, in->copies);
    while (i < n) {
        const struct sched_copy *c = &in->copies[x->copy_idx[i]];
        struct unit *u = &x->units[x->nunits];
        size_t j = i;
        long long owner = c->target ? -c->target : c->queue;

        while (j < n && in->copies[x->copy_idx[j]].job_id == c->job_id)
            j++;
        u->first = c;
        u->copies = &x->copy_idx[i];
        u->ncopies = j - i;
        u->next = 0;
        u->score = base_score(x->prm, c);
        for (int p = 0; p < c->nprofiles; p++) {
            struct bucket *b = bucket_get(x, owner, c->profiles[p],
                                          c->material, c->colour);
            if (!b || heap_push(x, b, x->nunits) < 0)
                return -1;
        }
        x->nunits++;
        i = j;
    }
    return 0;
}

/* Marks unit u as one a limit held back from some printer this round;
 * take_holds weighs it against every ready printer at the end. */
static void note_hold(struct sched_ctx *x, size_t u, enum sched_hold_why why)
{
    if (x->want_holds && why != SCHED_HOLD_PENDING)
        x->noted[u] = 1;
}

/* Best unit of bucket b for printer p, setting aside the ones it may not
 * take (excluded, or held by its spool or hours); or SIZE_MAX. */
static size_t bucket_head(struct sched_ctx *x, struct bucket *b,
                          const struct sched_printer *p)
{
    while (b->n) {
        size_t u = b->heap[0];
        const struct sched_copy *c = x->units[u].first;

        if (x->units[u].next >= x->units[u].ncopies) {
            heap_pop(x, b);          /* used up through another bucket */
            continue;
        }
        if (!excluded(x->in, c, p->id)) {
            int prof = file_profile(p, c);
            enum sched_hold_why why = sched_check(x->in, x->prm, p, c,
                                                  prof < 0 ? 0 : prof);
            if (why == SCHED_OK)
                return u;
            note_hold(x, u, why);
        }
        /* Set aside (bucket, unit) pairs; put back after this printer. */
        if (sched_grow((void **)&x->stash, &x->stash_cap, x->nstash + 1,
                 sizeof(*x->stash)) < 0)
            return SIZE_MAX - 1;
        x->stash[x->nstash++] = (size_t)(b - x->buckets);
        x->stash[x->nstash++] = u;
        heap_pop(x, b);
    }
    return SIZE_MAX;
}

static int unstash(struct sched_ctx *x)
{
    for (size_t i = 0; i + 1 < x->nstash; i += 2) {
        if (heap_push(x, &x->buckets[x->stash[i]], x->stash[i + 1]) < 0)
            return -1;
    }
    x->nstash = 0;
    return 0;
}

struct pick {
    size_t unit, bucket;
    long long score;
    int profile;
};

/* Considers every bucket of group (owner, profile) for printer p. */
static int consider_group(struct sched_ctx *x, const struct sched_printer *p,
                          long long owner, int profile, struct pick *best)
{
    size_t s = group_slot(x, owner, profile);

    for (size_t b = x->groups[s].first_bucket; b != SIZE_MAX;
         b = x->buckets[b].next_in_group) {
        struct bucket *bk = &x->buckets[b];
        size_t u;
        long long sc;

        if (!spool_fits(p->material, bk->material) ||
            !spool_fits(p->colour, bk->colour))
            continue;
        u = bucket_head(x, bk, p);
        if (u == SIZE_MAX - 1)
            return -1;
        if (u == SIZE_MAX)
            continue;
        sc = x->units[u].score;
        if (needs_change(p, bk->material, bk->colour))
            sc -= x->prm->change_penalty;
        if (best->unit == SIZE_MAX ||
            cand_cmp(sc, x->units[u].first, best->score,
                     x->units[best->unit].first) < 0) {
            best->unit = u;
            best->bucket = b;
            best->score = sc;
            best->profile = profile;
        }
    }
    return 0;
}

/* The best unit printer p can take, over its queues and profiles. */
static int best_for(struct sched_ctx *x, const struct sched_printer *p,
                    struct pick *best)
{
    int profs[2] = { p->profile, 0 };
    int nprof = p->profile ? 2 : 1;

    best->unit = SIZE_MAX;
    for (int k = 0; k < nprof; k++) {
        int prof = p->profile ? profs[k] : 0;
        if (consider_group(x, p, -p->id, prof, best) < 0)
            return -1;
        for (int q = 0; q < p->nqueues; q++) {
            if (p->queues[q] && consider_group(x, p, p->queues[q], prof,
                                               best) < 0)
                return -1;
        }
    }
    return 0;
}

static void ctx_free(struct sched_ctx *x)
{
    for (size_t b = 0; b < x->nbuckets; b++)
        free(x->buckets[b].heap);
    free(x->buckets);
    free(x->groups);
    free(x->units);
    free(x->copy_idx);
    free(x->stash);
    free(x->noted);
}

/* Each job that got no copy placed in the round and that a limit held
 * back, or that was held before (c->held): weighed against every ready
 * printer (in service order): listed held, or released if it was held
 * and a ready printer could take it as far as the limits go.  0 or -1. */
static int take_holds(struct sched_ctx *x, const size_t *ord,
                      struct sched_hold **held, size_t *nheld)
{
    size_t cap = 0;

    for (size_t u = 0; u < x->nunits; u++) {
        const struct sched_copy *c = x->units[u].first;
        enum sched_verdict v;
        struct sched_hold h;

        if (x->units[u].next || (!x->noted[u] && !c->held))
            continue;
        v = sched_limit_hold(x->in, x->prm, ord, c, &h);
        if (v == SCHED_UNSEEN || (v == SCHED_FREE && !c->held))
            continue;            /* no news, or nothing to say */
        if (sched_grow((void **)held, &cap, *nheld, sizeof(**held)) < 0)
            return -1;
        (*held)[(*nheld)++] = h;
    }
    return 0;
}

int sched_run(const struct sched_input *in, const struct sched_params *prm,
              struct sched_assignment **out, size_t *nout)
{
    return sched_run_why(in, prm, out, nout, NULL, NULL);
}

int sched_run_why(const struct sched_input *in,
                  const struct sched_params *prm,
                  struct sched_assignment **out, size_t *nout,
                  struct sched_hold **held, size_t *nheld)
{
    struct sched_ctx x;
    size_t *ord = NULL, cap = 0;
    int *heating = NULL, rc = -1;

    memset(&x, 0, sizeof(x));
    x.in = in;
    x.prm = prm;
    x.want_holds = held != NULL;
    *out = NULL;
    *nout = 0;
    if (held) {
        *held = NULL;
        *nheld = 0;
    }
    ord = printer_order(in);
    heating = site_heating(in);
    if (!ord || !heating || build(&x) < 0)
        goto out;
    for (size_t k = 0; k < in->nprinters; k++) {
        const struct sched_printer *p = &in->printers[ord[k]];
        struct pick best;
        struct unit *u;

        if (site_full(prm, heating, p))
            continue;
        if (best_for(&x, p, &best) < 0)
            goto out;
        if (best.unit != SIZE_MAX) {
            u = &x.units[best.unit];
            if (push_assignment(out, nout, &cap, p,
                                &in->copies[u->copies[u->next]],
                                best.profile) < 0)
                goto out;
            u->next++;
            heating[p->site]++;
            /* Still the head of its bucket: the units set aside for this
             * printer go back only after it is gone. */
            if (u->next >= u->ncopies)
                heap_pop(&x, &x.buckets[best.bucket]);
        }
        if (unstash(&x) < 0)
            goto out;
    }
    if (held && take_holds(&x, ord, held, nheld) < 0)
        goto out;
    rc = 0;
out:
    if (rc < 0) {
        free(*out);
        *out = NULL;
        *nout = 0;
        if (held) {
            free(*held);
            *held = NULL;
            *nheld = 0;
        }
    }
    ctx_free(&x);
    free(ord);
    free(heating);
    return rc;
}
