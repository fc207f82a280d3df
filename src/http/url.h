/*
 * url.h - is a string an http(s) URL we may call?  One rule for every URL a
 * client hands us (notifiers, printers' share URLs): libcurl's parser, a
 * scheme of http or https, its own "//host" (libcurl reads "http:/x" and
 * "http:///x" as host "x"), and no control bytes or spaces.
 */
#ifndef RR_URL_H
#define RR_URL_H

/* 0 if url passes; else -1 with *why (static text) saying what is wrong,
 * e.g. "has no host". */
int url_check_http(const char *url, const char **why);

#endif
