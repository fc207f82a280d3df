/*
 * submit_check.c - turns the received fields of a submission into a task,
 * or into one clear error naming the field and the rule it broke.
 */
#include "fcgi/submit_check.h"

#include "common/util.h"
#include "fcgi/auth.h"
#include "fcgi/fleet_print.h"   /* fleet: service=print */
#include "fcgi/worker.h"
#include "http/form.h"
#include "http/netcheck.h"
#include "http/url.h"
#include "services/filetype.h"
#include "services/service.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOTIFIER_MAX 2048

int submit_fail(struct submit *s, int status, const char *field,
                const char *fmt, ...)
{
    va_list ap;

    if (s->status)  /* keep the first error: later ones are consequences */
        return -1;
    s->status = status;
    snprintf(s->field, sizeof(s->field), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(s->msg, sizeof(s->msg), fmt, ap);
    va_end(ap);
    return -1;
}

/* N of "<prefix>N" (N without leading zeros, < 10000), -1 if name does
 * not start with prefix, -2 if the rest is not such a number. */
static int indexed_name(const char *name, const char *prefix)
{
    size_t plen = strlen(prefix);
    const char *p = name + plen;
    int n = 0;

    if (strncmp(name, prefix, plen) != 0)
        return -1;
    if (!*p || (*p == '0' && p[1]) || strlen(p) > 4)
        return -2;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return -2;
        n = n * 10 + (*p - '0');
    }
    return n;
}

int submit_file_index(const char *name)
{
    return indexed_name(name, "fileIn");
}

struct upload *submit_upload_find(struct submit *s, int index)
{
    for (int i = 0; i < s->nup; i++) {
        if (s->up[i]->index == index)
            return s->up[i];
    }
    return NULL;
}

int submit_filename_ext(struct submit *s, const char *field,
                        const char *filename)
{
    char err[256] = "";

    if (service_check_name(field, filename, err, sizeof(err)) < 0)
        return submit_fail(s, 400, field, "%s", err);
    /* RepRapCloud's client uploads text from its command line as
     * tasks/in/<uniq>, or <uniq>.<whatever followed the text's last dot>:
     * without a usable extension the content decides (check_inputs). */
    if (service_input_ext(filename, s->pending_ext,
                          sizeof(s->pending_ext)) < 0)
        s->pending_ext[0] = '\0';
    return 0;
}

/* --- field checks ---------------------------------------------------------- */

/* Validates the notifier URL (http or https only: rrcloudd must not be
 * made to fetch file:// or gopher://) and substitutes $id and $myip. */
static int check_notifier(struct submit *s, const char *raw, char **out)
{
    struct buf b;
    const char *why;
    int rc = -1;

    buf_init(&b, NOTIFIER_MAX);
    for (const char *p = raw; *p; p++) {
        int ok;
        if (strncmp(p, "$id", 3) == 0) {
            ok = buf_puts(&b, s->task.id);
            p += 2;
        } else if (strncmp(p, "$myip", 5) == 0) {
            ok = buf_puts(&b, s->r->remote_addr);
            p += 4;
        } else {
            ok = buf_putc(&b, *p);
        }
        if (ok < 0) {
            submit_fail(s, 400, "notifier", "longer than %d bytes",
                        NOTIFIER_MAX);
            goto out;
        }
    }
    if (!b.data || url_check_http(b.data, &why) < 0) {
        submit_fail(s, 400, "notifier", "'%.100s' %s (expected "
                    "http://host/path; $id and $myip are substituted)", raw,
                    b.data ? why : "is empty");
        goto out;
    }
    /* Literal hosts and loopback or metadata names; rrcloudd resolves the
     * rest and checks each address it connects to. */
    if ((why = netcheck_url(b.data, s->r->w->app->conf.notifier_allow))) {
        submit_fail(s, 400, "notifier", "'%.100s' points to %s, which "
                    "notifiers may not reach (notifier_allow in "
                    "rrcloud.conf lets more through)", raw, why);
        goto out;
    }
    *out = strdup(b.data);
    rc = *out ? 0 : submit_fail(s, 500, "notifier", "out of memory");
out:
    buf_free(&b);
    return rc;
}

