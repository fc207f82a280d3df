/* hold.c - see hold.h. */
#include "fcgi/hold.h"

#include "common/log.h"
#include "common/util.h"
#include "fcgi/relay.h"
#include "fcgi/worker.h"
#include "http/reply.h"
#include "store/store.h"

#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct held {
    FCGX_Request *f;          /* owned */
    char id[RR_ID_LEN];
    char client[128];         /* its task's client_key */
    enum req_format format;
    int api;
    double deadline;
    int done;                 /* set when its task ended */
};

struct holder {
    struct app *app;
    struct worker w;          /* the holder thread's store connection */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    struct held *items;       /* guarded by lock */
    int n, cap, max;
    int stopping;
    double last_check;
};

/* Answers one held request with the task's current record and frees it. */
static void holder_answer(struct holder *h, struct held *it)
{
    struct req r;
    struct task t;
    int rc;

    req_init(&r, it->f, &h->w);
    r.format = it->format;
    r.api = it->api;
    rc = store_task_get(h->w.st, it->id, &t);
    if (rc == 0)
        relay_answer_task(&r, &t, it->api ? 201 : 200, REPLY_SUBMITTED);
    else
        req_error(&r, 500, NULL, "task %s vanished while waiting", it->id);
    task_clear(&t);
    req_free(&r);
    FCGX_Finish_r(it->f);
    free(it->f);
}

static int holder_mark(void *arg, const char *id)
{
    struct holder *h = arg;

    for (int i = 0; i < h->n; i++) {
        if (strcmp(h->items[i].id, id) == 0)
            h->items[i].done = 1;
    }
    return 0;
}

/* Moves the finished or expired items into out (caller frees). */
static int holder_collect(struct holder *h, struct held **out, int stopping)
{
    double now = rr_now();
    int nout = 0, keep = 0;

    /* Look a second back: etime is stamped before the commit becomes
     * visible to us.  Marking twice is harmless. */
    if (store_task_finished_since(h->w.st, h->last_check - 1.0, holder_mark,
                                  h) == 0)
        h->last_check = now;
    *out = malloc(sizeof(**out) * (size_t)(h->n ? h->n : 1));
    if (!*out)
        return 0;
    for (int i = 0; i < h->n; i++) {
        struct held *it = &h->items[i];

        if (it->done || stopping || now >= it->deadline)
            (*out)[nout++] = *it;
        else
            h->items[keep++] = *it;
    }
    h->n = keep;
    return nout;
}

static void *holder_main(void *arg)
{
    struct holder *h = arg;

    pthread_mutex_lock(&h->lock);
    for (;;) {
        struct held *ready = NULL;
        int stopping = h->stopping, nready;

        if (!stopping) {
            struct timespec ts;

            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += HOLD_TICK_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            if (h->n == 0)
                ts.tv_sec += 1;
            pthread_cond_timedwait(&h->cond, &h->lock, &ts);
            stopping = h->stopping;
        }
        if (h->n == 0) {
            if (stopping)
                break;
            continue;
        }
        nready = holder_collect(h, &ready, stopping);
        pthread_mutex_unlock(&h->lock);
        /* Answer outside the lock: writing to a slow client must not stop
         * workers from parking new requests. */
        for (int i = 0; i < nready; i++)
            holder_answer(h, &ready[i]);
        free(ready);
        pthread_mutex_lock(&h->lock);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

struct holder *holder_start(struct app *app, char *err, size_t errlen)
{
    struct holder *h = calloc(1, sizeof(*h));

    if (!h) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    h->app = app;
    h->w.app = app;
    h->max = app->conf.max_held;
    h->last_check = rr_now();
    h->w.st = store_open(app->conf.database, err, errlen);
    if (!h->w.st)
        goto fail;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->cond, NULL);
    if (pthread_create(&h->thread, NULL, holder_main, h) != 0) {
        snprintf(err, errlen, "cannot start holder thread");
        goto fail_sync;
    }
    return h;
fail_sync:
    pthread_cond_destroy(&h->cond);
    pthread_mutex_destroy(&h->lock);
fail:
    store_close(h->w.st);
    free(h);
    return NULL;
}

void holder_stop(struct holder *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->lock);
    h->stopping = 1;
    pthread_cond_signal(&h->cond);
    pthread_mutex_unlock(&h->lock);
    pthread_join(h->thread, NULL);
    pthread_cond_destroy(&h->cond);
    pthread_mutex_destroy(&h->lock);
    store_close(h->w.st);
    free(h->items);
    free(h);
}

/* Requests of client held now.  Under h->lock. */
static int holder_count_of(const struct holder *h, const char *client)
{
    int n = 0;

    for (int i = 0; i < h->n; i++)
        n += !h->items[i].done && !strcmp(h->items[i].client, client);
    return n;
}

int holder_add(struct holder *h, FCGX_Request *f, const char *id,
               const char *client, enum req_format format, int api,
               double deadline)
{
    int max_client = h->app->conf.client_max_held, rc = -1;

    pthread_mutex_lock(&h->lock);
    if (h->stopping || h->n >= h->max ||
        (max_client > 0 && holder_count_of(h, client) >= max_client))
        goto out;
    if (h->n == h->cap) {
        int cap = h->cap ? h->cap * 2 : 64;
        struct held *p = realloc(h->items, sizeof(*p) * (size_t)cap);
        if (!p)
            goto out;
        h->items = p;
        h->cap = cap;
    }
    h->items[h->n] = (struct held){ .f = f, .format = format, .api = api,
                                    .deadline = deadline };
    memcpy(h->items[h->n].id, id, RR_ID_LEN);
    snprintf(h->items[h->n].client, sizeof(h->items[h->n].client), "%s",
             client);
    h->n++;
    pthread_cond_signal(&h->cond);
    rc = 0;
out:
    pthread_mutex_unlock(&h->lock);
    return rc;
}

int holder_count(struct holder *h)
{
    int n;

    pthread_mutex_lock(&h->lock);
    n = h->n;
    pthread_mutex_unlock(&h->lock);
    return n;
}

int holder_client_count(struct holder *h, const char *client)
{
    int n;

    pthread_mutex_lock(&h->lock);
    n = holder_count_of(h, client);
    pthread_mutex_unlock(&h->lock);
    return n;
}
