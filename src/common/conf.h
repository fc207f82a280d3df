/*
 * conf.h - rrcloud.conf: every path, limit and timing the programs use.
 *
 * One struct for all programs so that rrcloud-fcgi and rrcloudd cannot
 * disagree about where the spool lives.  conf_defaults() gives values that
 * work for an installed system; conf_load() overrides them from a file.
 */
#ifndef RR_CONF_H
#define RR_CONF_H

#include <stddef.h>

/* Most input files of one task (max_files). */
#define CONF_MAX_FILES 256
/* Each body thread has its own store connection and stack; the gate
 * sweeps every slot each tick. */
#define CONF_MAX_BODY_THREADS 1024
/* Shortest secret taken from the conf (admin_token, enroll_token, each
 * octoprint_key, notifier_secret): 32 characters, 128 bits as hex (what
 * "openssl rand -hex 16" prints) and OctoPrint's own key length.  A
 * shorter one stops start-up: a token that can be guessed is no lock. */
#define CONF_TOKEN_MIN 32

struct rr_conf {
    /* where things live */
    char server_name[256];   /* meta serverName; "" = gethostname() */
    char spool_dir[1024];    /* tasks/, tmp/, blobs/ */
    char database[1024];     /* SQLite file */
    char services_dir[1024]; /* one NAME.conf per service */
    char profiles_dir[1024]; /* one NAME.conf per printer profile; "" =
                                none; default: profiles beside
                                services_dir */
    int profiles_dir_set;    /* profiles_dir was in the file (a default
                                that does not exist means no profiles) */
    char www_dir[1024];      /* index.html for browsers */
    char fcgi_socket[108];   /* unix socket rrcloud-fcgi listens on */
    char wake_socket[108];   /* unix datagram socket rrcloudd listens on */
    char accel_prefix[256];  /* internal location nginx maps to spool_dir */
    char sendfile_mode[16];  /* "accel" (nginx) or "sendfile" (lighttpd) */

    /* request limits (rrcloud-fcgi) */
    unsigned long long max_body_size;  /* whole request body, bytes */
    unsigned long long max_inline_size;/* a fileInN sent as a plain field */
    unsigned long long max_field_size; /* any other field's value */
    unsigned long long max_part_header;/* one multipart part's headers */
    unsigned long long max_query;      /* QUERY_STRING */
    int max_files;                     /* fileIn0..N */
    int max_fields;                    /* all fields incl. files */
    int fcgi_threads;                  /* accepting worker threads */
    int body_threads;                  /* threads reading streamed bodies */
    long long body_timeout;            /* s for a whole request body */
    int max_held;                      /* synchronous POSTs held open */
    int max_queued;                    /* queued tasks before 503 */
    /* per client (a key's user, or an anonymous address; 0 = no limit) */
    int client_max_queued;             /* its queued run tasks before 429 */
    int client_max_running;            /* runner slots it may hold at once */
    int client_max_held;               /* its synchronous POSTs held open
                                          (per rrcloud-fcgi process) */
    unsigned long long spool_quota;    /* bytes of tasks and blobs the
                                          spool may hold; 0 = no quota */
    int info_all_clients;              /* service=info lists every client */
    int fcgi_socket_mode;              /* chmod of the socket */

    /* runner (rrcloudd) */
    int runner_slots;                  /* tasks running at once */
    long long default_timeout;         /* s, when a service sets none */
    long long kill_grace;              /* s between SIGTERM and SIGKILL */
    char sandbox[16];                  /* required, auto or off */
    char sandbox_user[64];             /* commands' uid when rrcloudd is root */
    long long max_data_retention;      /* s */
    long long events_retention;        /* s; 0 = keep them all */
    long long purge_interval;          /* s */
    long long tmp_sweep_interval;      /* s between sweeps of SPOOL/tmp;
                                          0 = at start only */
    int max_reruns;                    /* re-runs of a task after a crash */
    unsigned long long min_free_space; /* bytes free on the spool's and the
                                          database's disks; 0 = unchecked */

