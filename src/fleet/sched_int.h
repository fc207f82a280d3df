/*
 * sched_int.h - what the scheduler's files share and nobody else uses:
 * sched_input.c (building the input), scheduler.c (the rounds) and
 * sched_limits.c (spool, hours and why a job is held).
 */
#ifndef RR_SCHED_INT_H
#define RR_SCHED_INT_H

#include <stddef.h>

#include "fleet/scheduler.h"

/* Interned strings: open addressing over ids; id 0 is "". */
struct sched_strtab {
    char **str;          /* id -> string (str[0] = "") */
    size_t n, cap;
    int *slots;          /* hash slot -> id, -1 empty */
    size_t nslots;
};

/* Grows *arr (of *cap elements of size sz, n used) to hold one more.
 * 0 or -1 (out of memory; *arr unchanged). */
int sched_grow(void **arr, size_t *cap, size_t n, size_t sz);
/* How many interned ids in has (1 when none: id 0 is ""). */
size_t sched_nstrings(const struct sched_input *in);

/* What the ready printers that fit a copy say of its limits. */
enum sched_verdict {
    SCHED_FREE,                  /* one could take it as far as the limits
                                  * go (it waits for its turn), or its
                                  * estimates are not read yet */
    SCHED_HELD,                  /* every one is barred by spool or hours */
    SCHED_UNSEEN,                /* none fits it (none ready): no news */
};
/* Weighs copy c against every ready printer that fits it, in service
 * order (ord, as the round serves them).  *h is filled: the job, and for
 * SCHED_HELD the first printer a limit bars and why; why = SCHED_OK
 * else. */
enum sched_verdict sched_limit_hold(const struct sched_input *in,
                                    const struct sched_params *prm,
                                    const size_t *ord,
                                    const struct sched_copy *c,
                                    struct sched_hold *h);

#endif
