/* log.c - see log.h. */
#include "common/log.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *log_prog = "rrcloud";
static enum log_level log_min = LOG_LVL_INFO;
static int log_syslog;

static const char *const log_names[] = { "debug", "info", "warn", "error" };

void log_init(const char *prog, enum log_level min)
{
    const char *slash = strrchr(prog, '/');

    log_prog = slash ? slash + 1 : prog;
    log_min = min;
}

int log_level_parse(const char *s, enum log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, log_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

void log_use_syslog(void)
{
    openlog(log_prog, LOG_PID, LOG_DAEMON);
    log_syslog = 1;
}

void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
    static const int prio[] = { LOG_DEBUG, LOG_INFO, LOG_WARNING, LOG_ERR };
    char line[2048];
    struct timeval tv;
    struct tm tm;
    size_t n;
    int r;

    if (lvl < log_min)
        return;
    if (log_syslog) {
        vsyslog(prio[lvl], fmt, ap);
        return;
    }
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    r = snprintf(line + n, sizeof(line) - n, ".%03ldZ %s[%d] %s: ",
                 (long)(tv.tv_usec / 1000), log_prog, (int)getpid(),
                 log_names[lvl]);
    if (r > 0)
        n += (size_t)r;
    r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    if (r > 0)
        n += (size_t)r;
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    /* One write per line keeps lines whole across threads. */
    if (write(STDERR_FILENO, line, n) < 0)
        return;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vmsg(lvl, fmt, ap);
    va_end(ap);
}
