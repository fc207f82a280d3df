/*
 * writebehind.h - file writes on a thread of their own, for request bodies.
 *
 * rrcloud-fcgi reads an upload from the web server's socket and writes it
 * to the spool.  Done in turn on one thread, every write into the page
 * cache leaves the socket unread, the web server's socket buffer (about
 * 200 KiB by default) fills, and the web server stops reading its client:
 * the whole chain waits on the page cache.  With a write-behind the
 * reader copies each span into a slot and goes back to the socket while a
 * writer thread empties the slots, so reading and writing overlap.
 *
 * One writer per request body, used by one reader thread.  Data of one
 * file is written in order; wb_flush() before the file is closed or read.
 * An error of the writer (ENOSPC, EIO) is kept and returned by the next
 * wb_write() or wb_flush(), with its errno.
 */
#ifndef RR_WRITEBEHIND_H
#define RR_WRITEBEHIND_H

#include <stddef.h>

struct wb;

/* Bodies at least this large are worth a writer thread; smaller ones are
 * written directly. */
#define WB_MIN_BODY (2u << 20)

/* A writer with nslots slots of slot_size bytes (allocated as needed) and
 * its thread, which runs with every signal blocked.  NULL with errno. */
struct wb *wb_new(size_t slot_size, int nslots);
/* Queues len bytes of data for fd, copying them; waits while every slot is
 * full.  0, or -1 with errno (an earlier write failed). */
int wb_write(struct wb *w, int fd, const void *data, size_t len);
/* Waits until everything queued is written.  0, or -1 with the errno of
 * the first failure. */
int wb_flush(struct wb *w);
/* Stops the thread and frees everything, dropping what is still queued
 * (a write under way is finished): flush first to keep it.  NULL is
 * ignored. */
void wb_free(struct wb *w);

#endif
