/*
 * sim_printer.c - the simulated clock and each printer's Klipper/Moonraker
 * state machine (reference/moonraker.md 4-5, Klipper's virtual_sdcard and
 * print_stats).
 *
 * Nothing here runs on its own: a printer stores the instants at which its
 * job started, paused and so on, and sim_printer_update() works out what
 * happened since, so 10,000 printers cost memory only.
 */
#include "sim/sim.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#define SIM_LOCKS 64            /* striped: printer id % SIM_LOCKS */
#define SIM_AMBIENT 25.0f
#define SIM_EXT_TARGET 210.0f
#define SIM_BED_TARGET 60.0f
#define SIM_EXT_COOL 2.0        /* deg C per simulated second */
#define SIM_BED_COOL 0.25
#define SIM_FILAMENT_RATE 1.5   /* mm of filament per print second */
#define SIM_LAYER_SECONDS 30.0

/* Defaults; main.c overrides them from the command line. */
struct sim_config sim_cfg = {
    .printers = 10,
    .time_scale = 1.0,
    .print_seconds = 600.0,
    .heat_rate_ext = 8.0,
    .heat_rate_bed = 1.5,
    .restart_seconds = 2.0,
    .offline_period = 600.0,
    .offline_mode = SIM_OFF_DROP,
    .hang_ms = 60000,
    .max_upload = 1024ULL * 1024 * 1024,   /* Moonraker's default */
    .max_files = 100,
    .history_max = 100,
    .seed = 1,
};

struct sim_stats sim_stats;

static struct sim_printer *fleet;
static unsigned fleet_n;
static pthread_mutex_t fleet_locks[SIM_LOCKS];
static double clock_mono0, clock_unix0;
static int64_t clock_skip_us;   /* advanced simulated time, atomic */

static const char *const msg_ready = "Printer is ready";
static const char *const msg_startup = "Klipper is starting up";
static const char *const msg_disconnected = "Klippy Host not connected";

/* Messages a simulated job error can carry (Klipper's own wording). */
static const char *const job_errors[] = {
    "Move out of range: 235.000 117.500 0.300 [1204.380]",
    ("Extrude below minimum temp\n"
     "See the 'min_extrude_temp' config option for details"),
    "Must home axis first: 117.500 117.500 10.200 [0.000]",
};

static const char *const shutdown_msgs[] = {
    "MCU 'mcu' shutdown: Timer too close\n"
    "This often indicates the host computer is overloaded. Check\n"
    "for other processes consuming excessive CPU time, high swap\n"
    "usage, disk errors, overheating, unstable voltage, or\n"
    "similar system problems on the host computer.\n"
    "Once the underlying issue is corrected, use the\n"
    "\"FIRMWARE_RESTART\" command to reset the firmware, reload the\n"
    "config, and restart the host software.\n"
    "Printer is shutdown\n",
    "Heater extruder not heating at expected rate\n"
    "See the 'verify_heater' section in docs/Config_Reference.md\n"
    "for the parameters that control this check.\n"
    "Once the underlying issue is corrected, use the\n"
    "\"FIRMWARE_RESTART\" command to reset the firmware, reload the\n"
    "config, and restart the host software.\n"
    "Printer is shutdown\n",
};

/* ---------------------------------------------------------------- clock */

double sim_mono(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}


void sim_clock_init(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    clock_unix0 = (double)tv.tv_sec + tv.tv_usec / 1e6;
    clock_mono0 = sim_mono();
}

double sim_clock_now(void)
{
    int64_t skip = __atomic_load_n(&clock_skip_us, __ATOMIC_RELAXED);

    return (sim_mono() - clock_mono0) * sim_cfg.time_scale + skip / 1e6;
}

double sim_clock_unix(double t)
{
    return clock_unix0 + t;
}

void sim_clock_advance(double secs)
{
    if (secs > 0)
        __atomic_fetch_add(&clock_skip_us, (int64_t)(secs * 1e6),
                           __ATOMIC_RELAXED);
}

/* ---------------------------------------------------------------- fleet */

int sim_fleet_init(unsigned n)
{
    if (n < 1 || n > SIM_MAX_PRINTERS)
        return -1;
    fleet = calloc(n, sizeof(*fleet));
    if (!fleet)
        return -1;
    fleet_n = n;
    for (unsigned i = 0; i < SIM_LOCKS; i++)
        pthread_mutex_init(&fleet_locks[i], NULL);
    for (unsigned i = 0; i < n; i++) {
        struct sim_printer *p = &fleet[i];

        p->klippy = SIM_KLIPPY_READY;
        p->klippy_msg = msg_ready;
        p->message = "";
        p->ext_t0 = p->bed_t0 = SIM_AMBIENT;
        p->latency_ms = -1;
    }
    return 0;
}

