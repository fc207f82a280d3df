/*
 * sim_files.c - Moonraker's file endpoints for one simulated printer
 * (reference/moonraker.md 3): upload (201, unwrapped, Location header),
 * list, metadata, delete.  Only name, size and SHA-256 of a file are kept;
 * its bytes were hashed and dropped while the upload streamed.
 */
#include "sim/sim.h"

#include <math.h>
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const char *const gcode_exts[] = { ".gcode", ".g", ".gco", ".ufp",
                                          ".nc" };

void sim_files_job_id(uint32_t id, char *buf, size_t cap)
{
    snprintf(buf, cap, "%06X", (unsigned)id);
}

static int is_gcode(const char *path)
{
    const char *dot = strrchr(path, '.');

    if (!dot || strchr(dot, '/'))
        return 0;
    for (size_t i = 0; i < sizeof(gcode_exts) / sizeof(*gcode_exts); i++)
        if (strcasecmp(dot, gcode_exts[i]) == 0)
            return 1;
    return 0;
}

/* Joins dir and name into dst as a clean relative path: no empty, "." or
 * ".." components, no control characters.  Returns 0 or -1. */
static int path_join(char *dst, size_t cap, const char *dir, const char *name)
{
    const char *parts[2] = { dir ? dir : "", name };
    size_t n = 0;

    for (int k = 0; k < 2; k++) {
        const char *p = parts[k];

        while (*p) {
            size_t len = strcspn(p, "/");

            if (len == 0 || (len == 1 && p[0] == '.')) {
                p += len + (p[len] == '/');
                continue;
            }
            if (len == 2 && p[0] == '.' && p[1] == '.')
                return -1;
            for (size_t i = 0; i < len; i++)
                if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
                    return -1;
            if (n + len + 2 > cap)
                return -1;
            if (n)
                dst[n++] = '/';
            memcpy(dst + n, p, len);
            n += len;
            p += len + (p[len] == '/');
        }
    }
    dst[n] = '\0';
    return n ? 0 : -1;
}

/* File names end up in JSON, which must be UTF-8. */
static int utf8_ok(const char *s)
{
    json_t *j = json_string(s);

    json_decref(j);
    return j != NULL;
}

static int hex_digest_eq(const char *hex, const uint8_t d[32])
{
    char want[65];

    if (strlen(hex) != 64)
        return 0;
    for (int i = 0; i < 32; i++)
        snprintf(want + 2 * i, 3, "%02x", d[i]);
    return strcasecmp(hex, want) == 0;
}

static json_t *file_item(const struct sim_file *f, const char *root)
{
    return json_pack("{s:s,s:s,s:f,s:I,s:s}", "path", f->path, "root", root,
                     "modified", round(f->modified * 1e3) / 1e3,
                     "size", (json_int_t)f->size, "permissions", "rw");
}

/* Parses "gcodes"/"config"; -1 for anything else. */
static int root_parse(const char *s)
{
    if (!s || strcmp(s, "gcodes") == 0)
        return SIM_ROOT_GCODES;
    if (strcmp(s, "config") == 0)
        return SIM_ROOT_CONFIG;
    return -1;
}

/* Starts dest if print=true and Klipper is idle (Moonraker's guard: no
 * start while printing or paused; the job queue is off). */
static int upload_maybe_print(struct sim_req *r, const char *dest,
                              double now)
{
    struct sim_printer *p = r->p;

    if (p->klippy != SIM_KLIPPY_READY || p->pstate == SIM_PS_PRINTING ||
        p->pstate == SIM_PS_PAUSED)
        return 0;
    return sim_printer_start(p, dest, now, r->api_key_user) == SIM_OK;
}

/* Checks an upload's form: fills dest and *root, or sets out to the
 * error (reason phrase only, as Moonraker does for uploads) and returns -1. */
static int upload_check(const struct sim_upload_info *u, char *dest,
                        size_t cap, int *root, struct sim_resp *out)
{
    if (u->too_big) {
        sim_resp_error(out, MHD_HTTP_CONTENT_TOO_LARGE,
                       "Request Entity Too Large", NULL);
    } else if (!u->filename || u->n_files != 1 || u->bad_field ||
               (*root = root_parse(u->root)) < 0 ||
               path_join(dest, cap, u->path, u->filename) < 0 ||
               !utf8_ok(dest)) {
        sim_resp_error(out, MHD_HTTP_BAD_REQUEST, "Bad Request", NULL);
    } else if (u->checksum && !hex_digest_eq(u->checksum, u->sha256)) {
        sim_resp_error(out, MHD_HTTP_UNPROCESSABLE_CONTENT,
                       "Unprocessable Entity", "File checksum mismatch");
    } else {
        return 0;
    }
    SIM_STAT_ADD(rejected_uploads, 1);
    return -1;
}

