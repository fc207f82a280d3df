/*
 * fuzz_json.c - the fleet API's JSON request bodies (fcgi/fleet_api_int.h):
 * the input is a body read by fa_read_json as every POST/PATCH reads it,
 * then by each field reader with the keys and limits the handlers use:
 * a job's files and settings, a printer's enrollment settings, and the
 * fields of keys, queues and frontends.
 */
#include "fuzz.h"
#include "fake_req.h"

#include "common/conf.h"
#include "common/log.h"
#include "fcgi/fleet_api_int.h"
#include "fcgi/worker.h"

#include <stdlib.h>
#include <string.h>

static struct app app;
static struct worker wk = { .app = &app };

static void read_fields(struct req *r, json_t *o)
{
    struct fleet_job_file files[FA_MAX_FILES];
    struct fleet_printer p;
    char s[256], list[512];
    long long v;
    size_t n;
    int b;

    fa_json_files(r, o, files, &n);
    fleet_printer_init(&p);
    fa_printer_settings(r, o, &p);
    fa_get_int(r, o, "copies", 1, app.conf.fleet_max_copies, &v);
    fa_get_int(r, o, "priority", FLEET_PRIORITY_MIN, FLEET_PRIORITY_MAX, &v);
    fa_get_int(r, o, "printer", 1, 1LL << 53, &v);
    fa_get_int(r, o, "position", 0, 1000000000, &v);
    fa_get_int(r, o, "expires_in", 1, 1LL << 40, &v);
    fa_get_name(r, o, "name", s, sizeof(s), 0);
    fa_get_name(r, o, "role", s, 16, 1);
    fa_get_name(r, o, "material", s, 32, 1);
    fa_get_text(r, o, "notifier", s, sizeof(s));
    if (s[0])
        fa_check_notifier(r, s);
    fa_get_text(r, o, "url", s, sizeof(s));
    if (s[0])
        fa_check_url(r, "url", s);
    fa_get_text(r, o, "reason", s, 8);
    fa_get_list(r, o, "queues", list, sizeof(list), 32, 1);
    fa_get_list(r, o, "tags", list, 40, 4, 0);
    fa_get_bool(r, o, "enabled", &b);
    fa_given(o, "name");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    struct req r;
    char name[64];
    json_t *o = NULL;

    if (!ready) {
        log_init("fuzz", LOG_LVL_ERR);
        conf_defaults(&app.conf, "/var/lib/rrcloud");
        app.conf.max_json_body = 4096;
        ready = 1;
    }
    fake_req_init(&r, &wk, "POST", "application/json", data, size,
                  size % 5 + 1);
    r.content_length = -1;   /* chunked: the cap is met while reading */
    if (fa_read_json(&r, &o) == 0) {
        if (!json_is_object(o))
            abort();
        read_fields(&r, o);
        json_decref(o);
    }
    req_free(&r);
    fake_req_init(&r, &wk, "POST", "", data, size, 0);
    fa_read_name(&r, name, sizeof(name));
    req_free(&r);
    return 0;
}
