/*
 * url.h - is a string an http(s) URL we may call?  One rule for every URL a
 * client hands us (notifiers, printers' share URLs): libcurl's parser, a
 * scheme of http or https, its own "//host" (libcurl reads "http:/x" and
 * "http:///x" as host "x"), and no control bytes or spaces.
 */
#ifndef RR_URL_H
#define RR_URL_H

#include <stddef.h>

/* 0 if url passes; else -1 with *why (static text) saying what is wrong,
 * e.g. "has no host". */
int url_check_http(const char *url, const char **why);
/* url without "user:password@", options, the query and the fragment, for
 * a log or a reader other than its owner: secrets a receiver takes in its
 * URL stay out.  "(unparsable URL)" if libcurl cannot read it. */
void url_redact(const char *url, char *out, size_t outlen);

#endif
