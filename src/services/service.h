/*
 * service.h - service definitions (services/NAME.conf), the checks every
 * client value passes before it may reach a command line, and argv building.
 *
 * A service is one file services/NAME.conf in RepRapCloud's key = value form
 * (common/kv.h).  NAME is the file name up to the first dot and must match
 * [a-z0-9_-]{1,64}; info, status, meta and kill are reserved.  Unknown or
 * repeated keys are errors, so a typo cannot silently weaken a service.
 *
 * RepRapCloud keys:
 *   path        PATH for the command (default /usr/local/bin:/usr/bin:/bin);
 *               colon-separated absolute directories.
 *   cmd         program and fixed arguments, split on blanks (required).
 *               "$confDir" in a word becomes the absolute directory of the
 *               .conf file, for support files (curaengine's definition).
 *   argInput    the one allowed extra-input prefix, e.g. "--load=$fileIn";
 *               preargN must equal it minus "$fileIn" (else an error, where
 *               RepRapCloud silently dropped the file), and then fileInN is
 *               passed as "--load=<file>".  Or a flag word and $fileIn,
 *               "-j $fileIn" (CuraEngine's): prearg "-j", passed as two
 *               words, "-j" "<file>".
 *   fileOut     output file name; "$id" becomes the task id (default $id).
 *   output      output argument template, e.g. "--output=$fileOut" or
 *               "-o $fileOut": split on blanks into argv words (RepRapCloud
 *               passed it as one word), then "$fileOut" is replaced in each
 *               word (default "$fileOut").
 *   noOutput    yes/no: the command writes no output file (printrun).
 *   nativeArgs  RepRapCloud's comma list of accepted switches/prefixes; each
 *               item X is accepted like an options pattern "X*".
 * Our extensions:
 *   description one line for the meta listing.
 *   inputTypes  accepted upload extensions, comma separated ("stl,obj,3mf");
 *               each maps to a filetype class (services/filetype.h).  Files
 *               of class config (ini, conf, cfg) are accepted only with a
 *               prearg (argInput), and other files only without one.
 *   inputMin, inputMax   how many fileInN a task takes (default 1 and 1).
 *   options     client options allowed, comma-separated fnmatch(3) patterns
 *               matched with FNM_PATHNAME (a '*' never spans '/'), e.g.
 *               "--layer-height=*, --fill-density=*"; every value must also
 *               pass service_check_value().
 *   optionFlag  a word put before every client option (CuraEngine's "-s"
 *               key=value takes two words).
 *   inputFlag   a word put before every input given without prearg
 *               (CuraEngine's "-l model.stl").
 *   timeout     wall-clock limit, seconds or with unit s/m/h/d; 0 or absent
 *               = rrcloud.conf's default_timeout.
 *   maxOutput   RLIMIT_FSIZE: largest file the command may write, size with
 *               K/M/G (it also caps the log when the runner writes stdout to
 *               a file).
 *               Absent: 1G; 0: no limit.
 *   maxMemory   RLIMIT_AS, size (absent: 4G; 0: no limit); maxCpu
 *               RLIMIT_CPU, duration (absent or 0: none); maxProcs
 *               RLIMIT_NPROC (counts all processes of the command's user:
 *               set only when commands run as the sandbox user, default
 *               512 then, for all running tasks together).
 *   nice        the command's niceness, 0-19 (absent: 10); never below
 *               rrcloudd's own.
 *   sandboxRead  absolute paths ("$confDir" allowed) the command may also
 *               read and execute (daemon/sandbox.h has what every command
 *               may read).
 *   sandboxWrite absolute paths it may also write.
 *   sandboxDevice fnmatch(3) patterns (FNM_PATHNAME) of devices: an argv
 *               word matching one (printrun's /dev/ttyUSB0) is opened
 *               read-write, and nothing else under /dev.
 *   sandboxNetwork yes/no: the command may open sockets and TCP
 *               connections (default no).
 *   rerun       yes/no: may a task that was busy when rrcloudd died be run
 *               again (default no; printrun must never send G-code twice).
 *   requireOption  comma-separated fnmatch(3) patterns (FNM_PATHNAME):
 *               a task must carry at least one client option matching one
 *               of them, else it is refused at submit (printrun's port).
 *   failLog     comma-separated fnmatch(3) patterns (no flags: '*' spans
 *               '/', blanks allowed) for lines of the command's log (stdout
 *               and stderr; a line ends at LF or CR): a command that exits
 *               0 but logged a matching line has failed, with that line as
 *               the reason (printcore exits 0 when it cannot open the port).
 *   type        run (default) or print: a print service's tasks become
 *               fleet print jobs (fields queue, copies, material, colour,
 *               priority, printer, profile) and its cmd is never run.
 *   slicer      yes/no: the command is a Slic3r-family slicer (for a
 *               wrapper whose name does not say so).  A service whose cmd
 *               has a word whose last path part holds "slic3r", "slicer"
 *               or "bambu" (any case) is one regardless.  A slicer
 *               service must force --post-process=VALUE (or
 *               "--post-process VALUE") in cmd, and no options pattern may
 *               let a client give --post-process or --post_process: the
 *               slicer would run a post_process from an uploaded config or
 *               3MF (svc_check_slicer; the registry refuses to load).
 *
 * argv = cmd words
 *      + for each accepted option: [optionFlag] option
 *      + for each input N: prearg ? argInput with $fileIn = file (or
 *                                   the prearg word, then file)
 *                                 : [inputFlag] file
 *      + unless noOutput: output words with $fileOut = output file name.
 * Everything is one argv vector for execve; no shell ever sees it.  Input
 * and output names are relative to the task directory, where the runner
 * chdirs before exec with PATH = path.
 */
