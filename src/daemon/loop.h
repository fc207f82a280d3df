/*
 * loop.h - rrcloudd's event loop: epoll over file descriptors, timers
 * (one timerfd each) and signals (one signalfd for all).
 *
 * One loop belongs to one thread.  Modules register what they wait for and
 * get a callback; nothing here knows about tasks or printers, so the runner,
 * the wake socket and (later) the fleet share one loop.  Handlers may add
 * and remove any registration, including their own, from inside a callback:
 * removed handlers are freed only after the current dispatch round.
 */
#ifndef RR_LOOP_H
#define RR_LOOP_H

#include <stdint.h>

struct loop;
struct loop_timer;

/* events is the EPOLLIN/EPOLLOUT/EPOLLERR/EPOLLHUP mask that fired. */
typedef void (*loop_fd_cb)(struct loop *l, int fd, uint32_t events,
                           void *arg);
/* A one-shot timer is freed by the loop after its callback returns; its
 * handle must not be used from then on (drop it inside the callback). */
typedef void (*loop_timer_cb)(struct loop *l, struct loop_timer *t,
                              void *arg);
typedef void (*loop_signal_cb)(struct loop *l, int signo, void *arg);

/* Creates a loop.  Returns NULL with errno. */
struct loop *loop_new(void);
/* Frees the loop, its timers and its signalfd.  Registered fds are not
 * closed (their owners close them); blocked signals stay blocked. */
void loop_free(struct loop *l);

/* Watches fd (not owned) for events (EPOLLIN, EPOLLOUT, ...).  One
 * registration per fd.  0, or -1 with errno (EEXIST if already there). */
int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_cb cb,
                void *arg);
/* Changes the events of a registered fd.  0 or -1 with errno. */
int loop_mod_fd(struct loop *l, int fd, uint32_t events);
/* Stops watching fd; call it before closing the fd.  0 or -1 (ENOENT). */
int loop_del_fd(struct loop *l, int fd);

/* Calls cb after ms milliseconds (0 = on the next round), then every ms
 * if repeat.  Returns the timer (owned by the loop) or NULL with errno. */
struct loop_timer *loop_add_timer(struct loop *l, long long ms, int repeat,
                                  loop_timer_cb cb, void *arg);
/* Cancels and frees a timer that has not yet been freed.  NULL is a no-op. */
void loop_timer_del(struct loop *l, struct loop_timer *t);

/* Blocks signo in the calling thread and delivers it through cb.  Block
 * the same signals in main before starting other threads, or the kernel
 * may deliver them there.  One callback per signal.  0 or -1 with errno. */
int loop_add_signal(struct loop *l, int signo, loop_signal_cb cb, void *arg);
/* Drops signo's callback; the signal stays blocked and is discarded. */
void loop_del_signal(struct loop *l, int signo);

/* Waits at most timeout_ms (-1 = no limit) for events and dispatches
 * them.  Returns the number of callbacks run, or -1 on a fatal error. */
int loop_run_once(struct loop *l, int timeout_ms);
/* Dispatches until loop_stop().  0, or -1 on a fatal epoll error. */
int loop_run(struct loop *l);
/* Makes loop_run() return after the current round (safe in callbacks). */
void loop_stop(struct loop *l);

#endif
