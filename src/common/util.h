/*
 * util.h - small helpers every program shares: ids, tokens, time,
 * directories and bounded string copies.
 */
#ifndef RR_UTIL_H
#define RR_UTIL_H

#include <stddef.h>
#include <sys/types.h>

/* A task id: RepRapCloud's "<sec>-<%05d frac>-<random>" shape, digits and
 * dashes, but with 20 random digits (66 bits of getrandom(2)) instead of
 * its 6: result and log URLs are plain links, so knowing an id is the
 * right to read a task and it must not be guessable.  37 chars.  Its
 * clients parse ids out of "id: ..." lines and keep any digits-and-dashes
 * word, so the shape stays theirs. */
#define RR_ID_RAND_DIGITS 20
#define RR_ID_LEN 38 /* with the NUL */
/* 0, or -1 if the kernel gave no randomness (out is then ""): an id is
 * never made from the clock alone. */
int rr_id_new(char out[RR_ID_LEN]);
/* 1 if s has the exact shape rr_id_new() produces, or the 23-char shape
 * with 6 random digits that earlier versions issued (their tasks stay
 * readable until purged), else 0.  Every id taken from a client passes
 * here before it names a row or a path. */
int rr_id_valid(const char *s);
/* 1 if s has RepRapCloud's id shape: 2 or 3 groups of 1 to 20 digits joined
 * by '-' ("1361982308-837500" in its README, "<sec>-<frac>-<rand>" from its
 * uniq()).  Every rr_id_valid() id has it; one that has it but is not valid
 * is simply no task of ours (404), one without it a malformed id (400). */
int rr_id_shaped(const char *s);

/* Fills out with 2*nbytes lowercase hex chars of getrandom(2) output and a
 * NUL (outlen >= 2*nbytes+1).  Returns 0 or -1. */
int rr_random_hex(char *out, size_t outlen, size_t nbytes);
/* Writes the n bytes of d as 2n lowercase hex digits and a NUL to out
 * (2n + 1 bytes). */
void rr_hex(const unsigned char *d, size_t n, char *out);

/* Wall-clock seconds as a double (RepRapCloud's ctime/etime), and
 * monotonic milliseconds for timers. */
double rr_now(void);
long long rr_mono_ms(void);

/* snprintf into a fixed buffer; returns 0, or -1 if it did not fit. */
int rr_fmt(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* v in decimal into out (at least 24 bytes), without printf (hot paths
 * format a dozen numbers per request).  Returns out. */
char *rr_lltoa(char *out, long long v);

/* mkdir -p with the given mode; 0 or -1 with errno. */
int rr_mkdirs(const char *path, mode_t mode);
/* Removes a directory tree (no symlinks followed).  0 or -1. */
int rr_rmtree(const char *path);
/* Writes len bytes to path via "path.tmp" + fsync + rename.  0 or -1. */
int rr_write_file_atomic(const char *path, const void *data, size_t len);
/* Reads a regular file of at most max bytes into a malloc'd NUL-terminated
 * buffer (caller frees).  Returns NULL with errno (EINVAL if not a regular
 * file, EFBIG if larger than max). */
char *rr_read_file(const char *path, size_t max, size_t *len_out);
/* write(2) all of buf, retrying on EINTR and short writes.  0 or -1. */
int rr_write_all(int fd, const void *buf, size_t len);
/* Sets FD_CLOEXEC / O_NONBLOCK; 0 or -1. */
int rr_set_cloexec(int fd);
int rr_set_nonblock(int fd);

/* Case-insensitive "does s start with prefix". */
int rr_prefix_ci(const char *s, const char *prefix);

#endif
