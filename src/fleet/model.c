/* model.c - see model.h: names, init/clear, policy, small checks, JSON. */
#include "fleet/model.h"

#include "common/conf.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names ------------------------------------------------------------- */

static const char *const printer_state_names[PRINTER_STATE_COUNT] = {
    "offline", "ready", "needs_clearing", "uploading", "printing", "paused",
    "error", "maintenance", "quarantined",
};
static const char *const job_state_names[JOB_STATE_COUNT] = {
    "queued", "printing", "complete", "failed", "cancelled",
};
static const char *const copy_state_names[COPY_STATE_COUNT] = {
    "queued", "live", "complete", "failed", "cancelled",
};
static const char *const attempt_state_names[ATTEMPT_STATE_COUNT] = {
    "dispatching", "uploading", "printing", "paused", "complete", "failed",
    "cancelled", "lost",
};
static const char *const printer_cmd_names[PCMD_COUNT] = {
    "none", "pause", "resume", "cancel",
};
static const char *const fleet_role_names[ROLE_COUNT] = {
    "admin", "enroll", "octoprint", "operator", "user", "app",
};

static const char *name_of(const char *const *names, int n, int v)
{
    return v >= 0 && v < n ? names[v] : "unknown";
}

static int parse_name(const char *const *names, int n, const char *s)
{
    for (int i = 0; s && i < n; i++) {
        if (strcmp(s, names[i]) == 0)
            return i;
    }
    return -1;
}

const char *printer_state_name(enum printer_state s)
{
    return name_of(printer_state_names, PRINTER_STATE_COUNT, (int)s);
}

int printer_state_parse(const char *s, enum printer_state *out)
{
    int v = parse_name(printer_state_names, PRINTER_STATE_COUNT, s);

    if (v < 0)
        return -1;
    *out = (enum printer_state)v;
    return 0;
}

const char *job_state_name(enum job_state s)
{
    return name_of(job_state_names, JOB_STATE_COUNT, (int)s);
}

int job_state_parse(const char *s, enum job_state *out)
{
    int v = parse_name(job_state_names, JOB_STATE_COUNT, s);

    if (v < 0)
        return -1;
    *out = (enum job_state)v;
    return 0;
}

const char *copy_state_name(enum copy_state s)
{
    return name_of(copy_state_names, COPY_STATE_COUNT, (int)s);
}

const char *attempt_state_name(enum attempt_state s)
{
    return name_of(attempt_state_names, ATTEMPT_STATE_COUNT, (int)s);
}

int attempt_state_parse(const char *s, enum attempt_state *out)
{
    int v = parse_name(attempt_state_names, ATTEMPT_STATE_COUNT, s);

    if (v < 0)
        return -1;
    *out = (enum attempt_state)v;
    return 0;
}

const char *printer_cmd_name(enum printer_cmd c)
{
    return name_of(printer_cmd_names, PCMD_COUNT, (int)c);
}

int printer_cmd_parse(const char *s, enum printer_cmd *out)
{
    int v = parse_name(printer_cmd_names, PCMD_COUNT, s);

    if (v < 0)
        return -1;
    *out = (enum printer_cmd)v;
    return 0;
}

const char *fleet_role_name(enum fleet_role r)
{
    return name_of(fleet_role_names, ROLE_COUNT, (int)r);
}

int fleet_role_parse(const char *s, enum fleet_role *out)
{
    int v = parse_name(fleet_role_names, ROLE_COUNT, s);

    if (v < 0)
        return -1;
    *out = (enum fleet_role)v;
    return 0;
}

/* ---- init / clear -------------------------------------------------------- */

void fleet_printer_init(struct fleet_printer *p)
{
    memset(p, 0, sizeof(*p));
    p->state = PRINTER_OFFLINE;
    p->observed = PRINTER_OFFLINE;
    p->pending_cmd = PCMD_NONE;
    p->spool_g = -1;
}

