/*
 * sim_moonraker.c - the Moonraker API of one simulated printer: server and
 * printer info, objects/query, print control, history (reference/
 * moonraker.md 0-2, 4-7).  Response shapes and status codes follow what
 * that file records as observed on a real Moonraker.
 */
#include "sim/sim.h"

#include <math.h>
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SIM_MOONRAKER_VERSION "v0.9.3-rrcloud-sim"
#define SIM_KLIPPER_VERSION "v0.12.0-rrcloud-sim"
#define SIM_GCODES_DIR "/home/pi/printer_data/gcodes/"

static const char *const estop_msg =
    "Shutdown due to webhooks request\n"
    "Once the underlying issue is corrected, use the\n"
    "\"FIRMWARE_RESTART\" command to reset the firmware, reload the\n"
    "config, and restart the host software.\n"
    "Printer is shutdown\n";

/* Flags of a route. */
#define R_GET 1
#define R_POST 2
#define R_DELETE 4
#define R_PREFIX 8      /* path is a prefix */
#define R_KLIPPY 16     /* registered by Klippy: 404 while disconnected */

struct mr_route {
    const char *path;
    unsigned flags;
    void (*fn)(struct sim_req *r, struct sim_resp *out);
};

static json_t *jround(double v, double scale)
{
    return json_real(round(v * scale) / scale);
}

void sim_moonraker_fail(struct sim_resp *out, enum sim_rc rc)
{
    switch (rc) {
    case SIM_E_KLIPPY_DOWN:
        sim_resp_error(out, MHD_HTTP_SERVICE_UNAVAILABLE,
                       "Klippy Host not connected", NULL);
        break;
    case SIM_E_NOT_READY:
        /* Klipper's multi-line text is mangled by Tornado (moonraker.md 0) */
        sim_resp_error(out, MHD_HTTP_BAD_REQUEST, "Unknown",
                       "Printer is not ready");
        break;
    case SIM_E_BUSY:
        sim_resp_error(out, MHD_HTTP_BAD_REQUEST, "SD busy", NULL);
        break;
    case SIM_E_NO_FILE:
        sim_resp_error(out, MHD_HTTP_BAD_REQUEST, "Unable to open file",
                       NULL);
        break;
    default:
        sim_resp_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR,
                       "Internal Server Error", NULL);
        break;
    }
}

/* ---------------------------------------------------- /server endpoints */

static void mr_server_info(struct sim_req *r, struct sim_resp *out)
{
    json_t *res, *dirs;
    enum sim_klippy k;

    sim_printer_lock(r->p);
    sim_printer_update(r->p, sim_clock_now());
    k = (enum sim_klippy)r->p->klippy;
    sim_printer_unlock(r->p);
    dirs = k == SIM_KLIPPY_DISCONNECTED ?
           json_pack("[sss]", "config", "logs", "gcodes") :
           json_pack("[sssss]", "config", "logs", "gcodes",
                     "config_examples", "docs");
    res = json_pack(
        "{s:b,s:s,s:[ssssssssssssssssssssssss],s:[],s:o,s:[],s:i,s:s,"
        "s:[],s:[iii],s:s}",
        "klippy_connected", k != SIM_KLIPPY_DISCONNECTED,
        "klippy_state", sim_klippy_name(k),
        "components", "secrets", "template", "klippy_connection", "jsonrpc",
        "internal_transport", "application", "websockets", "database",
        "dbus_manager", "file_manager", "authorization", "klippy_apis",
        "shell_command", "machine", "data_store", "proc_stats", "job_state",
        "job_queue", "history", "http_client", "announcements", "webcam",
        "extensions", "octoprint_compat",
        "failed_components",
        "registered_directories", dirs,
        "warnings",
        "websocket_count", 0,
        "moonraker_version", SIM_MOONRAKER_VERSION,
        "missing_klippy_requirements",
        "api_version", 1, 5, 0,
        "api_version_string", "1.5.0");
    sim_resp_result(out, res);
}

