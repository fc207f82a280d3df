/* model.c - see model.h: names, init/clear, policy, small checks,
 * rrcloud.conf lines (the JSON forms are model_json.c's). */
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