double fleet_eta(double progress, double print_duration)
{
    if (!(progress > 0) || !(print_duration > 0))
        return -1;
    if (progress >= 1)
        return 0;
    return print_duration / progress - print_duration;
}

int fleet_live_printing(const struct fleet_printer_live *l)
{
    return !strcmp(l->print_state, "printing") ||
           !strcmp(l->print_state, "paused");
}

int fleet_live_shown(const struct fleet_printer *p)
{
    return p->live.updated > 0 && p->state != PRINTER_OFFLINE;
}

void fleet_frontend_init(struct fleet_frontend *f)
{
    memset(f, 0, sizeof(*f));
    f->enabled = 1;
    f->healthy = 1;
}

void fleet_job_init(struct fleet_job *j)
{
    memset(j, 0, sizeof(*j));
    j->state = JOB_QUEUED;
}

void fleet_job_clear(struct fleet_job *j)
{
    free(j->notifier);
    free(j->reason);
    free(j->waiting_reason);
    free(j->held_reason);
    fleet_job_init(j);
}

void fleet_attempt_init(struct fleet_attempt *a)
{
    memset(a, 0, sizeof(*a));
    a->state = ATTEMPT_DISPATCHING;
}

void fleet_policy_from_conf(struct fleet_policy *p, const struct rr_conf *c)
{
    memset(p, 0, sizeof(*p));
    p->fail_per_printer = c->fleet_fail_per_printer > 0
                              ? c->fleet_fail_per_printer : 1;
    p->fail_printers = c->fleet_fail_printers > 0 ? c->fleet_fail_printers : 1;
    p->quarantine_after = c->fleet_quarantine_after;
    p->lease = (double)c->fleet_lease;
    p->age_boost = (double)c->fleet_age_boost;
    p->change_penalty = c->fleet_change_penalty;
    p->heatup_max = c->fleet_heatup_max;
    p->heatup_time = (double)c->fleet_heatup_time;
    p->frontend_capacity = c->frontend_capacity;
    p->frontend_fail_threshold = c->frontend_fail_threshold > 0
                                     ? c->frontend_fail_threshold : 1;
    p->frontend_grace = (double)c->frontend_grace;
    snprintf(p->region_fallback, sizeof(p->region_fallback), "%s",
             c->region_fallback);
}

/* ---- checks -------------------------------------------------------------- */

int fleet_name_valid(const char *s)
{
    size_t n = 0;

    if (!s || !*s)
        return 0;
    for (; s[n]; n++) {
        unsigned char ch = (unsigned char)s[n];
        if (n >= FLEET_NAME_MAX - 1)
            return 0;
        if (!isalnum(ch) && !strchr("._#+-", ch))
            return 0;
    }
    return 1;
}

int fleet_text_valid(const char *s, size_t max)
{
    size_t n;

    if (!s)
        return 0;
    n = strlen(s);
    if (n >= max)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch == 0x7f)
            return 0;
    }
    return 1;
}