static void mr_access_info(struct sim_req *r, struct sim_resp *out)
{
    sim_resp_result(out, json_pack("{s:s,s:[s],s:b,s:b}",
                                   "default_source", "moonraker",
                                   "available_sources", "moonraker",
                                   "login_required", 0,
                                   "trusted", sim_cfg.api_key == NULL));
}

static void mr_job_queue(struct sim_req *r, struct sim_resp *out)
{
    /* queue_gcode_uploads is off (the default): the queue stays empty */
    sim_resp_result(out, json_pack("{s:[],s:s}", "queued_jobs",
                                   "queue_state", "paused"));
}

json_t *sim_moonraker_job_json(struct sim_printer *p, const struct sim_job *j)
{
    char id[16];
    json_t *o;

    sim_files_job_id(j->id, id, sizeof(id));
    o = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o,s:o,s:{},s:[]}",
                  "job_id", id,
                  "user", j->api_key_user ? "_API_KEY_USER_" :
                                            "_TRUSTED_USER_",
                  "filename", j->filename,
                  "status", sim_jstatus_name((enum sim_jstatus)j->status),
                  "start_time", jround(j->start, 1e3),
                  "end_time", j->end > 0 ? jround(j->end, 1e3) : json_null(),
                  "print_duration", jround(j->print_duration, 1e3),
                  "total_duration", jround(j->total_duration, 1e3),
                  "filament_used", jround(j->filament_used, 1e3),
                  "metadata", "auxiliary_data");
    if (o && p)
        json_object_set_new(o, "exists", json_boolean(
            sim_printer_file_find(p, SIM_ROOT_GCODES, j->filename) != NULL));
    return o;
}

static long arg_long(struct sim_req *r, const char *name, long def)
{
    const char *v = sim_req_arg(r, name);
    char *end;
    long n;

    if (!v || !*v)
        return def;
    n = strtol(v, &end, 10);
    return *end ? def : n;
}

static double arg_double(struct sim_req *r, const char *name, double def)
{
    const char *v = sim_req_arg(r, name);
    char *end;
    double d;

    if (!v || !*v)
        return def;
    d = strtod(v, &end);
    return *end ? def : d;
}

static void mr_history_list(struct sim_req *r, struct sim_resp *out)
{
    long limit = arg_long(r, "limit", 50), start = arg_long(r, "start", 0);
    double since = arg_double(r, "since", -1);
    double before = arg_double(r, "before", -1);
    const char *order = sim_req_arg(r, "order");
    int asc = order && strcmp(order, "asc") == 0;
    json_t *jobs = json_array();
    long count = 0;
    unsigned n;

    sim_printer_lock(r->p);
    sim_printer_update(r->p, sim_clock_now());
    n = r->p->hist_len;
    for (unsigned k = 0; k < n && jobs; k++) {
        const struct sim_job *j = sim_printer_job(r->p, asc ? n - 1 - k : k);

        if ((since >= 0 && j->start < since) ||
            (before >= 0 && j->start >= before))
            continue;
        if (count++ < start || (long)json_array_size(jobs) >= limit)
            continue;
        json_array_append_new(jobs, sim_moonraker_job_json(r->p, j));
    }
    sim_printer_unlock(r->p);
    sim_resp_result(out, json_pack("{s:i,s:o}", "count", (int)count,
                                   "jobs", jobs));
}

static void mr_history_job(struct sim_req *r, struct sim_resp *out)
{
    const char *uid = sim_req_arg(r, "uid");
    unsigned long want;
    char *end;

    if (!uid || !*uid) {
        sim_resp_error(out, MHD_HTTP_BAD_REQUEST,
                       "No data for argument: uid", NULL);
        return;
    }
    want = strtoul(uid, &end, 16);
    sim_printer_lock(r->p);
    for (unsigned k = 0; *end == '\0' && k < r->p->hist_len; k++) {
        const struct sim_job *j = sim_printer_job(r->p, k);

        if (j->id == want) {
            sim_resp_result(out, json_pack("{s:o}", "job",
                                           sim_moonraker_job_json(r->p, j)));
            sim_printer_unlock(r->p);
            return;
        }
    }
    sim_printer_unlock(r->p);
    sim_resp_error(out, MHD_HTTP_NOT_FOUND, "Invalid job uid", NULL);
}

