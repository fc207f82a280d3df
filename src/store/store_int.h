/*
 * store_int.h - helpers shared by store.c, store_tasks.c and
 * store_notify.c (tasks and their notifier deliveries).  Private to them.
 */
#ifndef RR_STORE_INT_H
#define RR_STORE_INT_H

#include <sqlite3.h>
#include <stddef.h>

#include "store/store.h"

/* Returns the cached statement for sql (keyed by the literal's address),
 * reset and unbound, or NULL (logged). */
sqlite3_stmt *store_stmt(struct store *st, const char *sql);
/* Keeps and logs the connection's error for `what`, resets s, returns -1. */
int store_step_fail(struct store *st, sqlite3_stmt *s, const char *what);
/* Runs a prepared write, returning 0, STORE_NOTFOUND if no row changed,
 * or -1. */
int store_write(struct store *st, sqlite3_stmt *s, const char *what);
/* Column i as a malloc'd string (NULL for NULL); copied into dst ("" for
 * NULL). */
char *col_strdup(sqlite3_stmt *s, int i);
void col_copy(sqlite3_stmt *s, int i, char *dst, size_t len);
/* Binds v, or NULL when v is NULL. */
void bind_text_or_null(sqlite3_stmt *s, int i, const char *v);

#endif
