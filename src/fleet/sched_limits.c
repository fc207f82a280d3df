/* sched_limits.c - the scheduler's limits of spool and staffed hours, and
 * the sentence that says why a job waits for them (see scheduler.h). */
#include "fleet/sched_int.h"

#include <stdio.h>
#include <string.h>

const struct sched_need *sched_need_of(const struct sched_input *in,
                                       const struct sched_copy *c,
                                       int profile)
{
    if (!c->has_needs)
        return NULL;
    for (int i = 0; i < c->nprofiles; i++) {
        if (c->profiles[i] == profile && c->need_off + (size_t)i <
                                             in->nneeds)
            return &in->needs[c->need_off + (size_t)i];
    }
    return NULL;
}

enum sched_hold_why sched_check(const struct sched_input *in,
                                const struct sched_params *prm,
                                const struct sched_printer *p,
                                const struct sched_copy *c, int profile)
{
    const struct sched_need *n = sched_need_of(in, c, profile);
    int timed = p->hours && !p->auto_eject;

    if (!n || (p->spool_g < 0 && !timed))
        return SCHED_OK;
    if (p->spool_g >= 0) {
        if (n->grams == SCHED_PENDING)
            return SCHED_HOLD_PENDING;
        if (n->grams > p->spool_g)
            return SCHED_HOLD_SPOOL;
    }
    if (timed) {
        if (n->time_s == SCHED_PENDING)
            return SCHED_HOLD_PENDING;
        if (n->time_s > 0 &&
            !fleet_hours_staffed(p->hours, prm->now + n->time_s))
            return SCHED_HOLD_HOURS;
    }
    return SCHED_OK;
}

enum sched_verdict sched_limit_hold(const struct sched_input *in,
                                    const struct sched_params *prm,
                                    const size_t *ord,
                                    const struct sched_copy *c,
                                    struct sched_hold *h)
{
    int held = 0, prof;

    memset(h, 0, sizeof(*h));
    h->job_id = c->job_id;
    h->why = SCHED_OK;
    for (size_t k = 0; k < in->nprinters; k++) {
        const struct sched_printer *p = &in->printers[ord[k]];
        const struct sched_need *n;
        enum sched_hold_why why;

        if (!sched_fits(in, p, c, &prof))
            continue;
        why = sched_check(in, prm, p, c, prof);
        if (why == SCHED_OK || why == SCHED_HOLD_PENDING) {
            h->why = SCHED_OK;   /* it waits for its turn or estimates */
            return SCHED_FREE;
        }
        if (held)
            continue;
        n = sched_need_of(in, c, prof);
        held = 1;
        h->printer_id = p->id;
        h->why = why;
        h->site = p->site;
        h->need = why == SCHED_HOLD_SPOOL ? n->grams : n->time_s;
        h->have = p->spool_g;
        h->hours = p->hours;
    }
    return held ? SCHED_HELD : SCHED_UNSEEN;
}

/* "2h 30m", "45m", "30s"; a duration no long long holds (estimates are
 * capped when read, but a number is checked before its cast) in hours as
 * "1e+20h". */
static void duration_text(double s, char *buf, size_t len)
{
    long long t, h, m;

    if (!(s >= 0 && s < 1e15)) {
        snprintf(buf, len, "%.3gh", s / 3600);
        return;
    }
    t = (long long)(s + 0.5);
    h = t / 3600;
    m = t % 3600 / 60;
    if (h)
        snprintf(buf, len, "%lldh %lldm", h, m);
    else if (m)
        snprintf(buf, len, "%lldm", m);
    else
        snprintf(buf, len, "%llds", t);
}

void sched_hold_text(const struct sched_input *in,
                     const struct sched_hold *h, char *buf, size_t len)
{
    char d[32];

    if (h->why == SCHED_HOLD_SPOOL) {
        snprintf(buf, len, "waits for filament: it needs %.1f g, printer "
                 "%lld's spool has %.1f g", h->need, h->printer_id,
                 h->have);
        return;
    }
    duration_text(h->need, d, sizeof(d));
    snprintf(buf, len, "waits for staffed hours: its %s print on printer "
             "%lld would end outside %s%s's staffed hours (%s)", d,
             h->printer_id, h->site ? "site " : "the default site",
             sched_string(in, h->site), h->hours ? h->hours->text : "");
}
