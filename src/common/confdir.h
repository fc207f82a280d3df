/*
 * confdir.h - the *.conf files of a configuration directory (services/,
 * profiles/), listed alike for every reader of one.
 */
#ifndef RR_CONFDIR_H
#define RR_CONFDIR_H

#include <stddef.h>

/* The names (not paths) of the *.conf files in dir, sorted, dot files
 * skipped, at most max of them.  Returns their count with the names in
 * *out (NULL-ended; NULL when there are none), or -1 with err ("DIR:
 * reason", or "DIR: more than MAX WHAT").  Free with confdir_free(). */
long confdir_list(const char *dir, size_t max, const char *what,
                  char ***out, char *err, size_t errlen);
/* Frees a list from confdir_list(); NULL is ignored. */
void confdir_free(char **names);

#endif