static void printer_free(struct sim_printer *p)
{
    struct sim_file *f, *next;

    for (f = p->files; f; f = next) {
        next = f->next;
        free(f->path);
        free(f);
    }
    if (p->hist) {
        for (unsigned i = 0; i < p->hist_cap; i++)
            free(p->hist[i].filename);
        free(p->hist);
    }
    free(p->filename);
}

void sim_fleet_free(void)
{
    for (unsigned i = 0; i < fleet_n; i++)
        printer_free(&fleet[i]);
    free(fleet);
    fleet = NULL;
    fleet_n = 0;
}

struct sim_printer *sim_printer_get(unsigned id)
{
    if (id < 1 || id > fleet_n)
        return NULL;
    return &fleet[id - 1];
}

unsigned sim_printer_id(const struct sim_printer *p)
{
    return (unsigned)(p - fleet) + 1;
}

void sim_printer_lock(const struct sim_printer *p)
{
    pthread_mutex_lock(&fleet_locks[(size_t)(p - fleet) % SIM_LOCKS]);
}

void sim_printer_unlock(const struct sim_printer *p)
{
    pthread_mutex_unlock(&fleet_locks[(size_t)(p - fleet) % SIM_LOCKS]);
}

/* ---------------------------------------------------------------- names */

const char *sim_klippy_name(enum sim_klippy k)
{
    static const char *const n[] = { "ready", "startup", "shutdown",
                                     "disconnected" };
    return n[k];
}

const char *sim_pstate_name(enum sim_pstate s)
{
    static const char *const n[] = { "standby", "printing", "paused",
                                     "complete", "cancelled", "error" };
    return n[s];
}

const char *sim_jstatus_name(enum sim_jstatus s)
{
    static const char *const n[] = { "in_progress", "completed", "cancelled",
                                     "error", "klippy_shutdown",
                                     "klippy_disconnect" };
    return n[s];
}

/* splitmix64 finaliser: decorrelates seed and keys cheaply. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

double sim_rand(uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t x = mix64(sim_cfg.seed ^ mix64(a ^ mix64(b ^ mix64(c))));

    return (double)(x >> 11) / 9007199254740992.0;
}

/* -------------------------------------------------------------- heaters */

static float heater_temp(float t0, float target, double dt, double up,
                         double down)
{
    float goal = target > 0 ? target : SIM_AMBIENT;

    if (dt <= 0)
        return t0;
    if (t0 < goal)
        return fminf(goal, t0 + (float)(up * dt));
    return fmaxf(goal, t0 - (float)(down * dt));
}

static float ext_temp(const struct sim_printer *p, double t)
{
    return heater_temp(p->ext_t0, p->ext_target, t - p->heat_tc,
                       sim_cfg.heat_rate_ext, SIM_EXT_COOL);
}

static float bed_temp(const struct sim_printer *p, double t)
{
    return heater_temp(p->bed_t0, p->bed_target, t - p->heat_tc,
                       sim_cfg.heat_rate_bed, SIM_BED_COOL);
}

/* Sets both heater targets at simulated time t, keeping temperatures
 * continuous. */
static void heaters_set(struct sim_printer *p, double t, float ext, float bed)
{
    p->ext_t0 = ext_temp(p, t);
    p->bed_t0 = bed_temp(p, t);
    p->ext_target = ext;
    p->bed_target = bed;
    p->heat_tc = t;
}

/* -------------------------------------------------------------- history */

static struct sim_job *hist_newest(struct sim_printer *p)
{
    if (!p->hist_len)
        return NULL;
    return &p->hist[(p->hist_head + p->hist_cap - 1) % p->hist_cap];
}

const struct sim_job *sim_printer_job(const struct sim_printer *p, unsigned i)
{
    if (i >= p->hist_len)
        return NULL;
    return &p->hist[(p->hist_head + p->hist_cap - 1 - i) % p->hist_cap];
}

/* Makes room for one more entry: while the ring is full and below
 * history_max it doubles (most printers keep few jobs), else the oldest
 * entry is reused.  Returns 0 or -1 on no memory. */
