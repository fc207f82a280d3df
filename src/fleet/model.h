/*
 * model.h - the fleet's vocabulary: printer, frontend, queue, job, copy,
 * attempt and event, their states and names, the policy knobs read from
 * rrcloud.conf, and the JSON shapes the API and notifiers use.
 *
 * Pure data: no SQL (store/store_fleet.h), no I/O.  Every struct is plain
 * fixed-size data unless a member says "owned", and has an _init (zeroes
 * it, sets the "none" values) and, where it owns memory, a _clear.
 *
 * Names (queue, profile, material, colour, region, site, frontend) are
 * compared exactly; the HTTP layer lowercases material, colour and profile
 * before they are stored so "PLA" and "pla" are one material.  "" means
 * "any" in a job (material, colour, profile of a file) and "unknown /
 * operator loads what the job needs" in a printer.
 */
#ifndef RR_FLEET_MODEL_H
#define RR_FLEET_MODEL_H

#include <stddef.h>

#include <jansson.h>

#include "common/util.h"

struct rr_conf;

#define FLEET_NAME_MAX    64    /* names, incl. NUL: 63 usable bytes */
#define FLEET_URL_MAX     512
#define FLEET_SECRET_MAX  128   /* Moonraker api key, share basic auth */
#define FLEET_LIST_MAX    512   /* comma lists: a printer's queues, tags */
#define FLEET_REASON_MAX  256
#define FLEET_SHA256_HEX  65    /* 64 hex + NUL */
#define FLEET_FILENAME_MAX 256
#define FLEET_TOKEN_MAX   64    /* printer tokens and api keys, incl. NUL */
#define FLEET_QUEUES_MAX  16    /* queues one printer serves */
#define FLEET_PROFILES_MAX 16   /* files (one per profile) of one job */
#define FLEET_PRIORITY_MIN (-1000)
#define FLEET_PRIORITY_MAX 1000

/* ---- states ------------------------------------------------------------ */

/* A printer's effective state, as the API shows it.  The store derives it
 * from what the data plane observed (offline, ready = idle, printing,
 * paused, error) plus the holds an operator or the failure policy set
 * (needs_clearing, maintenance, quarantined) and the live attempt. */
enum printer_state {
    PRINTER_OFFLINE = 0,
    PRINTER_READY,          /* Klippy ready, idle, bed clear: schedulable */
    PRINTER_NEEDS_CLEARING, /* a print ended; waiting for "cleared" */
    PRINTER_UPLOADING,      /* an attempt is dispatching / uploading */
    PRINTER_PRINTING,
    PRINTER_PAUSED,
    PRINTER_ERROR,          /* Klippy shutdown/error/disconnected */
    PRINTER_MAINTENANCE,    /* operator hold */
    PRINTER_QUARANTINED,    /* failure-policy hold until released */
    PRINTER_STATE_COUNT
};

enum job_state {
    JOB_QUEUED = 0,         /* no copy started yet */
    JOB_PRINTING,           /* some copy started, not all copies final */
    JOB_COMPLETE,           /* every copy complete */
    JOB_FAILED,             /* failed on M printers, or a copy failed */
    JOB_CANCELLED,
    JOB_STATE_COUNT
};
static inline int job_state_final(enum job_state s)
{
    return s >= JOB_COMPLETE;
}

/* One copy of a job (a job of N copies has copies 0..N-1). */
enum copy_state {
    COPY_QUEUED = 0,        /* waiting for a printer (incl. after a retry) */
    COPY_LIVE,              /* exactly one live attempt holds it */
    COPY_COMPLETE,
    COPY_FAILED,
    COPY_CANCELLED,
    COPY_STATE_COUNT
};

/* An attempt is one copy on one printer.  The first four are "live": the
 * store guarantees at most one live attempt per (job, copy) with a partial
 * UNIQUE index, so the ordering of this enum is part of the schema. */
