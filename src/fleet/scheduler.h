/*
 * scheduler.h - which ready printer prints which waiting copy.  Pure: no
 * SQL, no I/O, no clock (the caller passes "now").
 *
 * Input: the ready printers and the waiting copies of one round (the store
 * fills them, store_fleet_sched_load()).  Strings are interned to small
 * ints first so matching compares ints.  Output: assignments, each a
 * (printer, job, copy) the store then turns into a dispatching attempt.
 *
 * Rules, in order:
 *   1. hard: the copy's queue is one the printer serves (or the copy is
 *      aimed at this printer); the job has a file for the printer's
 *      profile or for any profile; material and colour match where both
 *      the job and the printer name one ("" = any / operator loads);
 *      the printer is not excluded for the job (it already failed there
 *      K times); the printer's site has a free heat-up slot; the file
 *      it would print (the printer's profile's, else the any-profile
 *      one) needs no more filament than the printer's spool has left
 *      (unknown on either side: no limit), and on a printer without
 *      auto-eject at a site with staffed hours, its estimated end (now +
 *      estimated time) falls in them, so someone is there to clear the
 *      bed (no estimate: no limit).  A file whose estimates are not read
 *      yet waits where either limit applies.
 *   2. score = priority + floor(age / age_boost) - change_penalty if the
 *      copy's material or colour differs from what the printer last
 *      printed (only printers without a fixed material/colour can face a
 *      change); highest score wins, then the lower position (queue order),
 *      then the older job, then the lower job id and copy.
 * Printers are served longest-idle first (ready_since), each taking the
 * best copy it can print: "a ready printer gets the best job it can print".
 *
 * Cost: copies are bucketed by (queue, profile, material, colour), each
 * bucket a binary heap on the score; a printer looks only at the heads of
 * the buckets its queues and profile can use.  O((C + P*B) log C) for C
 * copies, P printers and B buckets per printer, not O(P*C).
 */
#ifndef RR_SCHEDULER_H
#define RR_SCHEDULER_H

#include <stddef.h>

#include "fleet/hours.h"
#include "fleet/model.h"

struct sched_strtab;

struct sched_printer {
    long long id;
    int site;                    /* interned; 0 = "" (the default site) */
    int profile;                 /* interned; 0 = none (only any-profile
                                  * files fit it) */
    int material, colour;        /* interned; 0 = takes any */
    int last_material, last_colour;  /* of the last print; 0 = unknown */
    int queues[FLEET_QUEUES_MAX];
    int nqueues;
    double ready_since;          /* earlier = served first */
    int auto_eject;              /* clears its own bed: hours do not bind */
    double spool_g;              /* grams left on its spool; < 0 unknown */
    const struct fleet_hours *hours;  /* its site's; NULL = always staffed
                                  * (not owned: sched_set_hours' copy or
                                  * the caller's) */
};

/* What a job's file for one profile needs, from its slicer's comments. */
#define SCHED_UNKNOWN (-1.0)     /* the slicer did not say */
#define SCHED_PENDING (-2.0)     /* not read yet */
struct sched_need {
    double time_s;               /* estimated print time, s */
    double grams;                /* filament */
};

struct sched_copy {
    long long job_id;
    int copy;
    int queue;                   /* interned; 0 when aimed at a printer */
    long long target;            /* printer id, 0 = any in the queue */
    int material, colour;        /* interned; 0 = any */
    int profiles[FLEET_PROFILES_MAX];  /* profiles the job has files for;
                                  * 0 = a file for any profile */
    int nprofiles;
    int priority;
    double created;              /* job's submission time (aging) */
    double position;             /* queue order among equal scores */
    size_t excl_off, nexcl;      /* in->excluded[excl_off .. +nexcl): printer
                                  * ids this job must avoid (sorted or not) */
    int has_needs;               /* 0: no estimates (no limits) */
    int held;                    /* its job was held by a limit before
                                  * (sched_run_why says if it still is) */
    size_t need_off;             /* in->needs[need_off + i] is what the file
                                  * of profiles[i] needs */
};

struct sched_site {
    int site;                    /* interned */
    int heating;                 /* printers heating up there now */
    struct fleet_hours *hours;   /* owned; NULL = always staffed */
};

/* Everything one round looks at.  Owns its arrays (sched_input_free). */
struct sched_input {
    struct sched_printer *printers;
    size_t nprinters, printers_cap;
    struct sched_copy *copies;
    size_t ncopies, copies_cap;
    long long *excluded;
    size_t nexcluded, excluded_cap;
    struct sched_site *sites;
    size_t nsites, sites_cap;
    struct sched_need *needs;
    size_t nneeds, needs_cap;
    struct sched_strtab *strings;
};

struct sched_params {
    double now;
    double age_boost;            /* s per priority step; 0 = no aging */
    int change_penalty;          /* priority steps */
    int heatup_max;              /* per site; 0 = unlimited */
};

struct sched_assignment {
    long long printer_id;
    long long job_id;
    int copy;
    int profile;                 /* interned profile of the file to send:
                                  * the printer's, or 0 = the any file */
};

/* Why a printer that could take a copy by rule 1's other checks may not
 * now (sched_check). */
