/*
 * log.h - one logging front end for every rrcloud program.
 *
 * Lines go to stderr (journald and the tests read that) as
 *   2026-11-23T12:00:00.123Z rrcloudd[123] warn: message
 * or to syslog after log_use_syslog().  Thread-safe: each line is written
 * with one write(2) call.
 */
#ifndef RR_LOG_H
#define RR_LOG_H

#include <stdarg.h>

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERR };

/* Sets the program name shown on every line (not copied: pass a literal or
 * argv[0]) and the lowest level printed. */
void log_init(const char *prog, enum log_level min);
/* Parses "debug", "info", "warn", "error"; returns -1 on anything else. */
int log_level_parse(const char *s, enum log_level *out);
void log_use_syslog(void);

void log_msg(enum log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_err(...)   log_msg(LOG_LVL_ERR, __VA_ARGS__)

#endif