/* --------------------------------------------------- /printer endpoints */

static void mr_printer_info(struct sim_req *r, struct sim_resp *out)
{
    struct sim_printer *p = r->p;
    char host[32];
    json_t *res;

    snprintf(host, sizeof(host), "sim-printer-%u", r->id);
    sim_printer_lock(p);
    sim_printer_update(p, sim_clock_now());
    res = json_pack(
        "{s:s,s:s,s:s,s:s,s:s,s:i,s:i,s:i,s:s,s:s,s:s,s:s}",
        "state", sim_klippy_name((enum sim_klippy)p->klippy),
        "state_message", p->klippy_msg,
        "hostname", host,
        "klipper_path", "/home/pi/klipper",
        "python_path", "/home/pi/klippy-env/bin/python",
        "process_id", (int)(10000 + r->id), "user_id", 1000,
        "group_id", 1000,
        "log_file", "/home/pi/printer_data/logs/klippy.log",
        "config_file", "/home/pi/printer_data/config/printer.cfg",
        "software_version", SIM_KLIPPER_VERSION,
        "cpu_info", "rrcloud-printersim");
    sim_printer_unlock(p);
    sim_resp_result(out, res);
}

static json_t *layer_json(int v)
{
    return v < 0 ? json_null() : json_integer(v);
}

/* Klipper status objects, each built from a snapshot. */
static json_t *obj_webhooks(const struct sim_snap *s)
{
    return json_pack("{s:s,s:s}", "state", sim_klippy_name(s->klippy),
                     "state_message", s->klippy_msg);
}

static json_t *obj_print_stats(const struct sim_snap *s)
{
    return json_pack("{s:s,s:o,s:o,s:o,s:s,s:s,s:{s:o,s:o}}",
                     "filename", s->filename,
                     "total_duration", jround(s->total_duration, 1e3),
                     "print_duration", jround(s->print_duration, 1e3),
                     "filament_used", jround(s->filament_used, 1e3),
                     "state", sim_pstate_name(s->pstate),
                     "message", s->message,
                     "info", "total_layer", layer_json(s->total_layer),
                     "current_layer", layer_json(s->current_layer));
}

static json_t *obj_virtual_sdcard(const struct sim_snap *s)
{
    char path[SIM_PATH_MAX + 64];

    snprintf(path, sizeof(path), "%s%s", SIM_GCODES_DIR, s->filename);
    return json_pack("{s:o,s:o,s:b,s:I,s:I}",
                     "file_path", s->file_open ? json_string(path) :
                                                 json_null(),
                     "progress", jround(s->progress, 1e6),
                     "is_active", s->is_active,
                     "file_position", (json_int_t)s->file_position,
                     "file_size", (json_int_t)s->file_size);
}

static json_t *obj_display_status(const struct sim_snap *s)
{
    return json_pack("{s:o,s:n}", "progress", jround(s->progress, 1e4),
                     "message");
}

static json_t *obj_extruder(const struct sim_snap *s)
{
    return json_pack("{s:o,s:o,s:o,s:b,s:f,s:f}",
                     "temperature", jround(s->ext_temp, 1e2),
                     "target", jround(s->ext_target, 1e2),
                     "power", jround(s->ext_power, 1e3),
                     "can_extrude", s->ext_temp >= 170.0,
                     "pressure_advance", 0.04, "smooth_time", 0.04);
}

static json_t *obj_heater_bed(const struct sim_snap *s)
{
    return json_pack("{s:o,s:o,s:o}",
                     "temperature", jround(s->bed_temp, 1e2),
                     "target", jround(s->bed_target, 1e2),
                     "power", jround(s->bed_power, 1e3));
}

static json_t *obj_pause_resume(const struct sim_snap *s)
{
    return json_pack("{s:b}", "is_paused", s->pstate == SIM_PS_PAUSED);
}