#ifndef RR_SERVICE_H
#define RR_SERVICE_H

#include <stddef.h>

#include "services/filetype.h"

#define SERVICE_NAME_MAX 64
#define SERVICE_INPUT_MAX 16        /* hard cap on inputMax */
#define SERVICE_OPTION_MAX 64       /* hard cap on options in one task */
#define SERVICE_VALUE_MAX 1024      /* longest value that may reach argv */
#define SERVICE_EXT_MAX 10          /* longest upload extension */

struct service_input_type {
    char ext[SERVICE_EXT_MAX + 1];  /* lowercase, no dot */
    enum filetype_class cls;
};

/* One parsed service.  The registry owns every pointer in it. */
/* Commands run at this niceness unless their conf says otherwise: a
 * slicer or a render then leaves the CPU to rrcloud-fcgi and rrcloudd
 * when they need it. */
#define SERVICE_DEFAULT_NICE 10

struct service {
    char *name;
    char *file;                 /* the .conf path as loaded */
    char *description;          /* "" if absent */
    char *path;
    char *cmd;                  /* as written, for display */
    char **cmd_argv;            /* split, $confDir substituted; NULL-ended */
    char *arg_input;            /* NULL if none */
    char *prearg;               /* arg_input minus "$fileIn", or NULL
                                   (minus " $fileIn" when split) */
    int arg_input_split;        /* argInput is "WORD $fileIn": two words */
    char *file_out;
    char *output;
    int no_output;
    char **options;             /* patterns, from options and nativeArgs */
    size_t n_options;
    char **require_option;      /* NULL-ended patterns, or NULL */
    char *fail_log;             /* failLog as written, or NULL */
    char *option_flag;          /* NULL if none */
    char *input_flag;           /* NULL if none */
    struct service_input_type *input_types;
    size_t n_input_types;
    unsigned input_min, input_max;
    long long timeout;          /* seconds, 0 = default_timeout */
    unsigned long long max_output, max_memory;  /* bytes, 0 = default */
    long long max_cpu;          /* seconds, 0 = default */
    long max_procs;             /* 0 = not set */
    int nice;                   /* the command's niceness, 0-19 */
    int rerun;
    char **sandbox_read;        /* NULL-ended absolute paths, or NULL */
    char **sandbox_write;       /* NULL-ended absolute paths, or NULL */
    char **sandbox_device;      /* NULL-ended fnmatch patterns, or NULL */
    int sandbox_network;        /* sandboxNetwork = yes */
    int kind;                   /* fleet: SERVICE_KIND_RUN, or
                                   SERVICE_KIND_PRINT for "type = print" */
    int slicer;                 /* "slicer = yes" (a cmd word naming a
                                   slicer makes it one anyway) */
};

