/* model_json.c - see model.h: the JSON forms of the fleet's model, as
 * the API and the notifiers show them. */
#include "fleet/model.h"

#include <stdio.h>
#include <string.h>

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
