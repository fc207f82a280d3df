/*
 * moonraker_parse.c - the pure half of the Moonraker client (moonraker.h):
 * names, the error classification, and the objects/query parser.  Kept
 * apart from the transport so tests and the fleet can use them without a
 * loop.
 */
#include "fleet/moonraker.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* ---- names and classification ------------------------------------------ */

const char *mr_err_name(enum mr_err e)
{
    static const char *const n[] = {
        "ok", "offline", "tunnel", "klippy", "busy", "notfound", "auth",
        "http", "proto", "local",
    };

    return (unsigned)e < sizeof(n) / sizeof(*n) ? n[e] : "?";
}

const char *mr_kind_name(enum mr_kind k)
{
    static const char *const n[] = {
        "query", "info", "upload", "start", "pause", "resume", "cancel", "get",
        "delete",
    };

    return (unsigned)k < sizeof(n) / sizeof(*n) ? n[k] : "?";
}

const char *mr_pstate_name(enum mr_pstate s)
{
    static const char *const n[] = {
        "unknown", "standby", "printing", "paused", "complete", "cancelled",
        "error",
    };

    return (unsigned)s < sizeof(n) / sizeof(*n) ? n[s] : "?";
}

const char *mr_klippy_name(enum mr_klippy k)
{
    static const char *const n[] = {
        "unknown", "ready", "startup", "shutdown", "error",
    };

    return (unsigned)k < sizeof(n) / sizeof(*n) ? n[k] : "?";
}

enum mr_err mr_classify(enum mr_kind kind, int curl_code, long http)
{
    if (curl_code == CURLE_WRITE_ERROR && http >= 200 && http < 300)
        return MR_ERR_PROTO;          /* answer over the cap */
    if (curl_code == CURLE_OUT_OF_MEMORY || curl_code == CURLE_READ_ERROR)
        return MR_ERR_LOCAL;
    if (curl_code != CURLE_OK && http == 0)
        return MR_ERR_OFFLINE;        /* nothing came back */
    if (http >= 200 && http < 300)
        return curl_code == CURLE_OK ? MR_OK : MR_ERR_OFFLINE;
    switch (http) {
    case 401:
        return MR_ERR_AUTH;
    case 502:
    case 504:
        return MR_ERR_TUNNEL;
    case 503:
        return MR_ERR_KLIPPY;
    case 404:
        /* Klippy's endpoints vanish while it is disconnected. */
        return kind == MR_QUERY ? MR_ERR_KLIPPY : MR_ERR_NOTFOUND;
    case 400:
    case 403:
    case 409:
        if (kind == MR_START || kind == MR_UPLOAD || kind == MR_PAUSE ||
            kind == MR_RESUME || kind == MR_CANCEL || kind == MR_DELETE)
            return MR_ERR_BUSY;
        return http == 403 ? MR_ERR_AUTH : MR_ERR_HTTP;
    default:
        return MR_ERR_HTTP;
    }
}

/* ---- parsing ----------------------------------------------------------- */

static void mr_copy_str(char *dst, size_t cap, json_t *v)
{
    const char *s = json_is_string(v) ? json_string_value(v) : "";

    strncpy(dst, s, cap - 1);
    dst[cap - 1] = '\0';
}

static double mr_num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_number(v) ? json_number_value(v) : 0.0;
}

static enum mr_klippy mr_klippy_parse(const char *s)
{
    if (!s)
        return MR_KLIPPY_UNKNOWN;
    if (strcmp(s, "ready") == 0)
        return MR_KLIPPY_READY;
    if (strcmp(s, "startup") == 0)
        return MR_KLIPPY_STARTUP;
    if (strcmp(s, "shutdown") == 0)
        return MR_KLIPPY_SHUTDOWN;
    if (strcmp(s, "error") == 0)
        return MR_KLIPPY_ERROR;
    return MR_KLIPPY_UNKNOWN;
}

static enum mr_pstate mr_pstate_parse(const char *s)
{
    static const char *const n[] = {
        "standby", "printing", "paused", "complete", "cancelled", "error",
    };

    for (size_t i = 0; s && i < sizeof(n) / sizeof(*n); i++) {
        if (strcmp(s, n[i]) == 0)
            return (enum mr_pstate)(i + 1);
    }
    return MR_PS_UNKNOWN;
}

