/*
 * bench_scheduler.c - schedules 10,000 queued jobs over 10,000 ready
 * printers (the figure) with sched_run, and with the brute-force
 * sched_run_naive (every printer scans every copy) as the baseline, in the
 * same process on the same input.  Prints the median of several runs of
 * each and their ratio.
 *
 *   bench_scheduler [printers] [jobs] [runs]     (defaults 10000 10000 7)
 *
 * The round is a realistic mix: 8 queues, 3 profiles, 4 materials, some
 * colours, priorities 0..4, ages up to a day, a tenth of the jobs with a
 * second per-profile file, exclusions for 5% of the jobs, heat-up stagger
 * off (it only shortens the round).
 */
#include "fleet/scheduler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int build(struct sched_input *in, int np, int nj)
{
    static const char *const prof[] = { "mk3s", "mini", "x1" };
    static const char *const mat[] = { "pla", "petg", "abs", "asa" };
    char q[16];

    srand(12345);
    for (int i = 0; i < np; i++) {
        struct sched_printer *p = sched_add_printer(in);
        if (!p)
            return -1;
        p->id = i + 1;
        snprintf(q, sizeof(q), "farm%d", i % 8);
        p->queues[0] = sched_intern(in, q);
        p->nqueues = 1;
        if (i % 5 == 0) {
            snprintf(q, sizeof(q), "farm%d", (i + 3) % 8);
            p->queues[p->nqueues++] = sched_intern(in, q);
        }
        p->profile = sched_intern(in, prof[i % 3]);
        p->material = sched_intern(in, i % 10 ? mat[i % 4] : "");
        p->colour = sched_intern(in, i % 7 ? "" : "black");
        p->last_material = sched_intern(in, mat[(i / 3) % 4]);
        p->site = sched_intern(in, i % 2 ? "north" : "south");
        p->ready_since = (double)(rand() % 3600);
    }
    for (int j = 0; j < nj; j++) {
        struct sched_copy *c = sched_add_copy(in);
        if (!c)
            return -1;
        c->job_id = j + 1;
        snprintf(q, sizeof(q), "farm%d", rand() % 8);
        c->queue = sched_intern(in, q);
        c->profiles[0] = sched_intern(in, prof[rand() % 3]);
        c->nprofiles = 1;
        if (j % 10 == 0)
            c->profiles[c->nprofiles++] = sched_intern(in, prof[rand() % 3]);
        c->material = sched_intern(in, rand() % 6 ? mat[rand() % 4] : "");
        c->colour = sched_intern(in, rand() % 9 ? "" : "black");
        c->priority = rand() % 5;
        c->created = 86400.0 - (double)(rand() % 86400);
        c->position = (double)(j + 1);
        if (j % 20 == 0) {
            c->excl_off = in->nexcluded;
            c->nexcl = 2;
            if (sched_add_excluded(in, 1 + rand() % np) < 0 ||
                sched_add_excluded(in, 1 + rand() % np) < 0)
                return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    int np = argc > 1 ? atoi(argv[1]) : 10000;
    int nj = argc > 2 ? atoi(argv[2]) : 10000;
    int runs = argc > 3 ? atoi(argv[3]) : 7;
    struct sched_params prm = { 90000.0, 3600.0, 1, 0 };
    struct sched_input in;
    double *fast, *naive, fm, nm;
    size_t nfast = 0, nnaive = 0;
    int naive_runs;

    if (np < 1 || nj < 1 || runs < 1) {
        fprintf(stderr, "usage: %s [printers] [jobs] [runs]\n", argv[0]);
        return 2;
    }
    naive_runs = runs < 3 ? runs : 3;   /* the baseline is slow */
    fast = calloc((size_t)runs, sizeof(*fast));
    naive = calloc((size_t)naive_runs, sizeof(*naive));
    sched_input_init(&in);
    if (!fast || !naive || build(&in, np, nj) < 0) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (int r = 0; r < runs; r++) {
        struct sched_assignment *out = NULL;
        double t0 = now_ms();
        if (sched_run(&in, &prm, &out, &nfast) < 0)
            return 1;
        fast[r] = now_ms() - t0;
        free(out);
    }
    for (int r = 0; r < naive_runs; r++) {
        struct sched_assignment *out = NULL;
        double t0 = now_ms();
        if (sched_run_naive(&in, &prm, &out, &nnaive) < 0)
            return 1;
        naive[r] = now_ms() - t0;
        free(out);
    }
    fm = median(fast, runs);
    nm = median(naive, naive_runs);
    printf("scheduler: %d printers, %d jobs: %zu assignments\n", np, nj,
           nfast);
    printf("  bucketed heaps (sched_run):  median %.2f ms of %d runs\n", fm,
           runs);
    printf("  naive scan (sched_run_naive): median %.2f ms of %d runs "
           "(%zu assignments)\n", nm, naive_runs, nnaive);
    printf("  speed-up: %.1fx\n", fm > 0 ? nm / fm : 0.0);
    sched_input_free(&in);
    free(fast);
    free(naive);
    return nfast == nnaive ? 0 : 1;
}