void sim_files_upload(struct sim_req *r, struct sim_resp *out, int octo)
{
    struct sim_upload_info u;
    char dest[SIM_PATH_MAX];
    struct sim_file *f;
    int root = SIM_ROOT_GCODES, created, started = 0, in_use;
    const char *rname;
    json_t *item = NULL;
    double now;

    if (sim_req_upload(r, &u) < 0 ||
        upload_check(&u, dest, sizeof(dest), &root, out) < 0) {
        if (!out->status)
            sim_resp_error(out, MHD_HTTP_BAD_REQUEST, "Bad Request", NULL);
        return;
    }
    rname = root == SIM_ROOT_GCODES ? "gcodes" : "config";
    now = sim_clock_now();
    sim_printer_lock(r->p);
    sim_printer_update(r->p, now);
    in_use = root == SIM_ROOT_GCODES && sim_printer_file_in_use(r->p, dest);
    f = in_use ? NULL : sim_printer_file_put(r->p, (enum sim_root)root, dest,
                                             u.size, u.sha256, now, &created);
    if (f) {
        item = file_item(f, rname);
        r->p->n_uploads++;
        if (root == SIM_ROOT_GCODES && u.print && strcmp(u.print, "true") == 0)
            started = upload_maybe_print(r, dest, now);
    }
    sim_printer_unlock(r->p);
    if (!f) {
        SIM_STAT_ADD(rejected_uploads, 1);
        if (in_use)     /* overwriting the loaded file (moonraker.md 3) */
            sim_resp_error(out, MHD_HTTP_FORBIDDEN, "Forbidden",
                           "File is loaded, upload not permitted");
        else
            sim_resp_error(out, MHD_HTTP_INTERNAL_SERVER_ERROR,
                           "Internal Server Error", NULL);
        return;
    }
    SIM_STAT_ADD(uploads, 1);
    snprintf(out->location, sizeof(out->location), "http://%s%s%s%s/%s",
             r->host, r->base, octo ? "/api/files/moonraker/" :
                                      "/server/files/", rname, dest);
    sim_resp_raw(out, MHD_HTTP_CREATED,
                 json_pack("{s:s,s:o,s:b,s:b}",
                           "action", created ? "create_file" : "modify_file",
                           "item", item, "print_started", started,
                           "print_queued", 0));
}

void sim_files_list(struct sim_req *r, struct sim_resp *out)
{
    const char *rs = sim_req_arg(r, "root");
    int root = root_parse(rs);
    json_t *list;

    if (root < 0) {
        if (strcmp(rs, "logs") == 0 || strcmp(rs, "docs") == 0 ||
            strcmp(rs, "config_examples") == 0) {
            sim_resp_result(out, json_array());
        } else {
            char msg[96];

            snprintf(msg, sizeof(msg), "Invalid root request: %.64s", rs);
            sim_resp_error(out, MHD_HTTP_BAD_REQUEST, msg, NULL);
        }
        return;
    }
    list = json_array();
    sim_printer_lock(r->p);
    for (struct sim_file *f = r->p->files; f && list; f = f->next) {
        json_t *it;

        if (f->root != root || (root == SIM_ROOT_GCODES && !is_gcode(f->path)))
            continue;
        it = file_item(f, rs ? rs : "gcodes");
        json_object_del(it, "root");
        json_array_append_new(list, it);
    }
    sim_printer_unlock(r->p);
    sim_resp_result(out, list);
}

static json_t *metadata_json(const struct sim_file *f)
{
    char uuid[40], job[16];
    const uint8_t *h = f->sha256;
    json_t *o;

    snprintf(uuid, sizeof(uuid),
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
             "%02x%02x%02x%02x%02x%02x",
             h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8], h[9],
             h[10], h[11], h[12], h[13], h[14], h[15]);
    sim_files_job_id(f->last_job, job, sizeof(job));
    o = json_pack("{s:I,s:f,s:s,s:[],s:f,s:f,s:o,s:o,s:s}",
                  "size", (json_int_t)f->size,
                  "modified", round(f->modified * 1e3) / 1e3,
                  "uuid", uuid, "file_processors",
                  "estimated_time", round(f->need),
                  "filament_total", round(f->need * 1.5 * 100) / 100,
                  "print_start_time", f->last_job ?
                      json_real(round(f->last_start * 1e3) / 1e3) :
                      json_null(),
                  "job_id", f->last_job ? json_string(job) : json_null(),
                  "filename", f->path);
    return o;
}

void sim_files_metadata(struct sim_req *r, struct sim_resp *out)
{
    const char *fn = sim_req_arg(r, "filename");
    struct sim_file *f;
    json_t *md = NULL;

    if (!fn || !*fn) {
        sim_resp_error(out, MHD_HTTP_BAD_REQUEST,
                       "No data for argument: filename", NULL);
        return;
    }
    while (*fn == '/')
        fn++;
    sim_printer_lock(r->p);
    f = sim_printer_file_find(r->p, SIM_ROOT_GCODES, fn);
    if (f)
        md = metadata_json(f);
    sim_printer_unlock(r->p);
    if (md)
        sim_resp_result(out, md);
    else    /* "Metadata not available for <x>": Tornado mangles the '<' */
        sim_resp_error(out, MHD_HTTP_NOT_FOUND, "Unknown",
                       "Metadata not available");
}

void sim_files_delete(struct sim_req *r, struct sim_resp *out)
{
    const char *rest = r->path + strlen("/server/files/");
    int root = strncmp(rest, "gcodes/", 7) == 0 ? SIM_ROOT_GCODES :
                                                  SIM_ROOT_CONFIG;
    const char *path = strchr(rest, '/') + 1;
    enum sim_rc rc;

    sim_printer_lock(r->p);
    sim_printer_update(r->p, sim_clock_now());
    rc = sim_printer_file_delete(r->p, (enum sim_root)root, path);
    sim_printer_unlock(r->p);
    if (rc == SIM_E_NO_FILE) {
        sim_resp_error(out, MHD_HTTP_NOT_FOUND, "File does not exist", NULL);
    } else if (rc == SIM_E_BUSY) {
        sim_resp_error(out, MHD_HTTP_FORBIDDEN, "File currently in use",
                       NULL);
    } else {
        sim_resp_result(out, json_pack(
            "{s:{s:s,s:s,s:i,s:i,s:s},s:s}", "item", "path", path,
            "root", root == SIM_ROOT_GCODES ? "gcodes" : "config",
            "size", 0, "modified", 0, "permissions", "", "action",
            "delete_file"));
    }
}