static int hist_grow(struct sim_printer *p)
{
    struct sim_job *n;
    uint32_t cap;

    if (p->hist_len < p->hist_cap || p->hist_cap >= sim_cfg.history_max)
        return 0;
    cap = p->hist_cap ? p->hist_cap * 2 : 4;
    if (cap > sim_cfg.history_max)
        cap = sim_cfg.history_max;
    n = calloc(cap, sizeof(*n));
    if (!n)
        return -1;
    for (uint32_t i = 0; i < p->hist_len; i++)      /* oldest first */
        n[i] = p->hist[(p->hist_head + i) % p->hist_cap];
    free(p->hist);
    p->hist = n;
    p->hist_cap = cap;
    p->hist_head = p->hist_len;
    return 0;
}

/* Opens a history entry for the job just loaded; -1 on no memory. */
static int hist_open(struct sim_printer *p, double t, int api_key_user)
{
    struct sim_job *j;
    char *name;

    if (hist_grow(p) < 0)
        return -1;
    name = strdup(p->filename);
    if (!name)
        return -1;
    j = &p->hist[p->hist_head];
    free(j->filename);
    memset(j, 0, sizeof(*j));
    j->filename = name;
    j->id = p->job_seq;
    j->start = sim_clock_unix(t);
    j->status = SIM_JOB_IN_PROGRESS;
    j->api_key_user = (uint8_t)(api_key_user != 0);
    p->hist_head = (p->hist_head + 1) % p->hist_cap;
    if (p->hist_len < p->hist_cap)
        p->hist_len++;
    return 0;
}

static double active_at(const struct sim_printer *p, double t)
{
    if (p->pstate == SIM_PS_PRINTING)
        return p->run_acc + (t - p->run_since);
    return p->run_acc;
}

static double print_time(const struct sim_printer *p, double active)
{
    double pt = active - p->heat_time;

    if (pt < 0)
        return 0;
    return pt > p->need ? p->need : pt;
}

/* Closes the open history entry (if any) with status at time t. */
static void hist_close(struct sim_printer *p, enum sim_jstatus st, double t)
{
    struct sim_job *j = hist_newest(p);
    double pt;

    if (!j || j->status != SIM_JOB_IN_PROGRESS || j->id != p->job_seq)
        return;
    pt = print_time(p, active_at(p, t));
    j->status = (uint8_t)st;
    j->end = sim_clock_unix(t);
    j->print_duration = (float)pt;
    j->total_duration = (float)(t - p->job_start);
    j->filament_used = (float)(pt * SIM_FILAMENT_RATE);
    switch (st) {
    case SIM_JOB_COMPLETED: SIM_STAT_ADD(prints_completed, 1); break;
    case SIM_JOB_CANCELLED: SIM_STAT_ADD(prints_cancelled, 1); break;
    case SIM_JOB_ERROR: SIM_STAT_ADD(prints_failed, 1); break;
    case SIM_JOB_KLIPPY_SHUTDOWN: SIM_STAT_ADD(prints_shutdown, 1); break;
    case SIM_JOB_KLIPPY_DISCONNECT:
        SIM_STAT_ADD(prints_disconnected, 1);
        break;
    default: break;
    }
}

/* ---------------------------------------------------------- transitions */

/* Ends the running or paused job at t with print_stats state ps. */
static void job_end(struct sim_printer *p, double t, enum sim_pstate ps,
                    enum sim_jstatus js)
{
    hist_close(p, js, t);
    p->run_acc = active_at(p, t);
    p->pstate = (uint8_t)ps;
    p->job_end = t;
    heaters_set(p, t, 0, 0);
}

/* SDCARD_RESET_FILE and Klipper restart: print_stats back to standby. */
static void reset_file(struct sim_printer *p)
{
    free(p->filename);
    p->filename = NULL;
    p->file_size = 0;
    p->pstate = SIM_PS_STANDBY;
    p->message = "";
    p->run_acc = 0;
    p->need = p->heat_time = 0;
    p->fault = SIM_FAULT_NONE;
}

static void klippy_down(struct sim_printer *p, double t, const char *msg)
{
    if (p->pstate == SIM_PS_PRINTING || p->pstate == SIM_PS_PAUSED) {
        /* virtual_sdcard stops with the file open: print_stats "paused" */
        hist_close(p, SIM_JOB_KLIPPY_SHUTDOWN, t);
        p->run_acc = active_at(p, t);
        p->pstate = SIM_PS_PAUSED;
    }
    heaters_set(p, t, 0, 0);
    p->klippy = SIM_KLIPPY_SHUTDOWN;
    p->klippy_msg = msg;
    p->klippy_tc = t;
}