void fleet_lower(char *s)
{
    for (; s && *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

int fleet_sha256_valid(const char *s)
{
    size_t i;

    if (!s)
        return 0;
    for (i = 0; s[i]; i++) {
        if (i >= 64 || !isxdigit((unsigned char)s[i]) ||
            isupper((unsigned char)s[i]))
            return 0;
    }
    return i == 64;
}

int fleet_list_has(const char *list, const char *name)
{
    size_t n = strlen(name);
    const char *p = list;

    if (!list || !n)
        return 0;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && memcmp(p, name, n) == 0)
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

void fleet_share_name(long long printer_id, char *buf, size_t len)
{
    snprintf(buf, len, "prn-%lld", printer_id);
}

void fleet_attempt_filename(long long job_id, int copy, long long attempt_id,
                            char *buf, size_t len)
{
    snprintf(buf, len, "rr-%lld-%d-%lld.gcode", job_id, copy, attempt_id);
}

int fleet_attempt_filename_parse(const char *name, long long *job_id,
                                 int *copy, long long *attempt_id)
{
    long long j, a;
    int c, end = 0;
    const char *base;

    if (!name)
        return -1;
    /* Moonraker may report it under a folder (path=...). */
    base = strrchr(name, '/');
    base = base ? base + 1 : name;
    if (sscanf(base, "rr-%lld-%d-%lld.gcode%n", &j, &c, &a, &end) != 3 ||
        base[end] != '\0' || j < 1 || c < 0 || a < 1)
        return -1;
    *job_id = j;
    *copy = c;
    *attempt_id = a;
    return 0;
}

/* ---- JSON ---------------------------------------------------------------- */

/* json_object_set_new that tolerates a NULL value (left out). */
static void jset(json_t *o, const char *k, json_t *v)
{
    if (v)
        json_object_set_new(o, k, v);
}

static json_t *jstr_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *jtime(double t)
{
    return t > 0 ? json_real(t) : json_null();
}

/* A comma list as a JSON array of strings. */
static json_t *jlist(const char *list)
{
    json_t *a = json_array();
    const char *p = list;

    if (!a)
        return NULL;
    while (p && *p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len)
            json_array_append_new(a, json_stringn(p, len));
        if (!e)
            break;
        p = e + 1;
    }
    return a;
}

static json_t *jheater(int shown, double temp, double target)
{
    return shown ? json_pack("{sfsf}", "temperature", temp, "target", target)
                 : json_null();
}

/* The live fields: null while they cannot be told (never seen, offline;
 * progress and time left only with a file loaded / a print running). */
static void printer_live_json(json_t *o, const struct fleet_printer *p)
{
    const struct fleet_printer_live *l = &p->live;
    int shown = fleet_live_shown(p), file = shown && l->file[0];
    double eta = fleet_live_printing(l) ? fleet_eta(l->progress,
                                                    l->print_duration) : -1;

    jset(o, "print_state", shown ? jstr_or_null(l->print_state)
                                 : json_null());
    jset(o, "file", file ? json_string(l->file) : json_null());
    jset(o, "progress", file ? json_real(l->progress) : json_null());
    jset(o, "print_duration", file ? json_real(l->print_duration)
                                   : json_null());
    jset(o, "time_left", shown && eta >= 0
                             ? json_real((double)(long long)(eta + 0.5))
                             : json_null());
    jset(o, "extruder", jheater(shown, l->ext_temp, l->ext_target));
    jset(o, "bed", jheater(shown, l->bed_temp, l->bed_target));
    jset(o, "status_at", jtime(l->updated));
}

json_t *fleet_spool_json(const struct fleet_printer *p)
{
    json_t *o = json_object();

    if (!o)
        return NULL;
    jset(o, "grams", p->spool_g >= 0 ? json_real(p->spool_g) : json_null());
    jset(o, "set_at", jtime(p->spool_set));
    jset(o, "material", json_string(p->material));
    jset(o, "colour", json_string(p->colour));
    return o;
}

json_t *fleet_printer_json(const struct fleet_printer *p)
{
    json_t *o = json_object();
    char share[32];

    if (!o)
        return NULL;
    fleet_share_name(p->id, share, sizeof(share));
    jset(o, "id", json_integer(p->id));
    jset(o, "name", json_string(p->name));
    jset(o, "state", json_string(printer_state_name(p->state)));
    jset(o, "observed", json_string(printer_state_name(p->observed)));
    jset(o, "klippy_state", jstr_or_null(p->klippy_state));
    jset(o, "region", json_string(p->region));
    jset(o, "site", json_string(p->site));
    jset(o, "frontend", jstr_or_null(p->frontend));
    jset(o, "share_name", json_string(share));
    jset(o, "share_url", jstr_or_null(p->share_url));
    jset(o, "profile", json_string(p->profile));
    jset(o, "material", json_string(p->material));
    jset(o, "colour", json_string(p->colour));
    jset(o, "queues", jlist(p->queues));
    jset(o, "tags", jlist(p->tags));
    jset(o, "auto_eject", json_boolean(p->auto_eject));
    jset(o, "needs_clearing", json_boolean(p->needs_clearing));
    jset(o, "maintenance", json_boolean(p->maintenance));
    jset(o, "quarantined", json_boolean(p->quarantined));
    jset(o, "hold_reason", jstr_or_null(p->hold_reason));
    jset(o, "has_api_key", json_boolean(p->api_key[0] != '\0'));
    jset(o, "has_share_auth", json_boolean(p->share_auth[0] != '\0'));
    jset(o, "consecutive_failures", json_integer(p->consecutive_failures));
    jset(o, "attempt", p->attempt_id ? json_integer(p->attempt_id)
                                     : json_null());
    jset(o, "pending_command", p->pending_cmd != PCMD_NONE
                                   ? json_string(printer_cmd_name(
                                         p->pending_cmd))
                                   : json_null());
    jset(o, "move_pending", json_boolean(p->move_pending));
    jset(o, "moonraker_version", jstr_or_null(p->moonraker_version));
    jset(o, "enrolled_at", jtime(p->enrolled_at));
    jset(o, "last_seen", jtime(p->last_seen));
    jset(o, "last_heartbeat", jtime(p->last_heartbeat));
    jset(o, "state_since", jtime(p->state_since));
    jset(o, "prints_ok", json_integer(p->prints_ok));
    jset(o, "prints_failed", json_integer(p->prints_failed));
    jset(o, "print_hours", json_real(p->print_seconds / 3600.0));
    jset(o, "spool", fleet_spool_json(p));
    printer_live_json(o, p);
    return o;
}

json_t *fleet_frontend_json(const struct fleet_frontend *f)
{
    json_t *o = json_object();

    if (!o)
        return NULL;
    jset(o, "name", json_string(f->name));
    jset(o, "region", json_string(f->region));
    jset(o, "url", json_string(f->url));
    jset(o, "namespace", json_string(f->namespace_));
    jset(o, "canary_url", jstr_or_null(f->canary_url));
    jset(o, "capacity", json_integer(f->capacity));
    jset(o, "enabled", json_boolean(f->enabled));
    jset(o, "healthy", json_boolean(f->healthy));
    jset(o, "from_conf", json_boolean(f->from_conf));
    jset(o, "assigned", json_integer(f->assigned));
    jset(o, "online", json_integer(f->online));
    jset(o, "load", json_real(f->capacity > 0 ? (double)f->assigned /
                                                    (double)f->capacity
                                              : 1.0));
    jset(o, "last_check", jtime(f->last_check));
    jset(o, "unhealthy_since", jtime(f->unhealthy_since));
    jset(o, "last_error", jstr_or_null(f->last_error));
    jset(o, "consecutive_failures", json_integer(f->consecutive_failures));
    return o;
}

json_t *fleet_queue_json(const struct fleet_queue *q)
{
    json_t *o = json_object();

    if (!o)
        return NULL;
    jset(o, "name", json_string(q->name));
    jset(o, "created", jtime(q->created));
    jset(o, "printers", json_integer(q->printers));
    jset(o, "jobs_active", json_integer(q->jobs_active));
    jset(o, "depth", json_integer(q->depth));
    jset(o, "live", json_integer(q->live));
    return o;
}

json_t *fleet_attempt_json(const struct fleet_attempt *a)
{
    json_t *o = json_object();

    if (!o)
        return NULL;
    jset(o, "id", json_integer(a->id));
    jset(o, "job", json_integer(a->job_id));
    jset(o, "copy", json_integer(a->copy));
    jset(o, "printer", json_integer(a->printer_id));
    jset(o, "state", json_string(attempt_state_name(a->state)));
    jset(o, "filename", json_string(a->filename));
    jset(o, "sha256", json_string(a->sha256));
    jset(o, "created", jtime(a->created));
    jset(o, "upload_at", jtime(a->upload_at));
    jset(o, "started", jtime(a->started));
    jset(o, "ended", jtime(a->ended));
    jset(o, "lease_until", attempt_state_live(a->state) ? jtime(a->lease_until)
                                                        : json_null());
    jset(o, "dispatch_latency", a->upload_at > 0 && a->ready_at > 0
                                    ? json_real(a->upload_at - a->ready_at)
                                    : json_null());
    jset(o, "reason", jstr_or_null(a->reason));
    return o;
}

static json_t *job_files_json(const struct fleet_job_file *files, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; a && i < n; i++) {
        json_t *f = json_object();
        if (!f)
            break;
        jset(f, "profile", json_string(files[i].profile));
        jset(f, "sha256", json_string(files[i].sha256));
        jset(f, "filename", json_string(files[i].filename));
        jset(f, "size", json_integer(files[i].size));
        jset(f, "estimated_time", files[i].est_time >= 0
                                      ? json_real(files[i].est_time)
                                      : json_null());
        jset(f, "filament_mm", files[i].filament_mm >= 0
                                   ? json_real(files[i].filament_mm)
                                   : json_null());
        jset(f, "filament_g", files[i].filament_g >= 0
                                  ? json_real(files[i].filament_g)
                                  : json_null());
        jset(f, "slicer", jstr_or_null(files[i].generator));
        json_array_append_new(a, f);
    }
    return a;
}

