/*
 * sim_ctl.c - the simulator's own control API under /sim/ (no API key):
 * inject faults into printers at run time and read what happened, so tests
 * can assert things like "no copy was printed twice".
 *
 *   GET  /sim/stats                   counters and state totals
 *   GET  /sim/config                  effective options
 *   GET  /sim/history                 every print start on every printer
 *   GET  /sim/printers/ID             full internal state
 *   GET  /sim/printers/ID/history     that printer's print starts
 *   POST /sim/printers/ID|all/ACTION  offline[?mode=drop|hang|502], online,
 *        auto, shutdown, disconnect, connect, eject, latency?ms=N,
 *        fail-next[?mode=error|shutdown&at=0..1]
 *   POST /sim/clock?advance=SECONDS   move simulated time forward
 */
#include "sim/sim.h"

#include <math.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *jr(double v)
{
    return json_real(round(v * 1e3) / 1e3);
}

static const char *offmode_name(int m)
{
    static const char *const n[] = { "drop", "hang", "502" };

    return m >= 0 && m <= SIM_OFF_502 ? n[m] : "none";
}

static int offmode_parse(const char *s)
{
    if (!s || strcmp(s, "drop") == 0)
        return SIM_OFF_DROP;
    if (strcmp(s, "hang") == 0)
        return SIM_OFF_HANG;
    if (strcmp(s, "502") == 0)
        return SIM_OFF_502;
    return -1;
}

static json_t *files_json(struct sim_printer *p)
{
    json_t *a = json_array();
    char hex[65];

    for (struct sim_file *f = p->files; f && a; f = f->next) {
        for (int i = 0; i < 32; i++)
            snprintf(hex + 2 * i, 3, "%02x", f->sha256[i]);
        json_array_append_new(a, json_pack(
            "{s:s,s:s,s:I,s:s,s:o,s:i}", "path", f->path,
            "root", f->root == SIM_ROOT_GCODES ? "gcodes" : "config",
            "size", (json_int_t)f->size, "sha256", hex,
            "print_seconds", jr(f->need), "last_job", (int)f->last_job));
    }
    return a;
}

/* Full internal state of p (caller holds the lock). */
static json_t *printer_json(struct sim_printer *p, double now)
{
    static const char *const nets[] = { "auto", "online", "offline" };
    static const char *const faults[] = { "none", "error", "shutdown" };
    struct sim_snap s;
    json_t *o;

    sim_printer_snap(p, now, &s);
    o = json_pack("{s:i,s:s,s:s,s:s,s:s,s:s,s:i,s:o,s:o,s:s,s:o,s:o,s:o,"
                  "s:o}",
                  "id", (int)s.id, "klippy_state", sim_klippy_name(s.klippy),
                  "klippy_message", s.klippy_msg,
                  "print_state", sim_pstate_name(s.pstate),
                  "filename", s.filename, "message", s.message,
                  "job_id", (int)p->job_seq,
                  "print_seconds", jr(p->need), "heat_seconds",
                  jr(p->heat_time), "fault", faults[p->fault],
                  "fault_at", jr(p->fault ? p->fault_at : 0),
                  "progress", json_real(round(s.progress * 1e6) / 1e6),
                  "print_duration", jr(s.print_duration),
                  "total_duration", jr(s.total_duration));
    if (!o)
        return NULL;
    json_object_set_new(o, "extruder", json_pack(
        "{s:o,s:o}", "temperature", jr(s.ext_temp), "target",
        jr(s.ext_target)));
    json_object_set_new(o, "heater_bed", json_pack(
        "{s:o,s:o}", "temperature", jr(s.bed_temp), "target",
        jr(s.bed_target)));
    json_object_set_new(o, "network", json_string(nets[p->net]));
    json_object_set_new(o, "offline_now", json_string(
        offmode_name(sim_printer_offline(p, now))));
    json_object_set_new(o, "latency_ms", json_integer(
        p->latency_ms >= 0 ? p->latency_ms : (int)sim_cfg.latency_ms));
    json_object_set_new(o, "fail_next", json_string(faults[p->fail_next]));
    json_object_set_new(o, "requests", json_integer(p->n_requests));
    json_object_set_new(o, "uploads", json_integer(p->n_uploads));
    json_object_set_new(o, "prints_started", json_integer(p->n_starts));
    json_object_set_new(o, "history_len", json_integer(p->hist_len));
    json_object_set_new(o, "files", files_json(p));
    json_object_set_new(o, "sim_time", jr(now));
    return o;
}

