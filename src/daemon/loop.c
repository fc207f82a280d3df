/* loop.c - see loop.h. */
#include "daemon/loop.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#define LOOP_MAX_EVENTS 64
#define LOOP_NSIG 65

enum loop_kind { LK_FD, LK_TIMER, LK_SIGNAL };

/* One registration.  A timer handle is this struct under its public name. */
struct loop_timer {
    enum loop_kind kind;
    int fd;
    int dead;                 /* removed; freed after this round */
    int repeat;               /* timers */
    loop_fd_cb fd_cb;
    loop_timer_cb timer_cb;
    void *arg;
    struct loop_timer *next;  /* all live registrations, or the dead list */
};

struct loop {
    int epfd;
    int stop;
    struct loop_timer *regs;  /* live registrations */
    struct loop_timer *dead;  /* removed during this round */
    struct loop_timer **by_fd;/* LK_FD registrations indexed by fd */
    int by_fd_len;
    struct loop_timer *sig;   /* the signalfd registration, or NULL */
    sigset_t sigs;
    loop_signal_cb sig_cb[LOOP_NSIG];
    void *sig_arg[LOOP_NSIG];
};

struct loop *loop_new(void)
{
    struct loop *l = calloc(1, sizeof(*l));

    if (!l)
        return NULL;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        int saved = errno;
        free(l);
        errno = saved;
        return NULL;
    }
    sigemptyset(&l->sigs);
    return l;
}

static void loop_free_list(struct loop_timer *r)
{
    while (r) {
        struct loop_timer *next = r->next;
        free(r);
        r = next;
    }
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    for (struct loop_timer *r = l->regs; r; r = r->next) {
        if (r->kind != LK_FD)
            close(r->fd);
    }
    loop_free_list(l->regs);
    loop_free_list(l->dead);
    free(l->by_fd);
    close(l->epfd);
    free(l);
}

/* Adds r to epoll and the live list. */
static int loop_attach(struct loop *l, struct loop_timer *r, uint32_t events)
{
    struct epoll_event ev = { .events = events, .data.ptr = r };

    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, r->fd, &ev) < 0)
        return -1;
    r->next = l->regs;
    l->regs = r;
    return 0;
}

/* Takes r out of epoll and the live list; it is freed after this round. */
static void loop_detach(struct loop *l, struct loop_timer *r)
{
    struct loop_timer **pp;

    if (r->dead)
        return;
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, r->fd, NULL);
    for (pp = &l->regs; *pp; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    }
    if (r->kind != LK_FD)
        close(r->fd);
    r->dead = 1;
    r->next = l->dead;
    l->dead = r;
}

static int loop_grow(struct loop *l, int fd)
{
    int n = l->by_fd_len ? l->by_fd_len : 64;
    struct loop_timer **p;

    while (n <= fd)
        n *= 2;
    p = realloc(l->by_fd, (size_t)n * sizeof(*p));
    if (!p)
        return -1;
    memset(p + l->by_fd_len, 0, (size_t)(n - l->by_fd_len) * sizeof(*p));
    l->by_fd = p;
    l->by_fd_len = n;
    return 0;
}

int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_cb cb,
                void *arg)
{
    struct loop_timer *r;

    if (fd < 0 || !cb) {
        errno = EINVAL;
        return -1;
    }
    if (fd >= l->by_fd_len && loop_grow(l, fd) < 0)
        return -1;
    if (l->by_fd[fd]) {
        errno = EEXIST;
        return -1;
    }
    r = calloc(1, sizeof(*r));
    if (!r)
        return -1;
    r->kind = LK_FD;
    r->fd = fd;
    r->fd_cb = cb;
    r->arg = arg;
    if (loop_attach(l, r, events) < 0) {
        int saved = errno;
        free(r);
        errno = saved;
        return -1;
    }
    l->by_fd[fd] = r;
    return 0;
}

int loop_mod_fd(struct loop *l, int fd, uint32_t events)
{
    struct epoll_event ev = { .events = events };

    if (fd < 0 || fd >= l->by_fd_len || !l->by_fd[fd]) {
        errno = ENOENT;
        return -1;
    }
    ev.data.ptr = l->by_fd[fd];
    return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
}

int loop_del_fd(struct loop *l, int fd)
{
    if (fd < 0 || fd >= l->by_fd_len || !l->by_fd[fd]) {
        errno = ENOENT;
        return -1;
    }
    loop_detach(l, l->by_fd[fd]);
    l->by_fd[fd] = NULL;
    return 0;
}

