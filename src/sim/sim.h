/*
 * sim.h - rrcloud-printersim's private header and module map.
 *
 * One process simulates up to SIM_MAX_PRINTERS Moonraker printers behind one
 * listening port; printer ID lives under /p/ID.  Each file's exports are
 * listed below under a banner, so this header doubles as the module map:
 *
 *   main.c           options, start-up, signals
 *   sim_printer.c    clock, fleet, per-printer state machine, files, history
 *   sim_http.c       libmicrohttpd glue: routing, bodies, uploads, auth,
 *                    offline and latency faults, responses
 *   sim_delay.c      timer thread resuming suspended connections
 *   sim_moonraker.c  Moonraker endpoints (reference/moonraker.md 2, 4-7)
 *   sim_files.c      Moonraker file endpoints: upload, list, metadata
 *   sim_octo.c       OctoPrint emulation subset (moonraker.md 10)
 *   sim_ctl.c        control API under /sim/
 *   sim_sha256.c     SHA-256 for upload checksums (libcrypto)
 *
 * Locking: a printer is read or changed only between sim_printer_lock() and
 * sim_printer_unlock(); the counters in sim_stats are updated atomically.
 */
#ifndef RR_SIM_H
#define RR_SIM_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct MHD_Connection;

#define SIM_MAX_PRINTERS 10000
#define SIM_PATH_MAX 1024       /* longest file path a printer keeps */

/* ------------------------------------------------------------------ */
/* sim_printer.c: the configuration every module reads (defaults there;
 * main.c sets it from the command line before any thread starts) */

enum sim_offmode {
    SIM_OFF_DROP,       /* close the connection without an answer */
    SIM_OFF_HANG,       /* hold the request for hang_ms, then close */
    SIM_OFF_502         /* answer 502 with an empty body (tunnel broken) */
};

struct sim_config {
    unsigned printers;
    double time_scale;          /* simulated seconds per real second */
    double print_seconds;       /* nominal simulated print time of a file */
    double jitter;              /* 0..1: per file need = nominal * (1 +- j) */
    double heat_rate_ext;       /* deg C per simulated second, heating */
    double heat_rate_bed;
    double restart_seconds;     /* simulated length of klippy "startup" */
    double fail_rate;           /* probability a print ends in error */
    double shutdown_rate;       /* probability a print ends in a shutdown */
    double offline_rate;        /* share of offline slots per printer */
    double offline_period;      /* simulated seconds per offline slot */
    enum sim_offmode offline_mode;
    unsigned hang_ms;
    unsigned latency_ms;
    unsigned latency_jitter_ms;
    uint64_t max_upload;        /* bytes; larger uploads get 413 */
    unsigned max_files;         /* per printer; oldest idle file evicted */
    unsigned history_max;       /* per printer history ring */
    uint64_t seed;
    const char *api_key;        /* NULL: no X-Api-Key required */
};

extern struct sim_config sim_cfg;

/* ------------------------------------------------------------------ */
/* sim_printer.c */

enum sim_klippy {
    SIM_KLIPPY_READY,
    SIM_KLIPPY_STARTUP,
    SIM_KLIPPY_SHUTDOWN,
    SIM_KLIPPY_DISCONNECTED
};

enum sim_pstate {               /* Klipper print_stats.state */
    SIM_PS_STANDBY,
    SIM_PS_PRINTING,
    SIM_PS_PAUSED,
    SIM_PS_COMPLETE,
    SIM_PS_CANCELLED,
    SIM_PS_ERROR
};

enum sim_jstatus {              /* Moonraker history job status */
    SIM_JOB_IN_PROGRESS,
    SIM_JOB_COMPLETED,
    SIM_JOB_CANCELLED,
    SIM_JOB_ERROR,
    SIM_JOB_KLIPPY_SHUTDOWN,
    SIM_JOB_KLIPPY_DISCONNECT
};

enum sim_fault { SIM_FAULT_NONE, SIM_FAULT_ERROR, SIM_FAULT_SHUTDOWN };
enum sim_net { SIM_NET_AUTO, SIM_NET_ONLINE, SIM_NET_OFFLINE };
enum sim_root { SIM_ROOT_GCODES, SIM_ROOT_CONFIG };

/* Result of a printer operation; sim_moonraker.c maps it to HTTP. */
enum sim_rc {
    SIM_OK = 0,
    SIM_E_KLIPPY_DOWN = -1,     /* 503 Klippy Host not connected */
    SIM_E_NOT_READY = -2,       /* 400: klippy shutdown or starting */
    SIM_E_BUSY = -3,            /* 400 SD busy / 403 file in use */
    SIM_E_NO_FILE = -4,         /* 400 Unable to open file / 404 */
    SIM_E_NOMEM = -5            /* 500 */
};