enum attempt_state {
    ATTEMPT_DISPATCHING = 0, /* chosen by the scheduler, upload not begun */
    ATTEMPT_UPLOADING,
    ATTEMPT_PRINTING,
    ATTEMPT_PAUSED,
    ATTEMPT_COMPLETE,        /* final states from here */
    ATTEMPT_FAILED,          /* the printer's fault (print error, Klippy
                              * shutdown or restart mid-print): counts for
                              * K/M and the quarantine streak */
    ATTEMPT_CANCELLED,       /* cancelled: by the job's cancel (copy
                              * cancelled), or by an operator at the
                              * printer (copy requeued); no blame */
    ATTEMPT_LOST,            /* nobody's fault: printer unreachable or gone
                              * past the lease, start refused while busy,
                              * the dispatcher's own reasons: copy
                              * requeued, neither job nor printer blamed */
    ATTEMPT_STATE_COUNT
};
static inline int attempt_state_live(enum attempt_state s)
{
    return s < ATTEMPT_COMPLETE;
}

/* A command an operator queued for the printer's current print; the data
 * plane sends it to Moonraker and clears it. */
enum printer_cmd {
    PCMD_NONE = 0,
    PCMD_PAUSE,
    PCMD_RESUME,
    PCMD_CANCEL,
    PCMD_COUNT
};

/* What an API key may do. */
enum fleet_role {
    ROLE_ADMIN = 0,
    ROLE_ENROLL,            /* may enroll printers */
    ROLE_OCTOPRINT,         /* slicer upload into its configured queue */
    /* Stored as these numbers in api_keys.role: append only. */
    ROLE_OPERATOR,          /* manages printers, queues and frontends */
    ROLE_USER,              /* submits tasks and print jobs, sees its own */
    ROLE_APP,               /* submits on behalf of named end users */
    ROLE_COUNT
};

/* Names for the API and metrics ("needs_clearing", "dispatching", ...) and
 * back.  _name never returns NULL ("unknown" for a bad value); _parse
 * returns 0, or -1 for an unknown name. */
const char *printer_state_name(enum printer_state s);
int printer_state_parse(const char *s, enum printer_state *out);
const char *job_state_name(enum job_state s);
int job_state_parse(const char *s, enum job_state *out);
const char *copy_state_name(enum copy_state s);
const char *attempt_state_name(enum attempt_state s);
int attempt_state_parse(const char *s, enum attempt_state *out);
const char *printer_cmd_name(enum printer_cmd c);
int printer_cmd_parse(const char *s, enum printer_cmd *out);
const char *fleet_role_name(enum fleet_role r);
int fleet_role_parse(const char *s, enum fleet_role *out);

/* ---- records ----------------------------------------------------------- */

/* What the polls last showed of a printer's print and heaters (the
 * printer_status row).  The data plane writes it on a change, rounded
 * (progress to 0.1 %, temperatures to 0.5 deg C) and at most every
 * fleet_status_interval unless the file, print state or a heater target
 * changed.  Readers show it only while the printer is not offline. */
struct fleet_printer_live {
    double updated;                      /* when written, 0 = never */
    char print_state[16];                /* print_stats.state, "" unknown */
    char file[FLEET_FILENAME_MAX];       /* print_stats.filename, "" none */
    double progress;                     /* virtual_sdcard.progress, 0..1 */
    double print_duration;               /* s printing, pauses excluded */
    double ext_temp, ext_target;         /* extruder, deg C */
    double bed_temp, bed_target;         /* heater_bed, deg C */
};