void sim_printer_update(struct sim_printer *p, double now)
{
    double fire, t;

    if (p->klippy == SIM_KLIPPY_STARTUP &&
        now >= p->klippy_tc + sim_cfg.restart_seconds) {
        p->klippy = SIM_KLIPPY_READY;
        p->klippy_msg = msg_ready;
        p->klippy_tc += sim_cfg.restart_seconds;
    }
    if (p->pstate != SIM_PS_PRINTING)
        return;
    fire = p->heat_time + (p->fault ? p->fault_at : p->need);
    if (active_at(p, now) < fire)
        return;
    t = p->run_since + (fire - p->run_acc);
    switch (p->fault) {
    case SIM_FAULT_ERROR:
        p->message = job_errors[p->job_seq % 3];
        job_end(p, t, SIM_PS_ERROR, SIM_JOB_ERROR);
        break;
    case SIM_FAULT_SHUTDOWN:
        klippy_down(p, t, shutdown_msgs[p->job_seq % 2]);
        break;
    default:
        job_end(p, t, SIM_PS_COMPLETE, SIM_JOB_COMPLETED);
        break;
    }
}

int sim_printer_offline(const struct sim_printer *p, double now)
{
    double slot;

    if (p->net == SIM_NET_OFFLINE)
        return p->offmode;
    if (p->net == SIM_NET_ONLINE || sim_cfg.offline_rate <= 0)
        return -1;
    slot = floor(now / sim_cfg.offline_period);
    if (sim_rand(sim_printer_id(p), (uint64_t)slot, 0x0ff11e) <
        sim_cfg.offline_rate)
        return sim_cfg.offline_mode;
    return -1;
}

/* Decides the fate of job p->job_seq: forced by fail-next, else random. */
static void job_fate(struct sim_printer *p)
{
    uint64_t id = sim_printer_id(p), seq = p->job_seq;
    double at = 0.05 + 0.9 * sim_rand(id, seq, 2);

    p->fault = SIM_FAULT_NONE;
    if (p->fail_next != SIM_FAULT_NONE) {
        p->fault = p->fail_next;
        if (p->fail_next_at >= 0)
            at = p->fail_next_at;
        p->fail_next = SIM_FAULT_NONE;
    } else if (sim_rand(id, seq, 1) < sim_cfg.fail_rate) {
        p->fault = SIM_FAULT_ERROR;
    } else if (sim_rand(id, seq, 3) < sim_cfg.shutdown_rate) {
        p->fault = SIM_FAULT_SHUTDOWN;
    }
    p->fault_at = (float)(at * p->need);
}

enum sim_rc sim_printer_start(struct sim_printer *p, const char *filename,
                              double now, int api_key_user)
{
    struct sim_file *f;
    double he, hb;

    sim_printer_update(p, now);
    if (p->klippy == SIM_KLIPPY_DISCONNECTED)
        return SIM_E_KLIPPY_DOWN;
    if (p->klippy != SIM_KLIPPY_READY)
        return SIM_E_NOT_READY;
    if (p->pstate == SIM_PS_PRINTING)
        return SIM_E_BUSY;
    if (p->pstate == SIM_PS_PAUSED) {
        /* Klipper replaces a paused job; Moonraker records it as error */
        hist_close(p, SIM_JOB_ERROR, now);
        SIM_STAT_ADD(prints_replaced, 1);
    }
    reset_file(p);
    while (*filename == '/')
        filename++;
    f = sim_printer_file_find(p, SIM_ROOT_GCODES, filename);
    if (!f)
        return SIM_E_NO_FILE;
    p->filename = strdup(f->path);
    if (!p->filename)
        return SIM_E_NOMEM;
    p->job_seq++;
    if (hist_open(p, now, api_key_user) < 0) {
        reset_file(p);
        return SIM_E_NOMEM;
    }
    p->file_size = f->size;
    p->need = f->need;
    job_fate(p);
    heaters_set(p, now, SIM_EXT_TARGET, SIM_BED_TARGET);
    he = (SIM_EXT_TARGET - p->ext_t0) / sim_cfg.heat_rate_ext;
    hb = (SIM_BED_TARGET - p->bed_t0) / sim_cfg.heat_rate_bed;
    p->heat_time = (float)fmax(0, fmax(he, hb));
    p->pstate = SIM_PS_PRINTING;
    p->job_start = p->run_since = now;
    p->run_acc = 0;
    f->last_job = p->job_seq;
    f->last_start = sim_clock_unix(now);
    p->n_starts++;
    SIM_STAT_ADD(prints_started, 1);
    return SIM_OK;
}

