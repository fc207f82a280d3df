/*
 * progress.c - the progress bar and the "waiting" spinner on stderr.
 *
 *   cube.stl              45% [█████████▌          ] 4.50/10.0 MiB  1.20 MiB/s  eta 0:05
 *   ⠹ waiting for slic3r  0:12
 *
 * Drawn only on a terminal, at most ten times a second, and not at all
 * for transfers or waits that end within 0.3 s.
 */
#include "cli/cli.h"

#include <langinfo.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "common/util.h"

#define PROG_INTERVAL_MS 100
#define SAMPLE_MS 250         /* spacing of rate samples */
#define QUIET_MS 300          /* transfers shorter than this draw nothing */
#define LABEL_COLS 20
#define BAR_MIN 8
#define BAR_MAX 40

/* A bounded line builder that also counts terminal columns. */
struct line {
    char *buf;
    size_t len, cap;
    int cols;
};

static void line_add(struct line *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int utf8_cols(const char *s, size_t n)
{
    int cols = 0;

    for (size_t i = 0; i < n; i++) {
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            cols++;
    }
    return cols;
}

static void line_add(struct line *l, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (l->len + 1 >= l->cap)
        return;
    va_start(ap, fmt);
    n = vsnprintf(l->buf + l->len, l->cap - l->len, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= l->cap - l->len)
        n = (int)(l->cap - l->len - 1);
    l->cols += utf8_cols(l->buf + l->len, (size_t)n);
    l->len += (size_t)n;
}

static const char *const unit_names[] = { "B", "KiB", "MiB", "GiB", "TiB" };

static int unit_of(double bytes)
{
    int u = 0;

    while (bytes >= 1000 && u < 4) { /* 1000: keep to three digits */
        bytes /= 1024;
        u++;
    }
    return u;
}

/* v in unit u with three significant digits: 1.23, 12.3, 123. */
static void fmt_num(char *buf, size_t len, double bytes, int u)
{
    double v = bytes;

    for (int i = 0; i < u; i++)
        v /= 1024;
    if (u == 0 || v >= 99.95)
        snprintf(buf, len, "%.0f", v);
    else if (v >= 9.995)
        snprintf(buf, len, "%.1f", v);
    else
        snprintf(buf, len, "%.2f", v);
}

void cli_prog_size(char *buf, size_t len, double bytes)
{
    char num[32];
    int u = unit_of(bytes);

    fmt_num(num, sizeof(num), bytes, u);
    snprintf(buf, len, "%s %s", num, unit_names[u]);
}

static void fmt_time(char *buf, size_t len, double secs)
{
    long s = secs < 0 ? 0 : (long)(secs + 0.5);

    if (s >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(buf, len, "%ld:%02ld", s / 60, s % 60);
}

/* The label cut to LABEL_COLS columns, padded so bars line up. */
static void add_label(struct line *l, const char *label)
{
    size_t n = strlen(label), cut;
    int cols = utf8_cols(label, n), c = 0;

    if (cols <= LABEL_COLS) {
        line_add(l, "%s%*s", label, LABEL_COLS - cols, "");
        return;
    }
    /* keep the first LABEL_COLS-1 characters, then "~" */
    for (cut = 0; cut < n; cut++) {
        if (((unsigned char)label[cut] & 0xc0) != 0x80 && ++c > LABEL_COLS - 1)
            break;
    }
    line_add(l, "%.*s~", (int)cut, label);
}

static void add_bar(struct line *l, int cols, int utf8, long long done,
                    long long total)
{
    /* U+258F..U+2589: one to seven eighths of a block */
    static const char *const eighths[] = { "", "▏", "▎", "▍", "▌",
                                           "▋", "▊", "▉" };
    long long units = total > 0 ? done * cols * 8 / total : 0;
    int full = (int)(units / 8), part = (int)(units % 8), i;

    if (full >= cols) {
        full = cols;
        part = 0;
    }
    line_add(l, " [");
    for (i = 0; i < full; i++)
        line_add(l, "%s", utf8 ? "█" : "=");
    if (i < cols && done < total) {
        line_add(l, "%s", utf8 ? (part ? eighths[part] : " ") : ">");
        i++;
    }
    for (; i < cols; i++)
        line_add(l, " ");
    line_add(l, "]");
}

void cli_prog_format(char *buf, size_t len, int width, int utf8,
                     const char *label, long long done, long long total,
                     double rate, double elapsed)
{
    struct line head = { buf, 0, len, 0 };
    char tail_buf[160], a[32], b[32], tm[40], sizes[80], rt[32];
    struct line tail = { tail_buf, 0, sizeof(tail_buf), 0 };
    int bar, u;

    if (len == 0)
        return;
    buf[0] = '\0';
    /* fixed-width fields, so the bar keeps its length */
    if (total > 0) {
        u = unit_of((double)total);
        fmt_num(a, sizeof(a), (double)done, u);
        fmt_num(b, sizeof(b), (double)total, u);
        snprintf(sizes, sizeof(sizes), "%s/%s %s", a, b, unit_names[u]);
    } else {
        cli_prog_size(sizes, sizeof(sizes), (double)done);
    }
    cli_prog_size(rt, sizeof(rt), rate);
    if (total > 0 && done < total && rate > 0) {
        fmt_time(a, sizeof(a), (double)(total - done) / rate);
        snprintf(tm, sizeof(tm), "eta %s", a);
    } else {
        fmt_time(tm, sizeof(tm), elapsed);
    }
    line_add(&tail, " %13s  %8s/s  %-8s", sizes, rt, tm);
    add_label(&head, label);
    if (total > 0) {
        int pct = (int)(done * 100 / total);

        line_add(&head, " %3d%%", pct > 100 ? 100 : pct);
        bar = width - 1 - head.cols - 3 - tail.cols;
        if (bar > BAR_MAX)
            bar = BAR_MAX;
        if (bar >= BAR_MIN)
            add_bar(&head, bar, utf8, done, total);
    }
    if (head.cols + tail.cols < width)
        line_add(&head, "%s", tail_buf);
}

static int term_width(void)
{
    struct winsize ws;
    const char *env = getenv("COLUMNS");
    int w = 80;

    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        w = ws.ws_col;
    else if (env && atoi(env) > 0)
        w = atoi(env);
    return w < 40 ? 40 : (w > 200 ? 200 : w);
}

static void draw(struct cli_prog *p, const char *line)
{
    /* \r, the line, erase to the end: one write so lines stay whole */
    fprintf(stderr, "\r%s\033[K", line);
    fflush(stderr);
    p->drawn = 1;
}

void cli_prog_init(struct cli_prog *p, int enabled)
{
    const char *cs = nl_langinfo(CODESET);

    memset(p, 0, sizeof(*p));
    p->enabled = enabled;
    p->utf8 = cs && !strcmp(cs, "UTF-8");
}

void cli_prog_start(struct cli_prog *p, const char *label)
{
    cli_prog_end(p);
    snprintf(p->label, sizeof(p->label), "%s", label);
    cli_out_sanitize(p->label, strlen(p->label));
    p->phase = 1;
    p->start_ms = rr_mono_ms();
    p->last_ms = 0;
    p->nsamples = 0;
}

/* Records a sample; returns bytes/s over the samples kept. */
static double sample_rate(struct cli_prog *p, long long now, long long done)
{
    unsigned last = (p->nsamples - 1) % CLI_PROG_SAMPLES, first;
    double secs;

    if (p->nsamples == 0 || now - p->sample_ms[last] >= SAMPLE_MS) {
        unsigned i = p->nsamples++ % CLI_PROG_SAMPLES;

        p->sample_ms[i] = now;
        p->sample_bytes[i] = done;
    }
    if (p->nsamples < 2) /* too early: the average so far */
        return now > p->start_ms ? (double)done * 1000.0 /
                                   (double)(now - p->start_ms) : 0;
    first = p->nsamples > CLI_PROG_SAMPLES ? p->nsamples % CLI_PROG_SAMPLES
                                           : 0;
    secs = (double)(now - p->sample_ms[first]) / 1000.0;
    return secs > 0 ? (double)(done - p->sample_bytes[first]) / secs : 0;
}

void cli_prog_bar(struct cli_prog *p, long long done, long long total,
                  int force)
{
    long long now = rr_mono_ms();
    double elapsed, rate;
    char line[512];

    if (!p->enabled || p->phase != 1)
        return;
    rate = sample_rate(p, now, done);
    if (now - p->start_ms < QUIET_MS && !p->drawn)
        return; /* a quick transfer leaves no line behind */
    if (!force && now - p->last_ms < PROG_INTERVAL_MS)
        return;
    p->last_ms = now;
    elapsed = (double)(now - p->start_ms) / 1000.0;
    if (total > 0 && done >= total) /* the final line: the average */
        rate = elapsed > 0 ? (double)done / elapsed : 0;
    cli_prog_format(line, sizeof(line), term_width(), p->utf8, p->label,
                    done, total, rate, elapsed);
    draw(p, line);
}

void cli_prog_wait(struct cli_prog *p, const char *what)
{
    static const char *const spin_utf8[] = { "⠋", "⠙", "⠹", "⠸", "⠼",
                                             "⠴", "⠦", "⠧", "⠇", "⠏" };
    static const char spin_ascii[] = "|/-\\";
    long long now = rr_mono_ms();
    char line[256], tm[32], ascii[2];

    if (!p->enabled)
        return;
    if (p->phase != 2) {
        cli_prog_end(p);
        p->phase = 2;
        p->start_ms = now;
        p->last_ms = 0;
        if (strcmp(p->wait_what, what) != 0) {
            snprintf(p->wait_what, sizeof(p->wait_what), "%s", what);
            p->wait_start_ms = now;
        }
    }
    if (now - p->last_ms < PROG_INTERVAL_MS || now - p->wait_start_ms <
        QUIET_MS)
        return; /* short waits leave no flicker */
    p->last_ms = now;
    p->spin++;
    fmt_time(tm, sizeof(tm), (double)(now - p->wait_start_ms) / 1000.0);
    ascii[0] = spin_ascii[p->spin % 4];
    ascii[1] = '\0';
    snprintf(line, sizeof(line), "%s %s  %s",
             p->utf8 ? spin_utf8[p->spin % 10] : ascii, what, tm);
    cli_out_sanitize(line, strlen(line));
    draw(p, line);
}

void cli_prog_end(struct cli_prog *p)
{
    if (p->drawn) {
        fputs(p->phase == 1 ? "\n" : "\r\033[K", stderr);
        fflush(stderr);
    }
    p->drawn = 0;
    p->phase = 0;
}
