/*
 * moonraker.h - the fleet's HTTP client for Moonraker (reference/
 * moonraker.md): status queries, uploads, print control, and plain GETs
 * for frontend canaries.
 *
 * One client drives libcurl multi handles from rrcloudd's event loop
 * (loop.h) with the socket-action pattern: curl tells us which sockets to
 * watch and when to wake it, the loop calls back, nothing blocks, and
 * thousands of printers share one thread.  Connections are kept alive and
 * reused; easy handles are recycled.  (Hosts are spread over a few multi
 * handles, each with its own connection pool: see moonraker.c.)
 *
 * Every request takes a target (the printer's share URL and credentials),
 * a completion callback (NULL: fire and forget) and its argument.  The
 * callback runs exactly once, from the loop, unless the transfer is
 * cancelled with mr_cancel() or the client is freed first.  Errors are
 * classified by HTTP status and curl result as moonraker.md sections 0
 * and 12 advise; Moonraker's error text is passed on for logs and reasons
 * only.
 */
#ifndef RR_MOONRAKER_H
#define RR_MOONRAKER_H

#include <stddef.h>

struct loop;
struct mr_client;
struct mr_xfer;

enum mr_kind {
    MR_QUERY,    /* GET /printer/objects/query?... -> struct mr_status */
    MR_INFO,     /* GET /server/info */
    MR_UPLOAD,   /* POST /server/files/upload (multipart, streamed) */
    MR_START,    /* POST /printer/print/start?filename= */
    MR_PAUSE,    /* POST /printer/print/pause */
    MR_RESUME,   /* POST /printer/print/resume */
    MR_CANCEL,   /* POST /printer/print/cancel */
    MR_GET,      /* GET of any URL (frontend canary) */
    MR_DELETE,   /* DELETE /server/files/gcodes/NAME */
};

enum mr_err {
    MR_OK = 0,
    MR_ERR_OFFLINE,  /* no answer: resolve/connect/TLS failure, timeout,
                        connection reset - printer or frontend unreachable */
    MR_ERR_TUNNEL,   /* 502/504 from the frontend: the tunnel is broken */
    MR_ERR_KLIPPY,   /* 503, or 404 on a /printer/ query: Klippy is not
                        connected */
    MR_ERR_BUSY,     /* 400/403/409 on start, upload or delete: printer
                        busy, file loaded or in use, or start refused */
    MR_ERR_NOTFOUND, /* 404: missing file (start) or route (canary) */
    MR_ERR_AUTH,     /* 401: wrong API key or share credentials */
    MR_ERR_HTTP,     /* any other non-2xx status */
    MR_ERR_PROTO,    /* 2xx whose body is not what Moonraker sends, or an
                        answer over the size cap */
    MR_ERR_LOCAL,    /* the request could not be made here (memory, the
                        file to upload is unreadable) */
};

/* webhooks.state */
enum mr_klippy {
    MR_KLIPPY_UNKNOWN = 0,
    MR_KLIPPY_READY,
    MR_KLIPPY_STARTUP,
    MR_KLIPPY_SHUTDOWN,
    MR_KLIPPY_ERROR,
};

/* print_stats.state */
enum mr_pstate {
    MR_PS_UNKNOWN = 0,
    MR_PS_STANDBY,
    MR_PS_PRINTING,
    MR_PS_PAUSED,
    MR_PS_COMPLETE,
    MR_PS_CANCELLED,
    MR_PS_ERROR,
};

#define MR_FILENAME_MAX 256
#define MR_MESSAGE_MAX 256

/* What one objects/query answer says, reduced to what the fleet uses.
 * Absent or null numbers are 0; over-long strings are truncated. */
struct mr_status {
    enum mr_klippy klippy;
    enum mr_pstate pstate;
    char filename[MR_FILENAME_MAX];  /* print_stats.filename, "" = none */
    char message[MR_MESSAGE_MAX];    /* print_stats.message, else
                                        webhooks.state_message when not
                                        ready */
    double progress;                 /* virtual_sdcard.progress 0..1 */
    double print_duration;           /* s */
    double ext_temp, ext_target;     /* extruder, deg C */
    double bed_temp, bed_target;     /* heater_bed, deg C */
    int is_active;                   /* virtual_sdcard.is_active */
};

/* Handed to the completion callback; valid only during the call. */
struct mr_reply {
    enum mr_kind kind;
    enum mr_err err;
    long http;                       /* HTTP status, 0 if none arrived */
    const char *message;             /* error text for logs ("" if OK) */
    const struct mr_status *status;  /* MR_QUERY answered OK, else NULL */
    int klippy_connected;            /* MR_INFO: klippy_state == ready */
    double elapsed_ms;               /* from submission to completion */
};

typedef void (*mr_done_cb)(void *arg, const struct mr_reply *rep);

/* Where a printer is reached.  Strings are copied by each request. */
struct mr_target {
    const char *base;      /* share URL, "http(s)://host[:port][/prefix]" */
    const char *api_key;   /* Moonraker X-Api-Key; NULL or "" = none */
    const char *userpwd;   /* "user:pass" basic auth of the share, or NULL */
};

struct netcheck_allow;