json_t *fleet_job_json(const struct fleet_job *j,
                       const struct fleet_job_file *files, size_t nfiles,
                       const struct fleet_attempt *attempts, size_t nattempts)
{
    json_t *o = json_object(), *c, *a;
    int waiting;

    if (!o)
        return NULL;
    jset(o, "id", json_integer(j->id));
    jset(o, "queue", jstr_or_null(j->queue));
    jset(o, "printer", j->printer_id ? json_integer(j->printer_id)
                                     : json_null());
    jset(o, "name", json_string(j->name));
    jset(o, "state", json_string(job_state_name(j->state)));
    jset(o, "priority", json_integer(j->priority));
    jset(o, "position", json_real(j->position));
    jset(o, "copies", json_integer(j->copies));
    c = json_object();
    if (c) {
        jset(c, "queued", json_integer(j->copies_queued));
        jset(c, "live", json_integer(j->copies_live));
        jset(c, "complete", json_integer(j->copies_complete));
        jset(c, "failed", json_integer(j->copies_failed));
        jset(c, "cancelled", json_integer(j->copies_cancelled));
        json_object_set_new(o, "copies_by_state", c);
    }
    jset(o, "material", json_string(j->material));
    jset(o, "colour", json_string(j->colour));
    jset(o, "created", jtime(j->created));
    jset(o, "started", jtime(j->started));
    jset(o, "ended", jtime(j->ended));
    jset(o, "task", jstr_or_null(j->task_id));
    jset(o, "owner", jstr_or_null(j->owner));
    jset(o, "notifier", jstr_or_null(j->notifier));
    jset(o, "reason", jstr_or_null(j->reason));
    /* (a job that ended waits no more, whatever it waited for) */
    waiting = j->waiting_reason && !job_state_final(j->state);
    jset(o, "waiting_reason", jstr_or_null(waiting ? j->waiting_reason
                                                   : NULL));
    jset(o, "waiting_since", waiting ? jtime(j->waiting_since)
                                     : json_null());
    jset(o, "held_reason", jstr_or_null(job_state_final(j->state) ? NULL
                                        : j->held_reason));
    if (files)
        jset(o, "files", job_files_json(files, nfiles));
    if (attempts) {
        a = json_array();
        for (size_t i = 0; a && i < nattempts; i++)
            json_array_append_new(a, fleet_attempt_json(&attempts[i]));
        jset(o, "attempts", a);
    }
    return o;
}