struct loop_timer *loop_add_timer(struct loop *l, long long ms, int repeat,
                                  loop_timer_cb cb, void *arg)
{
    struct itimerspec its;
    struct loop_timer *r;
    int saved;

    if (ms < 0 || !cb || (repeat && ms == 0)) {
        errno = EINVAL;
        return NULL;
    }
    r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->kind = LK_TIMER;
    r->repeat = repeat;
    r->timer_cb = cb;
    r->arg = arg;
    r->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (r->fd < 0)
        goto fail;
    memset(&its, 0, sizeof(its));
    /* An all-zero value would disarm the timer: "now" is 1 ns. */
    its.it_value.tv_sec = ms / 1000;
    its.it_value.tv_nsec = ms > 0 ? (ms % 1000) * 1000000L : 1;
    if (repeat)
        its.it_interval = its.it_value;
    if (timerfd_settime(r->fd, 0, &its, NULL) < 0 ||
        loop_attach(l, r, EPOLLIN) < 0)
        goto fail;
    return r;
fail:
    saved = errno;
    if (r->fd >= 0)
        close(r->fd);
    free(r);
    errno = saved;
    return NULL;
}

void loop_timer_del(struct loop *l, struct loop_timer *t)
{
    if (t && t->kind == LK_TIMER)
        loop_detach(l, t);
}

static void loop_on_signalfd(struct loop *l, struct loop_timer *r)
{
    struct signalfd_siginfo si;

    for (;;) {
        ssize_t n = read(r->fd, &si, sizeof(si));
        if (n != (ssize_t)sizeof(si))
            break;  /* EAGAIN: drained */
        if (si.ssi_signo < LOOP_NSIG && l->sig_cb[si.ssi_signo])
            l->sig_cb[si.ssi_signo](l, (int)si.ssi_signo,
                                    l->sig_arg[si.ssi_signo]);
    }
}

int loop_add_signal(struct loop *l, int signo, loop_signal_cb cb, void *arg)
{
    sigset_t one;
    int fd;

    if (signo <= 0 || signo >= LOOP_NSIG || !cb) {
        errno = EINVAL;
        return -1;
    }
    sigemptyset(&one);
    sigaddset(&one, signo);
    if ((errno = pthread_sigmask(SIG_BLOCK, &one, NULL)) != 0)
        return -1;
    sigaddset(&l->sigs, signo);
    fd = signalfd(l->sig ? l->sig->fd : -1, &l->sigs,
                  SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        return -1;
    if (!l->sig) {
        struct loop_timer *r = calloc(1, sizeof(*r));
        if (!r) {
            close(fd);
            return -1;
        }
        r->kind = LK_SIGNAL;
        r->fd = fd;
        if (loop_attach(l, r, EPOLLIN) < 0) {
            close(fd);
            free(r);
            return -1;
        }
        l->sig = r;
    }
    l->sig_cb[signo] = cb;
    l->sig_arg[signo] = arg;
    return 0;
}

void loop_del_signal(struct loop *l, int signo)
{
    if (signo > 0 && signo < LOOP_NSIG) {
        l->sig_cb[signo] = NULL;
        l->sig_arg[signo] = NULL;
    }
}

static void loop_dispatch(struct loop *l, struct loop_timer *r, uint32_t ev)
{
    uint64_t ticks;

    switch (r->kind) {
    case LK_FD:
        r->fd_cb(l, r->fd, ev, r->arg);
        break;
    case LK_TIMER:
        /* EAGAIN here means it was re-armed meanwhile: nothing is due. */
        if (read(r->fd, &ticks, sizeof(ticks)) != (ssize_t)sizeof(ticks))
            break;
        r->timer_cb(l, r, r->arg);
        if (!r->repeat)
            loop_detach(l, r);
        break;
    case LK_SIGNAL:
        loop_on_signalfd(l, r);
        break;
    }
}

int loop_run_once(struct loop *l, int timeout_ms)
{
    struct epoll_event evs[LOOP_MAX_EVENTS];
    int n, ran = 0;

    n = epoll_wait(l->epfd, evs, LOOP_MAX_EVENTS, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -1;
    for (int i = 0; i < n; i++) {
        struct loop_timer *r = evs[i].data.ptr;
        /* A callback earlier in this round may have removed r. */
        if (r->dead)
            continue;
        loop_dispatch(l, r, evs[i].events);
        ran++;
    }
    loop_free_list(l->dead);
    l->dead = NULL;
    return ran;
}

int loop_run(struct loop *l)
{
    while (!l->stop) {
        if (loop_run_once(l, -1) < 0)
            return -1;
    }
    l->stop = 0;  /* so the loop can be run again */
    return 0;
}

void loop_stop(struct loop *l)
{
    l->stop = 1;
}
