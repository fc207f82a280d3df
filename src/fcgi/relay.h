/*
 * relay.h - RepRapCloud's interface at "/": service=info|status|meta|kill
 * and task submission, plus the answers shared with /api/v1.
 */
#ifndef RR_RELAY_H
#define RR_RELAY_H

#include "fcgi/fields.h"
#include "fcgi/request.h"
#include "store/store.h"

/* Sends t in r's format with the given HTTP status (typed JSON when r->api).
 * flags: REPLY_SUBMITTED for the answer to t's submission (reply.h). */
int relay_answer_task(struct req *r, const struct task *t, int status,
                      unsigned flags);
/* 0 if id is one of our task ids; else answers 404 for an id of
 * RepRapCloud's shape (rr_id_shaped) and 400 for a malformed one, and
 * returns that status. */
int relay_check_id(struct req *r, const char *id);
/* store_task_get for the caller: STORE_NOTFOUND also for a task it may
 * not see (auth_owns_task). */
int relay_task_get(struct req *r, const char *id, struct task *t);
/* The serverName shown in records and meta. */
const char *relay_server_name(const struct req *r);

/* "/" for GET and POST.  Returns REQ_HELD when a synchronous submission was
 * parked, else the HTTP status sent. */
int relay_handle(struct req *r);
/* Acts on the RepRapCloud service word in f (info, status, meta, kill,
 * empty) for a GET or a POST that named no real service. */
int relay_dispatch(struct req *r, const struct fields *f);
/* service=info with the given fields (id, limit, offset). */
int relay_info(struct req *r, const struct fields *f);
int relay_meta(struct req *r);
/* Cancels task id (service=kill, /api/v1/tasks/ID/cancel). */
int relay_cancel(struct req *r, const char *id);

#endif