static json_t *obj_idle_timeout(const struct sim_snap *s)
{
    return json_pack("{s:s,s:o,s:f}",
                     "state", s->is_active ? "Printing" :
                              s->ext_target > 0 ? "Ready" : "Idle",
                     "printing_time",
                     jround(s->is_active ? s->total_duration : 0, 1e3),
                     "idle_timeout", 600.0);
}

static json_t *obj_heaters(const struct sim_snap *s)
{
    return json_pack("{s:[ss],s:[ss]}", "available_heaters", "heater_bed",
                     "extruder", "available_sensors", "heater_bed",
                     "extruder");
}

static const struct {
    const char *name;
    json_t *(*fn)(const struct sim_snap *s);
} mr_objects[] = {
    { "webhooks", obj_webhooks },
    { "print_stats", obj_print_stats },
    { "virtual_sdcard", obj_virtual_sdcard },
    { "display_status", obj_display_status },
    { "extruder", obj_extruder },
    { "heater_bed", obj_heater_bed },
    { "pause_resume", obj_pause_resume },
    { "idle_timeout", obj_idle_timeout },
    { "heaters", obj_heaters },
};

#define MR_N_OBJECTS (sizeof(mr_objects) / sizeof(*mr_objects))

/* Full Klipper status object `name`; {} for objects this printer lacks
 * (what Klipper answers for them). */
static json_t *status_object(const struct sim_snap *s, const char *name)
{
    for (size_t i = 0; i < MR_N_OBJECTS; i++)
        if (strcmp(name, mr_objects[i].name) == 0)
            return mr_objects[i].fn(s);
    return json_object();
}

/* Keeps only the attributes listed in want (an array of strings). */
static json_t *filter_attrs(json_t *full, json_t *want)
{
    json_t *o = json_object();
    size_t i;
    json_t *a;

    json_array_foreach(want, i, a) {
        json_t *v = json_is_string(a) ?
                    json_object_get(full, json_string_value(a)) : NULL;

        if (v)
            json_object_set(o, json_string_value(a), v);
    }
    json_decref(full);
    return o;
}

json_t *sim_moonraker_status(const struct sim_snap *s, json_t *objects)
{
    json_t *status = json_object(), *attrs;
    const char *name;

    if (!objects) {
        for (size_t i = 0; i < MR_N_OBJECTS; i++)
            json_object_set_new(status, mr_objects[i].name,
                                mr_objects[i].fn(s));
        return status;
    }
    json_object_foreach(objects, name, attrs) {
        json_t *full = status_object(s, name);

        if (json_is_array(attrs))
            full = filter_attrs(full, attrs);
        json_object_set_new(status, name, full);
    }
    return status;
}

/* Query string "obj=a,b&obj2" -> {"obj":["a","b"],"obj2":null}. */
static enum MHD_Result query_arg_cb(void *cls, enum MHD_ValueKind kind,
                                   const char *key, const char *value)
{
    json_t *objects = cls, *list;
    const char *p, *comma;

    if (!value || !*value) {
        json_object_set_new(objects, key, json_null());
        return MHD_YES;
    }
    list = json_array();
    for (p = value; list && *p; p = *comma ? comma + 1 : comma) {
        comma = strchr(p, ',');
        if (!comma)
            comma = p + strlen(p);
        if (comma > p)
            json_array_append_new(list, json_stringn(p, (size_t)(comma - p)));
    }
    json_object_set_new(objects, key, list);
    return MHD_YES;
}

static void mr_objects_query(struct sim_req *r, struct sim_resp *out)
{
    json_t *objects = sim_req_body_arg(r, "objects"), *res;
    struct sim_snap s;

    if (objects && !json_is_object(objects)) {
        sim_resp_error(out, MHD_HTTP_BAD_REQUEST, "Invalid argument: objects",
                       NULL);
        return;
    }
    if (objects) {
        json_incref(objects);
    } else {
        objects = json_object();
        MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND,
                                  query_arg_cb, objects);
    }
    sim_printer_lock(r->p);
    sim_printer_snap(r->p, sim_clock_now(), &s);
    res = json_pack("{s:o,s:o}", "eventtime", jround(s.eventtime, 1e3),
                    "status", sim_moonraker_status(&s, objects));
    sim_printer_unlock(r->p);
    json_decref(objects);
    sim_resp_result(out, res);
}