static enum sim_rc klippy_gate(struct sim_printer *p, double now)
{
    sim_printer_update(p, now);
    if (p->klippy == SIM_KLIPPY_DISCONNECTED)
        return SIM_E_KLIPPY_DOWN;
    if (p->klippy != SIM_KLIPPY_READY)
        return SIM_E_NOT_READY;
    return SIM_OK;
}

enum sim_rc sim_printer_pause(struct sim_printer *p, double now)
{
    enum sim_rc rc = klippy_gate(p, now);

    if (rc == SIM_OK && p->pstate == SIM_PS_PRINTING) {
        p->run_acc = active_at(p, now);
        p->pstate = SIM_PS_PAUSED;
    }
    return rc;
}

enum sim_rc sim_printer_resume(struct sim_printer *p, double now)
{
    enum sim_rc rc = klippy_gate(p, now);

    if (rc == SIM_OK && p->pstate == SIM_PS_PAUSED) {
        p->run_since = now;
        p->pstate = SIM_PS_PRINTING;
    }
    return rc;
}

enum sim_rc sim_printer_cancel(struct sim_printer *p, double now)
{
    enum sim_rc rc = klippy_gate(p, now);

    if (rc == SIM_OK &&
        (p->pstate == SIM_PS_PRINTING || p->pstate == SIM_PS_PAUSED)) {
        job_end(p, now, SIM_PS_CANCELLED, SIM_JOB_CANCELLED);
        p->file_size = 0;       /* virtual_sdcard closes the file */
    }
    return rc;
}

enum sim_rc sim_printer_shutdown(struct sim_printer *p, double now,
                                 const char *msg)
{
    sim_printer_update(p, now);
    if (p->klippy == SIM_KLIPPY_DISCONNECTED)
        return SIM_E_KLIPPY_DOWN;
    klippy_down(p, now, msg ? msg : shutdown_msgs[0]);
    return SIM_OK;
}

/* Klippy goes away and comes back as a fresh process. */
static void klippy_fresh(struct sim_printer *p, double now,
                         enum sim_klippy k, const char *msg)
{
    if (p->pstate == SIM_PS_PRINTING || p->pstate == SIM_PS_PAUSED)
        job_end(p, now, SIM_PS_STANDBY, SIM_JOB_KLIPPY_DISCONNECT);
    reset_file(p);
    heaters_set(p, now, 0, 0);
    p->klippy = (uint8_t)k;
    p->klippy_msg = msg;
    p->klippy_tc = now;
}

enum sim_rc sim_printer_restart(struct sim_printer *p, double now)
{
    sim_printer_update(p, now);
    if (p->klippy == SIM_KLIPPY_DISCONNECTED)
        return SIM_E_KLIPPY_DOWN;
    klippy_fresh(p, now, SIM_KLIPPY_STARTUP, msg_startup);
    return SIM_OK;
}

void sim_printer_disconnect(struct sim_printer *p, double now)
{
    sim_printer_update(p, now);
    if (p->klippy != SIM_KLIPPY_DISCONNECTED)
        klippy_fresh(p, now, SIM_KLIPPY_DISCONNECTED, msg_disconnected);
}

void sim_printer_connect(struct sim_printer *p, double now)
{
    sim_printer_update(p, now);
    if (p->klippy == SIM_KLIPPY_DISCONNECTED)
        klippy_fresh(p, now, SIM_KLIPPY_STARTUP, msg_startup);
}

enum sim_rc sim_printer_eject(struct sim_printer *p, double now)
{
    sim_printer_update(p, now);
    if (p->pstate == SIM_PS_PRINTING || p->pstate == SIM_PS_PAUSED)
        return SIM_E_BUSY;
    reset_file(p);
    return SIM_OK;
}

/* ----------------------------------------------------------------- snap */