/* fleet: "type = print" makes a service whose tasks are fleet print jobs
 * (fcgi/fleet_print.c): the task is a TASK_KIND_PRINT row with a job, and
 * rrcloudd never runs its cmd. */
enum { SERVICE_KIND_RUN = 0, SERVICE_KIND_PRINT = 1 };

/* A loaded registry is never modified, so threads may share it. */
struct service_registry;

/* Loads every *.conf in dir (other files and dot files are ignored).
 * Returns the registry, or NULL with err naming the file and line, e.g.
 * "services/x.conf: line 3: unknown key 'timout'".  A directory without any
 * service is an error too.  Free with service_registry_free(). */
struct service_registry *service_registry_load(const char *dir, char *err,
                                               size_t errlen);
/* A registry of the one service file fname (NAME.conf) whose text is
 * buf[0..len), checked as service_registry_load() checks it; $confDir is
 * confdir.  For the tests and the fuzzer. */
struct service_registry *service_registry_parse(const char *fname,
                                                const char *confdir,
                                                const char *buf, size_t len,
                                                char *err, size_t errlen);

/* Frees the registry and every service in it; NULL is a no-op. */
void service_registry_free(struct service_registry *reg);

/* The service called name, or NULL.  Safe with any client string. */
const struct service *service_find(const struct service_registry *reg,
                                   const char *name);

/* Iteration in name order: service_at(reg, i) for i < service_count(reg). */
size_t service_count(const struct service_registry *reg);
const struct service *service_at(const struct service_registry *reg, size_t i);

/* Writes "echo,openscad,slic3r" (sorted) to buf.  Returns 0, or -1 if buf
 * is too small (buf then holds a truncated list). */
int service_names_csv(const struct service_registry *reg, char *buf, size_t len);

/* ---- checks of client values (the HTTP layer calls these first) -------
 * Each returns 0 if acceptable, else -1 with a message naming field. */

/* A value that may reach argv: 1..SERVICE_VALUE_MAX bytes of printable
 * ASCII without blanks, shell metacharacters  ; | & $ ` < > \ " ' ( ) { }
 * [ ] * ? ~ ! #  and without a ".." component (separators / = , :).
 * "arg0: character ';' not allowed".  The n variant also catches NUL bytes
 * inside len. */
int service_check_value(const char *field, const char *value,
                        char *err, size_t errlen);
int service_check_valuen(const char *field, const char *value, size_t len,
                         char *err, size_t errlen);

/* A client option (argN value or nativeArgs item): passes
 * service_check_value, matches one of s->options, and does not end in '='
 * (prusa-slicer takes the next argv word as the value of "--key="). */
int service_check_option(const struct service *s, const char *field,
                         const char *value, char *err, size_t errlen);

/* requireOption: one of the n options (all already checked) matches one
 * of s->require_option, or the service requires none.  Else -1 with
 * "arg0: service printrun needs an option matching /dev/ttyUSB* or
 * /dev/ttyACM*", field naming where the option would go. */
int service_check_required(const struct service *s, const char *field,
                           const char *const *options, size_t n,
                           char *err, size_t errlen);

/* failLog: the first line of the log at path that matches one of the
 * patterns in fail_log (the conf value, comma-separated) goes to line,
 * control bytes shown as '?', cut to len - 1 bytes; lines are matched on
 * their first SERVICE_LOG_LINE_MAX bytes.  Returns 1 if one matched, 0 if
 * none, -1 if the log cannot be read or out of memory. */
#define SERVICE_LOG_LINE_MAX 1024
int service_log_match(const char *fail_log, const char *path,
                      char *line, size_t len);

/* The last line of the log at path with anything in it (of its last
 * 4 KiB), control bytes shown as '?', cut to len - 1 bytes: what a failed
 * command said last ("read /etc/passwd: Permission denied").  Returns 1
 * with it, 0 if there is none, -1 if the log cannot be read. */
int service_log_last(const char *path, char *line, size_t len);

/* preargN for input idx: must equal argInput minus "$fileIn". */
int service_check_prearg(const struct service *s, int idx, const char *value,
                         char *err, size_t errlen);