struct sim_file {
    struct sim_file *next;      /* list newest first */
    char *path;                 /* owned, relative to the root */
    uint64_t size;
    double modified;            /* unix time (simulated clock) */
    double last_start;          /* unix time of the last print, 0 = never */
    float need;                 /* simulated seconds this file prints for */
    uint32_t last_job;          /* history job id of that print, 0 = never */
    uint8_t root;               /* enum sim_root */
    uint8_t sha256[32];
};

struct sim_job {                /* one history entry */
    char *filename;             /* owned */
    double start, end;          /* unix time (simulated clock); end 0 = open */
    float print_duration, total_duration, filament_used;
    uint32_t id;
    uint8_t status;             /* enum sim_jstatus */
    uint8_t api_key_user;       /* started with an API key */
};

/* One printer: kept small (10,000 of them), advanced lazily from
 * timestamps on each access; no threads or timers of its own. */
struct sim_printer {
    char *filename;             /* owned: print_stats.filename, NULL = "" */
    struct sim_file *files;     /* owned list */
    struct sim_job *hist;       /* owned ring of hist_cap entries */
    const char *message;        /* static: print_stats.message */
    const char *klippy_msg;     /* static: state_message when not ready */
    double job_start;           /* sim time the job started */
    double run_since;           /* sim time printing last (re)started */
    double run_acc;             /* active seconds before run_since */
    double job_end;             /* sim time the job ended */
    double heat_tc;             /* sim time heater targets last changed */
    double klippy_tc;           /* sim time klippy state last changed */
    uint64_t file_size;         /* virtual_sdcard.file_size */
    float need;                 /* print seconds the loaded job needs */
    float heat_time;            /* active seconds of heating first */
    float fault_at;             /* print seconds at which a fault fires */
    float ext_t0, ext_target, bed_t0, bed_target;
    uint32_t job_seq;           /* last history job id */
    uint32_t hist_head;         /* next slot to write */
    uint32_t hist_len, hist_cap;
    uint32_t n_files;
    int32_t latency_ms;         /* -1: use the global setting */
    uint32_t n_requests, n_uploads, n_starts;
    uint8_t klippy;             /* enum sim_klippy */
    uint8_t pstate;             /* enum sim_pstate */
    uint8_t fault;              /* enum sim_fault of the running job */
    uint8_t net;                /* enum sim_net */
    uint8_t offmode;            /* enum sim_offmode when forced offline */
    uint8_t fail_next;          /* enum sim_fault forced on the next job */
    float fail_next_at;         /* 0..1 fraction of need, <0 = random */
};

/* Values derived from a printer at one instant, for JSON output.  Pointers
 * are valid only while the printer lock is held. */
struct sim_snap {
    unsigned id;
    enum sim_klippy klippy;
    enum sim_pstate pstate;
    const char *filename;       /* "" when none */
    const char *message;        /* "" when none */
    const char *klippy_msg;
    double eventtime;
    double print_duration, total_duration, filament_used;
    double progress;
    uint64_t file_position, file_size;
    int is_active, file_open;
    double ext_temp, ext_target, ext_power;
    double bed_temp, bed_target, bed_power;
    int total_layer, current_layer;   /* -1 = null */
};

/* Real seconds as a double (CLOCK_MONOTONIC). */
double sim_mono(void);
/* Starts the simulated clock (call once before anything else). */
void sim_clock_init(void);
/* Simulated seconds since start-up (scaled wall clock plus advances). */
double sim_clock_now(void);
/* Unix time of simulated instant t. */
double sim_clock_unix(double t);
/* Moves the simulated clock forward by secs (>= 0); thread-safe. */
void sim_clock_advance(double secs);

/* Allocates n printers (1..SIM_MAX_PRINTERS), all ready and idle.
 * Returns 0, or -1 on allocation failure. */
int sim_fleet_init(unsigned n);
/* Frees every printer and what it owns. */
void sim_fleet_free(void);
/* Printer by 1-based id, or NULL when out of range. */
struct sim_printer *sim_printer_get(unsigned id);
unsigned sim_printer_id(const struct sim_printer *p);
void sim_printer_lock(const struct sim_printer *p);
void sim_printer_unlock(const struct sim_printer *p);

/* Brings p up to simulated time now (ends jobs, finishes restarts). */
void sim_printer_update(struct sim_printer *p, double now);
/* Fills out with p's derived state at now (calls update first). */
void sim_printer_snap(struct sim_printer *p, double now, struct sim_snap *out);
/* -1 when p answers requests at now, else the enum sim_offmode to apply. */
int sim_printer_offline(const struct sim_printer *p, double now);

