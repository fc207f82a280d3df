/*
 * reply.h - a task as the client sees it.
 *
 * RepRapCloud's clients parse "key: value" lines (keys sorted) or a JSON
 * object whose values are all strings; browsers get a page.  The /api/v1
 * form is typed JSON.  These functions only format: they never look
 * anything up.
 */
#ifndef RR_REPLY_H
#define RR_REPLY_H

#include "common/buf.h"
#include "store/store.h"

enum reply_fmt { REPLY_TEXT, REPLY_JSON, REPLY_HTML };

/* flags of reply_task: the record answers the submission of the task. */
#define REPLY_SUBMITTED 1u

/* The status word of RepRapCloud's text format, whose clients know only
 * busy, complete and failed: queued and busy read "busy", cancelled reads
 * "failed" (RepRapCloud's kill set failed), and the answer to a submission
 * (REPLY_SUBMITTED in flags) reads "busy", the state the task entered when
 * accepted, as RepRapCloud's CGI printed it, even when it is sent after
 * the task ended.  Text records carry the true state in "state"; JSON and
 * HTML show it in status. */
const char *reply_text_status(enum task_status st, unsigned flags);

/* The state of a pipeline as a whole from its stages: failed or
 * cancelled if one is, complete when all are, busy once one has started,
 * else queued. */
enum task_status reply_chain_status(const struct task_stage *g, int n);

/* Appends one task record.  server is the serverName shown in "server";
 * flags: 0 or REPLY_SUBMITTED.  Returns 0 or -1 (buffer cap).  A
 * pipeline stage shows its place in "stage" and, when the caller set
 * t->stages, the chain in "chain" and its state in "chainStatus". */
int reply_task(struct buf *b, enum reply_fmt fmt, const struct task *t,
               const char *server, unsigned flags);
/* Typed JSON object for /api/v1. */
int reply_task_api(struct buf *b, const struct task *t, const char *server);

/* A list: begin, one item per task, end.  For text, records are separated
 * by a blank line; JSON is an array; HTML is a table. */
int reply_list_begin(struct buf *b, enum reply_fmt fmt, const char *title);
int reply_list_item(struct buf *b, enum reply_fmt fmt, const struct task *t,
                    const char *server, int index);
int reply_list_end(struct buf *b, enum reply_fmt fmt);

/* The "cmd" field: argv joined by spaces.  Appends to b. */
int reply_cmd(struct buf *b, const char *argv_json);

/* Page header and footer shared by every HTML answer. */
int reply_html_head(struct buf *b, const char *title);
int reply_html_foot(struct buf *b);

/* Key/value pairs in the three formats, for meta and other records. */
struct reply_kv {
    const char *key;
    char value[256];
};
int reply_kvs(struct buf *b, enum reply_fmt fmt, const struct reply_kv *kv,
              int n, const char *title);

#endif