/* A client-supplied upload file name: 1..255 bytes, valid UTF-8, no '/',
 * '\\', "..", control bytes, no leading '.' or '-'.  The name itself never
 * reaches the disk (inputs are stored as inN.ext); these are its limits. */
int service_check_name(const char *field, const char *filename,
                       char *err, size_t errlen);
/* service_check_name, and an extension of 1..10 [A-Za-z0-9]. */
int service_check_filename(const char *field, const char *filename,
                           char *err, size_t errlen);

/* The lowercase extension of filename (after the last dot) into ext.
 * Returns 0, or -1 if there is none, it is longer than SERVICE_EXT_MAX or
 * extlen is too small, or it has other than [A-Za-z0-9]. */
int service_input_ext(const char *filename, char *ext, size_t extlen);

/* Input idx with extension ext (lowercase): is the type accepted by s, and
 * does a config file come with a prearg and a model without?  Returns 0 or
 * -1: "fileIn0: .png not accepted by openscad (accepted: scad)". */
int service_check_input(const struct service *s, int idx, const char *ext,
                        int has_prearg, char *err, size_t errlen);

/* For an input whose type no file name extension tells (inline content, a
 * form field without file name; an upload whose name has no extension, as
 * RepRapCloud's client sends text from its command line): the first of s's
 * inputTypes whose content check (filetype_check with ft, path, head, size)
 * the data passes, among the config types when it comes with a prearg and
 * among the others when not.  Returns 0 with that extension in ext, or -1
 * with err (not naming the field): "without a file name extension, and the
 * content (image/png) fits none of the input types echo takes: txt, stl". */
int service_sniff_ext(const struct service *s, struct filetype *ft,
                      int has_prearg, const char *path,
                      const unsigned char *head, size_t headlen,
                      unsigned long long size, char *ext, size_t extlen,
                      char *err, size_t errlen);

/* ---- argv ----------------------------------------------------------- */

struct service_task_spec {
    const char *id;                 /* task id ([A-Za-z0-9_-]) */
    size_t n_inputs;
    const char *const *inputs;      /* names in the task dir, "in0.stl" */
    const char *const *prearg;      /* n_inputs entries, each NULL or the
                                       checked preargN; NULL = none at all */
    size_t n_options;
    const char *const *options;     /* accepted options, in order */
    const char *output;             /* from service_output_name(); ignored
                                       when s->no_output */
};

/* fileOut with $id replaced by id into buf.  Returns 0, or -1 if id is not
 * [A-Za-z0-9_-]{1,64} or buf is too small. */
int service_output_name(const struct service *s, const char *id,
                        char *buf, size_t len);

/* The type (a lowercase extension, as inputTypes name them) of the file
 * a task of s writes when its first input has extension in_ext: fileOut's
 * extension, or in_ext when fileOut has none (a filter such as echo).
 * Returns 0 with it in ext, or -1 when s writes no file (noOutput, a print
 * service) or its type is unknown.  A pipeline's next stage takes it. */
int service_output_type(const struct service *s, const char *in_ext,
                        char *ext, size_t len);

/* Builds the argv described at the top.  Every client-derived part is
 * checked again (inputs must be plain names in the task dir).  On success
 * *argv_out is a malloc'd NULL-terminated vector (service_argv_free) and 0
 * is returned; else -1 with err. */
int service_build_argv(const struct service *s,
                       const struct service_task_spec *spec,
                       char ***argv_out, char *err, size_t errlen);

/* The runner's re-check (rrcloudd does not run what rrcloud-fcgi stored
 * because it was stored): argv, read from the task row, must be exactly
 * what service_build_argv() builds for s from task id, its inputs (the
 * row's comma list), its output name and options and preargs read back
 * from argv, every client value checked again.  Returns 0, or -1 with
 * err: "refused the stored command line: word 0 ('/bin/sh') is not
 * service openscad's command". */
int service_check_argv(const struct service *s, const char *id,
                       const char *inputs, const char *out_name,
                       char *const *argv, char *err, size_t errlen);

/* Frees a vector from service_build_argv; NULL is a no-op. */
void service_argv_free(char **argv);

/* argv joined by single spaces for the task's "cmd" field (an empty word
 * shows as ''); malloc'd, NULL on allocation failure. */
char *service_argv_join(char *const *argv);

#endif