json_t *fleet_event_json(const struct fleet_event *e)
{
    json_t *o = json_object();

    if (!o)
        return NULL;
    jset(o, "id", json_integer(e->id));
    jset(o, "time", json_real(e->time));
    jset(o, "kind", json_string(e->kind));
    jset(o, "printer", e->printer_id ? json_integer(e->printer_id)
                                     : json_null());
    jset(o, "job", e->job_id ? json_integer(e->job_id) : json_null());
    jset(o, "attempt", e->attempt_id ? json_integer(e->attempt_id)
                                     : json_null());
    jset(o, "message", json_string(e->message));
    return o;
}

/* ---- rrcloud.conf lines ----------------------------------------------------- */

/* Copies the next blank-separated word of *p into w (len); 0, 1 at the
 * end, -1 if too long. */
static int next_word(const char **p, char *w, size_t len)
{
    const char *s = *p, *e;

    while (*s == ' ' || *s == '\t')
        s++;
    if (!*s || *s == '\n')
        return 1;
    for (e = s; *e && *e != ' ' && *e != '\t' && *e != '\n'; e++)
        ;
    if ((size_t)(e - s) >= len)
        return -1;
    memcpy(w, s, (size_t)(e - s));
    w[e - s] = '\0';
    *p = e;
    return 0;
}