/* Klipper/Moonraker actions; each updates p to now first. */
enum sim_rc sim_printer_start(struct sim_printer *p, const char *filename,
                              double now, int api_key_user);
enum sim_rc sim_printer_pause(struct sim_printer *p, double now);
enum sim_rc sim_printer_resume(struct sim_printer *p, double now);
enum sim_rc sim_printer_cancel(struct sim_printer *p, double now);
/* Klippy shutdown (M112 or a fault); msg is static text. */
enum sim_rc sim_printer_shutdown(struct sim_printer *p, double now,
                                 const char *msg);
/* FIRMWARE_RESTART / RESTART: back to startup then ready. */
enum sim_rc sim_printer_restart(struct sim_printer *p, double now);
/* Klippy host process gone (disconnect) or back (connect). */
void sim_printer_disconnect(struct sim_printer *p, double now);
void sim_printer_connect(struct sim_printer *p, double now);
/* SDCARD_RESET_FILE for a cleared bed; SIM_E_BUSY while a job is loaded. */
enum sim_rc sim_printer_eject(struct sim_printer *p, double now);

/* File by root and path, or NULL. */
struct sim_file *sim_printer_file_find(struct sim_printer *p,
                                       enum sim_root root, const char *path);
/* Records an uploaded file (replacing one of the same name); *created says
 * whether it is new.  Returns the record or NULL on allocation failure. */
struct sim_file *sim_printer_file_put(struct sim_printer *p, enum sim_root root,
                                      const char *path, uint64_t size,
                                      const uint8_t sha256[32], double now,
                                      int *created);
/* Removes a file: SIM_OK, SIM_E_NO_FILE, or SIM_E_BUSY while it prints. */
enum sim_rc sim_printer_file_delete(struct sim_printer *p, enum sim_root root,
                                    const char *path);
/* Nonzero when path is the file loaded by a printing or paused job. */
int sim_printer_file_in_use(const struct sim_printer *p, const char *path);

/* History ring access: i = 0 is the newest entry; NULL past the end. */
const struct sim_job *sim_printer_job(const struct sim_printer *p, unsigned i);

const char *sim_klippy_name(enum sim_klippy k);
const char *sim_pstate_name(enum sim_pstate s);
const char *sim_jstatus_name(enum sim_jstatus s);
/* Uniform double in [0,1) from the seed and up to three keys. */
double sim_rand(uint64_t a, uint64_t b, uint64_t c);

/* Global counters, updated with SIM_STAT_ADD. */
struct sim_stats {
    uint64_t requests, printer_requests, control_requests;
    uint64_t uploads, upload_bytes, rejected_uploads;
    uint64_t prints_started, prints_completed, prints_failed;
    uint64_t prints_cancelled, prints_shutdown, prints_replaced;
    uint64_t prints_disconnected, start_refused;
    uint64_t offline_dropped, offline_hung, offline_502;
    uint64_t delayed, unauthorized;
};
extern struct sim_stats sim_stats;
#define SIM_STAT_ADD(field, n) \
    __atomic_fetch_add(&sim_stats.field, (uint64_t)(n), __ATOMIC_RELAXED)
#define SIM_STAT_GET(field) __atomic_load_n(&sim_stats.field, __ATOMIC_RELAXED)

/* ------------------------------------------------------------------ */
/* sim_http.c: the server and the request/response model handlers use */

struct sim_upload;

struct sim_req {
    struct MHD_Connection *conn;
    const char *method;
    const char *path;           /* below the printer base, "/server/info" */
    const char *base;           /* "/p/17" (for Location headers) */
    const char *host;           /* Host header or "127.0.0.1" */
    unsigned id;                /* printer id; 0 for /sim */
    struct sim_printer *p;      /* NULL for /sim */
    json_t *args;               /* body arguments (JSON/form) or NULL */
    struct sim_upload *up;      /* multipart summary or NULL */
    int api_key_user;           /* authenticated with X-Api-Key */
};

/* What a handler answers; sim_http sends it. */
struct sim_resp {
    unsigned status;
    json_t *body;               /* owned; NULL = empty body */
    char location[SIM_PATH_MAX + 256];  /* Location header when non-empty */
};

/* Starts the HTTP daemon on addr (sockaddr_in/in6, port 0 = any) with
 * threads polling threads and at most max_conn connections; stores the
 * bound port.  Returns 0 or -1 (logged). */
int sim_http_start(const void *addr, int ipv6, unsigned threads,
                   unsigned max_conn, uint16_t *port);
/* Stops accepting, releases held connections and stops the daemon. */
void sim_http_stop(void);