int submit_check_options(struct submit *s, const struct service *svc,
                         const char *prefix, const char **opts, int *nopts,
                         int max)
{
    char field[48], argp[32], err[512];
    const char *native;
    char *copy = NULL, *save = NULL, *tok;

    snprintf(field, sizeof(field), "%snativeArgs", prefix);
    snprintf(argp, sizeof(argp), "%sarg", prefix);
    native = fields_get(&s->fields, field);
    *nopts = 0;
    if (native && *native) {
        int first = s->fields.n, n = 0;

        copy = strdup(native);
        if (!copy)
            return submit_fail(s, 500, "nativeArgs", "out of memory");
        for (tok = strtok_r(copy, ",", &save); tok;
             tok = strtok_r(NULL, ",", &save)) {
            /* The value lives in copy; keep it in the fields (appended
             * after the client's, which are not looked at here) so it
             * outlives this function. */
            if (++n > max || fields_add(&s->fields, "\x01native", tok,
                                        strlen(tok)) < 0) {
                free(copy);
                return submit_fail(s, 413, field, "too many options "
                                   "(%d)", max);
            }
        }
        free(copy);
        for (int i = first; i < s->fields.n; i++) {
            if (service_check_value(field, s->fields.v[i].value, err,
                                    sizeof(err)) < 0 ||
                service_check_option(svc, field, s->fields.v[i].value,
                                     err, sizeof(err)) < 0)
                return submit_fail(s, 400, field, "%s", err);
            opts[(*nopts)++] = s->fields.v[i].value;
        }
    }
    for (int i = 0; i < s->fields.n; i++) {
        int idx = indexed_name(s->fields.v[i].name, argp);
        if (idx == -2)
            return submit_fail(s, 400, s->fields.v[i].name, "bad field name "
                               "(%s0 .. %sN)", argp, argp);
    }
    for (int i = 0;; i++) {
        const char *v;

        snprintf(field, sizeof(field), "%s%d", argp, i);
        v = fields_get(&s->fields, field);
        if (!v)
            break;
        if (*nopts >= max)
            return submit_fail(s, 413, field, "too many options (%d)", max);
        if (service_check_value(field, v, err, sizeof(err)) < 0 ||
            service_check_option(svc, field, v, err, sizeof(err)) < 0)
            return submit_fail(s, 400, field, "%s", err);
        opts[(*nopts)++] = v;
    }
    /* field is now the first argN not given: where the missing one goes */
    if (service_check_required(svc, field, opts, (size_t)*nopts, err,
                               sizeof(err)) < 0)
        return submit_fail(s, 400, field, "%s", err);
    return 0;
}

/* An input without an extension (inline content, or an upload named
 * without one) is stored under the first accepted type its content fits. */
static int sniff_ext(struct submit *s, const struct service *svc,
                     struct upload *u, int has_prearg, const char *path)
{
    struct app *app = s->r->w->app;
    char err[512];
    int rc;

    pthread_mutex_lock(&app->ft_lock);
    rc = service_sniff_ext(svc, app->ft, has_prearg, path, u->head,
                           u->headlen, u->size, u->ext, sizeof(u->ext), err,
                           sizeof(err));
    pthread_mutex_unlock(&app->ft_lock);
    return rc < 0 ? submit_fail(s, 415, u->field, "%s", err) : 0;
}

/* Checks the inputs: contiguous from fileIn0, count, type; names them
 * inN.ext in the task directory. */
static int check_inputs(struct submit *s, const struct service *svc)
{
    char err[512], mime[128], from[4200], to[4200];
    int rc;

    if (s->nup == 0)
        return submit_fail(s, 400, "fileIn0", "no input file: send the "
                           "input as fileIn0 (a file upload or its content)");
    for (int i = 0; i < s->nup; i++) {
        char name[24];

        if (submit_upload_find(s, i))
            continue;
        snprintf(name, sizeof(name), "fileIn%d", i);
        return submit_fail(s, 400, name, "missing, but %s was given: "
                           "inputs are numbered from fileIn0 without gaps",
                           s->up[i]->field);
    }
    if ((unsigned)s->nup < svc->input_min || (unsigned)s->nup > svc->input_max)
        return submit_fail(s, 400, "fileIn", "service %s takes %u to %u "
                           "input file(s), got %d", s->service_name,
                           svc->input_min, svc->input_max, s->nup);
    for (int i = 0; i < s->nup; i++) {
        struct upload *u = submit_upload_find(s, i);
        char prearg_field[32];
        const char *prearg;

        snprintf(prearg_field, sizeof(prearg_field), "prearg%d", i);
        prearg = fields_get(&s->fields, prearg_field);
        if (u->size == 0)
            return submit_fail(s, 400, u->field, "empty input file");
        if (rr_fmt(from, sizeof(from), "%s/%s", s->dir, u->tmpname) < 0)
            return submit_fail(s, 500, u->field, "path too long");
        if (!u->ext[0] && sniff_ext(s, svc, u, prearg != NULL, from) < 0)
            return -1;
        if (service_check_input(svc, i, u->ext, prearg != NULL, err,
                                sizeof(err)) < 0)
            return submit_fail(s, 415, u->field, "%s", err);
        /* Only libmagic needs the shared handle: the structure checks
         * (a 3MF's parts inflated and scanned) run outside the lock. */
        pthread_mutex_lock(&s->r->w->app->ft_lock);
        rc = filetype_magic(s->r->w->app->ft, u->head,
                            u->headlen < u->size ? u->headlen
                                                 : (size_t)u->size,
                            mime, sizeof(mime), err, sizeof(err));
        pthread_mutex_unlock(&s->r->w->app->ft_lock);
        if (rc == 0)
            rc = filetype_check_mime(from, u->head, u->headlen, u->size,
                                     u->ext, mime, err, sizeof(err));
        if (rc < 0)
            return submit_fail(s, 415, u->field, "%s", err);
        snprintf(u->name, sizeof(u->name), "in%d.%s", i, u->ext);
        if (rr_fmt(to, sizeof(to), "%s/%s", s->dir, u->name) < 0 ||
            rename(from, to) < 0)
            return submit_fail(s, 500, u->field, "cannot store input");
        s->task.size_in += (long long)u->size;
    }
    return 0;
}