/* "key=value" option of a conf line into dst (size len) when it names key. */
static int take_opt(const char *word, const char *key, char *dst, size_t len)
{
    size_t n = strlen(key);

    if (strncmp(word, key, n) != 0 || word[n] != '=')
        return 0;
    snprintf(dst, len, "%s", word + n + 1);
    return 1;
}

int fleet_frontend_parse_conf(const char *value, struct fleet_frontend *f,
                              char *err, size_t errlen)
{
    const char *p = value;
    char w[FLEET_URL_MAX + 32], cap[16];
    int rc;

    fleet_frontend_init(f);
    f->from_conf = 1;
    if (next_word(&p, f->name, sizeof(f->name)) != 0 ||
        !fleet_name_valid(f->name) ||
        next_word(&p, f->region, sizeof(f->region)) != 0 ||
        !fleet_name_valid(f->region) ||
        next_word(&p, f->url, sizeof(f->url)) != 0) {
        snprintf(err, errlen, "frontend: expected NAME REGION URL "
                 "[capacity=N] [namespace=NS] [canary=URL]");
        return -1;
    }
    if (strncmp(f->url, "http://", 7) && strncmp(f->url, "https://", 8)) {
        snprintf(err, errlen, "frontend %s: URL must be http(s)", f->name);
        return -1;
    }
    cap[0] = '\0';
    while ((rc = next_word(&p, w, sizeof(w))) == 0) {
        if (take_opt(w, "capacity", cap, sizeof(cap)) ||
            take_opt(w, "namespace", f->namespace_, sizeof(f->namespace_)) ||
            take_opt(w, "canary", f->canary_url, sizeof(f->canary_url)))
            continue;
        snprintf(err, errlen, "frontend %s: unknown option '%.64s'", f->name,
                 w);
        return -1;
    }
    if (rc < 0) {
        snprintf(err, errlen, "frontend %s: word too long", f->name);
        return -1;
    }
    if (cap[0]) {
        char *end;
        long v = strtol(cap, &end, 10);
        if (*end || v < 1 || v > 1000000) {
            snprintf(err, errlen, "frontend %s: capacity must be 1..1000000",
                     f->name);
            return -1;
        }
        f->capacity = (int)v;
    }
    if (!f->namespace_[0])
        snprintf(f->namespace_, sizeof(f->namespace_), "%s", f->name);
    return 0;
}

/* Constant-time comparison of two NUL-terminated strings. */
static int secret_eq(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    unsigned char d = (unsigned char)(alen != blen);

    for (size_t i = 0; i < alen; i++)
        d |= (unsigned char)(a[i] ^ b[i < blen ? i : 0]);
    return d == 0 && blen > 0;
}

int fleet_secret_in_list(const char *list, const char *token)
{
    const char *p = list;
    int found = 0;

    if (!token || !*token || !list)
        return 0;
    while (*p) {
        const char *e = strpbrk(p, ", ");
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len && secret_eq(p, len, token))
            found = 1;
        if (!e)
            break;
        p = e + 1;
    }
    return found;
}