int mr_parse_status(const char *body, size_t len, struct mr_status *out)
{
    json_t *root, *st, *o;

    memset(out, 0, sizeof(*out));
    root = json_loadb(body, len, 0, NULL);
    st = json_object_get(json_object_get(root, "result"), "status");
    if (!json_is_object(st)) {
        json_decref(root);
        return -1;
    }
    o = json_object_get(st, "webhooks");
    out->klippy = mr_klippy_parse(json_string_value(
        json_object_get(o, "state")));
    if (out->klippy != MR_KLIPPY_READY)
        mr_copy_str(out->message, sizeof(out->message),
                    json_object_get(o, "state_message"));
    o = json_object_get(st, "print_stats");
    out->pstate = mr_pstate_parse(json_string_value(
        json_object_get(o, "state")));
    mr_copy_str(out->filename, sizeof(out->filename),
                json_object_get(o, "filename"));
    if (json_is_string(json_object_get(o, "message")) &&
        *json_string_value(json_object_get(o, "message")))
        mr_copy_str(out->message, sizeof(out->message),
                    json_object_get(o, "message"));
    out->print_duration = mr_num(o, "print_duration");
    o = json_object_get(st, "virtual_sdcard");
    out->progress = mr_num(o, "progress");
    out->is_active = json_is_true(json_object_get(o, "is_active"));
    o = json_object_get(st, "extruder");
    out->ext_temp = mr_num(o, "temperature");
    out->ext_target = mr_num(o, "target");
    o = json_object_get(st, "heater_bed");
    out->bed_temp = mr_num(o, "temperature");
    out->bed_target = mr_num(o, "target");
    json_decref(root);
    return 0;
}


/* Moonraker's {"error":{"message":...}} text, or "" (HTML from a proxy). */
static void mr_error_text(const char *body, size_t len, char *out, size_t cap)
{
    json_t *root, *msg;

    out[0] = '\0';
    if (len == 0 || body[0] != '{')
        return;
    root = json_loadb(body, len, 0, NULL);
    msg = json_object_get(json_object_get(root, "error"), "message");
    if (json_is_string(msg))
        snprintf(out, cap, "%s", json_string_value(msg));
    json_decref(root);
}

/* server/info: is Klippy connected and ready?  -1 if not an answer. */
static int mr_parse_info(const char *body, size_t len)
{
    json_t *root = json_loadb(body, len, 0, NULL);
    json_t *res = json_object_get(root, "result");
    const char *state;
    int ready;

    if (!json_is_object(res)) {
        json_decref(root);
        return -1;
    }
    state = json_string_value(json_object_get(res, "klippy_state"));
    ready = json_is_true(json_object_get(res, "klippy_connected")) &&
            state && strcmp(state, "ready") == 0;
    json_decref(root);
    return ready;
}

enum mr_err mr_interpret(enum mr_kind kind, int curl_code, long http,
                         const char *body, size_t len, int over_cap,
                         const char *curl_err, struct mr_status *status,
                         int *klippy_connected, char *text, size_t cap)
{
    enum mr_err err = mr_classify(kind, curl_code, http);
    int info;

    text[0] = '\0';
    if (err == MR_OK && kind == MR_QUERY) {
        if (mr_parse_status(body, len, status) < 0) {
            err = MR_ERR_PROTO;
            snprintf(text, cap, "objects/query answer not understood");
        }
    } else if (err == MR_OK && kind == MR_INFO) {
        if ((info = mr_parse_info(body, len)) < 0) {
            err = MR_ERR_PROTO;
            snprintf(text, cap, "server/info answer not understood");
        }
        *klippy_connected = info > 0;
    } else if (err != MR_OK) {
        if (over_cap)
            snprintf(text, cap, "answer larger than the cap");
        else if (http >= 300)
            mr_error_text(body, len, text, cap);
        if (!text[0] && curl_err && curl_err[0])
            snprintf(text, cap, "%s", curl_err);
        if (!text[0] && http)
            snprintf(text, cap, "HTTP %ld", http);
        if (!text[0])
            snprintf(text, cap, "%s", curl_easy_strerror((CURLcode)curl_code));
    }
    return err;
}
