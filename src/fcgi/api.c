/* api.c - see api.h. */
#include "config.h"

#include "fcgi/api.h"

#include "common/util.h"
#include "fcgi/auth.h"
#include "fcgi/fields.h"
#include "fcgi/fleet_api.h"
#include "fcgi/relay.h"
#include "fcgi/submit.h"
#include "fcgi/worker.h"
#include "http/reply.h"
#include "services/service.h"
#include "store/store.h"

#include <jansson.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

struct api_list {
    struct req *r;
    int n;
    int failed;
};

static int api_list_one(void *arg, const struct task *t)
{
    struct api_list *c = arg;

    if ((c->n && buf_putc(&c->r->out, ',') < 0) ||
        reply_task_api(&c->r->out, t, relay_server_name(c->r)) < 0) {
        c->failed = 1;
        return 1;
    }
    c->n++;
    return 0;
}

static int api_tasks_list(struct req *r)
{
    struct api_list c = { .r = r };
    const char *client, *owner;
    struct fields f;
    const char *v;
    enum task_status st;
    int status = -1, limit, offset, rc;
    long long n, off;
    char err[256];

    fields_init(&f);
    if (fields_parse_query(&f, r->query, 16, 256, err, sizeof(err)) < 0) {
        fields_free(&f);
        return req_error(r, 400, NULL, "query: %s", err);
    }
    if ((v = fields_get(&f, "status")) != NULL) {
        if (task_status_parse(v, &st) < 0) {
            fields_free(&f);
            return req_error(r, 400, "status", "must be queued, busy, "
                             "complete, failed or cancelled");
        }
        status = (int)st;
    }
    n = fields_get_uint(&f, "limit", 1000);
    limit = n == -1 ? 100 : (int)n;
    off = fields_get_uint(&f, "offset", INT_MAX);
    offset = off == -1 ? 0 : (int)off;
    fields_free(&f);
    if (n == -2 || n == 0)
        return req_error(r, 400, "limit", "limit: must be 1..1000");
    if (off == -2)
        return req_error(r, 400, "offset", "offset: must be 0..%d", INT_MAX);
    buf_reset(&r->out);
    buf_puts(&r->out, "{\"tasks\":[");
    auth_task_filter(r->caller, r->w->app->conf.info_all_clients, &client,
                     &owner);
    rc = store_task_list(r->w->st, client, owner, status, limit, offset,
                         api_list_one, &c);
    if (rc < 0 || c.failed)
        return req_error(r, 500, NULL, "cannot list tasks");
    buf_printf(&r->out, "],\"limit\":%d,\"offset\":%d}\n", limit, offset);
    req_send(r, 200, "application/json", NULL);
    return 200;
}

static int api_task_get(struct req *r, const char *id)
{
    struct task t;
    int rc;

    if (!rr_id_valid(id))
        return req_error(r, 404, "id", "no task %.40s", id);
    rc = relay_task_get(r, id, &t);
    if (rc == STORE_NOTFOUND)
        return req_error(r, 404, "id", "no task %s", id);
    if (rc < 0)
        return req_error(r, 500, NULL, "store error");
    rc = relay_answer_task(r, &t, 200, 0);
    task_clear(&t);
    return rc;
}

static int api_tasks(struct req *r, const char *rest)
{
    char id[RR_ID_LEN + 1];
    const char *slash;
    size_t len;

    if (!*rest || strcmp(rest, "/") == 0) {
        if (req_is(r, "POST"))
            return submit_handle(r);
        if (req_is(r, "GET"))
            return api_tasks_list(r);
        return req_error(r, 405, NULL, "use GET or POST");
    }
    if (*rest != '/')
        return req_error(r, 404, NULL, "no such resource");
    rest++;
    slash = strchr(rest, '/');
    len = slash ? (size_t)(slash - rest) : strlen(rest);
    if (len >= sizeof(id))
        return req_error(r, 404, "id", "no such task");
    memcpy(id, rest, len);
    id[len] = '\0';
    if (!slash) {
        if (req_is(r, "GET"))
            return api_task_get(r, id);
        if (req_is(r, "DELETE"))
            return relay_cancel(r, id);
        return req_error(r, 405, NULL, "use GET or DELETE");
    }
    if (strcmp(slash, "/cancel") == 0) {
        if (!req_is(r, "POST"))
            return req_error(r, 405, NULL, "use POST");
        return relay_cancel(r, id);
    }
    return req_error(r, 404, NULL, "no such resource");
}

/* What a client needs to build a command line for s (the CLI classifies
 * its arguments with this, as RepRapCloud's did with local conf files). */
static json_t *service_describe(const struct service *s,
                                long long default_timeout)
{
    json_t *o = json_object(), *types = json_array(), *opts = json_array();
    char out_prefix[256] = "";
    const char *pos;

    if (!o || !types || !opts)
        goto fail;
    for (size_t i = 0; i < s->n_input_types; i++)
        json_array_append_new(types, json_string(s->input_types[i].ext));
    for (size_t i = 0; i < s->n_options; i++)
        json_array_append_new(opts, json_string(s->options[i]));
    /* "--output=$fileOut" -> "--output=", "-o $fileOut" -> "-o" */
    if (!s->no_output && s->output && (pos = strstr(s->output, "$fileOut")))
        snprintf(out_prefix, sizeof(out_prefix), "%.*s",
                 (int)(pos - s->output), s->output);
    for (size_t n = strlen(out_prefix); n && out_prefix[n - 1] == ' '; n--)
        out_prefix[n - 1] = '\0';
    json_object_set_new(o, "name", json_string(s->name));
    json_object_set_new(o, "description", json_string(s->description));
    json_object_set_new(o, "argInput",
                        s->prearg ? json_string(s->prearg) : json_null());
    json_object_set_new(o, "output", json_string(out_prefix));
    json_object_set_new(o, "noOutput", json_boolean(s->no_output));
    json_object_set_new(o, "fileOut", json_string(s->file_out));
    json_object_set_new(o, "inputTypes", types);
    json_object_set_new(o, "inputMin", json_integer(s->input_min));
    json_object_set_new(o, "inputMax", json_integer(s->input_max));
    json_object_set_new(o, "options", opts);
    json_object_set_new(o, "timeout", json_integer(s->timeout ? s->timeout
                                                   : default_timeout));
    return o;
fail:
    json_decref(o);
    json_decref(types);
    json_decref(opts);
    return NULL;
}

static int api_services(struct req *r)
{
    json_t *root = json_object(), *list = json_array();

    if (!root || !list)
        goto fail;
    json_object_set_new(root, "services", list);
    for (size_t i = 0; i < service_count(r->w->app->services); i++) {
        json_t *o = service_describe(service_at(r->w->app->services, i),
                                     r->w->app->conf.default_timeout);
        if (!o || json_array_append_new(list, o) < 0)
            goto fail;
    }
    return req_send_json(r, 200, root, NULL);
fail:
    json_decref(root);
    return req_error(r, 500, NULL, "out of memory");
}

int api_handle(struct req *r, const char *path)
{
    if (strncmp(path, "/tasks", 6) == 0)
        return api_tasks(r, path + 6);
    if (strcmp(path, "/services") == 0)
        return req_is(r, "GET") ? api_services(r)
                            : req_error(r, 405, NULL, "use GET");
    return fleet_api_handle(r, path);
}