/* Every preargN must belong to an input and equal the service's argInput
 * prefix (RepRapCloud silently dropped a wrong one; we say so). */
static int check_preargs(struct submit *s, const struct service *svc,
                         const char **preargs)
{
    char err[512];

    for (int i = 0; i < s->fields.n; i++) {
        const char *name = s->fields.v[i].name;
        int idx = indexed_name(name, "prearg");

        if (idx == -1)
            continue;
        if (idx == -2 || !submit_upload_find(s, idx))
            return submit_fail(s, 400, name, "prearg%s has no matching "
                               "fileIn%s", name + 6, name + 6);
        if (service_check_value(name, s->fields.v[i].value, err,
                                sizeof(err)) < 0 ||
            service_check_prearg(svc, idx, s->fields.v[i].value, err,
                                 sizeof(err)) < 0)
            return submit_fail(s, 400, name, "%s", err);
        preargs[idx] = s->fields.v[i].value;
    }
    return 0;
}

static int parse_async(struct submit *s, int *async)
{
    const char *v = fields_get(&s->fields, "async");

    *async = s->r->api || strstr(s->r->prefer, "respond-async") != NULL;
    if (!v)
        return 0;
    if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes"))
        *async = 1;
    else if (!strcmp(v, "0") || !strcasecmp(v, "false") ||
             !strcasecmp(v, "no"))
        *async = s->r->api;
    else
        return submit_fail(s, 400, "async", "must be 1 or 0");
    return 0;
}

int submit_build_argv(struct submit *s, const struct service *svc,
                      struct task *t, const char **inputs, int ninputs,
                      const char **preargs, const char **opts, int nopts)
{
    struct service_task_spec spec;
    char err[512], *json = NULL;
    char **argv = NULL;
    json_t *arr = NULL;
    struct buf in;
    int rc = -1;

    buf_init(&in, 64 * 1024);
    for (int i = 0; i < ninputs; i++) {
        if ((i && buf_putc(&in, ',') < 0) || buf_puts(&in, inputs[i]) < 0)
            goto out_fail;
    }
    /* noOutput: no result to wait for, check or serve (rrcloudd fails a
     * task whose named output is missing). */
    if (svc->no_output)
        t->out_name[0] = '\0';
    else if (service_output_name(svc, t->id, t->out_name,
                                 sizeof(t->out_name)) < 0)
        goto out_fail;
    memset(&spec, 0, sizeof(spec));
    spec.id = t->id;
    spec.inputs = inputs;
    spec.prearg = preargs;
    spec.n_inputs = (size_t)ninputs;
    spec.options = opts;
    spec.n_options = (size_t)nopts;
    spec.output = t->out_name;
    if (service_build_argv(svc, &spec, &argv, err, sizeof(err)) < 0) {
        submit_fail(s, 400, NULL, "%s", err);
        goto out;
    }
    arr = json_array();
    for (char **a = argv; arr && *a; a++) {
        if (json_array_append_new(arr, json_string(*a)) < 0)
            goto out_fail;
    }
    json = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    if (!json)
        goto out_fail;
    t->argv_json = json;
    t->inputs = in.data ? strdup(in.data) : strdup("");
    rc = t->inputs ? 0 : submit_fail(s, 500, NULL, "out of memory");
    goto out;
out_fail:
    submit_fail(s, 500, NULL, "cannot build the command");
out:
    json_decref(arr);
    service_argv_free(argv);
    buf_free(&in);
    return rc;
}

/* A key's open tasks against its max_queued (a print task is counted
 * with its job, in fleet_print.c). */