/* Limits; zero fields take the defaults shown. */
struct mr_opts {
    long connect_timeout_ms;  /* 3000 */
    long query_timeout_ms;    /* 10000: objects/query, info, GET */
    long command_timeout_ms;  /* 30000: start, pause, resume, cancel */
    long upload_timeout_ms;   /* 1800000: uploads (the file's size) */
    size_t max_body;          /* 262144: answers larger fail (PROTO) */
    long max_connects;        /* 1024: idle connections kept; size it
                                 to the fleet */
    long host_connections;    /* 2: connections per host name */
    long total_connections;   /* 0 = no limit */
    int shards;               /* multi handles (own pools) hosts are
                                 spread over; max_connects/512+1 */
    const char *user_agent;   /* "rrcloud" */
    /* Every connection's peer is checked against netcheck's deny list
     * with this allow list (borrowed; must outlive the client); a refused
     * one is MR_OFFLINE with the reason as message.  NULL = unchecked
     * (the unit tests' loopback servers). */
    const struct netcheck_allow *netcheck;
};

/* Creates a client on loop l (borrowed; must outlive the client).  Call
 * curl_global_init() first.  Returns NULL with errno. */
struct mr_client *mr_client_new(struct loop *l, const struct mr_opts *o);
/* Aborts every transfer in flight (their callbacks are not called) and
 * frees the client.  NULL is a no-op. */
void mr_client_free(struct mr_client *c);
/* Transfers in flight. */
int mr_client_active(const struct mr_client *c);

/* Each request returns a handle valid until its callback has run (or it
 * is cancelled), or NULL with errno when it could not be started (then cb
 * is never called). */

/* GET /printer/objects/query for webhooks, print_stats, virtual_sdcard,
 * extruder, heater_bed and display_status. */
struct mr_xfer *mr_query(struct mr_client *c, const struct mr_target *t,
                         mr_done_cb cb, void *arg);
/* GET /server/info. */
struct mr_xfer *mr_info(struct mr_client *c, const struct mr_target *t,
                        mr_done_cb cb, void *arg);
/* POST /server/files/upload: the file at local_path is streamed from disk
 * (never read whole) as remote_name in the gcodes root; sha256_hex (may be
 * NULL) lets Moonraker verify it (422 on mismatch).  print = 1 asks
 * Moonraker to start it; the fleet uploads with 0 and calls mr_start()
 * so that nothing is left in Moonraker's own queue. */
struct mr_xfer *mr_upload(struct mr_client *c, const struct mr_target *t,
                          const char *local_path, const char *remote_name,
                          const char *sha256_hex, int print,
                          mr_done_cb cb, void *arg);
/* POST /printer/print/start?filename=NAME. */
struct mr_xfer *mr_start(struct mr_client *c, const struct mr_target *t,
                         const char *filename, mr_done_cb cb, void *arg);
/* POST /printer/print/{pause,resume,cancel}; kind is MR_PAUSE, MR_RESUME
 * or MR_CANCEL (EINVAL otherwise). */
struct mr_xfer *mr_command(struct mr_client *c, const struct mr_target *t,
                           enum mr_kind kind, mr_done_cb cb, void *arg);
/* DELETE /server/files/gcodes/NAME: removes an uploaded file (404 =
 * NOTFOUND: gone already). */
struct mr_xfer *mr_delete(struct mr_client *c, const struct mr_target *t,
                          const char *filename, mr_done_cb cb, void *arg);
/* GET url as is (userpwd may be NULL): a frontend's canary.  Only the
 * status class matters: 2xx OK, 404 NOTFOUND, 502 TUNNEL, no answer
 * OFFLINE. */
struct mr_xfer *mr_get(struct mr_client *c, const char *url,
                       const char *userpwd, mr_done_cb cb, void *arg);

/* Aborts a transfer in flight; its callback is not called.  The handle
 * is invalid afterwards.  NULL is a no-op. */
void mr_cancel(struct mr_client *c, struct mr_xfer *x);

/* Names for logs and metrics: "ok", "offline", "tunnel", ... */
const char *mr_err_name(enum mr_err e);
const char *mr_kind_name(enum mr_kind k);
const char *mr_pstate_name(enum mr_pstate s);
const char *mr_klippy_name(enum mr_klippy k);

/* Classification used for every reply (exposed for the tests): curl_code
 * is the CURLcode of the transfer, http the status (0 if none). */
enum mr_err mr_classify(enum mr_kind kind, int curl_code, long http);

/* Makes a reply out of what a transfer brought (the client does this for
 * every transfer; exposed for the tests): the class of error, *status
 * (MR_QUERY answered OK), *klippy_connected (MR_INFO), and in text a
 * message for logs: Moonraker's error text, else curl's (curl_err may be
 * NULL), else "HTTP n". */
enum mr_err mr_interpret(enum mr_kind kind, int curl_code, long http,
                         const char *body, size_t len, int over_cap,
                         const char *curl_err, struct mr_status *status,
                         int *klippy_connected, char *text, size_t cap);

/* Parses an objects/query answer body into *out.  0, or -1 when it is not
 * one ({"result":{"status":{...}}}). */
int mr_parse_status(const char *body, size_t len, struct mr_status *out);

#endif
