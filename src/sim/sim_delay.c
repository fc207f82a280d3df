/*
 * sim_delay.c - added latency and "hang" without blocking the server.
 *
 * A delayed request's connection is suspended (MHD_suspend_connection) and
 * put in a min-heap here; one timer thread resumes it when due, and
 * libmicrohttpd calls the access handler again.  The polling threads never
 * sleep, so one slow printer does not slow the others.
 */
#include "sim/sim.h"
#include "common/log.h"

#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct delay_item {
    double due;                 /* sim_mono() seconds */
    struct MHD_Connection *conn;
};

static struct delay_item *heap;
static unsigned heap_n, heap_cap;
static pthread_mutex_t delay_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t delay_cv;
static pthread_t delay_thread;
static int delay_running, delay_stopping;

static void heap_swap(unsigned a, unsigned b)
{
    struct delay_item t = heap[a];

    heap[a] = heap[b];
    heap[b] = t;
}

static void heap_push(struct delay_item it)
{
    unsigned i = heap_n++;

    heap[i] = it;
    while (i > 0 && heap[(i - 1) / 2].due > heap[i].due) {
        heap_swap(i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static struct delay_item heap_pop(void)
{
    struct delay_item top = heap[0];
    unsigned i = 0;

    heap[0] = heap[--heap_n];
    for (;;) {
        unsigned l = 2 * i + 1, r = l + 1, m = i;

        if (l < heap_n && heap[l].due < heap[m].due)
            m = l;
        if (r < heap_n && heap[r].due < heap[m].due)
            m = r;
        if (m == i)
            break;
        heap_swap(i, m);
        i = m;
    }
    return top;
}

static void *delay_main(void *arg)
{
    pthread_mutex_lock(&delay_mu);
    while (!delay_stopping) {
        double now = sim_mono();

        if (heap_n == 0) {
            pthread_cond_wait(&delay_cv, &delay_mu);
        } else if (heap[0].due <= now) {
            struct delay_item it = heap_pop();

            /* resume outside the lock: it wakes a polling thread */
            pthread_mutex_unlock(&delay_mu);
            MHD_resume_connection(it.conn);
            pthread_mutex_lock(&delay_mu);
        } else {
            struct timespec ts;
            double due = heap[0].due;

            ts.tv_sec = (time_t)due;
            ts.tv_nsec = (long)((due - (double)ts.tv_sec) * 1e9);
            pthread_cond_timedwait(&delay_cv, &delay_mu, &ts);
        }
    }
    while (heap_n > 0)
        MHD_resume_connection(heap_pop().conn);
    pthread_mutex_unlock(&delay_mu);
    return NULL;
}

int sim_delay_start(unsigned cap)
{
    pthread_condattr_t ca;
    int rc;

    heap = calloc(cap, sizeof(*heap));
    if (!heap) {
        log_err("delay queue: out of memory");
        return -1;
    }
    heap_cap = cap;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&delay_cv, &ca);
    pthread_condattr_destroy(&ca);
    rc = pthread_create(&delay_thread, NULL, delay_main, NULL);
    if (rc != 0) {
        log_err("delay thread: %s", strerror(rc));
        free(heap);
        heap = NULL;
        return -1;
    }
    delay_running = 1;
    return 0;
}

int sim_delay_add(struct MHD_Connection *c, unsigned ms)
{
    int rc = -1;

    pthread_mutex_lock(&delay_mu);
    if (delay_running && !delay_stopping && heap_n < heap_cap) {
        struct delay_item it = { sim_mono() + ms / 1000.0, c };

        heap_push(it);
        pthread_cond_signal(&delay_cv);
        rc = 0;
    }
    pthread_mutex_unlock(&delay_mu);
    return rc;
}

void sim_delay_stop(void)
{
    if (!delay_running)
        return;
    pthread_mutex_lock(&delay_mu);
    delay_stopping = 1;
    pthread_cond_signal(&delay_cv);
    pthread_mutex_unlock(&delay_mu);
    pthread_join(delay_thread, NULL);
    pthread_cond_destroy(&delay_cv);
    free(heap);
    heap = NULL;
    delay_running = 0;
}