static int check_key_limits(struct submit *s)
{
    char field[32], msg[256];
    int status;

    if (!s->r->caller)
        return 0;
    status = auth_limits(s->r->w->st, s->r->caller, NULL, 0, 0, field,
                         sizeof(field), msg, sizeof(msg));
    return status ? submit_fail(s, status, field, "%s", msg) : 0;
}

int submit_prepare(struct submit *s, int *async)
{
    const struct app *app = s->r->w->app;
    const struct service *svc;
    const char *preargs[SUBMIT_MAX_UPLOADS] = { 0 };
    const char *inputs[SUBMIT_MAX_UPLOADS];
    const char *opts[SERVICE_OPTION_MAX];
    const char *name, *fmt, *notifier;
    char qname[64];
    long long queued;
    int nopts = 0;

    /* Like CGI.pm, a POST may name the service in its query string. */
    name = fields_get(&s->fields, "service");
    if (!name && form_get(s->r->query, "service", qname, sizeof(qname)) == 0)
        name = qname;
    if ((fmt = fields_get(&s->fields, "format")) != NULL) {
        if (strcmp(fmt, "json") && strcmp(fmt, "text") && strcmp(fmt, "html"))
            return submit_fail(s, 400, "format", "must be json, text or "
                               "html");
        req_set_format(s->r, fmt);
    }
    if (!name || !*name || !strcmp(name, "info") || !strcmp(name, "status") ||
        !strcmp(name, "meta") || !strcmp(name, "kill") ||
        !strcmp(name, "cancel")) {
        if (s->nup == 0 && !s->r->api)
            return SUBMIT_NOT_A_TASK;
        return submit_fail(s, 400, "service", "missing: name the service "
                           "to run (see service=meta)");
    }
    snprintf(s->service_name, sizeof(s->service_name), "%.63s", name);
    svc = service_find(app->services, name);
    if (!svc)
        return submit_fail(s, 400, "service", "unknown service '%.64s' "
                           "(see service=meta for the list)", name);
    if (parse_async(s, async) < 0)
        return -1;
    if (rr_id_new(s->task.id) < 0)
        return submit_fail(s, 500, NULL, "no randomness for a task id: %s",
                           strerror(errno));
    snprintf(s->task.service, sizeof(s->task.service), "%s", name);
    snprintf(s->task.client, sizeof(s->task.client), "%.63s",
             s->r->remote_addr);
    /* A keyed caller's task is its owner's; an anonymous one is its
     * address's (owner ""). */
    if (s->r->caller && s->r->caller->who == AUTH_KEY)
        snprintf(s->task.owner, sizeof(s->task.owner), "%s",
                 s->r->caller->owner);
    s->task.ctime = rr_now();
    s->task.timeout = svc->timeout ? svc->timeout : app->conf.default_timeout;
    s->task.size_out = -1;
    s->task.exit_code = -1;
    /* Preargs first: a prearg the service does not take is the client's
     * error in that field (400 prearg0), not a wrong input type (415). */
    if (check_preargs(s, svc, preargs) < 0 || check_inputs(s, svc) < 0 ||
        submit_check_options(s, svc, "", opts, &nopts,
                             SERVICE_OPTION_MAX) < 0)
        return -1;
    notifier = fields_get(&s->fields, "notifier");
    if (notifier && *notifier &&
        check_notifier(s, notifier, &s->task.notifier) < 0)
        return -1;
    for (int i = 0; i < s->nup; i++)
        inputs[i] = submit_upload_find(s, i)->name;
    if (submit_build_argv(s, svc, &s->task, inputs, s->nup, preargs, opts,
                          nopts) < 0)
        return -1;
    /* A pipeline: the stages after this one (submit_chain.c) */
    if (submit_chain_prepare(s, svc) < 0)
        return -1;
    if (store_task_count(s->r->w->st, TASK_QUEUED, &queued) < 0)
        return submit_fail(s, 500, NULL, "store error");
    /* A pipeline queues all its stages at once. */
    if (queued + s->nstages >= app->conf.max_queued)
        return submit_fail(s, 503, "max_queued", "max_queued: %lld tasks "
                           "are queued, this server's limit%s; try again "
                           "later", queued,
                           s->nstages ? ", and a pipeline queues one per "
                           "stage" : "");
    if (svc->kind != SERVICE_KIND_PRINT && check_key_limits(s) < 0)
        return -1;
    /* --- fleet: a print service's task is a fleet job (fleet_print.c) */
    if (svc->kind == SERVICE_KIND_PRINT && fleet_print_prepare(s) < 0)
        return -1;
    /* --- end fleet */
    return 0;
}