struct fleet_printer {
    long long id;
    char name[FLEET_NAME_MAX];
    char region[FLEET_NAME_MAX];
    char site[FLEET_NAME_MAX];           /* power/heat-up domain; "" = own */
    long long frontend_id;               /* 0 = none assigned */
    char frontend[FLEET_NAME_MAX];       /* its name (joined), "" if none */
    char share_url[FLEET_URL_MAX];       /* Moonraker base URL via zrok */
    char share_auth[FLEET_SECRET_MAX];   /* "user:pass" basic auth of the
                                          * share, "" = none; never shown */
    char api_key[FLEET_SECRET_MAX];      /* Moonraker X-Api-Key, "" = none;
                                          * never shown */
    char profile[FLEET_NAME_MAX];        /* printer profile, e.g. "mk3s" */
    char material[FLEET_NAME_MAX];       /* loaded; "" = operator loads */
    char colour[FLEET_NAME_MAX];
    char last_material[FLEET_NAME_MAX];  /* of the last print started */
    char last_colour[FLEET_NAME_MAX];
    char queues[FLEET_LIST_MAX];         /* comma list of queues served */
    char tags[FLEET_LIST_MAX];           /* comma list, free-form */
    int auto_eject;                      /* no "cleared" needed after a print */
    enum printer_state state;            /* effective (see enum) */
    enum printer_state observed;         /* last data-plane observation */
    char klippy_state[32];               /* "ready", "shutdown", ... */
    char moonraker_version[FLEET_NAME_MAX];
    int needs_clearing, maintenance, quarantined;  /* holds */
    char hold_reason[FLEET_REASON_MAX];  /* why quarantined / maintenance */
    int consecutive_failures;
    long long attempt_id;                /* live attempt, 0 = none */
    enum printer_cmd pending_cmd;
    int move_pending;                    /* reassigned; agent not yet moved */
    double enrolled_at, last_seen, last_heartbeat, state_since, ready_since;
    long long prints_ok, prints_failed;
    double print_seconds;                /* sum of completed print times */
    double spool_g;                      /* grams left on the loaded spool,
                                          * -1 = unknown (no limit) */
    double spool_set;                    /* when an operator set it, 0 never */
    struct fleet_printer_live live;      /* last status seen (joined) */
};
void fleet_printer_init(struct fleet_printer *p);

/* Seconds of printing left, as Moonraker's clients estimate it from the
 * file position: print_duration / progress - print_duration.  -1 when it
 * cannot be told (nothing printed yet, no progress). */
double fleet_eta(double progress, double print_duration);
/* 1 if the live status shows a print running or paused. */
int fleet_live_printing(const struct fleet_printer_live *l);
/* 1 if p's live status is worth showing: seen, and p not offline. */
int fleet_live_shown(const struct fleet_printer *p);

struct fleet_frontend {
    long long id;
    char name[FLEET_NAME_MAX];
    char region[FLEET_NAME_MAX];
    char url[FLEET_URL_MAX];             /* public base, e.g. https://eu1... */
    char namespace_[FLEET_NAME_MAX * 2]; /* zrok namespace (default: name) */
    char canary_url[FLEET_URL_MAX];      /* health probe, "" = url */
    int capacity;                        /* printers it should carry */
    int enabled;                         /* admin switch: 0 = drain it */
    int healthy;                         /* health checker's verdict */
    int from_conf;                       /* defined in rrcloud.conf */
    double last_check, unhealthy_since;  /* 0 = never / healthy */
    char last_error[FLEET_REASON_MAX];
    int consecutive_failures;
    long long assigned;                  /* printers assigned (computed) */
    long long online;                    /* of those, not offline (computed) */
};
void fleet_frontend_init(struct fleet_frontend *f);

struct fleet_queue {
    char name[FLEET_NAME_MAX];
    double created;
    long long printers;                  /* printers serving it (computed) */
    long long jobs_active;               /* jobs not final (computed) */
    long long depth;                     /* copies waiting (computed) */
    long long live;                      /* copies printing (computed) */
};

struct fleet_job_file {
    char profile[FLEET_NAME_MAX];        /* "" = any printer profile */
    char sha256[FLEET_SHA256_HEX];       /* blob */
    char filename[FLEET_FILENAME_MAX];   /* client's name, for display */
    long long size;
    /* what its slicer says (gcode_meta.h): -1 = unknown, or not read yet
     * (meta_read 0: rrcloudd reads it within a second) */
    int meta_read;
    double est_time, filament_mm, filament_g;
    char generator[64];
};

