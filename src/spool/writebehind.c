/* writebehind.c - see writebehind.h. */
#include "spool/writebehind.h"

#include "common/util.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* The writer only calls write(): a small stack is plenty. */
#define WB_STACK (64 * 1024)

struct wb_slot {
    char *buf;                /* slot_size bytes, allocated on first use */
    size_t len;
    int fd;
};

/* Slots form a ring: q_len queued ones from q_head (the writer owns
 * them), then the one the reader fills.  The lock guards q_head, q_len,
 * err and stop; a queued slot's contents belong to the writer until it is
 * dequeued, the filling slot's to the reader. */
struct wb {
    pthread_mutex_t lock;
    pthread_cond_t work;      /* a slot was queued, or stop */
    pthread_cond_t done;      /* a slot was written */
    pthread_t thread;
    struct wb_slot *slots;
    int nslots, q_head, q_len;
    size_t slot_size;
    int err;                  /* errno of the first failed write, or 0 */
    int stop;
};

static void *writer_main(void *arg)
{
    struct wb *w = arg;
    struct wb_slot *s;
    int err;

    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (w->q_len == 0 && !w->stop)
            pthread_cond_wait(&w->work, &w->lock);
        if (w->stop)
            break;
        s = &w->slots[w->q_head];
        err = w->err;
        pthread_mutex_unlock(&w->lock);
        /* After a failure the rest only drains: the body is refused. */
        if (!err && rr_write_all(s->fd, s->buf, s->len) < 0)
            err = errno ? errno : EIO;
        pthread_mutex_lock(&w->lock);
        if (err && !w->err)
            w->err = err;
        s->len = 0;
        w->q_head = (w->q_head + 1) % w->nslots;
        w->q_len--;
        pthread_cond_broadcast(&w->done);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static int start_thread(struct wb *w)
{
    pthread_attr_t attr;
    sigset_t all, old;
    int rc;

    if ((rc = pthread_attr_init(&attr)) != 0)
        return rc;
    pthread_attr_setstacksize(&attr, WB_STACK);
    /* Signals aimed at the reader (the gate wakes a cut body's read with
     * one) must not land on the writer. */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    rc = pthread_create(&w->thread, &attr, writer_main, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&attr);
    return rc;
}

struct wb *wb_new(size_t slot_size, int nslots)
{
    struct wb *w;
    int rc;

    if (slot_size == 0 || nslots < 2) {
        errno = EINVAL;
        return NULL;
    }
    if (!(w = calloc(1, sizeof(*w))) ||
        !(w->slots = calloc((size_t)nslots, sizeof(*w->slots)))) {
        free(w);
        errno = ENOMEM;
        return NULL;
    }
    w->nslots = nslots;
    w->slot_size = slot_size;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->work, NULL);
    pthread_cond_init(&w->done, NULL);
    if ((rc = start_thread(w)) != 0) {
        pthread_cond_destroy(&w->done);
        pthread_cond_destroy(&w->work);
        pthread_mutex_destroy(&w->lock);
        free(w->slots);
        free(w);
        errno = rc;
        return NULL;
    }
    return w;
}

/* Hands the filling slot to the writer (if it holds anything) and waits
 * for a free one.  Called with the lock held; returns the error so far. */
static int queue_filling(struct wb *w)
{
    struct wb_slot *s = &w->slots[(w->q_head + w->q_len) % w->nslots];

    if (s->len > 0) {
        w->q_len++;
        pthread_cond_signal(&w->work);
    }
    while (w->q_len == w->nslots && !w->err)
        pthread_cond_wait(&w->done, &w->lock);
    return w->err;
}

/* The slot to copy into: the filling one, if it is for fd and has room.
 * Lock held.  NULL with errno. */
static struct wb_slot *filling_for(struct wb *w, int fd)
{
    struct wb_slot *s = &w->slots[(w->q_head + w->q_len) % w->nslots];

    if (s->len > 0 && (s->fd != fd || s->len == w->slot_size)) {
        if ((errno = queue_filling(w)) != 0)
            return NULL;
        s = &w->slots[(w->q_head + w->q_len) % w->nslots];
    }
    if (!s->buf && !(s->buf = malloc(w->slot_size))) {
        errno = ENOMEM;
        return NULL;
    }
    s->fd = fd;
    return s;
}

int wb_write(struct wb *w, int fd, const void *data, size_t len)
{
    const char *p = data;
    struct wb_slot *s;
    size_t take;
    int rc = 0;

    pthread_mutex_lock(&w->lock);
    while (len > 0) {
        if (w->err) {
            errno = w->err;
            rc = -1;
            break;
        }
        if (!(s = filling_for(w, fd))) {
            rc = -1;
            break;
        }
        take = w->slot_size - s->len;
        if (take > len)
            take = len;
        /* The filling slot is the reader's: copy without the lock. */
        pthread_mutex_unlock(&w->lock);
        memcpy(s->buf + s->len, p, take);
        pthread_mutex_lock(&w->lock);
        s->len += take;
        p += take;
        len -= take;
    }
    pthread_mutex_unlock(&w->lock);
    return rc;
}

int wb_flush(struct wb *w)
{
    int err;

    pthread_mutex_lock(&w->lock);
    err = queue_filling(w);
    while (w->q_len > 0 && !err) {
        pthread_cond_wait(&w->done, &w->lock);
        err = w->err;
    }
    pthread_mutex_unlock(&w->lock);
    if (err) {
        errno = err;
        return -1;
    }
    return 0;
}

void wb_free(struct wb *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->stop = 1;
    pthread_cond_signal(&w->work);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    for (int i = 0; i < w->nslots; i++)
        free(w->slots[i].buf);
    free(w->slots);
    pthread_cond_destroy(&w->done);
    pthread_cond_destroy(&w->work);
    pthread_mutex_destroy(&w->lock);
    free(w);
}
