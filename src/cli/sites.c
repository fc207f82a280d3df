/*
 * sites.c - what the scheduler knows of the floor, from the command line:
 *
 *   rrcloud spool ID [GRAMS|unknown] [--material=M] [--colour=C]
 *   rrcloud sites
 *   rrcloud site NAME [HOURS...|always]
 *
 * A printer's loaded spool (grams left; the scheduler sends a copy only
 * where enough is left) and a site's staffed hours (a print that would
 * end outside them waits, on a printer without auto-eject).  Operators'
 * and admins' commands (/api/v1/printers/ID/spool, /api/v1/sites).
 */
#include "cli/cli.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Percent-encodes name after prefix into path ('#' and '+' are legal in
 * fleet names). */
static void site_path(char *path, size_t len, const char *name)
{
    size_t n = (size_t)snprintf(path, len, "/api/v1/sites/");

    for (const char *p = name; *p && n + 4 < len; p++) {
        if (strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                   "0123456789-._~", *p))
            n += (size_t)snprintf(path + n, len - n, "%c", *p);
        else
            n += (size_t)snprintf(path + n, len - n, "%%%02X",
                                  (unsigned char)*p);
    }
}

/* "750.0 g left (pla, red)" or "grams unknown". */
static void spool_line(long long id, const json_t *sp)
{
    const json_t *g = json_object_get(sp, "grams");
    const char *m = json_string_value(json_object_get(sp, "material"));
    const char *c = json_string_value(json_object_get(sp, "colour"));

    if (json_is_number(g))
        printf("printer %lld: %.1f g left", id, json_number_value(g));
    else
        printf("printer %lld: grams unknown (no limit)", id);
    if ((m && *m) || (c && *c))
        printf(" (%s%s%s)", m && *m ? m : "any material",
               c && *c ? ", " : "", c && *c ? c : "");
    putchar('\n');
}

/* GRAMS|unknown into a JSON body with --material/--colour; NULL after an
 * error was printed. */
static char *spool_body(const struct cli_fargs *a, const char *grams)
{
    json_t *o = json_object();
    char *end, *s;
    double g;

    if (!o)
        return NULL;
    if (!strcmp(grams, "unknown")) {
        json_object_set_new(o, "grams", json_null());
    } else {
        errno = 0;
        g = strtod(grams, &end);
        if (errno || end == grams || *end || !isfinite(g) || g < 0) {
            cli_out_error("'%s' is not a number of grams (or unknown)",
                          grams);
            json_decref(o);
            return NULL;
        }
        json_object_set_new(o, "grams", json_real(g));
    }
    if (a->material)
        json_object_set_new(o, "material", json_string(a->material));
    if (a->colour)
        json_object_set_new(o, "colour", json_string(a->colour));
    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

static int cmd_spool(struct cli_ctx *ctx, const struct cli_fargs *a)
{
    char path[96], *body = NULL, *end;
    long long id;
    json_t *sp = NULL;
    int code;

    if (a->nwords < 1 || a->nwords > 2) {
        cli_out_error("usage: rrcloud spool PRINTER_ID [GRAMS|unknown] "
                      "[--material=M] [--colour=C]");
        return CLI_EXIT_USAGE;
    }
    id = strtoll(a->words[0], &end, 10);
    if (id <= 0 || *end) {
        cli_out_error("'%s' is not a printer id (see rrcloud printers)",
                      a->words[0]);
        return CLI_EXIT_USAGE;
    }
    if (a->nwords < 2 && (a->material || a->colour)) {
        cli_out_error("--material and --colour go with GRAMS");
        return CLI_EXIT_USAGE;
    }
    if (a->nwords == 2 && !(body = spool_body(a, a->words[1])))
        return CLI_EXIT_USAGE;
    snprintf(path, sizeof(path), "/api/v1/printers/%lld/spool", id);
    code = cli_fleet_call(ctx, body ? "PUT" : "GET", path, body,
                          cli_fleet_token(ctx, a), &sp, NULL);
    free(body);
    if (code == CLI_EXIT_OK && sp) {
        if (ctx->opts.json || a->json)
            cli_out_json(stdout, sp);
        else
            spool_line(id, sp);
    }
    json_decref(sp);
    return code;
}

static void site_line(const json_t *s)
{
    const char *h = json_string_value(json_object_get(s, "staffed_hours"));

    printf("%-20s %-8s %3lld printer%s  %s\n",
           json_string_value(json_object_get(s, "name")),
           json_is_true(json_object_get(s, "staffed_now")) ? "staffed"
                                                           : "away",
           (long long)json_integer_value(json_object_get(s, "printers")),
           json_integer_value(json_object_get(s, "printers")) == 1 ? " "
                                                                   : "s",
           h ? h : "(always staffed)");
}

static int cmd_sites(struct cli_ctx *ctx, const struct cli_fargs *a)
{
    json_t *o = NULL, *arr, *s;
    size_t i;
    int code;

    if (a->nwords) {
        cli_out_error("usage: rrcloud sites");
        return CLI_EXIT_USAGE;
    }
    code = cli_fleet_call(ctx, "GET", "/api/v1/sites", NULL,
                          cli_fleet_token(ctx, a), &o, NULL);
    if (code == CLI_EXIT_OK && o) {
        arr = json_object_get(o, "sites");
        if (ctx->opts.json || a->json)
            cli_out_json(stdout, o);
        else
            json_array_foreach(arr, i, s)
                site_line(s);
    }
    json_decref(o);
    return code;
}

/* The words after NAME joined by blanks into a body; "always" clears. */
static char *site_body(const struct cli_fargs *a)
{
    char hours[512] = "";
    size_t n = 0;
    json_t *o;
    char *s;

    for (int i = 1; i < a->nwords && n < sizeof(hours); i++)
        n += (size_t)snprintf(hours + n, sizeof(hours) - n, "%s%s",
                              i > 1 ? " " : "", a->words[i]);
    if (n >= sizeof(hours)) {
        cli_out_error("the hours are too long");
        return NULL;
    }
    o = json_pack("{ss}", "staffed_hours",
                  strcmp(hours, "always") ? hours : "");
    s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

static int cmd_site(struct cli_ctx *ctx, const struct cli_fargs *a)
{
    char path[256], *body = NULL;
    json_t *s = NULL;
    int code;

    if (a->nwords < 1 || !cli_fargs_name_valid(a->words[0])) {
        cli_out_error("usage: rrcloud site NAME [HOURS...|always], e.g. "
                      "rrcloud site lab Mon-Fri 08:00-18:00, Sat "
                      "09:00-13:00");
        return CLI_EXIT_USAGE;
    }
    if (a->nwords > 1 && !(body = site_body(a)))
        return CLI_EXIT_USAGE;
    site_path(path, sizeof(path), a->words[0]);
    code = cli_fleet_call(ctx, body ? "PUT" : "GET", path, body,
                          cli_fleet_token(ctx, a), &s, NULL);
    free(body);
    if (code == CLI_EXIT_OK && s) {
        if (ctx->opts.json || a->json)
            cli_out_json(stdout, s);
        else
            site_line(s);
    }
    json_decref(s);
    return code;
}

int cli_sites_run(struct cli_ctx *ctx, const struct cli_fargs *a)
{
    const char *w = ctx->opts.command;

    if (!strcmp(w, "spool"))
        return cmd_spool(ctx, a);
    if (!strcmp(w, "sites"))
        return cmd_sites(ctx, a);
    return cmd_site(ctx, a);
}
