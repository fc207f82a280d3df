/* tmpstore.h - a store in a fresh temporary directory, for the unit
 * tests that need a real database file. */
#ifndef RR_TMPSTORE_H
#define RR_TMPSTORE_H

#include <stddef.h>

#include "store/store.h"

/* Makes /tmp/rr-<tag>-XXXXXX (its path into dir) and opens dir/t.db in
 * it; fails the running test on any error. */
struct store *tmpstore_open(const char *tag, char *dir, size_t len);
/* Closes st and removes dir. */
void tmpstore_close(struct store *st, const char *dir);

#endif