static void mr_objects_list(struct sim_req *r, struct sim_resp *out)
{
    json_t *list = json_array();

    for (size_t i = 0; i < MR_N_OBJECTS; i++)
        json_array_append_new(list, json_string(mr_objects[i].name));
    sim_resp_result(out, json_pack("{s:o}", "objects", list));
}

/* Runs one printer operation under the lock and answers "ok" or the
 * Moonraker error. */
static void mr_op(struct sim_req *r, struct sim_resp *out,
                  enum sim_rc (*op)(struct sim_printer *, double))
{
    enum sim_rc rc;

    sim_printer_lock(r->p);
    rc = op(r->p, sim_clock_now());
    sim_printer_unlock(r->p);
    if (rc == SIM_OK)
        sim_resp_ok(out);
    else
        sim_moonraker_fail(out, rc);
}

static void mr_print_start(struct sim_req *r, struct sim_resp *out)
{
    const char *fn = sim_req_arg(r, "filename");
    enum sim_rc rc;

    if (!fn || !*fn) {
        sim_resp_error(out, MHD_HTTP_BAD_REQUEST,
                       "No data for argument: filename", NULL);
        return;
    }
    sim_printer_lock(r->p);
    rc = sim_printer_start(r->p, fn, sim_clock_now(), r->api_key_user);
    sim_printer_unlock(r->p);
    if (rc == SIM_OK) {
        sim_resp_ok(out);
        return;
    }
    SIM_STAT_ADD(start_refused, 1);
    sim_moonraker_fail(out, rc);
}

static void mr_print_pause(struct sim_req *r, struct sim_resp *out)
{
    mr_op(r, out, sim_printer_pause);
}

static void mr_print_resume(struct sim_req *r, struct sim_resp *out)
{
    mr_op(r, out, sim_printer_resume);
}

static void mr_print_cancel(struct sim_req *r, struct sim_resp *out)
{
    mr_op(r, out, sim_printer_cancel);
}

static enum sim_rc op_estop(struct sim_printer *p, double now)
{
    return sim_printer_shutdown(p, now, estop_msg);
}

static void mr_estop(struct sim_req *r, struct sim_resp *out)
{
    mr_op(r, out, op_estop);
}

static void mr_restart(struct sim_req *r, struct sim_resp *out)
{
    mr_op(r, out, sim_printer_restart);
}

/* Runs the G-code command `word` on p (locked, updated to now). */
static enum sim_rc gcode_run(struct sim_printer *p, const char *word,
                             double now)
{
    if (strcasecmp(word, "M112") == 0)
        return sim_printer_shutdown(p, now, estop_msg);
    if (strcasecmp(word, "FIRMWARE_RESTART") == 0 ||
        strcasecmp(word, "RESTART") == 0)
        return sim_printer_restart(p, now);
    if (p->klippy != SIM_KLIPPY_READY)
        return SIM_E_NOT_READY;
    if (strcasecmp(word, "PAUSE") == 0)
        return sim_printer_pause(p, now);
    if (strcasecmp(word, "RESUME") == 0)
        return sim_printer_resume(p, now);
    if (strcasecmp(word, "CANCEL_PRINT") == 0)
        return sim_printer_cancel(p, now);
    if (strcasecmp(word, "SDCARD_RESET_FILE") == 0 &&
        p->pstate != SIM_PS_PRINTING && p->pstate != SIM_PS_PAUSED)
        return sim_printer_eject(p, now);
    return SIM_OK;
}

/* A few G-code commands a router may send (first word of the script);
 * everything else is just "ok". */