/* Argument name from the body (wins) or the query string; Moonraker type
 * hints ("name:int") are accepted.  Returns NULL when absent.  The string
 * lives as long as the request. */
const char *sim_req_arg(struct sim_req *r, const char *name);
/* Body argument as JSON (borrowed) or NULL. */
json_t *sim_req_body_arg(struct sim_req *r, const char *name);
/* Request header value or NULL. */
const char *sim_req_header(struct sim_req *r, const char *name);

/* Response helpers: each replaces out->body (stealing json). */
void sim_resp_result(struct sim_resp *out, json_t *json);    /* 200 result */
void sim_resp_ok(struct sim_resp *out);                      /* "ok" */
void sim_resp_raw(struct sim_resp *out, unsigned status, json_t *json);
/* Moonraker error body {"error":{code,message,traceback}}; detail goes in
 * the traceback (may be NULL). */
void sim_resp_error(struct sim_resp *out, unsigned status, const char *msg,
                    const char *detail);

/* Multipart upload summary (valid during the final dispatch). */
struct sim_upload_info {
    const char *filename;       /* multipart filename of the "file" part */
    const char *root, *path, *print, *checksum;  /* fields or NULL */
    uint64_t size;
    uint8_t sha256[32];
    int n_files;                /* "file" parts seen */
    int too_big;                /* exceeded max_upload */
    int bad_field;              /* a field longer than its buffer */
};
/* Fills info from r->up; returns -1 when the request had no multipart. */
int sim_req_upload(struct sim_req *r, struct sim_upload_info *info);


/* ------------------------------------------------------------------ */
/* sim_delay.c */

/* Starts the timer thread; queue holds at most cap connections.  0 / -1. */
int sim_delay_start(unsigned cap);
/* Queues suspended connection c to be resumed after ms milliseconds.
 * Returns -1 when the queue is full or stopping (caller resumes itself). */
int sim_delay_add(struct MHD_Connection *c, unsigned ms);
/* Resumes every queued connection, refuses new ones, joins the thread. */
void sim_delay_stop(void);

/* ------------------------------------------------------------------ */
/* sim_moonraker.c */

/* Answers a request under /p/ID (auth already checked). */
void sim_moonraker_dispatch(struct sim_req *r, struct sim_resp *out);
/* objects/query "status" object for the given query (NULL = defaults). */
json_t *sim_moonraker_status(const struct sim_snap *s, json_t *objects);
/* /server/history job object (new reference or NULL); p, when not NULL,
 * supplies "exists". */
json_t *sim_moonraker_job_json(struct sim_printer *p, const struct sim_job *j);
/* Sets out to the Moonraker error for a failed printer operation. */
void sim_moonraker_fail(struct sim_resp *out, enum sim_rc rc);

/* ------------------------------------------------------------------ */
/* sim_files.c: Moonraker file endpoints (moonraker.md 3) */

/* POST /server/files/upload and /api/files/local (octo selects the
 * OctoPrint Location form): 201 with the unwrapped upload object. */
void sim_files_upload(struct sim_req *r, struct sim_resp *out, int octo);
/* GET /server/files/list */
void sim_files_list(struct sim_req *r, struct sim_resp *out);
/* GET /server/files/metadata */
void sim_files_metadata(struct sim_req *r, struct sim_resp *out);
/* DELETE /server/files/{gcodes,config}/PATH */
void sim_files_delete(struct sim_req *r, struct sim_resp *out);
/* Formats a job id the way Moonraker does ("00002A"); buf >= 16 bytes. */
void sim_files_job_id(uint32_t id, char *buf, size_t cap);

/* ------------------------------------------------------------------ */
/* sim_octo.c */

/* Answers /api/... ; returns 0 when handled, -1 for an unknown path. */
int sim_octo_dispatch(struct sim_req *r, struct sim_resp *out);

/* ------------------------------------------------------------------ */
/* sim_ctl.c */

/* Answers a request under /sim/ (path is the part after "/sim"). */
void sim_ctl_dispatch(struct sim_req *r, struct sim_resp *out);

/* ------------------------------------------------------------------ */
/* sim_sha256.c */

/* SHA-256 over OpenSSL's EVP interface.  A zeroed struct is ready for
 * init; init may be called again to start over; free releases it. */
struct sim_sha256 {
    void *ctx;      /* EVP_MD_CTX, owned */
    int ok;         /* 0 after an allocation or digest failure */
};
void sim_sha256_init(struct sim_sha256 *s);
void sim_sha256_update(struct sim_sha256 *s, const void *data, size_t len);
void sim_sha256_final(struct sim_sha256 *s, uint8_t out[32]);
void sim_sha256_free(struct sim_sha256 *s);

#endif