static json_t *history_json(struct sim_printer *p, int with_printer)
{
    json_t *a = json_array();

    for (unsigned k = p->hist_len; k-- > 0 && a;) {    /* oldest first */
        json_t *j = sim_moonraker_job_json(p, sim_printer_job(p, k));

        if (j && with_printer)
            json_object_set_new(j, "printer",
                                json_integer(sim_printer_id(p)));
        json_array_append_new(a, j);
    }
    return a;
}

static void ctl_stats(struct sim_resp *out)
{
    unsigned ps[6] = { 0 }, kl[4] = { 0 }, offline = 0;
    double now = sim_clock_now();
    json_t *states = json_object(), *klippy = json_object();

    for (unsigned id = 1; id <= sim_cfg.printers; id++) {
        struct sim_printer *p = sim_printer_get(id);

        sim_printer_lock(p);
        sim_printer_update(p, now);
        ps[p->pstate]++;
        kl[p->klippy]++;
        offline += sim_printer_offline(p, now) >= 0;
        sim_printer_unlock(p);
    }
    for (int i = 0; i < 6; i++)
        json_object_set_new(states, sim_pstate_name((enum sim_pstate)i),
                            json_integer(ps[i]));
    for (int i = 0; i < 4; i++)
        json_object_set_new(klippy, sim_klippy_name((enum sim_klippy)i),
                            json_integer(kl[i]));
#define ST(f) #f, (json_int_t)SIM_STAT_GET(f)
    sim_resp_result(out, json_pack(
        "{s:i,s:o,s:f,s:i,s:o,s:o,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,"
        "s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}",
        "printers", (int)sim_cfg.printers, "sim_time", jr(now),
        "time_scale", sim_cfg.time_scale, "offline_now", (int)offline,
        "print_states", states, "klippy_states", klippy,
        ST(requests), ST(printer_requests), ST(control_requests),
        ST(uploads), ST(upload_bytes), ST(rejected_uploads),
        ST(prints_started), ST(prints_completed), ST(prints_failed),
        ST(prints_cancelled), ST(prints_shutdown), ST(prints_replaced),
        ST(prints_disconnected), ST(start_refused), ST(offline_dropped),
        ST(offline_hung), ST(offline_502), ST(delayed), ST(unauthorized)));
#undef ST
}

static void ctl_history_all(struct sim_resp *out)
{
    json_t *jobs = json_array(), *seen = json_object(), *dups = json_array();
    const char *name;
    json_t *v;

    for (unsigned id = 1; id <= sim_cfg.printers && jobs; id++) {
        struct sim_printer *p = sim_printer_get(id);

        sim_printer_lock(p);
        sim_printer_update(p, sim_clock_now());
        for (unsigned k = 0; k < p->hist_len; k++) {
            const char *fn = sim_printer_job(p, k)->filename;

            json_object_set_new(seen, fn, json_integer(
                json_integer_value(json_object_get(seen, fn)) + 1));
        }
        if (p->hist_len) {
            json_t *h = history_json(p, 1);

            json_array_extend(jobs, h);
            json_decref(h);
        }
        sim_printer_unlock(p);
    }
    json_object_foreach(seen, name, v)
        if (json_integer_value(v) > 1)
            json_array_append_new(dups, json_string(name));
    json_decref(seen);
    sim_resp_result(out, json_pack("{s:i,s:o,s:o}", "count",
                                   (int)json_array_size(jobs), "jobs", jobs,
                                   "duplicates", dups));
}