static void mr_gcode_script(struct sim_req *r, struct sim_resp *out)
{
    const char *script = sim_req_arg(r, "script");
    double now = sim_clock_now();
    char word[24] = "";
    enum sim_rc rc;

    if (!script) {
        sim_resp_error(out, MHD_HTTP_BAD_REQUEST,
                       "No data for argument: script", NULL);
        return;
    }
    if (sscanf(script, " %23[A-Za-z0-9_]", word) != 1)
        word[0] = '\0';
    sim_printer_lock(r->p);
    sim_printer_update(r->p, now);
    rc = gcode_run(r->p, word, now);
    sim_printer_unlock(r->p);
    if (rc == SIM_OK)
        sim_resp_ok(out);
    else
        sim_moonraker_fail(out, rc);
}

/* -------------------------------------------------------------- routing */

static const struct mr_route mr_routes[] = {
    { "/server/info", R_GET, mr_server_info },
    { "/server/files/upload", R_POST, NULL },
    { "/server/files/list", R_GET, sim_files_list },
    { "/server/files/metadata", R_GET, sim_files_metadata },
    { "/server/files/gcodes/", R_DELETE | R_PREFIX, sim_files_delete },
    { "/server/files/config/", R_DELETE | R_PREFIX, sim_files_delete },
    { "/server/history/list", R_GET, mr_history_list },
    { "/server/history/job", R_GET, mr_history_job },
    { "/server/job_queue/status", R_GET, mr_job_queue },
    { "/access/info", R_GET, mr_access_info },
    { "/printer/info", R_GET | R_KLIPPY, mr_printer_info },
    { "/printer/objects/query", R_GET | R_POST | R_KLIPPY, mr_objects_query },
    { "/printer/objects/list", R_GET | R_KLIPPY, mr_objects_list },
    { "/printer/print/start", R_POST, mr_print_start },
    { "/printer/print/pause", R_POST, mr_print_pause },
    { "/printer/print/resume", R_POST, mr_print_resume },
    { "/printer/print/cancel", R_POST, mr_print_cancel },
    { "/printer/emergency_stop", R_POST | R_KLIPPY, mr_estop },
    { "/printer/gcode/script", R_POST | R_KLIPPY, mr_gcode_script },
    { "/printer/restart", R_POST, mr_restart },
    { "/printer/firmware_restart", R_POST, mr_restart },
};

static unsigned method_flag(const char *m)
{
    if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
        return R_GET;
    if (strcmp(m, "POST") == 0)
        return R_POST;
    if (strcmp(m, "DELETE") == 0)
        return R_DELETE;
    return 0;
}

void sim_moonraker_dispatch(struct sim_req *r, struct sim_resp *out)
{
    unsigned mf = method_flag(r->method);
    int found = 0, connected;

    if (strncmp(r->path, "/api/", 5) == 0 && sim_octo_dispatch(r, out) == 0)
        return;
    for (size_t i = 0; i < sizeof(mr_routes) / sizeof(*mr_routes); i++) {
        const struct mr_route *rt = &mr_routes[i];

        if (rt->flags & R_PREFIX ?
            strncmp(r->path, rt->path, strlen(rt->path)) != 0 :
            strcmp(r->path, rt->path) != 0)
            continue;
        found = 1;
        if (!(rt->flags & mf))
            continue;
        if (rt->flags & R_KLIPPY) {
            sim_printer_lock(r->p);
            sim_printer_update(r->p, sim_clock_now());
            connected = r->p->klippy != SIM_KLIPPY_DISCONNECTED;
            sim_printer_unlock(r->p);
            if (!connected) {   /* endpoint unregistered */
                sim_resp_error(out, MHD_HTTP_NOT_FOUND, "Not Found", NULL);
                return;
            }
        }
        if (rt->fn)
            rt->fn(r, out);
        else
            sim_files_upload(r, out, 0);
        return;
    }
    if (found)
        sim_resp_error(out, MHD_HTTP_METHOD_NOT_ALLOWED,
                       "Method Not Allowed", NULL);
    else
        sim_resp_error(out, MHD_HTTP_NOT_FOUND, "Not Found", NULL);
}
