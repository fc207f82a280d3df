/*
 * sim_octo.c - the OctoPrint emulation subset Moonraker's octoprint_compat
 * serves (reference/moonraker.md 10), enough for slicers' "OctoPrint"
 * upload.  Every answer is unwrapped JSON.
 */
#include "sim/sim.h"

#include <math.h>
#include <microhttpd.h>
#include <string.h>

static const char *octo_state(const struct sim_snap *s)
{
    if (s->klippy == SIM_KLIPPY_DISCONNECTED)
        return "Offline";
    if (s->klippy != SIM_KLIPPY_READY)
        return "Error";
    switch (s->pstate) {
    case SIM_PS_STANDBY:
    case SIM_PS_COMPLETE:
        return "Operational";
    case SIM_PS_PRINTING:
        return "Printing";
    case SIM_PS_PAUSED:
        return "Paused";
    default:
        return "Error";
    }
}

static void octo_snap(struct sim_req *r, struct sim_snap *s)
{
    sim_printer_lock(r->p);
    sim_printer_snap(r->p, sim_clock_now(), s);
    sim_printer_unlock(r->p);
}

static json_t *octo_temp(double actual, double target)
{
    return json_pack("{s:f,s:i,s:f}", "actual", round(actual * 100) / 100,
                     "offset", 0, "target", target);
}

static void octo_printer(struct sim_req *r, struct sim_resp *out)
{
    struct sim_snap s;
    const char *st;

    octo_snap(r, &s);
    st = octo_state(&s);
    sim_resp_raw(out, MHD_HTTP_OK, json_pack(
        "{s:{s:o,s:o},s:{s:s,s:{s:b,s:b,s:b,s:b,s:b,s:b,s:b,s:b}}}",
        "temperature", "tool0", octo_temp(s.ext_temp, s.ext_target),
        "bed", octo_temp(s.bed_temp, s.bed_target),
        "state", "text", st, "flags",
        "operational", strcmp(st, "Offline") != 0 && strcmp(st, "Error") != 0,
        "paused", s.pstate == SIM_PS_PAUSED,
        "printing", s.pstate == SIM_PS_PRINTING,
        "cancelling", 0, "pausing", 0,
        "error", strcmp(st, "Error") == 0,
        "ready", 0,
        "closedOrError", strcmp(st, "Offline") == 0 ||
                         strcmp(st, "Error") == 0));
}

static void octo_job(struct sim_req *r, struct sim_resp *out)
{
    struct sim_snap s;

    octo_snap(r, &s);
    sim_resp_raw(out, MHD_HTTP_OK, json_pack(
        "{s:{s:{s:n},s:n,s:{s:n},s:n},s:{s:n,s:n,s:n,s:n,s:n},s:s}",
        "job", "file", "name", "estimatedPrintTime", "filament", "length",
        "user", "progress", "completion", "filepos", "printTime",
        "printTimeLeft", "printTimeOrigin", "state", octo_state(&s)));
}

int sim_octo_dispatch(struct sim_req *r, struct sim_resp *out)
{
    int get = strcmp(r->method, "GET") == 0;
    int post = strcmp(r->method, "POST") == 0;
    struct sim_snap s;

    if (get && strcmp(r->path, "/api/version") == 0) {
        sim_resp_raw(out, MHD_HTTP_OK, json_pack(
            "{s:s,s:s,s:s}", "server", "1.5.0", "api", "0.1",
            "text", "OctoPrint (Moonraker v0.9.3-rrcloud-sim)"));
    } else if (get && strcmp(r->path, "/api/server") == 0) {
        octo_snap(r, &s);
        sim_resp_raw(out, MHD_HTTP_OK, json_pack(
            "{s:s,s:o}", "server", "1.5.0", "safemode",
            s.klippy == SIM_KLIPPY_READY ? json_null() :
                                           json_string("settings")));
    } else if (post && strcmp(r->path, "/api/files/local") == 0) {
        sim_files_upload(r, out, 1);
    } else if (get && strcmp(r->path, "/api/job") == 0) {
        octo_job(r, out);
    } else if (get && strcmp(r->path, "/api/printer") == 0) {
        octo_printer(r, out);
    } else {
        return -1;
    }
    return 0;
}