    /* notifier */
    int notifier_retries;
    long long notifier_timeout;        /* s per attempt */
    long long notifier_backoff;        /* s, doubled each retry */
    char notifier_secret[128];         /* HMAC-SHA256 key; "" = unsigned */
    char notifier_allow[1024];         /* CIDRs notifiers may reach although
                                          netcheck denies them */

    char log_level[16];

    /* failed authentication, per client address (fcgi/authlimit.h) */
    int auth_fail_limit;               /* failures in the window; 0 = off */
    long long auth_fail_window;        /* s: the window, and the block */

    /* fleet: printers, frontends, queues (fleet/model.h fleet_policy) */
    char admin_token[128];             /* admin API key; "" = admin closed */
    char enroll_token[512];            /* comma list of enrollment tokens */
    char octoprint_keys[4096];         /* "octoprint_key" lines, '\n'-joined */
    char frontends[8192];              /* "frontend" lines, '\n'-joined */
    char region_fallback[1024];        /* "eu:us,asia; us:eu" */
    char fleet_share_allow[1024];      /* CIDRs share URLs may point to
                                          although netcheck denies them */
    char enroll_queues[1024];          /* queues an enrollment may ask
                                          for ("*": any); others are an
                                          operator's to give */
    char fleet_share_patterns[2048];   /* fnmatch patterns a printer's own
                                          share URL may match ($id = its
                                          id), besides its frontend's */
    long long fleet_poll_interval;     /* s between status polls */
    long long fleet_status_interval;   /* s between a printer's progress and
                                          temperature writes, 0 = each
                                          change */
    long long fleet_offline_backoff;   /* s, longest poll backoff when away */
    long long fleet_request_timeout;   /* s per Moonraker request */
    long long fleet_upload_timeout;    /* s per G-code upload */
    int fleet_max_connections;         /* libcurl multi total connections */
    long long fleet_lease;             /* s an attempt lives unrenewed */
    int fleet_fail_per_printer;        /* K */
    int fleet_fail_printers;           /* M */
    int fleet_quarantine_after;        /* consecutive failures, 0 = never */
    int fleet_heatup_max;              /* heating at once per site, 0 = any */
    long long fleet_heatup_time;       /* s a started print counts heating */
    long long fleet_age_boost;         /* s waiting per priority step */
    int fleet_change_penalty;          /* priority steps per spool change */
    int fleet_max_copies;              /* copies of one job */
    int fleet_slice_concurrency;       /* slicing tasks of model jobs at
                                          once (0 = none are sliced) */
    unsigned long long slice_cache_max; /* bytes of cached G-code, 0 = no
                                           size limit */
    long long slice_cache_max_age;     /* s a cached slice stays unused,
                                          0 = for ever */
    int fleet_delete_files;            /* delete rr-*.gcode after attempts */
    long long fleet_unplaceable_timeout; /* s a job no printer can take
                                            waits before it fails, 0 =
                                            for ever */
    int frontend_capacity;             /* default printers per frontend */
    long long frontend_check_interval; /* s between canary checks */
    int frontend_fail_threshold;       /* failed checks before unhealthy */
    long long frontend_grace;          /* s unhealthy before printers move */
    int metrics_public;                /* /metrics without a key */
    char anonymous_networks[1024];     /* relay tasks without a key from
                                          these (comma list of addresses
                                          and CIDR networks; "" = none) */
    unsigned long long max_json_body;  /* a JSON request body (fleet API) */
};

/* Fills c with built-in defaults rooted at the given state directory
 * (NULL = the configured LOCALSTATEDIR). */
void conf_defaults(struct rr_conf *c, const char *statedir);

/* Reads path over the current values.  Unknown keys, bad numbers and
 * over-long strings are errors naming the file, line and key.
 * Returns 0, or -1 with err set. */
int conf_load(struct rr_conf *c, const char *path, char *err, size_t errlen);
/* conf_load() of a file already in memory (buf[0..len)); name stands for
 * the file in messages.  For the tests and the fuzzer. */
int conf_load_buf(struct rr_conf *c, const char *name, const char *buf,
                  size_t len, char *err, size_t errlen);

/* The file the programs read when no -c is given: $RRCLOUD_CONF, else
 * SYSCONFDIR/rrcloud.conf. */
const char *conf_default_path(void);

#endif