void sim_printer_snap(struct sim_printer *p, double now, struct sim_snap *s)
{
    double active, pt, frac;

    sim_printer_update(p, now);
    memset(s, 0, sizeof(*s));
    s->id = sim_printer_id(p);
    s->klippy = (enum sim_klippy)p->klippy;
    s->pstate = (enum sim_pstate)p->pstate;
    s->filename = p->filename ? p->filename : "";
    s->message = p->message;
    s->klippy_msg = p->klippy_msg;
    s->eventtime = now + 100.0;         /* Klipper's monotonic clock */
    active = active_at(p, now);
    pt = print_time(p, active);
    frac = p->need > 0 ? pt / p->need : 0;
    s->print_duration = pt;
    s->filament_used = pt * SIM_FILAMENT_RATE;
    s->current_layer = s->total_layer = -1;
    if (p->pstate != SIM_PS_STANDBY) {
        int total = (int)ceil(p->need / SIM_LAYER_SECONDS);

        s->total_duration = (p->pstate == SIM_PS_PRINTING ||
                             p->pstate == SIM_PS_PAUSED ?
                             now : p->job_end) - p->job_start;
        s->total_layer = total < 1 ? 1 : total;
        s->current_layer = (int)ceil(frac * s->total_layer);
    }
    s->file_size = p->file_size;
    /* virtual_sdcard closes the file at its end and on cancel */
    s->file_open = p->pstate == SIM_PS_PRINTING ||
                   p->pstate == SIM_PS_PAUSED || p->pstate == SIM_PS_ERROR;
    s->progress = p->file_size ? frac : 0;
    s->file_position = (uint64_t)(frac * (double)p->file_size);
    s->is_active = p->pstate == SIM_PS_PRINTING;
    s->ext_temp = ext_temp(p, now);
    s->bed_temp = bed_temp(p, now);
    s->ext_target = p->ext_target;
    s->bed_target = p->bed_target;
    s->ext_power = p->ext_target <= 0 ? 0 :
                   (s->ext_temp < p->ext_target - 1 ? 1.0 : 0.35);
    s->bed_power = p->bed_target <= 0 ? 0 :
                   (s->bed_temp < p->bed_target - 1 ? 1.0 : 0.25);
}

/* ---------------------------------------------------------------- files */

struct sim_file *sim_printer_file_find(struct sim_printer *p,
                                       enum sim_root root, const char *path)
{
    for (struct sim_file *f = p->files; f; f = f->next)
        if (f->root == root && strcmp(f->path, path) == 0)
            return f;
    return NULL;
}

int sim_printer_file_in_use(const struct sim_printer *p, const char *path)
{
    return p->filename && strcmp(p->filename, path) == 0 &&
           (p->pstate == SIM_PS_PRINTING || p->pstate == SIM_PS_PAUSED);
}

/* Drops the oldest file that is not in use, to keep max_files. */
static void files_evict(struct sim_printer *p)
{
    struct sim_file **pp, **victim = NULL, *f;

    for (pp = &p->files; *pp; pp = &(*pp)->next)
        if (!sim_printer_file_in_use(p, (*pp)->path))
            victim = pp;
    if (!victim)
        return;
    f = *victim;
    *victim = f->next;
    free(f->path);
    free(f);
    p->n_files--;
}

struct sim_file *sim_printer_file_put(struct sim_printer *p, enum sim_root root,
                                      const char *path, uint64_t size,
                                      const uint8_t sha256[32], double now,
                                      int *created)
{
    struct sim_file *f = sim_printer_file_find(p, root, path);
    uint64_t key;

    *created = f == NULL;
    if (!f) {
        if (p->n_files >= sim_cfg.max_files)
            files_evict(p);
        f = calloc(1, sizeof(*f));
        if (!f)
            return NULL;
        f->path = strdup(path);
        if (!f->path) {
            free(f);
            return NULL;
        }
        f->root = (uint8_t)root;
        f->next = p->files;
        p->files = f;
        p->n_files++;
    }
    f->size = size;
    f->modified = sim_clock_unix(now);
    memcpy(f->sha256, sha256, 32);
    memcpy(&key, sha256, sizeof(key));
    f->need = (float)(sim_cfg.print_seconds *
                      (1.0 + sim_cfg.jitter *
                       (2.0 * sim_rand(sim_printer_id(p), key, 4) - 1.0)));
    if (f->need < 1)
        f->need = 1;
    return f;
}

enum sim_rc sim_printer_file_delete(struct sim_printer *p, enum sim_root root,
                                    const char *path)
{
    struct sim_file **pp, *f;

    for (pp = &p->files; *pp; pp = &(*pp)->next) {
        f = *pp;
        if (f->root != root || strcmp(f->path, path) != 0)
            continue;
        if (root == SIM_ROOT_GCODES && sim_printer_file_in_use(p, path))
            return SIM_E_BUSY;
        *pp = f->next;
        free(f->path);
        free(f);
        p->n_files--;
        return SIM_OK;
    }
    return SIM_E_NO_FILE;
}
