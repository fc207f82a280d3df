/*
 * authlimit.h - failed authentication, limited per client address.
 *
 * A request that presents a token matching nothing is one failure for its
 * address.  After auth_fail_limit failures within auth_fail_window seconds
 * the address is blocked for auth_fail_window seconds: every token it
 * presents then gets 429 with Retry-After, without being checked, so
 * guessing gets nowhere and costs the server nothing.  Other addresses are
 * not affected, and a right token does not wipe the count (an attacker
 * holding one key could otherwise guess others between its own requests).
 * IPv6 clients count per /64, the block one host usually holds.
 *
 * rrcloud-fcgi is one process with worker threads, so one table in memory
 * sees every request; a mutex guards it.  The table is fixed in size
 * (AUTHLIMIT_SLOTS addresses): when full, the address seen least recently
 * that is not blocked gives its place.  A restart forgets the counts.
 *
 * Every authentication path calls authlimit_blocked() before it checks a
 * presented token and authlimit_failed() when the token matched nothing.
 */
#ifndef RR_AUTHLIMIT_H
#define RR_AUTHLIMIT_H

#define AUTHLIMIT_SLOTS 1024

struct authlimit;

/* A table allowing limit failures per window_s seconds; NULL if limit is 0
 * (the limit is off) or out of memory (errno set then).  Every function
 * takes NULL as "no limit". */
struct authlimit *authlimit_new(int limit, long long window_s);
void authlimit_free(struct authlimit *al);

/* 0 if addr may present a token at now_ms (monotonic); else the seconds,
 * at least 1, until it may. */
long long authlimit_blocked(struct authlimit *al, const char *addr,
                            long long now_ms);
/* Counts one failed authentication from addr at now_ms.  Returns 1 if
 * this failure blocked the address, else 0. */
int authlimit_failed(struct authlimit *al, const char *addr,
                     long long now_ms);

/* The limit and window it was made with (for messages). */
int authlimit_limit(const struct authlimit *al);
long long authlimit_window(const struct authlimit *al);

#endif