struct fleet_job {
    long long id;
    char queue[FLEET_NAME_MAX];          /* "" when aimed at one printer */
    long long printer_id;                /* target printer, 0 = any */
    char name[FLEET_FILENAME_MAX];       /* display name */
    int priority;                        /* higher first */
    int copies;
    char material[FLEET_NAME_MAX];       /* "" = any */
    char colour[FLEET_NAME_MAX];         /* "" = any */
    enum job_state state;
    double position;                     /* order among equal priority */
    double created, started, ended;
    char task_id[RR_ID_LEN];             /* service=print task, "" = none */
    char owner[2 * FLEET_NAME_MAX];      /* submitter: its key's owner (user,
                                            user/end-user), else address */
    char *notifier;                      /* owned, NULL = none */
    char *reason;                        /* owned, NULL = none */
    char *waiting_reason;                /* owned: why no printer can take
                                            its queued copies, NULL = none */
    double waiting_since;                /* since when (0 = not waiting) */
    char *held_reason;                   /* owned: why every ready printer
                                            that could take it is barred by
                                            its spool or staffed hours now,
                                            NULL = none */
    /* counts by copy state (computed when read) */
    int copies_queued, copies_live, copies_complete, copies_failed,
        copies_cancelled;
};
void fleet_job_init(struct fleet_job *j);
void fleet_job_clear(struct fleet_job *j);   /* frees owned, re-inits */

struct fleet_attempt {
    long long id;
    long long job_id;
    int copy;
    long long printer_id;
    enum attempt_state state;
    char sha256[FLEET_SHA256_HEX];       /* blob chosen for the printer */
    char filename[FLEET_FILENAME_MAX];   /* on Moonraker: rr-J-C-A.gcode */
    double ready_at;                     /* printer's ready_since at dispatch */
    double created, upload_at, started, ended, lease_until;
    char reason[FLEET_REASON_MAX];
};
void fleet_attempt_init(struct fleet_attempt *a);

struct fleet_event {
    long long id;
    double time;
    char kind[32];                       /* "dispatch", "attempt_end", ... */
    long long printer_id, job_id, attempt_id;  /* 0 = not about one */
    char message[512];
};

/* An API key from the api_keys table or rrcloud.conf. */
struct fleet_apikey {
    enum fleet_role role;
    char name[FLEET_NAME_MAX];
    char kid[FLEET_NAME_MAX];   /* the id in rrk_<kid>_<secret>, "" = old */
    char user[FLEET_NAME_MAX];  /* its user, "" = the key is its own owner */
    double created, expires, revoked;    /* 0 = never */
    /* limits (0 / "" = none) */
    char queues[FLEET_LIST_MAX];         /* queues it may print to */
    int max_copies;
    int max_priority;                    /* with has_max_priority */
    int has_max_priority;
    int max_queued;                      /* open tasks and jobs */
    /* ROLE_OCTOPRINT: where and how uploads go */
    char queue[FLEET_NAME_MAX];
    char material[FLEET_NAME_MAX];
    char colour[FLEET_NAME_MAX];
    char profile[FLEET_NAME_MAX];
    int priority;
};

/* ---- policy (rrcloud.conf) --------------------------------------------- */

struct fleet_policy {
    int fail_per_printer;         /* K: failures of a job on one printer
                                   * before it is excluded there (>= 1) */
    int fail_printers;            /* M: printers a job may fail on before it
                                   * fails (>= 1) */
    int quarantine_after;         /* consecutive printer failures (0 = never) */
    double lease;                 /* s an attempt lives without renewal */
    double age_boost;             /* s of waiting worth one priority step
                                   * (0 = no aging) */
    int change_penalty;           /* priority steps a material/colour change
                                   * costs */
    int heatup_max;               /* printers heating at once per site,
                                   * 0 = unlimited */
    double heatup_time;           /* s an attempt counts as heating after it
                                   * started printing */
    int frontend_capacity;        /* default capacity */
    int frontend_fail_threshold;  /* failed checks before unhealthy */
    double frontend_grace;        /* s unhealthy before printers move */
    char region_fallback[1024];   /* "eu:us,asia; us:eu" */
};
/* Fills p from the conf's fleet_* keys. */
void fleet_policy_from_conf(struct fleet_policy *p, const struct rr_conf *c);

