/*
 * share.h - may a printer report this share URL?  The fleet sends G-code,
 * commands and polls to a printer's share URL, so a printer that could
 * name any URL could make rrcloudd call loopback services or receive
 * another printer's jobs.  A share URL is accepted when
 *   - its host is not one netcheck denies (loopback, private, link-local,
 *     metadata...) unless fleet_share_allow covers it, and
 *   - for a printer speaking for itself (its printer token or the enroll
 *     token), it is the zrok share of that printer on its assigned
 *     frontend, https://prn-ID.NAMESPACE[/] (fleet_share_name, the
 *     frontend's namespace) or SCHEME://prn-ID.HOST[/] with the scheme
 *     and host of the frontend's URL, or it matches one of
 *     fleet_share_patterns
 *     (fnmatch(3), "$id" standing for the printer's id).
 * Operators (the admin token) may set any URL the deny list allows.
 */
#ifndef RR_FLEET_SHARE_H
#define RR_FLEET_SHARE_H

/* 0 if url passes for printer id whose frontend has namespace ns and URL
 * fe_url (NULL = none assigned); else -1 and *why (static text).  patterns and
 * allow are the conf's fleet_share_patterns and fleet_share_allow;
 * operator != 0 skips the shape rule. */
int fleet_share_check(long long id, const char *url, const char *ns,
                      const char *fe_url, const char *patterns, const char *allow, int operator,
                      const char **why);

#endif
