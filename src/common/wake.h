/*
 * wake.h - rrcloud-fcgi tells rrcloudd "there is new work" with one
 * datagram on a unix socket.  Losing a datagram is harmless: rrcloudd also
 * looks at the store once a second; the datagram only makes a new task start
 * within milliseconds instead.
 */
#ifndef RR_WAKE_H
#define RR_WAKE_H

enum wake_what {
    WAKE_TASK = 1,    /* a task was queued */
    WAKE_CANCEL = 2,  /* a busy task should be cancelled */
    WAKE_FLEET = 4,   /* printers, queues or jobs changed */
    WAKE_NOTIFY = 8,  /* a notifier delivery was queued */
    WAKE_SPOOL = 16,  /* spool_quota refused: cached slices may go */
};

/* Binds a non-blocking, close-on-exec datagram socket at path (replacing a
 * stale one) with mode 0660.  Returns the fd or -1 with errno. */
int wake_listen(const char *path);
/* Sends one byte naming what changed; never blocks.  0 or -1 (ignorable). */
int wake_send(const char *path, enum wake_what what);
/* Reads every pending datagram; returns the OR of their wake_what bits. */
int wake_drain(int fd);

#endif