enum sched_hold_why {
    SCHED_OK = 0,
    SCHED_HOLD_HOURS,            /* would end outside staffed hours */
    SCHED_HOLD_SPOOL,            /* not enough filament left */
    SCHED_HOLD_PENDING,          /* estimates not read yet */
};

/* A job that a ready printer would have taken but for its spool or its
 * site's hours, and that got no printer in the round; or, with why =
 * SCHED_OK, a job held before (sched_copy.held) that no limit holds now. */
struct sched_hold {
    long long job_id;
    long long printer_id;
    enum sched_hold_why why;
    int site;                    /* the printer's (interned) */
    double need;                 /* s (hours) or g (spool) */
    double have;                 /* the spool's grams (spool) */
    const struct fleet_hours *hours;  /* the site's (hours) */
};

void sched_input_init(struct sched_input *in);
void sched_input_free(struct sched_input *in);

/* Interns s ("" and NULL are 0).  Returns its id (>= 0), or -1 if out of
 * memory.  The same string always gets the same id within one input. */
int sched_intern(struct sched_input *in, const char *s);
/* The string of an id ("" for 0 or an unknown id). */
const char *sched_string(const struct sched_input *in, int id);

/* Appends a zeroed printer (spool_g unknown) / copy and returns it (valid
 * until the next add), or NULL if out of memory. */
struct sched_printer *sched_add_printer(struct sched_input *in);
struct sched_copy *sched_add_copy(struct sched_input *in);
/* Appends a printer id to the exclusion pool; a copy's excl_off/nexcl
 * name a range of it.  0 or -1. */
int sched_add_excluded(struct sched_input *in, long long printer_id);
/* Records how many printers of a site are heating up now.  0 or -1. */
int sched_set_heating(struct sched_input *in, int site, int heating);
/* Gives a site staffed hours (copied; in owns the copy) and points the
 * printers already added at that site to it.  0 or -1. */
int sched_set_hours(struct sched_input *in, int site,
                    const struct fleet_hours *h);
/* Appends what one file needs; a copy's need_off names the first of its
 * job's (one per profiles[i], in that order).  0 or -1. */
int sched_add_need(struct sched_input *in, double time_s, double grams);

/* The score rule 2 gives copy c on printer p (exposed for tests and the
 * benchmark's naive baseline). */
long long sched_score(const struct sched_params *prm,
                      const struct sched_printer *p,
                      const struct sched_copy *c);
/* 1 if rule 1 lets printer p take copy c (heat-up, spool and hours
 * aside: sched_check), and then
 * *profile is the file's profile as in sched_assignment. */
int sched_fits(const struct sched_input *in, const struct sched_printer *p,
               const struct sched_copy *c, int *profile);

/* What c's file of (interned) profile needs; NULL if nothing is known
 * (sched_limits.c, as the two below). */
const struct sched_need *sched_need_of(const struct sched_input *in,
                                       const struct sched_copy *c,
                                       int profile);
/* Rule 1's limits of spool and hours for copy c on printer p, which
 * prints c's file of (interned) profile: SCHED_OK or why not. */
enum sched_hold_why sched_check(const struct sched_input *in,
                                const struct sched_params *prm,
                                const struct sched_printer *p,
                                const struct sched_copy *c, int profile);

/* Runs one round.  *out (malloc'd, caller frees; NULL when none) gets at
 * most one assignment per printer and per copy.  Returns 0, or -1 if out of
 * memory (nothing assigned).  The input is not changed. */
int sched_run(const struct sched_input *in, const struct sched_params *prm,
              struct sched_assignment **out, size_t *nout);
/* The same, and *held (malloc'd, caller frees; may be NULL to not ask)
 * gets one sched_hold per job that got no copy placed and that every
 * ready printer fitting it bars by hours or spool (the first such printer
 * in service order gives the reason), and one with why = SCHED_OK per job
 * held before (sched_copy.held) that is not so any more: a ready printer
 * could take it as far as the limits go (it waits for its turn), or its
 * estimates are not read yet.  A job held before that no ready printer
 * fits (all busy) is in neither list: no news, the limit that held it
 * still stands.  Nor is a job that got a copy placed.
 * Only jobs a limit held back from a printer this round, or held before,
 * are weighed: O((those jobs) * printers) on top of the round. */
int sched_run_why(const struct sched_input *in,
                  const struct sched_params *prm,
                  struct sched_assignment **out, size_t *nout,
                  struct sched_hold **held, size_t *nheld);
/* An operator's sentence for a hold into buf: "waits for staffed hours:
 * its 2h 30m print on printer 3 would end outside site lab's (Mon-Fri
 * 08:00-18:00)" or "waits for filament: it needs 12.3 g, printer
 * 3's spool has 5.0 g".  Stable while the cause stays the same (so a
 * caller can note a change once). */
void sched_hold_text(const struct sched_input *in,
                     const struct sched_hold *h, char *buf, size_t len);

/* The same result by brute force: every printer scans every copy,
 * O(printers * copies).  The reference for the tests and the baseline of
 * bench/bench_scheduler. */
int sched_run_naive(const struct sched_input *in,
                    const struct sched_params *prm,
                    struct sched_assignment **out, size_t *nout);

#endif