/* ---- helpers ----------------------------------------------------------- */

/* A name: 1..FLEET_NAME_MAX-1 bytes of [A-Za-z0-9._#+-] (so "#ff8000" is a
 * colour, "mk3s+" a profile).  1 if valid, else 0. */
int fleet_name_valid(const char *s);
/* A display name or free text (printer name, tags): 0..max-1 printable
 * bytes, no control characters.  1 if valid. */
int fleet_text_valid(const char *s, size_t max);
/* Lowercases s in place (ASCII). */
void fleet_lower(char *s);
/* 1 if s is exactly 64 lowercase hex digits. */
int fleet_sha256_valid(const char *s);
/* 1 if name is in the comma list (exact item match), else 0. */
int fleet_list_has(const char *list, const char *name);

/* The printer's zrok share name "prn-<id>" into buf. */
void fleet_share_name(long long printer_id, char *buf, size_t len);
/* The Moonraker file name of an attempt: "rr-<job>-<copy>-<attempt>.gcode"
 * (unique, so a returning printer is recognised by print_stats.filename
 * and an upload never overwrites a file being printed). */
void fleet_attempt_filename(long long job_id, int copy, long long attempt_id,
                            char *buf, size_t len);
/* Parses such a name back; 0, or -1 if it is not one of ours. */
int fleet_attempt_filename_parse(const char *name, long long *job_id,
                                 int *copy, long long *attempt_id);

/* Whether a new observation of a printer (observed state and the word the
 * fleet keeps with it: Klippy's state, or why it cannot be reached) is a
 * change of its health worth an event: going offline, unauthorized or
 * unreachable, Klippy in error or shut down, and back online.  Steps
 * between ready, printing and paused are not (attempts have their own).
 * 1 with the event's kind ("printer_offline", "printer_error",
 * "printer_online") and message in kind/msg, else 0. */
int fleet_health_change(enum printer_state old_obs, const char *old_word,
                        enum printer_state obs, const char *word,
                        char *kind, size_t kindlen, char *msg, size_t msglen);

/* ---- rrcloud.conf lines ------------------------------------------------ */

/* One "frontend = NAME REGION URL [capacity=N] [namespace=NS]
 * [canary=URL]" value into f (fleet_frontend_init'ed, from_conf = 1).
 * 0, or -1 with err naming the word that is wrong. */
int fleet_frontend_parse_conf(const char *value, struct fleet_frontend *f,
                              char *err, size_t errlen);
/* Finds key among "octoprint_key = KEY queue=Q [material=M] [colour=C]
 * [profile=P] [priority=N] [name=N]" lines ('\n'-joined, as rr_conf
 * keeps them) and fills *k (role ROLE_OCTOPRINT).  Keys are compared in
 * constant time.  0 if found, 1 if not, -1 with err for a malformed line. */
int fleet_octoprint_key_find(const char *lines, const char *key,
                             struct fleet_apikey *k, char *err,
                             size_t errlen);
/* 1 if token equals one item of a comma list of secrets (constant time
 * per item), else 0.  An empty token never matches. */
int fleet_secret_in_list(const char *list, const char *token);

/* ---- JSON (jansson; each returns a new reference or NULL) -------------- */

/* The API's printer object (never includes api_key or share_auth). */
json_t *fleet_printer_json(const struct fleet_printer *p);
/* A printer's loaded spool: {"grams" (null = unknown), "set_at",
 * "material", "colour"} (the last two are the printer's). */
json_t *fleet_spool_json(const struct fleet_printer *p);
json_t *fleet_frontend_json(const struct fleet_frontend *f);
json_t *fleet_queue_json(const struct fleet_queue *q);
/* A job; files and attempts may be NULL/0 to leave them out. */
json_t *fleet_job_json(const struct fleet_job *j,
                       const struct fleet_job_file *files, size_t nfiles,
                       const struct fleet_attempt *attempts, size_t nattempts);
json_t *fleet_attempt_json(const struct fleet_attempt *a);
json_t *fleet_event_json(const struct fleet_event *e);

#endif