/* Applies action to one printer (locked); 0, or an HTTP status. */
static unsigned ctl_apply(struct sim_printer *p, const char *action,
                          struct sim_req *r, double now)
{
    const char *mode = sim_req_arg(r, "mode");

    if (strcmp(action, "offline") == 0) {
        int m = offmode_parse(mode);

        if (m < 0)
            return MHD_HTTP_BAD_REQUEST;
        p->net = SIM_NET_OFFLINE;
        p->offmode = (uint8_t)m;
    } else if (strcmp(action, "online") == 0) {
        p->net = SIM_NET_ONLINE;
    } else if (strcmp(action, "auto") == 0) {
        p->net = SIM_NET_AUTO;
    } else if (strcmp(action, "shutdown") == 0) {
        if (sim_printer_shutdown(p, now, NULL) != SIM_OK)
            return MHD_HTTP_CONFLICT;
    } else if (strcmp(action, "disconnect") == 0) {
        sim_printer_disconnect(p, now);
    } else if (strcmp(action, "connect") == 0) {
        sim_printer_connect(p, now);
    } else if (strcmp(action, "eject") == 0) {
        if (sim_printer_eject(p, now) != SIM_OK)
            return MHD_HTTP_CONFLICT;
    } else if (strcmp(action, "latency") == 0) {
        const char *ms = sim_req_arg(r, "ms");
        char *end;
        long v = ms ? strtol(ms, &end, 10) : 0;

        if (!ms || !*ms || *end || v < -1 || v > 3600000)
            return MHD_HTTP_BAD_REQUEST;
        p->latency_ms = (int32_t)v;
    } else if (strcmp(action, "fail-next") == 0) {
        const char *at = sim_req_arg(r, "at");
        char *end;
        double f = at && *at ? strtod(at, &end) : -1;

        if ((mode && strcmp(mode, "error") != 0 &&
             strcmp(mode, "shutdown") != 0) ||
            (at && *at && (*end || !(f >= 0 && f <= 1))))
            return MHD_HTTP_BAD_REQUEST;
        p->fail_next = mode && strcmp(mode, "shutdown") == 0 ?
                       SIM_FAULT_SHUTDOWN : SIM_FAULT_ERROR;
        p->fail_next_at = (float)f;
    } else {
        return MHD_HTTP_NOT_FOUND;
    }
    return 0;
}

static void ctl_action(struct sim_req *r, struct sim_resp *out,
                       const char *who, const char *action)
{
    unsigned lo, hi, st = 0;
    double now = sim_clock_now();
    char *end;

    if (strcmp(who, "all") == 0) {
        lo = 1;
        hi = sim_cfg.printers;
    } else {
        lo = hi = (unsigned)strtoul(who, &end, 10);
        if (*end || !sim_printer_get(lo)) {
            sim_resp_error(out, MHD_HTTP_NOT_FOUND, "No such printer", NULL);
            return;
        }
    }
    for (unsigned id = lo; id <= hi && !st; id++) {
        struct sim_printer *p = sim_printer_get(id);

        sim_printer_lock(p);
        sim_printer_update(p, now);
        st = ctl_apply(p, action, r, now);
        sim_printer_unlock(p);
        if (st == MHD_HTTP_CONFLICT && lo != hi)
            st = 0;     /* "all": skip printers where it does not apply */
    }
    if (st == MHD_HTTP_NOT_FOUND)
        sim_resp_error(out, st, "Unknown action", NULL);
    else if (st)
        sim_resp_error(out, st, st == MHD_HTTP_CONFLICT ?
                       "Not possible in this state" : "Bad argument", NULL);
    else
        sim_resp_ok(out);
}