static int octoprint_line(const char *line, struct fleet_apikey *k,
                          char *err, size_t errlen)
{
    const char *p = line;
    char w[256], prio[16];
    int rc;

    memset(k, 0, sizeof(*k));
    k->role = ROLE_OCTOPRINT;
    prio[0] = '\0';
    if (next_word(&p, w, sizeof(w)) != 0)  /* the key itself */
        goto bad;
    while ((rc = next_word(&p, w, sizeof(w))) == 0) {
        if (take_opt(w, "queue", k->queue, sizeof(k->queue)) ||
            take_opt(w, "material", k->material, sizeof(k->material)) ||
            take_opt(w, "colour", k->colour, sizeof(k->colour)) ||
            take_opt(w, "color", k->colour, sizeof(k->colour)) ||
            take_opt(w, "profile", k->profile, sizeof(k->profile)) ||
            take_opt(w, "name", k->name, sizeof(k->name)) ||
            take_opt(w, "priority", prio, sizeof(prio)))
            continue;
        goto bad;
    }
    if (rc < 0 || !fleet_name_valid(k->queue))
        goto bad;
    fleet_lower(k->material);
    fleet_lower(k->colour);
    fleet_lower(k->profile);
    if (prio[0]) {
        char *end;
        long v = strtol(prio, &end, 10);
        if (*end || v < FLEET_PRIORITY_MIN || v > FLEET_PRIORITY_MAX)
            goto bad;
        k->priority = (int)v;
    }
    if (!k->name[0])
        snprintf(k->name, sizeof(k->name), "octoprint:%.53s", k->queue);
    return 0;
bad:
    snprintf(err, errlen, "octoprint_key: expected KEY queue=Q "
             "[material=M] [colour=C] [profile=P] [priority=N] [name=N]");
    return -1;
}

int fleet_octoprint_key_find(const char *lines, const char *key,
                             struct fleet_apikey *k, char *err,
                             size_t errlen)
{
    const char *p = lines;
    int found = 0;

    if (!key || !*key || !lines)
        return 1;
    /* Walk every line so the time does not tell which key matched. */
    while (*p) {
        const char *e = strchr(p, '\n'), *q = p;
        size_t len;
        char w[256];

        if (next_word(&q, w, sizeof(w)) == 0) {
            len = strlen(w);
            if (secret_eq(w, len, key) && !found) {
                char line[1024];
                size_t ll = e ? (size_t)(e - p) : strlen(p);
                if (ll >= sizeof(line))
                    ll = sizeof(line) - 1;
                memcpy(line, p, ll);
                line[ll] = '\0';
                if (octoprint_line(line, k, err, errlen) < 0)
                    return -1;
                found = 1;
            }
        }
        if (!e)
            break;
        p = e + 1;
    }
    return found ? 0 : 1;
}

/* The health class of an observation: 0 online, 1 offline, 2 error. */
static int health_class(enum printer_state obs)
{
    return obs == PRINTER_OFFLINE ? 1 : obs == PRINTER_ERROR ? 2 : 0;
}

int fleet_health_change(enum printer_state old_obs, const char *old_word,
                        enum printer_state obs, const char *word,
                        char *kind, size_t kindlen, char *msg, size_t msglen)
{
    int was = health_class(old_obs), is = health_class(obs);

    if (!old_word)
        old_word = "";
    if (!word)
        word = "";
    if (was == is && (is == 0 || strcmp(old_word, word) == 0))
        return 0;
    switch (is) {
    case 1:
        snprintf(kind, kindlen, "printer_offline");
        snprintf(msg, msglen, "offline: %s", *word ? word : "unreachable");
        break;
    case 2:
        snprintf(kind, kindlen, "printer_error");
        snprintf(msg, msglen, "klippy %s", *word ? word : "not ready");
        break;
    default:
        snprintf(kind, kindlen, "printer_online");
        snprintf(msg, msglen, "online (was %s%s%s)",
                 was == 1 ? "offline" : "in error", *old_word ? ": " : "",
                 old_word);
        break;
    }
    return 1;
}