static void ctl_printer_get(struct sim_req *r, struct sim_resp *out,
                            const char *who, const char *sub)
{
    struct sim_printer *p;
    char *end;
    json_t *res;
    unsigned id = (unsigned)strtoul(who, &end, 10);

    p = *end ? NULL : sim_printer_get(id);
    if (!p || (sub && strcmp(sub, "history") != 0)) {
        sim_resp_error(out, MHD_HTTP_NOT_FOUND, "Not Found", NULL);
        return;
    }
    sim_printer_lock(p);
    sim_printer_update(p, sim_clock_now());
    res = sub ? history_json(p, 0) : printer_json(p, sim_clock_now());
    sim_printer_unlock(p);
    sim_resp_result(out, res);
}

static void ctl_config(struct sim_resp *out)
{
    sim_resp_result(out, json_pack(
        "{s:i,s:f,s:f,s:f,s:f,s:f,s:f,s:f,s:s,s:i,s:i,s:i,s:I,s:i,s:i,"
        "s:I,s:b}",
        "printers", (int)sim_cfg.printers, "time_scale", sim_cfg.time_scale,
        "print_seconds", sim_cfg.print_seconds, "jitter", sim_cfg.jitter,
        "fail_rate", sim_cfg.fail_rate,
        "klippy_shutdown_rate", sim_cfg.shutdown_rate,
        "offline_rate", sim_cfg.offline_rate,
        "offline_period", sim_cfg.offline_period,
        "offline_mode", offmode_name(sim_cfg.offline_mode),
        "hang_ms", (int)sim_cfg.hang_ms, "latency_ms", (int)sim_cfg.latency_ms,
        "latency_jitter_ms", (int)sim_cfg.latency_jitter_ms,
        "max_upload", (json_int_t)sim_cfg.max_upload,
        "max_files", (int)sim_cfg.max_files,
        "history", (int)sim_cfg.history_max,
        "seed", (json_int_t)sim_cfg.seed, "api_key", sim_cfg.api_key != NULL));
}

void sim_ctl_dispatch(struct sim_req *r, struct sim_resp *out)
{
    int get = strcmp(r->method, "GET") == 0;
    int post = strcmp(r->method, "POST") == 0;
    char who[16] = "", sub[24] = "";
    const char *adv;
    int n = 0;

    if (get && strcmp(r->path, "/stats") == 0) {
        ctl_stats(out);
    } else if (get && strcmp(r->path, "/config") == 0) {
        ctl_config(out);
    } else if (get && strcmp(r->path, "/history") == 0) {
        ctl_history_all(out);
    } else if (post && strcmp(r->path, "/clock") == 0) {
        double secs = 0;
        char *end = NULL;

        adv = sim_req_arg(r, "advance");
        if (adv)
            secs = strtod(adv, &end);
        if (adv && (end == adv || *end || !isfinite(secs) || secs <= 0 ||
                    secs > 1e9)) {
            sim_resp_error(out, MHD_HTTP_BAD_REQUEST, "advance: seconds, "
                           "more than 0 and at most 1e9", NULL);
        } else {
            if (adv)
                sim_clock_advance(secs);
            sim_resp_result(out, json_pack("{s:o}", "sim_time",
                                           jr(sim_clock_now())));
        }
    } else if ((n = sscanf(r->path, "/printers/%15[^/]/%23[^/]", who, sub))
               >= 1 && strlen(r->path) == strlen("/printers/") +
               strlen(who) + (n == 2 ? strlen(sub) + 1 : 0)) {
        if (get)
            ctl_printer_get(r, out, who, n == 2 ? sub : NULL);
        else if (post && n == 2)
            ctl_action(r, out, who, sub);
        else
            sim_resp_error(out, MHD_HTTP_METHOD_NOT_ALLOWED,
                           "Method Not Allowed", NULL);
    } else {
        sim_resp_error(out, MHD_HTTP_NOT_FOUND, "Not Found", NULL);
    }
}
